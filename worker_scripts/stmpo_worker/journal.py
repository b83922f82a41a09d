"""Resume: the frames an earlier attempt of this same job already rendered.

When Deadline retries a task, the frames its earlier attempt finished are still on
disk; rendering them again costs the whole task again. But a frame file in the output
folder may also be left by something else (an earlier version of the shot, another
job writing the same names), and that one must be rendered again. File times cannot
tell them apart. So the worker keeps a journal of what it verified:

- one journal per task of a job, `<output folder>/.stmpo/<key>.rq<N>.f<S>_<E>.s<step>.jsonl`
  (the folder of the item's first image-sequence output): the `.stmpo` folder and the
  journal are the worker's own; a journal whose first line is not this task's header is
  not ours, so it is neither read nor appended to (docs/safety.md);
- `key` names the job: `DEADLINE_JOB_ID` (the worker agent sets it for every action of
  a session: aws-deadline/deadline-cloud-worker-agent,
  src/deadline_worker_agent/scheduler/scheduler.py, the session `env` built before
  `Session(...)`), else the random `renderId` the bundle builder writes into each item
  file (`openjd run`, `stmpo run-local`); with neither, nothing is journaled;
- after a child's frames are verified, one JSON line per frame is appended (and
  flushed to disk): `{"frame": F, "files": [[name, size, mtime_ns], ...]}`, a name per
  image-sequence output, relative to the journal's output folder;
- on start, a frame counts as already rendered only when this job's journal lists it
  and every one of its files is still a regular file of that size and `mtime_ns`.
  No entry, a changed or missing file, another job's journal: rendered again.

A damaged line is skipped with one warning; at most `MAX_JOURNAL_BYTES` are read.
A movie is one file and is always rendered whole; an item at another render rate or
numbered per launch ("Use Comp Frame Number" off) is rendered whole too (a launch's file
names depend on where it starts).

Standard library only, Python 3.9+: these files run on the worker.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from .outputs import Item, Output, frame_path
from .planning import RenderPlan

JOURNAL_DIR = ".stmpo"
JOB_ID_VARIABLE = "DEADLINE_JOB_ID"
#: A journal holds ~100 bytes a frame: 32 MiB is some 300,000 frames, far beyond a task.
#: Reading stops there (the frames after it are rendered again), so a damaged or hostile
#: file cannot cost the worker its memory.
MAX_JOURNAL_BYTES = 32 * 1024 * 1024
#: One entry is a frame's files: longer lines are damaged.
MAX_ENTRY_BYTES = 64 * 1024
FORMAT = 1
_HASHES = re.compile(r"\[#+\]")  # a sequence pattern's frame number (outputs.frame_path)
_KEY = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z", re.ASCII)

Say = Callable[[str], None]
FileFacts = tuple[str, int, int]  # name relative to the journal's folder, size, mtime_ns


def job_key(environ: Mapping[str, str], render_id: str) -> tuple[str, str]:
    """(key, where it came from), or ('', why there is none). A value that is not a
    short plain name is not used: it becomes part of a file name."""
    job_id = environ.get(JOB_ID_VARIABLE, "").strip()
    if job_id:
        if _KEY.match(job_id):
            return job_id, JOB_ID_VARIABLE
        return "", f"{JOB_ID_VARIABLE} is not a job id"
    if render_id:
        if _KEY.match(render_id):
            return "render-" + render_id[:57], "the bundle's render id"
        return "", "the item's renderId is not a plain id"
    return "", f"no {JOB_ID_VARIABLE} and no renderId in the item file"


def not_resumable(item: Item) -> str:
    """Why this item is always rendered whole ('' when frames can be resumed)."""
    if item.movie:
        return "a movie output is one file, always rendered whole"
    if item.timebase is not None:
        return "rendering at another frame rate than the comp's"
    if item.renumbered:
        return '"Use Comp Frame Number" is off: file names depend on where a launch starts'
    if not sequences(item):
        return "no image-sequence output"
    return ""


def sequences(item: Item) -> list[Output]:
    return [o for o in item.outputs if o.kind == "sequence" and _HASHES.search(o.path)]


def journal_name(key: str, rqindex: int, start: int, end: int, step: int) -> str:
    return f"{key}.rq{rqindex}.f{start}_{end}.s{step}.jsonl"


def header(key: str, rqindex: int, start: int, end: int, step: int) -> dict[str, object]:
    return {"stmpo_journal": FORMAT, "key": key, "rqindex": rqindex, "frames": [start, end, step]}


def frame_facts(folder: str, item: Item, frame: int) -> list[FileFacts] | None:
    """The files of `frame` as the journal records them, or None when one is not a
    non-empty regular file (a frame is only as rendered as its last output)."""
    facts: list[FileFacts] = []
    for output in sequences(item):
        path = frame_path(output.path, frame)
        try:
            st = os.stat(path)
        except OSError:
            return None
        if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
            return None
        try:
            name = os.path.relpath(path, folder)
        except ValueError:  # Windows: another drive than the journal's
            name = path
        facts.append((name, st.st_size, st.st_mtime_ns))
    return facts


def parse_entries(lines: Iterable[bytes]) -> tuple[dict[int, list[FileFacts]], int]:
    """Pure: the journal's entries (the last one per frame wins) and how many lines
    were damaged (not JSON, wrong shape, too long, or cut by a crash mid-write)."""
    entries: dict[int, list[FileFacts]] = {}
    damaged = 0
    for raw in lines:
        if not raw.strip():
            continue
        entry = _entry(raw) if len(raw) <= MAX_ENTRY_BYTES else None
        if entry is None:
            damaged += 1
            continue
        entries[entry[0]] = entry[1]
    return entries, damaged


def _entry(raw: bytes) -> tuple[int, list[FileFacts]] | None:
    try:
        data = json.loads(raw.decode("utf-8"))
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    frame, files = data.get("frame"), data.get("files")
    if not isinstance(frame, int) or isinstance(frame, bool):
        return None
    if not isinstance(files, list) or not files:
        return None
    facts: list[FileFacts] = []
    for one in files:
        if (
            not isinstance(one, list)
            or len(one) != 3
            or not isinstance(one[0], str)
            or not _is_int(one[1])
            or not _is_int(one[2])
        ):
            return None
        facts.append((one[0], one[1], one[2]))
    return frame, facts


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def missing_runs(start: int, end: int, step: int, done: Iterable[int]) -> list[tuple[int, int]]:
    """Pure: the frames of `start..end` every `step` that are not in `done`, as
    contiguous runs (first, last). Works on the done frames only, so a task of 10^9
    frames is never materialised."""
    runs: list[tuple[int, int]] = []
    at = start
    for frame in sorted({f for f in done if start <= f <= end and (f - start) % step == 0}):
        if frame > at:
            runs.append((at, frame - step))
        at = frame + step
    if at <= end:
        runs.append((at, end))
    return runs


def run_frames(runs: Sequence[tuple[int, int]], step: int) -> int:
    return sum((last - first) // step + 1 for first, last in runs)


def resumed_plan(plan: RenderPlan, runs: Sequence[tuple[int, int]]) -> RenderPlan:
    """`plan` rendering exactly `runs` (the orchestrator's Scheduler hands them out, and
    a launch never spans a gap, so no rendered frame renders again). At most as many
    processes as frames are left; they keep the plan's first CPU blocks (dealt
    round-robin over the pools); one process alone is not pinned, as planning does."""
    processes = max(1, min(plan.processes, run_frames(runs, plan.step)))
    blocks = list(plan.cpu_blocks[:processes]) if plan.cpu_blocks and processes > 1 else None
    return replace(plan, processes=processes, ranges=list(runs), cpu_blocks=blocks)


@dataclass
class Journal:
    """This task's journal file: what `resume` read, and where `record` appends."""

    path: str
    folder: str
    item: Item
    head: dict[str, object]
    warn: Say
    broken: bool = False  # a write failed: warned once, no more tries

    def record(self, frames: Iterable[int]) -> int:
        """Append the verified `frames` whose files are all there (one line each, one
        write, flushed to disk); how many were recorded. A failure warns, once: the
        render itself is not affected, only a later resume."""
        if self.broken:
            return 0
        try:
            lines = []
            for frame in frames:
                facts = frame_facts(self.folder, self.item, frame)
                if facts is not None:
                    lines.append(json.dumps({"frame": frame, "files": facts}, ensure_ascii=True))
            if not lines:
                return 0
            fd = _open_own(self.path, self.head)
            try:
                data = memoryview(("\n".join(lines) + "\n").encode("ascii"))
                while data:  # a regular file takes it all at once, but never assume
                    data = data[os.write(fd, data) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except (OSError, ValueError, _NotOurs) as exc:
            self.broken = True
            self.warn(f"resume journal {self.path} not written ({_why(exc)}): a retry renders all")
            return 0
        return len(lines)


class _NotOurs(Exception):
    """A file at the journal's path that the worker did not write."""


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_own(path: str, head: dict[str, object]) -> int:
    """A descriptor appending to our journal at `path`, made (with its header) if it
    is not there; _NotOurs when what is there is not this task's journal."""
    folder = os.path.dirname(path)
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        os.mkdir(folder)
    else:
        if not stat.S_ISDIR(st.st_mode):
            raise _NotOurs(f"{JOURNAL_DIR} is not a folder the worker made")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW, 0o666)
    except FileExistsError:
        if _read_head(path) != head:
            raise _NotOurs("a file there is not this task's journal") from None
        return os.open(path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW)
    os.write(fd, (json.dumps(head, ensure_ascii=True) + "\n").encode("ascii"))
    os.close(fd)
    return os.open(path, os.O_WRONLY | os.O_APPEND | _NOFOLLOW)


