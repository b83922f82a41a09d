"""Load an export from whatever the artist hands over: an export JSON or a saved project.

Every command and the submitter accept a `.aep` wherever they accept an export, so a
farm script can submit a project without opening After Effects. The `.aep` reader is
an optional extra (py-aep) and is imported only when a `.aep` arrives.
"""

from __future__ import annotations

from pathlib import Path

from stmpo.errors import ExportError, Problem
from stmpo.export.loader import load_export
from stmpo.export.model import Export

AEP_SUFFIX = ".aep"
AEPX_SUFFIX = ".aepx"


def load_any(path: str | Path) -> Export:
    """An export from an export JSON (`load_export`) or a binary `.aep` (py-aep).

    Raises ExportError with a sentence for the artist: a broken export, a file that is
    not an After Effects project, an XML `.aepx`, or py-aep not installed.
    """
    suffix = Path(path).suffix.lower()
    if suffix == AEPX_SUFFIX:
        raise ExportError(
            [
                Problem(
                    "",
                    "XML projects (.aepx) cannot be read without After Effects: save a copy "
                    "as .aep, or export with the STMPO bridge inside After Effects",
                )
            ],
            source=str(path),
        )
    if suffix == AEP_SUFFIX:
        from stmpo.aep.reader import read_aep

        return read_aep(path)
    return load_export(path)


def is_project_file(path: str | Path) -> bool:
    """True for a path `load_any` reads as an After Effects project rather than JSON."""
    return Path(path).suffix.lower() in (AEP_SUFFIX, AEPX_SUFFIX)
