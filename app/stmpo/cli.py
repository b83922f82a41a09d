"""The `stmpo` command line: one subcommand per module in `COMMANDS` (`stmpo.commands`).

Each command module exposes `add_parser(subparsers)` and `run(args) -> int` and keeps
heavy imports (Qt, boto3, openjd-sessions) inside `run`, so `stmpo --help` stays fast.
Bad input exits 2 with one line per problem; a traceback is a bug.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol, cast

from stmpo import __version__
from stmpo.errors import StmpoError, os_problem

COMMANDS: tuple[str, ...] = (
    "stmpo.commands.bundle",
    "stmpo.commands.validate",
    "stmpo.commands.run_local",
    "stmpo.commands.demo",
    "stmpo.commands.submit",
    "stmpo.commands.export_aep",
    "stmpo.commands.schema",
    "stmpo.commands.fonts",
    "stmpo.commands.validate_export",
    "stmpo.commands.cache",
    "stmpo.commands.doctor",
)


class CommandModule(Protocol):
    def add_parser(self, subparsers: argparse._SubParsersAction) -> None: ...  # type: ignore[type-arg]

    def run(self, args: argparse.Namespace) -> int: ...


class _Parser(argparse.ArgumentParser):
    """argparse, but errors name the argument at fault and exit 2 without usage noise."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="stmpo", description="Render After Effects on AWS Deadline Cloud with STMPO."
    )
    parser.add_argument("--version", action="version", version=f"stmpo {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMANDS:
        module = cast(CommandModule, importlib.import_module(name))
        module.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:  # while the command modules load (see stmpo.entry)
        print("stmpo: interrupted", file=sys.stderr)
        return 130
    try:
        return int(args.handler(args))
    except StmpoError as exc:
        print(f"stmpo {args.command}: {exc.render()}", file=sys.stderr)
        return 2
    except OSError as exc:  # a path the user gave that the OS refused: bad input, not a bug
        print(f"stmpo {args.command}: {os_problem('', exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"stmpo {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        problem = config_problem(exc)
        if problem is None:
            raise
        print(f"stmpo {args.command}: {problem}", file=sys.stderr)
        return 2


def config_problem(exc: BaseException) -> str | None:
    """A damaged AWS configuration file (botocore reads it wherever the `deadline`
    library first makes a session, even for offline commands) is the user's to fix: one
    line naming the file, not a traceback."""
    from botocore.exceptions import ConfigParseError

    if isinstance(exc, ConfigParseError):
        where = exc.kwargs.get("path", "AWS configuration")
        return f"{where}: the AWS configuration file is damaged; fix or move it"
    return None


if __name__ == "__main__":
    from stmpo.entry import stmpo

    sys.exit(stmpo())
