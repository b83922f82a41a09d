"""`stmpo bundle`: write a validated Deadline Cloud job bundle from an export."""

from __future__ import annotations

import argparse
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
from stmpo.errors import writing


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "bundle",
        help="write a validated Deadline Cloud job bundle from an export",
        description="Build an OpenJD job bundle (template, parameter values, asset "
        "references, worker scripts, fonts) from an After Effects export, validate it, "
        "and write it to a folder.",
    )
    p.add_argument("export", type=Path, help="the export JSON (stmpo-ae-export) or a saved .aep")
    p.add_argument("-o", "--output", type=Path, required=True, help="bundle folder to write")
    add_selection_arguments(
        p, parameter_help="job parameter value (repeatable), e.g. -p Concurrency=8 -p ChunkSize=50"
    )
    p.add_argument("--job-name", help='default: "<project> (N items)"')
    add_input_file_argument(p)
    add_upload_arguments(p)
    add_job_property_arguments(p)
    add_worker_arguments(p)
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export.sources import load_any

    settings = BundleSettings(
        items=parse_items(args.items),
        frame_overrides=parse_frames(args.frames),
        parameters=parse_assignments(args.parameter),
        job_name=args.job_name,
        extra_input_files=tuple(args.input_file),
        allow_secret_paths=args.allow_secret_paths,
        allow_broad_assets=args.allow_broad_assets,
        job_properties=parse_job_properties(args),
        task_timeout=parse_task_timeout(args.task_timeout),
        host_requirements=parse_host_requirements(args.host_requirements),
    )
    export = load_any(args.export)
    built = build_bundle(export, settings)
    with writing("-o"):
        out = write_bundle(built, args.output, overwrite=args.force)
    for warning in built.warnings:
        print(text_line(f"warning: {warning}"), file=sys.stderr)
    steps = len(built.plans)
    tasks = sum(len(plan.chunks) for plan in built.plans)
    cache_steps = len(built.template["steps"]) - steps
    cache = f" (+ {cache_steps} file cache steps)" if cache_steps else ""
    print(
        f'{out}: "{built.job_name}", {steps} step{"s" if steps != 1 else ""}{cache}, '
        f"{tasks} task{'s' if tasks != 1 else ''}, uploads {built.uploads.text()}"
    )
    return 0
