"""`stmpo validate`: re-check an existing job bundle with openjd-model"""

from __future__ import annotations

import argparse

from stmpo.errors import StmpoError


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("validate", help="re-check an existing job bundle with openjd-model")
    p.add_argument("args", nargs="*")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    raise StmpoError("stmpo validate is not built yet")
