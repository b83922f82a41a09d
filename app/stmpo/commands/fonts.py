"""`stmpo fonts`: which of an export's fonts would travel with the job, and why not."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from stmpo.errors import Problem, StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "fonts",
        help="resolve an export's fonts to files on this machine (what a bundle attaches)",
    )
    p.add_argument("export", type=Path, help="an stmpo-ae-export JSON file or a saved .aep project")
    p.add_argument(
        "--search-dir",
        type=Path,
        action="append",
        dest="search_dirs",
        metavar="DIR",
        help="look for fonts here instead of this OS's font folders (repeatable)",
    )
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.add_argument(
        "--strict",
        action="store_true",
        help="exit 1 when a font is missing or substituted",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from stmpo.export.sources import load_any
    from stmpo.fonts.index import FontNameCache, default_cache_file
    from stmpo.fonts.resolve import resolve_fonts

    for i, folder in enumerate(args.search_dirs or []):
        if not folder.is_dir():
            raise StmpoError([Problem(f"--search-dir[{i}]", f"{folder} is not a folder")])
    export = load_any(args.export)
    cache = None if args.search_dirs else FontNameCache(default_cache_file())
    results = resolve_fonts(export.fonts, args.search_dirs, cache=cache)
    if args.json:
        rows = [
            {
                "postScriptName": r.postscript_name,
                "state": r.state,
                "path": str(r.path) if r.path else None,
                "fontNumber": r.font_number,
                "reason": r.reason,
            }
            for r in results
        ]
        print(json.dumps(rows, indent=2))
    elif not results:
        print("the export lists no fonts")
    else:
        width = max(len(r.postscript_name) for r in results)
        for r in results:
            where = str(r.path) if r.path else r.reason
            print(f"{r.state:<10}  {r.postscript_name:<{width}}  {where}")
    problems = [r for r in results if r.state != "resolved"]
    return 1 if args.strict and problems else 0
