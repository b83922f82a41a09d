"""Fan-out preview: what STMPO would do on a worker of the shape the artist picks.

It calls the worker's own planning code (shipped in the bundle as `stmpo_worker`), so the
preview cannot drift from what the farm does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from stmpo._worker_scripts.stmpo_worker import planning
from stmpo.export.model import RenderQueueItem


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


def _flag(values: Mapping[str, str], name: str) -> bool:
    return values.get(name, "false").strip().lower() == "true"


def _number(values: Mapping[str, str], name: str, default: float) -> float:
    try:
        return float(values.get(name, default))
    except ValueError:
        return default


def stmpo_settings(values: Mapping[str, str]) -> planning.StmpoSettings:
    return planning.StmpoSettings(
        concurrency=int(_number(values, "Concurrency", 0)),
        max_concurrency=int(_number(values, "MaxConcurrency", 24)),
        ram_per_process_gb=_number(values, "RamPerProcessGB", 32.0),
        disable_mfr=_flag(values, "DisableMFR"),
        disable_affinity=_flag(values, "DisableAffinity"),
    )


def preview_item(
    item: RenderQueueItem,
    frames: tuple[int, int, int],
    values: Mapping[str, str],
    shape: WorkerShape,
) -> ItemPreview:
    host = planning.HostFacts(
        logical_cpus=shape.logical_cpus,
        total_ram_gb=shape.ram_gb,
        numa_pools=planning.even_pools(shape.logical_cpus, shape.numa_nodes),
        os_name="windows",
    )
    start, end, step = frames
    plan = planning.plan_render(
        host, stmpo_settings(values), start, end, step, movie=item.has_movie_output
    )
    return ItemPreview(
        rq_index=item.index,
        comp=item.comp.name,
        frames=len(range(start, end + 1, step)),
        processes=plan.processes,
        ranges=tuple((int(a), int(b)) for a, b in plan.ranges),
        mfr=plan.mfr,
        pinned=plan.cpu_blocks is not None,
        reasons=tuple(plan.reasons),
        children=tuple(planning.child_summaries(plan)),
    )
