"""Fan-out preview: what STMPO would do on a worker of the shape the artist picks.

It calls the worker's own planning code (shipped in the bundle as `stmpo_worker`), so the
preview cannot drift from what the farm does, and it plans each task the bundle cuts
(ChunkSize) as the worker does (`render --frames=S-E`), not the whole item.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stmpo._worker_scripts.stmpo_worker import planning
from stmpo._worker_scripts.stmpo_worker.contract import SPLIT_STRATEGIES, setting
from stmpo._worker_scripts.stmpo_worker.frametime import Timebase
from stmpo.bundle.chunks import parse_chunk
from stmpo.bundle.selection import item_chunks
from stmpo.export.model import RenderQueueItem
from stmpo.gui.settings import parameter_flag, parameter_number


@dataclass(frozen=True)
class WorkerShape:
    logical_cpus: int
    ram_gb: float
    numa_nodes: int


@dataclass(frozen=True)
class TaskPreview:
    """The worker's plan for one task (one `ChunkSize` chunk, or the whole item)."""

    first: int
    last: int
    frames: int
    processes: int
    ranges: tuple[tuple[int, int], ...]
    mfr: bool
    pinned: bool
    reasons: tuple[str, ...]
    children: tuple[str, ...]
    #: What decided the process count (planning.RenderPlan.limited_by), and the frames
    #: each process writes: the plan view draws and warns from these facts.
    limited_by: str = ""
    child_frames: tuple[int, ...] = ()
    #: The first and last frame each process writes (output frames at another render
    #: rate), and its CPUs when pinned ("0-15"), for the picture's bars and tooltips.
    child_ranges: tuple[tuple[int, int], ...] = ()
    child_cpus: tuple[str, ...] = ()


