"""The .aep reader end to end: projects made with py-aep, saved, read back.

Projects are built with `py_aep.new()` and saved to disk, then read through the real
CLI in a subprocess and through `load_any`; expected frame numbers are worked out by
hand from the aerender formula in the docstrings of each case.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import py_aep
import pytest
from stmpo.cli import main
from stmpo.errors import ExportError
from stmpo.export import load_export
from stmpo.export.model import Export
from stmpo.export.sources import load_any
from stmpo.locations import examples_dir


def _png(path: Path) -> None:
    """A real 2x2 PNG, written with the standard library (py-aep probes the header)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + b"\x10\x20\x30" * 2 for _ in range(2)))
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


def _set_format(om: Any, format_id: str) -> None:
    """Give an output module another format.

    py-aep 0.18 changes formats only through `apply_template`, which needs After
    Effects' preference files; the test writes the format code AE stores instead
    (`H264` is H.264, a movie). Only the fixture does this; the reader uses public API.
    """
    om._roou.format_id = format_id


@dataclass(frozen=True)
class Project:
    path: Path
    renders: Path
    plates: Path
    gone: Path


NTSC_NAME = 'NTSC {{spot}} "v2" $HOME; ünï'


def _build(root: Path) -> Project:
    renders = root / "renders"
    plates = root / "plates"
    plates.mkdir(parents=True)
    for frame in range(101, 149):
        _png(plates / f"plate.{frame:04d}.png")
    gone = root / "gone.png"
    _png(gone)

    app = py_aep.new()
    project = app.project
    project.display_start_frame = 1

    main_comp = project.root_folder.add_comp("MAIN comp", 1920, 1080, 1.0, 10.0, 25.0)
    main_comp.add_text("Title").text.source_text.value.font = "Inter-Bold"
    main_comp.add_text("Body").text.source_text.value.font = "Roboto-Regular"

    ntsc = project.root_folder.add_comp(NTSC_NAME, 720, 480, 0.9, 10.0, 29.97)
    ntsc.display_start_frame = 30
    ntsc.add_text("Lower third").text.source_text.value.font = "Inter-Bold"

    other = project.root_folder.add_comp("Unchecked", 640, 360, 1.0, 2.0, 24.0)
    pending = project.root_folder.add_comp("No output yet", 640, 360, 1.0, 2.0, 24.0)

    queue = project.render_queue
    item1 = queue.add(main_comp)
    item1.output_modules[0].file = str(renders / "MAIN_[#####].tif")
    movie = item1.add()
    _set_format(movie, "H264")
    movie.file = str(renders / "MAIN_review.mp4")

    item2 = queue.add(ntsc)
    item2.time_span_start_frame = 10
    item2.time_span_duration_frames = 50
    item2.output_modules[0].file = str(renders / "NTSC_[####].tif")
    item2.settings["Frame Rate"] = py_aep.FrameRateSetting.USE_THIS_FRAME_RATE
    item2.settings["Use this frame rate"] = 15.0
    item2.settings["Skip Existing Files"] = True
    item2.output_modules[0].settings["Use Comp Frame Number"] = False
    item2.output_modules[0].settings["Starting #"] = 7
    odd = item2.add()
    _set_format(odd, "ZZZZ")
    odd.file = str(renders / "NTSC_odd.bin")

    item3 = queue.add(other)
    item3.output_modules[0].file = str(renders / "unchecked_[#####].tif")
    item3.render = False

    queue.add(pending)

    whole_ntsc = queue.add(ntsc)
    whole_ntsc.output_modules[0].file = str(renders / "NTSC_full_[#####].tif")

    options = py_aep.ImportOptions(plates / "plate.0101.png")
    options.sequence = True
    project.import_file(options)
    project.import_file(py_aep.ImportOptions(gone))
    project.import_placeholder("Client logo", 200, 200, 25.0, 1.0)

    path = root / "spot v012.aep"
    project.save(path)
    gone.unlink()
    return Project(path=path, renders=renders, plates=plates, gone=gone)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return _build(tmp_path_factory.mktemp("aep"))


@pytest.fixture(scope="module")
def export(built: Project) -> Export:
    return load_any(built.path)


def _stmpo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# --- what is read -------------------------------------------------------------------------


