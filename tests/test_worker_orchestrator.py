"""The orchestrator in-process, with real stand-in children and fake edges (affinity)."""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker import outputs as out
from stmpo._worker_scripts.stmpo_worker.affinity import (
    LinuxAffinity,
    NoAffinity,
    Spawn,
    Started,
)
from stmpo._worker_scripts.stmpo_worker.orchestrator import Orchestrator, RenderJob
from stmpo._worker_scripts.stmpo_worker.planning import HostFacts, StmpoSettings, plan_render
from stmpo_worker_harness import STANDIN, base_env, cleanup, make_scene, survivors, wait_for

pytestmark = pytest.mark.slow


class FailingAffinity:
    """Every start reports a pinning failure; the child itself starts unpinned."""

    name = "failing"

    def __init__(self) -> None:
        self.asked: list[tuple[int, ...] | None] = []

    def start(self, spawn: Spawn, cpus: Sequence[int] | None) -> Started:
        self.asked.append(tuple(cpus) if cpus else None)
        return Started(spawn(False), "EPERM (simulated)" if cpus else "")


def _job(
    tmp_path: Path, processes: int, frames: int, cpus: tuple[int, ...], os_name: str = "linux"
) -> RenderJob:
    scene = make_scene(tmp_path)
    host = HostFacts(len(cpus), 64.0, (cpus,), os_name)
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
    # Later children are started without a block: pinning is not tried again.
    assert backend.asked == [job.plan.cpu_blocks[0], None, None]
    starts = [line for line in log.getvalue().splitlines() if "STMPO: starting" in line]
    assert ["CPUs" in line for line in starts] == [True, False, False]


def test_macos_says_once_that_it_cannot_pin_and_renders(tmp_path: Path) -> None:
    job = _job(tmp_path, processes=2, frames=4, cpus=(0, 1), os_name="macos")
    assert job.plan.cpu_blocks is None
    log = io.StringIO()
    assert Orchestrator(job, log, NoAffinity()).run() == 0
    lines = log.getvalue().splitlines()
    assert [line for line in lines if "affinity" in line.lower()] == [
        "STMPO: macOS has no CPU affinity API: processes are not pinned."
    ]
    assert not [line for line in lines if "warning" in line]


def _cpus_allowed(pid: int) -> set[int]:
    """The kernel's own view of a process's affinity, as `taskset -p` shows it."""
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("Cpus_allowed_list:"):
                text = line.split(":", 1)[1].strip()
                return {
                    cpu
                    for part in text.split(",")
                    for cpu in range(int(part.split("-")[0]), int(part.split("-")[-1]) + 1)
                }
    raise AssertionError(f"no Cpus_allowed_list for {pid}")


@pytest.mark.skipif(
    not hasattr(os, "sched_setaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs the Linux affinity API and two CPUs",
)
def test_children_and_their_grandchildren_are_pinned_to_their_blocks(tmp_path: Path) -> None:
    """The whole tree, as the kernel sees it: each stand-in and the grandchild it forks
    first thing (AfterFX's stand-in). That the block is in place before the fork, not
    applied after it, is test_linux_child_is_pinned_from_birth_... in
    test_worker_affinity.py (a pin after spawn usually wins this race, so a whole
    render cannot show it)."""
    cpus = tuple(sorted(os.sched_getaffinity(0)))[:2]
    job = _job(tmp_path, processes=2, frames=4, cpus=cpus)
    job.env["STANDIN_FAIL"] = "spawn_child"
    job.env["STANDIN_STARTUP_SLEEP_SEC"] = "3"  # all alive while their affinity is read
    blocks = job.plan.cpu_blocks
    assert blocks is not None and sorted(blocks) == [(cpus[0],), (cpus[1],)]
    scene_trace = Path(job.env["STANDIN_TRACE"])
    codes: list[int] = []
    runner = threading.Thread(
        target=lambda: codes.append(Orchestrator(job, io.StringIO(), LinuxAffinity()).run())
    )
    runner.start()
    try:
        wait_for(lambda: _trace(scene_trace, "grandchild", 2), timeout=30)
        block_of = {
            start: set(block) for (start, _e), block in zip(job.plan.ranges, blocks, strict=True)
        }
        starts = {e["pid"]: block_of[int(e["s"])] for e in _trace(scene_trace, "start", 2)}
        observed = {pid: _cpus_allowed(pid) for pid in starts}
        for e in _trace(scene_trace, "grandchild", 2):
            observed[e["child_pid"]] = _cpus_allowed(e["child_pid"])
            starts[e["child_pid"]] = starts[e["pid"]]
    finally:
        runner.join(60)
    assert codes == [0]
    assert len(observed) == 4 and observed == starts


def _trace(path: Path, kind: str, count: int) -> list[dict[str, object]]:
    """The trace's `kind` events once there are `count` of them, else []."""
    if not path.exists():
        return []
    events = [json.loads(line) for line in path.read_text("utf-8").splitlines()]
    found = [e for e in events if e["event"] == kind]
    return found if len(found) >= count else []


class BreaksOn(io.StringIO):
    """A stdout that fails like a closed pipe once a line containing `text` is written."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def write(self, line: str) -> int:
        if self.text in line:
            raise BrokenPipeError(32, "Broken pipe")
        return super().write(line)


def _started_pids(trace: Path) -> list[int]:
    """Every stand-in and grandchild the trace names."""
    if not trace.exists():
        return []
    events = [json.loads(line) for line in trace.read_text("utf-8").splitlines()]
    return [e["pid"] for e in events if e["event"] == "start"] + [
        e["child_pid"] for e in events if e["event"] == "grandchild"
    ]


def test_an_unexpected_error_still_ends_every_process_tree(tmp_path: Path) -> None:
    """The orchestrator's own failure (here its stdout breaks while c1 hangs with a
    grandchild) propagates, but only after every child tree has been ended."""
    job = _job(tmp_path, processes=2, frames=10, cpus=(0, 1))
    trace = Path(job.env["STANDIN_TRACE"])
    job.env["STANDIN_FAIL"] = "spawn_child,hang@3"
    try:
        with pytest.raises(BrokenPipeError):
            Orchestrator(job, BreaksOn("hanging at frame 3"), NoAffinity()).run()
        pids = _started_pids(trace)
        assert len(pids) >= 2  # c1 and its grandchild at least
        assert survivors(pids) == []
    finally:
        cleanup(_started_pids(trace))
