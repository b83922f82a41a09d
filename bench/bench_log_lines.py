"""Merged log throughput: lines per second from many chatty children through the
orchestrator, with every line checked (none lost, split or interleaved).

N children (a `.py` "aerender" given as `--aerender-path`) each print LINES lines the way
aerender prints: one `write` and flush per line, a frame-progress line
(`PROGRESS:  0:00:00:05 (6): 0 Seconds`) every FRAME_EVERY lines, the others chatty
plug-in text. Every line names its child and its sequence number and ends with a
checksum of itself, so the bench can check the merged log: each child's lines arrive
whole, once, in order, with the child's prefix. The worker's stdout is a pipe read as
the OpenJD runtime reads it.

Usage: python bench/bench_log_lines.py [--children 64] [--lines 5000] [--runs 3]
                                       [--script PATH]
(`--script` runs another checkout's stmpo_render.py, to compare with older code.)
Results go to docs/performance.md, section "Merged log: lines per second".
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "worker_scripts" / "stmpo_render.py"

CHATTY_CHILD = r'''"""Prints LINES lines like a chatty aerender: one write + flush a line."""
import os, sys, zlib
args = sys.argv[1:]
me = int(args[args.index("-s") + 1])
lines = int(os.environ["CHATTY_LINES"])
every = int(os.environ.get("CHATTY_FRAME_EVERY", "10"))
out = sys.stdout
for n in range(1, lines + 1):
    if n % every == 0:
        body = f"PROGRESS:  0:00:{n // 25 % 60:02d}:{n % 25:02d} ({n}): 0 Seconds c{me} s{n}"
    else:
        body = f"INFO: plug-in says hello from c{me} s{n}: layer 'Glow {n % 7}' cached"
    out.write(f"{body} #{zlib.crc32(body.encode()):08x}\n")
    out.flush()
'''

#: Runs the worker and reports its own CPU time (all its threads, not its children's) at
#: exit: on a shared 2-core host the wall clock measures the load, the CPU time what the
#: merge costs.
CPU_WRAPPER = (
    "import atexit, resource, runpy, sys\n"
    "def cpu():\n"
    "    r = resource.getrusage(resource.RUSAGE_SELF)\n"
    "    sys.stderr.write(f'CPU_SECONDS {r.ru_utime + r.ru_stime}\\n')\n"
    "atexit.register(cpu)\n"
    "sys.argv = sys.argv[1:]\n"
    "runpy.run_path(sys.argv[0], run_name='__main__')\n"
)

#: The merge alone, in one process, no children: what the chatty child prints, cut into
#: 16 KiB reads, through the worker's own `Splitter` (the reader threads' work) and
#: `Orchestrator.handle` (the main thread's) into /dev/null. argv: worker folder, children,
#: lines. Prints lines per second.
MERGE_ONLY = r"""
import os, sys, time, zlib
sys.path.insert(0, sys.argv[1])
from stmpo_worker.childlog import READ_PIECE, Splitter
from stmpo_worker.orchestrator import Child, Orchestrator, RenderJob
from stmpo_worker.outputs import Item
from stmpo_worker.planning import RenderPlan
children, lines = int(sys.argv[2]), int(sys.argv[3])
def output(me):
    text = []
    for n in range(1, lines + 1):
        if n % 10 == 0:
            body = f"PROGRESS:  0:00:{n // 25 % 60:02d}:{n % 25:02d} ({n}): 0 Seconds c{me} s{n}"
        else:
            body = f"INFO: plug-in says hello from c{me} s{n}: layer 'Glow {n % 7}' cached"
        text.append(f"{body} #{zlib.crc32(body.encode()):08x}\n")
    return "".join(text).encode()
reads = []
for me in range(children):
    data = output(me)
    reads.append([data[i : i + READ_PIECE] for i in range(0, len(data), READ_PIECE)])
plan = RenderPlan(children, [(i, i) for i in range(children)], 1, None, True)
job = RenderJob("p.aep", 1, "aerender", Item("c", ()), None, plan, 0.0, 1.0, True)
sink = open(os.devnull, "w")
orch = Orchestrator(job, sink, None)
for a in orch.scheduler.begin(0.0):  # spawn delay 0: every launch at once, none carried out
    orch.children.append(Child(a.child, a.first, a.last, 1, 0, None, a.child, orch.frames_of))
