"""The `stmpo submit` summary table through the real CLI and the local Deadline Cloud
server: a row says what happened to its export in this run."""

from __future__ import annotations

import json
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


def _counts(stderr: str) -> tuple[int, int]:
    """(the files "bundle validated; uploads N files" counts, the "uploading N files")."""
    validated = [ln for ln in stderr.splitlines() if "bundle validated; uploads " in ln]
    uploading = [ln for ln in stderr.splitlines() if ": uploading " in ln]
    (counted,) = [int(ln.split("uploads ", 1)[1].split()[0]) for ln in validated]
    (sent,) = [int(ln.split(": uploading ", 1)[1].split()[0]) for ln in uploading]
    return counted, sent


def test_the_two_file_counts_of_one_submission_agree_and_say_what_they_count(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", items=3, font=True, footage_frames=2)
    home = tmp_path / "home"
    first = run_submit(aws, home, export)
    no_traceback(first)
    assert first.returncode == 0, first.stderr
    counted, sent = _counts(first.stderr)
    # A fresh computer hashes every file of the input manifest: the bundle's count is it.
    (create,) = aws.deadline.calls("CreateJob")
    (ref,) = create.body["attachments"]["manifests"]
    manifest = aws.objects(aws.root_prefix + "/")[
        f"{aws.root_prefix}/Manifests/{ref['inputManifestPath']}"
    ]
    assert counted == sent == len(json.loads(manifest)["paths"])
    assert "new or changed since this computer last hashed them" in first.stderr

    # The same export again: only the job's own new files are new here, and the line says
    # so rather than contradicting the count above it.
    again = run_submit(aws, home, export, "-p", "Concurrency=2")
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    counted_again, sent_again = _counts(again.stderr)
    assert counted_again == counted and 0 < sent_again < counted_again
