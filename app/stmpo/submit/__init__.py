"""Submission to Deadline Cloud through the deadline library, single and batch.

submit_bundle(bundle_dir, *, farm_id, queue_id, profile=None, on_progress=None, hooks=None) -> str
submit_exports(paths, options, *, on_progress=None) -> BatchReport
resolve_target(farm_id=None, queue_id=None, profile=None) -> Target
describe(exc) -> Failure        # any exception -> one line + input/service kind

The names are imported on first use (`stmpo.lazy_exports`), so the `stmpo submit`
command module in this package costs `stmpo --help` nothing.
"""

from typing import TYPE_CHECKING

from stmpo.lazy_exports import lazy_exports

if TYPE_CHECKING:
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

if not TYPE_CHECKING:  # type checkers see the imports above, so a misspelt name stays an error
    __getattr__ = lazy_exports(
        __name__,
        {
            "submit_exports": "stmpo.submit.batch",
            "BundleFactory": "stmpo.submit.bundles",
            "BundleRequest": "stmpo.submit.bundles",
            "WrittenBundle": "stmpo.submit.bundles",
            "SubmissionCanceled": "stmpo.submit.deadline_submit",
            "SubmitConfigError": "stmpo.submit.deadline_submit",
            "Target": "stmpo.submit.deadline_submit",
            "resolve_target": "stmpo.submit.deadline_submit",
            "submit_bundle": "stmpo.submit.deadline_submit",
            "Failure": "stmpo.submit.messages",
            "describe": "stmpo.submit.messages",
            "SubmitOptions": "stmpo.submit.options",
            "ProgressCallback": "stmpo.submit.progress",
            "SubmitProgress": "stmpo.submit.progress",
            "TextProgress": "stmpo.submit.progress",
            "BatchReport": "stmpo.submit.report",
            "ExportResult": "stmpo.submit.report",
            "summary_table": "stmpo.submit.report",
        },
    )
