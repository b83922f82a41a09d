"""`stmpo submit`: build, validate and submit one job per export to Deadline Cloud"""

from __future__ import annotations

import argparse

from stmpo.errors import StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "submit", help="build, validate and submit one job per export to Deadline Cloud"
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise StmpoError("stmpo submit is not built yet")
