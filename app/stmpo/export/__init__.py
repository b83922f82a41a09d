"""Export model: the typed contract for the `stmpo-ae-export` JSON (docs/export-format.md).

Importing the package loads pydantic; the `stmpo schema` and `stmpo validate-export`
commands live in `stmpo.commands`, so `stmpo --help` never runs this.
"""

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