def test_render_queue_items_in_queue_order_with_status_and_render_flag(export: Export) -> None:
    summary = [(i.index, i.comp.name, i.status, i.render) for i in export.render_queue]
    assert summary == [
        (1, "MAIN comp", "QUEUED", True),
        (2, NTSC_NAME, "QUEUED", True),
        (3, "Unchecked", "UNQUEUED", False),
        (4, "No output yet", "NEEDS_OUTPUT", False),
        (5, NTSC_NAME, "QUEUED", True),
    ]
    assert [i.index for i in export.renderable_items] == [1, 2, 5]


def test_comp_description(export: Export) -> None:
    main_comp = export.item(1).comp
    assert (main_comp.width, main_comp.height) == (1920, 1080)
    assert main_comp.frame_rate == 25.0
    assert main_comp.duration == 10.0
    assert main_comp.display_start_time == 0.0
    ntsc = export.item(2).comp
    assert (ntsc.width, ntsc.height) == (720, 480)
    assert ntsc.frame_rate == 29.97
    assert ntsc.duration == pytest.approx(300 / 29.97, abs=1e-3)
    assert ntsc.display_start_time == pytest.approx(30 / 29.97, abs=1e-6)
    assert export.item(1).render_settings == "Best Settings"


def test_frames_whole_comp_at_25fps_with_project_numbering_from_1(export: Export) -> None:
    """10 s at 25 fps is 250 frames; the project numbers frames from 1, so 1-250."""
    assert export.project.display_start_frame == 1
    frames = export.item(1).frames
    assert (frames.start, frames.end, frames.step) == (1, 250, 1)


def test_frames_custom_span_at_2997_with_display_start(export: Export) -> None:
    """Comp starts at frame 30, span starts 10 frames in, 50 frames, numbering from 1:
    start = 30 + 10 + 1 = 41, end = 41 + 50 - 1 = 90 (no off-by-one from 29.97's float)."""
    frames = export.item(2).frames
    assert (frames.start, frames.end) == (41, 90)


def test_frames_whole_comp_at_2997_is_not_one_frame_too_long(export: Export) -> None:
    """300 frames stored as 10.01001 s at a 16.16 rate of 29.970001 is 300.0000122 frames:
    start = 30 + 0 + 1 = 31, end = 31 + 300 - 1 = 330, not 331."""
    frames = export.item(5).frames
    assert (frames.start, frames.end) == (31, 330)


def test_output_modules_path_template_kind(export: Export, built: Project) -> None:
    modules = export.item(1).output_modules
    assert [(om.index, om.path, om.kind) for om in modules] == [
        (1, str(built.renders / "MAIN_[#####].tif"), "sequence"),
        (2, str(built.renders / "MAIN_review.mp4"), "movie"),
    ]
    assert modules[0].template == "TIFF Sequence with Alpha"
    assert export.item(1).has_movie_output


def test_format_py_aep_does_not_know_leaves_kind_to_the_path_with_a_warning(
    export: Export,
) -> None:
    odd = export.item(2).output_modules[1]
    assert odd.kind is None
    assert odd.resolved_kind == "movie"
    assert any("output module 2" in w and "ZZZZ" in w for w in export.warnings)


def test_item_without_output_file_keeps_its_place_without_modules(export: Export) -> None:
    pending = export.item(4)
    assert pending.output_modules == []
    assert not pending.selectable
    assert any("item 4" in w and "no output file" in w for w in export.warnings)


def test_render_settings_and_numbering_read_through_the_cli(built: Project) -> None:
    """What the bridge exports from getSettings, read from the saved file (issue 10, points
    2, 3 and 6): item 2 renders at 15 fps ("Use this frame rate") over a 29.97 comp, skips
    existing files, and its first output module numbers files from 7; item 1 has AE's
    defaults, written out as the bridge writes them (the comp's rate, off, on)."""
    result = _stmpo("export-aep", str(built.path), "-q")
    assert result.returncode == 0, result.stderr
    items = {item["index"]: item for item in json.loads(result.stdout)["renderQueue"]}
    assert (items[1]["renderFrameRate"], items[1]["skipExistingFiles"]) == (25.0, False)
    assert (items[2]["renderFrameRate"], items[2]["skipExistingFiles"]) == (15.0, True)
    assert items[5]["renderFrameRate"] == 29.97
    first, second = items[2]["outputModules"]
    assert (first["useCompFrameNumber"], first["startingNumber"]) == (False, 7)
    assert second["useCompFrameNumber"] is True
    assert [om["useCompFrameNumber"] for om in items[1]["outputModules"]] == [True, True]
    # Frames stay comp frames (aerender's -s/-e); nothing about the rate is left unknown.
    assert (items[2]["frames"]["start"], items[2]["frames"]["end"]) == (41, 90)
    assert not [w for w in json.loads(result.stdout)["warnings"] if "cannot tell" in w]


