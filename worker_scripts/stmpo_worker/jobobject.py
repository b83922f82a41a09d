"""Windows: every child in a job object that dies with the orchestrator.

Signals cover a cancel the orchestrator hears about. If the orchestrator itself is
killed outright (TerminateProcess, a crashed worker agent), a job object created with
JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE still ends every aerender and AfterFX it holds:
the system closes the orchestrator's handle and kills the job. Processes a child
starts after it was assigned join the job too, and children are assigned while still
suspended (see affinity.WindowsAffinity), so none can start one before.

Each child also gets a job of its own (`ChildJob`): the job knows every process of the
child's tree even after aerender exits and AfterFX is orphaned, which Windows'
parent pids do not (a parent pid is never updated and may be reused). So a tree's
liveness is the job's `ActiveProcesses` count (QueryInformationJobObject,
JobObjectBasicAccountingInformation) and its end is one TerminateJobObject, which ends
every process in the job at once: no psutil and no `taskkill` needed. See
https://learn.microsoft.com/windows/win32/procthread/job-objects,
https://learn.microsoft.com/windows/win32/api/jobapi2/nf-jobapi2-terminatejobobject and
https://learn.microsoft.com/windows/win32/api/winnt/ns-winnt-jobobject_basic_accounting_information.

The logic runs against a small `JobApi` (tested with a fake); the ctypes implementation
only runs on Windows. Any failure is one warning: rendering goes on without the job.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable
from typing import Protocol


class JobApi(Protocol):
    def create_kill_on_close_job(self) -> int: ...

    def assign(self, job: int, pid: int) -> None: ...


class JobControlApi(Protocol):
    def active_processes(self, job: int) -> int:
        """ActiveProcesses of JOBOBJECT_BASIC_ACCOUNTING_INFORMATION: processes of the
        job that have not ended (ended ones leave the count at once, no zombies)."""
        ...

    def terminate_job(self, job: int, exit_code: int) -> None:
        """TerminateJobObject: every process in the job ends with `exit_code`."""
        ...


class ChildJob:
    """One child's own job: the whole tree's liveness and termination.

    A failing call answers "cannot tell" (None / False) and the caller falls back to
    what it does without a job; one failure is enough to stop asking."""

    def __init__(self, api: JobControlApi, handle: int) -> None:
        self.api = api
        self.handle = handle
        self.broken = False

    def active(self) -> int | None:
        """How many processes of the tree are still running; None if the job cannot say."""
        if self.broken:
            return None
        try:
            return max(0, int(self.api.active_processes(self.handle)))
        except OSError:
            self.broken = True
            return None

    def terminate(self, exit_code: int = 1) -> bool:
        """End every process of the tree at once; False if the job refused."""
        if self.broken:
            return False
        try:
            self.api.terminate_job(self.handle, exit_code)
            return True
        except OSError:
            self.broken = True
            return False


class KillOnCloseJob:
    def __init__(self, api: JobApi, warn: Callable[[str], None]) -> None:
        self.api = api
        self.warn = warn
        self.handle: int | None = None
        try:
            self.handle = api.create_kill_on_close_job()
        except OSError as exc:
            self._give_up(f"cannot create a job object ({exc})")

    def _give_up(self, why: str) -> None:
        self.handle = None
        self.warn(f"{why}: children are not tied to this process's lifetime")

    def add(self, pid: int) -> None:
        if self.handle is None:
            return
        try:
            self.api.assign(self.handle, pid)
        except OSError as exc:
            self._give_up(f"cannot put process {pid} in the job object ({exc})")


class _BasicLimits(ctypes.Structure):
    _fields_ = [
        ("PerProcessUserTimeLimit", ctypes.c_int64),
        ("PerJobUserTimeLimit", ctypes.c_int64),
        ("LimitFlags", ctypes.c_uint32),
        ("MinimumWorkingSetSize", ctypes.c_size_t),
        ("MaximumWorkingSetSize", ctypes.c_size_t),
        ("ActiveProcessLimit", ctypes.c_uint32),
        ("Affinity", ctypes.c_size_t),
        ("PriorityClass", ctypes.c_uint32),
        ("SchedulingClass", ctypes.c_uint32),
    ]


class _ExtendedLimits(ctypes.Structure):
    _fields_ = [
        ("BasicLimitInformation", _BasicLimits),
        ("IoInfo", ctypes.c_uint64 * 6),
        ("ProcessMemoryLimit", ctypes.c_size_t),
        ("JobMemoryLimit", ctypes.c_size_t),
        ("PeakProcessMemoryUsed", ctypes.c_size_t),
        ("PeakJobMemoryUsed", ctypes.c_size_t),
    ]


class _BasicAccounting(ctypes.Structure):
    """JOBOBJECT_BASIC_ACCOUNTING_INFORMATION (winnt.h): four LARGE_INTEGER times, then
    TotalPageFaultCount, TotalProcesses, ActiveProcesses, TotalTerminatedProcesses."""

    _fields_ = [
        ("TotalUserTime", ctypes.c_int64),
        ("TotalKernelTime", ctypes.c_int64),
        ("ThisPeriodTotalUserTime", ctypes.c_int64),
        ("ThisPeriodTotalKernelTime", ctypes.c_int64),
        ("TotalPageFaultCount", ctypes.c_uint32),
        ("TotalProcesses", ctypes.c_uint32),
        ("ActiveProcesses", ctypes.c_uint32),
        ("TotalTerminatedProcesses", ctypes.c_uint32),
    ]


class CtypesJobApi:  # pragma: no cover - runs on Windows only
    JOB_OBJECT_BASIC_ACCOUNTING_INFORMATION = 1  # JobObjectBasicAccountingInformation
    JOB_OBJECT_EXTENDED_LIMIT_INFORMATION = 9
    JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE = 0x2000
    PROCESS_SET_QUOTA = 0x0100
    PROCESS_TERMINATE = 0x0001

    def __init__(self) -> None:
        self.k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]
        self.k32.CreateJobObjectW.restype = ctypes.c_void_p
        self.k32.OpenProcess.restype = ctypes.c_void_p
        self.k32.QueryInformationJobObject.argtypes = [
            ctypes.c_void_p,
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_uint32,
            ctypes.c_void_p,
        ]
        self.k32.TerminateJobObject.argtypes = [ctypes.c_void_p, ctypes.c_uint32]

    def _fail(self, what: str) -> OSError:
        return ctypes.WinError(ctypes.get_last_error(), what)  # type: ignore[attr-defined,no-any-return]

    def create_kill_on_close_job(self) -> int:
        job = self.k32.CreateJobObjectW(None, None)
        if not job:
            raise self._fail("CreateJobObjectW")
        info = _ExtendedLimits()
        info.BasicLimitInformation.LimitFlags = self.JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE
        if not self.k32.SetInformationJobObject(
            ctypes.c_void_p(job),
            self.JOB_OBJECT_EXTENDED_LIMIT_INFORMATION,
            ctypes.byref(info),
            ctypes.sizeof(info),
        ):
            raise self._fail("SetInformationJobObject")
        return int(job)

    def assign(self, job: int, pid: int) -> None:
        process = self.k32.OpenProcess(self.PROCESS_SET_QUOTA | self.PROCESS_TERMINATE, False, pid)
        if not process:
            raise self._fail("OpenProcess")
        try:
            if not self.k32.AssignProcessToJobObject(
                ctypes.c_void_p(job), ctypes.c_void_p(process)
            ):
                raise self._fail("AssignProcessToJobObject")
        finally:
            self.k32.CloseHandle(ctypes.c_void_p(process))

    def active_processes(self, job: int) -> int:
        info = _BasicAccounting()
        if not self.k32.QueryInformationJobObject(
            ctypes.c_void_p(job),
            self.JOB_OBJECT_BASIC_ACCOUNTING_INFORMATION,
            ctypes.byref(info),
            ctypes.sizeof(info),
            None,
        ):
            raise self._fail("QueryInformationJobObject")
        return int(info.ActiveProcesses)

    def terminate_job(self, job: int, exit_code: int) -> None:
        if not self.k32.TerminateJobObject(ctypes.c_void_p(job), exit_code):
            raise self._fail("TerminateJobObject")
