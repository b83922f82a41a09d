"""Submission to Deadline Cloud through the deadline library, single and batch.

submit_bundle(bundle_dir, *, farm_id, queue_id, profile=None, on_progress=None, hooks=None) -> str
submit_exports(paths, options, *, on_progress=None) -> BatchReport
resolve_target(farm_id=None, queue_id=None, profile=None) -> Target
describe(exc) -> Failure        # any exception -> one line + input/service kind

The `stmpo submit` command lives in `stmpo.commands`, so `stmpo --help` never runs this.
"""

from stmpo.submit.batch import submit_exports
from stmpo.submit.bundles import BundleFactory, BundleRequest, WrittenBundle
from stmpo.submit.deadline_submit import (
    SubmissionCanceled,
    SubmitConfigError,
    Target,
    resolve_target,
    submit_bundle,
)
from stmpo.submit.messages import Failure, describe
from stmpo.submit.options import SubmitOptions
from stmpo.submit.progress import ProgressCallback, SubmitProgress, TextProgress
from stmpo.submit.report import BatchReport, ExportResult, summary_table

__all__ = [
    "BatchReport",
    "BundleFactory",
    "BundleRequest",
    "ExportResult",
    "Failure",
    "ProgressCallback",
    "SubmissionCanceled",
    "SubmitConfigError",
    "SubmitOptions",
    "SubmitProgress",
    "Target",
    "TextProgress",
    "WrittenBundle",
    "describe",
    "resolve_target",
    "submit_bundle",
    "submit_exports",
    "summary_table",
]
