"""The job summary, the fan-out timeline and the plan warnings, from the preview's plans.

Pure functions over `preview.ItemPreview` (the worker's own plan of every task): nothing
here plans again, so the summary, the picture and the warnings cannot disagree with what
the farm does. Times are estimates from a seconds-per-frame figure the artist types and
the worker's assumed launch cost (timings.ASSUMED), or from what an earlier job of the
project measured (measured.py), and say so.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from stmpo._worker_scripts.stmpo_worker import planning
from stmpo._worker_scripts.stmpo_worker.timings import ASSUMED, Timings
from stmpo.bundle.chunks import MAX_CHUNKS_PER_STEP
from stmpo.gui.preview import ItemPreview, TaskPreview, task_shapes
from stmpo.gui.settings import parameter_number

#: Seconds from an aerender launch to its first frame: the worker's own assumption
#: before it has observed one (timings.ASSUMED), so the picture matches its launch math.
STARTUP_S = ASSUMED.startup


@dataclass(frozen=True)
class ProcessBar:
    """One aerender process of a task on the timeline (seconds from the task's start)."""

    child: int
    frames: int
    launch_s: float
    startup_s: float
    finish_s: float
    #: The first and last frame the process writes (the worker's own split), and its
    #: CPUs when the plan pins it ("" otherwise): the bar's label and tooltip.
    first: int = 0
    last: int = 0
    cpus: str = ""

    @property
    def render_start_s(self) -> float:
        return self.launch_s + self.startup_s

    @property
    def range_text(self) -> str:
        """`0-12 (13)`: the frames written and how many (fewer than last-first+1 with
        a frame step)."""
        span = f"{self.first}-{self.last}" if self.last != self.first else str(self.first)
        return f"{span} ({self.frames})"

    @property
    def tooltip(self) -> str:
        lines = [
            f"Process c{self.child + 1}",
            f"Frames {self.range_text}",
        ]
        if self.cpus:
            lines.append(f"CPUs {self.cpus}")
        lines += [
            f"Launch at {duration_text(self.launch_s)}",
            f"Startup ends at {duration_text(self.render_start_s)}",
            f"Expected finish at {duration_text(self.finish_s)}",
        ]
        return "\n".join(lines)


@dataclass(frozen=True)
class TaskTimeline:
    first: int
    last: int
    bars: tuple[ProcessBar, ...]

    @property
    def finish_s(self) -> float:
        return max((bar.finish_s for bar in self.bars), default=0.0)


@dataclass(frozen=True)
class JobSummary:
    items: int
    frames: int
    tasks: int
    min_processes: int
    max_processes: int
    #: Wall-clock time with one worker per task (the slowest task), and on one worker.
    parallel_s: float
    serial_s: float
    worker_hours: float
    cost: float | None

    @property
    def text(self) -> str:
        if not self.items:
            return "Nothing selected."
        per = (
            str(self.max_processes)
            if self.min_processes == self.max_processes
            else f"{self.min_processes}-{self.max_processes}"
        )
        line = (
            f"{self.items} item{'s' if self.items != 1 else ''}, {self.frames} frames, "
            f"{self.tasks} task{'s' if self.tasks != 1 else ''}, {per} process"
            f"{'es' if per != '1' else ''} per task. Estimated render time "
            f"{duration_text(self.parallel_s)} with a worker per task "
            f"({duration_text(self.serial_s)} on one worker), "
            f"{self.worker_hours:.2f} worker-hours"
        )
        if self.cost is not None:
            line += f", cost ~{self.cost:.2f}"
        return line + "."


def duration_text(seconds: float) -> str:
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"


#: Tick steps of the picture's time axis: 1, 2 and 5 times a power of ten seconds.
NICE_MANTISSAS = (1, 2, 5)


def tick_step(span_s: float, max_ticks: int = 8) -> float:
    """The smallest 1/2/5 x 10^k seconds step that puts at most `max_ticks` ticks
    (0 included) on `span_s`; since neighbouring steps differ by 2.5x at most, that
    is also at least `max_ticks` / 2.5 ticks (4 of 8)."""
    if span_s <= 0 or max_ticks < 2:
        return 1.0
    power = 10.0 ** math.floor(math.log10(span_s / (max_ticks - 1)))
    while True:
        for mantissa in NICE_MANTISSAS:
            step = mantissa * power
            if math.floor(span_s / step + 1e-9) + 1 <= max_ticks:
                return step
        power *= 10.0


def time_ticks(span_s: float, max_ticks: int = 8) -> list[float]:
    """The axis' tick values from 0 to at most `span_s` (the expected finish)."""
    step = tick_step(span_s, max_ticks)
    count = math.floor(span_s / step + 1e-9) if span_s > 0 else 0
    return [round(i * step, 6) for i in range(count + 1)]


def tick_text(seconds: float) -> str:
    """A tick label: `0`, `500 ms`, `20 s`, `2 min`, `8 min 20 s`, `1 h`, `2 h 47 min`
    (duration_text without the zero parts, which would crowd the axis)."""
    if seconds <= 0:
        return "0"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    whole = round(seconds)
    if whole >= 3600:  # to the nearest minute
        hours, minutes = divmod(round(seconds / 60), 60)
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    minutes, secs = divmod(whole, 60)
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def spawn_delay(values: Mapping[str, str]) -> float:
    """The worker starts its processes this many seconds apart (SpawnDelay)."""
    return max(0.0, parameter_number(values, "SpawnDelay"))


def task_timeline(
    task: TaskPreview, seconds_per_frame: float, delay_s: float, startup_s: float = STARTUP_S
) -> TaskTimeline:
    """Each process launched `delay_s` after the previous one, paying `startup_s`, then
    rendering its own frames at `seconds_per_frame`."""
    bars = []
    for child, frames in enumerate(task.child_frames):
        launch = child * delay_s
        first, last = (
            task.child_ranges[child] if child < len(task.child_ranges) else (task.first, task.last)
        )
        bars.append(
            ProcessBar(
                child=child,
                frames=frames,
                launch_s=launch,
                startup_s=startup_s,
                finish_s=launch + startup_s + frames * seconds_per_frame,
                first=first,
                last=last,
                cpus=task.child_cpus[child] if child < len(task.child_cpus) else "",
            )
        )
    return TaskTimeline(task.first, task.last, tuple(bars))


def job_summary(
    previews: Sequence[ItemPreview],
    seconds_per_frame: float,
    delay_s: float,
    hourly_price: float = 0.0,
    startup_s: float = STARTUP_S,
) -> JobSummary:
    """A worker is busy for a task from its first launch to its last process's finish.
    `startup_s`: the assumed launch cost, or the one an earlier job measured."""
    # Tasks of one plan take one time: each plan once, weighed by its tasks.
    shapes = [
        (task, count)
        for preview in previews
        for task, _number, count in task_shapes(preview.tasks)
        if task.processes
    ]
    walls = [
        (task_timeline(task, seconds_per_frame, delay_s, startup_s).finish_s, count)
        for task, count in shapes
    ]
    serial = sum(wall * count for wall, count in walls)
    worker_hours = serial / 3600.0
    counts = [task.processes for task, _count in shapes] or [0]
    return JobSummary(
        items=len(previews),
        frames=sum(preview.frames for preview in previews),
        tasks=sum(len(preview.tasks) for preview in previews),
        min_processes=min(counts),
        max_processes=max(counts),
        parallel_s=max((wall for wall, _count in walls), default=0.0),
        serial_s=serial,
        worker_hours=worker_hours,
        cost=worker_hours * hourly_price if hourly_price > 0 else None,
    )


def unnamed(warning: str) -> str:
    """A bundle warning without its `item N: ` prefix (the CLI's wording, one source),
    for a line that already names the item."""
    return ITEM_PREFIX.sub("", warning, count=1)


#: How the bundle's warnings name their item (selection.item_chunks).
ITEM_PREFIX = re.compile(r"^item \d+: ")


#: More items than this with one kind of warning share one line (a 45-item job with
#: Concurrency 8 gave 75 lines in a box four lines tall).
GROUP_AFTER = 3


@dataclass(frozen=True)
class _Finding:
    """One warning about one item: `line` when it is said alone; `kind` and `shared`
    (the same words for every item) when many items share it."""

    kind: str
    rq_index: int
    line: str
    shared: str
    #: A figure the shared line gives as the largest of its items' (`{most}` in it).
    amount: int = 0


def plan_warnings(
    previews: Sequence[ItemPreview],
    seconds_per_frame: float,
    ram_per_process_gb: float,
    worker_ram_gb: float,
    startup_s: float = STARTUP_S,
) -> list[str]:
    """What in the plan costs time or fails on the farm, from the plan's own facts
    (limited_by, the chunk cutter's refusal) and the worker's own launch and RAM rules
    (planning.frames_per_launch, planning.RAM_SAFETY_FACTOR): one line an item, or one
    line a kind for the items sharing it when more than GROUP_AFTER do. `startup_s`:
    the same launch time the summary estimates with (measured when known)."""
    worth = planning.frames_per_launch(
        Timings(startup=startup_s, frame=max(seconds_per_frame, 1e-3), observed=False)
    )
    launch = f"~{startup_s:.0f} s launch at {seconds_per_frame:g} s a frame"
    room = worker_ram_gb * planning.RAM_SAFETY_FACTOR
    found: list[_Finding] = []
    for preview in previews:
        name = f"Item {preview.rq_index} \u201c{preview.comp}\u201d"

        def add(
            kind: str, line: str, shared: str, amount: int = 0, index: int = preview.rq_index
        ) -> None:
            found.append(_Finding(kind, index, line, shared, amount))

        shapes = list(task_shapes(preview.tasks))
        movie = preview.first_task.limited_by == "movie" and preview.frames > 1
        if movie:  # says both: one process, and one task when ChunkSize asked for more
            unsplit = " (ChunkSize cannot cut it into tasks)" if preview.chunk_warning else ""
            add(
                "movie",
                f"{name}: a movie output keeps all {preview.frames} frames on one process{unsplit}",
                f"a movie output keeps each on one process{unsplit}",
            )
        elif preview.chunk_warning and len(preview.tasks) == 1:
            reason = unnamed(preview.chunk_warning)
            add(
                "unchunked " + reason,
                f"{name} cannot be chunked: {reason}",
                f"cannot be chunked: {reason}",
            )
        elif preview.chunk_warning:  # cut, but in larger chunks than asked
            add(
                "coarser",
                f"{name}: {unnamed(preview.chunk_warning)}",
                f"more than {MAX_CHUNKS_PER_STEP} tasks a step at this ChunkSize: cut in "
                "larger chunks, of up to {most} frames",
                max((task.frames for task, _n, _c in shapes), default=0),
            )
        short = sorted(
            (
                (number, count, task)
                for task, number, count in shapes
                if task.processes > 1 and min(task.child_frames, default=worth) < worth
            ),
            key=lambda seen: seen[0],
        )  # by where each plan first appears: the first short task is named
        if short:
            number, _count, task = short[0]
            others = sum(count for _number, count, _task in short) - 1
            where = f"task {number}" if len(preview.tasks) > 1 else "its task"
            more = f" (and {others} more tasks)" if others else ""
            fewest = min(task.child_frames)
            add(
                "short processes",
                f"{name}, {where}{more}: a process gets {fewest} frame"
                f"{'s' if fewest != 1 else ''}, fewer than the {worth} that pay for its {launch}",
                f"a process gets fewer frames than the {worth} that pay for its {launch}",
            )
        elif len(preview.tasks) > 1 and not movie:
            # ChunkSize cut the item so fine that its tasks of ChunkSize's length (the
            # most of them; a remainder is shorter by nature), one process each, pay a
            # whole launch for less work than the launch is worth.
            sizes: dict[tuple[int, int], int] = {}
            for task, _number, count in shapes:
                key = (task.frames, task.processes)
                sizes[key] = sizes.get(key, 0) + count
            (size, processes), count = max(sizes.items(), key=lambda seen: seen[1])
            if processes == 1 and 0 < size < worth:
                frames = f"{size} frame{'s' if size != 1 else ''}"
                add(
                    "short tasks",
                    f"{name}: {count} of its {len(preview.tasks)} tasks render {frames} each "
                    f"on one process, fewer than the {worth} that pay for a {launch}: a "
                    f"ChunkSize of {worth} or more costs less",
                    f"tasks render fewer frames each than the {worth} that pay for a {launch}: "
                    f"a ChunkSize of {worth} or more costs less",
                )
        busiest = max((task.processes for task, _n, _c in shapes), default=0)
        if busiest and busiest * ram_per_process_gb > room:
            add(
                "ram",
                f"{name}: {busiest} process{'es' if busiest != 1 else ''} \u00d7 "
                f"{ram_per_process_gb:g} GB is above the {room:g} GB the worker's "
                f"{worker_ram_gb:g} GB allow (80 %)",
                f"up to {{most}} processes \u00d7 {ram_per_process_gb:g} GB are above the "
                f"{room:g} GB the worker's {worker_ram_gb:g} GB allow (80 %)",
                busiest,
            )
    return _grouped(found)


def _grouped(found: Sequence[_Finding]) -> list[str]:
    """Each item's own line, unless more than GROUP_AFTER items share a kind: then one
    line for them, where the first of them was."""
    by_kind: dict[str, list[_Finding]] = {}
    for finding in found:
        by_kind.setdefault(finding.kind, []).append(finding)
    lines: list[str] = []
    for finding in found:
        same = by_kind[finding.kind]
        if len(same) <= GROUP_AFTER:
            lines.append(finding.line)
        elif finding is same[0]:
            indexes = [f.rq_index for f in same]
            named = ", ".join(str(i) for i in indexes[:GROUP_AFTER])
            rest = f" and {len(indexes) - GROUP_AFTER} more" if len(indexes) > GROUP_AFTER else ""
            shared = finding.shared.replace("{most}", str(max(f.amount for f in same)))
            lines.append(f"{len(same)} items ({named}{rest}): {shared}")
    return lines
