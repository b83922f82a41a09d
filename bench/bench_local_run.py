"""What `stmpo run-local` adds on top of the work: process start, session, per-task cost.

Runs a generated bundle whose tasks do nothing (`python -c pass`) with 1 and with N
tasks through the real `stmpo run-local`, best of R rounds; the difference divided by
N-1 is the cost of one more task (openjd-sessions action + our bookkeeping + the
Python start of the task itself). Then `stmpo demo` once, for the end-to-end numbers.

    .venv/bin/python bench/bench_local_run.py [--tasks 40] [--rounds 3] [--no-demo]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def bundle(root: Path, tasks: int) -> Path:
    folder = root / f"bundle-{tasks}"
    folder.mkdir()
    template = {
        "specificationVersion": "jobtemplate-2023-09",
        "name": f"{tasks} empty tasks",
        "steps": [
            {
                "name": "Empty",
                "parameterSpace": {
                    "taskParameterDefinitions": [
                        {"name": "N", "type": "INT", "range": f"1-{tasks}"}
                    ]
                },
                "script": {
                    "actions": {"onRun": {"command": sys.executable, "args": ["-c", "pass"]}}
                },
            }
        ],
    }
    (folder / "template.yaml").write_text(yaml.safe_dump(template))
    return folder


def wall(args: list[str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", *args], capture_output=True, text=True, check=False
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"stmpo {' '.join(args)} failed:\n{done.stderr}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-demo", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        one, many = bundle(root, 1), bundle(root, args.tasks)
        walls_one = [wall(["run-local", str(one)]) for _ in range(args.rounds)]
        walls_many = [wall(["run-local", str(many)]) for _ in range(args.rounds)]
        best_one, best_many = min(walls_one), min(walls_many)
        per_task = (best_many - best_one) / (args.tasks - 1)
        print(f"run-local, 1 empty task:        {best_one:.2f} s wall (best of {args.rounds})")
        print(f"run-local, {args.tasks} empty tasks:      {best_many:.2f} s wall")
        print(f"cost of one more task:          {per_task * 1000:.0f} ms")
        if not args.no_demo:
            out = root / "demo-out"
            done = subprocess.run(
                [sys.executable, "-m", "stmpo", "demo", "--out", str(out)],
                capture_output=True,
                text=True,
                check=False,
            )
            for line in done.stdout.splitlines():
                if re.match(r"stmpo demo: (frames|STMPO|one|speed-up)", line):
                    print(line)
            if done.returncode != 0:
                print(done.stderr[-2000:])
                return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
