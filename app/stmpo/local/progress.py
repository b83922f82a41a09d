"""What `stmpo run-local` shows while a job runs: a redrawn bar on a terminal, plain lines
in a CI log (where carriage returns turn into thousands of lines).

Formatting is pure (`bar_line`, `plain_line`); `Console` only decides where text goes and
keeps the bar and the job's own output from overwriting each other on one terminal.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass
from typing import TextIO

from stmpo.local.runner import ActionRef, ProgressEvent

_ENDED = {"success": "done", "failed": "FAILED", "canceled": "CANCELED", "timeout": "TIMED OUT"}


def render_bar(percent: float | None, width: int) -> str:
    """`[#####.....]`; unknown progress shows an empty bar rather than a guess."""
    fraction = 0.0 if percent is None else min(max(percent, 0.0), 100.0) / 100.0
    filled = round(fraction * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def action_label(ref: ActionRef) -> str:
    """`task 3/12 | step Render 1/4 | Frames=1-10` or `env: entering environment 'X'`."""
    if ref.kind == "task":
        params = f" | {ref.parameters}" if ref.parameters else ""
        return (
            f"task {ref.task_number}/{ref.task_count} | step {ref.name} "
            f"{ref.step_task_number}/{ref.step_task_count}{params}"
        )
    return ref.describe()


def _percent(progress: float | None) -> str:
    return "  ?%" if progress is None else f"{progress:3.0f}%"


def bar_line(event: ProgressEvent, columns: int) -> str:
    """The single redrawn terminal line for a running action, cut to the terminal width."""
    label = action_label(event.action)
    bar = render_bar(event.progress, 24)
    status = f" {event.status}" if event.status else ""
    line = f"{label} {bar} {_percent(event.progress)}{status}"
    return line if len(line) < columns else line[: max(columns - 2, 10)] + "…"


def end_line(event: ProgressEvent) -> str:
    """The line that stays on screen (and in logs) when an action ends."""
    word = _ENDED.get(event.state, event.state)
    text = f"{action_label(event.action)}: {word} in {event.elapsed:.1f}s"
    if event.state != "success" and event.fail_message:
        text += f": {event.fail_message}"
    return text


@dataclass
class _PlainState:
    bucket: int = 0


def plain_line(event: ProgressEvent, state: _PlainState) -> str | None:
    """A line for a non-terminal stream: one per 10% of progress, never per update."""
    if event.state == "started":
        state.bucket = 0
        return f"{action_label(event.action)}: started"
    if event.state != "running":
        return end_line(event)
    bucket = 0 if event.progress is None else int(event.progress // 10)
    if bucket <= state.bucket:
        return None
    state.bucket = bucket
    status = f" {event.status}" if event.status else ""
    return f"{action_label(event.action)}: {_percent(event.progress).strip()}{status}"


class Console:
    """Routes the job's output to `out` and progress to `err`, one writer at a time.

    With `live` (stderr is a terminal) progress is one redrawn line; when the job output
    goes to the same terminal, the bar is cleared before each output line and redrawn
    after it.
    """

    def __init__(self, out: TextIO, err: TextIO, *, live: bool, shared_terminal: bool) -> None:
        self._out = out
        self._err = err
        self._live = live
        self._shared = shared_terminal
        self._lock = threading.Lock()
        self._bar = ""
        self._plain = _PlainState()

    def _columns(self) -> int:
        return shutil.get_terminal_size((100, 24)).columns

    def _clear_bar(self) -> None:
        if self._live and self._bar:
            self._err.write("\r\x1b[K")

    def _draw_bar(self) -> None:
        if self._live and self._bar:
            self._err.write("\r" + self._bar)
            self._err.flush()

    def log_line(self, line: str) -> None:
        with self._lock:
            if self._shared:
                self._clear_bar()
                self._err.flush()
            self._out.write(line + "\n")
            self._out.flush()
            if self._shared:
                self._draw_bar()

    def message(self, text: str) -> None:
        """A line on stderr that stays (summary, errors)."""
        with self._lock:
            self._clear_bar()
            self._bar = ""
            self._err.write(text + "\n")
            self._err.flush()

    def on_progress(self, event: ProgressEvent) -> None:
        with self._lock:
            if not self._live:
                line = plain_line(event, self._plain)
                if line is not None:
                    self._err.write(line + "\n")
                    self._err.flush()
                return
            self._clear_bar()
            if event.state in ("started", "running"):
                self._bar = bar_line(event, self._columns())
                self._draw_bar()
            else:
                self._bar = ""
                self._err.write(end_line(event) + "\n")
                self._err.flush()
