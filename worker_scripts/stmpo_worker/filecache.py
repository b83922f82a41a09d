"""Lustre HSM through `lfs`: state parsing, batched requests, polling until done.

Amazon File Cache is Lustre linked to a data repository through HSM. `hsm_archive`
(write a cached file back to the repository) and `hsm_restore` (fetch it again) only
queue work for the copytool and return at once, so the reference post's fire-and-forget
`hsm_archive` can leave a frame only in the cache. Here every request is followed by
polling `lfs hsm_state` until each file reached the wanted state, with a deadline, and
what did not is named.

`lfs` runs as an argv (`shlex.split(LfsCommand)` + subcommand + paths), never through a
shell, in batches whose command line stays under Windows' 32,767 characters (the same
budget as every STMPO action). Pure parsing and batching first, the process calls after.
Standard library only, Python 3.9+: the worker and `stmpo cache-*` share it.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

#: hsm_user_state flags (lustre_user.h, `enum hsm_states`).
HS_EXISTS = 0x1
HS_DIRTY = 0x2
HS_RELEASED = 0x4
HS_ARCHIVED = 0x8
HS_NORELEASE = 0x10
HS_NOARCHIVE = 0x20
HS_LOST = 0x40

#: A command line stays below Windows' 32,767-character limit with room to spare.
MAX_COMMAND_LINE = 32_000
#: And a batch holds at most this many files: one request, one bounded reply.
MAX_BATCH_FILES = 1000
#: Polling starts fast (a small file archives in well under a second) and backs off.
FIRST_POLL_SEC = 0.1
MAX_POLL_SEC = 5.0

_STATE = re.compile(
    r"^(?P<path>.*): +\((?P<mask>0x[0-9a-fA-F]{1,8})\)(?P<words>[^,]*)"
    r"(?:, *archive_id:(?P<id>\d+))? *$"
)


class LfsProblem(Exception):
    """`lfs` could not do what was asked; `command` names it as run (first files only)."""

    def __init__(self, command: str, why: str) -> None:
        self.command = command
        self.why = why
        super().__init__(f"{command}: {why}")


class LfsMissing(LfsProblem):
    """The `lfs` program is not there (a setup problem: exit 2)."""


class LfsFailed(LfsProblem):
    """`lfs` ran and failed (exit 1)."""


@dataclass(frozen=True)
class HsmState:
    """One file's `lfs hsm_state`: the flags word is authoritative, the names are
    only its spelling."""

    path: str
    mask: int
    archive_id: int = 0

    @property
    def archived(self) -> bool:
        return bool(self.mask & HS_ARCHIVED)

    @property
    def dirty(self) -> bool:
        return bool(self.mask & HS_DIRTY)

    @property
    def released(self) -> bool:
        return bool(self.mask & HS_RELEASED)

    @property
    def lost(self) -> bool:
        return bool(self.mask & HS_LOST)

    @property
    def safe(self) -> bool:
        """Its data is in the repository: archived, not dirty, not lost."""
        return self.archived and not self.dirty and not self.lost

    @property
    def releasable(self) -> bool:
        """hsm_release would not lose data, and there is something to release."""
        return self.safe and not self.released and not self.mask & HS_NORELEASE


def parse_state_line(line: str) -> HsmState | None:
    """`/p: (0x0000000d) released exists archived, archive_id:1` -> HsmState; None for
    a line that is not one (the greedy path keeps a path holding `: (` whole)."""
    match = _STATE.match(line.rstrip("\r\n"))
    if match is None:
        return None
    return HsmState(match.group("path"), int(match.group("mask"), 16), int(match.group("id") or 0))


def parse_states(text: str) -> dict[str, HsmState]:
    states: dict[str, HsmState] = {}
    for line in text.splitlines():
        state = parse_state_line(line)
        if state is not None:
            states[state.path] = state
    return states


def batches(
    prefix: Sequence[str],
    paths: Sequence[str],
    budget: int = MAX_COMMAND_LINE,
    most: int = MAX_BATCH_FILES,
) -> list[list[str]]:
    """`paths` cut so `prefix + batch` quoted as a Windows command line (each argument
    counted with two quotes, a space and its escapes) fits `budget`. A single path too
    long for any batch is a batch of its own (the OS then refuses it, with a message)."""
    base = sum(len(a) + 3 for a in prefix)
    out: list[list[str]] = []
    batch: list[str] = []
    used = base
    for path in paths:
        cost = len(path) + 3 + path.count('"')
        if batch and (used + cost > budget or len(batch) >= most):
            out.append(batch)
            batch, used = [], base
        batch.append(path)
        used += cost
    if batch:
        out.append(batch)
    return out


def named(paths: Sequence[str], most: int = 10) -> str:
    """Up to `most` paths for a message, and how many more."""
    head = ", ".join(paths[:most])
    return head + (f" (+{len(paths) - most} more)" if len(paths) > most else "")


Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        errors="surrogateescape",
        check=False,
    )


class Lfs:
    """`lfs` as the job's LfsCommand names it."""

    def __init__(self, command: str, runner: Runner = _run) -> None:
        try:
            self.argv = shlex.split(command)
        except ValueError as exc:
            raise LfsMissing(command, f"cannot be split into arguments ({exc})") from None
        if not self.argv:
            raise LfsMissing(command, "empty")
        self.command = command
        self._runner = runner

    def check(self) -> None:
        """LfsMissing when the program is not there: a clear exit 2 before any work. For
        the default `sudo lfs` the program after `sudo` (or `doas`) is looked for too, on
        PATH and in the system folders sudo's secure_path searches: otherwise a host
        without the Lustre client would fail later, as `sudo: lfs: command not found`."""
        program = self.argv[0]
        if shutil.which(program) is None and not os.path.isfile(program):
            raise LfsMissing(self.command, f"{program} not found (not on PATH)")
        wrapped = [a for a in self.argv[1:] if not a.startswith("-")]
        if os.path.basename(program) in ("sudo", "doas") and wrapped:
            inner = wrapped[0]
            system = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
            search = os.pathsep.join([os.environ.get("PATH", ""), *system])
            if shutil.which(inner, path=search) is None and not os.path.isfile(inner):
                raise LfsMissing(self.command, f"{inner} not found (not on PATH)")

    def _call(self, sub: str, paths: Sequence[str]) -> list[subprocess.CompletedProcess[str]]:
        done: list[subprocess.CompletedProcess[str]] = []
        for batch in batches([*self.argv, sub], paths):
            argv = [*self.argv, sub, *batch]
            try:
                done.append(self._runner(argv))
            except FileNotFoundError:
                raise LfsMissing(self.command, f"{self.argv[0]} not found") from None
            except OSError as exc:
                raise LfsFailed(f"{self.command} {sub}", str(exc.strerror or exc)) from None
            result = done[-1]
            if result.returncode != 0:
                why = (result.stderr or "").strip().splitlines()
                raise LfsFailed(
                    f"{self.command} {sub} {named(batch, 3)}",
                    f"exit {result.returncode}: {why[-1] if why else 'no message'}",
                )
        return done

    def request(self, sub: str, paths: Sequence[str]) -> None:
        """`hsm_archive`, `hsm_release` or `hsm_restore` on `paths`, in batches."""
        self._call(sub, paths)

    def states(self, paths: Sequence[str]) -> dict[str, HsmState | None]:
        """Each path's state; None for a file that is not there (lfs itself stops at
        the first missing file, so those are not asked about)."""
        present = [p for p in paths if os.path.lexists(p)]
        found: dict[str, HsmState | None] = {p: None for p in paths}
        for result in self._call("hsm_state", present):
            found.update(parse_states(result.stdout))
        unanswered = [p for p in present if found.get(p) is None]
        if unanswered:
            raise LfsFailed(
                f"{self.command} hsm_state", f"no state line for {named(unanswered, 3)}"
            )
        return found


