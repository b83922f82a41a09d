"""Starting a child confined to its CPU block, with everything it will ever start.

aerender is not the renderer: on Windows it starts AfterFX.exe, and plugins start
helpers. Pinning a pid after it was spawned misses whatever it forked in between and,
with Windows thread affinities, every process and thread created later. So the
confinement is put in place *before the child runs any code*, where descendants
inherit it:

- Linux: the spawning thread's own affinity is set to the block around the fork and
  restored right after; a child inherits the affinity of the thread that forked it,
  and its descendants inherit from it. No Python code runs between fork and exec
  (unlike `preexec_fn`, which is unsafe with the orchestrator's reader threads), and
  the other threads of the orchestrator are never confined (affinity is per thread).
- Windows: the child is created suspended, put in a job object whose affinity is the
  block (`JOB_OBJECT_LIMIT_AFFINITY` on a one-group host, `JobObjectGroupInformationEx`
  with one GROUP_AFFINITY per group otherwise), then resumed. A job's affinity binds
  every process in it and every process they start, which join the job by default.
- macOS: no affinity API (the planner does not pin there); a block given anyway is one
  warning and the child starts unpinned.

A failure never stops a render: `Started.problem` says why the child runs unpinned,
and the caller warns once and stops pinning. The Windows logic runs against the small
`WindowsApi` (tested with a fake); the ctypes implementation only runs on Windows.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from .jobobject import (
    ChildJob,
    CtypesJobApi,
    JobApi,
    JobControlApi,
    KillOnCloseJob,
    _ExtendedLimits,
)
from .planning import WINDOWS_GROUP_SIZE, cpu_list_text

Spawn = Callable[[bool], subprocess.Popen[bytes]]
"""Starts the child; the argument asks for it suspended (Windows CREATE_SUSPENDED)."""


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    problem: str = ""  # why the child runs unpinned; "" when pinned as asked (or not asked)
    job: ChildJob | None = None  # Windows: the job holding this child's whole tree


class AffinityBackend(Protocol):
    name: str

    def start(self, spawn: Spawn, cpus: Sequence[int] | None) -> Started:
        """Start a child (via `spawn`) so that it and all its descendants run on `cpus`
        (None: anywhere). An OSError from `spawn` itself propagates: nothing started."""
        ...


def group_masks(cpus: Sequence[int]) -> dict[int, int]:
    """Windows processor group -> affinity mask within that group (cpu = group*64 + bit)."""
    masks: dict[int, int] = {}
    for cpu in cpus:
        group, bit = divmod(cpu, WINDOWS_GROUP_SIZE)
        masks[group] = masks.get(group, 0) | (1 << bit)
    return masks


class LinuxAffinity:
    """Pin the spawning thread around the fork: the child inherits its mask at birth."""

    name = "linux"

    def start(self, spawn: Spawn, cpus: Sequence[int] | None) -> Started:
        getter = getattr(os, "sched_getaffinity", None)
        setter = getattr(os, "sched_setaffinity", None)
        if not cpus:
            return Started(spawn(False))
        if getter is None or setter is None:
            return Started(spawn(False), "sched_setaffinity is not available")
        try:
            before = getter(0)  # 0: the calling thread, not the whole process
            setter(0, set(cpus))
        except OSError as exc:
            return Started(
                spawn(False), f"sched_setaffinity(CPUs {cpu_list_text(tuple(cpus))}): {exc}"
            )
        try:
            return Started(spawn(False))
        finally:
            # Back to the old mask before the caller starts threads (they would inherit
            # the block). It was allowed a moment ago; if the cpuset shrank meanwhile,
            # only this mostly idle thread stays on the block.
            with contextlib.suppress(OSError):
                setter(0, before)


class NoAffinity:
    """macOS (and anything unknown): no API to pin with."""

    name = "none"

    def start(self, spawn: Spawn, cpus: Sequence[int] | None) -> Started:
        proc = spawn(False)
        return Started(proc, "this OS has no CPU affinity API" if cpus else "")


class WindowsApi(JobApi, JobControlApi, Protocol):
    def processor_group_count(self) -> int: ...

    def limit_job_affinity(self, job: int, mask: int) -> None:
        """Kill-on-close plus JOB_OBJECT_LIMIT_AFFINITY with `mask` (one-group hosts)."""
        ...

    def set_job_group_affinity(self, job: int, groups: Sequence[tuple[int, int]]) -> None:
        """JobObjectGroupInformationEx: (group, mask) pairs as GROUP_AFFINITY array."""
        ...

    def close(self, job: int) -> None: ...

    def resume(self, pid: int) -> None:
        """Resume every thread of a process created suspended."""
        ...


class WindowsAffinity:
    """Every child starts suspended and is resumed only once it is in a job object.

    Every child gets its own kill-on-close job (`Started.job`), through which its tree
    is watched and ended; a pinned child's job also carries the block's affinity, so
    aerender, AfterFX and every thread they create stay on the block. A child whose own
    job could not be set up goes into the one shared kill-on-close job (it still dies
    with the orchestrator; its tree is then ended with `taskkill /T`). Either way no
    process can be started by the child before it is in a job.
    """

    name = "windows"

    def __init__(self, api: WindowsApi, warn: Callable[[str], None]) -> None:
        self.api = api
        self.shared = KillOnCloseJob(api, warn)
        self.jobs: list[int] = []  # kept open: closing one would kill what it holds
        self.warn = warn
        self.own_job_failed = False  # warned once; later children still try

    def start(self, spawn: Spawn, cpus: Sequence[int] | None) -> Started:
        proc = spawn(True)
        try:
            problem, job = self._confine(proc.pid, cpus)
        finally:
            self._resume(proc)
        return Started(proc, problem, None if job is None else ChildJob(self.api, job))

    def _confine(self, pid: int, cpus: Sequence[int] | None) -> tuple[str, int | None]:
        problem = ""
        if cpus:
            try:
                job = self._pinned_job(cpus)
            except OSError as exc:
                problem = f"job object for CPUs {cpu_list_text(tuple(cpus))}: {exc}"
            else:
                try:
                    self.api.assign(job, pid)
                    self.jobs.append(job)
                    return "", job
                except OSError as exc:
                    with contextlib.suppress(OSError):
                        self.api.close(job)
                    problem = f"putting process {pid} in its CPU job object: {exc}"
        own = self._own_job(pid)  # unpinned, or pinning failed: a plain job of its own
        if own is not None:
            return problem, own
        self.shared.add(pid)
        return problem, None

    def _own_job(self, pid: int) -> int | None:
        """A plain kill-on-close job holding `pid`; None (warned once) if refused."""
        job: int | None = None
        try:
            job = self.api.create_kill_on_close_job()
            self.api.assign(job, pid)
        except OSError as exc:
            if job is not None:
                with contextlib.suppress(OSError):
                    self.api.close(job)
            if not self.own_job_failed:
                self.own_job_failed = True
                self.warn(
                    f"cannot give process {pid} a job object of its own ({exc}): "
                    "its process tree is ended with taskkill /T instead"
                )
            return None
        self.jobs.append(job)
        return job

    def _pinned_job(self, cpus: Sequence[int]) -> int:
        masks = group_masks(cpus)
        job = self.api.create_kill_on_close_job()
        try:
            if set(masks) == {0} and self.api.processor_group_count() == 1:
                self.api.limit_job_affinity(job, masks[0])
            else:
                self.api.set_job_group_affinity(job, sorted(masks.items()))
        except OSError:
            with contextlib.suppress(OSError):
                self.api.close(job)
            raise
        return job

    def _resume(self, proc: subprocess.Popen[bytes]) -> None:
        """A child left suspended would hang the task: end it and report a failed start."""
        try:
            self.api.resume(proc.pid)
        except OSError as exc:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(OSError, subprocess.TimeoutExpired):
                proc.wait(timeout=5)
            raise OSError(exc.errno, f"cannot resume the suspended child: {exc}") from exc


class _GroupAffinity(ctypes.Structure):
    """GROUP_AFFINITY: KAFFINITY Mask; WORD Group; WORD Reserved[3] (16 bytes on x64)."""

    _fields_ = [
        ("Mask", ctypes.c_size_t),
        ("Group", ctypes.c_ushort),
        ("Reserved", ctypes.c_ushort * 3),
    ]


class _ThreadEntry32(ctypes.Structure):
    _fields_ = [
        ("dwSize", ctypes.c_ulong),
        ("cntUsage", ctypes.c_ulong),
        ("th32ThreadID", ctypes.c_ulong),
        ("th32OwnerProcessID", ctypes.c_ulong),
        ("tpBasePri", ctypes.c_long),
        ("tpDeltaPri", ctypes.c_long),
        ("dwFlags", ctypes.c_ulong),
    ]


class CtypesWindowsApi(CtypesJobApi):  # pragma: no cover - runs on Windows only
    JOB_OBJECT_LIMIT_AFFINITY = 0x00000010
    JOB_OBJECT_GROUP_INFORMATION_EX = 14  # JobObjectGroupInformationEx
    THREAD_SUSPEND_RESUME = 0x0002
    TH32CS_SNAPTHREAD = 0x00000004
    RESUME_FAILED = 0xFFFFFFFF  # (DWORD)-1

    def __init__(self) -> None:
        super().__init__()
        k32 = self.k32
        k32.CreateToolhelp32Snapshot.restype = ctypes.c_void_p
        k32.OpenThread.restype = ctypes.c_void_p
        k32.ResumeThread.restype = ctypes.c_uint32
        k32.ResumeThread.argtypes = [ctypes.c_void_p]
        k32.CloseHandle.argtypes = [ctypes.c_void_p]
        k32.SetInformationJobObject.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_uint32,
        ]

    def processor_group_count(self) -> int:
        return int(self.k32.GetActiveProcessorGroupCount())

    def _set_info(
        self, job: int, klass: int, info: ctypes.Structure | ctypes.Array[_GroupAffinity]
    ) -> None:
        if not self.k32.SetInformationJobObject(
            ctypes.c_void_p(job), klass, ctypes.byref(info), ctypes.sizeof(info)
        ):
            raise self._fail("SetInformationJobObject")

    def limit_job_affinity(self, job: int, mask: int) -> None:
        # The extended structure embeds the basic one: one call keeps kill-on-close
        # (an extended-only flag) and adds the affinity limit.
        info = _ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = (
            self.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE | self.JOB_OBJECT_LIMIT_AFFINITY
        )
        info.BasicLimitInformation.Affinity = mask
        self._set_info(job, self.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION, info)

    def set_job_group_affinity(self, job: int, groups: Sequence[tuple[int, int]]) -> None:
        array = (_GroupAffinity * len(groups))(
            *(_GroupAffinity(Mask=mask, Group=group) for group, mask in groups)
        )
        self._set_info(job, self.JOB_OBJECT_GROUP_INFORMATION_EX, array)

    def close(self, job: int) -> None:
        self.k32.CloseHandle(ctypes.c_void_p(job))

    def _thread_ids(self, pid: int) -> list[int]:
        snap = self.k32.CreateToolhelp32Snapshot(self.TH32CS_SNAPTHREAD, 0)
        if not snap or snap == ctypes.c_void_p(-1).value:
            raise self._fail("CreateToolhelp32Snapshot")
        try:
            entry = _ThreadEntry32()
            entry.dwSize = ctypes.sizeof(_ThreadEntry32)
            tids: list[int] = []
            ok = self.k32.Thread32First(ctypes.c_void_p(snap), ctypes.byref(entry))
            while ok:
                if entry.th32OwnerProcessID == pid:
                    tids.append(int(entry.th32ThreadID))
                ok = self.k32.Thread32Next(ctypes.c_void_p(snap), ctypes.byref(entry))
            return tids
        finally:
            self.k32.CloseHandle(ctypes.c_void_p(snap))

    def resume(self, pid: int) -> None:
        # subprocess.Popen closes the main thread's handle, so find the thread by pid
        # (a process created suspended has exactly that one thread).
        tids = self._thread_ids(pid)
        if not tids:
            raise OSError(0, f"process {pid} has no thread to resume")
        for tid in tids:
            handle = self.k32.OpenThread(self.THREAD_SUSPEND_RESUME, False, tid)
            if not handle:
                raise self._fail("OpenThread")
            try:
                if self.k32.ResumeThread(ctypes.c_void_p(handle)) == self.RESUME_FAILED:
                    raise self._fail("ResumeThread")
            finally:
                self.k32.CloseHandle(ctypes.c_void_p(handle))


def default_backend(warn: Callable[[str], None], platform: str = sys.platform) -> AffinityBackend:
    """The backend for this OS. `warn` carries the Windows job object's own warning."""
    if platform == "win32":  # pragma: no cover - Windows only
        return WindowsAffinity(CtypesWindowsApi(), warn)
    if platform.startswith("linux") and hasattr(os, "sched_setaffinity"):
        return LinuxAffinity()
    return NoAffinity()
