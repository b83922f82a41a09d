"""Issue 13, "Trust": the wheel, the tab the window opens on, its size, the queue table.

Offscreen, through the real deadline dialog with our tab (see test_gui_submitter.py).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import answer_next_message_box, copy_sample, settings_of_tab
from submit_samples import make_export

pytestmark = pytest.mark.gui


def wheel(widget: Any, notches: int = 1) -> None:
    """A mouse wheel turn over the middle of `widget`, as Qt delivers one."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    local = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        local,
        QPointF(widget.mapToGlobal(local.toPoint())),
        QPoint(0, 0),
        QPoint(0, -120 * notches),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


def settings_of(dialog: Any) -> Any:
    return settings_of_tab(dialog.job_settings)


def test_the_wheel_scrolls_the_tab_and_changes_no_control_without_focus(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    dialog = make_dialog(make_export(tmp_path, "wheel", items=3, footage_frames=1, font=False))
    dialog.resize(700, 500)  # the tab scrolls
    tab = dialog.job_settings
    qtbot.waitExposed(dialog)
    before = settings_of(dialog)
    controls = {
        "RAM per process": tab.ram_per_process,
        "spawn delay": tab.stmpo_controls["SpawnDelay"],
        "profile": tab.profile_combo,
        "seconds per frame (plan view)": tab.plan_view.seconds_per_frame,
        "hourly price (plan view)": tab.plan_view.hourly_price,
        "preview threads": tab.preview_cpus,
        "chunk size": tab.chunk_size,
    }
    values = {
        name: c.value() if hasattr(c, "value") else c.currentText() for name, c in controls.items()
    }
    scroll = dialog.job_settings_tab.verticalScrollBar()
    assert scroll.maximum() > 0, "the tab must scroll for this test to mean anything"
    start = scroll.value()
    for control in controls.values():
        assert not control.hasFocus()
        wheel(control, 3)
    after = {
        name: c.value() if hasattr(c, "value") else c.currentText() for name, c in controls.items()
    }
    assert after == values
    assert scroll.value() != start  # the wheel went to the scroll area
    assert settings_of(dialog) == before  # nothing sticky changed either

    # a control the artist focused takes the wheel as before
    spin = tab.preview_cpus
    dialog.activateWindow()
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus)
    was = spin.value()
    wheel(spin, -1)
    assert spin.value() == was + 1


def test_the_wheel_changes_no_shared_job_setting_without_focus(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    """The library's Shared job settings tab: priority, failed tasks and retries are
    sticky, so a wheel turn over them on the way past must not change them either."""
    dialog = make_dialog(make_export(tmp_path, "shared", items=1, footage_frames=1, font=False))
    dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.shared_job_settings_tab))
    qtbot.waitExposed(dialog)
    box = dialog.shared_job_settings.shared_job_properties_box
    spins = [box.priority_box, box.max_failed_tasks_count_box, box.max_retries_per_task_box]
    before = [spin.value() for spin in spins]
    for spin in spins:
        assert not spin.hasFocus()
        wheel(spin, 2)
    assert [spin.value() for spin in spins] == before
    assert settings_of(dialog).priority == before[0]


