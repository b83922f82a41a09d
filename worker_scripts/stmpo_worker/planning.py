"""How many aerender processes, which frames each renders and which CPUs each gets.

Pure functions on plain data: the worker runs them on real host facts, and the
submitter's GUI imports this same file (`stmpo._worker_scripts.stmpo_worker.planning`)
to preview the plan for a host shape, so the preview is the plan.

The auto-concurrency model (Concurrency = 0)
--------------------------------------------
Three independent limits, the smallest wins, never below 1:

* CPU: ``logical_cpus // threads_per_process``. With Multi-Frame Rendering on, one
  aerender keeps about 16 threads busy (AE renders several frames at once inside the
  process); with MFR off, a process renders one frame at a time and uses about 8
  (AE still threads effects, caching and encoding).
  Small hosts, MFR off: 8 threads per process is a big-host budget (it spaces
  processes out where memory bandwidth, caches and disks run out first); below 32
  logical CPUs it would leave a workstation on one process that renders one frame at
  a time on one core. There a process gets 2 logical CPUs (one physical core with
  SMT: the classic "one aerender per core"), up to 4 processes, which is exactly
  where the big-host budget takes over (32 / 8 = 4), so the count never drops as the
  host grows. With MFR on there is no such floor: MFR already fans frames out inside
  the one process, and a second one would split the same cores and double the RAM.
* RAM: ``total_ram_gb * 0.8 // ram_per_process_gb``: 20 % stays for the OS, the
  Deadline worker agent and the file cache.
* ``max_concurrency``: the job's cap.

then never more processes than the frames' launches are worth (below), and finally never
more processes than frames, and exactly one process for a movie
(a movie file cannot be written by several processes). With these numbers the
original STMPO's figures come out: a 256-thread, 1 TB host gets 16 processes with
MFR on (CPU-bound: 256 / 16) and 24 with MFR off (RAM allows 25, CPUs 32, the cap 24).

Launch worth (auto concurrency only)
------------------------------------
A process pays After Effects' startup (launch, licence, opening the project) before its
first frame, and several starting at once slow each other down on disk and CPU. A
process is worth starting only when it renders at least ``LAUNCH_WORTH`` times its
startup: every process gets at least
``max(MIN_FRAMES_PER_PROCESS, ceil(LAUNCH_WORTH * startup / frame time))`` frames, so
the auto count is at most ``frames // that`` (never below 1). Startup and frame time are
those observed earlier in the session (timings.py) when known, else the conservative
assumption 30 s and 10 s: 5 frames a process, so 10 frames get 2 processes, not 4.
An explicit Concurrency is kept (a note says when it is more than the frames are worth).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from .contract import MAX_FRAME_NUMBER, MAX_PROCESSES
from .frametime import Timebase, rate_text
from .timings import ASSUMED, Timings

#: Threads one aerender keeps busy, by MFR state. See the module docstring.
THREADS_PER_PROCESS_MFR = 16
THREADS_PER_PROCESS_NO_MFR = 8
#: Small hosts with MFR off: one process per this many logical CPUs (a physical core),
#: up to SMALL_HOST_PROCESSES. See the module docstring.
SMALL_HOST_THREADS_NO_MFR = 2
SMALL_HOST_PROCESSES = 4
#: Share of the host's RAM the children may use together.
RAM_SAFETY_FACTOR = 0.8
#: Windows schedules threads in processor groups of at most 64 logical CPUs.
WINDOWS_GROUP_SIZE = 64
#: Frame numbers a task may name (the export contract's bound; ranges are never
#: materialised, so 2 x 10^9 frames cost no memory) and processes one task may start
#: (Concurrency's maxValue): defined with the worker's command line, in contract.py.
__all__ = ["MAX_FRAME_NUMBER", "MAX_PROCESSES"]

#: Launch worth (module docstring): a process renders at least this many frames and at
#: least this many times its startup.
MIN_FRAMES_PER_PROCESS = 3
LAUNCH_WORTH = 1.5

CpuBlock = tuple[int, ...]
_T = TypeVar("_T")


@dataclass(frozen=True)
class HostFacts:
    """What the plan needs to know about the worker host."""

    logical_cpus: int
    total_ram_gb: float
    #: CPU ids per NUMA node (or per pool of a NUMA map); None = topology unknown, and
    #: then nothing is pinned. A host without NUMA is one pool of all its CPUs.
    numa_pools: tuple[tuple[int, ...], ...] | None
    #: "linux", "windows" or "macos".
    os_name: str


def _cut(items: Sequence[_T], parts: int) -> list[Sequence[_T]]:
    """`items` cut into `parts` contiguous runs whose sizes differ by at most one, the
    larger runs first: frames into children, CPUs into blocks, CPU ids into pools."""
    base, extra = divmod(len(items), parts)
    runs: list[Sequence[_T]] = []
    at = 0
    for i in range(parts):
        size = base + (1 if i < extra else 0)
        runs.append(items[at : at + size])
        at += size
    return runs


def even_pools(logical_cpus: int, numa_nodes: int) -> tuple[tuple[int, ...], ...]:
    """CPU ids 0..n-1 cut into `numa_nodes` equal contiguous pools (a typical
    multi-socket layout), for previews of a host that is not this one."""
    nodes = max(1, min(numa_nodes, logical_cpus))
    return tuple(tuple(pool) for pool in _cut(range(max(1, logical_cpus)), nodes))


@dataclass(frozen=True)
class StmpoSettings:
    """The STMPO job parameters, with the template's defaults."""

    concurrency: int = 0
    max_concurrency: int = 24
    ram_per_process_gb: float = 32.0
    disable_mfr: bool = False
    disable_affinity: bool = False
    spawn_delay: float = 2.0
    child_grace_sec: float = 30.0
    no_kill_on_fail: bool = False


