"""Which path an output the user named really is, and whether stmpo may replace it.

One rule for every output: what is there is replaced only when stmpo wrote it. A
symbolic link is followed to what it points to (the link stays a link); a link that
leads nowhere (dangling, a loop) is refused by its name, never by a temporary's. The
refusals are `OutputRefused`, which `stmpo.errors.writing(argument)` prefixes with the
argument that named the path, so the user reads `-o: <path>: why`.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from stmpo.errors import OutputRefused, Problem

#: Larger files are not read to decide whether stmpo wrote them: they are not ours.
_MAX_OURS_BYTES = 64 * 1024 * 1024


def refuse(path: Path, why: str) -> OutputRefused:
    return OutputRefused([Problem(str(path), why)])


def follow_link(shown: Path) -> Path:
    """`shown`, or what its symbolic link points to; refused if that does not exist."""
    if not os.path.islink(shown):
        return shown
    try:
        return shown.resolve(strict=True)
    except FileNotFoundError:
        raise refuse(
            shown, f"is a symbolic link to {os.readlink(shown)}, which does not exist"
        ) from None
    except (OSError, RuntimeError):  # ELOOP (RuntimeError before Python 3.13)
        raise refuse(shown, "is a symbolic link that loops back on itself") from None


def file_target(
    path: str | Path, *, ours: Callable[[str], bool], what: str, head: int | None = None
) -> Path:
    """The file to write for the output `path`: new, empty, or one `ours` recognises.

    `what` names what stmpo writes there ("an export", "a schema") for the refusal.
    With `head`, `ours` sees only the file's first `head` bytes (a log of any size is
    recognised by its first line).
    """
    shown = Path(path).absolute()
    real = follow_link(shown)
    try:
        info = os.stat(real)
    except FileNotFoundError:
        return real
    if stat.S_ISDIR(info.st_mode):
        raise refuse(shown, "is a folder; give a file name")
    if info.st_size == 0:
        return real
    too_big = head is None and info.st_size > _MAX_OURS_BYTES
    if not stat.S_ISREG(info.st_mode) or too_big:
        raise refuse(shown, f"exists and is not {what} stmpo wrote")
    with open(real, "rb") as handle:
        data = handle.read(-1 if head is None else head)
    try:  # a cut at `head` may split a character: ignore only that
        text = data.decode("utf-8", errors="strict" if head is None else "ignore")
    except UnicodeDecodeError:
        text = ""
    if not ours(text):
        raise refuse(shown, f"exists and is not {what} stmpo wrote; give another file name")
    return real
