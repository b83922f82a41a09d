"""The order a local session runs a job in, decided before anything starts.

Knowing every task up front is what lets the display say "task 3/12"; keeping the order
a pure function of the job makes it testable without a session.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from openjd.model import Job, Step, StepDependencyGraph, StepParameterSpaceIterator


@dataclass(frozen=True)
class StepPlan:
    """One step and its tasks (task parameter sets) in the order they run."""

    step: Step
    tasks: tuple[Mapping[str, Any], ...]

    @property
    def name(self) -> str:
        return str(self.step.name)


@dataclass(frozen=True)
class JobPlan:
    """Job environments to enter, then steps in dependency order."""

    job_environments: tuple[Any, ...]
    steps: tuple[StepPlan, ...]

    @property
    def task_count(self) -> int:
        return sum(len(s.tasks) for s in self.steps)


def plan_job(job: Job) -> JobPlan:
    """Steps topologically sorted by their dependencies, each with every task it defines.

    A chunked (TASK_CHUNKING) parameter runs at its default chunk size: a local run has
    no history to adapt chunk sizes from.
    """
    ordered = StepDependencyGraph(job=job).topo_sorted() if len(job.steps) > 1 else job.steps
    steps = tuple(
        StepPlan(step=step, tasks=tuple(StepParameterSpaceIterator(space=step.parameterSpace)))
        for step in ordered
    )
    return JobPlan(job_environments=tuple(job.jobEnvironments or ()), steps=steps)


def describe_task(parameters: Mapping[str, Any]) -> str:
    """`Frames=1-10, Item=2`: the task's parameters as a user reads them."""
    return ", ".join(
        f"{name}={getattr(value, 'value', value)}" for name, value in parameters.items()
    )
