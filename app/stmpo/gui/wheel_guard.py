"""The mouse wheel scrolls the tab; it changes a control only once the artist focused it.

Without this, scrolling the After Effects tab over a spin box, combo box or slider changed
its value on the way past (RAM per process, spawn delay, the profile), and the next
Submit saved that as a sticky setting (issue 13). A guarded control takes focus by click
or Tab only (`StrongFocus`, not `WheelFocus`); a wheel event that reaches it without
focus is handed to the scroll area around it instead.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSlider,
    QAbstractSpinBox,
    QComboBox,
    QScrollBar,
    QWidget,
)

#: The controls whose value the wheel changes.
GUARDED = (QAbstractSpinBox, QComboBox, QAbstractSlider)


class WheelGuard(QObject):
    """An event filter: wheel events on an unfocused control go to its scroll area."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget):
            return False
        if watched.hasFocus():
            return False  # the artist is working this control: the wheel is theirs
        area = scroll_area_of(watched)
        if area is not None:
            QCoreApplication.sendEvent(area.viewport(), event)
        return True  # never the control's own wheelEvent


def scroll_area_of(widget: QWidget) -> QAbstractScrollArea | None:
    """The nearest scroll area around `widget` that is not the control itself."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QAbstractScrollArea) and not isinstance(parent, GUARDED):
            return parent
        parent = parent.parentWidget()
    return None


def guard_wheel(root: QWidget, guard: WheelGuard | None = None) -> WheelGuard:
    """Guard every wheel-driven control under `root` (again after `root` made new ones:
    pass the same `guard`); a new guard lives as long as `root`."""
    guard = guard or WheelGuard(root)
    for control in root.findChildren(QWidget):
        # A scroll bar is how a scroll area takes the wheel (its viewport hands the event
        # on to it): it holds no setting, and guarding it would hand the event back.
        if isinstance(control, GUARDED) and not isinstance(control, QScrollBar):
            control.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
            control.installEventFilter(guard)
    return guard
