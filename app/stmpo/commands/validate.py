"""`stmpo validate`: re-check an existing job bundle with openjd-model."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "validate",
        help="re-check an existing job bundle with openjd-model",
        description="Check a job bundle folder: files present, template valid under Open Job "
        "Description with its parameter values, readable by the deadline library.",
    )
    p.add_argument("bundle", type=Path, help="the job bundle folder")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stmpo.bundle import validate_bundle_dir
    from stmpo.bundle.command_lines import too_long
    from stmpo.bundle.validate import read_template

    validate_bundle_dir(args.bundle)
    # Valid for OpenJD, but a hand-edited action may not start on a Windows worker.
    for warning in too_long(read_template(args.bundle)):
        print(f"warning: {warning}", file=sys.stderr)
    print(f"{args.bundle}: valid")
    return 0
