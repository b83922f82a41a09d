"""Fonts on the submitter: which file holds each font the project uses.

The worker half (installing the attached files for the job) is
`worker_scripts/stmpo_worker/fonts.py`; `docs/fonts.md` describes both. The `stmpo fonts`
command lives in `stmpo.commands`, so `stmpo --help` never loads fontTools through this.
"""

from __future__ import annotations

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
