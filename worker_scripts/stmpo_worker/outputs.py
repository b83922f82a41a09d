"""The render queue item's outputs: decoding, path mapping, frame file names, checks.

Values that may hold `{{`, quotes or shell characters reach the worker as JSON files in
the bundle (`contract.py`) or, by hand, as URL-safe base64 of UTF-8 JSON
(docs/architecture.md), so they arrive byte-exact.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import ntpath
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from stat import S_ISREG
from typing import Any

from .frametime import Timebase
from .pathmap import Rule, map_path

_HASHES = re.compile(r"\[(#+)\]")
_RENDER_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z", re.ASCII)


class ArgumentProblem(ValueError):
    """A command-line value is wrong; `where` names the argument (and JSON path)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Output:
    index: int
    path: str
    kind: str  # "sequence" or "movie"
    use_comp_frame_number: bool = True
    starting_number: int = 0  # AE's default "Starting #"; used when the above is off


@dataclass(frozen=True)
class Item:
    comp: str
    outputs: tuple[Output, ...]
    skip_existing: bool = False  # render settings "Skip Existing Files"
    #: Render settings "Use this frame rate" other than the comp's: files are frames of
    #: this timebase (frametime.py); None renders and numbers by comp frame.
    timebase: Timebase | None = None
    #: The comp's frame rate (compFrameRate), when the item file carries it: which
    #: frame a timecode progress line names (frameid.py); None: unknown.
    comp_rate: float | None = None
    #: The random id the bundle builder gave this render (`renderId`): names the job's
    #: resume journal where Deadline's job id is not set (journal.py); '' when absent.
    render_id: str = ""

    @property
    def movie(self) -> bool:
        return any(o.kind == "movie" for o in self.outputs)

    @property
    def renumbered(self) -> bool:
        """Whether a sequence output numbers its files per aerender launch ("Use Comp
        Frame Number" off): AE then names the first frame each launch renders
        `startingNumber`, so two processes (or two tasks) would write the same names."""
        return any(o.kind == "sequence" and not o.use_comp_frame_number for o in self.outputs)


def decode_b64_json(value: str, arg: str) -> Any:
    """JSON from URL-safe base64 (padding optional); ArgumentProblem naming `arg`."""
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ArgumentProblem(arg, "not JSON this worker can read (nested too deeply)") from None
    except (binascii.Error, ValueError) as exc:
        reason = "not URL-safe base64" if isinstance(exc, binascii.Error) else "not UTF-8 JSON"
        raise ArgumentProblem(arg, f"{reason} ({exc})") from None


