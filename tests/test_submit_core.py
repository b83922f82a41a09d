"""The submission core without AWS: fingerprints, report, error wording, batch flow.

The batch runs with a hand-written minimal bundle (a real, valid OpenJD template) and a
submitter that records what it was given; the wire path is in test_submit_wire.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from botocore.exceptions import ClientError, NoCredentialsError
from deadline.client.exceptions import DeadlineOperationError
from stmpo.cli import main
from stmpo.cli_args import parse_assignments as parse_parameters
from stmpo.cli_args import parse_items
from stmpo.errors import ExportError, Problem, StmpoError
from stmpo.export.model import Export
from stmpo.submit import (
    BundleRequest,
    SubmitConfigError,
    SubmitOptions,
    SubmitProgress,
    Target,
    TextProgress,
    WrittenBundle,
    describe,
    resolve_target,
    submit_exports,
    summary_table,
)
from stmpo.submit.batch import bundle_dir_names
from stmpo.submit.report import (
    BatchReport,
    ExportResult,
    already_submitted,
    read_report,
    submission_hash,
    write_report,
)
from submit_samples import make_export

FARM = "farm-" + "1" * 32
QUEUE = "queue-" + "2" * 32


def minimal_bundle(export: Export, request: BundleRequest, out_dir: Path) -> WrittenBundle:
    """The smallest bundle that is a valid job: one step echoing the project path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    template = {
        "specificationVersion": "jobtemplate-2023-09",
        "name": request.job_name or "minimal",
        "parameterDefinitions": [
            {"name": "ProjectFile", "type": "PATH", "objectType": "FILE", "dataFlow": "IN"}
        ],
        "steps": [
            {
                "name": "Render",
                "script": {
                    "actions": {"onRun": {"command": "echo", "args": ["{{Param.ProjectFile}}"]}}
                },
            }
        ],
    }
    (out_dir / "template.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")
    values = {"parameterValues": [{"name": "ProjectFile", "value": export.project.path}]}
    (out_dir / "parameter_values.yaml").write_text(yaml.safe_dump(values), encoding="utf-8")
    return WrittenBundle(out_dir, template["name"], ("a warning",))


