"""Running `stmpo_render.py` exactly as the job template does, with the aerender stand-in.

Shared by the worker end-to-end tests. Every helper works on real processes and real
files; the stand-in's trace file (STANDIN_TRACE) says which process rendered what, when,
and which grandchildren it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json, frame_path
from stmpo.locations import resources_dir, worker_scripts_dir

STANDIN = resources_dir() / "aerender_standin.py"
SCRIPT = worker_scripts_dir() / "stmpo_render.py"


@dataclass
class Scene:
    """A project file, its stand-in sidecar and an output folder under tmp."""

    root: Path
    project: Path
    out_dir: Path
    pattern: str
    comp: str = "MAIN"
    trace: Path = field(init=False)

    def __post_init__(self) -> None:
        self.trace = self.root / "trace.jsonl"

    def item_b64(self, kind: str = "sequence", path: str | None = None) -> str:
        return encode_b64_json(
            {
                "comp": self.comp,
                "outputs": [{"index": 1, "path": path or self.pattern, "kind": kind}],
            }
        )

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        if not self.trace.exists():
            return []
        records = [json.loads(line) for line in self.trace.read_text("utf-8").splitlines()]
        return [r for r in records if kind is None or r["event"] == kind]

    def pids(self) -> list[int]:
        """Every stand-in, grandchild and detached helper process the render started."""
        found = [r["pid"] for r in self.events("start")]
        found += [r["child_pid"] for r in self.events("grandchild")]
        found += self.helpers()
        return found

    def helpers(self) -> list[int]:
        """Pids of the helpers the `detached_helper` fault double-forked."""
        return [r["pid"] for r in self.events("helper")]

    def frame_file(self, frame: int) -> Path:
        return Path(frame_path(self.pattern, frame))

    def frames_on_disk(self) -> set[int]:
        prefix = Path(self.pattern).name.split("[")[0]
        return {
            int(p.name[len(prefix) :].split(".")[0])
            for p in Path(self.pattern).parent.iterdir()
            if p.name.startswith(prefix) and p.suffix == ".png"
        }


def make_scene(
    tmp_path: Path,
    project_name: str = "shot.aep",
    out_parts: tuple[str, ...] = ("out",),
    file_stem: str = "MAIN_",
    comp: str = "MAIN",
    sidecar: bool = True,
) -> Scene:
    project = tmp_path / project_name
    project.parent.mkdir(parents=True, exist_ok=True)
    project.write_bytes(b"RIFX stand-in project")
    out_dir = tmp_path.joinpath(*out_parts)
    out_dir.mkdir(parents=True, exist_ok=True)
    pattern = str(out_dir / f"{file_stem}[#####].png")
    if sidecar:
        Path(str(project) + ".standin.json").write_text(
            json.dumps({"frameRate": 25, "items": {"1": {"comp": comp, "outputs": [pattern]}}}),
            encoding="utf-8",
        )
    return Scene(root=tmp_path, project=project, out_dir=out_dir, pattern=pattern, comp=comp)


def render_argv(scene: Scene, frames: str, *extra: str, item: str | None = None) -> list[str]:
    return [
        sys.executable,
        str(SCRIPT),
        "render",
        "--project", str(scene.project),
        "--rqindex", "1",
        "--frames", frames,
        "--item-b64", item if item is not None else scene.item_b64(),
        "--spawn-delay", "0",
        "--child-grace-sec", "2",
        "--aerender-path", str(STANDIN),
        "--path-mapping-rules", "",
        *extra,
    ]  # fmt: skip


SUBREAPER = (
    "import ctypes, subprocess, sys\n"
    "assert ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0\n"
    "sys.exit(subprocess.run(sys.argv[1:]).returncode)\n"
)
"""Runs its arguments as a child of a Linux child subreaper (PR_SET_CHILD_SUBREAPER)
that reaps only that child: adopted orphans stay zombies until it exits, as under
`stmpo run-local` and container inits that do not reap."""


def under_subreaper(argv: list[str]) -> list[str]:
    return [sys.executable, "-c", SUBREAPER, *argv]


def base_env(scene: Scene, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STANDIN_")}
    env.pop("AERENDER_PATH", None)
    env.pop("AERENDER_EXECUTABLE", None)
    env["STANDIN_TRACE"] = str(scene.trace)
    env["PYTHONUTF8"] = "1"
    env.update(extra)
    return env


def run(
    argv: list[str], env: dict[str, str], timeout: float = 90
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"render did not finish in {timeout} s:\n{out}\n{err}") from None
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def survivors(pids: list[int], settle: float = 5.0) -> list[int]:
    """Pids still running once SIGKILLs already sent have had time to land."""
    deadline = time.monotonic() + settle
    left = [p for p in pids if alive(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        left = [p for p in left if alive(p)]
    return left


def cleanup(pids: list[int]) -> None:
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()


def wait_for(predicate: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def write_windows_rules(path: Path, destination: Path) -> Path:
    """An OpenJD path mapping rules file sending `C:\\renders` to `destination`."""
    rule = {
        "source_path_format": "WINDOWS",
        "source_path": "C:\\renders",
        "destination_path": str(destination),
    }
    path.write_text(
        json.dumps({"version": "pathmapping-1.0", "path_mapping_rules": [rule]}),
        encoding="utf-8",
    )
    return path


def protocol_values(stdout: str, name: str) -> list[str]:
    prefix = f"{name}: "
    return [line[len(prefix) :] for line in stdout.splitlines() if line.startswith(prefix)]


FLOOD_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
FLOOD_CHILD = r'''"""A child that prints as fast as it can: not aerender's behaviour, the worst case
for the log merger (a runaway plugin, a verbose build). Takes aerender's flags and
ignores all but -s; prints FLOOD_BYTES bytes of one letter (its -s picks which), in
lines of FLOOD_LINE bytes (0: no newline at all), then exits 0."""
import os, sys
args = sys.argv[1:]
start = int(args[args.index("-s") + 1])
letter = "ALPHABET"[start % 64].encode()
total = int(os.environ["FLOOD_BYTES"])
line = int(os.environ.get("FLOOD_LINE", "0"))
chunk = letter * 65536 if line == 0 else (letter * (line - 1) + b"\n") * max(1, 65536 // line)
out = sys.stdout.buffer
sent = 0
while sent < total:
    piece = chunk[: total - sent]
    out.write(piece)
    sent += len(piece)
out.flush()
'''.replace("ALPHABET", FLOOD_ALPHABET)
"""Source of the flooding child, written to a `.py` file and given as `--aerender-path`."""

PEAK_RSS = (
    "import atexit, runpy, sys\n"
    "def peak():\n"
    "    with open('/proc/self/status') as status:\n"
    "        kb = [l.split()[1] for l in status if l.startswith('VmHWM:')][0]\n"
    "    sys.stderr.write(f'PEAK_RSS_KB {kb}\\n')\n"
    "atexit.register(peak)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)
"""Runs a script (its arguments follow) and prints its peak RSS (Linux VmHWM) at exit:
the orchestrator's own peak, not its children's."""


def with_peak_rss(argv: list[str]) -> list[str]:
    """`argv` (python, script, args...) run under PEAK_RSS."""
    return [argv[0], "-c", PEAK_RSS, *argv[1:]]


def peak_rss_mb(stderr: str) -> float:
    [kb] = [line.split()[1] for line in stderr.splitlines() if line.startswith("PEAK_RSS_KB ")]
    return int(kb) / 1024


def standin(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The aerender stand-in run on its own, with a bare PATH and the given environment."""
    return subprocess.run(
        [sys.executable, str(STANDIN), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env={"PATH": "/usr/bin:/bin", **(env or {})},
        timeout=60,
        check=False,
    )
