"""Orphans come back to the orchestrator, so none outlives its task (Linux).

A helper that forks, calls setsid() and lets its parent exit (daemon(3)) leaves both
places the orchestrator looks for a child's processes: the child's process group
(setsid made a new one) and its descendants (the kernel reparents an orphan to init).
Such a helper outlived the task, and if it kept the child's stdout it also held the
log pipe open, so the task waited `EOF_WAIT + grace` (32 s by default) for an EOF.

Linux lets a process declare itself a *child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`,
Linux 3.4, prctl(2)): orphans among its descendants are reparented to it instead of
init. The orchestrator does so before it starts any child, which makes every orphan
its direct child: found by parent pid, safe to signal (a pid is not reused until its
parent reaps it) and reaped here with `waitpid`, or it would stay a zombie.

Which child an orphan came from: each child's environment carries `TAG_VAR` (inherited
through fork, setsid and exec unless a program clears its environment), and failing
that, a file descriptor on a child's output pipe says whose log it is holding. An
orphan neither claims is ended when the task ends.

Standard library only, Python 3.9+: these files run on the worker.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

PR_SET_CHILD_SUBREAPER = 36  # linux/prctl.h
TAG_VAR = "STMPO_CHILD_TAG"
LINUX = sys.platform.startswith("linux")
_PROC = "/proc"


def become_subreaper() -> bool:
    """Make this process the child subreaper of everything it starts from now on.
    False where that does not exist (not Linux); OSError when Linux refuses."""
    if not LINUX:
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, ctypes.c_ulong(1), zero, zero, zero) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return True


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/PID/stat the worker needs."""

    ppid: int
    pgrp: int
    state: str
    comm: str

    @property
    def gone(self) -> bool:
        """A zombie (or dead) process: it runs nothing and only waits to be reaped."""
        return self.state in ("Z", "X", "x")


def read_stat(pid: int | str) -> Stat | None:
    """/proc/PID/stat, or None once the process is reaped; comm may hold spaces and
    parentheses, so the fields are counted from the last `)`."""
    try:
        with open(f"{_PROC}/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    open_at, close_at = raw.find("("), raw.rfind(")")
    fields = raw[close_at + 2 :].split()
    if open_at < 0 or close_at < 0 or len(fields) < 3:
        return None
    return Stat(int(fields[1]), int(fields[2]), fields[0], raw[open_at + 1 : close_at])


@dataclass(frozen=True)
class Orphan:
    """A direct child of this process that it did not start: an adopted orphan."""

    pid: int
    name: str
    gone: bool  # a zombie: reap it, there is nothing left to end


def adopted(own: Collection[int]) -> list[Orphan]:
    """This process's children except `own` (the children it started and has not
    reaped yet: subprocess reaps those). [] where there is no /proc."""
    if not LINUX or not os.path.isdir(_PROC):
        return []
    me = os.getpid()
    found = []
    for name in os.listdir(_PROC):
        if not name.isdigit() or int(name) in own:
            continue
        stat = read_stat(name)
        if stat is not None and stat.ppid == me:
            found.append(Orphan(int(name), stat.comm, stat.gone))
    return found


def tag_of(pid: int) -> str:
    """The value of `TAG_VAR` in a process's environment ('' if absent or unreadable)."""
    try:
        with open(f"{_PROC}/{pid}/environ", "rb") as fh:
            environ = fh.read()
    except OSError:
        return ""
    key = TAG_VAR.encode("ascii") + b"="
    for entry in environ.split(b"\0"):
        if entry.startswith(key):
            return entry[len(key) :].decode("ascii", "replace")
    return ""


def pipes_of(pid: int) -> set[int]:
    """Inode numbers of the pipes a process holds open (`pipe:[N]` fd links)."""
    found: set[int] = set()
    fd_dir = f"{_PROC}/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return found
    for name in names:
        try:
            link = os.readlink(f"{fd_dir}/{name}")
        except OSError:
            continue
        if link.startswith("pipe:[") and link.endswith("]"):
            with contextlib.suppress(ValueError):
                found.add(int(link[6:-1]))
    return found


def reap(pid: int) -> bool:
    """Collect an adopted child that has ended; True once it is gone for good."""
    try:
        done, _status = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True  # not (or no longer) our child
    return done == pid


def running(pid: int) -> bool:
    """Whether an adopted process still runs; reaps it once it has ended."""
    stat = read_stat(pid)
    if stat is None or stat.gone:
        reap(pid)
        return False
    return True


def signal_orphan(pid: int, sig: int) -> None:
    """Signal an adopted process and, when it leads a process group (setsid made it
    one), the group: its own children are in there."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        os.kill(pid, sig)


@dataclass(frozen=True)
class Ended:
    """How ending some orphans went: who needed SIGKILL, who survived even that."""

    killed: list[int]
    unkillable: list[int]


def end_orphans(
    pids: Collection[int],
    grace: float,
    wait: Callable[[float], None] = time.sleep,
    poll: float = 0.05,
    kill_wait: float = 5.0,
    deadline: Callable[[], float | None] = lambda: None,
) -> Ended:
    """SIGTERM, then SIGKILL for what still runs when `grace` ends, or at `deadline()`
    (a `time.monotonic()`, asked at every look: a cancel's NotifyEnd) if sooner; returns
    as soon as every one is gone (and reaped)."""
    pending = [p for p in pids if running(p)]
    for pid in pending:
        signal_orphan(pid, signal.SIGTERM)
    killed: list[int] = []
    kill_at = time.monotonic() + max(0.0, grace)
    give_up: float | None = None
    while pending:
        wait(poll)
        pending = [p for p in pending if running(p)]
        now = time.monotonic()
        sooner = deadline()
        due = now >= kill_at or (sooner is not None and now >= sooner)
        if pending and due and give_up is None:
            killed = list(pending)
            for pid in pending:
                signal_orphan(pid, signal.SIGKILL)
            give_up = now + kill_wait
        elif give_up is not None and now >= give_up:
            break
    return Ended(killed, pending)
