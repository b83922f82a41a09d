"""Small helpers the submitter's offscreen tests share."""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any


def settings_of_tab(tab: Any) -> Any:
    """What the After Effects tab would hand the dialog (and save as sticky) now."""
    from stmpo.gui.settings import AfterEffectsSettings

    settings = AfterEffectsSettings()
    tab.update_settings(settings)
    return settings


def answer_next_message_box(seen: list[str]) -> None:
    """Close the next message box the dialog shows, recording `title: text` (a modal box
    would otherwise wait in its own event loop for a click no test makes)."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    def answer() -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox):
            seen.append(f"{modal.windowTitle()}: {modal.text()}")
            modal.close()
        else:
            QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)


def copy_sample(name: str, folder: Path) -> Path:
    """A shipped sample export in `folder`, its project re-pointed into `folder`.

    The submitter keeps sticky settings beside the project when the project's folder
    exists (gui.settings.sticky_path). The Linux samples name a project under
    /tmp/stmpo-demo/, which exists on a machine where someone made the samples'
    projects: tests sharing that folder would read each other's settings (and two test
    runs at once would trip over each other). Re-pointed, each test has its own: the
    project file is missing, as on a fresh clone, and sticky settings go beside the
    export."""
    from stmpo.locations import examples_dir

    data = json.loads((examples_dir() / name).read_text(encoding="utf-8"))
    project = str(data["project"]["path"])
    if project.startswith("/tmp/stmpo-demo/"):
        data["project"]["path"] = str(folder / "projects" / PurePosixPath(project).name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / PurePosixPath(name).name
    target.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return target


def save_bundle_as(qtbot: Any, dialog: Any, out: Path, name: str = "ae_bundle") -> list[str]:
    """Click through the library's Save bundle as dialog into `out`; the texts of the
    boxes that follow (the result, why nothing was saved, what was not), in order."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    boxes: list[str] = []
    running = [True]

    def answer() -> None:
        if not running[0]:  # a timer left from this call must not answer the next one
            return
        modal = QApplication.activeModalWidget()
        if modal is not None and hasattr(modal, "_name_edit"):
            modal._radio_local.setChecked(True)
            modal._name_edit.setText(name)
            modal._location_edit.setText(str(out))
            modal._export_button.click()
        elif modal is not None:
            boxes.append(modal.text())
            modal.accept()
        QTimer.singleShot(50, answer)

    QTimer.singleShot(50, answer)
    try:
        dialog.on_export_bundle()
    finally:
        running[0] = False
    return boxes
