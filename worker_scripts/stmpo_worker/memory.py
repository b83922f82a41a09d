"""How much RAM this host can still give a new process, in GB (GiB, 2^30 bytes).

"Available" is what the OS could hand out without swapping: psutil's
`virtual_memory().available` when psutil is installed; else Linux's `MemAvailable`
(/proc/meminfo, kernel 3.14+), Windows' `ullAvailPhys` (GlobalMemoryStatusEx), macOS's
free + inactive + speculative pages (vm_stat, the page size from `sysctl hw.pagesize`),
which is what psutil itself reports there. None when it cannot be read: the memory
guard then never waits (watchdog.must_wait_for_memory). Units are GiB (2^30 bytes),
like the planner's `total_ram_gb` and RamPerProcessGB.

Test hook: STMPO_FAKE_MEM_AVAILABLE_GB replaces the reading. It holds a number of GB,
or the path of a file that holds one, re-read at every check, so a test can change what
the worker sees while it runs. Not a job parameter: nothing on a farm sets it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

try:
    import psutil
except ImportError:  # pragma: no cover - workers without psutil
    psutil = None  # type: ignore[assignment]

FAKE_VAR = "STMPO_FAKE_MEM_AVAILABLE_GB"
GIB = 1024**3
_MAX_FAKE_FILE = 64  # bytes: a number, not a document


def available_gb(env: Mapping[str, str]) -> float | None:
    """Available RAM in GiB, or None when unknown."""
    fake = env.get(FAKE_VAR, "").strip()
    if fake:
        return _fake(fake)
    try:
        return _measured()
    except (OSError, ValueError, subprocess.SubprocessError):
        return None


def _fake(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        pass
    try:
        if not stat.S_ISREG(os.stat(value).st_mode):
            return None  # a FIFO or a device would block or never end: not a reading
        with open(value, "rb") as fh:
            return float(fh.read(_MAX_FAKE_FILE).decode("ascii").strip())
    except (OSError, ValueError):
        return None  # being rewritten by the test: unknown this turn


def _measured() -> float | None:
    if psutil is not None:
        return float(psutil.virtual_memory().available) / GIB
    if sys.platform.startswith("linux"):
        return meminfo_available(_read("/proc/meminfo"))
    if sys.platform == "win32":  # pragma: no cover - Windows only
        return _windows_available()
    if sys.platform == "darwin":  # pragma: no cover - macOS only
        page = int(_run(["sysctl", "-n", "hw.pagesize"]).strip())
        return vm_stat_available(_run(["vm_stat"]), page)
    return None


def _read(path: str) -> str:
    with open(path, encoding="ascii", errors="replace") as fh:
        return fh.read(65536)


def _run(argv: list[str]) -> str:
    return subprocess.run(
        argv, capture_output=True, text=True, timeout=5, check=True, stdin=subprocess.DEVNULL
    ).stdout


def meminfo_available(text: str) -> float | None:
    """`MemAvailable:  12345678 kB` of /proc/meminfo, in GiB."""
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            return int(parts[1]) * 1024 / GIB
    return None


def vm_stat_available(text: str, page_size: int) -> float | None:
    """macOS `vm_stat`: free + inactive + speculative pages (psutil's `available`)."""
    pages = 0
    found = False
    for line in text.splitlines():
        name, _, value = line.partition(":")
        if name.strip() in ("Pages free", "Pages inactive", "Pages speculative"):
            pages += int(value.strip().rstrip("."))
            found = True
    return pages * page_size / GIB if found else None


def windows_memory_status() -> Any | None:  # pragma: no cover - Windows only
    """Windows' MEMORYSTATUSEX from GlobalMemoryStatusEx (total and available physical
    memory), or None when it cannot be read: one definition for the host facts
    (topology.py, total RAM) and the memory guard (available RAM)."""
    import ctypes
    from ctypes import wintypes

    class MemoryStatusEx(ctypes.Structure):
        _fields_ = [
            ("dwLength", wintypes.DWORD),
            ("dwMemoryLoad", wintypes.DWORD),
            ("ullTotalPhys", ctypes.c_ulonglong),
            ("ullAvailPhys", ctypes.c_ulonglong),
            ("ullTotalPageFile", ctypes.c_ulonglong),
            ("ullAvailPageFile", ctypes.c_ulonglong),
            ("ullTotalVirtual", ctypes.c_ulonglong),
            ("ullAvailVirtual", ctypes.c_ulonglong),
            ("ullAvailExtendedVirtual", ctypes.c_ulonglong),
        ]

    status = MemoryStatusEx()
    status.dwLength = ctypes.sizeof(MemoryStatusEx)
    try:
        ok = ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status))  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return None
    return status if ok else None


def _windows_available() -> float | None:  # pragma: no cover - Windows only
    status = windows_memory_status()
    return None if status is None else float(status.ullAvailPhys) / GIB
