"""The preview plans each task length once and shifts it (preview.TaskList): every task
it gives, the job summary and the plan warnings must be exactly what planning each task
on its own gives, whatever the frames, step, ChunkSize, host and settings."""

from __future__ import annotations

import time

from hypothesis import given, settings
from hypothesis import strategies as st
from stmpo.export.loader import load_export
from stmpo.gui.plan_summary import job_summary, plan_warnings, task_timeline
from stmpo.gui.preview import (
    ItemPreview,
    WorkerShape,
    preview_host,
    preview_item,
    preview_task,
)
from stmpo.gui.settings import DEFAULT_PARAMETERS
from stmpo.locations import examples_dir

EXPORT = load_export(examples_dir() / "several_items.json")
#: A sequence item, and the same item rendering at half the comp's rate (planned per
#: task: at another rate a task's output frames depend on where it starts).
SEQUENCE = EXPORT.render_queue[0]
HALF_RATE = SEQUENCE.model_copy(update={"render_frame_rate": SEQUENCE.comp.frame_rate / 2})


@settings(max_examples=120, deadline=None)
@given(
    start=st.integers(-50, 50),
    length=st.integers(1, 400),
    step=st.integers(1, 4),
    chunk=st.integers(0, 60),
    cpus=st.sampled_from([2, 8, 16, 64, 96]),
    concurrency=st.integers(0, 6),
    half_rate=st.booleans(),
)
def test_every_task_is_planned_as_on_its_own(
    start: int, length: int, step: int, chunk: int, cpus: int, concurrency: int, half_rate: bool
) -> None:
    item = HALF_RATE if half_rate else SEQUENCE
    shape = WorkerShape(logical_cpus=cpus, ram_gb=128.0, numa_nodes=2 if cpus >= 64 else 1)
    values = {**DEFAULT_PARAMETERS, "Concurrency": str(concurrency)}
    frames = (start, start + length - 1, step)
    preview = preview_item(item, frames, values, shape, chunk_size=chunk)
    alone = [
        preview_task(item, t.first, t.last, step, values, preview_host(shape))
        for t in (preview.tasks[i] for i in range(len(preview.tasks)))
    ]
    assert list(preview.tasks) == alone
    assert preview.frames == sum(t.frames for t in alone)
    # The sums and warnings over shapes are the sums and warnings over every task.
    summary = job_summary([preview], 2.5, 1.0, 3.0, startup_s=20.0)
    walls = [task_timeline(t, 2.5, 1.0, 20.0).finish_s for t in alone if t.processes]
    assert summary.tasks == len(alone)
    assert abs(summary.serial_s - sum(walls)) < 1e-6 * max(1.0, sum(walls))
    assert summary.parallel_s == max(walls, default=0.0)
    assert (summary.min_processes, summary.max_processes) == (
        min((t.processes for t in alone if t.processes), default=0),
        max((t.processes for t in alone if t.processes), default=0),
    )
    listed = ItemPreview(
        preview.rq_index,
        preview.comp,
        preview.frames,
        tuple(alone),
        preview.strategy,
        preview.chunk_warning,
    )
    assert plan_warnings([preview], 0.5, 40.0, 128.0, 20.0) == plan_warnings(
        [listed], 0.5, 40.0, 128.0, 20.0
    )
    assert preview.task_lines == listed.task_lines


def test_a_job_of_many_small_tasks_is_previewed_without_planning_each() -> None:
    """200 items of 1,000 frames with ChunkSize 1: 200,000 tasks. Planning each took
    7 s (quiet machine) to 30 s (loaded) per change on the GUI thread; by shape it is
    200 plans. Counted, not timed: the plans made are what the cost is."""
    from stmpo._worker_scripts.stmpo_worker import planning

    made = 0
    real = planning.plan_render

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        nonlocal made
        made += 1
        return real(*args, **kwargs)

    shape = WorkerShape(logical_cpus=32, ram_gb=128.0, numa_nodes=1)
    planning.plan_render = counting
    try:
        started = time.perf_counter()
        previews = [
            preview_item(SEQUENCE, (0, 999, 1), DEFAULT_PARAMETERS, shape, chunk_size=1)
            for _ in range(200)
        ]
        took = time.perf_counter() - started
    finally:
        planning.plan_render = real
    assert sum(len(p.tasks) for p in previews) == 200 * 1000
    assert made == 200  # one plan per item: every task holds 1 frame
    assert job_summary(previews, 2.0, 1.0).tasks == 200_000
    assert previews[7].tasks[999].first == 999  # any task, made when asked for
    print(f"200,000 tasks previewed in {took:.2f} s")
