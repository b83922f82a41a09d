"""`python -m tests.deadline_server`: run the local Deadline Cloud until Ctrl-C.

Prints the environment to export in another shell, e.g. to try `stmpo submit` or the
Qt submitter against it, and logs every request it answers.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import tempfile
import threading
from pathlib import Path

from .environment import BUCKET, LocalAws


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.deadline_server")
    parser.add_argument("--home", type=Path, help="HOME to write ~/.deadline/config into")
    parser.add_argument("--no-validate", action="store_true", help="accept any template")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    home = args.home or Path(tempfile.mkdtemp(prefix="stmpo-deadline-home-"))
    local = LocalAws.start(validate_templates=not args.no_validate)
    try:
        env = local.client_env(home, base={})
        print("# local Deadline Cloud is up; in another shell run:")
        for key in sorted(env):
            print(f"export {key}={shlex.quote(env[key])}")
        bucket = f"s3://{BUCKET}/{local.root_prefix}/"
        print(f"# farm {local.farm_id}  queue {local.queue_id}  attachments {bucket}")
        print("# Ctrl-C to stop", flush=True)
        seen = 0
        stop = threading.Event()
        while not stop.wait(0.5):
            calls = local.deadline.calls()
            for call in calls[seen:]:
                print(f"{call.status} {call.operation} {call.method} {call.path}", flush=True)
            seen = len(calls)
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
