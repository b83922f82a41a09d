"""Many exports -> one job each: load, fingerprint, build, validate, submit, report.

Each export is independent: a bad one is reported and not submitted, the others go
on. The report is refused before anything is submitted unless it is a stmpo report,
and written entry by entry: the intent (client token and CreateJob request) just
before CreateJob is sent, the job id as soon as it answers, the outcome after. A batch
killed at any point can be rerun with `skip_submitted`: what went through is skipped,
what may have gone through is asked of the service with its recorded token, and only
the rest is submitted.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from stmpo.bundle.parameters import parse_parameter_values
from stmpo.errors import StmpoError
from stmpo.export.loader import reading_export
from stmpo.export.sources import load_any
from stmpo.submit.asset_paths import check_bundle, configured_storage_profile, refusal_problem
from stmpo.submit.bundles import (
    BundleFactory,
    BundleRequest,
    check_bundle_folders,
    stmpo_bundle_factory,
)
from stmpo.submit.deadline_submit import (
    ConfirmationRefused,
    Target,
    deadline_config,
    recreate_job,
    resolve_target,
    submit_bundle,
)
from stmpo.submit.idempotency import CreateJobHooks, client_token, new_batch_id
from stmpo.submit.loading import check_project_file
from stmpo.submit.messages import describe
from stmpo.submit.options import SubmitOptions
from stmpo.submit.progress import ProgressCallback, SubmitProgress
from stmpo.submit.report import (
    BatchReport,
    ExportResult,
    already_submitted,
    export_file_id,
    export_key,
    file_sha256,
    pending_submission,
    submission_hash,
    utc_now,
)
from stmpo.submit.report_store import ReportStore

log = logging.getLogger("stmpo.submit")

#: (bundle_dir, target, on_progress, hooks) -> job id; the real one is `submit_bundle`.
BundleSubmitter = Callable[[Path, Target, ProgressCallback, CreateJobHooks], str]
#: (recorded CreateJob request, hooks, profile) -> job id; the real one is `recreate_job`.
JobRecreator = Callable[[dict[str, Any], CreateJobHooks, str | None], str]
#: Persists one entry (the report's, or nothing without --report).
Record = Callable[[ExportResult], None]


def library_submitter(options: SubmitOptions) -> BundleSubmitter:
    """`submit_bundle` with the batch's known asset paths and `--yes`."""

    def submit(
        bundle: Path, target: Target, on_progress: ProgressCallback, hooks: CreateJobHooks
    ) -> str:
        return submit_bundle(
            bundle,
            farm_id=target.farm_id,
            queue_id=target.queue_id,
            profile=target.profile,
            on_progress=on_progress,
            known_asset_paths=options.known_asset_paths,
            hooks=hooks,
            yes=options.yes,
        )

    return submit


def _recreate_with_library(
    request: dict[str, Any], hooks: CreateJobHooks, profile: str | None
) -> str:
    return recreate_job(request, hooks, profile=profile)


def bundle_dir_names(paths: Sequence[Path]) -> list[str]:
    """A folder name per export, from its file name, unique within the batch."""
    names: list[str] = []
    used: set[str] = set()
    for path in paths:
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", path.stem).strip("._") or "export"
        name, n = base, 2
        while name.lower() in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name.lower())
        names.append(name)
    return names


