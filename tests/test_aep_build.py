"""The pure half of the .aep reader: frame numbers, footage patterns, export building."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from aep_snaps import snap_item
from hypothesis import given, settings
from hypothesis import strategies as st
from stmpo._worker_scripts.stmpo_worker.logtext import first_unsafe
from stmpo.aep.build import MAX_LISTED_MISSING, build_export, infer_host_os
from stmpo.aep.frames import (
    clean_rate,
    frame_range,
    path_style,
    sequence_pattern,
    snap_ceil,
    snap_floor,
)
from stmpo.aep.snapshot import FootageSnap, OutputModuleSnap, ProjectSnap, RenderItemSnap
from stmpo.errors import ExportError
from stmpo.export.loader import parse_export

NOW = "2026-11-21T10:00:00Z"


def _project(**changes: object) -> ProjectSnap:
    base = ProjectSnap(
        path="/projects/spot.aep",
        display_start_frame=0,
        reader_version="0.18.2",
        saved_with="26.0x67",
        render_items=(snap_item(),),
        footage=(),
        fonts=(),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _never(_path: str) -> bool:
    return False


def _always(_path: str) -> bool:
    return True


# --- frame numbers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("comp_start", "span_start", "span_duration", "rate", "project_start", "expected"),
    [
        (0, 0.0, 10.0, 25.0, 0, (0, 249)),
        (0, 0.0, 10.0, 25.0, 1, (1, 250)),
        (250, 2.0, 1.0, 25.0, 0, (300, 324)),
        # 300 frames at the 16.16 rate of 29.97: 300.0000122 frames, not 301.
        (0, 0.0, 300 / 29.97, 29.970001220703125, 0, (0, 299)),
        # 10 frames in at 29.97 is 9.99999... frames: frame 10, not 9.
        (30, 10 / 29.97, 50 / 29.97, 29.970001220703125, 1, (41, 90)),
        # A span starting between frames floors; a duration between frames rounds up.
        (0, 0.5 / 24, 2.5 / 24, 24.0, 0, (0, 2)),
        (-48, 0.0, 1.0, 24.0, 0, (-48, -25)),
    ],
)
def test_frame_range(
    comp_start: int,
    span_start: float,
    span_duration: float,
    rate: float,
    project_start: int,
    expected: tuple[int, int],
) -> None:
    assert (
        frame_range(
            comp_display_start_frame=comp_start,
            span_start=span_start,
            span_duration=span_duration,
            frame_rate=rate,
            project_display_start_frame=project_start,
        )
        == expected
    )


def test_an_hour_at_the_stored_2997_keeps_its_frame_count() -> None:
    """107892 frames at the 16.16 rate are 107892.0044 frames: the slack grows with length."""
    frames = 107_892
    start, end = frame_range(
        comp_display_start_frame=0,
        span_start=0.0,
        span_duration=frames / 29.97,
        frame_rate=29.970001220703125,
        project_display_start_frame=0,
    )
    assert (start, end) == (0, frames - 1)


@pytest.mark.parametrize(
    ("stored", "clean"),
    [
        (29.970001220703125, 29.97),
        (23.975997924804688, 23.976),
        (59.94000244140625, 59.94),
        (25.0, 25.0),
        (12.5, 12.5),
        (23.976023976023978, 23.976023976023978),
    ],
)
def test_clean_rate(stored: float, clean: float) -> None:
    assert clean_rate(stored) == clean


@pytest.mark.parametrize(
    ("duration", "rate"), [(0.0, 25.0), (-1.0, 25.0), (1.0, 0.0), (1.0, float("nan"))]
)
def test_frame_range_refuses_empty_spans_and_bad_rates(duration: float, rate: float) -> None:
    with pytest.raises(ValueError):
        frame_range(
            comp_display_start_frame=0,
            span_start=0.0,
            span_duration=duration,
            frame_rate=rate,
            project_display_start_frame=0,
        )


@given(st.integers(-100_000, 1_000_000), st.floats(0.0, 0.99))
def test_snapping_agrees_with_floor_and_ceil_away_from_whole_frames(
    whole: int, fraction: float
) -> None:
    """Only within the slack (1e-4 frame plus 2e-7 of the value) does snapping differ."""
    value = whole + fraction
    slack = 2 * (1e-4 + abs(value) * 2e-7)
    if slack < fraction < 1 - slack:
        assert snap_floor(value) == math.floor(value)
        assert snap_ceil(value) == math.ceil(value)
    assert snap_floor(float(whole)) == whole == snap_ceil(float(whole))


# --- footage patterns and path styles -------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "count", "expected"),
    [
        ("/plates/plate.0000.exr", 48, "/plates/plate.[0000-0047].exr"),
        ("C:\\plates\\sh010_0101.png", 48, "C:\\plates\\sh010_[0101-0148].png"),
        ("/p/a9.5.png", 100, "/p/a9.[5-104].png"),
        ("/p/noframe.png", 10, "/p/noframe.png"),
        ("/p/plate.0001.png", 0, "/p/plate.0001.png"),
    ],
)
def test_sequence_pattern(first: str, count: int, expected: str) -> None:
    assert sequence_pattern(first, count) == expected


@pytest.mark.parametrize(
    ("path", "style"),
    [
        ("C:\\x", "windows"),
        ("d:/x", "windows"),
        ("\\\\server\\share\\x", "windows"),
        ("/Users/a", "posix"),
        ("relative/x", None),
        ("", None),
    ],
)
def test_path_style(path: str, style: str | None) -> None:
    assert path_style(path) == style


def test_host_os_is_inferred_only_when_every_path_agrees() -> None:
    assert infer_host_os("C:\\p\\a.aep", ["C:\\r\\a.png", "\\\\nas\\f.exr"]) == "windows"
    assert infer_host_os("/Volumes/p/a.aep", ["/Volumes/r/a.png"]) == "macos"
    assert infer_host_os("/p/a.aep", ["C:\\r\\a.png"]) is None
    assert infer_host_os("/p/a.aep", ["C:\\r\\a.png", "/r/b.png"]) is None
    assert infer_host_os("/p/a.aep", []) is None


# --- building the export --------------------------------------------------------------------


def test_build_a_plain_project() -> None:
    data = build_export(_project(), exists=_always, exported_at=NOW)
    export = parse_export(data)
    assert export.host is not None and export.host.app == "py-aep 0.18.2"
    assert export.host.os == "macos"
    assert data["host"]["savedWith"] == "After Effects 26.0x67"
    assert export.exported_at == NOW
    assert export.warnings == []
    item = export.item(1)
    assert (item.frames.start, item.frames.end) == (0, 249)
    assert item.renderable


def test_queued_item_without_usable_module_is_not_selected() -> None:
    item = snap_item(output_modules=(), skipped_output_modules=("output module 1 has no file",))
    export = parse_export(
        build_export(_project(render_items=(item,)), exists=_always, exported_at=NOW)
    )
    assert not export.item(1).render
    assert any("item 1 (Main): output module 1 has no file" in w for w in export.warnings)
    assert any("no usable output module" in w for w in export.warnings)


def test_needs_output_item_is_never_checked() -> None:
    item = snap_item(status="NEEDS_OUTPUT", output_modules=())
    export = parse_export(
        build_export(_project(render_items=(item,)), exists=_always, exported_at=NOW)
    )
    assert export.item(1).render is False


def test_render_rate_skip_existing_and_numbering_are_exported_as_the_bridge_does() -> None:
    """The comp's rate unless "Use this frame rate"; AE's defaults written out, not left out."""
    numbered = OutputModuleSnap(
        index=1,
        path="/renders/main_[#####].png",
        template=None,
        format_name="PNG Sequence",
        kind="sequence",
        use_comp_frame_number=False,
        starting_number=7,
    )
    items = (
        snap_item(),
        snap_item(
            index=2, custom_frame_rate=12.5, skip_existing_files=True, output_modules=(numbered,)
        ),
    )
    export = parse_export(
        build_export(_project(render_items=items), exists=_always, exported_at=NOW)
    )
    plain, custom = export.item(1), export.item(2)
    assert (plain.render_frame_rate, plain.skip_existing_files) == (25.0, False)
    assert plain.output_modules[0].use_comp_frame_number is True
    assert (custom.render_frame_rate, custom.skip_existing_files) == (12.5, True)
    om = custom.output_modules[0]
    assert (om.use_comp_frame_number, om.starting_number) == (False, 7)
    assert export.warnings == []


def test_what_py_aep_cannot_read_is_left_out_with_a_warning() -> None:
    """A saved file py-aep cannot read these settings from: the export claims nothing."""
    unknown = OutputModuleSnap(
        index=1,
        path="/renders/main_[#####].png",
        template=None,
        format_name="PNG Sequence",
        kind="sequence",
        use_comp_frame_number=None,
    )
    item = snap_item(frame_rate_known=False, skip_existing_files=None, output_modules=(unknown,))
    data = build_export(_project(render_items=(item,)), exists=_always, exported_at=NOW)
    entry = data["renderQueue"][0]
    assert "renderFrameRate" not in entry and "skipExistingFiles" not in entry
    assert "useCompFrameNumber" not in entry["outputModules"][0]
    told = [w for w in data["warnings"] if "saved project cannot tell" in w]
    assert len(told) == 3
    assert any("frame rate" in w for w in told)
    assert any("Skip Existing Files" in w for w in told)
    assert any("Use Comp Frame Number" in w for w in told)


def test_unreadable_span_leaves_the_item_out_with_a_warning() -> None:
    items = (snap_item(span_duration=0.0), snap_item(index=2, comp_name="Other"))
    export = parse_export(
        build_export(_project(render_items=items), exists=_always, exported_at=NOW)
    )
    assert [i.index for i in export.render_queue] == [2]
    assert any("item 1 (Main) is left out" in w for w in export.warnings)


def test_missing_footage_is_listed_up_to_a_limit() -> None:
    footage = tuple(
        FootageSnap(
            name=f"f{i}", file=f"/p/f{i}.png", sequence=False, frame_count=1, missing_at_save=False
        )
        for i in range(MAX_LISTED_MISSING + 3)
    )
    export = parse_export(build_export(_project(footage=footage), exists=_never, exported_at=NOW))
    assert all(f.missing for f in export.footage)
    listed = [w for w in export.warnings if w.startswith("footage not found")]
    assert len(listed) == MAX_LISTED_MISSING
    assert any("3 more footage files" in w for w in export.warnings)


def test_footage_missing_at_save_but_here_is_not_missing_and_duplicates_merge() -> None:
    seq = FootageSnap(
        name="plate", file="/p/plate.0001.exr", sequence=True, frame_count=10, missing_at_save=True
    )
    export = parse_export(
        build_export(_project(footage=(seq, seq)), exists=_always, exported_at=NOW)
    )
    assert [(f.path, f.sequence, f.missing) for f in export.footage] == [
        ("/p/plate.[0001-0010].exr", True, False)
    ]
    assert any("when the project was saved" in w for w in export.warnings)


def test_fonts_are_unique_postscript_names_and_notes_come_first() -> None:
    snap = _project(fonts=("Inter-Bold", "Inter-Bold", "", "Roboto"), notes=("py-aep: hm",))
    export = parse_export(build_export(snap, exists=_always, exported_at=NOW))
    assert [f.post_script_name for f in export.fonts] == ["Inter-Bold", "Roboto"]
    assert export.warnings[0] == "py-aep: hm"
    assert "Inter-Bold, Roboto" in export.warnings[-1]


# --- whatever AE can save, the loader accepts -------------------------------------------------

_paths = st.one_of(
    st.from_regex(r"/[A-Za-z0-9 _\-]{1,12}/[A-Za-z0-9_\-]{1,12}\.(png|mov|exr)", fullmatch=True),
    st.from_regex(r"[C-Z]:\\[A-Za-z0-9 _\-]{1,12}\\[A-Za-z0-9_]{1,12}\.(tif|mp4)", fullmatch=True),
)
_modules = st.lists(
    st.builds(
        OutputModuleSnap,
        index=st.just(0),
        path=_paths,
        template=st.one_of(st.none(), st.text(max_size=20)),
        format_name=st.one_of(st.none(), st.text(max_size=10)),
        kind=st.sampled_from([None, "sequence", "movie"]),
        use_comp_frame_number=st.sampled_from([None, True, False]),
        starting_number=st.one_of(st.none(), st.integers(0, 10**9)),
    ),
    max_size=3,
)


@st.composite
def _items(draw: st.DrawFn) -> RenderItemSnap:
    rate = draw(st.sampled_from([23.976, 24.0, 25.0, 29.970001220703125, 30.0, 59.94, 120.0]))
    frames = draw(st.integers(1, 200_000))
    first = draw(st.integers(0, frames - 1))
    count = draw(st.integers(1, frames - first))
    modules = draw(_modules)
    # AE keeps the two in step: displayStartFrame is displayStartTime in frames.
    comp_start = draw(st.integers(-300_000, 2_000_000))
    return snap_item(
        status=draw(st.sampled_from(["QUEUED", "UNQUEUED", "NEEDS_OUTPUT", "DONE", "ERR_STOPPED"])),
        render=draw(st.booleans()),
        comp_name=draw(st.text(max_size=40)),
        width=draw(st.integers(4, 30000)),
        height=draw(st.integers(4, 30000)),
        frame_rate=rate,
        duration=frames / rate,
        display_start_time=comp_start / rate,
        comp_display_start_frame=comp_start,
        span_start=first / rate,
        span_duration=count / rate,
        custom_frame_rate=draw(st.one_of(st.none(), st.floats(1.0, 99.0))),
        frame_rate_known=draw(st.booleans()),
        skip_existing_files=draw(st.sampled_from([None, True, False])),
        output_modules=tuple(replace(m, index=i) for i, m in enumerate(modules, start=1)),
    )


@settings(max_examples=60, deadline=None)
@given(
    st.lists(_items(), max_size=4),
    st.sampled_from([0, 1]),
    st.lists(_paths, max_size=3),
    # A font name with a control character is refused (test below); any other text goes.
    st.lists(st.text(min_size=1, max_size=20).filter(lambda t: first_unsafe(t) < 0), max_size=3),
)
def test_any_project_ae_can_save_builds_an_export_the_loader_accepts(
    items: list[RenderItemSnap], project_start: int, footage: list[str], fonts: list[str]
) -> None:
    snap = _project(
        render_items=tuple(replace(item, index=i) for i, item in enumerate(items, start=1)),
        display_start_frame=project_start,
        footage=tuple(
            FootageSnap(name="f", file=p, sequence=False, frame_count=1, missing_at_save=False)
            for p in footage
        ),
        fonts=tuple(fonts),
    )
    export = parse_export(build_export(snap, exists=_never, exported_at=NOW))
    assert [i.index for i in export.render_queue] == [i.index for i in snap.render_items]
    for item, source in zip(export.render_queue, snap.render_items, strict=True):
        expected_count = round(source.span_duration * source.frame_rate)
        assert item.frames.count == expected_count


def test_a_font_name_with_a_control_character_is_refused_at_its_path() -> None:
    """What the worker would print (a font name) must not carry a line break into the
    task log (docs/export-format.md): the .aep path refuses it like the JSON path."""
    snap = _project(render_items=(), fonts=("Inter-Bold", "Evil\nopenjd_env: A=1"))
    with pytest.raises(ExportError) as caught:
        parse_export(build_export(snap, exists=_never, exported_at=NOW))
    assert [p.where for p in caught.value.problems] == ["fonts[1].postScriptName"]