def encode_b64_json(value: Any) -> str:
    """The inverse of `decode_b64_json`, and what the job template writes (one encoder for
    both sides): URL-safe base64 of compact JSON, ASCII-escaped so that even a lone
    surrogate in a comp name survives the round trip."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii")


def parse_item(value: str, arg: str = "--item-b64") -> Item:
    return item_from_data(decode_b64_json(value, arg), arg)


def item_from_data(data: Any, arg: str) -> Item:
    """The item from decoded JSON (base64 argument or item file), errors naming `arg`."""
    if not isinstance(data, dict):
        raise ArgumentProblem(arg, "must hold a JSON object with comp and outputs")
    comp = data.get("comp", "")
    if not isinstance(comp, str):
        raise ArgumentProblem(f"{arg}: comp", "must be a string")
    raw_outputs = data.get("outputs")
    if not isinstance(raw_outputs, list):
        raise ArgumentProblem(f"{arg}: outputs", "must be a list")
    outputs: list[Output] = []
    for i, raw in enumerate(raw_outputs):
        where = f"{arg}: outputs[{i}]"
        if not isinstance(raw, dict):
            raise ArgumentProblem(where, "must be an object with index, path and kind")
        index, path, kind = raw.get("index", i + 1), raw.get("path"), raw.get("kind")
        if not isinstance(index, int) or isinstance(index, bool) or index < 1:
            raise ArgumentProblem(f"{where}.index", "must be an integer >= 1")
        if not isinstance(path, str) or not path:
            raise ArgumentProblem(f"{where}.path", "must be a non-empty string")
        if kind is None:
            kind = "sequence" if _HASHES.search(path) else "movie"
        if kind not in ("sequence", "movie"):
            raise ArgumentProblem(f"{where}.kind", f"must be sequence or movie, got {kind!r}")
        use_comp = raw.get("useCompFrameNumber", True)
        if not isinstance(use_comp, bool):
            raise ArgumentProblem(f"{where}.useCompFrameNumber", "must be true or false")
        starting = raw.get("startingNumber", 0)
        if not isinstance(starting, int) or isinstance(starting, bool) or not 0 <= starting < 10**9:
            raise ArgumentProblem(f"{where}.startingNumber", "must be an integer 0 to 999999999")
        outputs.append(Output(index, path, kind, use_comp, starting))
    skip = data.get("skipExistingFiles", False)
    if not isinstance(skip, bool):
        raise ArgumentProblem(f"{arg}: skipExistingFiles", "must be true or false")
    render_id = data.get("renderId", "")
    if not isinstance(render_id, str) or (render_id and not _RENDER_ID.match(render_id)):
        raise ArgumentProblem(f"{arg}: renderId", "must be 1 to 64 of A-Z a-z 0-9 _ -")
    return Item(
        comp=comp,
        outputs=tuple(outputs),
        skip_existing=skip,
        timebase=_timebase(data, arg),
        comp_rate=_rate(data, "compFrameRate", arg),
        render_id=render_id,
    )


MAX_RATE = 1000.0  # the export contract's bound on frame rates (docs/export-format.md)


def _rate(data: dict[str, Any], key: str, arg: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 < value <= MAX_RATE
    ):
        raise ArgumentProblem(f"{arg}: {key}", f"must be a frame rate above 0 up to {MAX_RATE:g}")
    return float(value)


def _timebase(data: dict[str, Any], arg: str) -> Timebase | None:
    """The item's timebase when it renders at another rate than its comp: it needs the
    comp's rate and displayed start, which the bundle writes with renderFrameRate."""
    render_rate = _rate(data, "renderFrameRate", arg)
    comp_rate = _rate(data, "compFrameRate", arg)
    start_time = data.get("compDisplayStartTime", 0.0)
    if (
        not isinstance(start_time, (int, float))
        or isinstance(start_time, bool)
        or not math.isfinite(start_time)
        or abs(start_time) > 10**7
    ):
        raise ArgumentProblem(f"{arg}: compDisplayStartTime", "must be seconds, -1e7 to 1e7")
    start_frame = data.get("projectDisplayStartFrame", 0)
    if start_frame not in (0, 1) or isinstance(start_frame, bool):
        raise ArgumentProblem(f"{arg}: projectDisplayStartFrame", "must be 0 or 1")
    if render_rate is None:
        return None
    if comp_rate is None:
        raise ArgumentProblem(
            f"{arg}: compFrameRate", "required with renderFrameRate (the comp's frame rate)"
        )
    timebase = Timebase.of(comp_rate, render_rate, float(start_time), int(start_frame))
    return None if timebase.same else timebase


def parse_dirs(value: str, arg: str = "--dirs-b64") -> list[str]:
    return dirs_from_data(decode_b64_json(value, arg), arg)


def dirs_from_data(data: Any, arg: str) -> list[str]:
    if not isinstance(data, list) or not all(isinstance(d, str) and d for d in data):
        raise ArgumentProblem(arg, "must hold a JSON list of non-empty directory strings")
    return list(data)


def frame_path(pattern: str, frame: int) -> str:
    """AE's name for `frame`: every `[###]` becomes the zero-padded frame number."""
    return _HASHES.sub(lambda m: f"{frame:0{len(m.group(1))}d}", pattern)


def mapped_item(item: Item, rules: list[Rule]) -> Item:
    return replace(
        item,
        outputs=tuple(replace(o, path=map_path(rules, o.path)) for o in item.outputs),
    )


def output_override(original: Item, mapped: Item) -> str | None:
    """The `-output` to give aerender, or None to use the project's own paths.

    The project stores the submitter's output paths. When path mapping moves them,
    aerender must be told, and `-output` can only replace the first output module's
    path: so it is passed for a single-output item whose path changed, and never
    otherwise (a multi-output item's mapped paths cannot be expressed).
    """
    if len(original.outputs) != 1:
        return None
    before, after = original.outputs[0].path, mapped.outputs[0].path
    return after if after != before else None


