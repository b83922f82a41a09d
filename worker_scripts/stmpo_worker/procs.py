"""Starting a child in its own process group and ending its whole tree.

aerender starts AfterFX (Windows) and plugins start helpers; killing only aerender
would orphan them. Each child gets its own session (POSIX) or process group
(Windows), so the group can be signalled as a whole, and psutil (when present) also
finds descendants that left the group. Descendants seen while the child ran are
remembered, because once a child exits its orphans are no longer its children.

"Alive" means running, not a zombie: an orphan re-parented to a child subreaper that
does not reap it (`stmpo run-local`, some container inits) stays a zombie in the
child's group, and `killpg(pgid, 0)` still succeeds for it. Counting it as alive made
every stop wait the whole grace, twice. Linux reads /proc (stdlib); elsewhere psutil.

Windows: a child in a job of its own (`jobobject.ChildJob`) is watched and ended
through the job, which holds every process of its tree whatever their parent pids say.
Without such a job and without psutil, `taskkill /PID <root> /T /F` ends the tree: it
walks the tree down from the root, so it must run while the root still lives (ending
the root first left AfterFX orphaned, unreachable, until it exited by itself).
https://learn.microsoft.com/windows-server/administration/windows-commands/taskkill
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from .jobobject import ChildJob
from .subreaper import read_stat, running, signal_orphan

try:
    import psutil
except ImportError:  # pragma: no cover - workers without psutil
    psutil = None  # type: ignore[assignment]

WINDOWS = sys.platform == "win32"


CREATE_SUSPENDED = 0x00000004  # not in the subprocess module


def spawn(
    argv: Sequence[str], env: dict[str, str], suspended: bool = False
) -> subprocess.Popen[bytes]:
    """Start `argv` (a list, no shell) in its own group, stdout+stderr on one pipe.

    `suspended` (Windows only): the main thread waits for a resume, so the caller can
    put the process in a job object before it runs any code."""
    kwargs: dict[str, object] = {}
    if WINDOWS:  # pragma: no cover - Windows only
        flags = subprocess.CREATE_NEW_PROCESS_GROUP  # type: ignore[attr-defined]
        kwargs["creationflags"] = flags | (CREATE_SUSPENDED if suspended else 0)
    elif suspended:
        raise ValueError("a suspended start exists on Windows only")
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


@dataclass(frozen=True)
class Member:
    """One live process of a tree, named for the log."""

    pid: int
    name: str

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.name})" if self.name else f"pid {self.pid}"


ProcessTable = dict[int, list[Member]]
"""Process group id -> its live (non-zombie) members."""

_PROC = "/proc"


def process_table() -> ProcessTable | None:
    """Live processes by process group, in one scan; None where groups cannot be read
    (Windows, or macOS without psutil)."""
    table: ProcessTable = {}
    if sys.platform.startswith("linux") and os.path.isdir(_PROC):
        for name in os.listdir(_PROC):
            if not name.isdigit():
                continue
            stat = read_stat(name)
            if stat is not None and not stat.gone:
                table.setdefault(stat.pgrp, []).append(Member(int(name), stat.comm))
        return table
    if WINDOWS or psutil is None:
        return None
    for proc in psutil.process_iter(["name", "status"]):
        if proc.info.get("status") == psutil.STATUS_ZOMBIE:
            continue
        try:
            pgid = os.getpgid(proc.pid)
        except OSError:
            continue
        table.setdefault(pgid, []).append(Member(proc.pid, proc.info.get("name") or ""))
    return table


def _running(proc: object) -> bool:
    """A psutil process that runs, zombies excluded (is_running() is true for them)."""
    try:
        return bool(
            proc.is_running()  # type: ignore[attr-defined]
            and proc.status() != psutil.STATUS_ZOMBIE  # type: ignore[attr-defined]
        )
    except Exception:  # psutil.Error: gone
        return False


def _name(proc: object) -> str:
    try:
        return str(proc.name())  # type: ignore[attr-defined]
    except Exception:  # psutil.Error: gone or denied
        return ""


class Tree:
    """One child and every descendant seen so far."""

    def __init__(
        self, proc: subprocess.Popen[bytes], label: str = "", job: ChildJob | None = None
    ) -> None:
        self.proc = proc
        self.pid = proc.pid
        self.label = label
        self.job = job  # Windows: the child's own job object, holding its whole tree
        self.term_sent: float | None = None  # time.monotonic() of the first SIGTERM
        self.kill_sent = False
        self._seen: dict[int, object] = {}
        self._adopted: dict[int, str] = {}  # orphans reparented to us (subreaper): pid -> name
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
        if not self._root.is_running():  # type: ignore[attr-defined]
            return  # its pid may be reused: only the group and what was seen count now
        if parents is None:
            parents = children_by_parent()
        stack = list(parents.get(self.pid, ()))
        while stack:
            pid = stack.pop()
            stack.extend(parents.get(pid, ()))
            if pid not in self._seen:
                try:
                    self._seen[pid] = psutil.Process(pid)
                except psutil.Error:
                    continue

    def adopt(self, pid: int, name: str) -> None:
        """Count an orphan of this child that the orchestrator, as child subreaper,
        inherited: it is signalled with the tree and reaped once it has ended."""
        self._adopted[pid] = name

    def _live_adopted(self) -> list[Member]:
        for pid in [p for p in self._adopted if not running(p)]:
            del self._adopted[pid]  # ended and reaped
        return [Member(pid, name) for pid, name in self._adopted.items()]

    def _descendants(self, parents: dict[int, list[int]] | None = None) -> list[object]:
        self.refresh(parents)
        return [proc for proc in self._seen.values() if _running(proc)]

    def _signal_group(self, sig: int) -> None:
        if WINDOWS:  # pragma: no cover - Windows only
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, sig)

    def members(
        self, table: ProcessTable | None = None, parents: dict[int, list[int]] | None = None
    ) -> list[Member]:
        """The tree's live processes: its group (POSIX) and the descendants seen.

        `table` and `parents` (from `process_table`, `children_by_parent`) let many
        trees share one scan. A tree with a job object is what the job holds: one entry,
        the root's pid, naming how many processes are left."""
        self.proc.poll()  # reap the leader, or its zombie would count as alive
        active = self.job.active() if self.job is not None else None
        if active is not None:
            if active == 0:
                return []
            alone = active == 1 and self.proc.poll() is None
            return [Member(self.pid, "" if alone else f"{active} process(es) in its job object")]
        found: dict[int, Member] = {}
        if table is None:
            table = process_table()
        if table is not None:
            found.update((m.pid, m) for m in table.get(self.pid, ()))
        elif not WINDOWS:  # no way to list the group: a zombie counts as alive here
            try:
                os.killpg(self.pid, 0)
                found[self.pid] = Member(self.pid, "process group")
            except ProcessLookupError:
                pass
            except PermissionError:
                found[self.pid] = Member(self.pid, "process group")
        if self.proc.poll() is None and self.pid not in found:
            found[self.pid] = Member(self.pid, "")
        for proc in self._descendants(parents):
            pid = int(proc.pid)  # type: ignore[attr-defined]
            found.setdefault(pid, Member(pid, _name(proc)))
        for member in self._live_adopted():
            found.setdefault(member.pid, member)
        return sorted(found.values(), key=lambda m: m.pid)

    def group_alive(self) -> bool:
        """Any live process left in the child's group or among known descendants."""
        return bool(self.members())

    def terminate(self) -> None:
        """Ask politely: SIGTERM to the group and every known descendant (CTRL_BREAK on
        Windows). The grace runs from the first time a tree is asked."""
        if self.term_sent is None:
            self.term_sent = time.monotonic()
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
        for member in self._live_adopted():
            signal_orphan(member.pid, signal.SIGTERM)

    def kill(self) -> None:
        """No more asking: SIGKILL to the group and every known descendant (Windows: the
        whole job at once, or `taskkill /T` before the root goes)."""
        self.kill_sent = True
        if self.job is not None and self.job.terminate():
            return  # TerminateJobObject ended the root and every descendant
        descendants = self._descendants()
        if not WINDOWS:
            self._signal_group(signal.SIGKILL)
        elif psutil is None and self.proc.poll() is None:
            taskkill_tree(self.pid)  # root first would leave its children unreachable
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                self.proc.kill()
        _each(descendants, "kill")
        for member in self._live_adopted():
            signal_orphan(member.pid, signal.SIGKILL)


