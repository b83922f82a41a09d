"""Host facts for the plan: logical CPUs, RAM and CPU pools (NUMA nodes or a NUMA map).

Parsing is pure (tested on strings); reading the host is a thin shell over psutil when
it is importable, else /proc, /sys, sysctl or the Win32 API.
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from .logtext import shown
from .memory import windows_memory_status
from .planning import WINDOWS_GROUP_SIZE, HostFacts

Pools = tuple[tuple[int, ...], ...]

_CPULIST_ITEM = re.compile(r"^(\d{1,12})(?:-(\d{1,12})(?::(\d{1,12}))?)?$", re.ASCII)
#: CPU ids a host can have: Linux's largest NR_CPUS is 8192 (x86-64 MAXSMP, powerpc);
#: Windows Server has at most 2048 logical processors. A larger id is a typo, and
#: expanding `0-4000000000` would exhaust memory before anything could be pinned.
MAX_CPUS = 8192
#: A NUMA map is a few KB (the job parameter holds at most 1024 characters).
MAX_NUMA_MAP_BYTES = 1 << 20


def _cpu_id(text: str, item: str) -> int:
    cpu = int(text)
    if cpu >= MAX_CPUS:
        raise ValueError(
            f"CPU {cpu} in {shown(item, 40)} is beyond the {MAX_CPUS} CPUs a host can have"
        )
    return cpu


def parse_cpulist(text: str) -> list[int]:
    """CPU ids from the kernel's list syntax: `0-3,8-11`, `5`, `0-15:2` (stride), or empty."""
    cpus: set[int] = set()
    for raw in text.strip().split(","):
        item = raw.strip()
        if not item:
            continue
        match = _CPULIST_ITEM.match(item)
        if not match:
            raise ValueError(f"not a CPU list item: {shown(item, 40)}")
        first = _cpu_id(match.group(1), item)
        last = _cpu_id(match.group(2), item) if match.group(2) is not None else first
        stride = int(match.group(3)) if match.group(3) is not None else 1
        if last < first or stride < 1:
            raise ValueError(f"bad CPU range: {shown(item, 40)}")
        cpus.update(range(first, last + 1, stride))
    return sorted(cpus)