@dataclass(frozen=True)
class RenderPlan:
    """The whole plan for one task. `ranges[i]` and `cpu_blocks[i]` belong to child i."""

    processes: int
    ranges: list[tuple[int, int]]
    step: int
    cpu_blocks: list[CpuBlock] | None
    mfr: bool
    #: Plain sentences, shown in the GUI preview and the worker log.
    reasons: list[str] = field(default_factory=list)
    #: What decided the process count: "explicit", "cpu", "ram", "cap", "launch",
    #: "frames", "movie", "numbering".
    limited_by: str = ""
    #: Rendering at another rate than the comp: the output frames (displayed numbers,
    #: first and last) child i writes for its comp range `ranges[i]`; else None.
    render_ranges: list[tuple[int, int]] | None = None
    timebase: Timebase | None = None

    @property
    def frame_count(self) -> int:
        if self.render_ranges is not None:
            return sum(e - s + 1 for s, e in self.render_ranges)
        return sum(frames_in_range(s, e, self.step) for s, e in self.ranges)

    def child_frames(self, child: int) -> range:
        """The frames child i writes: output frames at the render rate, or its comp
        frames every `step`."""
        if self.render_ranges is not None:
            first, last = self.render_ranges[child]
            return range(first, last + 1)
        start, end = self.ranges[child]
        return range(start, end + 1, self.step)

    def range_text(self, child: int) -> str:
        """`0-49`, or `0-49 (comp 0-99 at 25 fps -> 12.5 fps)` at another render rate."""
        start, end = self.ranges[child]
        if self.render_ranges is None or self.timebase is None:
            return f"{start}-{end}"
        first, last = self.render_ranges[child]
        tb = self.timebase
        return (
            f"{first}-{last} (comp {start}-{end} at {rate_text(tb.comp_rate)} fps -> "
            f"{rate_text(tb.render_rate)} fps)"
        )


def _gb(value: float) -> str:
    return f"{value:.0f}" if abs(value - round(value)) < 0.05 else f"{value:.1f}"


def frames_in_range(start: int, end: int, step: int) -> int:
    """Frames aerender renders for `-s start -e end -i step`."""
    return len(range(start, end + 1, step))


def split_frames(start: int, end: int, step: int, parts: int) -> list[tuple[int, int]]:
    """Cut `start..end` (every `step`-th frame) into at most `parts` contiguous ranges.

    Each range starts and ends on the step grid, sizes differ by at most one frame
    (the first ones are the larger), and there are never more ranges than frames.
    """
    if step < 1:
        raise ValueError(f"step must be at least 1, got {step}")
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    frames = range(start, end + 1, step)
    return [(run[0], run[-1]) for run in _cut(frames, min(parts, len(frames)))]


@dataclass(frozen=True)
class _Limits:
    cpu: int
    ram: int
    cap: int
    threads_per_process: int
    #: The CPU limit came from the small-host floor (MFR off), not the thread budget.
    small_host: bool = False


