"""Checks on a loaded submission input before anything is uploaded."""

from __future__ import annotations

from pathlib import Path

from stmpo.errors import ExportError, Problem
from stmpo.export.model import Export


def check_project_file(export: Export, source: str) -> None:
    """Workers open the project from job attachments: it must exist here, now."""
    project = export.project.path
    if not Path(project).is_file():
        raise ExportError(
            [Problem("project.path", f"the project file {project} does not exist on this machine")],
            source=source,
        )