began = time.process_time()
splitters = [Splitter() for _ in range(children)]
for k in range(max(map(len, reads))):
    for me in range(children):
        if k < len(reads[me]):
            batch = splitters[me].feed(reads[me][k])
            if batch:
                orch.handle(("lines", me, batch))
sink.flush()
print(children * lines / (time.process_time() - began))
"""

_LINE = re.compile(r"^\[c(\d+) f(\d+)-\d+\] (.* c(\d+) s(\d+)\b.*) #([0-9a-f]{8})$")


def check(log: str, children: int, lines: int) -> int:
    """The number of child lines in `log`; raises when one is lost, split, repeated,
    out of order or not its child's."""
    seen = [0] * children
    count = 0
    for line in log.splitlines():
        if not line.startswith("[c"):
            continue
        match = _LINE.match(line)
        if match is None:
            raise SystemExit(f"a split or garbled line: {line[:200]!r}")
        label, start, body, me, seq, crc = match.groups()
        if int(label) != int(start) + 1 or int(me) != int(start):
            raise SystemExit(f"a line under another child's prefix: {line[:200]!r}")
        if f"{zlib.crc32(body.encode()):08x}" != crc:
            raise SystemExit(f"an interleaved line: {line[:200]!r}")
        child = int(me)
        if int(seq) != seen[child] + 1:
            raise SystemExit(f"child {child}: line {seq} after {seen[child]}")
        seen[child] = int(seq)
        count += 1
    if seen != [lines] * children:
        raise SystemExit(f"lines lost: {[(i, n) for i, n in enumerate(seen) if n != lines]}")
    return count


def run_once(script: Path, children: int, lines: int, tmp: Path) -> tuple[float, float]:
    """(lines per wall second, lines per CPU second of the worker process)."""
    child = tmp / "chatty_child.py"
    child.write_text(CHATTY_CHILD)
    project = tmp / "bench.aep"
    project.write_bytes(b"bench")
    sys.path.insert(0, str(script.parent))
    from stmpo_worker.outputs import encode_b64_json

    argv = [
        sys.executable, "-c", CPU_WRAPPER, str(script), "render",
        "--project", str(project), "--rqindex", "1",
        "--frames", f"0-{children - 1}", "--concurrency", str(children),
        "--max-concurrency", str(children), "--spawn-delay", "0",
        "--aerender-path", str(child), "--disable-affinity", "true",
        "--item-b64", encode_b64_json({"comp": "chatty", "outputs": []}),
    ]  # fmt: skip
    env = dict(os.environ, CHATTY_LINES=str(lines))
    began = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, timeout=3600)
    wall = time.perf_counter() - began
    if done.returncode != 0:
        raise SystemExit(f"render failed ({done.returncode}): {done.stdout[-2000:]!r}")
    count = check(done.stdout.decode("utf-8"), children, lines)
    cpu = float(done.stderr.decode().rsplit("CPU_SECONDS ", 1)[1].split()[0])
    return count / wall, count / cpu


def merge_only(script: Path, children: int, lines: int) -> float:
    """Lines per CPU second of the merge alone (`MERGE_ONLY`), in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", MERGE_ONLY, str(script.parent), str(children), str(lines)],
        capture_output=True,
        text=True,
        check=True,
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=64)
    parser.add_argument("--lines", type=int, default=5000, help="lines each child prints")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--script", type=Path, default=SCRIPT)
    args = parser.parse_args()
    merges = [merge_only(args.script, args.children, args.lines) for _ in range(args.runs)]
    walls, cpus = [], []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as tmp:
            wall, cpu = run_once(args.script, args.children, args.lines, Path(tmp))
        walls.append(wall)
        cpus.append(cpu)
    print(
        f"{args.children} children x {args.lines} lines ({args.script}), every line whole, "
        f"once, in order: median {statistics.median(walls):,.0f} lines per wall second "
        f"(runs: {', '.join(f'{r:,.0f}' for r in walls)}), "
        f"{statistics.median(cpus):,.0f} lines per worker CPU second "
        f"(runs: {', '.join(f'{r:,.0f}' for r in cpus)}); the merge alone (split + handle, "
        f"no children): {statistics.median(merges):,.0f} lines per CPU second "
        f"(runs: {', '.join(f'{r:,.0f}' for r in merges)})"
    )


if __name__ == "__main__":
    main()
