"""`stmpo export-aep`: read a saved .aep project into an export JSON without After Effects.

For farms and pipelines where no artist runs the bridge inside AE: the export it
writes loads anywhere an export does. Warnings (what a saved file cannot tell) go to
stderr as well as into the export, so a script sees them without parsing JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker.logtext import text_line
from stmpo.errors import StmpoError, writing
from stmpo.files import write_text_atomically
from stmpo.output_paths import file_target

EXPORT_FORMAT = "stmpo-ae-export"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "export-aep",
        help="read a saved .aep project into an export JSON without After Effects",
        description="Read a saved .aep project with py-aep (install stmpo-ae[aep]) and write "
        "the export JSON the submitter, `stmpo bundle` and `stmpo submit` take.",
    )
    p.add_argument("project", type=Path, metavar="PROJECT.aep", help="the saved project")
    p.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="EXPORT.json",
        help="write the export here (default: standard output)",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="do not print warnings to stderr")
    p.set_defaults(handler=run)


def is_export_text(text: str) -> bool:
    """An export (from here or the AE bridge): only such a file may `--output` replace."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("format") == EXPORT_FORMAT


def _write_export(output: Path, text: str) -> None:
    """Write beside the target, then rename: a failed run never leaves half a file, and
    only an earlier export is ever replaced."""
    folder = output.parent if str(output.parent) else Path(".")
    if not folder.is_dir():
        raise StmpoError(f"--output: the folder {folder} does not exist")
    with writing("--output"):
        target = file_target(output, ours=is_export_text, what="an export")
        write_text_atomically(target, text)


def run(args: argparse.Namespace) -> int:
    from stmpo.aep.reader import export_json, read_aep

    output: Path | None = args.output
    if output is not None and str(output) != "-":
        if output.exists() and output.resolve() == args.project.resolve():
            raise StmpoError("--output: would overwrite the project itself")
        with writing("--output"):  # refused before the project is read, not after
            file_target(output, ours=is_export_text, what="an export")
    export = read_aep(args.project)
    text = export_json(export)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
    else:
        _write_export(output, text)
    if not args.quiet:
        for warning in export.warnings:
            print(text_line(f"stmpo export-aep: warning: {warning}"), file=sys.stderr)
    return 0
