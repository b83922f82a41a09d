"""The `stmpo submit` summary table through the real CLI and the local Deadline Cloud
server: a row says what happened to its export in this run."""

from __future__ import annotations

from pathlib import Path

import pytest
from deadline_server import LocalAws
from submit_samples import make_export
from test_submit_wire import no_traceback, run_submit

pytestmark = pytest.mark.slow


def row(stdout: str, name: str) -> str:
    (line,) = [ln for ln in stdout.splitlines() if ln.startswith(name + " ")]
    return " ".join(line.split())


def test_a_skipped_row_says_it_was_already_submitted_and_uploaded_nothing(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=1)
    report, home = tmp_path / "report.json", tmp_path / "home"
    first = run_submit(aws, home, export, "--report", report)
    no_traceback(first)
    assert first.returncode == 0, first.stderr
    (create,) = aws.deadline.calls("CreateJob")
    job_id = create.response["jobId"]
    assert row(first.stdout, "shot.json").startswith(f"shot.json ok {job_id}; uploads ")

    again = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    assert row(again.stdout, "shot.json") == (
        f"shot.json skipped already submitted as {job_id}; nothing uploaded"
    )
    assert "uploads -" not in again.stdout


def test_a_recovered_row_says_the_interrupted_run_uploaded_its_files(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    report, home = tmp_path / "report.json", tmp_path / "home"
    aws.deadline.state.fail("GetJob", "AccessDeniedException", "no GetJob for you", times=1)
    first = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    assert first.returncode == 1
    again = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    job_id = aws.deadline.calls("CreateJob")[0].response["jobId"]
    assert row(again.stdout, "shot.json") == (
        f"shot.json recovered {job_id}; nothing uploaded (the interrupted run uploaded its files)"
    )
