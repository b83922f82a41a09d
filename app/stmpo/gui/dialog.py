"""The deadline library's submitter dialog, made to end every Submit in a visible outcome.

Issue 13: on a farm whose conda queue environment groups its parameters, Submit did
nothing visible in 3 of 6 launches; stderr had `RuntimeError: Internal C++ object
(PySide6.QtWidgets.QLineEdit) already deleted`. Cause, in the library's
`OpenJDParametersWidget.rebuild_ui` (deadline.client.ui.widgets.openjd_parameters_widget):
it removes the old controls with `deleteLater()` and then looks up each parameter's group
box with `findChild(_JobTemplateGroupLayout, groupLabel)`. When the login probe makes the
dialog reload the queue environments while they are loading, two rebuilds run before Qt
deletes anything: the second finds the first one's doomed group box, puts its new
controls in it, and they are deleted with it. `on_submit` then calls `get_parameters()`
outside its own `try`, so the error went to stderr only.

The work-arounds, each small: a doomed group box loses its name before a rebuild (so it
is never found again); Submit waits while the queue environments load (disabled, with
the reason); and anything Submit raises is shown in an error dialog.
"""

from __future__ import annotations

import dataclasses
import logging
import weakref
from typing import Any

from deadline.client.ui.controllers import DeadlineUIController
from deadline.client.ui.dialogs.submit_job_to_deadline_dialog import SubmitJobToDeadlineDialog
from deadline.client.ui.widgets.openjd_parameters_widget import (
    OpenJDParametersWidget,
    _JobTemplateGroupLayout,
)
from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeyEvent, QShowEvent
from PySide6.QtWidgets import QLineEdit, QMessageBox

from stmpo.bundle.template import default_job_name
from stmpo.gui.settings import sticky_values
from stmpo.gui.submit_token import SubmitToken
from stmpo.gui.wheel_guard import guard_wheel

_logger = logging.getLogger(__name__)

#: The job-specific tab's name: it is where an artist starts (issue 13).
AE_TAB_NAME = "After Effects"
#: Of the screen's available height the window may take when opening.
SCREEN_SHARE = 0.9

BLOCKED_JOIN = "\n\u2022 "

#: Said on the Submit button while the queue environments load.
LOADING_REASON = (
    "The queue's environments are still loading; Submit and Save bundle as are enabled "
    "once they have."
)


def unname_group_boxes(box: OpenJDParametersWidget) -> None:
    """Hide the current group boxes from the next rebuild's `findChild` by name."""
    for group in box.findChildren(_JobTemplateGroupLayout):
        group.setObjectName("")


def guard_rebuilds(box: OpenJDParametersWidget) -> None:
    """Every rebuild of `box` starts from group boxes nobody can find by label, and its
    new controls take the wheel only once focused (wheel_guard.py)."""
    rebuild = box.rebuild_ui
    wheel = guard_wheel(box)

    def rebuild_ui(**kwargs: Any) -> None:
        unname_group_boxes(box)
        rebuild(**kwargs)
        guard_wheel(box, wheel)

    box.rebuild_ui = rebuild_ui  # type: ignore[method-assign]


def submitted_text(job_id: str, farm_id: str, queue_id: str) -> str:
    """What the progress dialog adds once CreateJob answered: the id and where to find it."""
    return (
        f"Submitted job {job_id} to farm {farm_id}, queue {queue_id}.\n"
        "Open it in the Deadline Cloud monitor (that farm and queue, then search for the "
        f"job id), or run: deadline job get --job-id {job_id}"
    )


def queue_loading(dialog: SubmitJobToDeadlineDialog) -> bool:
    """Is the queue-parameter box showing a loading (or reloading) message?"""
    return bool(dialog.shared_job_settings.queue_parameters_box.async_loading_state)