def _read_head(path: str) -> object:
    with open(path, "rb") as fh:
        first = fh.readline(MAX_ENTRY_BYTES)
    try:
        return json.loads(first.decode("utf-8"))
    except (ValueError, RecursionError):
        return None


@dataclass(frozen=True)
class Resume:
    """What `resume` found: the journal to append to (None: nothing is journaled), the
    frames already rendered and the runs left (`runs` empty: nothing to render)."""

    journal: Journal | None
    runs: list[tuple[int, int]]
    reused: int
    total: int


def resume(
    item: Item,
    rqindex: int,
    start: int,
    end: int,
    step: int,
    key: str,
    say: Say,
    warn: Say,
) -> Resume:
    """The imperative shell around the journal: read this task's journal (bounded),
    keep the frames whose files still match it, and return the runs left to render.
    `item` has the outputs as paths on this host; `key` from `job_key`."""
    total = (end - start) // step + 1
    whole = Resume(None, [(start, end)], 0, total)
    folder = os.path.join(os.path.dirname(sequences(item)[0].path), JOURNAL_DIR)
    head = header(key, rqindex, start, end, step)
    path = os.path.join(folder, journal_name(key, rqindex, start, end, step))
    journal = Journal(path, os.path.dirname(folder), item, head, warn)
    try:
        if os.path.islink(folder) or os.path.islink(path):
            raise _NotOurs("a link, not a file the worker wrote")
        with open(path, "rb") as fh:
            first = fh.readline(MAX_ENTRY_BYTES)
            try:
                found = json.loads(first.decode("utf-8"))
            except (ValueError, RecursionError):
                found = None
            if found != head:
                raise _NotOurs("not this task's journal")
            data = fh.read(MAX_JOURNAL_BYTES)
            cut = bool(fh.read(1))
    except FileNotFoundError:
        return replace(whole, journal=journal)
    except (OSError, _NotOurs) as exc:
        warn(f"resume: {path} ignored ({_why(exc)}): rendering every frame")
        return whole
    if cut:
        warn(f"resume: {path} is over {MAX_JOURNAL_BYTES} bytes: read that much only")
    entries, damaged = parse_entries(data.split(b"\n"))
    if damaged:
        warn(f"resume: {damaged} damaged line(s) in {path} ignored (those frames render again)")
    done = [
        frame
        for frame, facts in entries.items()
        if start <= frame <= end
        and (frame - start) % step == 0
        and frame_facts(journal.folder, item, frame) == facts
    ]
    runs = missing_runs(start, end, step, done)
    left = run_frames(runs, step)
    if done:
        say(
            f"STMPO: resume: {total - left} of {total} frames already rendered by an earlier "
            f"attempt of this job; rendering {left} in {len(runs)} run(s)"
        )
    return Resume(journal, runs, total - left, total)
