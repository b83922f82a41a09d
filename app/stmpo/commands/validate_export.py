"""`stmpo validate-export FILE`: check an export before anything is built from it.

An artist or a pipeline script fixing an export wants every problem in one run, each
tied to its JSON path; a good export gets a one-line summary so the check is also a
quick look at what would be rendered.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from stmpo.export.model import Export


def summary(export: Export) -> str:
    """One line: project, items (and how many are preselected), frames, outputs, fonts."""
    items = export.render_queue
    renderable = export.renderable_items
    frames = sum(item.frames.count for item in renderable)
    modules = sum(len(item.output_modules) for item in items)

    def count(n: int, word: str) -> str:
        return f"{n} {word}{'' if n == 1 else 's'}"

    parts = [
        f"{count(len(items), 'render queue item')} "
        f"({len(renderable)} renderable, {count(frames, 'frame')})",
        count(modules, "output module"),
        count(len(export.fonts), "font"),
    ]
    if export.warnings:
        parts.append(count(len(export.warnings), "warning"))
    return f"{export.project_name}: " + ", ".join(parts)


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "validate-export",
        help="check an export JSON file; print a summary, or every problem and exit 2",
    )
    p.add_argument(
        "files",
        type=Path,
        nargs="+",
        metavar="file",
        help="export JSON written by the AE bridge or export-aep, or a saved .aep",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Check every file, so a wrangler sees the whole night's problems in one run."""
    import sys

    from stmpo.errors import StmpoError
    from stmpo.export.sources import load_any

    failed = 0
    for file in args.files:
        try:
            export = load_any(file)
        except StmpoError as exc:
            if len(args.files) == 1:
                raise
            failed += 1
            print(f"stmpo validate-export: {exc.render()}", file=sys.stderr)
            continue
        print(f"{file}: OK, {summary(export)}")
    if failed:
        print(f"{failed} of {len(args.files)} exports have problems", file=sys.stderr)
        return 2
    return 0
