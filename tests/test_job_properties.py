"""Job properties from the CLI, as `deadline bundle submit` takes them: `stmpo bundle`
writes them as `deadline:` parameter values, `stmpo submit` sends them in CreateJob
(through the real `deadline` library, to the local Deadline Cloud server)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from deadline_server import LocalAws
from stmpo.cli import main
from submit_samples import make_export


def deadline_values(bundle: Path) -> dict[str, Any]:
    values = yaml.safe_load((bundle / "parameter_values.yaml").read_text(encoding="utf-8"))
    return {
        v["name"]: v["value"]
        for v in values["parameterValues"]
        if v["name"].startswith("deadline:")
    }


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    return write_export(tmp_path / "export.json", export_dict([item(1, end=9)]))


def test_bundle_writes_render_defaults_and_the_given_properties(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bundle", str(export_file), "-o", str(tmp_path / "a")]) == 0
    assert deadline_values(tmp_path / "a") == {
        "deadline:targetTaskRunStatus": "READY",
        "deadline:priority": 50,
        "deadline:maxFailedTasksCount": 10,
        "deadline:maxRetriesPerTask": 1,
    }
    args = [
        *("--priority", "80", "--max-failed-tasks-count", "0", "--max-retries-per-task", "3"),
        *("--max-worker-count", "-1", "--target-task-run-status", "suspended"),
    ]
    assert main(["bundle", str(export_file), "-o", str(tmp_path / "b"), *args]) == 0
    assert deadline_values(tmp_path / "b") == {
        "deadline:targetTaskRunStatus": "SUSPENDED",
        "deadline:priority": 80,
        "deadline:maxFailedTasksCount": 0,
        "deadline:maxRetriesPerTask": 3,
        "deadline:maxWorkerCount": -1,
    }
    assert main(["validate", str(tmp_path / "b")]) == 0


@pytest.mark.parametrize(
    ("flag", "value", "reason"),
    [
        ("--priority", "101", "must be between 0 and 100, got 101"),
        ("--priority", "-1", "must be between 0 and 100, got -1"),
        ("--priority", "high", 'must be a whole number, got "high"'),
        ("--priority", "\u00b2", 'must be a whole number, got "\u00b2"'),
        ("--max-failed-tasks-count", "2147483648", "must be between 0 and 2147483647"),
        ("--max-retries-per-task", "9" * 5000, "must be a whole number"),
        ("--max-worker-count", "0", "cannot be 0 (use -1 for no limit)"),
        ("--max-worker-count", "-2", "must be between -1 and 2147483647, got -2"),
        ("--target-task-run-status", "paused", 'must be ready or suspended, got "paused"'),
    ],
)
def test_a_bad_job_property_is_exit_2_naming_the_flag(
    export_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    value: str,
    reason: str,
) -> None:
    out = tmp_path / "bundle"
    assert main(["bundle", str(export_file), "-o", str(out), f"{flag}={value}"]) == 2
    err = capsys.readouterr().err
    (line,) = err.splitlines()
    assert line.startswith(f"stmpo bundle: {flag} {value[:20]}") and reason in line, line
    assert not out.exists()


@pytest.mark.slow
def test_submit_sends_the_job_properties_in_create_job(aws: LocalAws, tmp_path: Path) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=1)

    def submit(*args: str) -> dict[str, Any]:
        before = len(aws.deadline.calls("CreateJob"))
        result = subprocess.run(
            [sys.executable, "-m", "stmpo", "submit", str(export), *args],
            env=aws.client_env(tmp_path / "home"),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        creates = aws.deadline.calls("CreateJob")
        assert len(creates) == before + 1
        body: dict[str, Any] = creates[-1].body
        return body

    body = submit()  # render defaults, not the library's five retries per task
    assert body["maxRetriesPerTask"] == 1 and body["maxFailedTasksCount"] == 10
    assert body["priority"] == 50 and body["targetTaskRunStatus"] == "READY"
    assert "maxWorkerCount" not in body
    assert not [name for name in body["parameters"] if ":" in name]

    body = submit(
        *("--priority", "90", "--max-failed-tasks-count", "3", "--max-retries-per-task", "0"),
        *("--max-worker-count", "4", "--target-task-run-status", "SUSPENDED"),
    )
    assert (body["priority"], body["maxFailedTasksCount"], body["maxRetriesPerTask"]) == (90, 3, 0)
    assert body["maxWorkerCount"] == 4 and body["targetTaskRunStatus"] == "SUSPENDED"


def test_submit_refuses_a_bad_job_property_before_any_call(aws: LocalAws, tmp_path: Path) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", "submit", str(export), "--priority", "500"],
        env=aws.client_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "stmpo submit: --priority 500: must be between 0 and 100, got 500"
    ]
    assert aws.deadline.calls() == []
