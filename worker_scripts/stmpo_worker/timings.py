"""What a launch of aerender costs on this worker: startup and frame times, kept per session.

The plan weighs every process against its launch (planning.py, "launch worth"): a
process that renders for less time than After Effects takes to start is not worth
starting. What a launch costs depends on the project and the host, so the worker keeps
what it saw in the session's working directory (the job template passes
`--timings={{Session.WorkingDirectory}}/stmpo_timings.json`): a task records its
observed times after its render and the next task of the session plans with them. When
nothing is known the plan assumes `ASSUMED` (docs/stmpo-worker.md).

The file is small JSON marked as STMPO's own; anything else at that path is never
replaced, and a damaged or foreign file is read as "nothing known".
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from dataclasses import dataclass

#: The key that marks a timings file as STMPO's own (and its format version).
MARK = "stmpoTimings"
#: The file holds two numbers: anything larger is not ours.
MAX_BYTES = 4096
#: Longest startup or frame time taken as an observation (a day): beyond is an error.
MAX_SECONDS = 86400.0


@dataclass(frozen=True)
class Timings:
    """Seconds from an aerender launch to its first frame, and per frame after that."""

    startup: float
    frame: float
    #: True: measured in this session; False: the documented assumption.
    observed: bool = False


#: The conservative assumption when nothing was observed: After Effects takes about
#: 30 s to start and open a project, and a farm frame about 10 s.
ASSUMED = Timings(startup=30.0, frame=10.0, observed=False)


def _usable(value: object) -> bool:
    return (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= MAX_SECONDS
    )


def read_timings(path: str) -> Timings | None:
    """The times recorded at `path`, or None when there is no usable record."""
    if not path:
        return None
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
        data = json.loads(raw.decode("utf-8")) if len(raw) <= MAX_BYTES else None
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or data.get(MARK) != 1:
        return None
    startup, frame = data.get("startup"), data.get("frame")
    if not (_usable(startup) and _usable(frame)):
        return None
    return Timings(float(startup), float(frame), observed=True)  # type: ignore[arg-type]


def _ours(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read(MAX_BYTES + 1).decode("utf-8"))
    except FileNotFoundError:
        return True  # nothing there: ours to create
    except (OSError, ValueError, RecursionError):
        return False
    return isinstance(data, dict) and MARK in data


def record_timings(path: str, startup: float, frame_time: float) -> bool:
    """Keep the times a task observed for the session's next tasks. False (nothing
    written) when the values are not usable or `path` holds something not STMPO's own:
    timings are an optimisation, never worth someone's file or a failed task."""
    if not path or not (_usable(startup) and _usable(frame_time)):
        return False
    if not _ours(path) or os.path.isdir(path):
        return False
    text = json.dumps({MARK: 1, "startup": float(startup), "frame": float(frame_time)})
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        fh = open(temporary, "x", encoding="ascii")  # noqa: SIM115 - never someone else's file
    except OSError:
        return False
    try:
        with fh:
            fh.write(text + "\n")
        os.replace(temporary, path)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(temporary)  # ours: created above
        return False
    return True
