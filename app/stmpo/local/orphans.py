"""Find and stop what an action left behind, so a cancelled run leaves no orphan.

openjd-sessions cancels by signalling the action's process (then its process group, but
only while the action's own process is still alive). A script that exits on SIGTERM
without stopping its children, or a child that started its own session, outlives the
action. We record every process that belongs to an action while it runs (its
descendants, and anything in its session), and stop the survivors when it ends.

On Linux the runner can also make itself a child subreaper, so an orphaned grandchild is
re-parented to us instead of init and stays visible in our process tree.
"""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import dataclass, field

import psutil

_PR_SET_CHILD_SUBREAPER = 36
_subreaper = False


def become_subreaper() -> bool:
    """Adopt our orphaned descendants (Linux only). True if the kernel accepted it.

    Only for a process that owns its whole tree (the CLI): a GUI that also runs other
    subprocesses would adopt their orphans too.
    """
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    global _subreaper
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        _subreaper = _subreaper or int(libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        pass
    return _subreaper


def _our_children() -> dict[int, float]:
    try:
        return {p.pid: p.create_time() for p in psutil.Process().children()}
    except psutil.Error:
        return {}


def _session_of(pid: int) -> int | None:
    getsid = getattr(os, "getsid", None)
    if getsid is None:
        return None
    try:
        return int(getsid(pid))
    except OSError:
        return None


@dataclass
class ActionProcesses:
    """Processes seen belonging to one action, keyed by pid with their start time
    (a pid alone could be reused by an unrelated process by the time we stop it)."""

    leader: int | None = None
    seen: dict[int, float] = field(default_factory=dict)
    children_before: dict[int, float] = field(default_factory=_our_children)
    """Our children when the action started: as a subreaper, any child we gain during
    the action is one of its orphans (nothing else in the process starts children)."""

    def set_leader(self, pid: int) -> None:
        self.leader = pid
        self.track()

    def track(self) -> None:
        """Record the action's current descendants and our adopted children in its session."""
        if self.leader is None:
            return
        found: list[psutil.Process] = []
        with contextlib.suppress(psutil.Error):
            leader = psutil.Process(self.leader)
            found.append(leader)
            found.extend(leader.children(recursive=True))
        try:
            ours = psutil.Process().children(recursive=True)
        except psutil.Error:
            ours = []
        adopted = (
            {pid for pid in _our_children() if pid not in self.children_before}
            if _subreaper
            else set()
        )
        for proc in ours:
            if proc.pid in self.seen or proc.pid in adopted or _session_of(proc.pid) == self.leader:
                found.append(proc)
                with contextlib.suppress(psutil.Error):
                    found.extend(proc.children(recursive=True))
        for proc in found:
            with contextlib.suppress(psutil.Error):
                self.seen.setdefault(proc.pid, proc.create_time())

    def leader_exited(self) -> bool:
        """The action's own process is gone (or a zombie waiting for openjd to reap it)."""
        if self.leader is None:
            return False
        try:
            return psutil.Process(self.leader).status() == psutil.STATUS_ZOMBIE
        except psutil.Error:
            return True

    def survivors(self) -> list[psutil.Process]:
        """Recorded processes that are still running (not the same pid reused)."""
        self.track()
        alive: list[psutil.Process] = []
        for pid, started in self.seen.items():
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                if proc.create_time() == started and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(proc)
                elif proc.create_time() == started:
                    _reap_if_ours(proc)
        return alive

    def stop_survivors(self, grace_seconds: float = 3.0) -> list[int]:
        """SIGTERM the survivors, SIGKILL what is left after the grace; returns their pids."""
        alive = self.survivors()
        if not alive:
            return []
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.terminate()
        _gone, still = psutil.wait_procs(alive, timeout=grace_seconds)
        for proc in still:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(still, timeout=grace_seconds)
        for proc in alive:
            _reap_if_ours(proc)
        return [p.pid for p in alive]


def _reap_if_ours(proc: psutil.Process) -> None:
    """Collect an adopted child's exit status so it does not linger as a zombie."""
    with contextlib.suppress(psutil.Error, ChildProcessError, OSError):
        if proc.ppid() == os.getpid():
            os.waitpid(proc.pid, os.WNOHANG)
