"""Fonts on the submitter: which file holds each font the project uses.

The worker half (installing the attached files for the job) is
`worker_scripts/stmpo_worker/fonts.py`; `docs/fonts.md` describes both.

The names below load on first use: `stmpo --help` imports `stmpo.fonts.command`, and
with it this package, which must not pull in fontTools and the export model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stmpo.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from stmpo.fonts.index import (
        FontIndex,
        FontLocation,
        FontNameCache,
        default_cache_file,
        read_font_names,
        system_font_dirs,
    )
    from stmpo.fonts.resolve import (
        FontResolution,
        FontState,
        attachment_files,
        copy_font_files,
        resolve_font,
        resolve_fonts,
    )

__all__ = [
    "FontIndex",
    "FontLocation",
    "FontNameCache",
    "FontResolution",
    "FontState",
    "attachment_files",
    "copy_font_files",
    "default_cache_file",
    "read_font_names",
    "resolve_font",
    "resolve_fonts",
    "system_font_dirs",
]

if not TYPE_CHECKING:  # type checkers see the imports above, so a misspelt name stays an error
    __getattr__ = lazy_exports(
        __name__,
        {
            "FontIndex": "stmpo.fonts.index",
            "FontLocation": "stmpo.fonts.index",
            "FontNameCache": "stmpo.fonts.index",
            "default_cache_file": "stmpo.fonts.index",
            "read_font_names": "stmpo.fonts.index",
            "system_font_dirs": "stmpo.fonts.index",
            "FontResolution": "stmpo.fonts.resolve",
            "FontState": "stmpo.fonts.resolve",
            "attachment_files": "stmpo.fonts.resolve",
            "copy_font_files": "stmpo.fonts.resolve",
            "resolve_font": "stmpo.fonts.resolve",
            "resolve_fonts": "stmpo.fonts.resolve",
        },
    )
