"""An export with no item to preselect: the CLI (`stmpo submit`, `stmpo bundle`) and the
submitter's tab say why, counted by reason, and what fixes it, in the same words
(`stmpo.bundle.selection.nothing_to_render`)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stmpo.cli import main
from stmpo.locations import examples_dir

FIX_DONE = (
    "After Effects renders a finished item only as a copy: duplicate it in the render queue "
    "(the copy is QUEUED), save and export again"
)


def export_with(tmp_path: Path, name: str, change: Callable[[list[dict[str, Any]]], None]) -> Path:
    data = json.loads((examples_dir() / "several_items.json").read_text(encoding="utf-8"))
    change(data["renderQueue"])
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def all_done(queue: list[dict[str, Any]]) -> None:
    for item in queue:
        item["status"], item["render"] = "DONE", False


def mixed(queue: list[dict[str, Any]]) -> None:
    """Items 1 and 4 DONE, 2 and 5 unchecked, 3 without an output module."""
    for item in queue:
        item["render"] = False
    queue[0]["status"] = queue[3]["status"] = "DONE"
    queue[2]["outputModules"] = []


def failed_reason(capsys: pytest.CaptureFixture[str], *args: str | Path) -> str:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    assert "Traceback" not in out + err
    (line,) = [ln for ln in err.splitlines() if "failed: --items: " in ln]
    return line.split("failed: --items: ", 1)[1]


def test_submit_says_every_item_is_done_and_how_to_render_it_again(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = export_with(tmp_path, "29_done_only.json", all_done)
    reason = failed_reason(capsys, "submit", export, "--dry-run")
    assert reason == f"every item is DONE (items 1, 2, 3, 4, 5); {FIX_DONE}"
    assert "pick" not in reason  # nothing could be picked: --items would be refused too


def test_submit_counts_each_reason_and_names_the_items_it_could_pick(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = export_with(tmp_path, "mixed.json", mixed)
    reason = failed_reason(capsys, "submit", export, "--dry-run")
    assert reason == (
        "no item is checked and QUEUED with an output module: 2 DONE (items 1, 4), "
        "2 unchecked (items 2, 5), 1 without an output module (item 3); "
        f"{FIX_DONE}; add an output module in After Effects and export again; "
        "pick them with --items 2,5"
    )
    # The fix it names works (the sample renders under /tmp/stmpo-demo/out).
    approve = ["--known-asset-path", "/tmp/stmpo-demo/out"]
    code = main(["submit", str(export), "--dry-run", "--items", "2,5", *approve])
    out, err = capsys.readouterr()
    assert code == 0, out + err


@pytest.mark.gui
def test_the_tab_gives_the_cli_reason_not_just_nothing_selected(
    make_dialog: Callable[[Path], Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = export_with(tmp_path, "29_done_only.json", all_done)
    cli = failed_reason(capsys, "submit", done, "--dry-run")
    tab = make_dialog(done).job_settings
    assert tab.selected_items() == []
    assert f"render queue selection: {cli}" in tab.current_blockers()

    some = export_with(tmp_path, "mixed.json", mixed)
    tab = make_dialog(some).job_settings
    blockers = tab.current_blockers()
    assert (
        "render queue selection: no item is checked and QUEUED with an output module: "
        "2 DONE (items 1, 4), 2 unchecked (items 2, 5), 1 without an output module (item 3); "
        f"{FIX_DONE}; add an output module in After Effects and export again; "
        "tick them in the list (2, 5)"
    ) in blockers