@dataclass(frozen=True)
class ItemPreview:
    """An item's tasks, each planned as the worker plans it. `processes`, `ranges`,
    `reasons` and `children` are the first task's (the whole item's without ChunkSize)."""

    rq_index: int
    comp: str
    frames: int
    tasks: tuple[TaskPreview, ...]
    strategy: str
    #: Why the item is not cut as ChunkSize asks (selection.item_chunks), if so.
    chunk_warning: str | None = None

    @property
    def first_task(self) -> TaskPreview:
        return self.tasks[0]

    @property
    def processes(self) -> int:
        return self.first_task.processes

    @property
    def ranges(self) -> tuple[tuple[int, int], ...]:
        return self.first_task.ranges

    @property
    def mfr(self) -> bool:
        return self.first_task.mfr

    @property
    def pinned(self) -> bool:
        return self.first_task.pinned

    @property
    def reasons(self) -> tuple[str, ...]:
        return self.first_task.reasons

    @property
    def children(self) -> tuple[str, ...]:
        return self.first_task.children

    @property
    def summary(self) -> str:
        task = self.first_task
        per = max(1, task.frames // max(1, task.processes))
        mfr = "MFR on" if self.mfr else "MFR off"
        pin = ", pinned" if self.pinned else ""
        head = f"Item {self.rq_index} \u201c{self.comp}\u201d: {self.frames} frames"
        if len(self.tasks) > 1:
            head += f" in {len(self.tasks)} tasks; task 1 ({task.first}-{task.last}): {task.frames}"
        return (
            f"{head} \u2192 {task.processes} process{'es' if task.processes != 1 else ''} "
            f"(~{per} frames each), {mfr}{pin}, split {self.strategy}"
        )

    @property
    def task_lines(self) -> list[str]:
        """One line per run of tasks with the same plan: `tasks 2-4: 10 frames -> 2
        processes` (there may be 1,024 tasks)."""
        lines: list[str] = []
        runs: list[list[int]] = []
        for number, task in enumerate(self.tasks, 1):
            key = (task.frames, task.processes)
            if (
                runs
                and (self.tasks[runs[-1][0] - 1].frames, self.tasks[runs[-1][0] - 1].processes)
                == key
            ):
                runs[-1].append(number)
            else:
                runs.append([number])
        if len(self.tasks) < 2:
            return lines
        for run in runs:
            task = self.tasks[run[0] - 1]
            which = f"task {run[0]}" if len(run) == 1 else f"tasks {run[0]}-{run[-1]}"
            lines.append(
                f"{which}: {task.frames} frames \u2192 {task.processes} "
                f"process{'es' if task.processes != 1 else ''} each"
            )
        return lines


def stmpo_settings(values: Mapping[str, str]) -> planning.StmpoSettings:
    return planning.StmpoSettings(
        concurrency=int(parameter_number(values, "Concurrency")),
        max_concurrency=int(parameter_number(values, "MaxConcurrency")),
        ram_per_process_gb=parameter_number(values, "RamPerProcessGB"),
        disable_mfr=parameter_flag(values, "DisableMFR"),
        disable_affinity=parameter_flag(values, "DisableAffinity"),
    )


def preview_host(shape: WorkerShape) -> planning.HostFacts:
    return planning.HostFacts(
        logical_cpus=shape.logical_cpus,
        total_ram_gb=shape.ram_gb,
        numa_pools=planning.even_pools(shape.logical_cpus, shape.numa_nodes),
        os_name="windows",
    )


def preview_task(
    item: RenderQueueItem,
    first: int,
    last: int,
    step: int,
    values: Mapping[str, str],
    host: planning.HostFacts,
    display_start_frame: int = 0,
) -> TaskPreview:
    """The worker's plan for one task of `item` (`render --frames=first-last`): at
    another render rate than the comp's in output frames, as the worker counts and
    checks them (frametime.py); nothing to start when the task holds no output frame."""
    timebase = None
    if item.render_frame_rate is not None and step == 1:
        timebase = Timebase.of(
            item.comp.frame_rate,
            item.render_frame_rate,
            item.comp.display_start_time or 0.0,
            display_start_frame,
        )
        if timebase.same:
            timebase = None
        elif not len(timebase.render_range(first, last)):
            reason = f"comp frames {first}-{last} hold no output frame at the render rate"
            return TaskPreview(first, last, 0, 0, (), False, False, (reason,), ())
    plan = planning.plan_render(
        host,
        stmpo_settings(values),
        first,
        last,
        step,
        movie=item.has_movie_output,
        renumbered=item.numbered_per_launch,
        timebase=timebase,
    )
    return TaskPreview(
        first=first,
        last=last,
        frames=plan.frame_count,
        processes=plan.processes,
        ranges=tuple((int(a), int(b)) for a, b in plan.ranges),
        mfr=plan.mfr,
        pinned=plan.cpu_blocks is not None,
        reasons=tuple(plan.reasons),
        children=tuple(planning.child_summaries(plan)),
        limited_by=plan.limited_by,
        child_frames=tuple(len(plan.child_frames(i)) for i in range(plan.processes)),
        child_ranges=tuple(written_range(plan.child_frames(i)) for i in range(plan.processes)),
        child_cpus=tuple(planning.cpu_list_text(block) for block in plan.cpu_blocks or ()),
    )


def written_range(frames: range) -> tuple[int, int]:
    """First and last frame of a process (its own range, every `step`-th frame)."""
    return (frames[0], frames[-1]) if len(frames) else (frames.start, frames.start)


def preview_item(
    item: RenderQueueItem,
    frames: tuple[int, int, int],
    values: Mapping[str, str],
    shape: WorkerShape,
    display_start_frame: int = 0,
    chunk_size: int = 0,
) -> ItemPreview:
    """The worker's plan for every task `item` is cut into (ChunkSize, cut by the
    bundle's own code), on `shape`."""
    host = preview_host(shape)
    start, end, step = frames
    chunks, chunk_warning = item_chunks(item, start, end, step, chunk_size)
    tasks = []
    for chunk in chunks:
        first, last = parse_chunk(chunk)
        tasks.append(preview_task(item, first, last, step, values, host, display_start_frame))
    strategy = values.get("SplitStrategy", "")
    if strategy not in SPLIT_STRATEGIES:
        strategy = str(setting("--split-strategy").default)
    return ItemPreview(
        rq_index=item.index,
        comp=item.comp.name,
        frames=sum(task.frames for task in tasks),
        tasks=tuple(tasks),
        strategy=strategy,
        chunk_warning=chunk_warning,
    )
