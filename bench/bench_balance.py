"""Balanced STMPO on real processes: a heavy tail, static vs dynamic vs the lower bound.

Issue 11's real-process benchmark: 2 processes, 48 frames, frames 36-47 ten times
slower than the rest (the stand-in's STANDIN_FRAME_SEC_AT). The same `Orchestrator`
the worker runs renders the task once with SplitStrategy `static` and once with
`dynamic` (a `RenderJob` per strategy: the worker's `--split-strategy` flag is
section B's), real stand-in processes, real files. The lower bound is
`startup + max(total frame work / processes, slowest frame)`.

The stand-in burns CPU time, not wall time, so a busy host stretches every variant
alike; ratios are what to compare. Until the Scheduler's `dynamic` strategy lands
(schedule.py), `dynamic` falls back to the static split and both ratios agree.

Usage: python bench/bench_balance.py [--frame-sec 0.05] [--heavy 10] [--startup-sec 0.5]
Results go to docs/performance.md, section "Balanced STMPO on real processes".
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "worker_scripts"))

from stmpo_worker import outputs as out  # noqa: E402
from stmpo_worker.affinity import NoAffinity  # noqa: E402
from stmpo_worker.orchestrator import Orchestrator, RenderJob  # noqa: E402
from stmpo_worker.planning import HostFacts, StmpoSettings, plan_render  # noqa: E402

STANDIN = ROOT / "resources" / "aerender_standin.py"
FRAMES = 48
HEAVY = (36, 47)
PROCESSES = 2


def _render(strategy: str, startup: float, frame_sec: float, heavy_sec: float) -> float:
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        project = tmp / "bench.aep"
        project.write_bytes(b"bench")
        (tmp / "out").mkdir()
        pattern = str(tmp / "out" / "F_[#####].png")
        Path(f"{project}.standin.json").write_text(
            json.dumps({"items": {"1": {"outputs": [pattern]}}})
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("STANDIN_")}
        env.update(
            STANDIN_STARTUP_SEC=str(startup),
            STANDIN_FRAME_SEC=str(frame_sec),
            STANDIN_FRAME_SEC_AT=f"{HEAVY[0]}-{HEAVY[1]}:{heavy_sec}",
        )
        host = HostFacts(os.cpu_count() or 2, 512.0, None, "linux")
        settings = StmpoSettings(concurrency=PROCESSES, disable_affinity=True)
        plan = plan_render(host, settings, 0, FRAMES - 1, 1, False)
        job = RenderJob(
            project=str(project),
            rqindex=1,
            aerender=str(STANDIN),
            item=out.Item("MAIN", (out.Output(1, pattern, "sequence"),)),
            output_override=None,
            plan=plan,
            spawn_delay=2.0,
            child_grace=5.0,
            fail_fast=True,
            split_strategy=strategy,
            env=env,
        )
        log = io.StringIO()
        began = time.perf_counter()
        code = Orchestrator(job, log, NoAffinity()).run()
        wall = time.perf_counter() - began
        if code != 0:
            raise SystemExit(f"{strategy} render failed:\n{log.getvalue()[-3000:]}")
        return wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frame-sec", type=float, default=0.05)
    parser.add_argument("--heavy", type=float, default=10.0, help="cost factor of 36-47")
    parser.add_argument("--startup-sec", type=float, default=0.5)
    args = parser.parse_args()
    heavy_sec = args.frame_sec * args.heavy
    count = HEAVY[1] - HEAVY[0] + 1
    work = (FRAMES - count) * args.frame_sec + count * heavy_sec
    bound = args.startup_sec + max(work / PROCESSES, heavy_sec)
    print(
        f"{FRAMES} frames, {PROCESSES} processes, frames {HEAVY[0]}-{HEAVY[1]} at "
        f"{heavy_sec:g} s, the rest {args.frame_sec:g} s, startup {args.startup_sec:g} s; "
        f"lower bound {bound:.2f} s"
    )
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for strategy in ("static", "dynamic"):
        wall = _render(strategy, args.startup_sec, args.frame_sec, heavy_sec)
        print(f"{strategy:8s} wall {wall:6.2f} s   makespan / lower bound {wall / bound:.2f}")


if __name__ == "__main__":
    main()