def cpu_limit(logical_cpus: int, mfr: bool) -> tuple[int, bool]:
    """Processes the CPUs allow (at least 1), and whether the small-host floor set it."""
    threads = THREADS_PER_PROCESS_MFR if mfr else THREADS_PER_PROCESS_NO_MFR
    budget = logical_cpus // threads
    floor = 0 if mfr else min(logical_cpus // SMALL_HOST_THREADS_NO_MFR, SMALL_HOST_PROCESSES)
    return max(1, budget, floor), floor > max(1, budget)


def _limits(host: HostFacts, settings: StmpoSettings, mfr: bool) -> _Limits:
    threads = THREADS_PER_PROCESS_MFR if mfr else THREADS_PER_PROCESS_NO_MFR
    cpu, small_host = cpu_limit(host.logical_cpus, mfr)
    ram_budget = max(0.0, host.total_ram_gb) * RAM_SAFETY_FACTOR
    ram = max(1, math.floor(ram_budget / settings.ram_per_process_gb + 1e-9))
    return _Limits(
        cpu=cpu,
        ram=ram,
        cap=max(1, settings.max_concurrency),
        threads_per_process=threads,
        small_host=small_host,
    )


def auto_concurrency(host: HostFacts, settings: StmpoSettings, mfr: bool) -> int:
    """Processes the auto model allows before counting frames (at least 1)."""
    lim = _limits(host, settings, mfr)
    return max(1, min(lim.cpu, lim.ram, lim.cap))


def frames_per_launch(timings: Timings) -> int:
    """The fewest frames a process must get to be worth its launch (module docstring)."""
    worth = math.ceil(LAUNCH_WORTH * timings.startup / max(timings.frame, 1e-3) - 1e-9)
    return max(MIN_FRAMES_PER_PROCESS, worth)


def _launch_reason(count: int, processes: int, timings: Timings) -> str:
    source = "observed in this session" if timings.observed else "assumed: nothing observed yet"
    return (
        f"{count} frame{'s' if count != 1 else ''}: {processes} "
        f"process{'es' if processes != 1 else ''}, a launch costs ~{timings.startup:.0f} s "
        f"and a frame ~{timings.frame:.3g} s ({source}), so each process gets at least "
        f"{frames_per_launch(timings)} frames."
    )


def plan_render(
    host: HostFacts,
    settings: StmpoSettings,
    start: int,
    end: int,
    step: int,
    movie: bool,
    renumbered: bool = False,
    timebase: Timebase | None = None,
    timings: Timings | None = None,
) -> RenderPlan:
    """The plan for rendering comp frames `start..end` every `step` frames on `host`.

    With a `timebase` (render settings at another rate than the comp; step 1 only) the
    processes share the task's output frames, cut on comp-frame boundaries
    (`Timebase.split`), and every count is in output frames."""
    if timebase is not None and timebase.same:
        timebase = None
    if timebase is not None and step != 1:
        raise ValueError("a render frame rate other than the comp's needs step 1")
    if timebase is not None:
        count = len(timebase.render_range(start, end)) if end >= start else 0
    else:
        count = frames_in_range(start, end, step) if end >= start and step >= 1 else 0
    if count == 0:
        raise ValueError(f"no frames in {start}-{end} step {step}")
    mfr = not settings.disable_mfr
    reasons: list[str] = []
    lim = _limits(host, settings, mfr)
    mfr_text = "on" if mfr else "off"

    if movie:
        processes, limited_by = 1, "movie"
        reasons.append(
            "Movie output: one process renders the whole range, because several "
            "processes cannot write one movie file."
        )
    elif renumbered:
        processes, limited_by = 1, "numbering"
        reasons.append(
            'Output numbering: "Use Comp Frame Number" is off, so After Effects numbers the '
            "files of each aerender process from the Starting #; one process renders the "
            "whole range, or the processes would overwrite each other's files."
        )
    elif settings.concurrency > 0:
        processes, limited_by = settings.concurrency, "explicit"
        reasons.append(f"Concurrency is set to {settings.concurrency}: auto-detection is off.")
        allowed = min(lim.cpu, lim.ram)
        if settings.concurrency > lim.ram:
            reasons.append(
                f"Warning: {settings.concurrency} processes × {settings.ram_per_process_gb:g} GB "
                f"exceeds 80 % of {_gb(host.total_ram_gb)} GB RAM (room for {lim.ram})."
            )
        elif settings.concurrency > allowed:
            reasons.append(
                f"Note: the CPU model allows {lim.cpu} on {host.logical_cpus} logical CPUs "
                f"(MFR {mfr_text}); {settings.concurrency} processes will share them."
            )
    else:
        budget = max(1, host.logical_cpus // lim.threads_per_process)
        if lim.small_host:
            reasons.append(
                f"CPU: {host.logical_cpus} logical CPUs / {lim.threads_per_process} threads per "
                f"process (MFR {mfr_text}) allow {budget}, but a small host gets one process "
                f"per {SMALL_HOST_THREADS_NO_MFR} logical CPUs (a core), up to "
                f"{SMALL_HOST_PROCESSES}: {lim.cpu}."
            )
        else:
            reasons.append(
                f"CPU: {host.logical_cpus} logical CPUs / {lim.threads_per_process} threads per "
                f"process (MFR {mfr_text}) allow {lim.cpu}."
            )
        reasons.append(
            f"RAM: {_gb(host.total_ram_gb)} GB × {RAM_SAFETY_FACTOR:g} / "
            f"{settings.ram_per_process_gb:g} GB per process allow {lim.ram}."
        )
        reasons.append(f"MaxConcurrency caps it at {lim.cap}.")
        processes = max(1, min(lim.cpu, lim.ram, lim.cap))
        binding = [
            name
            for name, value in (("cpu", lim.cpu), ("ram", lim.ram), ("cap", lim.cap))
            if value == processes
        ]
        limited_by = binding[0]
        words = {"cpu": "CPU-bound", "ram": "RAM-bound", "cap": "capped by MaxConcurrency"}
        reasons.append(
            f"Auto concurrency: {processes} process{'es' if processes != 1 else ''} "
            f"({', '.join(words[b] for b in binding)})."
        )

    timings = timings or ASSUMED
    worth = max(1, count // frames_per_launch(timings))
    if processes > worth and limited_by not in ("movie", "numbering", "explicit"):
        reasons.append(_launch_reason(count, worth, timings))
        processes, limited_by = worth, "launch"
    elif processes > worth and limited_by == "explicit":
        reasons.append(
            f"Note: {_launch_reason(count, worth, timings)} Concurrency {processes} is kept."
        )

    if processes > count:
        reasons.append(
            f"Only {count} frame{'s' if count != 1 else ''} to render: "
            f"{count} process{'es' if count != 1 else ''}."
        )
        processes, limited_by = count, "frames"

    render_ranges: list[tuple[int, int]] | None = None
    if timebase is not None:
        ranges = timebase.split(start, end, processes)
        render_ranges = []
        for s, e in ranges:
            frames = timebase.render_range(s, e)
            render_ranges.append((frames.start, frames.stop - 1))
        if len(ranges) < processes:  # R > C: whole comp frames left fewer parts
            reasons.append(
                f"Render rate {rate_text(timebase.render_rate)} fps above the comp's "
                f"{rate_text(timebase.comp_rate)}: processes are cut on comp frames, "
                f"{len(ranges)} part(s)."
            )
            processes = len(ranges)
        reasons.append(
            f"Render settings render at {rate_text(timebase.render_rate)} fps, the comp runs "
            f"at {rate_text(timebase.comp_rate)}: comp frames {start}-{end} are output "
            f"frames {render_ranges[0][0]}-{render_ranges[-1][1]} ({count})."
        )
    else:
        ranges = split_frames(start, end, step, processes)
    blocks, affinity_reason = plan_affinity(host, processes, settings.disable_affinity)
    reasons.append(affinity_reason)
    reasons.append(f"Multi-Frame Rendering {mfr_text} in every process.")
    return RenderPlan(
        processes=processes,
        ranges=ranges,
        step=step,
        cpu_blocks=blocks,
        mfr=mfr,
        reasons=reasons,
        limited_by=limited_by,
        render_ranges=render_ranges,
        timebase=timebase,
    )


def host_pools(host: HostFacts) -> list[list[int]]:
    """CPU pools to pin into: the NUMA pools (none when the topology is unknown).

    On Windows a pool is further cut at processor-group boundaries (64 CPUs), so that
    no block needs two groups: before Windows 11 a process runs in one group, so it
    would leave the rest of such a block idle.
    """
    pools = [sorted(set(p)) for p in host.numa_pools or () if p]
    if host.os_name == "windows":
        per_node: list[list[list[int]]] = []
        for pool in pools:
            groups: dict[int, list[int]] = {}
            for cpu in pool:
                groups.setdefault(cpu // WINDOWS_GROUP_SIZE, []).append(cpu)
            per_node.append([groups[g] for g in sorted(groups)])
        # Interleave so that round-robin over pools still alternates NUMA nodes.
        depth = max((len(n) for n in per_node), default=0)
        pools = [n[d] for d in range(depth) for n in per_node if d < len(n)]
    return [p for p in pools if p]


def _proportional(counts: list[int], total: int) -> list[int]:
    """Share `total` children across pools in proportion to their CPU counts."""
    cpus = sum(counts)
    shares = [total * c / cpus for c in counts]
    out = [math.floor(s) for s in shares]
    order = sorted(range(len(counts)), key=lambda i: (-(shares[i] - out[i]), i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def affinity_blocks(pools: list[list[int]], processes: int) -> list[CpuBlock] | None:
    """Disjoint CPU blocks, one per child, spread round-robin across the pools.

    Fewer children than pools: child i gets every pool j with j % processes == i.
    Otherwise each pool gets children in proportion to its size and is cut into
    contiguous blocks; children are then dealt pool by pool (child 0 on pool 0, child
    1 on pool 1, ...) so that neighbouring children land on different NUMA nodes.
    None when there are more children than CPUs (pinning would only hurt).
    """
    pools = [p for p in pools if p]
    total_cpus = sum(len(p) for p in pools)
    if processes < 1 or not pools or processes > total_cpus:
        return None
    if processes <= len(pools):
        return [
            tuple(cpu for j, pool in enumerate(pools) if j % processes == i for cpu in pool)
            for i in range(processes)
        ]
    per_pool = _proportional([len(p) for p in pools], processes)
    queues = [
        [tuple(block) for block in _cut(pool, n)] if n else []
        for pool, n in zip(pools, per_pool)  # same length by construction; no strict= on 3.9
    ]
    blocks: list[CpuBlock] = []
    depth = 0
    while len(blocks) < processes:
        for queue in queues:
            if depth < len(queue):
                blocks.append(queue[depth])
        depth += 1
    return blocks


def plan_affinity(
    host: HostFacts, processes: int, disabled: bool
) -> tuple[list[CpuBlock] | None, str]:
    """CPU blocks for the children, or None, with the sentence explaining it."""
    if disabled:
        return None, "CPU affinity is off (DisableAffinity): processes are not pinned."
    if host.os_name == "macos":
        return None, "macOS has no CPU affinity API: processes are not pinned."
    if processes == 1:
        return None, "One process: it may use every CPU, no pinning."
    pools = host_pools(host)
    if not pools:
        return None, "CPU topology unknown (no usable NUMA map): processes are not pinned."
    blocks = affinity_blocks(pools, processes)
    if blocks is None:
        return None, f"More processes ({processes}) than CPUs: processes are not pinned."
    sizes = sorted({len(b) for b in blocks})
    size_text = f"{sizes[0]}-{sizes[-1]}" if len(sizes) > 1 else str(sizes[0])
    return blocks, (
        f"CPU affinity: each process pinned to its own block of {size_text} "
        f"CPU{'s' if sizes[-1] != 1 else ''}, "
        f"spread over {len(pools)} CPU pool{'s' if len(pools) != 1 else ''}."
    )


def cpu_list_text(cpus: CpuBlock) -> str:
    """`0-15,64-79`: a CPU block in the kernel's list syntax."""
    if not cpus:
        return ""
    runs: list[str] = []
    start = prev = cpus[0]
    for cpu in (*cpus[1:], None):
        if cpu is not None and cpu == prev + 1:
            prev = cpu
            continue
        runs.append(f"{start}-{prev}" if prev != start else str(start))
        if cpu is not None:
            start = prev = cpu
    return ",".join(runs)


def child_summaries(plan: RenderPlan) -> list[str]:
    """One line per child for a preview: `c1: frames 0-29 (30), CPUs 0-15`."""
    lines = []
    for i in range(len(plan.ranges)):
        count = len(plan.child_frames(i))
        cpus = f", CPUs {cpu_list_text(plan.cpu_blocks[i])}" if plan.cpu_blocks else ""
        lines.append(f"c{i + 1}: frames {plan.range_text(i)} ({count}){cpus}")
    return lines
