"""Progress of a submission as plain events, and a printer for terminals and CI logs.

The GUI turns events into a progress bar; the CLI prints one line each time an
export changes stage (no carriage returns, no percentages spam), so a CI log reads as
a list of what happened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal, TextIO

Stage = Literal[
    "building",
    "validated",
    "hashing",
    "uploading",
    "creating",
    "submitted",
    "skipped",
    "failed",
]


@dataclass(frozen=True)
class SubmitProgress:
    """One step of one export. `fraction` (0..1) is set while hashing/uploading."""

    stage: Stage
    message: str
    fraction: float | None = None
    export: str = ""
    index: int = 0
    total: int = 0

    def located(self, export: str, index: int, total: int) -> SubmitProgress:
        return replace(self, export=export, index=index, total=total)


#: Returning False asks the submission to stop (the GUI's Cancel); None means go on.
ProgressCallback = Callable[[SubmitProgress], "bool | None"]


class TextProgress:
    """Prints `[2/5] shot_010.json: uploading 12 files (3.4 MB)` once per stage change."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self._last: tuple[int, str, str] | None = None

    def __call__(self, event: SubmitProgress) -> bool:
        key = (event.index, event.export, event.stage)
        if key != self._last:
            self._last = key
            where = f"[{event.index}/{event.total}] " if event.total else ""
            name = f"{event.export}: " if event.export else ""
            self.stream.write(f"{where}{name}{event.message}\n")
            self.stream.flush()
        return True
