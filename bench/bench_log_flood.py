"""Log merger under a flood: the orchestrator's peak RSS and throughput when every child
prints as fast as it can.

N children (`FLOOD_CHILD` from tests/stmpo_worker_harness.py, given as the aerender)
each print MB megabytes, either without a single newline (a runaway child: the case
that grew the orchestrator to 1.9 GB for 1 GB) or in 100-byte lines. The orchestrator
runs under a wrapper that reports its own peak RSS (Linux VmHWM), and its stdout is a
pipe read as the OpenJD runtime reads it, so back-pressure is real.

Usage: python bench/bench_log_flood.py [--children 64] [--mb 8] [--lines both|none|100]
                                       [--script PATH]
(`--script` runs another checkout's stmpo_render.py, to compare with older code.)
Results go to docs/performance.md, section "Log merger under a flood".
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json  # noqa: E402
from stmpo_worker_harness import FLOOD_CHILD, peak_rss_mb, with_peak_rss  # noqa: E402

SCRIPT = ROOT / "worker_scripts" / "stmpo_render.py"


def flood(script: Path, children: int, mb: int, line: int, tmp: Path) -> dict[str, float]:
    child = tmp / "flood_child.py"
    child.write_text(FLOOD_CHILD)
    project = tmp / "bench.aep"
    project.write_bytes(b"bench")
    argv = [
        sys.executable, str(script), "render", "--project", str(project), "--rqindex", "1",
        "--frames", f"0-{children - 1}", "--concurrency", str(children),
        "--max-concurrency", str(children), "--spawn-delay", "0",
        "--ram-per-process-gb", "0.5",  # the stand-in needs MBs: the memory guard stays out
        "--aerender-path", str(child), "--disable-affinity", "true",
        "--item-b64", encode_b64_json({"comp": "flood", "outputs": []}),
    ]  # fmt: skip
    env = dict(os.environ, FLOOD_BYTES=str(mb * 1024 * 1024), FLOOD_LINE=str(line))
    began = time.perf_counter()
    proc = subprocess.Popen(
        with_peak_rss(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    received = 0
    for block in iter(lambda: proc.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
        received += len(block)
    err = proc.stderr.read().decode()
    code = proc.wait()
    wall = time.perf_counter() - began
    if code != 0:
        raise SystemExit(f"render failed ({code}): {err[-2000:]}")
    total = children * mb
    return {
        "peak_mb": peak_rss_mb(err),
        "wall": wall,
        "mb_per_s": total / wall,
        "log_mb": received / (1024 * 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--children", type=int, default=64)
    parser.add_argument("--mb", type=int, default=8, help="megabytes each child prints")
    parser.add_argument("--script", type=Path, default=SCRIPT)
    parser.add_argument("--lines", choices=("both", "none", "100"), default="both")
    args = parser.parse_args()
    modes = [("no newline at all", 0), ("100-byte lines", 100)]
    if args.lines != "both":
        modes = [mode for mode in modes if str(mode[1]) == {"none": "0"}.get(args.lines, "100")]
    print(f"{args.children} children x {args.mb} MB, {args.script}")
    print("| output | child MB total | orchestrator peak RSS | wall | merged |")
    print("|---|---|---|---|---|")
    for label, line in modes:
        with tempfile.TemporaryDirectory() as tmp:
            r = flood(args.script, args.children, args.mb, line, Path(tmp))
        print(
            f"| {label} | {args.children * args.mb} | {r['peak_mb']:.1f} MB | "
            f"{r['wall']:.1f} s | {r['mb_per_s']:.1f} MB/s |"
        )


if __name__ == "__main__":
    main()
