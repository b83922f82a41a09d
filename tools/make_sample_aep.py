"""Write `resources/examples/sample_project.aep`: a small saved After Effects project for
trying `stmpo export-aep` (and `stmpo bundle`/`stmpo submit` on a .aep) without AE.

Made with py-aep's `new()` (the library `stmpo export-aep` reads projects with), so the
file is what a saved project looks like to the reader, not a hand-made binary. Two comps
queued to TIFF sequences (py-aep's default output module) under /tmp/stmpo-demo/out/, like
the JSON samples beside it.
Run it again after a py-aep upgrade changes the file format:

    .venv/bin/python tools/make_sample_aep.py --replace

An existing file is replaced only with `--replace` (py-aep itself refuses to save over
one), and then atomically, through a new file beside it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "examples" / "sample_project.aep"
OUT = "/tmp/stmpo-demo/out/sample_project"


def write_sample(path: Path, *, replace: bool = False) -> Path:
    import py_aep

    if path.exists() and not replace:
        raise SystemExit(f"{path}: exists; pass --replace to write it again")

    app = py_aep.new()
    project = app.project
    for name, seconds in (("MAIN comp", 2.0), ("Titles", 1.0)):
        comp = project.root_folder.add_comp(name, 640, 360, 1.0, seconds, 25.0)
        item = project.render_queue.add(comp)
        stem = name.split()[0]
        item.output_modules[0].file = f"{OUT}/{stem}/{stem}_[#####].tif"
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".make_sample_aep-") as scratch:
        fresh = Path(scratch) / path.name
        project.save(fresh)
        os.replace(fresh, path)
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", nargs="?", type=Path, default=SAMPLE)
    parser.add_argument("--replace", action="store_true", help="replace an existing file")
    args = parser.parse_args()
    written = write_sample(args.path, replace=args.replace)
    print(f"{written}: {written.stat().st_size} bytes")
