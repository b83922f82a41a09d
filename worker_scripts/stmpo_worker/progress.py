"""aerender output -> task progress, and the lines that fail a render.

aerender reports a finished frame as `PROGRESS:  0:00:01:05 (31): 0 Seconds`: the
current time in the project's time display style, then `(N)`. The words around it are
localized (`PROGRÈS :`, `0 Sekunden`), so a frame line is recognised by its shape:

- timecode, `0:00:01:05 (31)` (drop-frame rates use `;`): the four-part timecode is
  distinctive enough to be found anywhere in the line;
- frames, `PROGRESS:  31 (32): 0 Seconds`, and feet + frames (35 mm: 16 frames a foot,
  16 mm: 40), `PROGRESS:  1+15 (32): 0 Seconds`: a bare number is not, so these must
  follow the line's leading word and its colon and be followed by `(N):`.

Field renders add the field to the count, `(32U)` or `(32L)`. `N` can be absolute or
relative to the render and a frame can be reported twice, so each child counts the
distinct values it has seen (capped at its frame count).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .logtext import directive

_COUNT = r"\s*\((\d+)[UL]?\)"
#: `\d{1,3}` not after a digit, `:` or `;`, written to start with `\d` so the regex engine
#: skips to digits in C (a leading lookbehind is tried at every character: 1.7x slower).
_TIMECODE_LINE = re.compile(r"\d(?<![\d:;]\d)\d{0,2}[:;]\d{2}[:;]\d{2}[:;]\d{2,3}" + _COUNT)
_LEADING_WORD = r"^\s*[^\W\d_][^\d:()]*:\s*"  # PROGRESS:, PROGRÈS :, FORTSCHRITT:
_FEET_OR_FRAME = r"(?:-?\d+\+\d{1,2}|-?\d+)"  # 62+09 or 1001
_FRAMES_LINE = re.compile(_LEADING_WORD + _FEET_OR_FRAME + _COUNT + r"\s*:")
_ERROR_MARKERS = ("aerender error", "after effects error:")
#: What After Effects says when something the render needs is not there. Real lines:
#: `WARNING:After Effects warning: Project has missing fonts.` (inlife/nexrender issues
#: 123 and 1043; the official integration fails the task on it,
#: aws-deadline/deadline-cloud-for-after-effects pull request 118);
#: `WARNING:After Effects warning: Grouped_Message_{some layers have missing
#: dependencies. ...}Text Layer: Font family: Bebas, Font style: Regular` (nexrender
#: issue 148; AE's "missing dependencies" list, which also names missing effects);
#: `WARNING:After Effects warning: logged one error  error: Unable to Render: File Not
#: Found C:\...\Platzhalter Bild.jpg` (nexrender issue 206, missing footage). Only the
#: English words are known; a localized AE is recognised by its error lines only.
_MISSING_SOURCES = ("after effects warning", "after effects error", "aerender error")
_MISSING_MARKERS = (
    "missing fonts",
    "missing dependencies",
    "missing effect",
    "file not found",
    "missing footage",
)


def frame_marker(line: str, continued: bool = False) -> int | None:
    """The `(N)` of a frame-done line, or None for any other line. `continued`: `line`
    is the middle of a line cut into pieces (see `childlog`), where only the timecode
    shape can be looked for, since the frames shapes are anchored at a line's start."""
    if "(" not in line:  # both shapes end in `(N)`; most lines are rejected here, fast
        return None
    match = _TIMECODE_LINE.search(line)
    if match is None and not continued:
        match = _FRAMES_LINE.match(line)
    return int(match.group(1)) if match else None


#: Every error and every missing marker above holds one of these words (a test keeps it
#: so): text without them cannot fail a child, whatever its case.
PROBLEM_WORDS = ("error", "missing", "not found")


def may_hold_problem(text: str) -> bool:
    """False when no line of `text` can be an error or missing line: a chatty child's
    read is lowered once and searched for three words, not each line twice."""
    lowered = text.lower()
    return any(word in lowered for word in PROBLEM_WORDS)


def is_error_line(line: str) -> bool:
    """aerender's error lines; aerender may still exit 0 after printing one."""
    lowered = line.lower()
    return any(marker in lowered for marker in _ERROR_MARKERS)


