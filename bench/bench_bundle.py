"""How long `build_bundle` and `write_bundle` (with validation) take for big exports.

Run: `.venv/bin/python bench/bench_bundle.py [ITEMS] [FRAMES_PER_ITEM] [CHUNK_SIZE]`.
Defaults: 40 items of 1000 frames in chunks of 10 (100 tasks per step, 4000 tasks).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from bundle_exports import item, make_export
from stmpo.bundle import BundleSettings, build_bundle, write_bundle


def main(items: int = 40, frames: int = 1000, chunk: int = 10) -> None:
    export = make_export(
        [item(i, comp=f"Shot {i:03d}", end=frames - 1) for i in range(1, items + 1)]
    )
    settings = BundleSettings(parameters={"ChunkSize": str(chunk)})
    t0 = time.perf_counter()
    built = build_bundle(export, settings)
    t1 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        write_bundle(built, Path(tmp) / "bundle")
        t2 = time.perf_counter()
        size = (Path(tmp) / "bundle" / "template.yaml").stat().st_size
    tasks = sum(len(p.chunks) for p in built.plans)
    print(f"{items} items x {frames} frames, ChunkSize {chunk}: {tasks} tasks")
    print(f"  build_bundle:                 {1000 * (t1 - t0):8.1f} ms")
    print(f"  write_bundle (incl. validate): {1000 * (t2 - t1):8.1f} ms")
    print(f"  template.yaml:                {size / 1024:8.1f} KiB")


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:4]))
