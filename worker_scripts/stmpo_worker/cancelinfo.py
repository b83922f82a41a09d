"""When openjd ends a cancelled action: the `NotifyEnd` of `cancel_info.json`.

A NOTIFY_THEN_TERMINATE cancel first writes `cancel_info.json`,
`{"NotifyEnd": "YYYY-MM-DDTHH:MM:SSZ"}` (UTC, whole seconds), into the session working
directory (the action's working directory, also `$OPENJD_SESSION_WORKING_DIR`), then
sends the notify signal (SIGTERM; CTRL_BREAK on Windows), and at `NotifyEnd` kills the
action's process tree (openjd-sessions `_runner_base.py`, `_cancel`; OpenJD 2023-09,
`CancelationMethodNotifyThenTerminate`). The time allowed can be far less than the
template's `notifyPeriodInSeconds` (the Deadline worker agent allows about 4 s when it
shuts down), so a `--child-grace-sec` of 30 s would still be waiting when openjd kills
the orchestrator, and children in sessions of their own would live on. Knowing
`NotifyEnd`, the orchestrator sends its own SIGKILL to every tree `MARGIN` before it.

Pure parsing here; `read_notify_end` is the one function that touches the disk.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import stat
from dataclasses import dataclass

FILE_NAME = "cancel_info.json"
MAX_BYTES = 4096  # the real file is ~35 bytes: anything bigger is not openjd's
#: SIGKILL this long before NotifyEnd: ending the trees, reaping them and exiting must
#: fit before openjd kills us (NotifyEnd is cut to whole seconds, so the real end is up
#: to 1 s later still). 1 s was measured too short on a loaded host (the 2-core build
#: machine at load 15: the worker exited 0.2 s after NotifyEnd); a second more costs
#: nothing against a grace of tens of seconds.
MARGIN = 2.0
#: A file older than this before the render started was left by an earlier action.
STALE_TOLERANCE = 1.0

_STAMP = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?Z", re.ASCII)
# The spec's own wording of the format (`NotifyEnd = <time>`), besides the JSON openjd writes.
_KEY_VALUE = re.compile(r"^\s*NotifyEnd\s*=\s*(\S+)\s*$", re.ASCII | re.MULTILINE)


def parse_notify_end(text: str) -> float:
    """`NotifyEnd` as seconds since the epoch; ValueError saying what is wrong."""
    stamp: object = None
    try:
        data = json.loads(text)
    except ValueError:
        match = _KEY_VALUE.search(text)
        if not match:
            raise ValueError("neither JSON nor a `NotifyEnd = <time>` line") from None
        stamp = match.group(1)
    else:
        if not isinstance(data, dict) or "NotifyEnd" not in data:
            raise ValueError("no NotifyEnd key")
        stamp = data["NotifyEnd"]
    if not isinstance(stamp, str):
        raise ValueError("NotifyEnd is not a string")
    parts = _STAMP.fullmatch(stamp.strip())
    if not parts:
        raise ValueError("NotifyEnd is not a UTC time like 2024-01-31T23:59:59Z")
    year, month, day, hour, minute, second = (int(p) for p in parts.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError("NotifyEnd is not a valid time")
    return float(calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0)))


@dataclass(frozen=True)
class NotifyEnd:
    """What a cancel found: `when` (epoch seconds) or None, and why not, for the log."""

    when: float | None
    path: str = ""
    problem: str = ""


def session_directories(env: dict[str, str], cwd: str) -> list[str]:
    """Where openjd writes the file: the session working directory, which it also makes
    every action's working directory."""
    found = [env.get("OPENJD_SESSION_WORKING_DIR", ""), cwd]
    return list(dict.fromkeys(d for d in found if d))


def read_notify_end(directories: list[str], not_before: float) -> NotifyEnd:
    """The first `cancel_info.json` in `directories` that this action's cancel wrote
    (modified at or after `not_before` - STALE_TOLERANCE). Bounded: only a regular file
    of at most MAX_BYTES is read, so a FIFO or a huge file cannot stall the cancel."""
    for directory in directories:
        path = os.path.join(directory, FILE_NAME)
        try:
            info = os.stat(path)
        except OSError:
            continue
        if not stat.S_ISREG(info.st_mode):
            return NotifyEnd(None, path, "not a regular file")
        if info.st_size > MAX_BYTES:
            return NotifyEnd(None, path, f"larger than {MAX_BYTES} bytes")
        if info.st_mtime < not_before - STALE_TOLERANCE:
            return NotifyEnd(None, path, "written before this action started")
        try:
            with open(path, "rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
            return NotifyEnd(parse_notify_end(raw.decode("utf-8")), path)
        except (OSError, ValueError) as exc:  # UnicodeDecodeError is a ValueError
            return NotifyEnd(None, path, str(exc))
    return NotifyEnd(None)


def kill_deadline(notify_end: float, wall_now: float, mono_now: float) -> float:
    """The `time.monotonic()` at which every tree must get SIGKILL: MARGIN before
    NotifyEnd (a wall clock time), never before now."""
    return mono_now + max(0.0, notify_end - wall_now - MARGIN)
