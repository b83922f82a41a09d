"""aerender output -> task progress, and the lines that fail a render.

aerender reports a finished frame as `PROGRESS:  0:00:01:05 (31): 0 Seconds`. The
words around it are localized and drop-frame rates use `;`, so a frame is recognised
by its shape alone: a four-part timecode followed by `(N)`. `N` can be absolute or
relative to the render and a frame can be reported twice, so each child counts the
distinct values it has seen (capped at its frame count).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_FRAME_LINE = re.compile(r"(?<![\d:;])\d{1,3}[:;]\d{2}[:;]\d{2}[:;]\d{2,3}\s*\((\d+)\)")
_ERROR_MARKERS = ("aerender error", "after effects error:")


def frame_marker(line: str) -> int | None:
    """The `(N)` of a frame-done line, or None for any other line."""
    match = _FRAME_LINE.search(line)
    return int(match.group(1)) if match else None


def is_error_line(line: str) -> bool:
    """aerender's error lines; aerender may still exit 0 after printing one."""
    lowered = line.lower()
    return any(marker in lowered for marker in _ERROR_MARKERS)


@dataclass
class ChildProgress:
    total: int
    seen: set[int] = field(default_factory=set)
    finished: bool = False

    @property
    def done(self) -> int:
        return self.total if self.finished else min(len(self.seen), self.total)


class TaskProgress:
    """Frames done over all children of one task."""

    def __init__(self, frames_per_child: Sequence[int]) -> None:
        self.children = [ChildProgress(total=n) for n in frames_per_child]

    @property
    def total(self) -> int:
        return sum(c.total for c in self.children)

    @property
    def done(self) -> int:
        return sum(c.done for c in self.children)

    @property
    def percent(self) -> float:
        return 100.0 * self.done / self.total if self.total else 100.0

    def feed(self, child: int, line: str) -> bool:
        """Account one output line of `child`; True when the frame count changed."""
        marker = frame_marker(line)
        if marker is None:
            return False
        state = self.children[child]
        before = state.done
        state.seen.add(marker)
        return state.done != before

    def child_finished(self, child: int) -> None:
        """A child that exited cleanly rendered all of its frames, reported or not."""
        self.children[child].finished = True


class RateLimiter:
    """Lets a report through at most once per `interval` seconds, unless forced."""

    def __init__(self, interval: float, clock: Callable[[], float]) -> None:
        self.interval = interval
        self.clock = clock
        self._last: float | None = None

    def ready(self, force: bool = False) -> bool:
        now = self.clock()
        if force or self._last is None or now - self._last >= self.interval:
            self._last = now
            return True
        return False


def progress_lines(progress: TaskProgress, running: int) -> list[str]:
    """The OpenJD protocol lines for the current state."""
    return [
        f"openjd_progress: {progress.percent:.1f}",
        f"openjd_status: {progress.done}/{progress.total} frames, "
        f"{running} process{'es' if running != 1 else ''}",
    ]