def test_skip_frames_trace_is_warned_not_exported_through_the_cli(tmp_path: Path) -> None:
    """Skip Frames (issue 10 point 5): After Effects does not save it and renders every
    frame of a project it opens (py-aep 0.18 `RenderQueueItem.skip_frames`, measured on
    AE 2026), so the reader exports step 1, as the bridge would read the reopened file.
    The output modules keep a trace (their stored rate is the render rate / (skip + 1)):
    an item that had Skip Frames 2 is warned about, naming the value; others are not."""
    app = py_aep.new()
    project = app.project
    ntsc = project.root_folder.add_comp("on threes", 720, 480, 1.0, 2.0, 29.97)
    plain = project.root_folder.add_comp("every frame", 720, 480, 1.0, 2.0, 24.0)
    queue = project.render_queue
    threes = queue.add(ntsc)
    threes.output_modules[0].file = str(tmp_path / "threes_[####].png")
    threes.skip_frames = 2  # public py-aep API: stores the output module rate as AE does
    every = queue.add(plain)
    every.output_modules[0].file = str(tmp_path / "every_[####].png")
    project.save(tmp_path / "skip.aep")
    result = _stmpo("export-aep", str(tmp_path / "skip.aep"), "-q")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [item["frames"] for item in data["renderQueue"]] == [
        {"start": 0, "end": 59, "step": 1},
        {"start": 0, "end": 47, "step": 1},
    ]
    skip_warnings = [w for w in data["warnings"] if "Skip Frames" in w]
    assert len(skip_warnings) == 1
    assert skip_warnings[0].startswith("render queue item 1 (on threes): the saved project ")
    assert "cannot tell Skip Frames" in skip_warnings[0]
    assert "Skip Frames 2 (one frame in 3)" in skip_warnings[0]


def test_footage_sequence_pattern_missing_and_placeholder(export: Export, built: Project) -> None:
    by_path = {f.path: f for f in export.footage}
    pattern = str(built.plates / "plate.[0101-0148].png")
    assert set(by_path) == {pattern, str(built.gone)}
    assert by_path[pattern].sequence and not by_path[pattern].missing
    assert by_path[str(built.gone)].missing and not by_path[str(built.gone)].sequence
    assert any(str(built.gone) in w and "not found" in w for w in export.warnings)
    assert any('"Client logo"' in w and "placeholder" in w for w in export.warnings)


def test_used_fonts_postscript_names_only_with_a_warning(export: Export) -> None:
    names = [f.post_script_name for f in export.fonts]
    assert names == ["Inter-Bold", "Roboto-Regular"]
    assert all(f.location is None and f.family_name is None for f in export.fonts)
    assert any("PostScript names" in w for w in export.warnings)


def test_host_and_project_path(export: Export, built: Project) -> None:
    assert export.host is not None
    assert export.host.app == f"py-aep {py_aep.__version__.removeprefix('v')}"
    assert export.project.path == str(built.path)
    assert export.project_name == "spot v012.aep"


# --- through the CLI in a subprocess --------------------------------------------------------


