"""Errors that carry every problem at once, so a CLI can print them all and exit 2.

A user fixing an export should see all of its problems in one go, each tied to the
JSON path or argument at fault, never a Python traceback.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (a JSON path or an argument) and what."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class StmpoError(Exception):
    """Bad input or a failed operation the user can act on. CLIs exit 2 on it."""

    def __init__(self, problems: Iterable[Problem] | str, *, source: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem("", problems)]
        self.problems: list[Problem] = list(problems)
        self.source = source
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.source}: " if self.source else ""
        if len(self.problems) == 1:
            return head + str(self.problems[0])
        lines = [f"{head}{len(self.problems)} problems:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class ExportError(StmpoError):
    """The export file is unreadable or does not follow the `stmpo-ae-export` contract."""


class BundleError(StmpoError):
    """A job bundle could not be built, or fails Open Job Description validation."""


class OutputRefused(StmpoError):
    """An output path stmpo will not write there (it would replace what stmpo did not
    write); `writing(argument)` puts the argument that named it in front."""


def os_problem(where: str, exc: OSError) -> Problem:
    """An OSError as one plain sentence: which file, and what the OS said."""
    subject = exc.filename if exc.filename is not None else ""
    reason = exc.strerror or str(exc)
    return Problem(where, f"{subject}: {reason}" if subject else reason)


@contextmanager
def writing(argument: str) -> Iterator[None]:
    """A failed or refused write of an output the user named becomes exit 2 naming that
    argument."""
    try:
        yield
    except OutputRefused as exc:
        raise StmpoError([Problem(argument, str(p)) for p in exc.problems]) from None
    except OSError as exc:
        raise StmpoError([os_problem(argument, exc)]) from None
