"""Whether a planned job can be submitted at all, decided before the slow work.

The limit a large render queue meets first is CreateJob's: the job template is sent as
one string of at most `MAX_TEMPLATE_CHARS` characters (botocore's Deadline Cloud model,
`JobTemplate` max 1,000,000). Each item is one step of about 0.5 KB (its name, a short
worker command line and its frame chunks; comp names and outputs are in job files), so
about 1,900 items fit in one job. OpenJD itself sets no step
limit (openjd-model 0.13: `StepTemplateList` has min_length 1 only), and a step's task
parameter range is capped at 1024 values, which `chunks.py` already respects.

Checked on the template as it will be written (the same YAML dumper), so the number in
the message is the number CreateJob would see; the advice says how many items per job
fit, measured from this very template.
"""

from __future__ import annotations

from typing import Any

from stmpo.bundle.selection import ItemPlan
from stmpo.bundle.validate import MAX_TEMPLATE_CHARS
from stmpo.errors import Problem
from stmpo.yaml_text import dump_yaml

#: Room left for what the submitter adds later (host requirements on every step).
_HEADROOM = 0.9


def _items_text(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def template_size_problem(
    template: dict[str, Any],
    plans: list[ItemPlan],
    chunk_size: int,
    limit: int = MAX_TEMPLATE_CHARS,
) -> Problem | None:
    """None when the template fits CreateJob, else a problem with advice that can help:
    how many items per job fit, and whether chunking is what makes the steps large."""
    size = len(dump_yaml(template))
    if size <= limit:
        return None
    steps = max(1, len(template.get("steps", ())))
    base = len(dump_yaml({**template, "steps": []}))
    per_step = max(1.0, (size - base) / steps)
    fit = int((limit * _HEADROOM - base) // per_step)
    tasks = sum(len(plan.chunks) for plan in plans)
    head = (
        f"{_items_text(len(plans))} make a job template of {size:,} characters; "
        f"Deadline Cloud accepts at most {limit:,} (CreateJob)"
    )
    chunk_advice = (
        f"use a larger ChunkSize (-p ChunkSize=N; now {chunk_size}, {tasks:,} tasks whose "
        "frame ranges are all in the template)"
        if tasks > len(plans)
        else ""
    )
    if fit < 1:
        advice = chunk_advice or "the items' output paths or comp names are too long"
        return Problem("--items", f"{head}: even one item is too large: {advice}")
    advice = (
        f"submit at most {_items_text(fit)} per job, in batches with --items "
        f"(e.g. --items {','.join(str(p.item.index) for p in plans[: min(fit, 3)])},...)"
    )
    if chunk_advice:
        advice += f", or {chunk_advice}"
    return Problem("--items", f"{head}: {advice}")
