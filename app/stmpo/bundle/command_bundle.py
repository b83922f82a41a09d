"""`stmpo bundle`: write a validated Deadline Cloud job bundle from an export"""

from __future__ import annotations

import argparse

from stmpo.errors import StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "bundle", help="write a validated Deadline Cloud job bundle from an export"
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise StmpoError("stmpo bundle is not built yet")
