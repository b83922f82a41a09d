"""Sticky settings an artist can trust (issue 13, second review): a save that fails is
said in the window, not only on stderr (an artist launching from After Effects never
sees it); a settings file made read-only is not replaced, and one that is replaced keeps
its mode; a hand-edited value the template or the control would not take is refused
with the notice naming it, not changed or dropped in silence.

All through the real submitter offscreen: Save bundle as driven through the library's
own dialogs, Submit through the local Deadline Cloud server.

The write failures are real ones, made without permission bits (the tests may run as
root, which ignores them): a folder where the settings file goes, and a settings file
name longer than the file system takes (ENAMETOOLONG: 255 bytes on Linux, macOS and
Windows), which is how a folder that takes no new file behaves when there is no file yet.
"""

from __future__ import annotations

import contextlib
import json
import stat
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from deadline_server import LocalAws
from gui_helpers import copy_sample, save_bundle_as
from stmpo.export import load_export
from stmpo.gui.settings import (
    DEFAULT_PARAMETERS,
    initial_settings,
    save_sticky,
    sticky_path,
)
from submit_samples import make_export
from test_gui_submit_wire import (  # noqa: F401 (farm_home is a fixture used below)
    click_submit,
    farm_home,
    open_when_ready,
)

pytestmark = pytest.mark.gui

SAMPLE = "several_items.json"
NOT_SAVED = "Settings not saved"


def warnings_of(dialog: Any) -> list[str]:
    tab = dialog.job_settings
    return [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]


@pytest.fixture
def bundles(tmp_path: Path, gui_home: Path) -> Path:
    from deadline.client.config import set_setting

    out = tmp_path / "bundles"
    out.mkdir()
    set_setting("settings.job_bundle_default_directory", str(out))
    return out


def save_beside(export_path: Path, **changes: Any) -> Path:
    """Settings as Save bundle as would write them for the export, with `changes`."""
    export = load_export(export_path)
    where = sticky_path(export, export_path)
    save_sticky(replace(initial_settings(export, export_path), **changes), where)
    return where


def long_named_export(tmp_path: Path) -> Path:
    """An export whose settings file name is one byte over 255 (the export's own name
    fits): the OS refuses to create it, as a folder that takes no new file would."""
    short = copy_sample(SAMPLE, tmp_path)
    stem = "x" * (256 - len(".stmpo.json"))
    long = short.with_name(stem + ".json")
    short.rename(long)
    return long


# --- 6: a failed save is said in the window ---------------------------------------------


