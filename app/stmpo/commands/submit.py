"""`stmpo submit`: build, validate and submit one job per export to Deadline Cloud"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker.logtext import text_line
from stmpo.cli_args import (
    add_input_file_argument,
    add_job_property_arguments,
    add_selection_arguments,
    add_upload_arguments,
    add_worker_arguments,
    parse_assignments,
    parse_frames,
    parse_host_requirements,
    parse_items,
    parse_job_properties,
    parse_task_timeout,
)
from stmpo.errors import Problem, StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "submit",
        help="build, validate and submit one job per export to Deadline Cloud",
        description=(
            "Build, validate and submit one Deadline Cloud job per export (or .aep). "
            "Progress goes to stderr, a summary table to stdout. Exit 0 when every "
            "export succeeded, 2 when only bad input failed, 1 when a submission failed."
        ),
    )
    p.add_argument("exports", nargs="+", metavar="EXPORT", help="export JSON (or .aep) files")
    p.add_argument("--farm-id", help="default: defaults.farm_id of the deadline config")
    p.add_argument("--queue-id", help="default: defaults.queue_id of the deadline config")
    p.add_argument("--profile", help="AWS profile (default: the deadline config's)")
    add_selection_arguments(
        p,
        parameter_help="job parameter value for every export (repeatable)",
        scope="for every export: ",
    )
    add_input_file_argument(p)
    p.add_argument("--job-name", help="job name (default: project name and item count)")
    p.add_argument("--dry-run", action="store_true", help="build and validate bundles; no AWS call")
    p.add_argument(
        "--report",
        type=Path,
        metavar="report.json",
        help="JSON report, updated as each job is submitted; earlier entries are kept "
        "(an existing file that is not a stmpo report is refused)",
    )
    p.add_argument(
        "--skip-submitted",
        action="store_true",
        help="with --report: do not submit exports the report already lists as submitted "
        "with the same content and settings; ask Deadline Cloud about a submission whose "
        "answer was never recorded instead of submitting it again",
    )
    p.add_argument(
        "--bundles-dir",
        type=Path,
        metavar="DIR",
        help="keep the bundles here, one folder DIR/<export name> each; an existing one "
        "must be empty, or an earlier stmpo bundle replaced with --force",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --bundles-dir: replace earlier stmpo bundles (never other folders)",
    )
    add_upload_arguments(p)
    add_worker_arguments(p)
    p.add_argument(
        "--known-asset-path",
        action="append",
        default=[],
        metavar="PATH",
        help="a folder whose files may be uploaded without confirmation, as with "
        "`deadline bundle submit` (repeatable); the project's folder always is. Uploads "
        "from any other folder are refused",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help="accept the deadline library's prompts that default to yes (run submission "
        "hooks), as `deadline bundle submit --yes`; never accepts unknown upload paths",
    )
    add_job_property_arguments(p)
    p.add_argument("-v", "--verbose", action="store_true", help="also print the library's output")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stmpo.submit.batch import submit_exports
    from stmpo.submit.options import SubmitOptions
    from stmpo.submit.progress import TextProgress
    from stmpo.submit.report import summary_table

    if args.skip_submitted and args.report is None:
        raise StmpoError([Problem("--skip-submitted", "needs --report FILE to know what went")])
    if args.force and args.bundles_dir is None:
        raise StmpoError([Problem("--force", "only applies with --bundles-dir DIR")])
    if args.verbose:
        logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
        logging.getLogger("stmpo").setLevel(logging.DEBUG)
    options = SubmitOptions(
        farm_id=args.farm_id,
        queue_id=args.queue_id,
        profile=args.profile,
        parameters=parse_assignments(args.parameter),
        items=parse_items(args.items),
        frame_overrides=parse_frames(args.frames),
        extra_input_files=tuple(args.input_file),
        job_name=args.job_name,
        dry_run=args.dry_run,
        report_path=args.report,
        skip_submitted=args.skip_submitted,
        bundles_dir=args.bundles_dir,
        force=args.force,
        allow_secret_paths=args.allow_secret_paths,
        allow_broad_assets=args.allow_broad_assets,
        known_asset_paths=tuple(args.known_asset_path),
        yes=args.yes,
        job_properties=parse_job_properties(args),
        task_timeout=parse_task_timeout(args.task_timeout),
        host_requirements=parse_host_requirements(args.host_requirements),
    )
    report = submit_exports(args.exports, options, on_progress=TextProgress(sys.stderr))
    for entry in report.exports:
        # The bundle's warnings, as `stmpo bundle` prints them (a missing project
        # file in a dry run among them), before the summary.
        for warning in entry.warnings:
            print(text_line(f"warning: {Path(entry.path).name}: {warning}"), file=sys.stderr)
    print(summary_table(report))
    return report.exit_code()
