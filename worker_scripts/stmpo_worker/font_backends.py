"""Where a job's fonts go on each OS, behind one small `FontBackend` protocol.

Every file STMPO installs carries the session's tag in its name (`stmpo-<tag>...`), so
two sessions on one worker never share a file and one session's clean-up cannot pull a
font from under another's render. Files named `stmpo-*` are therefore never taken as
"already installed": they belong to some session and may vanish at any moment.

Removal trusts the state file for nothing but the tag and the content hashes: where a
session's files may be is worked out again from the tag (`FontBackend.owned`), and a
recorded path outside that place is refused (`ownership_problem`), so a damaged or
tampered state file cannot make the clean-up delete or rmdir anything else.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from .sfnt import FaceNames, read_faces

FONT_EXTENSIONS = (".ttf", ".otf", ".ttc", ".otc")
OWNED_PREFIX = "stmpo-"
_FC_CACHE_TIMEOUT_SEC = 120.0
_TAG = re.compile(r"[A-Za-z0-9_.-]{1,160}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class Ownership:
    """Where the files of one session's install may be, derived from its tag alone."""

    folder: Path  # the files sit directly in it
    prefix: str  # and every name starts with this
    own_folder: bool  # the install created the folder itself, so may rmdir it when empty


@dataclass(frozen=True)
class FontFile:
    """A font file attached to the job, with what the installer needs to know about it."""

    path: Path
    faces: tuple[FaceNames, ...]
    sha256: str
    size: int

    @property
    def label(self) -> str:
        """PostScript name(s), for log lines such as `font installed: Inter-Bold (...)`."""
        return ", ".join(face.label for face in self.faces)

    @property
    def display_name(self) -> str:
        """Windows' name for the registry value: full names, `&`-joined for a collection."""
        names = [
            face.full_name or f"{face.family} {face.style}".strip() or face.label
            for face in self.faces
        ]
        return " & ".join(names)

    @property
    def kind(self) -> str:
        """`TrueType` or `OpenType` (CFF outlines), the suffix Windows puts on value names."""
        return "OpenType" if all(face.outlines == "cff" for face in self.faces) else "TrueType"


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_font_file(path: Path) -> FontFile:
    """Read and name a font file; raises `SfntError` or `OSError` when it cannot."""
    data = path.read_bytes()
    return FontFile(
        path=path,
        faces=tuple(read_faces(data)),
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def safe_tag(value: str) -> str:
    """A session/job id made safe for a file name (ids are already tame; paranoia is cheap)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", value)[:80] or "job"


def valid_tag(tag: object) -> bool:
    """A tag read back from a state file: one plain name part, never a path."""
    return isinstance(tag, str) and _TAG.fullmatch(tag) is not None and tag not in (".", "..")


def valid_sha256(value: object) -> bool:
    return isinstance(value, str) and _SHA256.fullmatch(value) is not None


def _same_path(a: str, b: str) -> bool:
    return os.path.normcase(a) == os.path.normcase(b)


def ownership_problem(path_text: str, owned: Ownership) -> str | None:
    """Why `path_text` is not a file this session's install may have made, or None.

    Resolved paths are compared, so neither `..` nor a symbolic link (the file's or
    the folder's) can lead outside the session's own place.
    """
    if not os.path.isabs(path_text):
        return "not an absolute path"
    folder = os.path.realpath(owned.folder)
    if owned.own_folder and not _same_path(
        folder, os.path.join(os.path.realpath(owned.folder.parent), owned.folder.name)
    ):
        return f"{owned.folder} is a link, not the folder the install created"
    if os.path.islink(path_text):
        return "is a symbolic link"
    real = os.path.realpath(path_text)
    name = os.path.basename(real)
    if not _same_path(os.path.dirname(real), folder) or not name.startswith(owned.prefix):
        where = f"{owned.folder}{os.sep}{owned.prefix}*" if owned.prefix else str(owned.folder)
        return f"not inside {where}, where this session installs"
    return None


def remove_owned_folder(owned: Ownership) -> None:
    """rmdir the session's own folder once it is empty; never any other folder."""
    if not owned.own_folder or ownership_problem(str(owned.folder / "x"), owned) is not None:
        return
    try:
        owned.folder.rmdir()
    except OSError:  # not empty (a file kept for a later attempt) or already gone
        return


def _font_files_under(folders: Iterable[Path]) -> Iterator[Path]:
    for folder in folders:
        for root, dirs, files in os.walk(folder):
            dirs[:] = [d for d in dirs if not d.startswith(OWNED_PREFIX)]
            for name in files:
                if name.lower().endswith(FONT_EXTENSIONS) and not name.startswith(OWNED_PREFIX):
                    yield Path(root, name)


def same_content(font: FontFile, path: Path) -> bool:
    """Whether `path` holds exactly this font; the size is compared first, it is free."""
    try:
        return path.stat().st_size == font.size and file_digest(path) == font.sha256
    except OSError:
        return False


def find_identical(font: FontFile, folders: Iterable[Path]) -> Path | None:
    """A font file with exactly this content under `folders`, ignoring STMPO's own files.

    A system font folder holds hundreds of files and this runs once per attached
    font, so only files of the same size are hashed.
    """
    for candidate in _font_files_under(folders):
        if same_content(font, candidate):
            return candidate
    return None


def copy_atomically(source: Path, target: Path) -> None:
    """Copy so that a reader never sees half a font (a temp name, then a rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    os.replace(partial, target)


def remove_installed_file(record: Mapping[str, str]) -> None:
    """Delete a file this session installed, unless someone replaced its content since."""
    path = Path(record["path"])
    if not path.exists():
        return
    if file_digest(path) != record["sha256"]:
        raise OSError(f"{path} changed since it was installed; left in place")
    path.unlink()


class FontBackend(Protocol):
    """How fonts are installed for the job's user on one OS."""

    name: str

    def find_installed(self, font: FontFile) -> Path | None:
        """An identical font the user already has (left alone, never removed), or None."""
        ...

    def owned(self, tag: str) -> Ownership:
        """Where this backend puts the files of the install tagged `tag`."""
        ...

    def plan(self, font: FontFile, tag: str) -> dict[str, str]:
        """The record of an install: `path` (where the file goes) and backend details.

        Recorded in the state file before `install` runs, so a crash in between still
        lets `remove` clean up.
        """
        ...

    def install(self, font: FontFile, record: Mapping[str, str]) -> None: ...

    def remove(self, record: Mapping[str, str]) -> None:
        """Undo `install`, tolerating a half-done install (missing file or value)."""
        ...

    def refresh(self) -> None:
        """Tell the OS the font set changed (fc-cache, WM_FONTCHANGE); may raise OSError."""
        ...


class LinuxBackend:
    """fontconfig: the job's fonts in their own folder under the user's font folder."""

    name = "linux"

    def __init__(
        self,
        data_home: Path | None = None,
        system_dirs: Sequence[Path] | None = None,
        fc_cache: str | None = "auto",
    ) -> None:
        if data_home is None:
            xdg = os.environ.get("XDG_DATA_HOME")
            data_home = Path(xdg) if xdg else Path.home() / ".local" / "share"
        self.fonts_root = data_home / "fonts"
        if system_dirs is None:
            system_dirs = [
                Path.home() / ".fonts",
                Path("/usr/share/fonts"),
                Path("/usr/local/share/fonts"),
            ]
        self.search_dirs = [self.fonts_root, *system_dirs]
        self.fc_cache = shutil.which("fc-cache") if fc_cache == "auto" else fc_cache

    def find_installed(self, font: FontFile) -> Path | None:
        return find_identical(font, self.search_dirs)

    def owned(self, tag: str) -> Ownership:
        return Ownership(self.fonts_root / f"{OWNED_PREFIX}{tag}", "", own_folder=True)

    def plan(self, font: FontFile, tag: str) -> dict[str, str]:
        return {"path": str(self.owned(tag).folder / font.path.name)}

    def install(self, font: FontFile, record: Mapping[str, str]) -> None:
        copy_atomically(font.path, Path(record["path"]))

    def remove(self, record: Mapping[str, str]) -> None:
        remove_installed_file(record)

    def refresh(self) -> None:
        if not self.fc_cache or not self.fonts_root.is_dir():
            return
        try:
            done = subprocess.run(
                [self.fc_cache, str(self.fonts_root)],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=_FC_CACHE_TIMEOUT_SEC,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise OSError(f"fc-cache did not finish in {exc.timeout:g} s") from exc
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise OSError(f"fc-cache exited {done.returncode}: {detail[-1] if detail else ''}")


class MacBackend:
    """macOS activates any font put in ~/Library/Fonts; nothing else to call."""

    name = "macos"

    def __init__(
        self, fonts_dir: Path | None = None, system_dirs: Sequence[Path] | None = None
    ) -> None:
        self.fonts_dir = fonts_dir or Path.home() / "Library" / "Fonts"
        if system_dirs is None:
            system_dirs = [Path("/Library/Fonts"), Path("/System/Library/Fonts")]
        self.search_dirs = [self.fonts_dir, *system_dirs]

    def find_installed(self, font: FontFile) -> Path | None:
        return find_identical(font, self.search_dirs)

    def owned(self, tag: str) -> Ownership:
        # Flat, not a sub-folder: files directly in ~/Library/Fonts are activated on
        # every macOS version.
        return Ownership(self.fonts_dir, f"{OWNED_PREFIX}{tag}-", own_folder=False)

    def plan(self, font: FontFile, tag: str) -> dict[str, str]:
        owned = self.owned(tag)
        return {"path": str(owned.folder / f"{owned.prefix}{font.path.name}")}

    def install(self, font: FontFile, record: Mapping[str, str]) -> None:
        copy_atomically(font.path, Path(record["path"]))

    def remove(self, record: Mapping[str, str]) -> None:
        remove_installed_file(record)

    def refresh(self) -> None:
        return None
