from pathlib import Path

from bundle_exports import item, make_export
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont
from stmpo.bundle import AssetRefs, BundleSettings, build_bundle
from stmpo.bundle.assets import expand_sequence


def make_font(path: Path, ps_name: str) -> Path:
    """A real, tiny TrueType font (one empty glyph) written with fontTools."""
    fb = FontBuilder(unitsPerEm=1000, isTTF=True)
    fb.setupGlyphOrder([".notdef"])
    fb.setupCharacterMap({})
    fb.setupGlyf({".notdef": TTGlyphPen(None).glyph()})
    fb.setupHorizontalMetrics({".notdef": (500, 0)})
    fb.setupHorizontalHeader(ascent=800, descent=-200)
    fb.setupNameTable({"familyName": ps_name, "styleName": "Regular", "psName": ps_name})
    fb.setupOS2()
    fb.setupPost()
    fb.save(str(path))
    return path


def test_sequence_patterns_expand_to_the_frames_on_disk(tmp_path: Path) -> None:
    for n in (0, 1, 2, 47, 48):
        (tmp_path / f"plate.{n:04d}.exr").write_bytes(b"x")
    (tmp_path / "plate.0003.exr.bak").write_bytes(b"x")
    (tmp_path / "other.0001.exr").write_bytes(b"x")
    expanded = expand_sequence(str(tmp_path / "plate.[0000-0047].exr"))
    assert [Path(p).name for p in expanded] == [
        "plate.0000.exr",
        "plate.0001.exr",
        "plate.0002.exr",
        "plate.0047.exr",
    ]
    hashes = expand_sequence(str(tmp_path / "plate.[####].exr"))
    assert len(hashes) == 5
    first_frame = expand_sequence(str(tmp_path / "plate.0000.exr"))
    assert len(first_frame) == 5
    assert expand_sequence(str(tmp_path / "nothing" / "plate.[0000-0010].exr")) == []


def test_inputs_outputs_and_warnings(tmp_path: Path) -> None:
    project = tmp_path / "spot.aep"
    project.write_bytes(b"RIFX")
    plates = tmp_path / "plates"
    plates.mkdir()
    for n in range(3):
        (plates / f"p.{n:04d}.exr").write_bytes(b"x")
    empty = tmp_path / "empty"
    empty.mkdir()
    still = tmp_path / "logo.png"
    still.write_bytes(b"png")
    extra = tmp_path / "expr.jsx"
    extra.write_text("//", encoding="utf-8")
    export = make_export(
        [
            item(1, outputs=[{"index": 1, "path": str(tmp_path / "out" / "a_[####].png")}]),
            item(2, outputs=[{"index": 1, "path": str(tmp_path / "mov" / "b.mov")}]),
        ],
        project={"path": str(project)},
        footage=[
            {"path": str(plates / "p.[0000-0002].exr"), "sequence": True},
            {"path": str(empty / "e.[0000-0009].exr"), "sequence": True},
            {"path": str(still)},
            {"path": "/nowhere/gone.mov"},
            {"path": "/nowhere/marked.mov", "missing": True},
        ],
    )
    built = build_bundle(export, BundleSettings(extra_input_files=(str(extra),)))
    refs = built.asset_references
    assert set(refs.input_filenames) == {
        str(project),
        str(still),
        str(extra),
        *(str(plates / f"p.{n:04d}.exr") for n in range(3)),
    }
    assert refs.input_directories == (str(empty),)
    assert set(refs.output_directories) == {str(tmp_path / "out"), str(tmp_path / "mov")}
    assert set(refs.referenced_paths) == {"/nowhere/gone.mov", "/nowhere/marked.mov"}
    assert any("/nowhere/gone.mov" in w for w in built.warnings)
    assert any("missing in After Effects" in w and "marked.mov" in w for w in built.warnings)
    assert any("no frame of the sequence" in w for w in built.warnings)
    assert not any(str(project) in w for w in built.warnings)


def test_fonts_with_a_file_are_shipped_others_warned(tmp_path: Path) -> None:
    a = make_font(tmp_path / "Inter-Bold.ttf", "Inter-Bold")
    (tmp_path / "dup").mkdir()
    b = make_font(tmp_path / "dup" / "Inter-Bold.ttf", "Inter-Bold-Alt")
    export = make_export(
        [item(1)],
        fonts=[
            {"postScriptName": "Inter-Bold", "location": str(a)},
            {"postScriptName": "Inter-Bold-Again", "location": str(a)},
            {"postScriptName": "Inter-Bold-Alt", "location": str(b)},
            {"postScriptName": "NoFile", "location": ""},
            {"postScriptName": "Gone", "location": "/fonts/Gone.otf"},
            {"postScriptName": "Sub", "location": str(a), "isSubstitute": True},
        ],
    )
    built = build_bundle(export)
    assert [(f.source, f.name) for f in built.fonts] == [
        (str(a), "Inter-Bold.ttf"),
        (str(b), "Inter-Bold-2.ttf"),
    ]
    assert TTFont(built.fonts[1].source)["name"].getDebugName(6) == "Inter-Bold-Alt"
    joined = "\n".join(built.warnings)
    assert "NoFile" in joined and "Gone" in joined and "Sub" in joined
    enter = built.template["jobEnvironments"][0]["script"]["actions"]["onEnter"]["args"]
    assert "--fonts-dir=fonts" in enter  # the bundle's scripts/fonts
    assert "--font-state={{Session.WorkingDirectory}}/fonts.json" in enter


def test_no_fonts_no_fonts_dir_argument() -> None:
    built = build_bundle(make_export([item(1)]))
    enter = built.template["jobEnvironments"][0]["script"]["actions"]["onEnter"]["args"]
    assert not [a for a in enter if a.startswith("--fonts-dir")]


def test_asset_refs_convert_from_the_deadline_library_and_dicts() -> None:
    from deadline.client.job_bundle.submission import AssetReferences

    theirs = AssetReferences(input_filenames={"/a/b.png"}, output_directories={"/out"})
    ours = AssetRefs.from_any(theirs)
    assert ours == AssetRefs(input_filenames=("/a/b.png",), output_directories=("/out",))
    assert AssetRefs.from_any(ours.to_dict()) == ours
    assert AssetReferences.from_dict(ours.to_dict()).input_filenames == {"/a/b.png"}
