"""How long `stmpo export-aep` takes on a project the size of a busy job.

Builds a project with py-aep (COMPS comps, each with TEXT text layers in its own font
and one render queue item with two output modules), saves it, then times `read_aep`
in this process (median of 5) and the whole CLI in a fresh process (import included).
Run: `.venv/bin/python bench/bench_aep_reader.py [COMPS] [TEXT]`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import py_aep
from stmpo.aep.reader import read_aep


def build(path: Path, comps: int, text_layers: int) -> None:
    app = py_aep.new()
    project = app.project
    for c in range(comps):
        comp = project.root_folder.add_comp(f"Shot {c:03d}", 1920, 1080, 1.0, 10.0, 29.97)
        for t in range(text_layers):
            comp.add_text(f"Line {t}").text.source_text.value.font = f"Family{c % 20}-Style{t}"
        item = project.render_queue.add(comp)
        item.output_modules[0].file = f"/renders/shot{c:03d}/shot_[#####].tif"
        item.add().file = f"/renders/shot{c:03d}/review_[#####].tif"
    project.save(path)


def main(comps: int = 100, text_layers: int = 5) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.aep"
        t0 = time.perf_counter()
        build(path, comps, text_layers)
        built = time.perf_counter() - t0
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            export = read_aep(path)
            runs.append(time.perf_counter() - t)
        t = time.perf_counter()
        out = str(path) + ".json"
        command = [sys.executable, "-m", "stmpo", "export-aep", str(path), "-q", "-o", out]
        subprocess.run(command, check=True)
        cli = time.perf_counter() - t
        size_kb = path.stat().st_size / 1024
    print(
        f"{comps} comps x {text_layers} text layers, {len(export.render_queue)} items, "
        f"{len(export.fonts)} fonts, {size_kb:.0f} KiB .aep (built in {built:.1f} s)\n"
        f"read_aep median {statistics.median(runs) * 1000:.0f} ms; "
        f"CLI in a fresh process {cli * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
