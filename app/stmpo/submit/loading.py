"""Read one submission input: an export JSON or (once the reader is in) an `.aep`."""

from __future__ import annotations

from pathlib import Path

from stmpo.errors import ExportError, Problem
from stmpo.export import load_export
from stmpo.export.model import Export


def load_input(path: Path) -> Export:
    """`stmpo.export.sources.load_any` when present (adds `.aep`), else the JSON loader."""
    try:
        from stmpo.export.sources import load_any
    except ImportError:
        return load_export(path)
    return load_any(path)  # type: ignore[no-any-return]


def check_project_file(export: Export, source: str) -> None:
    """Workers open the project from job attachments: it must exist here, now."""
    project = export.project.path
    if not Path(project).is_file():
        raise ExportError(
            [Problem("project.path", f"the project file {project} does not exist on this machine")],
            source=source,
        )