class StmpoSubmitDialog(SubmitJobToDeadlineDialog):
    """`SubmitJobToDeadlineDialog` whose Submit always ends in a job id or an error dialog."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        callback = kwargs.get("on_create_job_bundle_callback")
        if callback is not None:  # a bundle written saves the settings: nothing unsaved
            # A weak reference: the dialog keeps this callback, and a callback holding the
            # dialog would make a cycle that only a garbage collection frees - at any later
            # moment, deleting the window's C++ objects under whatever runs then (a crash
            # seen mid-submission of the next window, test_gui_submit_repeat.py).
            me = weakref.ref(self)

            def saving(*call_args: Any, **call_kwargs: Any) -> Any:
                answer = callback(*call_args, **call_kwargs)
                dialog = me()
                if dialog is not None and not dialog.job_settings.save_notice:  # saved
                    dialog._kept = dialog.sticky_values()
                return answer

            kwargs["on_create_job_bundle_callback"] = saving
        super().__init__(*args, **kwargs)
        guard_rebuilds(self.shared_job_settings.queue_parameters_box)
        # The library's tabs (shared job settings: priority, retries... all sticky) scroll
        # with the wheel but change only a focused control, as the After Effects tab does.
        self._wheel_guard = guard_wheel(self)
        # After the settings tab's own handler (also queued): the box says "loading" by then.
        controller = DeadlineUIController.getInstance()
        controller.queue_parameters_loading.connect(
            self._on_queue_loading, Qt.ConnectionType.QueuedConnection
        )
        # The preview's worker shape and measured time follow the farm and queue chosen.
        controller.selection_changed.connect(
            self.job_settings.farm_selection_changed, Qt.ConnectionType.QueuedConnection
        )
        # The job's name follows the items chosen as `stmpo bundle` names it, until the
        # artist types one of their own.
        export = self.job_settings.export
        self._auto_name = default_job_name(export, len(export.renderable_items))
        self.job_settings.items_chosen.connect(self._follow_item_count)
        self._follow_item_count(len(self.job_settings.selected_items()))  # saved choice
        self._set_submit_button_state()
        #: CreateJob's client token for this window's submissions (submit_token.py).
        self.create_job_token = SubmitToken()
        self.destroyed.connect(self.create_job_token.release)
        tab = self.tabs.indexOf(self.job_settings_tab)
        self.tabs.setTabText(tab, AE_TAB_NAME)
        self.tabs.setCurrentIndex(tab)
        self.resize(self.sizeHint())
        #: The sticky settings as opened or last saved: Escape or the window's close
        #: button asks before throwing away changes made since (sticky settings are saved
        #: only by Submit and Save bundle as).
        self._kept = self.sticky_values()
        self._closing = False  # a close already decided (asked, or the program's)

    def current_settings(self) -> Any:
        """The settings as the library's Submit and Save bundle as read them now."""
        settings = self.job_settings_type()
        self.shared_job_settings.update_settings(settings)
        self.job_settings.update_settings(settings)
        return settings

    def sticky_values(self) -> dict[str, Any]:
        """What Submit or Save bundle as would save beside the project now."""
        return sticky_values(self.current_settings())

    def unsaved_changes(self) -> bool:
        return self.sticky_values() != self._kept

    def may_close(self) -> bool:
        """True when nothing changed since opening or saving, or the artist says close."""
        if not self.unsaved_changes():
            return True
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Close the submitter?")
        box.setText(
            "Your changes to the settings are not kept: they are saved beside the project "
            "only when you submit or save the bundle."
        )
        close = box.addButton("Close without saving", QMessageBox.ButtonRole.DestructiveRole)
        keep = box.addButton("Keep editing", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        return box.clickedButton() is close

    def close(self) -> bool:
        """The program's own close (the library's after a submission, a test's): no
        question. (QWidget.close is not virtual: the window system's close, the title
        bar's button, does not come through here.)"""
        self._closing = True
        return super().close()

    def showEvent(self, event: QShowEvent) -> None:
        """Shown (again): the next close is the artist's to decide once more (Escape
        hides the dialog without a close event)."""
        self._closing = False
        super().showEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Escape closes a dialog: not with an artist's changes, unasked."""
        if event.key() == Qt.Key.Key_Escape:
            if not self.may_close():
                event.accept()
                return
            self._closing = True
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """The window's close button asks as Escape does."""
        if not self._closing and not self.may_close():
            event.ignore()
            return
        self._closing = False
        super().closeEvent(event)

    def job_name_edit(self) -> QLineEdit:
        return self.shared_job_settings.shared_job_properties_box.sub_name_edit

    def _follow_item_count(self, count: int) -> None:
        edit = self.job_name_edit()
        name = default_job_name(self.job_settings.export, count)
        if edit.text() == self._auto_name:
            edit.setText(name)
        self._auto_name = name

    def sizeHint(self) -> QSize:
        """Wide and tall enough for the After Effects tab, within the screen.

        The library's fixed 540 x 700 cut the tab in half; our tab knows its own size.
        """
        base = super().sizeHint()
        content = self.job_settings.sizeHint()
        scrollbar = self.job_settings_tab.verticalScrollBar().sizeHint().width()
        chrome = self.tabs.tabBar().sizeHint().height() + self.button_box.sizeHint().height()
        chrome += self.auth_status_box.sizeHint().height() + 60  # margins, frames, spacing
        wanted = QSize(
            max(base.width(), content.width() + scrollbar + 40),
            max(base.height(), content.height() + chrome),
        )
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return wanted
        room = screen.availableGeometry()
        return QSize(
            min(wanted.width(), room.width()),
            min(wanted.height(), int(room.height() * SCREEN_SHARE)),
        )

    def _on_queue_loading(self, _loading: bool) -> None:
        self._set_submit_button_state()

    def tab_blockers(self, *, now: bool = False) -> list[str]:
        """What in the After Effects tab stops a bundle: `stmpo bundle` would refuse it.
        `now`: check the bundle at once (a click), not the debounced check's last answer."""
        if now:
            return list(self.job_settings.current_blockers())
        return list(self.job_settings.invalid_parameter_names())

    def _set_submit_button_state(self) -> None:
        super()._set_submit_button_state()
        # "Save bundle as" writes the same bundle Submit would: the same tab blockers stop
        # it (a rejected frame override used to be dropped silently from the saved bundle).
        blockers = self.tab_blockers()
        if queue_loading(self):  # the saved bundle would lack the queue's parameters
            blockers.append(LOADING_REASON)
        self.export_bundle_button.setEnabled(not blockers)
        self.export_bundle_button.setToolTip(
            f"Cannot save the bundle:\n\n\u2022 {BLOCKED_JOIN.join(blockers)}" if blockers else ""
        )
        if queue_loading(self) and self.submit_button.isEnabled():
            self.submit_button.setEnabled(False)
            self.submit_button.setToolTip(f"Cannot submit job:\n\n\u2022 {LOADING_REASON}")

    def _disarm_when_progress_closes(self) -> None:
        from deadline.client.ui.dialogs.submit_job_progress_dialog import (
            SubmitJobProgressDialog,
        )

        progress = self.findChildren(SubmitJobProgressDialog)
        if not progress or not progress[-1].isVisible():  # ended inside on_submit
            self.create_job_token.disarm()
            return
        progress[-1].progress_window_closed.connect(self.create_job_token.disarm)

    def submission_content(self) -> dict[str, Any]:
        """What this Submit sends, as the library's `on_submit` reads it: the same content
        gets the same CreateJob token, so a retry returns the job already made."""
        from deadline.client.config import get_setting

        settings = self.current_settings()
        data = {k: v for k, v in dataclasses.asdict(settings).items() if k != "notices"}
        references = self.job_attachments.get_asset_references()
        return {
            "farm": get_setting("defaults.farm_id"),
            "queue": get_setting("defaults.queue_id"),
            "settings": data,
            "queue_parameters": self.shared_job_settings.get_parameters(),
            "inputs": sorted(references.input_filenames),
            "input_directories": sorted(references.input_directories),
            "outputs": sorted(references.output_directories),
            "host_requirements": self.host_requirements.get_requirements()
            if self.show_host_requirements_tab
            else None,
        }

    def _submission_succeeded_signal_receiver(self, job_id: str) -> None:
        super()._submission_succeeded_signal_receiver(job_id)
        from deadline.client.config import get_setting
        from deadline.client.ui.dialogs.submit_job_progress_dialog import (
            SubmitJobProgressDialog,
        )

        progress = self.findChildren(SubmitJobProgressDialog)
        if progress:
            text = submitted_text(
                job_id, get_setting("defaults.farm_id"), get_setting("defaults.queue_id")
            )
            progress[-1].submission_log.append(text)
            if self.job_settings.save_notice:  # the outcome the artist reads; job made anyway
                progress[-1].submission_log.append(self.job_settings.save_notice)

    def on_export_bundle(self) -> None:
        """The library's "Save bundle as", unless the tab holds a value the bundle refuses;
        then a box when the settings could not be saved beside the project, the first
        time for each reason (it stays in the tab's Warnings): the library's own box says
        only "Bundle saved to"."""
        blockers = self.tab_blockers(now=True)
        if queue_loading(self):
            blockers.append(LOADING_REASON)
        if blockers:  # a click that raced the button's state: say why, write nothing
            QMessageBox.warning(
                self,
                "Save bundle as",
                f"The bundle was not saved:\n\n\u2022 {BLOCKED_JOIN.join(blockers)}",
            )
            return
        before = self.job_settings.save_notice
        super().on_export_bundle()
        notice = self.job_settings.save_notice
        if notice and notice != before:  # after the library's "Bundle saved to": once
            QMessageBox.warning(self, "Save bundle as", f"The bundle was saved.\n\n{notice}")

    def on_submit(self) -> None:
        """The library's Submit; whatever it raises becomes an error dialog, not stderr."""
        if queue_loading(self):  # a click queued before the button was disabled
            QMessageBox.information(self, "Submit", LOADING_REASON)
            return
        blockers = self.tab_blockers(now=True)
        if blockers:  # a click that raced the debounced check: say why, submit nothing
            QMessageBox.warning(
                self,
                "Submit",
                f"The job was not submitted:\n\n\u2022 {BLOCKED_JOIN.join(blockers)}",
            )
            self._set_submit_button_state()
            return
        try:
            self.create_job_token.arm(self.submission_content())
            super().on_submit()
            self._disarm_when_progress_closes()
        except Exception as exc:  # the artist must see every failure
            _logger.exception("Submit failed")
            QMessageBox.critical(
                self,
                "Submit failed",
                f"The job was not submitted:\n\n{type(exc).__name__}: {exc}",
            )
