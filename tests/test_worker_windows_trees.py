"""Ending process trees on Windows without psutil, on a model of the Win32 behaviour.

No Windows here: `FakeWindows` models what the real calls do, per Microsoft's docs:
- TerminateProcess (Popen.kill) ends one process; its children keep running and keep
  a parent pid that no longer names a live process.
- `taskkill /PID p /T /F` ends p and the processes below it, found from p down by
  parent pid; for a p that already ended it fails ("not found") and ends nothing.
  https://learn.microsoft.com/windows-server/administration/windows-commands/taskkill
- A process created by a process in a job is in that job too (no breakaway allowed).
  TerminateJobObject ends every process in the job; JobObjectBasicAccountingInformation
  counts ActiveProcesses, which an ended process leaves at once.
  https://learn.microsoft.com/windows/win32/procthread/job-objects
  https://learn.microsoft.com/windows/win32/api/jobapi2/nf-jobapi2-terminatejobobject
The trees are then stopped by the worker's own `end_trees`, as a cancel does.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import pytest
from stmpo._worker_scripts.stmpo_worker import outputs as out
from stmpo._worker_scripts.stmpo_worker import procs
from stmpo._worker_scripts.stmpo_worker.affinity import Spawn, Started, WindowsAffinity
from stmpo._worker_scripts.stmpo_worker.jobobject import ChildJob
from stmpo._worker_scripts.stmpo_worker.orchestrator import Orchestrator, RenderJob
from stmpo._worker_scripts.stmpo_worker.planning import HostFacts, StmpoSettings, plan_render
from stmpo._worker_scripts.stmpo_worker.procs import Tree, end_trees
from stmpo_worker_harness import STANDIN, base_env, cleanup, make_scene, survivors


class FakeWindows:
    """Processes (pid -> parent pid), which are alive, and job membership."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.alive: set[int] = set()
        self.job_of: dict[int, int] = {}
        self.next_job = 100
        self.calls: list[tuple[Any, ...]] = []
        self.ignore_ctrl_break: set[int] = set()

    def start(self, pid: int, parent: int = 0) -> None:
        self.parent[pid] = parent
        self.alive.add(pid)
        if parent in self.job_of:
            self.job_of[pid] = self.job_of[parent]

    def end(self, pid: int) -> None:
        self.alive.discard(pid)

    # -- taskkill /T /F, as subprocess.run would run it
    def run(self, argv: Sequence[str], **_kw: Any) -> subprocess.CompletedProcess[bytes]:
        self.calls.append(("taskkill", *argv[1:]))
        pid = int(argv[argv.index("/PID") + 1])
        if pid not in self.alive:
            return subprocess.CompletedProcess(list(argv), 128, b"", b"ERROR: not found")
        stack = [pid]
        while stack:
            p = stack.pop()
            stack.extend(c for c, parent in self.parent.items() if parent == p and c in self.alive)
            self.end(p)
        return subprocess.CompletedProcess(list(argv), 0, b"SUCCESS", b"")

    # -- the WindowsApi the affinity backend and ChildJob use
    def processor_group_count(self) -> int:
        return 1

    def create_kill_on_close_job(self) -> int:
        self.next_job += 1
        return self.next_job

    def assign(self, job: int, pid: int) -> None:
        self.job_of[pid] = job

    def limit_job_affinity(self, job: int, mask: int) -> None:
        pass

    def set_job_group_affinity(self, job: int, groups: Sequence[tuple[int, int]]) -> None:
        pass

    def close(self, job: int) -> None:
        pass

    def resume(self, pid: int) -> None:
        pass

    def active_processes(self, job: int) -> int:
        return sum(1 for p in self.alive if self.job_of.get(p) == job)

    def terminate_job(self, job: int, exit_code: int) -> None:
        self.calls.append(("TerminateJobObject", job))
        for pid in [p for p in self.alive if self.job_of.get(p) == job]:
            self.end(pid)


class FakeRoot:
    """The Popen of aerender: poll/kill/send_signal act on the modelled process."""

    def __init__(self, system: FakeWindows, pid: int) -> None:
        self.system = system
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and self.pid not in self.system.alive:
            self.returncode = 1
        return self.returncode

    def kill(self) -> None:  # TerminateProcess: this process only
        self.system.calls.append(("TerminateProcess", self.pid))
        self.system.end(self.pid)

    def terminate(self) -> None:
        self.kill()

    def send_signal(self, sig: int) -> None:  # CTRL_BREAK_EVENT to its process group
        if self.pid not in self.system.ignore_ctrl_break:
            self.system.end(self.pid)

    def wait(self, timeout: float | None = None) -> int:
        code = self.poll()
        if code is None:
            raise subprocess.TimeoutExpired("aerender", timeout or 0)
        return code


@pytest.fixture
def windows(monkeypatch: pytest.MonkeyPatch) -> FakeWindows:
    """The worker's procs module as on a Windows worker without psutil."""
    system = FakeWindows()
    monkeypatch.setattr(procs, "WINDOWS", True)
    monkeypatch.setattr(procs, "psutil", None)
    monkeypatch.setattr(procs.subprocess, "run", system.run)
    monkeypatch.setattr(signal, "CTRL_BREAK_EVENT", 1, raising=False)
    monkeypatch.setattr(procs, "KILL_WAIT", 0.2)
    return system


