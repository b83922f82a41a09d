"""Submission speed: a 100-export `stmpo submit --dry-run` batch, and one 100-item
export -> validated bundle in process.

Targets on the 2-core build machine: the batch under 30 s (it is one process: imports
once, then builds and validates every bundle), one 100-item bundle under 1 s.
Run: `.venv/bin/python bench/bench_submit.py [EXPORTS] [ITEMS]`; results go in
docs/performance.md under "Submission".
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def write_export(root: Path, name: str, items: int) -> Path:
    """An export whose project and footage exist, like one the AE bridge writes."""
    base = root / name
    base.mkdir(parents=True)
    project = base / f"{name}.aep"
    project.write_bytes(os.urandom(4096))
    plate = base / "plate.exr"
    plate.write_bytes(os.urandom(1024))
    data: dict[str, Any] = {
        "format": "stmpo-ae-export",
        "version": 1,
        "host": {"app": "After Effects", "os": "linux"},
        "project": {"path": str(project)},
        "renderQueue": [
            {
                "index": i,
                "comp": {"name": f'comp {i} {{{{x}}}} "q"', "frameRate": 25.0, "duration": 10.0},
                "frames": {"start": 0, "end": 249},
                "outputModules": [
                    {"index": 1, "path": str(base / "renders" / f"c{i}_[#####].png")},
                    {"index": 2, "path": str(base / "renders" / f"c{i}.mov")},
                ],
            }
            for i in range(1, items + 1)
        ],
        "footage": [{"path": str(plate)}],
    }
    path = root / f"{name}.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def bench_batch(count: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        exports = [write_export(root, f"shot{i:03d}", 2) for i in range(count)]
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "stmpo", "submit", "--dry-run", *map(str, exports)],
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise SystemExit(f"dry run failed:\n{result.stderr[-3000:]}")
        assert f"{count} of {count} exports succeeded" in result.stdout
    return elapsed


def bench_bundle(items: int, repeats: int = 5) -> tuple[float, float, float, float]:
    """Median of warm runs (build, write+validate, total), plus the first run of the
    process, which also pays for importing openjd-model and the deadline library."""
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export import load_export

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        export = load_export(write_export(root, "big", items))
        t0 = time.perf_counter()
        write_bundle(build_bundle(export, BundleSettings()), root / "first")
        first = time.perf_counter() - t0
        build_times, write_times, totals = [], [], []
        for n in range(repeats):
            t0 = time.perf_counter()
            built = build_bundle(export, BundleSettings())
            t1 = time.perf_counter()
            write_bundle(built, root / f"bundle{n}")
            t2 = time.perf_counter()
            build_times.append(t1 - t0)
            write_times.append(t2 - t1)
            totals.append(t2 - t0)
    return (
        statistics.median(build_times),
        statistics.median(write_times),
        statistics.median(totals),
        first,
    )


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    items = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    batch = bench_batch(count)
    build, write, total, first = bench_bundle(items)
    print(f"| `stmpo submit --dry-run`, {count} exports (2 items each) | {batch:.1f} s |")
    print(f"| {items}-item export -> BuiltBundle (`build_bundle`) | {build * 1000:.0f} ms |")
    print(f"| write + openjd validation (`write_bundle`) | {write * 1000:.0f} ms |")
    print(f"| {items}-item export -> validated bundle on disk | {total * 1000:.0f} ms |")
    print(f"| the same, first call in a new process (imports) | {first * 1000:.0f} ms |")


if __name__ == "__main__":
    main()
