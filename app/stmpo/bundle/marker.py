"""The `.stmpo-bundle` marker: the only proof that a folder may be replaced.

`--force` once replaced any non-empty folder, so `-o .` or `-o shot/` with the export,
the `.aep` or an artist's files in it deleted them. Now every bundle stmpo writes holds
a marker listing every file it wrote, and a folder is replaced only when its marker is
ours and it holds nothing the marker does not list (Python's own `__pycache__`, which a
local run leaves beside the worker scripts, excepted). Anything else is refused.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

MARKER = ".stmpo-bundle"
FORMAT = "stmpo-job-bundle"
VERSION = 1
_SHOWN = 3


def marker_text(files: Iterable[str]) -> str:
    """The marker's content for a bundle holding `files` (relative POSIX paths)."""
    listed = sorted(set(files) | {MARKER})
    return json.dumps({"format": FORMAT, "version": VERSION, "files": listed}, indent=1) + "\n"


def files_in(folder: Path) -> list[str]:
    """Every file under `folder`, as the relative POSIX paths the marker lists."""
    found = []
    for root, _dirs, names in os.walk(folder):
        base = Path(root).relative_to(folder)
        found += [(base / name).as_posix() for name in names]
    return found


def listed_files(text: str) -> frozenset[str] | None:
    """The files a marker lists; None when it is not a marker stmpo wrote."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict) or (data.get("format"), data.get("version")) != (
        FORMAT,
        VERSION,
    ):
        return None
    files = data.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return frozenset(files)


def _python_cache(relative: str) -> bool:
    parts = PurePosixPath(relative).parts
    return "__pycache__" in parts[:-1] or parts[-1] == "__pycache__"


def foreign_entries(folder: Path, listed: frozenset[str]) -> list[str]:
    """What under `folder` the marker does not account for (links always count)."""
    dirs = {str(p) for f in listed for p in PurePosixPath(f).parents if str(p) != "."}
    foreign: list[str] = []

    def unreadable(exc: OSError) -> None:
        foreign.append(f"{exc.filename} (unreadable)")

    for root, subdirs, names in os.walk(folder, onerror=unreadable):
        base = PurePosixPath(Path(root).relative_to(folder).as_posix())
        for name in sorted(subdirs):
            relative = str(base / name)
            if os.path.islink(os.path.join(root, name)) or not (
                relative in dirs or _python_cache(relative)
            ):
                foreign.append(relative)
                subdirs.remove(name)  # its content is foreign too; one name says enough
        for name in sorted(names):
            relative = str(base / name)
            if os.path.islink(os.path.join(root, name)) or not (
                relative in listed or (_python_cache(relative) and name.endswith(".pyc"))
            ):
                foreign.append(relative)
    return foreign


def refusal(folder: Path) -> str | None:
    """Why the existing, non-empty `folder` may not be replaced; None if it may."""
    marker = folder / MARKER
    listed = None
    if marker.is_file() and not marker.is_symlink():
        try:
            listed = listed_files(marker.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError):
            listed = None
    if listed is None:
        names = sorted(os.listdir(folder))
        return f"it holds files stmpo did not write (not a bundle: no {MARKER}): {_some(names)}"
    foreign = foreign_entries(folder, listed)
    if foreign:
        return f"it holds files stmpo did not write: {_some(foreign)}"
    return None


def _some(names: list[str]) -> str:
    shown = ", ".join(names[:_SHOWN])
    more = len(names) - _SHOWN
    return f"{shown} and {more} more" if more > 0 else shown