def is_missing_line(line: str) -> bool:
    """After Effects reports missing footage, fonts or effects: the render goes on with
    color bars or substitutes, so the frames exist but are wrong."""
    lowered = line.lower()
    return any(source in lowered for source in _MISSING_SOURCES) and any(
        marker in lowered for marker in _MISSING_MARKERS
    )


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

    def feed(self, child: int, line: str, continued: bool = False) -> bool:
        """Account one output line (or piece of one) of `child`; True when the frame
        count changed."""
        marker = frame_marker(line, continued)
        if marker is None:
            return False
        state = self.children[child]
        if len(state.seen) >= state.total:
            return False  # already complete: a chatty child cannot grow the set further
        before = state.done
        state.seen.add(marker)
        return state.done != before

    def feed_lines(self, child: int, text: str) -> bool:
        """`feed` for each of the whole lines of `text` (joined by newlines): a chatty
        child's read holds hundreds, most without the `(` both frame shapes need, and
        those are dropped by one C-level split and test instead of a call each."""
        state = self.children[child]
        if "(" not in text or len(state.seen) >= state.total:
            return False
        before = state.done
        for line in [line for line in text.split("\n") if "(" in line]:
            marker = frame_marker(line)
            if marker is not None:
                state.seen.add(marker)
                if len(state.seen) >= state.total:
                    break
        return state.done != before

    def child_finished(self, child: int) -> None:
        """A child that exited cleanly rendered all of its frames, reported or not."""
        self.children[child].finished = True


class FrameTally:
    """A task's frames and how many of them are finished, however many launches it
    takes: the orchestrator counts each frame once, when the launch that has it reports
    it (or succeeds), and takes it back if that launch's files fail verification."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0

    @property
    def percent(self) -> float:
        return 100.0 * min(self.done, self.total) / self.total if self.total else 100.0


Report = tuple[str, ...]


class ReportThrottle:
    """At most one report per `interval` seconds, and never a stale monitor.

    A report the window blocks is kept, not dropped: offered again (the orchestrator
    offers the current report on every poll), it goes out as soon as the window has
    expired, even if nothing changed meanwhile. Pure: the caller passes the time.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._sent: Report | None = None
        self._sent_at: float | None = None
        self.pending: Report | None = None

    def offer(self, report: Report, now: float, force: bool = False) -> Report | None:
        """The report to print now, or None (already sent, or held for the window)."""
        if report == self._sent and not force:
            self.pending = None
            return None
        if force or self._sent_at is None or now - self._sent_at >= self.interval:
            self._sent, self._sent_at, self.pending = report, now, None
            return report
        self.pending = report
        return None


#: The measured figure on a task's last status line: seconds per frame per process and
#: the startup before a process's first frame (timings.py, observed from its frame-line
#: gaps). Deadline Cloud keeps an action's last `openjd_status` as the session action's
#: `progressMessage` (worker agent `scheduler.py`, UpdateWorkerSchedule), which is how a
#: submitter reads what an earlier job of the project took (`parse_measured`).
_MEASURED = re.compile(
    r"(?<![\w.])(\d+(?:\.\d+)?) s/frame per process, startup (\d+(?:\.\d+)?) s(?![\w.])"
)


def _seconds_text(seconds: float) -> str:
    """`3.2`, `12`, `0.052`: three decimals at most, no trailing zeros."""
    return f"{seconds:.3f}".rstrip("0").rstrip(".")


def measured_text(startup: float, frame: float) -> str:
    """`3.2 s/frame per process, startup 12 s`: stable (parsed back by `parse_measured`)
    and readable in the Deadline Cloud monitor."""
    return f"{_seconds_text(frame)} s/frame per process, startup {_seconds_text(startup)} s"


def parse_measured(message: str) -> tuple[float, float] | None:
    """(startup, seconds per frame) from a status line `measured_text` wrote, or None
    when the message has no usable figure (older workers, failed tasks, other text)."""
    match = _MEASURED.search(message)
    if match is None:
        return None
    frame, startup = float(match.group(1)), float(match.group(2))
    if frame <= 0:
        return None
    return startup, frame


def progress_lines(
    progress: TaskProgress | FrameTally,
    running: int,
    measured: tuple[float, float] | None = None,
) -> Report:
    """The OpenJD protocol lines for the current state: progress and status always go
    together, so a monitor never pairs a percentage with another moment's status.
    `measured` (startup, seconds per frame): the task's own timings, on its last word."""
    status = f"{progress.done}/{progress.total} frames"
    if measured is None or running:  # the last word says what was measured, not "0 processes"
        status += f", {running} process{'es' if running != 1 else ''}"
    if measured is not None:
        status += ", " + measured_text(*measured)
    return (directive("progress", f"{progress.percent:.1f}"), directive("status", status))
