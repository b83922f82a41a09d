"""Starting a child in its own process group and ending its whole tree.

aerender starts AfterFX (Windows) and plugins start helpers; killing only aerender
would orphan them. Each child gets its own session (POSIX) or process group
(Windows), so the group can be signalled as a whole, and psutil (when present) also
finds descendants that left the group. Descendants seen while the child ran are
remembered, because once a child exits its orphans are no longer its children.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence

try:
    import psutil
except ImportError:  # pragma: no cover - workers without psutil
    psutil = None  # type: ignore[assignment]

WINDOWS = sys.platform == "win32"


def spawn(argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `argv` (a list, no shell) in its own group, stdout+stderr on one pipe."""
    kwargs: dict[str, object] = {}
    if WINDOWS:  # pragma: no cover - Windows only
        kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
    else:
        kwargs["start_new_session"] = True
    return subprocess.Popen(  # type: ignore[call-overload,no-any-return]
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        close_fds=True,
        **kwargs,
    )


def children_by_parent() -> dict[int, list[int]]:
    """One scan of the process table: parent pid -> child pids ({} without psutil)."""
    if psutil is None:
        return {}
    parents: dict[int, list[int]] = {}
    for proc in psutil.process_iter(["ppid"]):
        ppid = proc.info.get("ppid")
        if ppid is not None:
            parents.setdefault(ppid, []).append(proc.pid)
    return parents


class Tree:
    """One child and every descendant seen so far."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc = proc
        self.pid = proc.pid
        self._seen: dict[int, object] = {}
        self._root: object | None = None
        if psutil is not None:
            try:
                self._root = psutil.Process(proc.pid)
            except psutil.Error:
                self._root = None

    def refresh(self, parents: dict[int, list[int]] | None = None) -> None:
        """Remember current descendants. `parents` (from `children_by_parent`) lets many
        trees share one scan of the process table."""
        if psutil is None or self._root is None:
            return
        if parents is None:
            parents = children_by_parent()
        if not self._root.is_running():  # type: ignore[attr-defined]
            return  # its pid may be reused: only the group and what was seen count now
        stack = list(parents.get(self.pid, ()))
        while stack:
            pid = stack.pop()
            stack.extend(parents.get(pid, ()))
            if pid not in self._seen:
                try:
                    self._seen[pid] = psutil.Process(pid)
                except psutil.Error:
                    continue

    def _descendants(self) -> list[object]:
        self.refresh()
        alive = []
        for proc in self._seen.values():
            try:
                if proc.is_running():  # type: ignore[attr-defined]
                    alive.append(proc)
            except psutil.Error:
                continue
        return alive

    def _signal_group(self, sig: int) -> None:
        if WINDOWS:  # pragma: no cover - Windows only
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def group_alive(self) -> bool:
        """Any process left in the child's group (POSIX) or among known descendants."""
        self.proc.poll()  # reap the leader, or its zombie would count as alive
        if not WINDOWS:
            try:
                os.killpg(self.pid, 0)
                return True
            except ProcessLookupError:
                pass
            except PermissionError:
                return True
        return self.proc.poll() is None or bool(self._descendants())

    def terminate(self) -> None:
        """Ask politely: SIGTERM to the group and every known descendant (CTRL_BREAK on
        Windows)."""
        descendants = self._descendants()
        if WINDOWS:  # pragma: no cover - Windows only
            if self.proc.poll() is None:
                with contextlib.suppress(OSError):
                    self.proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
        else:
            self._signal_group(signal.SIGTERM)
            if self.proc.poll() is None:
                with contextlib.suppress(OSError):
                    self.proc.terminate()
        _each(descendants, "terminate")

    def kill(self) -> None:
        """No more asking: SIGKILL to the group and every known descendant."""
        descendants = self._descendants()
        if not WINDOWS:
            self._signal_group(signal.SIGKILL)
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.kill()
        _each(descendants, "kill")
        if WINDOWS and psutil is None:  # pragma: no cover - Windows without psutil
            subprocess.run(
                ["taskkill", "/PID", str(self.pid), "/T", "/F"], capture_output=True, check=False
            )


def _each(processes: Iterable[object], method: str) -> None:
    for proc in processes:
        try:
            getattr(proc, method)()
        except Exception:  # psutil.Error and OSError: the process already went away
            continue


def end_trees(trees: Sequence[Tree], grace: float, poll: float = 0.05) -> None:
    """Terminate every tree at once, wait up to `grace` seconds, then kill what is left.

    The grace is shared, not per tree: a cancel must finish within the notify period.
    """
    for tree in trees:
        tree.terminate()
    deadline = time.monotonic() + max(0.0, grace)
    while time.monotonic() < deadline:
        for tree in trees:
            tree.proc.poll()
        if not any(t.group_alive() for t in trees):
            break
        time.sleep(poll)
    for tree in trees:
        if tree.group_alive():
            tree.kill()
    for tree in trees:
        with contextlib.suppress(subprocess.TimeoutExpired):  # unkillable (D state)
            tree.proc.wait(timeout=5)
