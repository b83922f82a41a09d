"""Which render queue items go into the job, with which frames and chunks.

Pure: the export and the settings in, a plan plus warnings out. Errors name the
argument the user typed (`--items 7`, `--frames 3`), so the CLI and the GUI report
them the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from stmpo.bundle.chunks import (
    MAX_CHUNKS_PER_STEP,
    chunk_bounds,
    effective_chunk_size,
    format_chunk,
)
from stmpo.errors import BundleError, Problem
from stmpo.export.model import FINISHED_STATUSES, MAX_INT, Export, RenderQueueItem
from stmpo.export.model import comp_frame_range as model_comp_frame_range


@dataclass(frozen=True)
class ItemPlan:
    """One step of the job: an item, the frames it renders and how they are split."""

    item: RenderQueueItem
    start: int
    end: int
    step: int
    chunks: tuple[str, ...]
    #: The project's displayStartFrame (0 or 1): how comp and output frames are numbered.
    display_start_frame: int = 0


def item_task_bounds(
    item: RenderQueueItem, start: int, end: int, step: int, chunk_size: int
) -> tuple[list[tuple[int, int]], str | None]:
    """The tasks (first, last) an item's frames are cut into, and why not as asked, if
    so. The bundle and the submitter's preview both cut with this, so the preview plans
    each task the worker will get."""
    count = len(range(start, end + 1, step))
    warning = None
    if item.has_movie_output:
        size = 0
        if chunk_size:
            warning = (
                f"item {item.index}: writes a movie, which cannot be split; it renders as one task"
            )
    elif item.numbered_per_launch:
        size = 0
        if chunk_size:
            warning = (
                f'item {item.index}: an output module has "Use Comp Frame Number" off, '
                "so each aerender launch numbers its files from the Starting # and "
                "chunks would overwrite each other; it renders as one task"
            )
    else:
        size = chunk_size
        if size and effective_chunk_size(count, size) > size:
            warning = (
                f"item {item.index}: {count} frames in chunks of {size} would make more "
                f"than {MAX_CHUNKS_PER_STEP} tasks; using chunks of "
                f"{effective_chunk_size(count, size)}"
            )
    return chunk_bounds(start, end, step, size), warning


def item_chunks(
    item: RenderQueueItem, start: int, end: int, step: int, chunk_size: int
) -> tuple[tuple[str, ...], str | None]:
    """`item_task_bounds` as the tasks' "S-E" texts (the template's Frames values)."""
    bounds, warning = item_task_bounds(item, start, end, step, chunk_size)
    return tuple(format_chunk(first, last) for first, last in bounds), warning


def comp_frame_range(export: Export, item: RenderQueueItem) -> tuple[int, int]:
    """The comp's whole range in displayed frames (how AE numbers the comp's frames)."""
    return model_comp_frame_range(item.comp, export.project.display_start_frame)


def _indexes(indexes: list[int]) -> str:
    return ("item " if len(indexes) == 1 else "items ") + ", ".join(map(str, indexes))


def cli_pick(indexes: list[int]) -> str:
    """How the CLI picks items it would not preselect."""
    return (
        f"pick {'it' if len(indexes) == 1 else 'them'} with --items {','.join(map(str, indexes))}"
    )


def nothing_to_render(export: Export, pick: Callable[[list[int]], str] = cli_pick) -> str:
    """Why no item is preselected, counted by reason, with what fixes each reason: the
    words of `stmpo bundle`/`stmpo submit` and of the submitter's tab (`pick` says how
    each picks an item: `--items 3`, or a tick in the list)."""
    if not export.render_queue:
        return "the render queue is empty: add a comp to it in After Effects and export again"
    groups: dict[str, list[int]] = {}
    for item in export.render_queue:
        if not item.output_modules:
            label = "without an output module"
        elif item.status in FINISHED_STATUSES:
            label = str(item.status)
        elif not item.selectable:
            label = f"status {item.status}"
        elif not item.render:
            label = "unchecked"
        else:
            label = str(item.status)
        groups.setdefault(label, []).append(item.index)
    counted = [f"{len(ix)} {label} ({_indexes(ix)})" for label, ix in groups.items()]
    if len(groups) == 1:
        ((label, indexes),) = groups.items()
        head = f"every item is {label} ({_indexes(indexes)})"
        if len(indexes) == 1:
            head = f"the only item is {label} ({_indexes(indexes)})"
    else:
        head = "no item is checked and QUEUED with an output module: " + ", ".join(counted)
    fixes = []
    finished = [i for label, ix in groups.items() if label in FINISHED_STATUSES for i in ix]
    if finished:
        fixes.append(
            "After Effects renders a finished item only as a copy: duplicate it in the render "
            "queue (the copy is QUEUED), save and export again"
        )
    if "without an output module" in groups:
        fixes.append("add an output module in After Effects and export again")
    pickable = [item.index for item in export.render_queue if item.selectable]
    if pickable:
        fixes.append(pick(pickable))
    return head + ("; " + "; ".join(fixes) if fixes else "")


def select_items(export: Export, items: tuple[int, ...] | None) -> list[RenderQueueItem]:
    if items is None:
        chosen = export.renderable_items
        if not chosen:
            raise BundleError([Problem("--items", nothing_to_render(export))])
        return chosen
    problems: list[Problem] = []
    chosen = []
    known = {item.index: item for item in export.render_queue}
    for index in dict.fromkeys(items):
        item = known.get(index)
        if item is None:
            listed = ", ".join(str(i) for i in sorted(known)) or "none"
            problems.append(
                Problem(f"--items {index}", f"no render queue item {index} (items: {listed})")
            )
        elif not item.selectable:
            problems.append(
                Problem(
                    f"--items {index}",
                    f"item {index} cannot be rendered: {item.not_selectable_reason}",
                )
            )
        else:
            chosen.append(item)
    if not problems and not chosen:
        problems.append(Problem("--items", "no item selected"))
    if problems:
        raise BundleError(problems)
    return chosen


def _check_override(index: int, override: tuple[int, int, int]) -> tuple[int, int, int] | Problem:
    where = f"--frames {index}"
    try:
        start, end, step = override
    except (TypeError, ValueError):
        return Problem(where, "expected (start, end, step)")
    for value in (start, end, step):
        if not isinstance(value, int) or isinstance(value, bool):
            return Problem(where, f"frame numbers must be whole numbers, got {value!r}")
        if abs(value) > MAX_INT:
            return Problem(where, f"{value} is beyond any sane frame number (10^9)")
    if step < 1:
        return Problem(where, f"step must be at least 1, got {step}")
    if end < start:
        return Problem(where, f"end {end} is before start {start}")
    return start, end, step


def plan_items(
    export: Export,
    items: tuple[int, ...] | None,
    frame_overrides: Mapping[int, tuple[int, int, int]],
    chunk_size: int,
) -> tuple[list[ItemPlan], list[str]]:
    """The steps of the job, and warnings the artist should see."""
    chosen = select_items(export, items)
    chosen_indexes = {item.index for item in chosen}
    problems: list[Problem] = []
    overrides: dict[int, tuple[int, int, int]] = {}
    for index, override in frame_overrides.items():
        if index not in chosen_indexes:
            problems.append(
                Problem(f"--frames {index}", f"item {index} is not among the selected items")
            )
            continue
        checked = _check_override(index, override)
        if isinstance(checked, Problem):
            problems.append(checked)
        else:
            overrides[index] = checked
    if problems:
        raise BundleError(problems)

    for item in chosen:
        step = overrides[item.index][2] if item.index in overrides else item.frames.step
        if step > 1 and item.renders_at_other_rate:
            where = f"--frames {item.index}" if item.index in overrides else f"--items {item.index}"
            problems.append(
                Problem(
                    where,
                    f"item {item.index} skips frames (step {step}) and renders at "
                    f"{item.render_frame_rate:g} fps, not the comp's {item.comp.frame_rate:g}: "
                    "which files After Effects writes then is not modelled, so the worker "
                    "could not check them; render every frame, or at the comp's rate",
                )
            )
        if item.index in overrides:
            start, end, _ = overrides[item.index]
            first, last = comp_frame_range(export, item)
            if start < first or end > last:
                problems.append(
                    Problem(
                        f"--frames {item.index}",
                        f"frames {start}-{end} go outside the comp "
                        f"{json.dumps(item.comp.name[:80], ensure_ascii=False)} ({first}-{last}): "
                        f"aerender has no such frames; use {first}-{last} or a part of it",
                    )
                )
    if problems:
        raise BundleError(problems)

    warnings: list[str] = []
    plans: list[ItemPlan] = []
    for item in chosen:
        if item.index in overrides:
            start, end, step = overrides[item.index]
        else:
            start, end, step = item.frames.start, item.frames.end, item.frames.step
        chunks, warning = item_chunks(item, start, end, step, chunk_size)
        if warning:
            warnings.append(warning)
        plans.append(
            ItemPlan(
                item=item,
                start=start,
                end=end,
                step=step,
                chunks=chunks,
                display_start_frame=export.project.display_start_frame,
            )
        )
    return plans, warnings