def test_the_window_opens_on_the_after_effects_tab_sized_for_it_with_twenty_queue_rows(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    dialog = make_dialog(make_export(tmp_path, "forty", items=40, footage_frames=1, font=False))
    qtbot.waitExposed(dialog)
    tabs = dialog.tabs
    assert tabs.tabText(tabs.currentIndex()) == "After Effects"
    assert tabs.currentWidget() is dialog.job_settings_tab
    # wide enough for the tab: nothing to scroll sideways
    assert dialog.job_settings_tab.horizontalScrollBar().maximum() == 0
    table = dialog.job_settings.queue_table
    assert table.rowCount() == 40

    def rows_shown() -> int:
        return table.viewport().height() // table.rowHeight(0)

    assert rows_shown() >= 20
    # the table takes the room a taller window gives, once the rest of the tab fits
    height = table.viewport().height()
    overflow = dialog.job_settings_tab.verticalScrollBar().maximum()
    dialog.resize(dialog.width(), dialog.height() + overflow + 300)
    qtbot.waitUntil(lambda: table.viewport().height() > height)


def cli_warnings(export_path: Path, out: Path, *options: str) -> list[str]:
    """The warnings the real `stmpo bundle` prints for the export, in order."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "stmpo", "bundle", str(export_path), "-o", str(out)]
    done = subprocess.run([*command, *options], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    prefix = "warning: "
    return [line[len(prefix) :] for line in done.stderr.splitlines() if line.startswith(prefix)]


def shown_warnings(tab: Any) -> list[str]:
    return [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]


@pytest.mark.parametrize("case", ["missing-project", "windows-paths"])
def test_the_tab_shows_every_warning_the_cli_gives_for_the_export(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any, case: str
) -> None:

    if case == "missing-project":  # saved nowhere on this computer: the CLI warns
        export_path = make_export(tmp_path, "lost", items=2, footage_frames=1, project=False)
    else:  # footage missing in After Effects, fonts not found, paths of another OS
        export_path = copy_sample("windows_paths.json", tmp_path)
    expected = cli_warnings(export_path, tmp_path / "cli-bundle")
    assert expected
    tab = make_dialog(export_path).job_settings
    assert shown_warnings(tab) == expected
    if case == "missing-project":
        assert any(line.startswith("project file not found on this computer") for line in expected)
    # unchanged by choosing nothing (the tab then says why Submit is disabled)
    tab.select_none_button.click()
    qtbot.wait(300)
    assert shown_warnings(tab) == expected


def test_a_bad_frame_override_blocks_save_bundle_as_with_the_reason(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:

    dialog = make_dialog(make_export(tmp_path, "frames", items=2, footage_frames=1, font=False))
    tab = dialog.job_settings
    assert dialog.export_bundle_button.isEnabled()
    tab.queue_table.item(0, 2).setText("nonsense")
    assert not dialog.export_bundle_button.isEnabled()
    assert "frames of item 1" in dialog.export_bundle_button.toolTip()

    seen: list[str] = []
    answer_next_message_box(seen)
    dialog.on_export_bundle()  # as a click that raced the button's state
    qtbot.waitUntil(lambda: bool(seen))
    (said,) = seen
    assert said.startswith("Save bundle as: The bundle was not saved"), said
    assert "frames of item 1" in said
    # and a fixed override unblocks it
    tab.queue_table.item(0, 2).setText("0-4")
    assert dialog.export_bundle_button.isEnabled(), dialog.export_bundle_button.toolTip()


def test_a_submit_that_raises_outside_the_library_s_own_handling_shows_an_error_dialog(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    """The library reads the queue-parameter widgets before its own `try`: what they raise
    (as dead widgets did, issue 13) must reach the artist, not only stderr."""

    dialog = make_dialog(make_export(tmp_path, "raise", footage_frames=1, font=False))
    deleted = "Internal C++ object (PySide6.QtWidgets.QLineEdit) already deleted."

    def dead_widgets() -> list[Any]:
        raise RuntimeError(deleted)

    dialog.shared_job_settings.get_parameters = dead_widgets
    seen: list[str] = []
    answer_next_message_box(seen)
    dialog.on_submit()  # what the Submit button's click runs
    qtbot.waitUntil(lambda: bool(seen))
    (said,) = seen
    assert said.startswith("Submit failed: The job was not submitted")
    assert deleted in said
    assert dialog.job_id is None


def test_an_override_the_bundle_refuses_blocks_both_buttons_and_marks_the_cell(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    """`0-99999` parses, but the comp has 50 frames: `stmpo bundle` refuses it, so the tab
    does too, in its own words, before any click (issue 13: one source of refusals)."""

    dialog = make_dialog(make_export(tmp_path, "range", items=2, footage_frames=1, font=False))
    tab = dialog.job_settings
    cell = tab.queue_table.item(0, 2)
    cell.setText("0-99999")
    qtbot.waitUntil(lambda: not dialog.export_bundle_button.isEnabled(), timeout=5_000)
    tip = dialog.export_bundle_button.toolTip()
    assert "frames of item 1:" in tip and "--frames" not in tip, tip
    assert "outside the comp" in cell.toolTip()
    assert cell.background().color().red() == 255
    assert "frames of item 1" in " ".join(dialog._invalid_parameter_names())  # Submit's too

    seen: list[str] = []
    answer_next_message_box(seen)
    dialog.on_submit()  # a click before the button's state: nothing is submitted
    qtbot.waitUntil(lambda: bool(seen))
    assert seen[0].startswith("Submit: The job was not submitted"), seen
    assert "frames of item 1" in seen[0]
    cell.setText("0-9")
    qtbot.waitUntil(dialog.export_bundle_button.isEnabled, timeout=5_000)
    assert cell.toolTip() == ""


def test_an_override_of_an_unchecked_item_waits_and_blocks_nothing(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    from stmpo.gui.settings import to_bundle_settings

    dialog = make_dialog(make_export(tmp_path, "unsel", items=2, footage_frames=1, font=False))
    tab = dialog.job_settings
    tab.queue_table.item(1, 2).setText("0-9")
    tab.queue_table.item(1, 0).setCheckState(Qt_unchecked())
    dialog.job_settings.current_blockers()
    assert tab.bundle_refusals == [] and dialog.export_bundle_button.isEnabled()
    settings = settings_of(dialog)
    assert settings.frame_overrides == {2: "0-9"}  # kept for when the item is checked again
    assert to_bundle_settings(settings).frame_overrides == {}


def test_a_saved_override_of_an_item_rendered_since_is_dropped(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """Saved while item 4 could be rendered; the project now has it DONE: its greyed row
    cannot be edited, so a kept override would block every bundle until the file went."""
    import json

    from stmpo.export import load_export
    from stmpo.gui.settings import sticky_path
    from stmpo.locations import examples_dir

    export_path = tmp_path / "several_items.json"
    data = json.loads((examples_dir() / "several_items.json").read_text("utf-8"))
    data["project"]["path"] = str(tmp_path / "several_items.aep")  # its settings land here
    export_path.write_text(json.dumps(data), "utf-8")
    saved = sticky_path(load_export(export_path), export_path)
    assert saved.parent == tmp_path
    saved.write_text(json.dumps({"stmpoStickyVersion": 1, "frame_overrides": {"4": "0-9"}}))
    dialog = make_dialog(export_path)
    tab = dialog.job_settings
    assert tab.frame_overrides() == {}
    assert tab.current_blockers() == []
    assert dialog.export_bundle_button.isEnabled()


def Qt_unchecked() -> Any:
    from PySide6.QtCore import Qt

    return Qt.CheckState.Unchecked
