"""Find the file of every font an export uses, so the job can carry it to the workers.

A font is `resolved` (its file is attached), `missing` (no file on this machine holds
that PostScript name) or `substitute` (After Effects itself rendered it with a stand-in
because it is not installed; the workers will too). The reason is plain text for the
submitter UI and the `stmpo fonts` command.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from stmpo.export.model import Font
from stmpo.fonts.index import FontIndex, FontNameCache, system_font_dirs

FontState = Literal["resolved", "missing", "substitute"]


@dataclass(frozen=True)
class FontResolution:
    font: Font
    state: FontState
    reason: str
    path: Path | None = None
    font_number: int | None = None  # index in a .ttc/.otc; the whole file is attached

    @property
    def postscript_name(self) -> str:
        return self.font.post_script_name

    @property
    def attached(self) -> bool:
        return self.state == "resolved"


def _check_location(font: Font, cache: FontNameCache) -> tuple[FontResolution | None, str]:
    """A resolution from the export's own `location`, or why that location did not do."""
    if not font.location:
        return None, "After Effects gave no file location"
    path = Path(font.location)
    if not path.is_file():
        return None, f"the file After Effects reported ({font.location}) does not exist here"
    names = cache.names(path)
    for face in names:
        if face.postscript == font.post_script_name:
            return FontResolution(
                font,
                "resolved",
                "at the location After Effects reported",
                path,
                face.font_number,
            ), ""
    if not names:
        return None, f"{font.location} is not a readable font file"
    held = ", ".join(sorted({face.postscript for face in names}))
    return None, f"{font.location} holds {held}, not {font.post_script_name}"


def resolve_font(font: Font, index: FontIndex) -> FontResolution:
    if font.is_substitute:
        return FontResolution(
            font,
            "substitute",
            "After Effects substituted this font because it is not installed on the "
            "machine that exported the project; the render will use the substitute too",
        )
    resolution, why_not = _check_location(font, index.cache)
    if resolution is not None:
        return resolution
    found = index.lookup(font.post_script_name)
    if found is None:
        folders = ", ".join(str(f) for f in index.folders) or "no folders"
        return FontResolution(font, "missing", f"{why_not}, and no font in {folders} has it")
    how = "a named instance of the variable font" if found.instance else "found"
    return FontResolution(
        font,
        "resolved",
        f"{how} at {found.path} ({why_not})",
        found.path,
        found.font_number,
    )


def resolve_fonts(
    export_fonts: Iterable[Font],
    search_dirs: Sequence[Path] | None = None,
    *,
    cache: FontNameCache | None = None,
) -> list[FontResolution]:
    """Resolve each export font, in order; never raises for a missing or broken font.

    `search_dirs` defaults to this OS's font folders. The folders are scanned only
    if some font is not at its reported location. Pass a `FontNameCache` with a cache
    file (`default_cache_file()`) to make the next scan of the same folders quick.
    """
    folders = system_font_dirs() if search_dirs is None else list(search_dirs)
    index = FontIndex(folders, cache)
    return [resolve_font(font, index) for font in export_fonts]


def attachment_files(resolutions: Iterable[FontResolution]) -> list[Path]:
    """The font files to attach: each resolved file once, in order."""
    files: dict[Path, None] = {}
    for resolution in resolutions:
        if resolution.attached and resolution.path is not None:
            files.setdefault(resolution.path, None)
    return list(files)


def copy_font_files(resolutions: Iterable[FontResolution], dest: Path) -> list[Path]:
    """Copy the files to attach into `dest` (the bundle's `scripts/fonts`), flat.

    Two different files may share a name (a user and a system copy of `Arial.ttf`);
    the later one gets a numeric suffix, since the worker installs every file it finds.
    """
    dest.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    taken: set[str] = set()
    for source in attachment_files(resolutions):
        name, n = source.name, 1
        while name.lower() in taken:
            n += 1
            name = f"{source.stem}-{n}{source.suffix}"
        taken.add(name.lower())
        target = dest / name
        shutil.copyfile(source, target)
        written.append(target)
    return written