@dataclass(frozen=True)
class Waited:
    """The outcome of a wait: files that got there, those that did not, and why not."""

    done: list[str]
    pending: list[str]
    failed: dict[str, str]
    seconds: float


def wait_for(
    lfs: Lfs,
    paths: Sequence[str],
    reached: Callable[[HsmState], bool],
    timeout: float,
    progress: Callable[[int, int], None] = lambda done, total: None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Waited:
    """Poll `hsm_state` until every path `reached` the wanted state or `timeout`
    seconds passed. A file that disappears or is `lost_from_hsm` fails at once: no
    wait brings it back."""
    start = clock()
    pending = list(paths)
    done: list[str] = []
    failed: dict[str, str] = {}
    interval = FIRST_POLL_SEC
    while True:
        states = lfs.states(pending) if pending else {}
        still: list[str] = []
        for path in pending:
            state = states.get(path)
            if state is None:
                failed[path] = "missing"
            elif reached(state):
                done.append(path)
            elif state.lost:
                failed[path] = "lost_from_hsm"
            else:
                still.append(path)
        pending = still
        progress(len(done), len(paths))
        left = timeout - (clock() - start)
        if not pending or left <= 0:
            return Waited(done, pending, failed, clock() - start)
        sleep(min(interval, left))
        interval = min(interval * 1.5, MAX_POLL_SEC)


def is_archived(state: HsmState) -> bool:
    return state.safe


def is_restored(state: HsmState) -> bool:
    return not state.released


def walk_files(path: str) -> Iterable[str]:
    """`path` itself when a file, else every regular file below it (sorted, symlinks
    not followed: a link out of the cache is not the cache's to archive)."""
    if not os.path.isdir(path):
        yield path
        return
    for folder, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            full = os.path.join(folder, name)
            if os.path.isfile(full) and not os.path.islink(full):
                yield full