@pytest.mark.parametrize("case", ["a folder in its place", "a name too long for the OS"])
def test_save_bundle_as_says_in_the_window_when_the_settings_are_not_saved(
    make_dialog: Callable[[Path], Any],
    qtbot: Any,
    tmp_path: Path,
    bundles: Path,
    case: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if case == "a folder in its place":
        export_path = copy_sample(SAMPLE, tmp_path)
        where = sticky_path(load_export(export_path), export_path)
        where.mkdir()
    else:
        export_path = long_named_export(tmp_path)
        where = sticky_path(load_export(export_path), export_path)
    dialog = make_dialog(export_path)
    dialog.job_settings.chunk_size.setValue(17)
    assert not any(NOT_SAVED in line for line in warnings_of(dialog))

    boxes = save_bundle_as(qtbot, dialog, bundles)

    assert len(boxes) == 2 and "Bundle saved" in boxes[0]  # never blocked by the settings
    assert NOT_SAVED in boxes[1] and str(where) in boxes[1]  # then what was not saved
    assert (bundles / "ae_bundle" / "template.yaml").is_file()
    said = [line for line in warnings_of(dialog) if NOT_SAVED in line]
    assert len(said) == 1 and str(where) in said[0], warnings_of(dialog)
    assert warnings_of(dialog)[0] == said[0]  # first, above the export's warnings
    assert NOT_SAVED in capsys.readouterr().err
    left = sorted(p.name for p in tmp_path.iterdir() if "stmpo" in p.name)
    assert left == ([where.name] if case == "a folder in its place" else [])


def test_the_notice_goes_once_the_settings_can_be_saved_again(
    make_dialog: Callable[[Path], Any], qtbot: Any, tmp_path: Path, bundles: Path
) -> None:
    export_path = copy_sample(SAMPLE, tmp_path)
    where = sticky_path(load_export(export_path), export_path)
    where.mkdir()
    dialog = make_dialog(export_path)
    assert len(save_bundle_as(qtbot, dialog, bundles, "first")) == 2
    assert len(save_bundle_as(qtbot, dialog, bundles, "second")) == 1  # said once
    assert len([line for line in warnings_of(dialog) if NOT_SAVED in line]) == 1

    where.rmdir()
    dialog.job_settings.chunk_size.setValue(23)
    assert len(save_bundle_as(qtbot, dialog, bundles, "third")) == 1
    assert not any(NOT_SAVED in line for line in warnings_of(dialog))
    assert json.loads(where.read_text("utf-8"))["chunk_size"] == 23


@pytest.fixture
def full_project_folder(tmp_path: Path) -> Iterator[Path]:
    """A project folder on a file system with no room left (a 64 KiB tmpfs, filled): a
    new file can be created there but not written, as on a full share. Mounting needs
    root and a kernel that allows it; elsewhere the test is skipped (the folder-in-place
    and name-too-long cases still run)."""
    folder = tmp_path / "shots"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "stmpo-test", str(folder)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace')}")
    try:
        (folder / "spot_v012.aep").write_bytes(b"RIFX")
        with contextlib.suppress(OSError), (folder / "filler").open("wb") as filler:
            while True:
                filler.write(b"\0" * 4096)
                filler.flush()
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_save_bundle_as_in_a_full_project_folder_says_so_and_leaves_no_temporary(
    make_dialog: Callable[[Path], Any],
    qtbot: Any,
    tmp_path: Path,
    bundles: Path,
    full_project_folder: Path,
) -> None:
    """No settings file yet, beside a project whose folder takes no new bytes."""
    project = full_project_folder / "spot_v012.aep"
    data = json.loads(copy_sample(SAMPLE, tmp_path).read_text("utf-8"))
    data["project"]["path"] = str(project)
    export_path = tmp_path / "exports" / "tmp_export.json"
    export_path.parent.mkdir()
    export_path.write_text(json.dumps(data), encoding="utf-8")
    where = sticky_path(load_export(export_path), export_path)
    assert where == project.with_name("spot_v012.aep.stmpo.json")
    before = sorted(p.name for p in full_project_folder.iterdir())
    dialog = make_dialog(export_path)

    boxes = save_bundle_as(qtbot, dialog, bundles)

    assert len(boxes) == 2 and "Bundle saved" in boxes[0] and str(where) in boxes[1]
    said = [line for line in warnings_of(dialog) if NOT_SAVED in line]
    assert len(said) == 1 and str(where) in said[0], warnings_of(dialog)
    assert sorted(p.name for p in full_project_folder.iterdir()) == before


@pytest.mark.usefixtures("farm_home")
def test_submit_makes_the_job_and_says_in_its_outcome_and_the_tab_that_settings_are_not_saved(
    aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    """The reviewer's repro on Submit: a folder named `<project>.aep.stmpo.json`."""
    export_path = make_export(tmp_path, "shot", footage_frames=1, font=False)
    where = sticky_path(load_export(export_path), export_path)
    assert where.name == "shot.aep.stmpo.json"
    where.mkdir()
    dialog = open_when_ready(qtbot, export_path)

    progress, seen = click_submit(qtbot, dialog)

    assert dialog.job_id in aws.deadline.state.jobs, seen  # never blocked
    log = progress.submission_log.toPlainText()
    assert NOT_SAVED in log and str(where) in log, log
    said = [line for line in warnings_of(dialog) if NOT_SAVED in line]
    assert len(said) == 1 and str(where) in said[0]
    assert where.is_dir() and not any(where.iterdir())
    progress.close()


# --- 7: a read-only settings file is the studio's choice --------------------------------


def test_a_read_only_settings_file_is_not_replaced_and_the_window_says_so(
    make_dialog: Callable[[Path], Any], qtbot: Any, tmp_path: Path, bundles: Path
) -> None:
    export_path = copy_sample(SAMPLE, tmp_path)
    where = save_beside(export_path, chunk_size=5, profile="Farm")
    where.chmod(0o444)
    pinned = where.read_bytes()
    dialog = make_dialog(export_path)
    assert dialog.job_settings.chunk_size.value() == 5  # read as ever
    dialog.job_settings.chunk_size.setValue(40)

    boxes = save_bundle_as(qtbot, dialog, bundles, "first")
    again = save_bundle_as(qtbot, dialog, bundles, "second")

    assert len(boxes) == 2 and "Bundle saved" in boxes[0] and "read-only" in boxes[1]
    assert len(again) == 1 and "Bundle saved" in again[0]  # said once, kept in Warnings
    assert where.read_bytes() == pinned
    assert stat.S_IMODE(where.stat().st_mode) == 0o444
    said = [line for line in warnings_of(dialog) if NOT_SAVED in line]
    assert len(said) == 1 and "read-only" in said[0] and str(where) in said[0]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


@pytest.mark.parametrize("mode", [0o640, 0o664, 0o600])
def test_a_settings_file_replaced_keeps_its_mode(
    make_dialog: Callable[[Path], Any], qtbot: Any, tmp_path: Path, bundles: Path, mode: int
) -> None:
    export_path = copy_sample(SAMPLE, tmp_path)
    where = save_beside(export_path, chunk_size=5)
    where.chmod(mode)
    dialog = make_dialog(export_path)
    dialog.job_settings.chunk_size.setValue(40)

    assert len(save_bundle_as(qtbot, dialog, bundles)) == 1  # "Bundle saved to" alone

    assert json.loads(where.read_text("utf-8"))["chunk_size"] == 40
    assert stat.S_IMODE(where.stat().st_mode) == mode
    assert not any(NOT_SAVED in line for line in warnings_of(dialog))


# --- 8: hand-edited values the control would not show are refused with the notice ------


#: A value each control writes, beside the refused one: kept, as the notice says.
GOOD_BESIDE = {"chunk_size": 9, "parameters": {"MaxConcurrency": "20"}}


@pytest.mark.parametrize(
    ("field_name", "value"),
    [
        ("profile", "Bogus"),
        ("profile", "hero"),
        ("parameters.Concurrency", "4.5"),
        ("parameters.Concurrency", "1_0"),
        ("parameters.Concurrency", " 4"),
        ("parameters.Concurrency", "\u0664"),  # an Arabic-Indic four: int() takes it
        ("parameters.RamPerProcessGB", "4_8.0"),
    ],
)
def test_a_hand_edited_value_the_template_refuses_is_ignored_with_a_notice_naming_it(
    make_dialog: Callable[[Path], Any], tmp_path: Path, field_name: str, value: str
) -> None:
    export_path = copy_sample(SAMPLE, tmp_path)
    where = sticky_path(load_export(export_path), export_path)
    saved: dict[str, Any] = json.loads(json.dumps(GOOD_BESIDE))
    if field_name.startswith("parameters."):
        saved["parameters"][field_name.split(".")[1]] = value
    else:
        saved[field_name] = value
    where.write_text(json.dumps({"stmpoStickyVersion": 1, **saved}), "utf-8")

    tab = make_dialog(export_path).job_settings

    notice = f"Saved settings {where}: damaged {field_name} ignored, defaults used"
    assert notice in warnings_of(tab.window()), warnings_of(tab.window())
    shown = tab.parameter_values()
    assert tab.profile_combo.currentText() in ("Hero", "Custom")  # the values' own
    assert shown["Concurrency"] == DEFAULT_PARAMETERS["Concurrency"]
    assert float(shown["RamPerProcessGB"]) == float(DEFAULT_PARAMETERS["RamPerProcessGB"])
    assert shown["MaxConcurrency"] == "20" and tab.chunk_size.value() == 9  # kept
