"""The orchestrator in-process, with real stand-in children and fake edges (affinity)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker import outputs as out
from stmpo._worker_scripts.stmpo_worker.affinity import AffinityError, LinuxAffinity
from stmpo._worker_scripts.stmpo_worker.orchestrator import Orchestrator, RenderJob
from stmpo._worker_scripts.stmpo_worker.planning import HostFacts, StmpoSettings, plan_render
from stmpo_worker_harness import STANDIN, base_env, make_scene

pytestmark = pytest.mark.slow


class FailingAffinity:
    name = "failing"

    def __init__(self) -> None:
        self.calls = 0

    def pin(self, pid: int, cpus: Sequence[int]) -> None:
        self.calls += 1
        raise AffinityError("EPERM (simulated)")


class RecordingAffinity:
    name = "recording"

    def __init__(self) -> None:
        self.pinned: dict[int, tuple[int, ...]] = {}
        self.observed: dict[int, set[int]] = {}

    def pin(self, pid: int, cpus: Sequence[int]) -> None:
        LinuxAffinity().pin(pid, cpus)
        self.pinned[pid] = tuple(cpus)
        self.observed[pid] = os.sched_getaffinity(pid)


def _job(tmp_path: Path, processes: int, frames: int, cpus: tuple[int, ...]) -> RenderJob:
    scene = make_scene(tmp_path)
    host = HostFacts(len(cpus), 64.0, (cpus,), "linux")
    plan = plan_render(host, StmpoSettings(concurrency=processes), 0, frames - 1, 1, False)
    item = out.Item("MAIN", (out.Output(1, scene.pattern, "sequence"),))
    return RenderJob(
        project=str(scene.project),
        rqindex=1,
        aerender=str(STANDIN),
        item=item,
        output_override=None,
        plan=plan,
        spawn_delay=0.0,
        child_grace=2.0,
        fail_fast=True,
        env=base_env(scene),
    )


def test_an_affinity_failure_is_one_warning_and_the_render_goes_on(tmp_path: Path) -> None:
    job = _job(tmp_path, processes=3, frames=6, cpus=(0, 1, 2, 3))  # the fake pins nothing
    assert job.plan.cpu_blocks is not None
    log = io.StringIO()
    backend = FailingAffinity()
    assert Orchestrator(job, log, backend).run() == 0
    warnings = [line for line in log.getvalue().splitlines() if "affinity failed" in line]
    assert len(warnings) == 1 and "EPERM (simulated)" in warnings[0]
    assert backend.calls == 1  # later children are not even tried


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs the Linux affinity API and two CPUs",
)
def test_children_are_pinned_to_their_blocks(tmp_path: Path) -> None:
    cpus = tuple(sorted(os.sched_getaffinity(0)))
    job = _job(tmp_path, processes=2, frames=4, cpus=cpus)
    job.env["STANDIN_STARTUP_SLEEP_SEC"] = "0.5"  # still alive when its affinity is read
    assert job.plan.cpu_blocks is not None
    backend = RecordingAffinity()
    assert Orchestrator(job, io.StringIO(), backend).run() == 0
    assert sorted(backend.pinned.values()) == sorted(job.plan.cpu_blocks)
    for pid, cpus in backend.pinned.items():
        assert backend.observed[pid] == set(cpus)
