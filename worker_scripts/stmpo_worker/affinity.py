"""Pinning a child process to its CPU block, behind a small `AffinityBackend` protocol.

Linux pins every thread of the process (affinity is inherited by threads and processes
started later). Windows over 64 logical CPUs needs processor groups: a process
affinity mask only reaches the process's own group, so the Windows backend sets a
group affinity on each thread instead. The Windows logic runs against a `WindowsApi`
interface: tests drive it with a fake, the ctypes implementation only runs on Windows.
Callers treat any `AffinityError` as "one warning, render unpinned".
"""

from __future__ import annotations

import ctypes
import os
import sys
from collections.abc import Sequence
from typing import Protocol

from .planning import WINDOWS_GROUP_SIZE


class AffinityError(Exception):
    """Pinning failed; the render goes on unpinned."""


class AffinityBackend(Protocol):
    name: str

    def pin(self, pid: int, cpus: Sequence[int]) -> None:
        """Restrict process `pid` (all its threads) to `cpus`; AffinityError on failure."""
        ...


def group_masks(cpus: Sequence[int]) -> dict[int, int]:
    """Windows processor group -> affinity mask within that group (cpu = group*64 + bit)."""
    masks: dict[int, int] = {}
    for cpu in cpus:
        group, bit = divmod(cpu, WINDOWS_GROUP_SIZE)
        masks[group] = masks.get(group, 0) | (1 << bit)
    return masks


class LinuxAffinity:
    name = "linux"

    def pin(self, pid: int, cpus: Sequence[int]) -> None:
        setter = getattr(os, "sched_setaffinity", None)
        if setter is None:
            raise AffinityError("sched_setaffinity is not available")
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{pid}/task")]
        except OSError:
            tids = [pid]
        try:
            for tid in tids:
                try:
                    setter(tid, set(cpus))
                except ProcessLookupError:
                    continue  # a thread that just ended
        except OSError as exc:
            raise AffinityError(f"sched_setaffinity({pid}, {len(cpus)} CPUs): {exc}") from exc


class NoAffinity:
    """macOS (and anything unknown): no API to pin with."""

    name = "none"

    def pin(self, pid: int, cpus: Sequence[int]) -> None:
        raise AffinityError("this OS has no CPU affinity API")


class WindowsApi(Protocol):
    def logical_cpu_count(self) -> int: ...

    def set_process_affinity_mask(self, pid: int, mask: int) -> None: ...

    def thread_ids(self, pid: int) -> list[int]: ...

    def set_thread_group_affinity(self, tid: int, group: int, mask: int) -> None: ...


class WindowsAffinity:
    """One group (<= 64 CPUs): a process mask. More: every thread's group affinity.

    A block spanning two groups is pinned to the group holding most of its CPUs
    (threads can only be in one group); the planner avoids such blocks on Windows.
    """

    name = "windows"

    def __init__(self, api: WindowsApi) -> None:
        self.api = api

    def pin(self, pid: int, cpus: Sequence[int]) -> None:
        masks = group_masks(cpus)
        if not masks:
            raise AffinityError("empty CPU block")
        try:
            if self.api.logical_cpu_count() <= WINDOWS_GROUP_SIZE and set(masks) == {0}:
                self.api.set_process_affinity_mask(pid, masks[0])
                return
            group = max(masks, key=lambda g: (bin(masks[g]).count("1"), -g))
            tids = self.api.thread_ids(pid)
            if not tids:
                raise AffinityError(f"process {pid} has no threads to pin")
            for tid in tids:
                self.api.set_thread_group_affinity(tid, group, masks[group])
        except OSError as exc:
            raise AffinityError(f"pinning process {pid}: {exc}") from exc


class _GroupAffinity(ctypes.Structure):
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


class CtypesWindowsApi:  # pragma: no cover - runs on Windows only
    PROCESS_SET_INFORMATION = 0x0200
    PROCESS_QUERY_INFORMATION = 0x0400
    THREAD_SET_INFORMATION = 0x0020
    THREAD_QUERY_INFORMATION = 0x0040
    TH32CS_SNAPTHREAD = 0x00000004
    ALL_PROCESSOR_GROUPS = 0xFFFF

    def __init__(self) -> None:
        self.k32 = ctypes.WinDLL("kernel32", use_last_error=True)  # type: ignore[attr-defined]

    def _fail(self, what: str) -> OSError:
        return ctypes.WinError(ctypes.get_last_error(), what)  # type: ignore[attr-defined,no-any-return]

    def logical_cpu_count(self) -> int:
        return int(self.k32.GetActiveProcessorCount(self.ALL_PROCESSOR_GROUPS))

    def set_process_affinity_mask(self, pid: int, mask: int) -> None:
        access = self.PROCESS_SET_INFORMATION | self.PROCESS_QUERY_INFORMATION
        handle = self.k32.OpenProcess(access, False, pid)
        if not handle:
            raise self._fail("OpenProcess")
        try:
            if not self.k32.SetProcessAffinityMask(handle, ctypes.c_size_t(mask)):
                raise self._fail("SetProcessAffinityMask")
        finally:
            self.k32.CloseHandle(handle)

    def thread_ids(self, pid: int) -> list[int]:
        snap = self.k32.CreateToolhelp32Snapshot(self.TH32CS_SNAPTHREAD, 0)
        if snap in (0, -1, ctypes.c_void_p(-1).value):
            raise self._fail("CreateToolhelp32Snapshot")
        try:
            entry = _ThreadEntry32()
            entry.dwSize = ctypes.sizeof(_ThreadEntry32)
            tids: list[int] = []
            ok = self.k32.Thread32First(snap, ctypes.byref(entry))
            while ok:
                if entry.th32OwnerProcessID == pid:
                    tids.append(int(entry.th32ThreadID))
                ok = self.k32.Thread32Next(snap, ctypes.byref(entry))
            return tids
        finally:
            self.k32.CloseHandle(snap)

    def set_thread_group_affinity(self, tid: int, group: int, mask: int) -> None:
        access = self.THREAD_SET_INFORMATION | self.THREAD_QUERY_INFORMATION
        handle = self.k32.OpenThread(access, False, tid)
        if not handle:
            raise self._fail("OpenThread")
        try:
            affinity = _GroupAffinity(Mask=mask, Group=group)
            if not self.k32.SetThreadGroupAffinity(handle, ctypes.byref(affinity), None):
                raise self._fail("SetThreadGroupAffinity")
        finally:
            self.k32.CloseHandle(handle)


def default_backend() -> AffinityBackend:
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return WindowsAffinity(CtypesWindowsApi())
    if hasattr(os, "sched_setaffinity"):
        return LinuxAffinity()
    return NoAffinity()
