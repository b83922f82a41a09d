"""Font rows for the submitter: the export's fonts with what this machine can attach.

The name cache makes reopening the submitter instant on machines with thousands of fonts.
"""

from __future__ import annotations

from dataclasses import dataclass

from stmpo.export.model import Export
from stmpo.fonts import FontNameCache, default_cache_file, resolve_fonts


@dataclass(frozen=True)
class FontRow:
    name: str
    state: str  # resolved | missing | substitute
    path: str
    reason: str


def font_rows(export: Export) -> list[FontRow]:
    return [
        FontRow(
            name=r.font.post_script_name,
            state=r.state,
            path=str(r.path) if r.path else "",
            reason=r.reason,
        )
        for r in resolve_fonts(export.fonts, cache=FontNameCache(default_cache_file()))
    ]
