"""Many exports -> one job each: load, fingerprint, build, validate, submit, report.

Each export is independent: a bad one is reported and not submitted, the others go
on. The report is rewritten after every export, so a batch killed half-way can be
rerun with `skip_submitted` and submits only what did not go through.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from stmpo.bundle.parameters import parse_parameter_values
from stmpo.errors import StmpoError, writing
from stmpo.export.loader import reading_export
from stmpo.export.sources import load_any
from stmpo.submit.bundles import BundleFactory, BundleRequest, stmpo_bundle_factory
from stmpo.submit.deadline_submit import Target, resolve_target, submit_bundle
from stmpo.submit.loading import check_project_file
from stmpo.submit.messages import describe
from stmpo.submit.options import SubmitOptions
from stmpo.submit.progress import ProgressCallback, SubmitProgress
from stmpo.submit.report import (
    BatchReport,
    ExportResult,
    already_submitted,
    file_sha256,
    merged,
    read_report,
    submission_hash,
    utc_now,
    write_report,
)

log = logging.getLogger("stmpo.submit")

#: (bundle_dir, target, on_progress) -> job id; the real one is `submit_bundle`.
BundleSubmitter = Callable[[Path, Target, ProgressCallback], str]


def library_submitter(options: SubmitOptions) -> BundleSubmitter:
    """`submit_bundle` with the batch's known asset paths and `--yes`."""

    def submit(bundle: Path, target: Target, on_progress: ProgressCallback) -> str:
        return submit_bundle(
            bundle,
            farm_id=target.farm_id,
            queue_id=target.queue_id,
            profile=target.profile,
            on_progress=on_progress,
            known_asset_paths=options.known_asset_paths,
            yes=options.yes,
        )

    return submit


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
) -> BatchReport:
    """Submit every export; raise StmpoError only for problems that stop the whole batch
    (no farm/queue configured, unreadable report); per-export problems go in the report."""
    if options.parameters:
        # The same values go to every export: a typo is one exit-2 line, not N failures.
        parse_parameter_values(options.parameters)
    previous = (
        read_report(options.report_path)
        if options.report_path is not None and options.skip_submitted
        else []
    )
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
    if options.report_path is not None:
        # Prove the report can be written before anything is submitted: a report lost after
        # CreateJob would make a later --skip-submitted run submit the same job again.
        with writing("--report"):
            write_report(merged(previous, report), options.report_path)
    submitter = submitter or library_submitter(options)
    files = [Path(p) for p in paths]
    names = bundle_dir_names(files)
    for number, (path, name) in enumerate(zip(files, names, strict=True), start=1):

        def located(event: SubmitProgress, path: Path = path, number: int = number) -> bool:
            if on_progress is None:
                return True
            return on_progress(event.located(path.name, number, len(files))) is not False

        result = _one(path, name, options, target, previous, located, factory, submitter)
        report.exports.append(result)
        if options.report_path is not None:
            write_report(merged(previous, report), options.report_path)
    report.finished_at = utc_now()
    if options.report_path is not None:
        write_report(merged(previous, report), options.report_path)
    return report


def _one(
    path: Path,
    name: str,
    options: SubmitOptions,
    target: Target | None,
    previous: list[ExportResult],
    progress: Callable[[SubmitProgress], bool],
    factory: BundleFactory,
    submitter: BundleSubmitter,
) -> ExportResult:
    shown = str(path.absolute())
    result = ExportResult(
        path=shown,
        status="error",
        message="",
        parameters=dict(options.parameters),
        items=list(options.items) if options.items is not None else None,
        started_at=utc_now(),
        dry_run=options.dry_run,
    )
    temp_root: Path | None = None
    try:
        with reading_export(str(path)):
            content_sha = file_sha256(path)
        settings = options.fingerprint_settings(
            target.farm_id if target else None, target.queue_id if target else None
        )
        result.sha256 = submission_hash(content_sha, settings)
        done = already_submitted(previous, shown, result.sha256) if options.skip_submitted else None
        if done is not None:
            result.status, result.job_id, result.skipped = "ok", done.job_id, True
            result.submitted_at = done.submitted_at
            result.message = f"already submitted as {done.job_id}"
            progress(SubmitProgress("skipped", f"skipped: {result.message}"))
            return result
        export = load_any(path)
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
            allow_secret_paths=options.allow_secret_paths,
            allow_broad_assets=options.allow_broad_assets,
        )
        written = factory(export, request, out_dir)
        result.warnings = list(written.warnings)
        uploads = ""
        if written.uploads is not None:
            result.upload_files = written.uploads.files
            result.upload_bytes = written.uploads.bytes
            result.upload_complete = written.uploads.complete
            uploads = f"; uploads {written.uploads.text()} before deduplication"
        if options.bundles_dir is not None:
            result.bundle_dir = str(written.path)
        if target is None:
            result.status = "ok"
            result.message = "bundle validated" + (
                f", written to {written.path}" if options.bundles_dir is not None else ""
            )
            progress(SubmitProgress("validated", result.message + uploads))
            return result
        progress(SubmitProgress("validated", "bundle validated" + uploads))
        result.job_id = submitter(written.path, target, progress)
        result.status, result.submitted_at = "ok", utc_now()
        result.message = f'submitted "{written.job_name}"'
        return result
    except Exception as exc:
        log.debug("%s failed", path, exc_info=not isinstance(exc, StmpoError))
        failure = describe(exc)
        result.status, result.message, result.error_kind = "error", failure.message, failure.kind
        progress(SubmitProgress("failed", f"failed: {failure.message}"))
        return result
    finally:
        result.finished_at = utc_now()
        if temp_root is not None:
            shutil.rmtree(temp_root, ignore_errors=True)
