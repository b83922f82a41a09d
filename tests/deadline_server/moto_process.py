"""moto's standalone server (S3 and STS) as a child process on 127.0.0.1.

A real process speaking the real S3/STS wire protocol: the code under test uploads
through botocore exactly as it would to AWS, and the test lists the bucket afterwards.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

_RUNNING_ON = re.compile(rb"Running on http://127\.0\.0\.1:(\d+)")


class MotoServer:
    """Start with `start()`, stop with `stop()`; `endpoint_url` once started.

    The server binds port 0 and the port is read from its own log line, so two test
    sessions on one machine never race for a port or probe each other's server.
    """

    def __init__(self) -> None:
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        fd, name = tempfile.mkstemp(prefix="moto-", suffix=".log")
        self._log = os.fdopen(fd, "wb")
        self.log_path = Path(name)

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 90.0) -> MotoServer:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env["NO_PROXY"] = env["no_proxy"] = "127.0.0.1"
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "0"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        deadline = time.monotonic() + timeout
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"moto server exited with {self._process.returncode}: "
                    + self.log_path.read_text(errors="replace")[-2000:]
                )
            if not self.port:
                found = _RUNNING_ON.search(self.log_path.read_bytes())
                if found:
                    self.port = int(found.group(1))
            if self.port:
                try:
                    with opener.open(f"{self.endpoint_url}/moto-api/data.json", timeout=2):
                        return self
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto server did not start in {timeout:.0f} s")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._log.close()
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