def _aerender_with_afterfx(system: FakeWindows, root: int = 7) -> FakeRoot:
    system.start(root)
    system.start(root + 1000, parent=root)  # AfterFX.exe, started by aerender
    system.ignore_ctrl_break.add(root)
    return FakeRoot(system, root)


def test_without_a_job_taskkill_ends_the_tree_before_the_root_is_killed(
    windows: FakeWindows,
) -> None:
    root = _aerender_with_afterfx(windows)
    tree = Tree(cast("subprocess.Popen[bytes]", root), "c1 f0-9")
    report = end_trees([tree], grace=0.0, poll=0.01)
    assert windows.calls[0] == ("taskkill", "/PID", "7", "/T", "/F")
    assert windows.alive == set(), "AfterFX.exe was orphaned by killing aerender first"
    assert [t.label for t, _ in report.killed] == ["c1 f0-9"]


def test_taskkill_is_never_aimed_at_a_root_that_already_ended(windows: FakeWindows) -> None:
    root = _aerender_with_afterfx(windows)
    windows.end(7)
    Tree(cast("subprocess.Popen[bytes]", root), "c1 f0-9").kill()
    assert windows.calls == []  # its pid could name another process by now


def _started_in_job(windows: FakeWindows, cpus: Sequence[int] | None) -> Tree:
    backend = WindowsAffinity(windows, lambda _m: None)

    def spawn(suspended: bool) -> subprocess.Popen[bytes]:
        assert suspended
        windows.start(7)
        return cast("subprocess.Popen[bytes]", FakeRoot(windows, 7))

    started = backend.start(spawn, cpus)
    assert started.problem == "" and started.job is not None
    windows.start(1007, parent=7)  # AfterFX, started after the resume: joins the job
    windows.ignore_ctrl_break.add(7)
    return Tree(started.proc, "c1 f0-9", started.job)


@pytest.mark.parametrize("cpus", [None, [0, 1]], ids=["unpinned", "pinned"])
def test_a_child_in_its_own_job_is_alive_while_its_orphans_run(
    windows: FakeWindows, cpus: Sequence[int] | None
) -> None:
    tree = _started_in_job(windows, cpus)
    windows.end(7)  # aerender exits; AfterFX, its orphan, renders on
    assert tree.group_alive()
    assert [m.name for m in tree.members()] == ["1 process(es) in its job object"]
    windows.end(1007)
    assert not tree.group_alive()


def test_a_child_in_its_own_job_is_ended_with_its_job(windows: FakeWindows) -> None:
    tree = _started_in_job(windows, None)
    report = end_trees([tree], grace=0.0, poll=0.01)
    assert ("TerminateJobObject", 102) in windows.calls
    assert not any(c[0] == "taskkill" for c in windows.calls)
    assert windows.alive == set()
    assert [str(m) for _, members in report.killed for m in members] == [
        "pid 7 (2 process(es) in its job object)"
    ]


# -- the orchestrator ends a tree through the job its backend gave ----------------------


class GroupAsJob:
    """A job whose handle is a POSIX process group: ActiveProcesses is the group's live
    (non-zombie) members, TerminateJobObject is SIGKILL to the group. Lets the real
    orchestrator and real stand-ins run the Windows code path on this machine."""

    def __init__(self) -> None:
        self.terminated: list[int] = []

    def active_processes(self, job: int) -> int:
        table = procs.process_table()
        assert table is not None
        return len(table.get(job, []))

    def terminate_job(self, job: int, exit_code: int) -> None:
        self.terminated.append(job)
        os.killpg(job, signal.SIGKILL)


class JobPerChild:
    name = "job-per-child"

    def __init__(self, api: GroupAsJob) -> None:
        self.api = api

    def start(self, spawn: Spawn, cpus: Sequence[int] | None) -> Started:
        proc = spawn(False)  # its own session: the group is the "job"
        return Started(proc, "", ChildJob(self.api, proc.pid))


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_the_orchestrator_kills_a_stubborn_tree_through_its_job(tmp_path: Path) -> None:
    """c1 crashes, c2 hangs; both started a grandchild, and all ignore SIGTERM: c1's
    orphan and c2's tree are each ended with one TerminateJobObject of that child's job
    (no group signal, no taskkill), and nothing survives."""
    scene = make_scene(tmp_path)
    host = HostFacts(2, 64.0, ((0, 1),), "linux")
    plan = plan_render(host, StmpoSettings(concurrency=2), 0, 9, 1, False)
    job = RenderJob(
        project=str(scene.project),
        rqindex=1,
        aerender=str(STANDIN),
        item=out.Item("MAIN", (out.Output(1, scene.pattern, "sequence"),)),
        output_override=None,
        plan=plan,
        spawn_delay=0.0,
        child_grace=0.5,
        fail_fast=True,
        retries=0,  # fail-fast at c1's crash (a retry would start a third tree)
        env=base_env(
            scene,
            STANDIN_FAIL="crash@2,hang@7,spawn_child,ignore_term",
            STANDIN_BARRIER_DIR=str(tmp_path / "barrier"),
            STANDIN_BARRIER_COUNT="2",
        ),
    )
    api = GroupAsJob()
    try:
        assert Orchestrator(job, io.StringIO(), JobPerChild(api)).run() == 1
        roots = sorted(e["pid"] for e in scene.events("start"))
        assert sorted(api.terminated) == roots and len(roots) == 2
        assert survivors(scene.pids()) == []
    finally:
        cleanup(scene.pids())
