"""Job attachments' asset roots, seen from the bundle: what a worker will make of our paths.

Job attachments (deadline library, `S3AssetManager._get_asset_groups`) group every
input, output and referenced path by its top directory (`PurePath(path).parts[0]`: a
drive such as `C:\\`, a share such as `\\\\server\\share\\`, or `/`), and each group's
root is the common path of its members. On a worker each root becomes its own folder
in the session, `...\\sessions\\session-<id>\\assetroot-<hash>\\`, about 107
characters deep on Windows. From that follow three things this module works out
(pure functions over path strings; nothing is read from disk):

- Files of *different* roots land in unrelated folders, and After Effects finds moved
  footage only relative to the project file: footage on another drive or share than
  the project is missing on a worker (`footage_outside_project_root`).
- A path `len(path) - len(root)` characters below its root is ~107 + that long on a
  worker; past ~250 Windows refuses it unless `LongPathsEnabled` is on or the queue
  provides junctions (`long_worker_paths`).
- Hundreds of output folders make hundreds of output entries; per root, their common
  parent lists the same outputs in one entry, as long as it holds no input (it would
  then also be scanned and synced as output) and is not the root of a drive
  (`covering_output_dirs`).

Storage profiles (LOCAL/SHARED file system locations) are not known at bundle time;
with them a root can be a configured location instead, which only narrows groups.
"""

from __future__ import annotations

import ntpath
import posixpath
from collections.abc import Iterable, Sequence
from types import ModuleType

from stmpo.bundle.template import path_flavour

#: How deep job attachments put an asset root on a Windows worker (session folder +
#: `assetroot-<hash>`), and how long a path Windows opens without long-path support.
WORKER_ROOT_DEPTH = 107
WINDOWS_PATH_LIMIT = 250
#: Up to this many output folders are listed one by one (short lists read best as
#: they are); above it, a covering set.
MANY_OUTPUT_DIRS = 16


def _norm(path: str, flavour: ModuleType) -> str:
    """For comparing: Windows paths case-insensitive with one separator."""
    if flavour is ntpath:
        return ntpath.normpath(path.replace("/", "\\")).lower()
    return posixpath.normpath(path)


def root_key(path: str) -> str:
    """The group job attachments puts `path` in: its drive or share, or `/`."""
    if path_flavour(path) is ntpath:
        drive = ntpath.splitdrive(path.replace("/", "\\"))[0]
        return drive.lower() if drive else "\\"
    return "/"


def _common(paths: Sequence[str]) -> str | None:
    flavour = path_flavour(paths[0])
    try:
        return str(
            flavour.commonpath([p.replace("/", "\\") if flavour is ntpath else p for p in paths])
        )
    except ValueError:  # relative and absolute mixed, or drives mixed: no root to name
        return None


def asset_roots(folders: Iterable[str]) -> dict[str, str]:
    """Root key -> the asset root job attachments will make of these folders (pass the
    folder of each file: a group of one file is rooted at its folder)."""
    groups: dict[str, list[str]] = {}
    for folder in folders:
        groups.setdefault(root_key(folder), []).append(folder)
    roots: dict[str, str] = {}
    for key, members in groups.items():
        common = _common(members)
        if common is not None:
            roots[key] = common
    return roots


def folder_of(path: str) -> str:
    return path_flavour(path).dirname(path) or path


def long_worker_paths(paths: Iterable[str], roots: dict[str, str]) -> list[tuple[int, str]]:
    """(length on a Windows worker, path) for each path that would pass the limit there,
    longest first."""
    found: list[tuple[int, str]] = []
    for path in dict.fromkeys(paths):
        root = roots.get(root_key(path))
        if root is None:
            continue
        on_worker = len(path) - len(root.rstrip("\\/")) + WORKER_ROOT_DEPTH
        if on_worker > WINDOWS_PATH_LIMIT:
            found.append((on_worker, path))
    return sorted(found, key=lambda found_path: (-found_path[0], found_path[1]))


def footage_outside_project_root(project: str, footage: Iterable[str]) -> list[str]:
    """Footage paths in another job attachments root than the project file."""
    home = root_key(project)
    return [path for path in dict.fromkeys(footage) if root_key(path) != home]


def _under(path: str, folder: str, flavour: ModuleType) -> bool:
    """Whether `path` is `folder` or inside it (both normalised)."""
    sep = "\\" if flavour is ntpath else "/"
    return path == folder or path.startswith(folder.rstrip(sep) + sep)


def _is_top(folder: str, flavour: ModuleType) -> bool:
    """A drive, share or filesystem root: never an output folder of ours."""
    norm = _norm(folder, flavour)
    if flavour is ntpath:
        rest = ntpath.splitdrive(norm)[1]
        return rest.strip("\\") == ""
    return norm == "/"


def covering_output_dirs(
    outputs: Sequence[str], input_files: Iterable[str], input_dirs: Iterable[str] = ()
) -> list[str]:
    """Output folders for the asset references: as given when there are few, else per
    root the common parent of its output folders, split further wherever that parent
    holds an input file or lies in an input folder. Every output folder stays covered."""
    if len(outputs) <= MANY_OUTPUT_DIRS:
        return list(outputs)
    files, dirs = list(input_files), list(input_dirs)
    by_root: dict[str, list[str]] = {}
    for output in outputs:
        by_root.setdefault(root_key(output), []).append(output)
    covering: list[str] = []
    for key, members in by_root.items():
        flavour = path_flavour(members[0])
        blocked_files = [_norm(p, flavour) for p in files if root_key(p) == key]
        blocked_dirs = [_norm(p, flavour) for p in dirs if root_key(p) == key]
        covering.extend(_cover(members, blocked_files, blocked_dirs, flavour))
    return list(dict.fromkeys(covering))


def _cover(dirs: list[str], files: list[str], in_dirs: list[str], flavour: ModuleType) -> list[str]:
    common = _common(dirs)
    if common is None or len(dirs) == 1:
        return dirs
    norm = _norm(common, flavour)
    holds_input = any(_under(f, norm, flavour) for f in files) or any(
        _under(norm, d, flavour) or _under(d, norm, flavour) for d in in_dirs
    )
    if not holds_input and not _is_top(common, flavour):
        return [common]
    exact = [d for d in dirs if _norm(d, flavour) == norm]
    if exact:  # an output folder of its own: listed anyway, and it covers the rest
        return [exact[0]]
    sep = "\\" if flavour is ntpath else "/"
    parts: dict[str, list[str]] = {}
    for d in dirs:
        below = _norm(d, flavour)[len(norm.rstrip(sep)) :].lstrip(sep)
        parts.setdefault(below.split(sep, 1)[0], []).append(d)
    if len(parts) == 1:  # cannot split (case or separator variants): keep them all
        return dirs
    out: list[str] = []
    for group in parts.values():
        out.extend(_cover(group, files, in_dirs, flavour))
    return out
