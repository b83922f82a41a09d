"""The Qt submitter's Submit button through the real wire path.

The deadline library's own dialog runs in-process, offscreen, against the local Deadline
Cloud server and moto (S3/STS): it probes the login, lists farms, queues, storage
profiles and queue environments, and on Submit its own progress dialog hashes, uploads
and calls CreateJob. Nothing in that path is patched; the test only answers the modal
prompts a user would answer, then reads what the servers received.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import xxhash
import yaml
from deadline_server import LocalAws
from submit_samples import make_export

pytestmark = [pytest.mark.gui, pytest.mark.slow]

#: Generous: two cores shared with other sessions; waitUntil returns as soon as it holds.
WAIT_MS = 30_000


def reset_deadline_library() -> None:
    """Drop the library's per-process boto3 sessions/clients and its UI controller.

    They are cached for the life of the process; a session built for another test's HOME
    or endpoints would otherwise be reused here (and ours leak into later tests).
    """
    from deadline.client.api import _session

    _session.invalidate_boto3_session_cache()
    _session.get_session_client.cache_clear()
    from deadline.client.ui.controllers import DeadlineUIController

    DeadlineUIController.resetInstance()


def settle_authentication_status(qtbot: Any) -> Any:
    """Make the library's status singleton re-read config and credentials, and wait for it.

    It is built when the dialog module is first imported, possibly by an earlier test with
    another HOME; its probes run on threads, so wait until they have answered.
    """
    from deadline.client.ui.deadline_authentication_status import DeadlineAuthenticationStatus

    status = DeadlineAuthenticationStatus.getInstance()
    status.set_config(None)
    status.refresh_status()
    qtbot.waitUntil(lambda: status.api_availability is not None, timeout=WAIT_MS)
    return status


@pytest.fixture
def farm_home(
    aws: LocalAws, tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """This process pointed at the local servers, with a HOME naming the farm and queue.

    The environment is exactly `LocalAws.client_env` (what a `stmpo submit` subprocess
    gets). On the way out the library is left as a process without credentials finds it,
    so later Qt tests in this process see the "not logged in" state they expect.
    """
    from stmpo.gui.app import ensure_application

    ensure_application()  # before the dialog module builds its status singleton
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)  # the library watches it
    env = aws.client_env(home)
    with monkeypatch.context() as patch:
        for name in list(os.environ):
            if name not in env:
                patch.delenv(name)
        for name, value in env.items():
            patch.setenv(name, value)
        reset_deadline_library()
        settle_authentication_status(qtbot)
        yield home
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            patch.delenv(name)  # no credentials: the probe fails before any request
        reset_deadline_library()
        settle_authentication_status(qtbot)
        reset_deadline_library()


def answer_modals(seen: list[str]) -> Callable[[], None]:
    """Answer every modal prompt like a user until stopped, recording what each said.

    The library asks through its `_JobSumissionWarningDialog` (approve the upload) and
    reports failures in message boxes; a message box is closed so the test fails on its
    assertions instead of hanging in a nested event loop.
    """
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

    running = [True]

    def poll() -> None:
        if not running[0]:
            return
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox):
            seen.append(f"message box: {modal.text()}")
            modal.close()
        elif isinstance(modal, QDialog) and type(modal).__name__ == "_JobSumissionWarningDialog":
            seen.append(f"confirmation: {modal.message}")  # type: ignore[attr-defined]
            modal.accept()
        QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)

    def stop() -> None:
        running[0] = False

    return stop


def progress_dialog(dialog: Any) -> Any:
    from deadline.client.ui.dialogs.submit_job_progress_dialog import SubmitJobProgressDialog

    found = dialog.findChildren(SubmitJobProgressDialog)
    return found[-1] if found else None


def submission_finished(dialog: Any, seen: list[str]) -> bool:
    """Done either way: the job id is recorded, or an error was shown (log or message box)."""
    progress = progress_dialog(dialog)
    failed = progress is not None and "Error occurred" in progress.submission_log.toPlainText()
    boxed = any(text.startswith("message box:") for text in seen)
    return dialog.job_id is not None or failed or boxed


def open_when_ready(qtbot: Any, export_path: Path) -> Any:
    """The submitter on `export_path`, once the library says the API is there."""
    from deadline.client.ui.deadline_authentication_status import DeadlineAuthenticationStatus
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog

    dialog = build_dialog(load_export(export_path), str(export_path))
    qtbot.addWidget(dialog)
    dialog.show()
    # the library's own login probe (ListFarms) says the API is there, and it enables Submit
    status = DeadlineAuthenticationStatus.getInstance()
    qtbot.waitUntil(lambda: status.api_availability is True, timeout=WAIT_MS)
    qtbot.waitUntil(dialog.submit_button.isEnabled, timeout=WAIT_MS)
    return dialog


def click_submit(qtbot: Any, dialog: Any) -> tuple[Any, list[str]]:
    """Click Submit, approve what the library asks, wait until it has finished either way."""
    seen: list[str] = []
    stop = answer_modals(seen)
    try:
        dialog.submit_button.click()
        qtbot.waitUntil(lambda: submission_finished(dialog, seen), timeout=WAIT_MS)
    finally:
        stop()
    progress = progress_dialog(dialog)
    assert progress is not None, seen
    # its worker thread must be gone before Qt may delete the dialog that owns it
    qtbot.waitUntil(progress._worker.isFinished, timeout=WAIT_MS)
    return progress, seen


def test_submit_button_uploads_the_project_and_creates_the_chosen_job(
    farm_home: Path, aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    from deadline.client.config import get_setting
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QDialogButtonBox
    from stmpo.export import load_export

    export_path = make_export(tmp_path, "spot", items=3, footage_frames=2, font=False)
    export = load_export(export_path)
    dialog = open_when_ready(qtbot, export_path)

    # the artist picks items 1 and 3 and the Farm profile; Submit follows the tab's validity
    tab = dialog.job_settings
    tab.select_none_button.click()
    assert not dialog.submit_button.isEnabled()
    assert "render queue selection (nothing selected)" in dialog.submit_button.toolTip()
    chosen = [export.render_queue[0], export.render_queue[2]]
    for item in chosen:
        tab.queue_table.item(export.render_queue.index(item), 0).setCheckState(
            Qt.CheckState.Checked
        )
        assert dialog.submit_button.isEnabled(), dialog.submit_button.toolTip()
    frames = tab.queue_table.item(0, 2)
    frames.setText("nonsense")
    assert not dialog.submit_button.isEnabled()
    assert "frames of item 1" in dialog.submit_button.toolTip()
    frames.setText("0-99")
    tab.profile_combo.setCurrentText("Farm")
    assert tab.selected_items() == [1, 3]
    assert dialog.submit_button.isEnabled(), dialog.submit_button.toolTip()

    progress, seen = click_submit(qtbot, dialog)
    assert dialog.job_id, (seen, progress.submission_log.toPlainText())

    # every request the dialog made was one the service answers, and none failed
    calls = aws.deadline.calls()
    assert [c.operation for c in calls if c.error_code] == []
    operations = {c.operation for c in calls}
    assert {"ListFarms", "ListQueues", "GetQueue", "AssumeQueueRoleForUser"} <= operations

    # CreateJob: once, one step per chosen item, the Farm profile's values
    (create,) = aws.deadline.calls("CreateJob")
    job_id = create.response["jobId"]
    assert create.params["farmId"] == aws.farm_id and create.params["queueId"] == aws.queue_id
    body = create.body
    template = yaml.safe_load(body["template"])
    assert len(template["steps"]) == len(chosen)
    # the Host requirements tab left at "all available workers": the default stays
    os_family = {"name": "attr.worker.os.family", "anyOf": ["windows", "macos"]}
    assert [s["hostRequirements"] for s in template["steps"]] == [{"attributes": [os_family]}] * 2
    assert template["name"] == "spot (2 items)"  # the Job name field, as the CLI names it
    parameters = body["parameters"]
    assert parameters["DisableMFR"] == {"string": "true"}
    assert parameters["MaxConcurrency"] == {"int": "32"}
    assert float(parameters["RamPerProcessGB"]["float"]) == 24.0
    assert parameters["ProjectFile"] == {"path": export.project.path}
    # the queue's conda environment field, prefilled from the exporting AE (24.6.2)
    assert parameters["CondaPackages"] == {"string": "aftereffects=24.6"}

    # the upload was approved once, and only the chosen items' outputs are declared
    base = tmp_path / "spot"
    (confirmation,) = seen
    assert confirmation.startswith("confirmation: Approval for Job Attachment S3 transfers")
    (manifest_ref,) = body["attachments"]["manifests"]
    outputs = {
        str(Path(manifest_ref["rootPath"], d)) for d in manifest_ref["outputRelativeDirectories"]
    }
    assert outputs == {str(base / "renders" / f"item{i}") for i in (1, 3)}

    # the project and its footage reached the bucket, content-addressed by xxh128
    objects = aws.objects(aws.root_prefix + "/")
    for path in [Path(export.project.path), base / "logo.png", *base.glob("plates/*.exr")]:
        content = path.read_bytes()
        key = f"{aws.root_prefix}/Data/{xxhash.xxh3_128_hexdigest(content)}.xxh128"
        assert objects.get(key) == content, path

    # the dialog and the library's config recorded the job; OK closes the submitter
    assert dialog.job_id == job_id
    assert get_setting("defaults.job_id") == job_id
    assert progress.status_label.text() == "Submission complete"
    progress.button_box.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)


def test_the_host_requirements_tab_replaces_the_default_requirement(
    farm_home: Path, aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    from deadline.client.ui.dataclasses import HostRequirements, OsRequirements

    dialog = open_when_ready(qtbot, make_export(tmp_path, "hr", footage_frames=1, font=False))
    dialog.host_requirements.set_requirements(
        HostRequirements(os_requirements=OsRequirements(["windows"], ["x86_64"]))
    )
    chosen = dialog.host_requirements.get_requirements()
    assert chosen is not None

    progress, seen = click_submit(qtbot, dialog)
    assert dialog.job_id, (seen, progress.submission_log.toPlainText())
    (create,) = aws.deadline.calls("CreateJob")
    template = yaml.safe_load(create.body["template"])
    assert [s["hostRequirements"] for s in template["steps"]] == [chosen]
    os_attribute = next(a for a in chosen["attributes"] if a["name"] == "attr.worker.os.family")
    assert os_attribute["anyOf"] == ["windows"]
    # the tab replaces the requirement only: every action keeps its timeout
    (step,) = template["steps"]
    assert step["script"]["actions"]["onRun"]["timeout"] == 172_800
    env_actions = template["jobEnvironments"][0]["script"]["actions"].values()
    assert [action["timeout"] for action in env_actions] == [600, 600]


def test_a_refused_create_job_is_reported_and_records_no_job(
    farm_home: Path, aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    from deadline.client.config import get_setting
    from PySide6.QtWidgets import QDialogButtonBox

    dialog = open_when_ready(qtbot, make_export(tmp_path, "shot", footage_frames=1, font=False))
    jobs_before = set(aws.deadline.state.jobs)
    aws.deadline.state.fail("CreateJob", "AccessDeniedException", "not for you")

    progress, seen = click_submit(qtbot, dialog)
    assert dialog.job_id is None
    assert "not for you" in progress.submission_log.toPlainText(), seen
    assert [c.error_code for c in aws.deadline.calls("CreateJob")] == ["AccessDeniedException"]
    assert set(aws.deadline.state.jobs) == jobs_before
    assert not get_setting("defaults.job_id")
    # the artist can only close the progress window; the submitter stays open to retry
    buttons = progress.button_box
    close = buttons.button(QDialogButtonBox.StandardButton.Close)
    assert close is not None and buttons.button(QDialogButtonBox.StandardButton.Ok) is None
    close.click()
    qtbot.waitUntil(lambda: not progress.isVisible(), timeout=WAIT_MS)
    assert dialog.isVisible() and dialog.submit_button.isEnabled()


def test_only_auto_detected_paths_of_unchosen_items_are_dropped() -> None:
    from deadline.client.job_bundle.submission import AssetReferences
    from stmpo.bundle.assets import AssetRefs
    from stmpo.gui.app import without_unchosen_items

    detected = AssetReferences(
        input_filenames={"/p/shot.aep"}, output_directories={"/r/item1", "/r/item2"}
    )
    in_dialog = AssetReferences(
        input_filenames={"/p/shot.aep", "/p/extra.mov"},
        output_directories={"/r/item1", "/r/item2", "/r/by-hand"},
    )
    chosen = AssetRefs(input_filenames=("/p/shot.aep",), output_directories=("/r/item1",))
    kept = without_unchosen_items(in_dialog, detected, chosen)
    assert set(kept.input_filenames) == {"/p/shot.aep", "/p/extra.mov"}
    assert set(kept.output_directories) == {"/r/item1", "/r/by-hand"}
