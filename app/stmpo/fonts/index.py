"""Which font file holds which PostScript name, for the font folders of this machine.

After Effects names a font by its PostScript name and often cannot say where the file
is, so the submitter reads name ID 6 of every font in the OS's font folders. A macOS
machine has close to a thousand font files, so the names read per file are cached by
(path, size, mtime): in memory for the life of the process, and optionally in a JSON
file so the next submitter start only re-reads fonts that changed.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from fontTools.ttLib.ttCollection import TTCollection

from stmpo.files import write_text_atomically

FONT_EXTENSIONS = (".ttf", ".otf", ".ttc", ".otc")
_CACHE_FORMAT = "stmpo-font-index"
_CACHE_VERSION = 1
_NO_NAME_ID = 0xFFFF


@dataclass(frozen=True)
class FaceName:
    """One PostScript name a file answers to."""

    postscript: str
    font_number: int  # index in a collection, 0 for a single font
    instance: bool = False  # a named instance of a variable font, not name ID 6 itself


@dataclass(frozen=True)
class FontLocation:
    path: Path
    font_number: int
    instance: bool = False


def system_font_dirs(
    platform: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
) -> list[Path]:
    """Where this OS keeps installed fonts, user folders first (they win on duplicates)."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if platform == "win32":
        dirs = []
        if env.get("LOCALAPPDATA"):
            dirs.append(Path(env["LOCALAPPDATA"]) / "Microsoft" / "Windows" / "Fonts")
        dirs.append(Path(env.get("WINDIR") or env.get("SystemRoot") or r"C:\Windows") / "Fonts")
        return dirs
    if platform == "darwin":
        return [home / "Library" / "Fonts", Path("/Library/Fonts"), Path("/System/Library/Fonts")]
    data_home = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else home / ".local/share"
    return [
        data_home / "fonts",
        home / ".fonts",
        Path("/usr/local/share/fonts"),
        Path("/usr/share/fonts"),
    ]


def _face_names(font: TTFont, font_number: int) -> Iterator[FaceName]:
    name_table = font.get("name")
    postscript = name_table.getDebugName(6) if name_table is not None else None
    if not postscript and "CFF " in font:
        postscript = font["CFF "].cff.fontNames[0]
    if postscript:
        yield FaceName(postscript, font_number)
    if "fvar" in font and name_table is not None:
        for instance in font["fvar"].instances:
            name_id = instance.postscriptNameID
            if name_id not in (None, _NO_NAME_ID):
                instance_name = name_table.getDebugName(name_id)
                if instance_name and instance_name != postscript:
                    yield FaceName(instance_name, font_number, instance=True)


def read_font_names(path: Path) -> list[FaceName]:
    """The PostScript names in a font file; raises on a file fontTools cannot read."""
    if path.suffix.lower() in (".ttc", ".otc"):
        collection = TTCollection(str(path), lazy=True)
        try:
            return [
                name
                for number, font in enumerate(collection.fonts)
                for name in _face_names(font, number)
            ]
        finally:
            collection.close()
    with TTFont(str(path), lazy=True) as font:
        return list(_face_names(font, 0))


def _font_files(folders: Iterable[Path]) -> Iterator[tuple[int, Path]]:
    for order, folder in enumerate(folders):
        for root, dirs, files in os.walk(folder):
            dirs.sort()
            for name in sorted(files):
                if name.lower().endswith(FONT_EXTENSIONS):
                    yield order, Path(root, name)


class FontNameCache:
    """Names per font file, valid while the file's size and mtime stay the same."""

    def __init__(self, cache_file: Path | None = None) -> None:
        self.cache_file = cache_file
        self._entries: dict[str, tuple[int, int, list[FaceName]]] = {}
        self._dirty = False
        if cache_file is not None:
            self._load(cache_file)

    def names(self, path: Path) -> list[FaceName]:
        """Names in `path`; an unreadable or broken font file simply has none."""
        try:
            stat = path.stat()
        except OSError:
            return []
        key = str(path)
        cached = self._entries.get(key)
        if cached is not None and cached[:2] == (stat.st_size, stat.st_mtime_ns):
            return cached[2]
        try:
            names = read_font_names(path)
        except Exception:
            # fontTools raises many kinds of errors on damaged files (TTLibError,
            # struct.error, AssertionError, KeyError...); a bad file must not stop the scan.
            names = []
        self._entries[key] = (stat.st_size, stat.st_mtime_ns, names)
        self._dirty = True
        return names

    def _load(self, cache_file: Path) -> None:
        try:
            data = json.loads(cache_file.read_text(encoding="utf-8"))
            if data.get("format") != _CACHE_FORMAT or data.get("version") != _CACHE_VERSION:
                return
            for key, (size, mtime, names) in data["files"].items():
                self._entries[key] = (
                    int(size),
                    int(mtime),
                    [FaceName(str(ps), int(num), bool(inst)) for ps, num, inst in names],
                )
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            self._entries.clear()  # a damaged cache is rebuilt, never trusted

    def save(self) -> None:
        """Write the cache file if anything changed; a read-only home is not an error."""
        if self.cache_file is None or not self._dirty:
            return
        files = {
            key: [size, mtime, [[n.postscript, n.font_number, n.instance] for n in names]]
            for key, (size, mtime, names) in self._entries.items()
        }
        data = {"format": _CACHE_FORMAT, "version": _CACHE_VERSION, "files": files}
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomically(self.cache_file, json.dumps(data))
            self._dirty = False
        except OSError:
            pass


_MEMORY_CACHE = FontNameCache()


def default_cache_file(
    platform: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Path:
    """The per-user cache file the GUI should pass to `FontIndex`."""
    platform = sys.platform if platform is None else platform
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    if platform == "win32":
        base = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "stmpo" / "cache"
    elif platform == "darwin":
        base = home / "Library" / "Caches" / "stmpo"
    else:
        base = Path(env["XDG_CACHE_HOME"]) if env.get("XDG_CACHE_HOME") else home / ".cache"
        base = base / "stmpo"
    return base / "font-index.json"


class FontIndex:
    """PostScript name -> the file that holds it, over a list of folders.

    On duplicates the earlier folder wins, and a font's own name ID 6 wins over a
    variable font's named instance.
    """

    def __init__(self, folders: Sequence[Path], cache: FontNameCache | None = None) -> None:
        self.folders = list(folders)
        self.cache = cache or _MEMORY_CACHE
        self._by_name: dict[str, tuple[tuple[bool, int], FontLocation]] | None = None
        self.files_scanned = 0

    def _build(self) -> dict[str, tuple[tuple[bool, int], FontLocation]]:
        by_name: dict[str, tuple[tuple[bool, int], FontLocation]] = {}
        for order, path in _font_files(self.folders):
            self.files_scanned += 1
            for face in self.cache.names(path):
                rank = (face.instance, order)
                known = by_name.get(face.postscript)
                if known is None or rank < known[0]:
                    by_name[face.postscript] = (
                        rank,
                        FontLocation(path, face.font_number, face.instance),
                    )
        self.cache.save()
        return by_name

    def lookup(self, postscript_name: str) -> FontLocation | None:
        """Scans the folders on first use only; an index is a snapshot."""
        if self._by_name is None:
            self._by_name = self._build()
        found = self._by_name.get(postscript_name)
        return found[1] if found else None

    def __len__(self) -> int:
        if self._by_name is None:
            self._by_name = self._build()
        return len(self._by_name)