def submit_exports(
    paths: Sequence[str | Path],
    options: SubmitOptions,
    *,
    on_progress: ProgressCallback | None = None,
    factory: BundleFactory = stmpo_bundle_factory,
    submitter: BundleSubmitter | None = None,
    recreator: JobRecreator = _recreate_with_library,
) -> BatchReport:
    """Submit every export; raise StmpoError only for problems that stop the whole batch
    (no farm/queue configured, a report that is not ours or cannot be written);
    per-export problems go in the report."""
    if options.parameters:
        # The same values go to every export: a typo is one exit-2 line, not N failures.
        parse_parameter_values(options.parameters)
    files = [Path(p) for p in paths]
    names = bundle_dir_names(files)
    store = ReportStore(options.report_path) if options.report_path is not None else None
    if store is not None:
        store.check(paths)
    if options.bundles_dir is not None:
        check_bundle_folders(options.bundles_dir, names, replace=options.force)
    target = (
        None
        if options.dry_run
        else resolve_target(options.farm_id, options.queue_id, options.profile)
    )
    report = BatchReport(
        started_at=utc_now(),
        farm_id=target.farm_id if target else options.farm_id,
        queue_id=target.queue_id if target else options.queue_id,
        dry_run=options.dry_run,
    )
    if store is not None:
        # Prove the report can be written before anything is submitted: a job the report
        # cannot record is a job a later --skip-submitted run would submit again.
        store.save(report)

    def record(entry: ExportResult) -> None:
        if store is not None:
            store.save(report, [entry])

    submitter = submitter or library_submitter(options)
    batch = _Batch(options, target, new_batch_id(), factory, submitter, recreator, record)
    for number, (path, name) in enumerate(zip(files, names, strict=True), start=1):

        def located(event: SubmitProgress, path: Path = path, number: int = number) -> bool:
            if on_progress is None:
                return True
            return on_progress(event.located(path.name, number, len(files))) is not False

        # What counts as done: this run's jobs, and with --skip-submitted the report as it
        # is now (another batch may be writing to it too).
        known = [*(store.entries() if store and options.skip_submitted else []), *report.exports]
        result = batch.one(path, name, known, located)
        report.exports.append(result)
        record(result)
    report.finished_at = utc_now()
    if store is not None:
        store.save(report)
    return report


def _dry_run_asset_check(bundle: Path, options: SubmitOptions) -> None:
    """Refuse what the real run refuses (`stmpo.submit.asset_paths`, the same check), the
    storage profile aside: it needs the farm, and a dry run makes no AWS call."""
    config = deadline_config(options.profile)
    found = check_bundle(
        bundle, options.known_asset_paths, config, configured_storage_profile(config)
    )
    if found:
        raise ConfirmationRefused([refusal_problem(found)])


