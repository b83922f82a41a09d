"""The GUI's Submit never makes a second job of one submission (issue 13, "trust the
Submit button"; the project rule "never submit a job twice").

The case: CreateJob took effect but its answer never reached the submitter (a dropped
connection; the local server's `lose_answers`). botocore retries with the same request,
then gives up; the library shows the error and the submitter stays open, so the artist
clicks Submit again. Without a client token of the submitter's own, the library's
CreateJob carries a fresh random one each click and the farm gets the job twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deadline_server import LocalAws
from submit_samples import make_export
from test_gui_submit_wire import (  # noqa: F401 (farm_home is a fixture used below)
    click_submit,
    farm_home,
    open_when_ready,
)

pytestmark = pytest.mark.gui


def new_jobs(aws: LocalAws, before: set[str]) -> list[str]:
    return sorted(set(aws.deadline.state.jobs) - before)


@pytest.mark.usefixtures("farm_home")
def test_submit_again_after_a_lost_answer_returns_the_job_already_made(
    aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    dialog = open_when_ready(qtbot, make_export(tmp_path, "shot", footage_frames=1, font=False))
    before = set(aws.deadline.state.jobs)
    aws.deadline.state.lose_answers("CreateJob")

    progress, seen = click_submit(qtbot, dialog)
    assert dialog.job_id is None, seen  # the artist saw an error...
    made = new_jobs(aws, before)
    assert len(made) == 1  # ...although the farm made the job
    first = aws.deadline.calls("CreateJob")
    assert len(first) >= 2 and all(c.status == 500 for c in first)  # botocore retried
    progress.close()

    aws.deadline.state.clear_faults()
    click_submit(qtbot, dialog)
    assert new_jobs(aws, before) == made, "a second job was created"
    assert dialog.job_id == made[0]
    tokens = {c.params.get("clientToken") for c in aws.deadline.calls("CreateJob")}
    assert len(tokens) == 1 and str(tokens.pop()).startswith("stmpo-gui-")


@pytest.mark.usefixtures("farm_home")
def test_changed_settings_after_a_failure_are_a_new_job(
    aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    """The token follows what is submitted: the artist who changes the job after an error
    gets the changed job, not an answer about the old one (nor a refusal)."""
    dialog = open_when_ready(qtbot, make_export(tmp_path, "shot", footage_frames=1, font=False))
    before = set(aws.deadline.state.jobs)
    aws.deadline.state.lose_answers("CreateJob")
    progress, _ = click_submit(qtbot, dialog)
    progress.close()
    aws.deadline.state.clear_faults()

    dialog.shared_job_settings.shared_job_properties_box.sub_name_edit.setText("shot, take 2")
    click_submit(qtbot, dialog)
    made = new_jobs(aws, before)
    assert len(made) == 2 and dialog.job_id in made
    assert aws.deadline.state.jobs[dialog.job_id].name == "shot, take 2"


@pytest.mark.usefixtures("farm_home")
def test_submit_again_after_a_refusal_is_a_fresh_request(
    aws: LocalAws, qtbot: Any, tmp_path: Path
) -> None:
    """A refused CreateJob (4xx) made no job: the next Submit sends its own request with
    its own token (re-sending the refused one, or its token with new uploads, would only
    be refused again)."""
    dialog = open_when_ready(qtbot, make_export(tmp_path, "shot", footage_frames=1, font=False))
    before = set(aws.deadline.state.jobs)
    aws.deadline.state.fail("CreateJob", "AccessDeniedException", "not yet", times=1)
    progress, _ = click_submit(qtbot, dialog)
    assert dialog.job_id is None and new_jobs(aws, before) == []
    progress.close()

    click_submit(qtbot, dialog)
    assert new_jobs(aws, before) == [dialog.job_id]
    refused, made = aws.deadline.calls("CreateJob")
    assert refused.error_code == "AccessDeniedException" and made.error_code is None
    assert refused.params["clientToken"] != made.params["clientToken"]
