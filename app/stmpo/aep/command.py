"""`stmpo export-aep`: read a saved .aep project into an export JSON without After Effects"""

from __future__ import annotations

import argparse

from stmpo.errors import StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "export-aep", help="read a saved .aep project into an export JSON without After Effects"
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise StmpoError("stmpo export-aep is not built yet")
