"""Export model: the typed contract for the `stmpo-ae-export` JSON (docs/export-format.md).

The names are imported on first use (`stmpo.lazy_exports`): the `stmpo schema` and
`stmpo validate-export` command modules live here, and `stmpo --help` must not load pydantic.
"""

from typing import TYPE_CHECKING

from stmpo.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from stmpo.export.loader import load_export, parse_export
    from stmpo.export.model import (
        Comp,
        Export,
        Font,
        Footage,
        Frames,
        OutputModule,
        ProjectInfo,
        RenderQueueItem,
    )

__all__ = [
    "Comp",
    "Export",
    "Font",
    "Footage",
    "Frames",
    "OutputModule",
    "ProjectInfo",
    "RenderQueueItem",
    "load_export",
    "parse_export",
]

if not TYPE_CHECKING:  # type checkers see the imports above, so a misspelt name stays an error
    __getattr__ = lazy_exports(
        __name__,
        {
            "load_export": "stmpo.export.loader",
            "parse_export": "stmpo.export.loader",
            "Comp": "stmpo.export.model",
            "Export": "stmpo.export.model",
            "Font": "stmpo.export.model",
            "Footage": "stmpo.export.model",
            "Frames": "stmpo.export.model",
            "OutputModule": "stmpo.export.model",
            "ProjectInfo": "stmpo.export.model",
            "RenderQueueItem": "stmpo.export.model",
        },
    )
