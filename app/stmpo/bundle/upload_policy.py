"""Which uploads need the artist's explicit opt-in, and how much a job will upload.

Job attachments upload every input file and every file under every input folder, with no
question about what they are. An export is outside text: one footage entry naming
`~/.ssh/id_rsa`, or a sequence whose frames are missing (so its whole folder is attached)
sitting in a home folder, would send keys or a whole disk to the queue's bucket. So two
categories are refused unless the artist opts in, each with its own flag:

- **secret** (`--allow-secret-paths`): a file or folder inside a well-known credentials
  location (`.ssh`, `.aws`, `.gnupg`, `.config/gcloud`, `.azure`, `.kube`, `.docker`,
  `.netrc`, `.git-credentials`, ... in any folder, Windows' `Microsoft\\Credentials`,
  `/etc`, `/proc`, `/sys`, `/dev`), reached directly or through a symlink, or a folder holding one.
- **broad** (`--allow-broad-assets`): a folder that is a filesystem or drive root, a home
  folder or the folder holding home folders, or one holding far more than the project
  (see `BROAD_*`). Only folders can be broad; a file is exactly what it names.

Walks are bounded (`WALK_LIMIT` entries), so checking never reads a whole disk.
"""

from __future__ import annotations

import functools
import ntpath
import os
import posixpath
import stat
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from stmpo.bundle.template import path_flavour
from stmpo.errors import Problem

#: A folder is broad when it holds more than this many files and more than
#: `BROAD_FACTOR` times the files the project names itself...
BROAD_MIN_FILES = 1_000
#: ...or more than this many bytes and `BROAD_FACTOR` times the project's own bytes.
BROAD_MIN_BYTES = 2 * 1024**3
BROAD_FACTOR = 10
#: No walk reads more directory entries than this (checking and counting alike).
WALK_LIMIT = 100_000

#: Folder names that hold credentials wherever they are (any user's home, a backup).
SECRET_DIR_NAMES = frozenset(
    {".ssh", ".aws", ".gnupg", ".azure", ".kube", ".docker", ".password-store", ".vault"}
)
#: File names that are credentials wherever they are.
SECRET_FILE_NAMES = frozenset(
    {
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".pgpass",
        ".pypirc",
        ".npmrc",
        ".vault-token",
        ".boto",
        ".s3cfg",
    }
)
#: Consecutive folder names that hold credentials (compared case-insensitively).
SECRET_DIR_PAIRS = frozenset(
    {
        (".config", "gcloud"),
        (".config", "gh"),
        (".local", "share", "keyrings"),
        ("library", "keychains"),
        ("microsoft", "credentials"),
        ("microsoft", "protect"),
        ("microsoft", "crypto"),
        ("appdata", "roaming", "gcloud"),
    }
)
#: System folders refused as a whole (POSIX): configuration, and the kernel's pseudo
#: files and devices (`/proc/self/environ` is the submitting process's environment, AWS
#: keys included; `/proc/self/root` leads everywhere).
SECRET_ROOTS = ("/etc", "/private/etc", "/proc", "/sys", "/dev")
#: Folders that hold home folders (and $HOME itself, wherever it is).
HOME_PARENTS = ("/home", "/Users", "/var/home")

SECRET = "secret"
BROAD = "broad"
ALLOW_FLAG = {SECRET: "--allow-secret-paths", BROAD: "--allow-broad-assets"}


@dataclass(frozen=True)
class UploadSource:
    """One input the bundle will upload, and where the artist can find it (a JSON path)."""

    path: str
    where: str
    is_dir: bool = False


@dataclass(frozen=True)
class UploadRules:
    """The artist's explicit opt-ins, one per category."""

    allow_secret_paths: bool = False
    allow_broad_assets: bool = False


@dataclass(frozen=True)
class UploadSummary:
    """What job attachments will upload, before deduplication; `complete` False when a
    bounded walk stopped early (then `files` and `bytes` are lower bounds)."""

    files: int = 0
    bytes: int = 0
    complete: bool = True
    cached_files: int = 0
    """Inputs under a file cache root: read through the cache mount, not uploaded."""

    def text(self) -> str:
        at_least = "" if self.complete else "at least "
        plural = "" if self.files == 1 else "s"
        text = f"{at_least}{self.files} file{plural}, {human_size(self.bytes)}"
        if self.cached_files:
            cached = "" if self.cached_files == 1 else "s"
            text += f"; {self.cached_files} file{cached} through the file cache, not uploaded"
        return text

    def to_json(self) -> dict[str, object]:
        data: dict[str, object] = {
            "files": self.files,
            "bytes": self.bytes,
            "complete": self.complete,
        }
        if self.cached_files:
            data["cachedFiles"] = self.cached_files
        return data


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _parts(path: str) -> list[str]:
    flavour = path_flavour(path)
    drive, rest = flavour.splitdrive(flavour.normpath(path))
    parts = [p for p in rest.replace("\\", "/").split("/") if p]
    return [drive, *parts] if drive else parts


