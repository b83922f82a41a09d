"""Exports for the submission tests whose project, footage and fonts exist on disk.

Every file gets distinct content, so a test can find each one in the job attachments
bucket by its hash. Fonts are real TrueType files built with fontTools.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def make_font(path: Path, post_script_name: str) -> Path:
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder([".notdef", "A"])
    builder.setupCharacterMap({ord("A"): "A"})
    pen = TTGlyphPen(None)
    pen.moveTo((100, 0))
    pen.lineTo((500, 700))
    pen.lineTo((900, 0))
    pen.closePath()
    glyph = pen.glyph()
    builder.setupGlyf({".notdef": TTGlyphPen(None).glyph(), "A": glyph})
    builder.setupHorizontalMetrics({".notdef": (500, 0), "A": (1000, 100)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    family, _, style = post_script_name.partition("-")
    builder.setupNameTable(
        {"familyName": family, "styleName": style or "Regular", "psName": post_script_name}
    )
    builder.setupOS2()
    builder.setupPost()
    path.parent.mkdir(parents=True, exist_ok=True)
    builder.save(str(path))
    return path


def make_export(
    root: Path,
    name: str,
    *,
    items: int = 1,
    footage_frames: int = 3,
    font: bool = True,
    project: bool = True,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write `<root>/<name>/` with a project, footage and a font, and `<root>/<name>.json`."""
    base = root / name
    (base / "plates").mkdir(parents=True, exist_ok=True)
    project_file = base / f"{name}.aep"
    if project:
        project_file.write_bytes(b"RIFX fake project " + name.encode() + os.urandom(64))
    for frame in range(footage_frames):
        (base / "plates" / f"plate.{frame:04d}.exr").write_bytes(
            f"{name} plate frame {frame} ".encode() + os.urandom(32)
        )
    still = base / "logo.png"
    still.write_bytes(b"PNG " + name.encode() + os.urandom(16))
    fonts = []
    if font:
        font_file = make_font(base / "fonts" / f"Stmpo{name.title()}-Bold.ttf", "StmpoSans-Bold")
        fonts.append(
            {
                "postScriptName": "StmpoSans-Bold",
                "familyName": "StmpoSans",
                "styleName": "Bold",
                "location": str(font_file),
            }
        )
    footage = [{"path": str(still), "sequence": False, "missing": False}]
    if footage_frames:
        last = footage_frames - 1
        footage.append(
            {
                "path": str(base / "plates" / f"plate.[0000-{last:04d}].exr"),
                "sequence": True,
                "missing": False,
            }
        )
    data: dict[str, Any] = {
        "format": "stmpo-ae-export",
        "version": 1,
        "host": {"app": "After Effects", "version": "24.6.2", "os": "linux"},
        "project": {"path": str(project_file), "displayStartFrame": 0},
        "renderQueue": [
            {
                "index": i,
                "render": True,
                "status": "QUEUED",
                "comp": {"name": f"{name} comp {i}", "frameRate": 25.0, "duration": 4.0},
                "frames": {"start": 0, "end": 99, "step": 1},
                "outputModules": [
                    {
                        "index": 1,
                        "path": str(base / "renders" / f"item{i}" / "out_[#####].png"),
                        "kind": "sequence",
                    }
                ],
            }
            for i in range(1, items + 1)
        ],
        "footage": footage,
        "fonts": fonts,
        "warnings": [],
    }
    data.update(extra or {})
    path = root / f"{name}.json"
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")
    return path


def make_aep(root: Path, name: str = "spot v001") -> Path:
    """A saved `.aep` (py-aep) with one comp queued to render a TIFF sequence."""
    import py_aep

    app = py_aep.new()
    project = app.project
    comp = project.root_folder.add_comp("MAIN comp", 640, 360, 1.0, 2.0, 25.0)
    item = project.render_queue.add(comp)
    item.output_modules[0].file = str(root / "renders" / "MAIN_[#####].tif")
    path = root / f"{name}.aep"
    root.mkdir(parents=True, exist_ok=True)
    project.save(path)
    return path
