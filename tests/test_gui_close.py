"""Escape and the window's close button do not throw an artist's changes away unasked
(sticky settings are saved only by Submit and Save bundle as); a close with nothing
changed, or by the program, closes at once."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import copy_sample, save_bundle_as

pytestmark = pytest.mark.gui


def answer_close_box(button_text: str, seen: list[str]) -> None:
    """Click `button_text` in the next message box (it runs its own event loop)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def answer() -> None:
        modal = QApplication.activeModalWidget()
        if not isinstance(modal, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append(modal.windowTitle())
        [button] = [b for b in modal.buttons() if b.text() == button_text]
        button.click()

    QTimer.singleShot(20, answer)


def press_escape(dialog: Any) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest

    QTest.keyClick(dialog, Qt.Key.Key_Escape)


def test_escape_closes_an_untouched_submitter_at_once(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    dialog = make_dialog(copy_sample("several_items.json", tmp_path))
    qtbot.waitExposed(dialog)
    assert not dialog.unsaved_changes()
    press_escape(dialog)
    assert not dialog.isVisible()


def test_escape_asks_before_throwing_changes_away(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    dialog = make_dialog(copy_sample("several_items.json", tmp_path))
    qtbot.waitExposed(dialog)
    dialog.job_settings.chunk_size.setValue(7)
    assert dialog.unsaved_changes()
    seen: list[str] = []
    answer_close_box("Keep editing", seen)
    press_escape(dialog)
    assert seen == ["Close the submitter?"]
    assert dialog.isVisible() and dialog.job_settings.chunk_size.value() == 7
    answer_close_box("Close without saving", seen)
    press_escape(dialog)
    assert seen == ["Close the submitter?"] * 2
    assert not dialog.isVisible()


def test_the_close_button_asks_too_but_a_close_by_the_program_does_not(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    from PySide6.QtCore import QCoreApplication

    dialog = make_dialog(copy_sample("several_items.json", tmp_path))
    qtbot.waitExposed(dialog)
    dialog.job_settings.chunk_size.setValue(7)
    seen: list[str] = []
    answer_close_box("Keep editing", seen)
    dialog.windowHandle().close()  # the title bar's button: Qt's own close, not ours
    QCoreApplication.processEvents()
    assert seen == ["Close the submitter?"] and dialog.isVisible()
    dialog.close()  # the program's own close: no question
    assert seen == ["Close the submitter?"] and not dialog.isVisible()


def test_a_saved_bundle_keeps_the_changes_so_escape_closes_at_once(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    from deadline.client.config import set_setting

    out = tmp_path / "bundles"
    out.mkdir()
    set_setting("settings.job_bundle_default_directory", str(out))
    dialog = make_dialog(copy_sample("several_items.json", tmp_path))
    qtbot.waitExposed(dialog)
    dialog.job_settings.chunk_size.setValue(7)

    save_bundle_as(qtbot, dialog, out, "kept")
    assert (out / "kept" / "template.yaml").is_file()
    assert not dialog.unsaved_changes()
    press_escape(dialog)
    assert not dialog.isVisible()


def test_a_bundle_saved_without_its_settings_still_asks(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    """The settings file could not be written (a folder in its place): the changes are
    not kept, so Escape still asks."""
    from deadline.client.config import set_setting
    from stmpo.export import load_export
    from stmpo.gui.settings import sticky_path

    out = tmp_path / "bundles"
    out.mkdir()
    set_setting("settings.job_bundle_default_directory", str(out))
    export_path = copy_sample("several_items.json", tmp_path)
    sticky_path(load_export(export_path), export_path).mkdir()
    dialog = make_dialog(export_path)
    qtbot.waitExposed(dialog)
    dialog.job_settings.chunk_size.setValue(7)

    boxes = save_bundle_as(qtbot, dialog, out, "unkept")
    assert (out / "unkept" / "template.yaml").is_file()
    assert len(boxes) == 2  # "Bundle saved to", then why the settings were not
    assert dialog.job_settings.save_notice
    assert dialog.unsaved_changes()


def test_shown_again_after_escape_it_asks_again(
    make_dialog: Callable[[Path], Any], tmp_path: Path, qtbot: Any
) -> None:
    """Escape hides the dialog without a close event: the next close, once shown again,
    is the artist's to decide as before."""
    from PySide6.QtCore import QCoreApplication

    dialog = make_dialog(copy_sample("several_items.json", tmp_path))
    qtbot.waitExposed(dialog)
    press_escape(dialog)
    assert not dialog.isVisible()
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.job_settings.chunk_size.setValue(7)
    seen: list[str] = []
    answer_close_box("Keep editing", seen)
    dialog.windowHandle().close()
    QCoreApplication.processEvents()
    assert seen == ["Close the submitter?"] and dialog.isVisible()


def test_a_closed_submitter_is_freed_when_its_last_reference_goes(
    qtbot: Any, gui_home: Path, tmp_path: Path
) -> None:
    """No reference cycle keeps a window: one that only a garbage collection frees is
    deleted at whatever moment the collector runs, under whatever runs then (a crash seen
    mid-submission of the next window in test_gui_submit_repeat.py, twenty launches)."""
    import gc
    import weakref

    from PySide6.QtCore import QCoreApplication
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog

    export_path = copy_sample("several_items.json", tmp_path)
    gc.collect()
    gc.disable()
    try:
        dialog = build_dialog(load_export(export_path), str(export_path))
        qtbot.addWidget(dialog)  # pytest-qt keeps a weak reference only
        dialog.show()
        qtbot.waitExposed(dialog)
        dialog.job_settings.chunk_size.setValue(3)  # a preview, a check scheduled
        qtbot.wait(300)  # the debounced check runs on its thread and answers
        dialog.close()
        for _ in range(10):
            QCoreApplication.processEvents()
        freed = weakref.ref(dialog)
        del dialog
        QCoreApplication.processEvents()
        assert freed() is None, [type(r) for r in gc.get_referrers(freed())][:5]
    finally:
        gc.enable()
