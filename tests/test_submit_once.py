"""Exactly once on the farm, and a report that never clobbers: `stmpo submit` as a real
process against the local Deadline Cloud (tests/deadline_server), nothing patched.

A run is interrupted where a job exists but the report never heard of it (Ctrl-C
while CreateJob's answer is on its way, a status read that fails after CreateJob);
the rerun with --skip-submitted must leave exactly one job on the farm.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from deadline_server import REGION, LocalAws, Recorded
from deadline_server.service import Job
from stmpo.cli import main
from submit_samples import make_export
from test_submit_wire import no_traceback, run_submit

pytestmark = pytest.mark.slow


def stmpo_submit(aws: LocalAws, home: Path, *args: str | Path) -> subprocess.Popen[str]:
    home.mkdir(parents=True, exist_ok=True)
    return subprocess.Popen(
        [sys.executable, "-m", "stmpo", "submit", *map(str, args)],
        env=aws.client_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def recorded(aws: LocalAws, operation: str, timeout: float = 10.0) -> list[Recorded]:
    """The server records a request once its handler returns, which may be after the
    client it answered has gone."""
    deadline = time.monotonic() + timeout
    while not aws.deadline.calls(operation) and time.monotonic() < deadline:
        time.sleep(0.05)
    return aws.deadline.calls(operation)


def entries(report: Path) -> list[dict[str, object]]:
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["format"] == "stmpo-submit-report"
    return list(data["exports"])


def test_ctrl_c_right_after_create_job_is_recovered_not_submitted_again(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=1)
    report = tmp_path / "report.json"
    home = tmp_path / "home"
    jobs_before = set(aws.deadline.state.jobs)
    proc = stmpo_submit(aws, home, export, "--report", report, "--skip-submitted")

    def interrupt(job: Job) -> None:
        # The job exists; the client is waiting for CreateJob's answer when Ctrl-C lands.
        os.kill(proc.pid, signal.SIGINT)
        time.sleep(1.0)

    aws.deadline.state.on_job_created = interrupt
    _out, err = proc.communicate(timeout=300)
    aws.deadline.state.on_job_created = None
    assert proc.returncode == 130, err
    (first,) = recorded(aws, "CreateJob")
    created = set(aws.deadline.state.jobs) - jobs_before
    assert len(created) == 1
    (intent,) = entries(report)
    assert intent["status"] == "submitting" and intent["jobId"] is None
    assert intent["clientToken"] == first.params["clientToken"]

    again = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    assert set(aws.deadline.state.jobs) - jobs_before == created
    creates = aws.deadline.calls("CreateJob")
    assert len(creates) == 2
    assert creates[1].params["clientToken"] == first.params["clientToken"]
    (job_id,) = created
    assert f"[1/1] shot.json: recovered {job_id}" in again.stderr
    assert "recovered" in again.stdout and job_id in again.stdout
    (entry,) = entries(report)
    assert entry["status"] == "ok" and entry["jobId"] == job_id
    assert entry["createJobRequest"] is None

    third = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    assert third.returncode == 0, third.stderr
    assert f"skipped: already submitted as {job_id}" in third.stderr
    assert len(aws.deadline.calls("CreateJob")) == 2


def test_a_failed_status_read_after_create_job_is_recovered(aws: LocalAws, tmp_path: Path) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    report = tmp_path / "report.json"
    home = tmp_path / "home"
    jobs_before = set(aws.deadline.state.jobs)
    aws.deadline.state.fail("GetJob", "AccessDeniedException", "no GetJob for you", times=1)
    first = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    no_traceback(first)
    assert first.returncode == 1
    (created,) = set(aws.deadline.state.jobs) - jobs_before
    (failed,) = [line for line in first.stderr.splitlines() if "failed" in line]
    assert "access denied (GetJob)" in failed
    assert failed.endswith("the job may exist: rerun with --skip-submitted to find out")
    (entry,) = entries(report)
    assert entry["status"] == "error" and entry["jobId"] == created

    again = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    assert set(aws.deadline.state.jobs) - jobs_before == {created}
    (entry,) = entries(report)
    assert entry["status"] == "ok" and entry["jobId"] == created and entry["recovered"]


def test_a_refused_create_job_is_submitted_again_on_the_next_run(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    report = tmp_path / "report.json"
    home = tmp_path / "home"
    aws.deadline.state.fail("CreateJob", "AccessDeniedException", "not yet", times=1)
    first = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    assert first.returncode == 1
    assert "may exist" not in first.stderr
    (entry,) = entries(report)
    assert entry["status"] == "error" and entry["createJobRequest"] is None
    again = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    assert again.returncode == 0, again.stderr
    assert "recovered" not in again.stderr
    assert [c.error_code for c in aws.deadline.calls("CreateJob")] == [
        "AccessDeniedException",
        None,
    ]


def test_two_batches_writing_one_report_lose_nothing(aws: LocalAws, tmp_path: Path) -> None:
    names = ["a1", "a2", "a3", "b1", "b2", "b3"]
    exports = {n: make_export(tmp_path, n, font=False, footage_frames=0) for n in names}
    report = tmp_path / "report.json"
    procs = [
        stmpo_submit(
            aws,
            tmp_path / f"home-{side}",
            *[exports[f"{side}{i}"] for i in (1, 2, 3)],
            "--report",
            report,
        )
        for side in "ab"
    ]
    for proc in procs:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    job_ids = {c.response["jobId"] for c in aws.deadline.calls("CreateJob")}
    assert len(job_ids) == 6
    got = {Path(str(e["path"])).stem: e for e in entries(report)}
    assert sorted(got) == names
    assert {e["jobId"] for e in got.values()} == job_ids
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report.json.")]


def test_skip_submitted_knows_an_export_however_its_path_is_spelled(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    report = tmp_path / "report.json"
    home = tmp_path / "home"
    (tmp_path / "sub").mkdir()
    link = tmp_path / "sub" / "link.json"
    link.symlink_to(export)
    hard = tmp_path / "sub" / "hard.json"
    os.link(export, hard)  # a hard link: no spelling of its path leads to shot.json
    first = run_submit(aws, home, export, "--report", report, "--skip-submitted")
    assert first.returncode == 0, first.stderr
    (create,) = aws.deadline.calls("CreateJob")
    job_id = create.response["jobId"]

    dotted = tmp_path / "sub" / ".." / "shot.json"
    again = run_submit(aws, home, dotted, link, hard, "--report", report, "--skip-submitted")
    no_traceback(again)
    assert again.returncode == 0, again.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1
    skipped = [line for line in again.stderr.splitlines() if "skipped" in line]
    assert skipped == [
        f"[1/3] shot.json: skipped: already submitted as {job_id}",
        f"[2/3] link.json: skipped: already submitted as {job_id}",
        f"[3/3] hard.json: skipped: already submitted as {job_id}",
    ]


# -- the report file is ours or it is refused --------------------------------------------


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        ("other JSON", b'{"format": "something-else", "exports": []}\n'),
        ("binary", bytes(range(256))),
        ("empty", b""),
        ("nested too deeply", b"[" * 5000 + b"]" * 5000),
    ],
)
def test_a_report_file_that_is_not_a_stmpo_report_is_never_overwritten(
    aws: LocalAws, tmp_path: Path, kind: str, content: bytes
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    report = tmp_path / "notes.json"
    report.write_bytes(content)
    result = run_submit(aws, tmp_path / "home", export, "--report", report)
    no_traceback(result)
    assert result.returncode == 2, kind
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"stmpo submit: --report: {report} is not a readable submit report")
    assert report.read_bytes() == content
    assert aws.deadline.calls() == []


def test_a_report_clobbered_mid_batch_stops_the_batch_before_create_job(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    report = tmp_path / "report.json"
    foreign = b'{"format": "someone-elses", "exports": []}\n'

    def clobber(operation: str) -> None:
        # After stmpo has written the report, before it records the CreateJob intent.
        if not report.read_bytes().startswith(foreign):
            report.write_bytes(foreign)

    aws.deadline.state.on_request = clobber
    result = run_submit(aws, tmp_path / "home", export, "--report", report)
    aws.deadline.state.on_request = None
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        f"stmpo submit: --report: {report} is not a readable submit report"
    )
    assert "may exist" not in result.stderr
    assert aws.deadline.calls("CreateJob") == []
    assert report.read_bytes() == foreign


def test_an_export_of_the_same_command_is_refused_as_report(aws: LocalAws, tmp_path: Path) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    before = export.read_bytes()
    spelled = tmp_path / "shot" / ".." / "shot.json"
    result = run_submit(aws, tmp_path / "home", export, "--report", spelled)
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"stmpo submit: --report: {spelled} is also an export of this command"
    ]
    assert export.read_bytes() == before
    assert aws.deadline.calls() == []


def test_a_report_keeps_the_entries_of_earlier_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = make_export(tmp_path, "a", font=False, footage_frames=0)
    b = make_export(tmp_path, "b", font=False, footage_frames=0)
    report = tmp_path / "report.json"
    assert main(["submit", str(a), "--dry-run", "--report", str(report)]) == 0
    assert main(["submit", str(b), "--dry-run", "--report", str(report)]) == 0
    capsys.readouterr()
    assert [Path(str(e["path"])).name for e in entries(report)] == ["a.json", "b.json"]


# -- the local server models CreateJob's idempotency ---------------------------------------


def test_local_create_job_is_idempotent_on_the_client_token(aws: LocalAws) -> None:
    client = boto3.client(
        "deadline",
        endpoint_url=aws.deadline.endpoint_url,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, inject_host_prefix=False, proxies={}),
    )
    template = "specificationVersion: jobtemplate-2023-09\nname: once\nsteps:\n" + (
        "- name: s\n  script:\n    actions:\n      onRun:\n        command: echo\n"
    )
    args = {"farmId": aws.farm_id, "queueId": aws.queue_id, "template": template}
    jobs_before = len(aws.deadline.state.jobs)
    first = client.create_job(**args, templateType="YAML", priority=50, clientToken="t-1")
    again = client.create_job(**args, templateType="YAML", priority=50, clientToken="t-1")
    assert first["jobId"] == again["jobId"]
    assert len(aws.deadline.state.jobs) == jobs_before + 1
    with pytest.raises(client.exceptions.ValidationException, match="different parameters"):
        client.create_job(**args, templateType="YAML", priority=60, clientToken="t-1")
    other = client.create_job(**args, templateType="YAML", priority=50)  # botocore's own token
    assert other["jobId"] != first["jobId"]
    assert len(aws.deadline.state.jobs) == jobs_before + 2
