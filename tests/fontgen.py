"""Real, tiny font files for tests, built with fontTools' FontBuilder.

Each font draws one glyph; what matters is that its tables are genuine, so the code
under test reads them exactly as it would read an installed font.
"""

from __future__ import annotations

from pathlib import Path

from fontTools.fontBuilder import FontBuilder
from fontTools.pens.t2CharStringPen import T2CharStringPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from fontTools.ttLib.ttCollection import TTCollection

_GLYPHS = [".notdef", "A"]


def _draw_box(pen: TTGlyphPen | T2CharStringPen, size: int) -> None:
    pen.moveTo((50, 0))
    pen.lineTo((50, size))
    pen.lineTo((50 + size, size))
    pen.lineTo((50 + size, 0))
    pen.closePath()


def build_font(
    postscript: str,
    family: str = "Stmpo Test",
    style: str = "Regular",
    *,
    cff: bool = False,
    size: int = 500,
    mac_names: bool = False,
    variable_instances: dict[str, float] | None = None,
) -> TTFont:
    """A TrueType (or CFF with `cff=True`) font with the given names.

    `size` changes the glyph, hence the bytes, so two builds can share names but not
    content. `variable_instances` (PostScript name -> wght) adds an `fvar` table.
    """
    fb = FontBuilder(1000, isTTF=not cff)
    fb.setupGlyphOrder(_GLYPHS)
    fb.setupCharacterMap({ord("A"): "A"})
    if cff:
        charstrings = {}
        for name in _GLYPHS:
            t2 = T2CharStringPen(600, None)
            _draw_box(t2, size)
            charstrings[name] = t2.getCharString()
        fb.setupCFF(postscript, {"FullName": f"{family} {style}"}, charstrings, {})
    else:
        glyphs = {}
        for name in _GLYPHS:
            tt = TTGlyphPen(None)
            _draw_box(tt, size)
            glyphs[name] = tt.glyph()
        fb.setupGlyf(glyphs)
    fb.setupHorizontalMetrics({name: (600, 50) for name in _GLYPHS})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable(
        {
            "familyName": family,
            "styleName": style,
            "fullName": f"{family} {style}",
            "psName": postscript,
        },
        mac=mac_names,
        windows=not mac_names,
    )
    fb.setupOS2(sTypoAscender=800, usWinAscent=800, usWinDescent=200)
    fb.setupPost()
    if variable_instances:
        fb.setupFvar(
            axes=[("wght", 100, 400, 900, "Weight")],
            instances=[
                {
                    "location": {"wght": wght},
                    "stylename": ps.split("-")[-1],
                    "postscriptfontname": ps,
                }
                for ps, wght in variable_instances.items()
            ],
        )
    return fb.font


def write_font(path: Path, postscript: str, **kwargs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    build_font(postscript, **kwargs).save(str(path))  # type: ignore[arg-type]
    return path


def write_collection(path: Path, postscripts: list[str], family: str = "Stmpo Coll") -> Path:
    """A .ttc holding one TrueType font per PostScript name."""
    collection = TTCollection()
    for i, ps in enumerate(postscripts):
        collection.fonts.append(build_font(ps, family=family, style=f"W{i}", size=300 + i))
    path.parent.mkdir(parents=True, exist_ok=True)
    collection.save(str(path))
    return path
