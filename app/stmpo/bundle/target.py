"""Where a bundle may go: the folder the user named, after its symbolic link, and what
is in it now.

A symbolic link to a folder is followed (the bundle goes into that folder and the link
stays); a link that leads nowhere (dangling, a loop) or to a file is refused by name.
The folder is free when it does not exist or is empty; an earlier bundle stmpo wrote
may be replaced only when asked to; anything else is refused, `--force` or not.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stmpo.bundle.marker import refusal
from stmpo.output_paths import follow_link, refuse

State = Literal["new", "empty", "bundle"]


@dataclass(frozen=True)
class Target:
    shown: Path
    """The path as the user gave it (absolute): what messages and callers see."""
    path: Path
    """The folder written: `shown`, or where a symbolic link at `shown` points."""
    state: State


def follow_folder_link(shown: Path) -> Path:
    """`shown`, or the folder its symbolic link points to; refused if it is no folder."""
    real = follow_link(shown)
    if real != shown and not real.is_dir():
        raise refuse(shown, f"is a symbolic link to {real}, which is not a folder")
    return real


def resolve_target(out_dir: str | Path, *, replace: bool) -> Target:
    """Where to write, and what is there; raises OutputRefused when it must not be used."""
    shown = Path(out_dir).absolute()
    path = follow_folder_link(shown)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return Target(shown, path, "new")
    if not stat.S_ISDIR(mode):
        raise refuse(shown, "exists and is not a folder")
    if not os.listdir(path):
        return Target(shown, path, "empty")
    why = refusal(path)
    if why is not None:
        raise refuse(shown, f"{why}; give a new or empty folder")
    if not replace:
        raise refuse(shown, "holds an earlier stmpo bundle (use --force to replace it)")
    return Target(shown, path, "bundle")