def parse_numa_map(text: str) -> Pools:
    """Pools from a NUMA map: `{"group_0": [0, 1, ...], "group_1": "128-255"}`.

    Values are lists of CPU ids or CPU list strings. Keys only name the pools; pools
    come in key order. Raises ValueError with a plain message on anything else.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise ValueError("not JSON this worker can read (nested too deeply)") from None
    if not isinstance(data, dict) or not data:
        raise ValueError("must be a non-empty JSON object of pool name -> CPU ids")
    pools: list[tuple[int, ...]] = []
    seen: set[int] = set()
    for name, value in data.items():
        if isinstance(value, str):
            try:
                cpus = parse_cpulist(value)
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        elif isinstance(value, list) and all(
            isinstance(c, int) and not isinstance(c, bool) and 0 <= c < MAX_CPUS for c in value
        ):
            cpus = sorted(set(value))
        else:
            raise ValueError(
                f"{name}: must be a list of CPU ids (integers 0 to {MAX_CPUS - 1}) or '0-3,8-11'"
            )
        if not cpus:
            raise ValueError(f"{name}: has no CPUs")
        overlap = seen.intersection(cpus)
        if overlap:
            raise ValueError(f"{name}: CPU {min(overlap)} is in two pools")
        seen.update(cpus)
        pools.append(tuple(cpus))
    return tuple(pools)


def restrict_pools(pools: Pools, allowed: set[int]) -> Pools:
    """Keep only CPUs this process may run on; drop pools left empty."""
    kept = (tuple(c for c in pool if c in allowed) for pool in pools)
    return tuple(p for p in kept if p)


def load_numa_map(value: str) -> Pools:
    """`--numa-map` is inline JSON (starts with `{`) or the path of a JSON file."""
    stripped = value.strip()
    if stripped.startswith("{"):
        return parse_numa_map(stripped)
    try:
        with open(stripped, "rb") as fh:
            raw = fh.read(MAX_NUMA_MAP_BYTES + 1)  # /dev/zero or a FIFO must not hang us
    except OSError as exc:
        raise ValueError(f"cannot read {stripped}: {exc.strerror or exc}") from None
    if len(raw) > MAX_NUMA_MAP_BYTES:
        raise ValueError(f"{stripped} is larger than {MAX_NUMA_MAP_BYTES // 1024} KiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValueError(f"{stripped} is not UTF-8 text") from None
    return parse_numa_map(text)


def os_name() -> str:
    if sys.platform == "win32":
        return "windows"
    if sys.platform == "darwin":
        return "macos"
    return "linux"


def allowed_cpus() -> list[int]:
    """CPUs this process may use (a container's cpuset, taskset), else 0..n-1."""
    getter = getattr(os, "sched_getaffinity", None)
    if getter is not None:
        try:
            return sorted(getter(0))
        except OSError:
            pass
    return list(range(os.cpu_count() or 1))


def total_ram_gb() -> float:
    """Physical RAM in GiB (0 when it cannot be found: the plan then allows one process)."""
    try:
        import psutil

        return float(psutil.virtual_memory().total) / 2**30
    except Exception:
        pass
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    if sys.platform == "darwin":
        try:
            out = subprocess.run(
                ["sysctl", "-n", "hw.memsize"], capture_output=True, text=True, timeout=10
            )
            return int(out.stdout.strip()) / 2**30
        except (OSError, ValueError, subprocess.SubprocessError):
            pass
    if sys.platform == "win32":
        return _windows_ram_gb()
    return 0.0


def _windows_ram_gb() -> float:
    status = windows_memory_status()
    return 0.0 if status is None else float(status.ullTotalPhys) / 2**30


def linux_numa_pools(node_root: Path = Path("/sys/devices/system/node")) -> Pools | None:
    """One pool per NUMA node from `node*/cpulist`; None when the folder is missing."""
    nodes = sorted(
        (p for p in node_root.glob("node*") if p.name[4:].isdigit()),
        key=lambda p: int(p.name[4:]),
    )
    pools: list[tuple[int, ...]] = []
    for node in nodes:
        try:
            cpus = parse_cpulist((node / "cpulist").read_text(encoding="ascii"))
        except (OSError, ValueError):
            return None
        if cpus:
            pools.append(tuple(cpus))
    return tuple(pools) or None


def windows_group_pools(logical_cpus: int) -> Pools:
    """Processor groups as pools (they follow NUMA nodes on multi-socket Windows hosts)."""
    sizes: list[int] = []
    try:
        kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
        groups = int(kernel32.GetActiveProcessorGroupCount())
        sizes = [int(kernel32.GetActiveProcessorCount(g)) for g in range(groups)]
    except (AttributeError, OSError):
        pass
    if not sizes:
        full, rest = divmod(logical_cpus, WINDOWS_GROUP_SIZE)
        sizes = [WINDOWS_GROUP_SIZE] * full + ([rest] if rest else [])
    return tuple(
        tuple(range(g * WINDOWS_GROUP_SIZE, g * WINDOWS_GROUP_SIZE + n))
        for g, n in enumerate(sizes)
        if n
    )


def read_host_facts(
    numa_map: str = "",
    warn: Callable[[str], None] = lambda _msg: None,
) -> HostFacts:
    """The real host's facts. A bad NUMA map is one warning and topology unknown."""
    name = os_name()
    cpus = allowed_cpus()
    logical = len(cpus)
    pools: Pools | None = None
    if numa_map.strip():
        try:
            pools = restrict_pools(load_numa_map(numa_map), set(cpus))
            if not pools:
                warn("NUMA map names none of this host's CPUs: processes are not pinned")
                return HostFacts(logical, total_ram_gb(), None, name)
        except ValueError as exc:
            warn(f"NUMA map {numa_map!r} is unusable ({exc}): processes are not pinned")
            return HostFacts(logical, total_ram_gb(), None, name)
    elif name == "linux":
        found = linux_numa_pools()
        pools = restrict_pools(found, set(cpus)) if found else None
    elif name == "windows":
        pools = windows_group_pools(os.cpu_count() or logical)
        logical = sum(len(p) for p in pools)
    if pools is None and name != "macos":
        pools = (tuple(cpus),)
    return HostFacts(logical, total_ram_gb(), pools, name)