TASKKILL_WAIT = 10.0  # seconds taskkill may take before the root is killed regardless


def taskkill_tree(pid: int) -> None:
    """`taskkill /PID pid /T /F`: force-end pid and every process below it. Only for a
    root that still runs (the Popen holds its handle, so the pid is not reused). A
    missing or hanging taskkill is no reason not to kill the root."""
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        subprocess.run(
            ["taskkill", "/PID", str(pid), "/T", "/F"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            check=False,
            timeout=TASKKILL_WAIT,
        )


def _each(processes: Iterable[object], method: str) -> None:
    for proc in processes:
        try:
            getattr(proc, method)()
        except Exception:  # psutil.Error and OSError: the process already went away
            continue


KILL_WAIT = 5.0  # after SIGKILL, how long to wait for the processes to go away


@dataclass
class StopReport:
    """What ending some trees took: which processes ignored SIGTERM for the whole grace
    (and got SIGKILL), and which were still there even after SIGKILL (D state)."""

    asked: int = 0  # trees that had a live process when asked to stop
    killed: list[tuple[Tree, list[Member]]] = field(default_factory=list)
    unkillable: list[tuple[Tree, list[Member]]] = field(default_factory=list)


def end_trees(
    trees: Sequence[Tree],
    grace: float,
    poll: float = 0.05,
    wait: Callable[[float], None] = time.sleep,
    kill_at: Callable[[], float | None] = lambda: None,
) -> StopReport:
    """Terminate every tree at once; SIGKILL only what is still alive when its grace ends.

    Returns as soon as every process of every tree is gone. The grace is shared, not
    per tree (a cancel must finish within the notify period), and counts from the
    first SIGTERM a tree got: a tree already asked (orphans of a child that exited)
    does not get a second grace, and one already killed is killed again at once.
    `wait(poll)` passes the time between looks: the orchestrator keeps merging the
    children's log lines meanwhile. `kill_at()`, asked at every look, is a
    `time.monotonic()` by which everything gets SIGKILL whatever the grace says (a
    cancel whose `cancel_info.json` allows less time; it may come in while waiting).
    """
    report = StopReport()
    table, parents = process_table(), children_by_parent()
    live = [t for t in trees if t.members(table, parents)]
    report.asked = len(live)
    for tree in live:
        tree.terminate()
    pending = list(live)
    killed: set[int] = set()  # id() of the trees sent SIGKILL here
    give_up: float | None = None
    while True:
        table, parents = process_table(), children_by_parent()
        pending = [t for t in pending if t.members(table, parents)]
        if not pending:
            break
        now = time.monotonic()
        deadline = kill_at()
        for tree in pending:
            assert tree.term_sent is not None
            due = tree.kill_sent or now >= tree.term_sent + max(0.0, grace)
            due = due or (deadline is not None and now >= deadline)
            if due and id(tree) not in killed:
                killed.add(id(tree))
                report.killed.append((tree, tree.members(table, parents)))
                tree.kill()
        if all(id(t) in killed for t in pending):
            give_up = now + KILL_WAIT if give_up is None else give_up
            if now >= give_up:
                report.unkillable = [(t, t.members(table, parents)) for t in pending]
                break
        wait(poll)
    for tree in trees:
        with contextlib.suppress(subprocess.TimeoutExpired):  # unkillable (D state)
            tree.proc.wait(timeout=0 if report.unkillable else KILL_WAIT)
    return report
