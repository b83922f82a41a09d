"""`stmpo submit` through the real wire path: a subprocess with the real `deadline`
library, talking rest-json to the local Deadline Cloud server and S3/STS to moto.

Nothing in the submission path is patched: the assertions read what CreateJob received
and what landed in the job attachments bucket (content-addressed by xxh128).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xxhash
import yaml
from deadline_server import LocalAws
from submit_samples import make_aep, make_export

pytestmark = pytest.mark.slow


def run_submit(
    aws: LocalAws,
    home: Path,
    *args: str | Path,
    env: dict[str, str] | None = None,
    **kw: str | None,
) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    environment = aws.client_env(home, **kw)  # type: ignore[arg-type]
    environment.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "stmpo", "submit", *map(str, args)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr


def xxh128(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def test_submit_uploads_project_footage_fonts_and_creates_the_job(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot010", items=2, footage_frames=3)
    report_file = tmp_path / "report.json"
    result = run_submit(
        aws, tmp_path / "home", export, "-p", "Concurrency=3", "--report", report_file
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr

    (create,) = aws.deadline.calls("CreateJob")
    body = create.body
    job_id = create.response["jobId"]
    # progress: one plain line per stage, ending with the job id
    lines = result.stderr.splitlines()
    assert lines[0] == "[1/1] shot010.json: building bundle"
    uploading = [line for line in lines if " uploading " in line]
    assert len(uploading) == 1
    assert lines[-1] == f"[1/1] shot010.json: submitted {job_id}"
    assert job_id in result.stdout and "1 of 1 exports succeeded" in result.stdout

    # CreateJob: the template, the parameter values, the attachments
    template = yaml.safe_load(body["template"])
    assert template["name"] == "shot010 (2 items)"
    assert len(template["steps"]) == 2
    project = tmp_path / "shot010" / "shot010.aep"
    assert body["parameters"]["ProjectFile"] == {"path": str(project)}
    assert body["parameters"]["Concurrency"] == {"int": "3"}
    assert "StmpoScripts" in body["parameters"]
    assert create.params["farmId"] == aws.farm_id and create.params["queueId"] == aws.queue_id
    attachments = body["attachments"]
    assert attachments["fileSystem"] == "COPIED"
    (manifest_ref,) = attachments["manifests"]
    outputs = {
        str(Path(manifest_ref["rootPath"], d)) for d in manifest_ref["outputRelativeDirectories"]
    }
    assert outputs == {str(tmp_path / "shot010" / "renders" / f"item{i}") for i in (1, 2)}

    # the bucket: manifest under Manifests/, every input file's bytes under Data/<xxh128>
    objects = aws.objects(aws.root_prefix + "/")
    manifest_key = f"{aws.root_prefix}/Manifests/{manifest_ref['inputManifestPath']}"
    manifest = json.loads(objects[manifest_key])
    assert manifest["hashAlg"] == "xxh128"
    assert uploading[0] == (
        f"[1/1] shot010.json: uploading {len(manifest['paths'])} files new or changed since "
        "this computer last hashed them (any already in the bucket are skipped)"
    )
    by_hash = {entry["hash"]: entry["path"] for entry in manifest["paths"]}
    base = tmp_path / "shot010"
    expected = [
        project,
        base / "logo.png",
        *sorted((base / "plates").glob("plate.*.exr")),
        *sorted((base / "fonts").glob("*.ttf")),
    ]
    assert len(expected) == 6
    for path in expected:
        content = path.read_bytes()
        digest = xxh128(content)
        assert digest in by_hash, f"{path} is not in the input manifest"
        assert objects[f"{aws.root_prefix}/Data/{digest}.xxh128"] == content
    relative_project = str(project.relative_to(manifest_ref["rootPath"]))
    assert by_hash[xxh128(project.read_bytes())] == relative_project
    assert any(p["path"].endswith("/scripts/stmpo_render.py") for p in manifest["paths"])
    font_entries = [p for p in manifest["paths"] if p["path"].endswith(".ttf")]
    assert [Path(p["path"]).parent.name for p in font_entries] == ["fonts"]
    assert any("/scripts/fonts/" in p["path"] for p in font_entries)

    report = json.loads(report_file.read_text())
    (entry,) = report["exports"]
    assert entry["status"] == "ok" and entry["jobId"] == job_id
    assert entry["path"] == str(export) and len(entry["sha256"]) == 64
    assert entry["parameters"] == {"Concurrency": "3"}


def test_batch_with_a_bad_export_submits_the_others(aws: LocalAws, tmp_path: Path) -> None:
    first = make_export(tmp_path, "first", font=False, footage_frames=1)
    bad = make_export(tmp_path, "bad", font=False, footage_frames=1, project=False)
    last = make_export(tmp_path, "last", font=False, footage_frames=1)
    report_file = tmp_path / "report.json"
    result = run_submit(aws, tmp_path / "home", first, bad, last, "--report", report_file)
    no_traceback(result)
    assert result.returncode != 0
    creates = aws.deadline.calls("CreateJob")
    projects = [c.body["parameters"]["ProjectFile"]["path"] for c in creates]
    assert projects == [str(tmp_path / n / f"{n}.aep") for n in ("first", "last")]
    failed = [line for line in result.stderr.splitlines() if "failed" in line]
    assert failed == [
        f"[2/3] bad.json: failed: project.path: the project file "
        f"{tmp_path / 'bad' / 'bad.aep'} does not exist on this machine"
    ]
    entries = json.loads(report_file.read_text())["exports"]
    assert [(Path(e["path"]).name, e["status"]) for e in entries] == [
        ("first.json", "ok"),
        ("bad.json", "error"),
        ("last.json", "ok"),
    ]
    assert entries[1]["jobId"] is None and "does not exist" in entries[1]["message"]


@pytest.mark.parametrize(
    ("operation", "code", "expected"),
    [
        ("CreateJob", "AccessDeniedException", "access denied (CreateJob): not for you"),
        ("CreateJob", "ValidationException", "rejected the request (CreateJob): not for you"),
        ("GetQueue", "ExpiredTokenException", "AWS credentials are expired or not valid"),
        ("CreateJob", "ThrottlingException", "throttling requests (CreateJob): not for you"),
    ],
)
def test_service_errors_are_one_line_and_exit_1(
    aws: LocalAws, tmp_path: Path, operation: str, code: str, expected: str
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    jobs_before = len(aws.deadline.state.jobs)
    aws.deadline.state.fail(operation, code, "not for you")
    result = run_submit(aws, tmp_path / "home", export, env={"AWS_MAX_ATTEMPTS": "1"})
    no_traceback(result)
    assert result.returncode == 1
    failed = [line for line in result.stderr.splitlines() if "failed" in line]
    assert len(failed) == 1 and expected in failed[0], result.stderr
    assert [c.error_code for c in aws.deadline.calls(operation)] == [code]
    assert len(aws.deadline.state.jobs) == jobs_before


def test_no_farm_configured_is_exit_2_before_any_call(aws: LocalAws, tmp_path: Path) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    result = run_submit(aws, tmp_path / "home", export, farm_id=None, queue_id=None)
    no_traceback(result)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "stmpo submit: 2 problems:",
        "  - --farm-id: no farm configured: pass --farm-id, or set a default with "
        "`deadline config set defaults.farm_id farm-...` or Deadline Cloud monitor",
        "  - --queue-id: no queue configured: pass --queue-id, or set a default with "
        "`deadline config set defaults.queue_id queue-...`",
    ]
    assert aws.deadline.calls() == []


def test_skip_submitted_does_not_submit_twice(aws: LocalAws, tmp_path: Path) -> None:
    a = make_export(tmp_path, "a", font=False, footage_frames=1)
    b = make_export(tmp_path, "b", font=False, footage_frames=1)
    report_file = tmp_path / "report.json"
    home = tmp_path / "home"
    args = ("--report", report_file, "--skip-submitted")
    first = run_submit(aws, home, a, *args)
    assert first.returncode == 0, first.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1

    second = run_submit(aws, home, a, b, *args)
    no_traceback(second)
    assert second.returncode == 0, second.stderr
    creates = aws.deadline.calls("CreateJob")
    assert len(creates) == 2
    assert creates[1].body["parameters"]["ProjectFile"]["path"] == str(tmp_path / "b" / "b.aep")
    assert "[1/2] a.json: skipped: already submitted as job-" in second.stderr
    entries = {Path(e["path"]).name: e for e in json.loads(report_file.read_text())["exports"]}
    assert entries["a.json"]["skipped"] is True
    assert entries["a.json"]["jobId"] in aws.deadline.state.jobs
    assert entries["b.json"]["skipped"] is False and entries["b.json"]["jobId"]


def test_dry_run_makes_no_aws_call(aws: LocalAws, tmp_path: Path) -> None:
    export = make_export(tmp_path, "shot", font=True, footage_frames=2)
    bundles = tmp_path / "bundles"
    result = run_submit(
        aws,
        tmp_path / "home",
        export,
        "--dry-run",
        "--bundles-dir",
        bundles,
        env={"AWS_ENDPOINT_URL_DEADLINE": "http://127.0.0.1:9"},
        farm_id=None,
        queue_id=None,
    )
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert aws.deadline.calls() == []
    assert (bundles / "shot" / "template.yaml").is_file()
    assert (bundles / "shot" / "scripts" / "stmpo_render.py").is_file()
    assert os.listdir(bundles / "shot" / "scripts" / "fonts")


def test_a_saved_aep_is_submitted_like_an_export(aws: LocalAws, tmp_path: Path) -> None:
    project = make_aep(tmp_path / "proj")
    result = run_submit(aws, tmp_path / "home", project)
    no_traceback(result)
    assert result.returncode == 0, result.stderr
    (create,) = aws.deadline.calls("CreateJob")
    assert create.body["parameters"]["ProjectFile"] == {"path": str(project)}
    content = project.read_bytes()
    assert aws.objects(f"{aws.root_prefix}/Data/{xxh128(content)}.xxh128")