def _secret_in_parts(parts: list[str]) -> bool:
    lowered = [p.lower() for p in parts]
    if any(p in SECRET_DIR_NAMES for p in parts):
        return True
    if parts and parts[-1] in SECRET_FILE_NAMES:
        return True
    for pair in SECRET_DIR_PAIRS:
        n = len(pair)
        if any(tuple(lowered[i : i + n]) == pair for i in range(len(lowered) - n + 1)):
            return True
    return False


def _under(path: str, folder: str) -> bool:
    flavour = path_flavour(path)
    path, folder = flavour.normcase(path), flavour.normcase(folder)
    return path == folder or path.startswith(folder.rstrip("/\\") + flavour.sep)


def _views(path: str) -> list[str]:
    """The path as written and, on this machine, with symlinks resolved."""
    if path_flavour(path) is not os.path and not sys.platform.startswith("win"):
        return [path]
    folder, name = os.path.split(path)
    if os.path.islink(path):
        real = os.path.realpath(path)
    else:  # the frames of a sequence share one folder: resolve it once
        real = os.path.join(_real_folder(folder), name) if name else _real_folder(folder)
    return [path] if real == path else [path, real]


@functools.lru_cache(maxsize=1024)
def _real_folder(folder: str) -> str:
    return os.path.realpath(folder)


def _secret_location(
    path: str, environ: Mapping[str, str], *, is_dir: bool = True, link: bool | None = None
) -> bool:
    """Is `path` in (or, for a symlink, pointing into) a credentials location? A file's
    folder is judged once per folder: a 10 000-frame sequence costs one lookup."""
    if is_dir:
        return _secret_path(path, _env_key(environ))
    flavour = path_flavour(path)
    folder, name = flavour.split(path)
    if name in SECRET_FILE_NAMES or name in SECRET_DIR_NAMES:
        return True
    if _secret_path(folder, _env_key(environ)):
        return True
    if link is None:
        link = flavour is os.path and os.path.islink(path)
    if link:
        return _secret_path(os.path.realpath(path), _env_key(environ))
    return False


def _env_key(environ: Mapping[str, str]) -> tuple[str, str]:
    return environ.get("APPDATA", ""), environ.get("LOCALAPPDATA", "")


@functools.lru_cache(maxsize=4096)
def _secret_path(path: str, env: tuple[str, str]) -> bool:
    for view in _views(path):
        if _secret_in_parts(_parts(view)):
            return True
        if path_flavour(view) is posixpath and any(_under(view, root) for root in SECRET_ROOTS):
            return True
        for base in env:
            if base and any(
                _under(view, ntpath.join(base, "Microsoft", sub))
                for sub in ("Credentials", "Protect", "Crypto")
            ):
                return True
    return False


def broad_folder_reason(path: str) -> str | None:
    """ "a filesystem root" / "a home folder" / ..., or None."""
    for view in _views(path):
        flavour = path_flavour(view)
        norm = flavour.normpath(view)
        drive, rest = flavour.splitdrive(norm)
        if rest in ("", "/", "\\"):
            return "a filesystem or drive root"
        parent = flavour.dirname(norm)
        own_home = os.path.expanduser("~")
        if flavour.normcase(norm) == flavour.normcase(os.path.normpath(own_home)):
            return "your home folder"
        parents = list(HOME_PARENTS)
        if flavour is ntpath:
            parents.append(ntpath.join(drive + "\\", "Users"))
        for top in parents:
            if flavour.normcase(norm) == flavour.normcase(top):
                return "the folder holding the home folders"
            if flavour.normcase(parent) == flavour.normcase(top) and top != "/":
                return "a home folder"
    return None


@dataclass
class _Walk:
    files: int = 0
    bytes: int = 0
    entries: int = 0
    complete: bool = True
    secret: bool = False


