"""`stmpo run-local`: run a job bundle (or an export) on this machine through openjd-sessions"""

from __future__ import annotations

import argparse

from stmpo.errors import StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "run-local", help="run a job bundle (or an export) on this machine through openjd-sessions"
    )
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise StmpoError("stmpo run-local is not built yet")
