"""`stmpo validate-export FILE`: check an export before anything is built from it.

An artist or a pipeline script fixing an export wants every problem in one run, each
tied to its JSON path; a good export gets a one-line summary so the check is also a
quick look at what would be rendered.
"""

from __future__ import annotations

import argparse
from pathlib import Path

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
    p.add_argument("file", type=Path, help="export JSON written by the AE bridge or export-aep")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stmpo.export.loader import load_export

    export = load_export(args.file)
    print(f"{args.file}: OK, {summary(export)}")
    return 0
