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


def file_target(path: str | Path, *, ours: Callable[[str], bool], what: str) -> Path:
    """The file to write for the output `path`: new, empty, or one `ours` recognises.

    `what` names what stmpo writes there ("an export", "a schema") for the refusal.
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
    if not stat.S_ISREG(info.st_mode) or info.st_size > _MAX_OURS_BYTES:
        raise refuse(shown, f"exists and is not {what} stmpo wrote")
    try:
        text = real.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        text = ""
    if not ours(text):
        raise refuse(shown, f"exists and is not {what} stmpo wrote; give another file name")
    return real
