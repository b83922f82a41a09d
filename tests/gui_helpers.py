"""Small helpers the submitter's offscreen tests share."""

from __future__ import annotations

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
