"""Starting children confined to their CPU blocks: Windows logic on a fake API, Linux
for real (the child and what it starts), macOS's no-API path, the shared job object."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any, cast

import pytest
from stmpo._worker_scripts.stmpo_worker import procs
from stmpo._worker_scripts.stmpo_worker.affinity import (
    LinuxAffinity,
    NoAffinity,
    WindowsAffinity,
    default_backend,
    group_masks,
)
from stmpo._worker_scripts.stmpo_worker.jobobject import KillOnCloseJob

LINUX_AFFINITY = pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity"), reason="needs the Linux affinity API"
)


def test_group_masks() -> None:
    assert group_masks([0, 1, 63, 64, 130]) == {0: 1 | 2 | (1 << 63), 1: 1, 2: 1 << 2}


# -- Windows: job objects on a fake API ------------------------------------------------


class FakeProc:
    """What WindowsAffinity needs of a Popen: its pid, and kill/wait on a failed resume."""

    def __init__(self, pid: int, calls: list[tuple[Any, ...]]) -> None:
        self.pid = pid
        self.calls = calls

    def kill(self) -> None:
        self.calls.append(("kill", self.pid))

    def wait(self, timeout: float | None = None) -> int:
        return 1


class FakeWindowsApi:
    """Records every call in order; `fail` names the calls that raise Access denied."""

    def __init__(self, groups: int, fail: Sequence[str] = ()) -> None:
        self.groups = groups
        self.fail = set(fail)
        self.calls: list[tuple[Any, ...]] = []
        self.next_job = 100

    def _call(self, *call: Any) -> None:
        self.calls.append(call)
        if call[0] in self.fail:
            raise OSError(5, "Access is denied")

    def processor_group_count(self) -> int:
        return self.groups

    def create_kill_on_close_job(self) -> int:
        self.next_job += 1
        self._call("create", self.next_job)
        return self.next_job

    def limit_job_affinity(self, job: int, mask: int) -> None:
        self._call("limit_affinity", job, mask)

    def set_job_group_affinity(self, job: int, groups: Sequence[tuple[int, int]]) -> None:
        self._call("group_affinity", job, list(groups))

    def assign(self, job: int, pid: int) -> None:
        self._call("assign", job, pid)

    def close(self, job: int) -> None:
        self._call("close", job)

    def resume(self, pid: int) -> None:
        self._call("resume", pid)

    def active_processes(self, job: int) -> int:
        return 0

    def terminate_job(self, job: int, exit_code: int) -> None:
        self._call("terminate_job", job, exit_code)


def _start(
    backend: WindowsAffinity, api: FakeWindowsApi, cpus: Sequence[int] | None, pid: int = 7
) -> Any:
    def spawn(suspended: bool) -> subprocess.Popen[bytes]:
        api.calls.append(("spawn", suspended))
        return cast("subprocess.Popen[bytes]", FakeProc(pid, api.calls))

    return backend.start(spawn, cpus)


def test_windows_one_group_host_gets_a_job_affinity_mask_before_the_child_runs() -> None:
    api = FakeWindowsApi(groups=1)
    warnings: list[str] = []
    backend = WindowsAffinity(api, warnings.append)  # creates the shared job: 101
    api.calls.clear()
    started = _start(backend, api, [4, 5, 6, 7])
    assert started.problem == "" and warnings == []
    assert api.calls == [
        ("spawn", True),  # suspended: nothing runs before it is in the job
        ("create", 102),
        ("limit_affinity", 102, 0xF0),
        ("assign", 102, 7),
        ("resume", 7),
    ]


def test_windows_several_groups_get_group_affinity_ex_for_each_group_of_the_block() -> None:
    api = FakeWindowsApi(groups=4)
    backend = WindowsAffinity(api, lambda _m: None)
    api.calls.clear()
    # A child with fewer children than pools takes two whole groups (0 and 2).
    block = [*range(0, 64), *range(128, 136)]
    assert _start(backend, api, block).problem == ""
    assert api.calls == [
        ("spawn", True),
        ("create", 102),
        ("group_affinity", 102, [(0, (1 << 64) - 1), (2, 0xFF)]),
        ("assign", 102, 7),
        ("resume", 7),
    ]


def test_windows_block_in_group_0_of_a_many_group_host_still_uses_group_affinity() -> None:
    api = FakeWindowsApi(groups=2)
    backend = WindowsAffinity(api, lambda _m: None)
    api.calls.clear()
    _start(backend, api, [0, 1])
    assert ("group_affinity", 102, [(0, 0b11)]) in api.calls
    assert not [c for c in api.calls if c[0] == "limit_affinity"]


def test_windows_each_pinned_child_gets_its_own_job() -> None:
    api = FakeWindowsApi(groups=2)
    backend = WindowsAffinity(api, lambda _m: None)
    api.calls.clear()
    _start(backend, api, range(64, 96), pid=7)
    _start(backend, api, range(96, 128), pid=8)
    assigned = [c for c in api.calls if c[0] == "assign"]
    assert assigned == [("assign", 102, 7), ("assign", 103, 8)]
    assert backend.jobs == [102, 103]  # held open: closing would kill the child


def test_windows_unpinned_child_goes_suspended_into_a_job_of_its_own() -> None:
    api = FakeWindowsApi(groups=1)
    backend = WindowsAffinity(api, lambda _m: None)
    assert api.calls == [("create", 101)]  # the shared job, for children refused their own
    api.calls.clear()
    started = _start(backend, api, None)
    assert started.problem == "" and started.job is not None and started.job.handle == 102
    assert api.calls == [("spawn", True), ("create", 102), ("assign", 102, 7), ("resume", 7)]


@pytest.mark.parametrize(
    ("failing", "why", "fallback"),
    [
        ("limit_affinity", "job object for CPUs 2-3", 103),  # a plain job of its own
        ("assign_pinned", "putting process 7", 101),  # every own job refuses: the shared
    ],
)
def test_windows_affinity_failure_falls_back_to_an_unpinned_job_and_resumes(
    failing: str, why: str, fallback: int
) -> None:
    api = FakeWindowsApi(groups=1)
    backend = WindowsAffinity(api, lambda _m: None)
    api.calls.clear()
    if failing == "assign_pinned":
        real_assign = api.assign

        def assign(job: int, pid: int) -> None:
            if job != 101:  # the per-child job refuses, the shared one takes it
                api.calls.append(("assign", job, pid))
                raise OSError(5, "Access is denied")
            real_assign(job, pid)

        api.assign = assign  # type: ignore[method-assign]
    else:
        api.fail = {failing}
    started = _start(backend, api, [2, 3])
    assert why in started.problem and "Access is denied" in started.problem
    assert ("close", 102) in api.calls  # the half-made job is not left behind
    assert api.calls[-2:] == [("assign", fallback, 7), ("resume", 7)]
    assert backend.jobs == ([] if fallback == 101 else [fallback])
    assert (started.job is None) == (fallback == 101)


def test_windows_job_creation_failure_is_a_problem_not_a_failed_start() -> None:
    api = FakeWindowsApi(groups=2)
    backend = WindowsAffinity(api, lambda _m: None)
    api.calls.clear()
    api.fail = {"create"}
    started = _start(backend, api, [64, 65])
    assert "Access is denied" in started.problem
    assert api.calls[-2:] == [("assign", 101, 7), ("resume", 7)]


def test_windows_resume_failure_kills_the_child_and_is_a_failed_start() -> None:
    api = FakeWindowsApi(groups=1, fail=["resume"])
    backend = WindowsAffinity(api, lambda _m: None)
    with pytest.raises(OSError, match="cannot resume"):
        _start(backend, api, [0])
    assert api.calls[-1] == ("kill", 7)  # no suspended child left to hang the task


def test_windows_without_a_shared_job_warns_once_and_still_starts() -> None:
    warnings: list[str] = []
    api = FakeWindowsApi(groups=1, fail=["create"])
    backend = WindowsAffinity(api, warnings.append)
    for pid in (7, 8):
        assert _start(backend, api, None, pid=pid).problem == ""
    # One warning per kind of job (shared, own), not one per child.
    assert len(warnings) == 2 and all("Access is denied" in w for w in warnings)
    assert "taskkill /T" in warnings[1]
    assert [c for c in api.calls if c[0] == "resume"] == [("resume", 7), ("resume", 8)]


# -- Windows job object (shared, kill-on-close) -----------------------------------------


class FakeJobApi:
    def __init__(self, fail_create: bool = False, fail_assign: bool = False) -> None:
        self.fail_create = fail_create
        self.fail_assign = fail_assign
        self.assigned: list[tuple[int, int]] = []

    def create_kill_on_close_job(self) -> int:
        if self.fail_create:
            raise OSError(5, "Access is denied")
        return 77

    def assign(self, job: int, pid: int) -> None:
        if self.fail_assign:
            raise OSError(5, "Access is denied")
        self.assigned.append((job, pid))


def test_job_object_takes_every_child() -> None:
    warnings: list[str] = []
    api = FakeJobApi()
    job = KillOnCloseJob(api, warnings.append)
    job.add(10)
    job.add(11)
    assert api.assigned == [(77, 10), (77, 11)] and warnings == []


@pytest.mark.parametrize("where", ["create", "assign"])
def test_job_object_failure_is_one_warning(where: str) -> None:
    warnings: list[str] = []
    api = FakeJobApi(fail_create=where == "create", fail_assign=where == "assign")
    job = KillOnCloseJob(api, warnings.append)
    for pid in (10, 11, 12):
        job.add(pid)
    assert len(warnings) == 1 and "Access is denied" in warnings[0]
    assert api.assigned == []


# -- backends per OS ---------------------------------------------------------------------


def test_default_backend_per_os() -> None:
    assert default_backend(print, "darwin").name == "none"
    if hasattr(os, "sched_setaffinity"):
        assert default_backend(print, "linux").name == "linux"


def test_macos_starts_unpinned_with_a_reason_only_when_a_block_was_asked() -> None:
    started = NoAffinity().start(lambda _s: _sleeper(), [0])
    try:
        assert started.problem == "this OS has no CPU affinity API"
        assert started.proc.poll() is None  # it runs all the same
    finally:
        _end(started.proc)
    started = NoAffinity().start(lambda _s: _sleeper(), None)
    _end(started.proc)
    assert started.problem == ""


def test_suspended_start_is_refused_off_windows() -> None:
    if sys.platform == "win32":  # pragma: no cover
        pytest.skip("POSIX behaviour")
    with pytest.raises(ValueError, match="Windows only"):
        procs.spawn(["true"], dict(os.environ), suspended=True)


# -- Linux, for real ----------------------------------------------------------------------


def _sleeper(argv: Sequence[str] = ("sleep", "30")) -> subprocess.Popen[bytes]:
    return procs.spawn(list(argv), dict(os.environ))


def _end(proc: subprocess.Popen[bytes]) -> None:
    procs.Tree(proc).kill()
    proc.wait()


@LINUX_AFFINITY
def test_linux_child_is_pinned_from_birth_and_the_thread_mask_comes_back() -> None:
    before = os.sched_getaffinity(0)
    cpu = max(before)
    seen_at_spawn: list[set[int]] = []

    def spawn(suspended: bool) -> subprocess.Popen[bytes]:
        assert not suspended
        seen_at_spawn.append(os.sched_getaffinity(0))  # what the fork copies
        return _sleeper()

    started = LinuxAffinity().start(spawn, [cpu])
    try:
        assert started.problem == ""
        assert seen_at_spawn == [{cpu}]
        assert os.sched_getaffinity(started.proc.pid) == {cpu}
        assert os.sched_getaffinity(0) == before
    finally:
        _end(started.proc)


@LINUX_AFFINITY
def test_linux_only_the_spawning_thread_is_pinned_meanwhile() -> None:
    """Other threads (the orchestrator's pipe readers) keep every CPU."""
    before = os.sched_getaffinity(0)
    other: list[set[int]] = []
    ready, go = threading.Event(), threading.Event()

    def reader() -> None:
        ready.set()
        go.wait(10)
        other.append(os.sched_getaffinity(0))

    thread = threading.Thread(target=reader)
    thread.start()
    ready.wait(10)

    def spawn(_suspended: bool) -> subprocess.Popen[bytes]:
        go.set()
        thread.join(10)
        return _sleeper()

    started = LinuxAffinity().start(spawn, [min(before)])
    _end(started.proc)
    assert other == [before]


@LINUX_AFFINITY
def test_linux_pinning_failure_starts_the_child_unpinned() -> None:
    before = os.sched_getaffinity(0)
    started = LinuxAffinity().start(lambda _s: _sleeper(), [10**6])  # no such CPU
    try:
        assert "sched_setaffinity" in started.problem and "1000000" in started.problem
        assert os.sched_getaffinity(started.proc.pid) == before
        assert os.sched_getaffinity(0) == before
    finally:
        _end(started.proc)


@LINUX_AFFINITY
def test_linux_spawn_error_propagates_and_the_mask_comes_back() -> None:
    before = os.sched_getaffinity(0)
    with pytest.raises(OSError):
        LinuxAffinity().start(lambda _s: _sleeper(["/nonexistent/aerender"]), [min(before)])
    assert os.sched_getaffinity(0) == before
