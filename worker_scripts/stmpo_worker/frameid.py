"""Which frame a child's progress line says it finished, and which aerender frame that is.

Handing the rest of a running range to another launch needs to know WHICH frame each
progress line names, not how many lines came (`(N)` may be relative to the render or
repeat a frame: docs/stmpo-worker.md). The time the line prints says it:

- timecode style: `timecode.timecode_frame` at the rate the frames are displayed in
  (the render rate when render settings use another one, else the comp's);
- frames style (`PROGRESS:  1030 (31): ...`): the displayed number itself;
- otherwise (feet + frames, or the rate is unknown): the n-th distinct `(N)` is the
  n-th frame the launch renders, since aerender renders a range in order.

With a render rate other than the comp's the line names an OUTPUT frame; the
scheduler counts aerender's (comp) frames: a comp frame counts as finished once every
output frame in its span (`Frames.outputs_of`, frametime.Timebase) was reported. Pure; Python 3.9.
"""

from __future__ import annotations

import re

from .frametime import Timebase
from .timecode import timecode_frame

_COUNT = r"\s*\((\d+)[UL]?\)"
_LEADING_WORD = r"^\s*[^\W\d_][^\d:()]*:\s*"
_FRAMES_NUMBER = re.compile(_LEADING_WORD + r"(-?\d+)" + _COUNT + r"\s*:")


def line_frame(line: str, rate: float | None, continued: bool = False) -> int | None:
    """The displayed frame a progress line names by its time, or None when only its
    `(N)` can say (feet + frames, unknown rate)."""
    if rate is not None:
        frame = timecode_frame(line, rate)
        if frame is not None:
            return frame
    if continued:
        return None
    match = _FRAMES_NUMBER.match(line)
    return int(match.group(1)) if match else None


class Frames:
    """aerender's frames (the step grid the scheduler counts) and the files' frames."""

    def __init__(self, step: int, timebase: Timebase | None) -> None:
        self.step = step
        self.timebase = timebase

    def outputs_of(self, comp_frame: int) -> range:
        """The displayed output frames one aerender frame writes (none, one or several
        at another render rate; itself otherwise)."""
        if self.timebase is None:
            return range(comp_frame, comp_frame + 1)
        return self.timebase.render_range(comp_frame, comp_frame)

    def outputs(self, first: int, last: int) -> range:
        """The output frames a launch `-s first -e last` writes, in render order."""
        if self.timebase is None:
            return range(first, last + 1, self.step)
        return self.timebase.render_range(first, last)

    def comp_frames(self, first: int, last: int) -> range:
        return range(first, last + 1, self.step)
