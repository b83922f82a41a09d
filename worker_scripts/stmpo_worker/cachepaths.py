"""Which paths lie inside a file cache root (Amazon File Cache, Lustre), on any OS.

Pure, standard library only: the submitter decides with it which files reach the
workers through the cache mount (and are not uploaded), and the worker's cache steps
decide with it which rendered files to write back. One definition for both.

Why not `os.path.commonpath` as the reference post does: it raises for paths on
different Windows drives (the post catches the error and silently skips), compares
case-sensitively on POSIX even for a Windows path, and treats `C:/a` and `C:\\a` as
different. Here a path and a root are compared in their own flavour:
- Windows paths (`C:\\...`, `C:/...`, `\\\\server\\share\\...`) case-insensitively, with
  `/` and `\\` alike; a root on another drive or share never matches;
- POSIX paths case-sensitively;
- `.` and `..` components are resolved lexically, repeated separators ignored;
- a root matches itself and what lies below it, never a sibling sharing a prefix
  (`/mnt/cache/show` is not inside `/mnt/cache/sh`);
- a Windows path never matches a POSIX root, nor the other way round.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
from collections.abc import Iterable, Sequence

_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_UNC = re.compile(r"^[\\/]{2}[^\\/]+[\\/][^\\/]+")


class CacheRootProblem(ValueError):
    """A cache root that cannot be used; `root` is the text as given."""

    def __init__(self, root: str, why: str) -> None:
        self.root = root
        super().__init__(f"cache root {root!r}: {why}")


def is_windows_path(path: str) -> bool:
    return bool(_DRIVE.match(path) or _UNC.match(path))


def is_absolute(path: str) -> bool:
    return is_windows_path(path) or path.startswith("/")


def _parts(path: str) -> tuple[str, tuple[str, ...]]:
    """(anchor, components) in a comparable form: the drive or share lower-cased for
    Windows paths, components lower-cased too; '' anchor + '/' for POSIX."""
    if is_windows_path(path):
        norm = ntpath.normpath(path.replace("/", "\\"))
        drive, rest = ntpath.splitdrive(norm)
        parts = tuple(p.lower() for p in rest.split("\\") if p)
        return "win:" + drive.lower().rstrip("\\"), parts
    norm = posixpath.normpath(path)
    if norm.startswith("//"):  # POSIX keeps a leading '//' as implementation-defined
        norm = "/" + norm.lstrip("/")
    return "posix:", tuple(p for p in norm.split("/") if p)


def parse_roots(text: str) -> list[str]:
    """`CacheRootPaths` (semicolon-separated) as a list; CacheRootProblem for a root that
    is not absolute. Empty entries are ignored; an empty text is no root (off)."""
    roots: list[str] = []
    for raw in text.split(";"):
        root = raw.strip()
        if not root:
            continue
        if not is_absolute(root):
            raise CacheRootProblem(root, "not an absolute path")
        roots.append(root)
    return roots


def is_inside(path: str, root: str) -> bool:
    """Whether `path` is `root` or lies below it (see the module docstring)."""
    if not (is_absolute(path) and is_absolute(root)):
        return False
    path_anchor, path_parts = _parts(path)
    root_anchor, root_parts = _parts(root)
    return path_anchor == root_anchor and path_parts[: len(root_parts)] == root_parts


def same_path(a: str, b: str) -> bool:
    """Whether two absolute paths name the same place, by the rules above (two spellings
    of one Windows path match); anything else compares as written."""
    if is_absolute(a) and is_absolute(b):
        return _parts(a) == _parts(b)
    return a == b


def root_of(path: str, roots: Sequence[str]) -> str | None:
    """The deepest root `path` lies in, or None."""
    best: str | None = None
    best_depth = -1
    for root in roots:
        if is_inside(path, root):
            depth = len(_parts(root)[1])
            if depth > best_depth:
                best, best_depth = root, depth
    return best


def split_by_roots(paths: Iterable[str], roots: Sequence[str]) -> tuple[list[str], list[str]]:
    """(inside some root, outside every root), each in the order given."""
    inside: list[str] = []
    outside: list[str] = []
    for path in paths:
        (inside if root_of(path, roots) is not None else outside).append(path)
    return inside, outside