def test_cli_writes_an_export_the_loader_reads(built: Project, tmp_path: Path) -> None:
    out = tmp_path / "export.json"
    result = _stmpo("export-aep", str(built.path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert "warning:" in result.stderr and "Traceback" not in result.stderr
    from_file = load_export(out)
    direct = load_any(built.path)
    assert from_file.model_dump(exclude={"exported_at"}) == direct.model_dump(
        exclude={"exported_at"}
    )
    raw = json.loads(out.read_text(encoding="utf-8"))
    assert "isSubstitute" not in raw["fonts"][0], "unknown facts must not be written as false"


def test_cli_stdout_is_the_export(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-aep", str(built.path)]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["format"] == "stmpo-ae-export"
    assert [i["index"] for i in data["renderQueue"]] == [1, 2, 3, 4, 5]
    assert "warning:" in captured.err


def test_cli_quiet(built: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export-aep", str(built.path), "-q"]) == 0
    assert capsys.readouterr().err == ""


# --- bad input: exit 2 with a sentence, never a traceback -----------------------------------


def _bad_inputs(root: Path, good: Path) -> Iterator[tuple[str, Path, str]]:
    empty = root / "empty.aep"
    empty.write_bytes(b"")
    yield "empty", empty, "empty"
    text = root / "notes.aep"
    text.write_text('{"format": "stmpo-ae-export"}', encoding="utf-8")
    yield "json", text, "not an After Effects project"
    noise = root / "noise.aep"
    noise.write_bytes(bytes(range(256)) * 20)
    yield "noise", noise, "not an After Effects project"
    truncated = root / "truncated.aep"
    truncated.write_bytes(good.read_bytes()[:3000])
    yield "truncated", truncated, "not a readable After Effects project"
    folder = root / "folder.aep"
    folder.mkdir()
    yield "folder", folder, "folder"
    yield "missing", root / "missing.aep", "no such file"


BAD = ["empty", "json", "noise", "truncated", "folder", "missing"]


@pytest.mark.parametrize("case", BAD)
def test_bad_project_exits_2_with_a_clear_message(
    case: str, built: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = {name: (path, words) for name, path, words in _bad_inputs(tmp_path, built.path)}
    path, words = cases[case]
    out = tmp_path / "out.json"
    assert main(["export-aep", str(path), "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stmpo export-aep: {path}: ")
    assert words in err
    assert not out.exists()
    with pytest.raises(ExportError, match=words):
        load_any(path)


def test_corrupt_project_in_a_subprocess_exits_2_without_traceback(
    built: Project, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.aep"
    data = bytearray(built.path.read_bytes())
    for pos in range(200, len(data), 97):
        data[pos] ^= 0xFF
    broken.write_bytes(bytes(data))
    result = _stmpo("export-aep", str(broken), "-o", str(tmp_path / "x.json"))
    assert result.returncode == 2
    assert "not a readable After Effects project" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "x.json").exists()


def test_missing_project_in_a_subprocess_exits_2(tmp_path: Path) -> None:
    result = _stmpo("export-aep", str(tmp_path / "nope.aep"))
    assert result.returncode == 2
    assert "no such file" in result.stderr and "Traceback" not in result.stderr


def test_output_into_a_missing_folder_or_over_the_project_exits_2(
    built: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-aep", str(built.path), "-o", str(tmp_path / "no" / "x.json")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["export-aep", str(built.path), "-o", str(built.path)]) == 2
    assert "overwrite the project" in capsys.readouterr().err
    assert built.path.read_bytes()[:4] == b"RIFX"


def test_no_arguments_names_the_missing_argument(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["export-aep"])
    assert exited.value.code == 2
    assert "PROJECT.aep" in capsys.readouterr().err


# --- load_any ---------------------------------------------------------------------------------


def test_load_any_reads_export_json_through_the_loader() -> None:
    sample = examples_dir() / "image_sequence.json"
    assert load_any(sample) == load_export(sample)


def test_load_any_suffix_is_case_insensitive(built: Project, tmp_path: Path) -> None:
    upper = tmp_path / "SPOT.AEP"
    upper.write_bytes(built.path.read_bytes())
    assert load_any(upper).item(1).comp.name == "MAIN comp"


def test_load_any_refuses_aepx_with_advice(tmp_path: Path) -> None:
    xml = tmp_path / "spot.aepx"
    xml.write_text('<?xml version="1.0"?><AfterEffectsProject/>', encoding="utf-8")
    with pytest.raises(ExportError, match=r"\.aepx.*save a copy as \.aep"):
        load_any(xml)


def test_aepx_content_under_aep_name_is_explained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    xml = tmp_path / "spot.aep"
    xml.write_text('<?xml version="1.0"?><AfterEffectsProject/>', encoding="utf-8")
    assert main(["export-aep", str(xml)]) == 2
    assert "XML project (.aepx)" in capsys.readouterr().err


def test_without_py_aep_load_any_says_what_to_install(built: Project) -> None:
    """A Python where `import py_aep` fails, as on an install without the [aep] extra."""
    code = (
        "import sys; sys.modules['py_aep'] = None\n"
        "from stmpo.errors import ExportError\n"
        "from stmpo.export.sources import load_any\n"
        "try:\n"
        f"    load_any({str(built.path)!r})\n"
        "except ExportError as exc:\n"
        "    print(exc.render()); sys.exit(7)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 7, result.stderr
    assert "install stmpo-ae[aep]" in result.stdout


# --- a project saved for Windows, read here ---------------------------------------------------


def test_windows_paths_read_on_posix_leave_host_os_unset_and_warn(tmp_path: Path) -> None:
    app = py_aep.new(platform="windows")
    comp = app.project.root_folder.add_comp("Win", 640, 360, 1.0, 1.0, 24.0)
    item = app.project.render_queue.add(comp)
    item.output_modules[0].file = "C:\\renders\\win\\Win_[#####].tif"
    path = tmp_path / "win.aep"
    app.project.save(path)
    export = load_any(path)
    assert export.host is not None and export.host.os is None
    assert export.item(1).output_modules[0].path == "C:\\renders\\win\\Win_[#####].tif"
    assert (export.item(1).frames.start, export.item(1).frames.end) == (0, 23)
    assert any("Windows paths" in w for w in export.warnings)


def test_empty_project_reads_as_an_empty_queue(tmp_path: Path) -> None:
    path = tmp_path / "empty project.aep"
    py_aep.new().project.save(path)
    export = load_any(path)
    assert export.render_queue == [] and export.footage == [] and export.fonts == []
    assert os.path.isabs(export.project.path)


# --- the tested py-aep range (issue 10, point 13) ------------------------------------------


def test_py_aep_pin_has_an_upper_bound_and_holds_the_installed_version() -> None:
    """py-aep is alpha: the `aep` extra pins a tested range, and the version the tests run
    against is inside it (a new minor must be tested before the pin moves)."""
    from importlib.metadata import version

    from packaging.requirements import Requirement
    from packaging.version import Version

    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib  # type: ignore[no-redef]

    root = Path(__file__).resolve().parents[1]
    extras = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))["project"][
        "optional-dependencies"
    ]["aep"]
    (requirement,) = [Requirement(r) for r in extras if Requirement(r).name == "py-aep"]
    assert any(spec.operator in ("<", "<=", "~=", "==") for spec in requirement.specifier), (
        f"{requirement} has no upper bound"
    )
    installed = Version(version("py-aep"))
    assert requirement.specifier.contains(installed, prereleases=True), (
        f"py-aep {installed} is outside the pinned {requirement.specifier}"
    )


def test_finished_items_are_read_as_not_renderable_with_the_reason(tmp_path: Path) -> None:
    """aerender -rqindex cannot set a DONE/USER_STOPPED/ERR_STOPPED item's Render flag
    (issue 10, point 1): the reader unchecks them, as the bridge never offers them, even
    when the saved flag is on; a QUEUED item beside them stays renderable."""
    app = py_aep.new()
    project = app.project
    for status in ("DONE", "USER_STOPPED", "ERR_STOPPED", "QUEUED"):
        comp = project.root_folder.add_comp(status, 64, 64, 1.0, 1.0, 25.0)
        item = project.render_queue.add(comp)
        item.output_modules[0].file = str(tmp_path / f"{status}_[#####].png")
        item.status = getattr(py_aep.RQItemStatus, status)
    path = tmp_path / "finished.aep"
    project.save(path)
    result = _stmpo("export-aep", str(path), "-q")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert [(i["status"], i["render"]) for i in data["renderQueue"]] == [
        ("DONE", False),
        ("USER_STOPPED", False),
        ("ERR_STOPPED", False),
        ("QUEUED", True),
    ]
    for index, status in enumerate(("DONE", "USER_STOPPED", "ERR_STOPPED"), start=1):
        assert any(
            f"item {index} ({status}) is {status}" in w and "cannot render it again" in w
            for w in data["warnings"]
        )