def _walk(folder: str, *, max_files: int, max_bytes: int, environ: Mapping[str, str]) -> _Walk:
    """Count files and bytes under `folder`, stopping past either maximum or WALK_LIMIT;
    symlinked folders are not followed (job attachments do not follow them either)."""
    walk = _Walk()
    pending = [folder]
    while pending:
        current = pending.pop()
        # A folder's whole path is judged once; its entries by name (cheap), and a symlink
        # by its target.
        if _secret_location(current, environ):
            walk.secret = True
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    walk.entries += 1
                    if (
                        walk.entries > WALK_LIMIT
                        or walk.files > max_files
                        or walk.bytes > max_bytes
                    ):
                        walk.complete = False
                        return walk
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    name, link = entry.name, stat.S_ISLNK(info.st_mode)
                    named = name in SECRET_DIR_NAMES or name in SECRET_FILE_NAMES
                    if named or (
                        link and _secret_location(entry.path, environ, is_dir=False, link=True)
                    ):
                        walk.secret = True
                    if stat.S_ISDIR(info.st_mode):
                        pending.append(entry.path)
                    elif stat.S_ISREG(info.st_mode):
                        walk.files += 1
                        walk.bytes += info.st_size
                    elif link:
                        walk.files += 1
                        walk.bytes += _size(entry.path)
        except OSError:
            continue
    return walk


def _lstat_size(path: str, links: set[str]) -> int:
    try:
        info = os.lstat(path)
    except OSError:
        return 0
    if stat.S_ISLNK(info.st_mode):
        links.add(path)
        return _size(path)
    return info.st_size


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


@dataclass(frozen=True)
class UploadCheck:
    problems: tuple[Problem, ...]
    summary: UploadSummary


def check_uploads(
    sources: Iterable[UploadSource],
    rules: UploadRules,
    *,
    also_uploaded: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> UploadCheck:
    """Refusals (one Problem per input, naming its JSON path and the flag that allows it)
    and the upload summary; `also_uploaded` are files stmpo adds itself (fonts, scripts)."""
    environ = os.environ if environ is None else environ
    _real_folder.cache_clear()  # a folder re-pointed since the last check is seen anew
    _secret_path.cache_clear()
    sources = list(sources)
    problems: list[Problem] = []
    sizes: dict[str, int] = {}
    links: set[str] = set()
    for source in sources:  # one lstat per file: its size, and whether it is a symlink
        if not source.is_dir and source.path not in sizes:
            sizes[source.path] = _lstat_size(source.path, links)
    extra = [path for path in dict.fromkeys(also_uploaded) if path not in sizes]
    total_files, total_bytes, complete = len(extra), sum(_size(path) for path in extra), True
    # The project's own size, for "far wider than the project": the files it names.
    max_files = max(BROAD_MIN_FILES, BROAD_FACTOR * len(sizes))
    max_bytes = max(BROAD_MIN_BYTES, BROAD_FACTOR * sum(sizes.values()))
    for source in sources:
        link = source.path in links if not source.is_dir else None
        secret = _secret_location(source.path, environ, is_dir=source.is_dir, link=link)
        if not rules.allow_secret_paths and secret:
            problems.append(_refusal(source, SECRET, "is in a credentials location"))
            continue
        if not source.is_dir:
            total_files += 1
            total_bytes += sizes[source.path]
            continue
        broad = broad_folder_reason(source.path)
        if broad is not None and not rules.allow_broad_assets:
            problems.append(_refusal(source, BROAD, f"is {broad}"))
            continue
        limits = (WALK_LIMIT, 1 << 62) if rules.allow_broad_assets else (max_files, max_bytes)
        walk = _walk(source.path, max_files=limits[0], max_bytes=limits[1], environ=environ)
        if walk.secret and not rules.allow_secret_paths:
            problems.append(_refusal(source, SECRET, "holds a credentials location"))
            continue
        if not walk.complete and not rules.allow_broad_assets:
            reason = (
                f"holds more than {max_files} files or {human_size(max_bytes)} "
                f"(more than {BROAD_FACTOR}x what the project names)"
            )
            problems.append(_refusal(source, BROAD, reason))
            continue
        total_files += walk.files
        total_bytes += walk.bytes
        complete = complete and walk.complete
    return UploadCheck(tuple(problems), UploadSummary(total_files, total_bytes, complete))


def _refusal(source: UploadSource, category: str, reason: str) -> Problem:
    kind = "folder" if source.is_dir else "file"
    what = "credentials" if category == SECRET else "a folder far wider than the project"
    return Problem(
        source.where,
        f"refusing to upload the {kind} {source.path}: it {reason}; "
        f"pass {ALLOW_FLAG[category]} if uploading {what} is really meant",
    )
