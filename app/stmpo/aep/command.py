"""`stmpo export-aep`: read a saved .aep project into an export JSON without After Effects.

For farms and pipelines where no artist runs the bridge inside AE: the export it
writes loads anywhere an export does. Warnings (what a saved file cannot tell) go to
stderr as well as into the export, so a script sees them without parsing JSON.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from stmpo.errors import StmpoError, writing
from stmpo.files import open_new_beside


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


def _write_atomically(target: Path, text: str) -> None:
    """Write next to the target, then rename: a failed run never leaves half a file."""
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        raise StmpoError(f"--output: the folder {folder} does not exist")
    fd, tmp = open_new_beside(folder / target.name, ".tmp")  # the umask's mode, not 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise StmpoError(f"--output: cannot write {target}: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    from stmpo.aep.reader import export_json, read_aep

    output: Path | None = args.output
    if output is not None and str(output) != "-":
        if output.is_dir():
            raise StmpoError(f"--output: {output} is a folder; give a file name")
        if output.exists() and output.resolve() == args.project.resolve():
            raise StmpoError("--output: would overwrite the project itself")
    export = read_aep(args.project)
    text = export_json(export)
    if output is None or str(output) == "-":
        sys.stdout.write(text)
    else:
        with writing("--output"):
            _write_atomically(output, text)
    if not args.quiet:
        for warning in export.warnings:
            print(f"stmpo export-aep: warning: {warning}", file=sys.stderr)
    return 0
