"""Fan-out preview: what STMPO would do on a worker of the shape the artist picks.

It calls the worker's own planning code (shipped in the bundle as `stmpo_worker`), so the
preview cannot drift from what the farm does, and it plans each task the bundle cuts
(ChunkSize) as the worker does (`render --frames=S-E`), not the whole item.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import overload

from stmpo._worker_scripts.stmpo_worker import planning
from stmpo._worker_scripts.stmpo_worker.contract import SPLIT_STRATEGIES, setting
from stmpo._worker_scripts.stmpo_worker.frametime import Timebase
from stmpo.bundle.selection import item_task_bounds
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
    tasks: Sequence[TaskPreview]
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
        if len(self.tasks) < 2:
            return []
        lines: list[str] = []
        for first, last, task in task_runs(self.tasks):
            which = f"task {first}" if first == last else f"tasks {first}-{last}"
            lines.append(
                f"{which}: {task.frames} frames \u2192 {task.processes} "
                f"process{'es' if task.processes != 1 else ''} each"
            )
        return lines


class TaskList(Sequence[TaskPreview]):
    """An item's tasks, planned once per shape. Without another render rate the worker's
    plan of a task depends on how many frames it holds, not on which (tests check every
    task against its own plan): the tasks of one length share one plan, shifted. With
    ChunkSize 1 a 200-item job of 1,000 frames each is 200,000 tasks; planning each one
    on the GUI thread cost 7-30 s per change of a setting, planning each length once
    costs milliseconds. A task is made when asked for (the picture shows one)."""

    def __init__(
        self,
        bounds: Sequence[tuple[int, int]],
        shapes: Sequence[tuple[TaskPreview, planning.RenderPlan | None]],
        shape_of: Sequence[int],
    ) -> None:
        self._bounds = tuple(bounds)
        self._shapes = tuple(shapes)
        self._shape_of = tuple(shape_of)
        counts = [0] * len(self._shapes)
        firsts = [0] * len(self._shapes)
        for number, shape in enumerate(self._shape_of, 1):
            if not counts[shape]:
                firsts[shape] = number
            counts[shape] += 1
        self._summary = tuple(
            (preview, firsts[at], counts[at]) for at, (preview, _plan) in enumerate(self._shapes)
        )

    def __len__(self) -> int:
        return len(self._bounds)

    @overload
    def __getitem__(self, at: int) -> TaskPreview: ...

    @overload
    def __getitem__(self, at: slice) -> Sequence[TaskPreview]: ...

    def __getitem__(self, at: int | slice) -> TaskPreview | Sequence[TaskPreview]:
        if isinstance(at, slice):
            return [self[i] for i in range(*at.indices(len(self)))]
        first, last = self._bounds[at]
        shape, plan = self._shapes[self._shape_of[at]]
        if shape.first == first or plan is None:
            return shape
        by = first - shape.first
        shifted = replace(plan, ranges=[(a + by, b + by) for a, b in plan.ranges])
        return task_preview(first, last, shifted)

    def shape_ids(self) -> tuple[int, ...]:
        """Each task's shape, by the order shapes first appear."""
        return self._shape_of

    def shapes(self) -> Iterator[tuple[TaskPreview, int, int]]:
        """Each distinct plan (as its first task), the task number (from 1) it first
        appears at, and how many tasks share it: what sums and warnings need."""
        return iter(self._summary)


def task_shapes(tasks: Sequence[TaskPreview]) -> Iterator[tuple[TaskPreview, int, int]]:
    """(task, its number, how many tasks share its plan) for each distinct plan of a
    TaskList; any other sequence: each task once."""
    if isinstance(tasks, TaskList):
        yield from tasks.shapes()
    else:
        for number, task in enumerate(tasks, 1):
            yield task, number, 1


def task_runs(tasks: Sequence[TaskPreview]) -> Iterator[tuple[int, int, TaskPreview]]:
    """Runs of consecutive tasks with the same frame and process counts: (first task
    number, last task number, the run's first task)."""
    if isinstance(tasks, TaskList):
        keys = {id_: (t.frames, t.processes) for id_, (t, _n, _c) in enumerate(tasks.shapes())}
        ids: Sequence[object] = [keys[shape] for shape in tasks.shape_ids()]
    else:
        ids = [(t.frames, t.processes) for t in tasks]
    start = 0
    for at in range(1, len(ids) + 1):
        if at == len(ids) or ids[at] != ids[start]:
            yield start + 1, at, tasks[start]
            start = at


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
    return rated_task(
        item, first, last, step, values, host, render_timebase(item, step, display_start_frame)
    )


def render_timebase(item: RenderQueueItem, step: int, display_start_frame: int) -> Timebase | None:
    """The item's comp-to-output timebase when its render settings render at another
    rate than the comp (the worker's rule: only without a frame step); else None."""
    if item.render_frame_rate is None or step != 1:
        return None
    timebase = Timebase.of(
        item.comp.frame_rate,
        item.render_frame_rate,
        item.comp.display_start_time or 0.0,
        display_start_frame,
    )
    return None if timebase.same else timebase


def rated_task(
    item: RenderQueueItem,
    first: int,
    last: int,
    step: int,
    values: Mapping[str, str],
    host: planning.HostFacts,
    timebase: Timebase | None,
) -> TaskPreview:
    if timebase is not None and not len(timebase.render_range(first, last)):
        reason = f"comp frames {first}-{last} hold no output frame at the render rate"
        return TaskPreview(first, last, 0, 0, (), False, False, (reason,), ())
    return task_preview(first, last, task_plan(item, first, last, step, values, host, timebase))


def task_plan(
    item: RenderQueueItem,
    first: int,
    last: int,
    step: int,
    values: Mapping[str, str],
    host: planning.HostFacts,
    timebase: Timebase | None,
) -> planning.RenderPlan:
    return planning.plan_render(
        host,
        stmpo_settings(values),
        first,
        last,
        step,
        movie=item.has_movie_output,
        renumbered=item.numbered_per_launch,
        timebase=timebase,
    )


def task_preview(first: int, last: int, plan: planning.RenderPlan) -> TaskPreview:
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
    bounds, chunk_warning = item_task_bounds(item, start, end, step, chunk_size)
    timebase = render_timebase(item, step, display_start_frame)
    shapes: list[tuple[TaskPreview, planning.RenderPlan | None]] = []
    known: dict[int, int] = {}
    shape_of: list[int] = []
    for first, last in bounds:
        # At another render rate the output frames depend on where the task starts.
        plan_id = None if timebase is not None else known.get(last - first)
        if plan_id is None:
            plan_id = len(shapes)
            if timebase is not None:
                shapes.append((rated_task(item, first, last, step, values, host, timebase), None))
            else:
                plan = task_plan(item, first, last, step, values, host, None)
                shapes.append((task_preview(first, last, plan), plan))
                known[last - first] = plan_id
        shape_of.append(plan_id)
    tasks = TaskList(bounds, shapes, shape_of)
    strategy = values.get("SplitStrategy", "")
    if strategy not in SPLIT_STRATEGIES:
        strategy = str(setting("--split-strategy").default)
    return ItemPreview(
        rq_index=item.index,
        comp=item.comp.name,
        frames=sum(task.frames * count for task, _number, count in tasks.shapes()),
        tasks=tasks,
        strategy=strategy,
        chunk_warning=chunk_warning,
    )