class Recorder:
    """A submitter that keeps what it was asked to submit and hands out job ids."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[tuple[Path, Target, dict[str, object]]] = []
        self.fail_on = fail_on

    def __call__(self, bundle: Path, target: Target, progress: object, hooks: object) -> str:
        template = yaml.safe_load((bundle / "template.yaml").read_text())
        self.calls.append((bundle, target, template))
        if self.fail_on and self.fail_on in str(bundle):
            raise ClientError(
                {"Error": {"Code": "ValidationException", "Message": "bad template"}}, "CreateJob"
            )
        return f"job-{len(self.calls):032x}"


def options(tmp_path: Path, **kw: object) -> SubmitOptions:
    base: dict[str, object] = {"farm_id": FARM, "queue_id": QUEUE}
    base.update(kw)
    return SubmitOptions(**base)  # type: ignore[arg-type]


# -- arguments ---------------------------------------------------------------------------


def test_parameters_parse_and_bad_ones_name_the_argument() -> None:
    assert parse_parameters(["Concurrency=4", "AerenderPath=C:/a=b"]) == {
        "Concurrency": "4",
        "AerenderPath": "C:/a=b",
    }
    with pytest.raises(StmpoError) as err:
        parse_parameters(["Concurrency", "X=1", "X=2"])
    assert [p.where for p in err.value.problems] == ["-p Concurrency", "-p X"]


def test_items_parse() -> None:
    assert parse_items("3, 1,3") == (3, 1)
    assert parse_items(None) is None
    for bad in ("0", "a", "1,,2", ""):
        with pytest.raises(StmpoError, match="--items"):
            parse_items(bad)


def test_bundle_dir_names_are_unique_and_safe() -> None:
    names = bundle_dir_names([Path("a/shot 1.json"), Path("b/shot 1.json"), Path("c/SHOT 1.json")])
    assert names == ["shot_1", "shot_1-2", "SHOT_1-3"]


# -- fingerprint and report --------------------------------------------------------------


def test_submission_hash_depends_on_content_and_settings_not_key_order() -> None:
    a = submission_hash("abc", {"x": 1, "y": [1, 2]})
    assert a == submission_hash("abc", {"y": [1, 2], "x": 1})
    assert a != submission_hash("abd", {"x": 1, "y": [1, 2]})
    assert a != submission_hash("abc", {"x": 2, "y": [1, 2]})


def test_already_submitted_needs_ok_real_job_and_same_hash() -> None:
    entries = [
        ExportResult("/e.json", "ok", "", sha256="h1", job_id="job-1"),
        ExportResult("/e.json", "ok", "", sha256="h2", dry_run=True),
        ExportResult("/e.json", "error", "x", sha256="h3"),
    ]
    found = already_submitted(entries, "/e.json", "h1")
    assert found is not None and found.job_id == "job-1"
    assert already_submitted(entries, "/e.json", "h2") is None
    assert already_submitted(entries, "/e.json", "h3") is None
    assert already_submitted(entries, "/other.json", "h1") is None


def test_report_round_trips_and_broken_report_is_exit_2(tmp_path: Path) -> None:
    report = BatchReport("t0", FARM, QUEUE, False)
    report.exports.append(ExportResult("/e.json", "ok", "m", sha256="h", job_id="job-1"))
    path = tmp_path / "sub" / "r.json"
    write_report(report, path)
    assert json.loads(path.read_text())["exports"][0]["jobId"] == "job-1"
    assert read_report(path)[0].job_id == "job-1"
    assert read_report(tmp_path / "missing.json") == []
    path.write_text("{not json")
    with pytest.raises(StmpoError, match="--report"):
        read_report(path)


def test_exit_code_tells_input_from_service_failures() -> None:
    report = BatchReport("t0", None, None, False)
    assert report.exit_code() == 0
    report.exports.append(ExportResult("/a", "error", "bad", error_kind="input"))
    assert report.exit_code() == 2
    report.exports.append(ExportResult("/b", "error", "denied", error_kind="service"))
    assert report.exit_code() == 1


# -- error wording -----------------------------------------------------------------------


def _client_error(code: str, message: str, op: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("AccessDeniedException", "access denied (CreateJob): nope"),
        ("ValidationException", "Deadline Cloud rejected the request (CreateJob): nope"),
        ("ThrottlingException", "throttling requests (CreateJob): nope more; try again"),
        ("ExpiredTokenException", "AWS credentials are expired or not valid (CreateJob)"),
        ("ResourceNotFoundException", "not found (CreateJob): nope more; check the farm"),
    ],
)
def test_client_errors_become_one_line(code: str, expected: str) -> None:
    failure = describe(_client_error(code, "nope\n  more", "CreateJob"))
    assert failure.kind == "service"
    assert expected in failure.message
    assert "\n" not in failure.message


def test_wrapped_and_credential_errors_are_worded() -> None:
    try:
        try:
            raise _client_error("AccessDeniedException", "no role", "AssumeQueueRoleForUser")
        except ClientError as inner:
            raise DeadlineOperationError("Failed to assume\nQueue role") from inner
    except DeadlineOperationError as outer:
        wrapped = describe(outer)
    assert wrapped.message.startswith("access denied (AssumeQueueRoleForUser): no role")
    assert "no AWS credentials" in describe(NoCredentialsError()).message
    bad = describe(ExportError([Problem("project.path", "missing")], source="/x.json"))
    assert bad == describe(ExportError([Problem("project.path", "missing")]))
    assert bad.kind == "input" and bad.message == "project.path: missing"


def test_text_progress_prints_once_per_stage() -> None:
    out = io.StringIO()
    progress = TextProgress(out)
    for fraction in (0.1, 0.5, 1.0):
        progress(SubmitProgress("uploading", "uploading 3 files", fraction, "a.json", 1, 2))
    progress(SubmitProgress("submitted", "submitted job-1", None, "a.json", 1, 2))
    assert out.getvalue().splitlines() == [
        "[1/2] a.json: uploading 3 files",
        "[1/2] a.json: submitted job-1",
    ]


# -- farm and queue ----------------------------------------------------------------------


def test_no_farm_or_queue_configured_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEADLINE_CONFIG_FILE_PATH", str(tmp_path / "none" / "config"))
    with pytest.raises(SubmitConfigError) as err:
        resolve_target()
    assert [p.where for p in err.value.problems] == ["--farm-id", "--queue-id"]
    with pytest.raises(SubmitConfigError, match="is not a farm ID"):
        resolve_target("farm-oops", QUEUE)
    assert resolve_target(FARM, QUEUE) == Target(FARM, QUEUE, None)


# -- the batch ---------------------------------------------------------------------------


def test_batch_continues_after_bad_exports_and_reports_each(tmp_path: Path) -> None:
    good = make_export(tmp_path, "good", font=False)
    no_project = make_export(tmp_path, "noproject", project=False, font=False)
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "stmpo-ae-export", "version": 1}')
    rejected = make_export(tmp_path, "rejected", font=False)
    events: list[SubmitProgress] = []
    recorder = Recorder(fail_on="rejected")
    report = submit_exports(
        [good, no_project, broken, tmp_path / "absent.json", rejected],
        options(tmp_path, report_path=tmp_path / "r.json"),
        on_progress=lambda e: events.append(e) is None,
        factory=minimal_bundle,
        submitter=recorder,
    )
    statuses = [(Path(e.path).name, e.status, e.error_kind) for e in report.exports]
    assert statuses == [
        ("good.json", "ok", None),
        ("noproject.json", "error", "input"),
        ("broken.json", "error", "input"),
        ("absent.json", "error", "input"),
        ("rejected.json", "error", "service"),
    ]
    assert [Path(c[0]).name for c in recorder.calls] == ["good", "rejected"]
    assert "does not exist on this machine" in report.exports[1].message
    assert "project: is required" in report.exports[2].message
    assert report.exports[3].message == "no such file"
    assert report.exports[4].message.startswith("Deadline Cloud rejected the request (CreateJob)")
    assert report.exports[0].job_id == "job-" + "1".rjust(32, "0")
    assert report.exports[0].warnings == ["a warning"]
    assert report.exit_code() == 1
    on_disk = json.loads((tmp_path / "r.json").read_text())
    assert [e["status"] for e in on_disk["exports"]] == ["ok", "error", "error", "error", "error"]
    failed = [e for e in events if e.stage == "failed"]
    assert [(e.export, e.index, e.total) for e in failed] == [
        ("noproject.json", 2, 5),
        ("broken.json", 3, 5),
        ("absent.json", 4, 5),
        ("rejected.json", 5, 5),
    ]
    # the temporary bundles are gone once submitted
    assert not recorder.calls[0][0].exists()


def test_skip_submitted_resubmits_only_what_changed(tmp_path: Path) -> None:
    a = make_export(tmp_path, "a", font=False)
    b = make_export(tmp_path, "b", font=False)
    opts = options(tmp_path, report_path=tmp_path / "r.json", skip_submitted=True)
    first = Recorder()
    submit_exports([a, b], opts, factory=minimal_bundle, submitter=first)
    assert len(first.calls) == 2

    again = Recorder()
    second = submit_exports([a, b], opts, factory=minimal_bundle, submitter=again)
    assert again.calls == []
    assert [e.skipped for e in second.exports] == [True, True]
    assert second.exit_code() == 0

    b.write_text(b.read_text().replace('"end": 99', '"end": 98'))
    third = Recorder()
    report = submit_exports([a, b], opts, factory=minimal_bundle, submitter=third)
    assert [Path(c[0]).name for c in third.calls] == ["b"]
    assert [e.skipped for e in report.exports] == [True, False]

    other_params = options(
        tmp_path,
        report_path=tmp_path / "r.json",
        skip_submitted=True,
        parameters={"Concurrency": "4"},
    )
    fourth = Recorder()
    submit_exports([a], other_params, factory=minimal_bundle, submitter=fourth)
    assert len(fourth.calls) == 1


def test_report_is_written_after_each_export(tmp_path: Path) -> None:
    a = make_export(tmp_path, "a", font=False)
    b = make_export(tmp_path, "b", font=False)

    class Interrupt(Recorder):
        def __call__(self, bundle: Path, target: Target, progress: object, hooks: object) -> str:
            if bundle.name == "b":
                raise KeyboardInterrupt
            return super().__call__(bundle, target, progress, hooks)

    with pytest.raises(KeyboardInterrupt):
        submit_exports(
            [a, b],
            options(tmp_path, report_path=tmp_path / "r.json"),
            factory=minimal_bundle,
            submitter=Interrupt(),
        )
    entries = read_report(tmp_path / "r.json")
    assert [(Path(e.path).name, e.status) for e in entries] == [("a.json", "ok")]


def test_dry_run_needs_no_farm_and_keeps_bundles(tmp_path: Path) -> None:
    a = make_export(tmp_path, "a", font=False)
    recorder = Recorder()
    report = submit_exports(
        [a],
        SubmitOptions(dry_run=True, bundles_dir=tmp_path / "bundles", job_name="Named"),
        factory=minimal_bundle,
        submitter=recorder,
    )
    assert recorder.calls == []
    entry = report.exports[0]
    assert entry.ok and entry.dry_run and entry.job_id is None
    assert entry.bundle_dir == str(tmp_path / "bundles" / "a")
    template = yaml.safe_load((tmp_path / "bundles" / "a" / "template.yaml").read_text())
    assert template["name"] == "Named"
    assert "dry-run" in summary_table(report)


def test_cli_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["submit", "x.json", "--skip-submitted"]) == 2
    assert "--skip-submitted" in capsys.readouterr().err
    assert main(["submit", "x.json", "-p", "NoEquals", "--dry-run"]) == 2
    assert "-p NoEquals: expected Name=Value" in capsys.readouterr().err


def test_a_bad_parameter_stops_the_batch_before_any_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = make_export(tmp_path, "a", font=False)
    bundles = tmp_path / "bundles"
    args = ["submit", str(a), "--dry-run", "--bundles-dir", str(bundles)]
    assert main([*args, "-p", "Bogus=1", "-p", "Concurrency=lots"]) == 2
    err = capsys.readouterr().err
    assert "-p Bogus: unknown job parameter" in err and "-p Concurrency:" in err
    assert not bundles.exists()
    assert main([*args, "-p", "Concurrency=4"]) == 0
    assert "a.json  dry-run  bundle validated" in capsys.readouterr().out


def test_report_upsert_keeps_jobs_and_pending_intents_and_drops_stale_failures() -> None:
    from dataclasses import replace

    from stmpo.submit.report import upsert

    job = ExportResult("/e.json", "ok", "", sha256="h1", job_id="job-1")
    pending = ExportResult(
        "/e.json", "error", "x", sha256="h2", client_token="t", create_job_request={"a": 1}
    )
    failure = ExportResult("/e.json", "error", "bad", sha256="h3")
    other = ExportResult("/o.json", "error", "bad", sha256="h9")
    retry = ExportResult("/e.json", "ok", "", sha256="h4", job_id="job-4")
    assert upsert([job, pending, failure, other], [retry]) == [job, pending, other, retry]
    done = ExportResult("/e.json", "ok", "", sha256="h2", job_id="job-2", client_token="t")
    assert upsert([job, pending, other], [done]) == [job, done, other]
    # a deliberate second job of the same export (another batch's token) is a second entry
    second = ExportResult("/e.json", "ok", "", sha256="h1", job_id="job-5", client_token="u")
    assert upsert([job, other], [second]) == [job, other, second]
    assert upsert([pending], [replace(second, sha256="h2")])[0] is pending