class _Batch:
    """What every export of one batch shares: options, target, batch id, collaborators."""

    def __init__(
        self,
        options: SubmitOptions,
        target: Target | None,
        batch_id: str,
        factory: BundleFactory,
        submitter: BundleSubmitter,
        recreator: JobRecreator,
        record: Record,
    ) -> None:
        self.options = options
        self.target = target
        self.batch_id = batch_id
        self.factory = factory
        self.submitter = submitter
        self.recreator = recreator
        self.record = record

    def one(
        self,
        path: Path,
        name: str,
        known: list[ExportResult],
        progress: Callable[[SubmitProgress], bool],
    ) -> ExportResult:
        options, target = self.options, self.target
        result = ExportResult(
            path=str(path.absolute()),
            status="error",
            message="",
            parameters=dict(options.parameters),
            items=list(options.items) if options.items is not None else None,
            started_at=utc_now(),
            dry_run=options.dry_run,
            resolved_path=export_key(path),
            file_id=export_file_id(path),
        )
        temp_root: Path | None = None
        try:
            with reading_export(str(path)):
                content_sha = file_sha256(path)
            settings = options.fingerprint_settings(
                target.farm_id if target else None, target.queue_id if target else None
            )
            result.sha256 = submission_hash(content_sha, settings)
            done = already_submitted(known, result.key, result.sha256, result.file_id)
            if done is not None:
                result.status, result.job_id, result.skipped = "ok", done.job_id, True
                result.submitted_at = done.submitted_at
                result.client_token = done.client_token
                result.message = f"already submitted as {done.job_id}"
                progress(SubmitProgress("skipped", f"skipped: {result.message}"))
                return result
            pending = pending_submission(known, result.key, result.sha256, result.file_id)
            if pending is not None and target is not None and options.skip_submitted:
                return self._recover(result, pending, progress)
            export = load_any(path)
            if not options.dry_run:
                # A dry run uploads nothing: a project missing here is the bundle's
                # warning ("project file not found on this computer"), as with `stmpo
                # bundle`, so a batch can be checked away from the file server.
                check_project_file(export, str(path))
            progress(SubmitProgress("building", "building bundle"))
            if options.bundles_dir is not None:
                out_dir = options.bundles_dir / name
            else:
                temp_root = Path(tempfile.mkdtemp(prefix="stmpo-submit-"))
                out_dir = temp_root / name
            request = BundleRequest(
                options.items,
                dict(options.parameters),
                options.job_name,
                replace=options.force and options.bundles_dir is not None,
                allow_secret_paths=options.allow_secret_paths,
                allow_broad_assets=options.allow_broad_assets,
                job_properties=options.job_properties,
                task_timeout=options.task_timeout,
                host_requirements=options.host_requirements,
                frame_overrides=options.frame_overrides,
                extra_input_files=options.extra_input_files,
            )
            written = self.factory(export, request, out_dir)
            result.warnings = list(written.warnings)
            uploads = ""
            if written.uploads is not None:
                result.upload_files = written.uploads.files
                result.upload_bytes = written.uploads.bytes
                result.upload_complete = written.uploads.complete
                result.cached_files = written.uploads.cached_files or None
                uploads = f"; uploads {written.uploads.text()} before deduplication"
            if options.bundles_dir is not None:
                result.bundle_dir = str(written.path)
            if target is None:
                _dry_run_asset_check(written.path, options)
                result.status = "ok"
                result.message = "bundle validated" + (
                    f", written to {written.path}" if options.bundles_dir is not None else ""
                )
                progress(SubmitProgress("validated", result.message + uploads))
                return result
            progress(SubmitProgress("validated", "bundle validated" + uploads))
            hooks = self._hooks(result, client_token(result.sha256, self.batch_id))
            try:
                result.job_id = self.submitter(written.path, target, progress, hooks)
            except Exception:
                self._after_failure(result, hooks)
                raise
            result.status, result.submitted_at = "ok", utc_now()
            result.create_job_request = None
            result.message = f'submitted "{written.job_name}"'
            return result
        except Exception as exc:
            log.debug("%s failed", path, exc_info=not isinstance(exc, StmpoError))
            failure = describe(exc)
            result.status, result.message, result.error_kind = (
                "error",
                failure.message,
                failure.kind,
            )
            if result.pending:
                result.message += "; the job may exist: rerun with --skip-submitted to find out"
            progress(SubmitProgress("failed", f"failed: {result.message}"))
            return result
        finally:
            result.finished_at = utc_now()
            if temp_root is not None:
                shutil.rmtree(temp_root, ignore_errors=True)

    def _hooks(self, result: ExportResult, token: str) -> CreateJobHooks:
        """Record the intent before CreateJob leaves and the job id as soon as it answers."""

        def before_send(request: dict[str, Any]) -> None:
            message = "CreateJob sent, no answer recorded"
            intent = replace(
                result,
                status="submitting",
                message=message,
                client_token=token,
                create_job_request=request,
            )
            self.record(intent)  # raising here keeps CreateJob from being sent
            result.client_token, result.create_job_request = token, request
            result.status, result.message = "submitting", message

        def created(job_id: str) -> None:
            result.job_id = job_id
            result.message = f"CreateJob answered {job_id}; waiting for the job to be created"
            self.record(result)

        return CreateJobHooks(token, before_send, created)

    @staticmethod
    def _after_failure(result: ExportResult, hooks: CreateJobHooks) -> None:
        """A CreateJob the service refused made no job: nothing is left to find out."""
        if hooks.refused:
            result.create_job_request = None
            result.job_id = None

    def _recover(
        self,
        result: ExportResult,
        pending: ExportResult,
        progress: Callable[[SubmitProgress], bool],
    ) -> ExportResult:
        """Send the recorded CreateJob again with its recorded token: the service returns
        the job that request made, or makes it now; either way there is one."""
        assert pending.client_token and pending.create_job_request is not None
        result.client_token = pending.client_token
        result.create_job_request = pending.create_job_request
        result.parameters, result.items = pending.parameters, pending.items
        progress(SubmitProgress("creating", "asking Deadline Cloud about the unanswered CreateJob"))
        hooks = CreateJobHooks(pending.client_token, lambda _request: None)
        try:
            job_id = self.recreator(pending.create_job_request, hooks, self.options.profile)
        except Exception:
            self._after_failure(result, hooks)
            raise
        result.status, result.job_id, result.recovered = "ok", job_id, True
        result.submitted_at = pending.submitted_at or utc_now()
        result.create_job_request = None
        result.message = f"CreateJob with the recorded client token returned {job_id}"
        progress(SubmitProgress("submitted", f"recovered {job_id}: {result.message}"))
        return result
