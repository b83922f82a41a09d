"""The export's render-settings and numbering fields (issue 10) and the statuses aerender
can render, through the real `stmpo` CLI in a subprocess.

Bad values of the new fields are in the malformed corpus (`tests/data/malformed/`,
checked by test_export_loader); here: good values reach the item files, and items
that `aerender -rqindex` cannot render are refused by `stmpo bundle --items`.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aep_snaps import snap_item
from bundle_exports import export_dict, item, write_export
from stmpo.aep.build import build_export
from stmpo.aep.snapshot import ProjectSnap
from stmpo.errors import ExportError
from stmpo.export import parse_export


def stmpo(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stmpo", *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


def new_fields_export(tmp_path: Path) -> Path:
    outputs = [
        {
            "index": 1,
            "path": "/renders/a/out_[#####].png",
            "kind": "sequence",
            "useCompFrameNumber": False,
            "startingNumber": 101,
        },
        {"index": 2, "path": "/renders/a/review.mov", "kind": "movie"},
    ]
    items = [
        item(1, outputs=outputs, renderFrameRate=12.5, skipExistingFiles=True),
        item(2),
    ]
    footage = [{"path": "/plates/proxy/plate_proxy.mov", "proxy": True}]
    return write_export(tmp_path / "export.json", export_dict(items, footage=footage))


def test_new_fields_are_accepted_and_reach_the_item_files(tmp_path: Path) -> None:
    export = new_fields_export(tmp_path)
    checked = stmpo("validate-export", export)
    assert checked.returncode == 0, checked.stderr
    out = tmp_path / "bundle"
    built = stmpo("bundle", export, "-o", out, "--items", "1,2")
    assert built.returncode == 0, built.stderr
    first = json.loads((out / "scripts" / "items" / "rq001.json").read_text("utf-8"))
    assert first["renderFrameRate"] == 12.5
    assert first["skipExistingFiles"] is True
    assert first["outputs"][0]["useCompFrameNumber"] is False
    assert first["outputs"][0]["startingNumber"] == 101
    # AE's defaults are left out: the file says only what differs.
    assert set(first["outputs"][1]) == {"index", "path", "kind"}
    second = json.loads((out / "scripts" / "items" / "rq002.json").read_text("utf-8"))
    # compFrameRate always: which frame a timecode progress line names (frameid.py);
    # renderId: the resume journal's key without a Deadline job id
    assert set(second) == {"rqindex", "step", "comp", "outputs", "compFrameRate", "renderId"}


def test_a_non_finite_render_frame_rate_from_a_python_caller_is_refused_by_path() -> None:
    """The .aep reader or the GUI may hand parse_export a float('inf'); JSON text cannot
    hold one (the loader's first pass refuses NaN/Infinity literals anywhere)."""
    data = export_dict([item(1, renderFrameRate=math.inf)])
    with pytest.raises(ExportError) as caught:
        parse_export(data, source="test")
    assert [p.where for p in caught.value.problems] == ["renderQueue[0] (item 1).renderFrameRate"]
    assert "finite" in caught.value.problems[0].message


@pytest.mark.parametrize("status", ["DONE", "USER_STOPPED", "ERR_STOPPED"])
def test_bundle_refuses_an_item_aerender_cannot_render_again(tmp_path: Path, status: str) -> None:
    export = write_export(tmp_path / "export.json", export_dict([item(1), item(4, status=status)]))
    result = stmpo("bundle", export, "-o", tmp_path / "bundle", "--items", "4")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--items 4" in lines[0]
    assert f"status {status}" in lines[0] and "duplicate it in After Effects" in lines[0]
    assert not (tmp_path / "bundle").exists()


@pytest.mark.parametrize("status", ["WILL_CONTINUE", "NEEDS_OUTPUT"])
def test_bundle_takes_an_item_whose_render_flag_can_be_set(tmp_path: Path, status: str) -> None:
    export = write_export(
        tmp_path / "export.json", export_dict([item(1), item(3, status=status, render=False)])
    )
    result = stmpo("bundle", export, "-o", tmp_path / "bundle", "--items", "3")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "bundle" / "scripts" / "items" / "rq003.json").is_file()


@pytest.mark.parametrize("status", ["DONE", "USER_STOPPED", "ERR_STOPPED"])
def test_the_aep_reader_does_not_offer_a_finished_item(status: str) -> None:
    snap = ProjectSnap(
        path="/projects/spot.aep",
        display_start_frame=0,
        reader_version="0.0",
        saved_with=None,
        render_items=(snap_item(status=status, duration=2.0, span_duration=2.0),),
        footage=(),
        fonts=(),
        notes=(),
    )
    data: dict[str, Any] = build_export(snap, exists=lambda _: True, exported_at="2026-12-02")
    export = parse_export(json.loads(json.dumps(data)), source="test")
    rq = export.item(1)
    assert not rq.render and not rq.renderable and not rq.selectable
    assert any(f"is {status}: aerender cannot render it again" in w for w in export.warnings)


def test_an_item_numbered_from_a_starting_number_renders_as_one_task(tmp_path: Path) -> None:
    """With "Use Comp Frame Number" off every aerender launch numbers its files from the
    Starting #, so chunks of the item would overwrite each other: one task, a warning."""
    numbered = [
        {
            "index": 1,
            "path": "/renders/a/out_[#####].png",
            "kind": "sequence",
            "useCompFrameNumber": False,
            "startingNumber": 1,
        }
    ]
    export = write_export(
        tmp_path / "export.json", export_dict([item(1, outputs=numbered, end=47), item(2)])
    )
    out = tmp_path / "bundle"
    built = stmpo("bundle", export, "-o", out, "--items", "1,2", "-p", "ChunkSize=10")
    assert built.returncode == 0, built.stderr
    assert "2 steps, 6 tasks" in built.stdout  # item 1 whole, item 2 in 5 chunks of 10
    assert 'item 1: an output module has "Use Comp Frame Number" off' in built.stderr
