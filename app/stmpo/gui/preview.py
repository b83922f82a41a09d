"""Fan-out preview: what STMPO would do on a worker of the shape the artist picks.

It calls the worker's own planning code (shipped in the bundle as `stmpo_worker`), so the
preview cannot drift from what the farm does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stmpo._worker_scripts.stmpo_worker import planning
from stmpo._worker_scripts.stmpo_worker.frametime import Timebase
from stmpo.export.model import RenderQueueItem
from stmpo.gui.settings import parameter_flag, parameter_number


@dataclass(frozen=True)
class WorkerShape:
    logical_cpus: int
    ram_gb: float
    numa_nodes: int


@dataclass(frozen=True)
class ItemPreview:
    rq_index: int
    comp: str
    frames: int
    processes: int
    ranges: tuple[tuple[int, int], ...]
    mfr: bool
    pinned: bool
    reasons: tuple[str, ...]
    children: tuple[str, ...]

    @property
    def summary(self) -> str:
        per = max(1, self.frames // max(1, self.processes))
        mfr = "MFR on" if self.mfr else "MFR off"
        pin = ", pinned" if self.pinned else ""
        return (
            f"Item {self.rq_index} \u201c{self.comp}\u201d: {self.frames} frames \u2192 "
            f"{self.processes} process{'es' if self.processes != 1 else ''} "
            f"(~{per} frames each), {mfr}{pin}"
        )


def stmpo_settings(values: Mapping[str, str]) -> planning.StmpoSettings:
    return planning.StmpoSettings(
        concurrency=int(parameter_number(values, "Concurrency")),
        max_concurrency=int(parameter_number(values, "MaxConcurrency")),
        ram_per_process_gb=parameter_number(values, "RamPerProcessGB"),
        disable_mfr=parameter_flag(values, "DisableMFR"),
        disable_affinity=parameter_flag(values, "DisableAffinity"),
    )


def preview_item(
    item: RenderQueueItem,
    frames: tuple[int, int, int],
    values: Mapping[str, str],
    shape: WorkerShape,
    display_start_frame: int = 0,
) -> ItemPreview:
    """The worker's plan for `item` on `shape`; at another render rate than the comp's
    in output frames, as the worker counts and checks them (frametime.py)."""
    host = planning.HostFacts(
        logical_cpus=shape.logical_cpus,
        total_ram_gb=shape.ram_gb,
        numa_pools=planning.even_pools(shape.logical_cpus, shape.numa_nodes),
        os_name="windows",
    )
    start, end, step = frames
    timebase = None
    if item.render_frame_rate is not None and step == 1:
        timebase = Timebase.of(
            item.comp.frame_rate,
            item.render_frame_rate,
            item.comp.display_start_time or 0.0,
            display_start_frame,
        )
        if timebase.same or not len(timebase.render_range(start, end)):
            timebase = None
    plan = planning.plan_render(
        host,
        stmpo_settings(values),
        start,
        end,
        step,
        movie=item.has_movie_output,
        renumbered=item.numbered_per_launch,
        timebase=timebase,
    )
    return ItemPreview(
        rq_index=item.index,
        comp=item.comp.name,
        frames=plan.frame_count,
        processes=plan.processes,
        ranges=tuple((int(a), int(b)) for a, b in plan.ranges),
        mfr=plan.mfr,
        pinned=plan.cpu_blocks is not None,
        reasons=tuple(plan.reasons),
        children=tuple(planning.child_summaries(plan)),
    )
