"""What one change of a setting costs on the submitter's GUI thread, on big jobs.

Opens the real dialog offscreen on a generated export, sets ChunkSize, then changes the
preview worker's CPU count N times (each change re-plans every task and redraws the
plan view on the GUI thread) and a job parameter N times (each also starts the bundle
check, on its own thread once edits settle: its time from the change to its answer is
reported beside the GUI thread's). Run:

    python bench/bench_gui_changes.py [--items 200] [--frames 1000] [--chunk 1] [--runs 5]

Results: docs/performance.md, "Submitter: one change on a big job".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gui import write_export


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--frames", type=int, default=1000)
    parser.add_argument("--chunk", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="stmpo-bench-gui-"))
    os.environ.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(tmp),
        DEADLINE_CONFIG_FILE_PATH=str(tmp / "deadline-config"),
        AWS_EC2_METADATA_DISABLED="true",
        DEADLINE_CLOUD_TELEMETRY_OPT_OUT="true",
    )
    export_path = tmp / "big.json"
    write_export(export_path, args.items, args.frames)

    from stmpo.export.sources import load_any
    from stmpo.gui.app import build_dialog, ensure_application

    app = ensure_application()
    started = time.perf_counter()
    dialog = build_dialog(load_any(str(export_path)), str(export_path))
    dialog.show()
    app.processEvents()
    opened = time.perf_counter() - started
    tab = dialog.job_settings

    def settle() -> float:
        """Process events until no bundle check runs; seconds it took."""
        began = time.perf_counter()
        while True:
            app.processEvents()
            # (Before the check ran on a thread, the timer's own call did it.)
            call = getattr(tab, "check_call", None)
            timer_active = tab._warnings_timer.isActive()
            if not timer_active and (call is None or not call.worker.is_alive()):
                app.processEvents()
                checking = getattr(tab, "_checking", None)
                if not tab._warnings_timer.isActive() and checking is None:
                    return time.perf_counter() - began
            time.sleep(0.005)

    began = time.perf_counter()
    tab.chunk_size.setValue(args.chunk)
    chunk_gui = time.perf_counter() - began
    settle()
    tasks = sum(len(p.tasks) for p in tab.previews)

    preview: list[float] = []
    for i in range(args.runs):
        began = time.perf_counter()
        tab.preview_cpus.setValue(tab.preview_cpus.value() + (1 if i % 2 == 0 else -1))
        preview.append(time.perf_counter() - began)

    gui: list[float] = []
    check: list[float] = []
    spin = tab.stmpo_controls["RamPerProcessGB"]
    for i in range(args.runs):
        began = time.perf_counter()
        spin.setValue(spin.value() + (1 if i % 2 == 0 else -1))
        gui.append(time.perf_counter() - began)
        check.append(settle() + gui[-1])
    refused = bool(tab.bundle_refusals)
    dialog.close()

    why = f" (refused: {tab.bundle_refusals[0].message[:60]}...)" if refused else ""
    print(
        f"submitter, {args.items} items x {args.frames} frames, ChunkSize {args.chunk}: "
        f"{tasks:,} tasks{why}"
    )
    print(f"  open to interactive:                 {opened:.2f} s")
    print(f"  ChunkSize change, GUI thread:        {chunk_gui:.2f} s")
    print(f"  preview CPUs change, GUI thread:     median {statistics.median(preview):.3f} s")
    print(f"  RAM per process change, GUI thread:  median {statistics.median(gui):.3f} s")
    print(
        f"  ... its bundle check answered after: median {statistics.median(check):.2f} s "
        "(150 ms settle + the check on its thread)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