def is_host_path(path: str) -> bool:
    """Whether `path` is an absolute path on this host (a `C:/...` path is not, on Linux)."""
    if os.name == "nt":
        return ntpath.isabs(path) and (
            ntpath.splitdrive(path)[0] != "" or path[:2] in ("\\\\", "//")
        )
    return path.startswith("/")


MTIME_TOLERANCE = 2.0
"""Seconds a frame file's mtime may lie before its process started and still count as
written by it. File times are not the worker's clock: FAT/exFAT store mtimes in 2 s
steps (rounded down), HFS+ and ext3 in whole seconds, and on SMB/NFS shares the file
server stamps the time with its own clock, which NTP keeps within a second or so of the
worker's. A frame left by an earlier render is minutes or days old, far outside this."""

REPORTED_PROBLEMS = 3  # checking stops here: a log line names at most this many files


@dataclass(frozen=True)
class FileProblem:
    """An expected output file that does not prove this render wrote it."""

    path: str
    why: str  # "missing", "not a file", "empty" or "stale: ..."


def iter_expected_files(item: Item, frames: Iterable[int]) -> Iterator[str]:
    """Files a successful render of `frames` leaves, lazily (a task may hold many
    thousand frames): each movie file, and one per frame of each sequence output with a
    `[#]` pattern. `frames` is iterated once per sequence output (pass a range): the
    frames one aerender launch renders, as output frames (at the render frame rate:
    `Timebase.render_range` when the item has a timebase). With "Use Comp Frame
    Number" off, AE numbers the n-th frame that launch renders `startingNumber + n`
    (n from 0), whatever the step, so the names follow the position in `frames`, not
    the comp frame."""
    for out in item.outputs:
        if out.kind == "movie":
            yield out.path
        elif _HASHES.search(out.path):
            for n, frame in enumerate(frames):
                number = frame if out.use_comp_frame_number else out.starting_number + n
                yield frame_path(out.path, number)


def expected_files(item: Item, frames: Iterable[int]) -> list[str]:
    return list(iter_expected_files(item, frames))


def file_problem(
    path: str, since: float, tolerance: float = MTIME_TOLERANCE, keep_existing: bool = False
) -> FileProblem | None:
    """Why `path` does not count as written by a process started at `since` (wall clock,
    `time.time()`), or None when it does: it must be a non-empty regular file modified
    at or after `since - tolerance` and not after now (+ tolerance). A 0-byte
    placeholder (AE's multi-machine "frame in progress" file, a full disk) or a frame
    left by an earlier render (or dated in the future) fails. With `keep_existing` (the
    item's "Skip Existing Files"), an older non-empty file counts: the artist asked AE to
    leave existing frames untouched, so AE rendered around it and it is the output."""
    try:
        stat = os.stat(path)
    except OSError:
        return FileProblem(path, "missing")
    if not S_ISREG(stat.st_mode):
        return FileProblem(path, "not a file")
    if stat.st_size == 0:
        return FileProblem(path, "empty")
    if keep_existing:
        return None
    early = since - stat.st_mtime
    if early > tolerance:
        return FileProblem(path, f"stale: modified {_duration(early)} before its process started")
    late = stat.st_mtime - time.time()
    if late > tolerance:  # no render writes into the future: an old file with a wrong date
        return FileProblem(path, f"stale: dated {_duration(late)} in the future")
    return None


def output_problems(
    item: Item,
    frames: Iterable[int],
    since: float,
    limit: int = REPORTED_PROBLEMS,
    tolerance: float = MTIME_TOLERANCE,
) -> list[FileProblem]:
    """The first `limit` expected files that this render did not write; [] when every
    one is there, non-empty and new. Stops at `limit`: one bad frame is enough to fail
    a child, and a render that wrote nothing need not cost a stat per frame to say so."""
    found: list[FileProblem] = []
    for path in iter_expected_files(item, frames):
        problem = file_problem(path, since, tolerance, item.skip_existing)
        if problem is not None:
            found.append(problem)
            if len(found) >= limit:
                break
    return found


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h"
    return f"{seconds / 86400:.0f} days"


def checkable(item: Item) -> bool:
    return all(is_host_path(o.path) for o in item.outputs)
