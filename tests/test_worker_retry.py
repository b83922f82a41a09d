"""Issue 11, the orchestrator on the Scheduler: retries of failed sub-ranges, the task's
final verification, staggered starts, child lifecycle states, frame identity.

The real worker (`stmpo_render.py render`) with the aerender stand-in; the stand-in's
trace (STANDIN_TRACE) says which process wrote which file. RetryFailedRanges has no
command-line flag on this branch yet (section B wires it), so the test that sets it
drives the same `Orchestrator` with real processes through a `RenderJob`.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker import outputs as out
from stmpo._worker_scripts.stmpo_worker.affinity import NoAffinity
from stmpo._worker_scripts.stmpo_worker.childstate import (
    TRANSITIONS,
    ChildState,
    IllegalTransition,
    Lifecycle,
)
from stmpo._worker_scripts.stmpo_worker.frameid import line_frame
from stmpo._worker_scripts.stmpo_worker.orchestrator import Orchestrator, RenderJob
from stmpo._worker_scripts.stmpo_worker.planning import HostFacts, StmpoSettings, plan_render
from stmpo._worker_scripts.stmpo_worker.schedule import Action, Launch, Shorten
from stmpo_worker_harness import (
    STANDIN,
    base_env,
    make_scene,
    protocol_values,
    render_argv,
    run,
    wait_for,
)


def _writes(scene_trace: list[dict[str, object]]) -> Counter[str]:
    return Counter(str(r["path"]) for r in scene_trace)


def _past_new_ends(log: str) -> set[int]:
    """Frames a shortened child may still write before its stop lands: those after the
    new last frame of each `[cN fA-B] shortened to frames A-C` line, up to B (with the
    stand-in's instant frames the stop is always slower than a frame)."""
    found: set[int] = set()
    for match in re.finditer(r"\[c\d+ f(\d+)-(\d+)\] shortened to frames \d+-(\d+)", log):
        end, new_end = int(match[2]), int(match[3])
        found.update(range(new_end + 1, end + 1))
    return found


def test_a_crashed_child_is_retried_and_every_frame_is_written_exactly_once(
    tmp_path: Path,
) -> None:
    """Only the crashed frames are rendered again. The dynamic scheduler may also hand a
    slow child's tail over (under load a late first line looks like a dear frame): then
    the stopping child may write the frames after its new end once more, and nothing
    else is written twice."""
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-9", "--concurrency", "2"),
        base_env(scene, STANDIN_FAIL="crash_once@3"),
    )
    assert result.returncode == 0, result.stdout
    writes = _writes(scene.events("write"))
    assert sorted(writes) == [str(scene.frame_file(f)) for f in range(10)]
    twice = {f for f in range(10) if writes[str(scene.frame_file(f))] > 1}
    assert twice <= _past_new_ends(result.stdout), result.stdout  # never frames 0-4 again
    assert "STMPO: [c3 f3-4] retry 1 of 1: frames 3-4 (c1 exit code 3)" in result.stdout
    [summary] = [line for line in result.stdout.splitlines() if "STMPO summary" in line]
    handovers = int(re.search(r"hand-overs: (\d+)", summary)[1])  # type: ignore[index]
    assert f"10/10 frames, {3 + handovers} launches on 2 processes" in summary
    assert "retries: 1," in summary
    assert protocol_values(result.stdout, "openjd_fail") == []


def test_the_hand_over_allowance_reads_the_worker_s_own_lines() -> None:
    log = (
        "STMPO: [c2 f5-9] shortened to frames 5-7: the rest goes to another process\n"
        "STMPO: [c4 f20-29] shortened to frames 20-28: the rest goes to another process\n"
    )
    assert _past_new_ends(log) == {8, 9, 29}
    assert _past_new_ends("STMPO: [c2 f5-9] done") == set()


def test_a_second_crash_of_the_retried_frames_fails_the_task_naming_them(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-9", "--concurrency", "2"), base_env(scene, STANDIN_FAIL="crash@3")
    )
    assert result.returncode == 1
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert fail == (
        "aerender failed for frames c1 f0-4: exit code 3; then c3 f3-4: exit code 3; "
        "frames 3-4 not rendered after 2 attempt(s) (no retry left)"
    )
    # frames 0-2 were written once and kept, 3 never: the retry started at 3
    assert _writes(scene.events("write")) == Counter(
        {str(scene.frame_file(f)): 1 for f in (0, 1, 2, 5, 6, 7, 8, 9)}
    )


def _job(tmp_path: Path, retries: int, fail: str) -> tuple[RenderJob, Path]:
    scene = make_scene(tmp_path)
    host = HostFacts(2, 64.0, ((0, 1),), "linux")
    plan = plan_render(host, StmpoSettings(concurrency=2, disable_affinity=True), 0, 9, 1, False)
    job = RenderJob(
        project=str(scene.project),
        rqindex=1,
        aerender=str(STANDIN),
        item=out.Item("MAIN", (out.Output(1, scene.pattern, "sequence"),)),
        output_override=None,
        plan=plan,
        spawn_delay=0.0,
        child_grace=2.0,
        fail_fast=True,
        retries=retries,
        env=base_env(scene, STANDIN_FAIL=fail),
    )
    return job, scene.trace


def test_retry_failed_ranges_zero_fails_at_the_first_crash(tmp_path: Path) -> None:
    job, _trace = _job(tmp_path, retries=0, fail="crash_once@3")
    stdout = io.StringIO()
    code = Orchestrator(job, stdout, NoAffinity()).run()
    log = stdout.getvalue()
    assert code == 1
    assert "] retry " not in log
    [fail] = protocol_values(log, "openjd_fail")
    assert fail == (
        "aerender failed for frames c1 f0-4: exit code 3; "
        "frames 3-4 not rendered after 1 attempt(s) (no retry left)"
    )


def test_the_final_check_fails_a_task_whose_frame_vanished_after_its_child_finished(
    tmp_path: Path,
) -> None:
    """c1 renders 0-4 quickly and verifies; its frame 2 then disappears while c2 is still
    rendering: every aerender exited 0, yet the task must fail, naming the file."""
    scene = make_scene(tmp_path)
    # static: a dynamic hand-over of c2's slow tail would be a launch of its own
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--split-strategy", "static")
    env = base_env(scene, STANDIN_FRAME_SEC_AT="5-9:0.3")
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True, encoding="utf-8")
    try:
        wait_for(lambda: any(r["s"] == 0 for r in scene.events("end")))
        time.sleep(0.3)  # c1's own check (right after its exit) passes first
        scene.frame_file(2).unlink()
        stdout, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert "STMPO: [c1 f0-4] done" in stdout  # c1 itself verified
    assert not any(r["s"] != 0 and r["s"] != 5 for r in scene.events("start"))  # no retry
    assert proc.returncode == 1, stdout
    [fail] = protocol_values(stdout, "openjd_fail")
    assert fail == (
        "every process finished but 1 expected output file(s) of the task are missing, "
        f"empty or stale: {scene.frame_file(2)} (missing)"
    )


def test_the_next_process_starts_at_the_first_line_not_after_spawn_delay(tmp_path: Path) -> None:
    """SpawnDelay 60 s: the second process still starts as soon as the first one has
    printed its first line. (Static split: a dynamic hand-over of the stand-in's instant
    frames could add a third launch, which is not what is measured here.)"""
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--split-strategy", "static")
    argv[argv.index("--spawn-delay") + 1] = "60"
    began = time.monotonic()
    result = run(argv, base_env(scene), timeout=30)
    assert result.returncode == 0, result.stdout
    assert time.monotonic() - began < 20
    starts = sorted(r["t"] for r in scene.events("start"))
    assert len(starts) == 2 and starts[1] - starts[0] < 10


def test_the_lifecycle_allows_only_its_table() -> None:
    life = Lifecycle("c1 f0-4")
    for step in (ChildState.STARTING, ChildState.RUNNING, ChildState.STOPPING):
        life.move(step)
    life.move(ChildState.EXITED)
    life.move(ChildState.SUCCEEDED)  # a shortened child whose range verified
    assert life.state.terminal
    with pytest.raises(IllegalTransition, match="c1 f0-4: succeeded -> running"):
        life.move(ChildState.RUNNING)
    fresh = Lifecycle("c2 f5-9")
    with pytest.raises(IllegalTransition):
        fresh.move(ChildState.SUCCEEDED)  # never judged before it exited
    assert all(not TRANSITIONS[s] for s in ChildState if s.terminal)
    assert {s for s in ChildState if not s.terminal} == {s for s in TRANSITIONS if TRANSITIONS[s]}


@pytest.mark.parametrize(
    ("line", "rate", "frame"),
    [
        ("PROGRESS:  0;01;00;02 (3): 0 Seconds", 29.97, 1800),  # drop-frame: 1800, not 1802
        ("PROGRESS:  0:00:01:05 (31): 0 Seconds", 25.0, 30),
        ("PROGRESS:  1030 (31): 0 Seconds", None, 1030),  # frames display style
        ("PROGRESS:  62+09 (31): 0 Seconds", None, None),  # feet + frames: counted instead
        ("PROGRESS:  0:00:01:05 (31): 0 Seconds", None, None),  # rate unknown: counted
    ],
)
def test_a_progress_line_names_its_frame(line: str, rate: float | None, frame: int | None) -> None:
    assert line_frame(line, rate) == frame


class _HandOver:
    """A Scheduler (schedule.py's interface) that launches c1 for all of 0-9 and, once
    c1 has reported frame 2, shortens it to 0-4 and launches c2 for 5-9: the dynamic
    strategy's hand-over, scripted, so this test checks only how the orchestrator
    carries a `Shorten` out."""

    def __init__(self) -> None:
        self.failure = ""
        self.ended_with: dict[int, list[int]] = {}
        self.handed = False

    def begin(self, now: float) -> list[Action]:
        return [Launch(0, 0, 9)]

    def started(self, child: int, now: float) -> list[Action]:
        return []

    def frame_done(self, child: int, frame: int, now: float) -> list[Action]:
        if child == 0 and frame == 2 and not self.handed:
            self.handed = True
            return [Shorten(0, 4), Launch(1, 5, 9)]
        return []

    def ended(
        self, child: int, now: float, rendered: Iterable[int], retryable: bool = True
    ) -> list[Action]:
        self.ended_with[child] = list(rendered)
        return []

    def tick(self, now: float) -> list[Action]:
        return []

    def wakeup(self) -> float | None:
        return None

    def observed_timings(self) -> tuple[float, float] | None:
        return None  # nothing measured: the last status line ends as before

    @property
    def finished(self) -> bool:
        return len(self.ended_with) == 2


def test_a_shortened_child_stops_after_its_new_last_frame_and_succeeds(tmp_path: Path) -> None:
    job, trace = _job(tmp_path, retries=1, fail="")
    job.env["STANDIN_FRAME_SEC"] = "0.15"
    stdout = io.StringIO()
    orchestrator = Orchestrator(job, stdout, NoAffinity())
    fake = _HandOver()
    orchestrator.scheduler = fake  # type: ignore[assignment]
    code = orchestrator.run()
    log = stdout.getvalue()
    assert code == 0, log
    assert "STMPO: [c1 f0-9] shortened to frames 0-4: the rest goes to another process" in log
    assert "STMPO: [c1 f0-9] done (shortened)" in log
    assert fake.ended_with == {0: [0, 1, 2, 3, 4], 1: [5, 6, 7, 8, 9]}
    writes = Counter(
        str(r["path"])
        for r in map(json.loads, trace.read_text().splitlines())
        if r["event"] == "write"
    )
    assert set(writes.values()) == {1} and len(writes) == 10  # no frame written twice
    assert "hand-overs: 1" in log


class _SlowStop(_HandOver):
    """The hand-over above, but the shortened c1 ignores SIGTERM and then spends 4 s on
    frame 5 (the frame after its new last one) before writing it, long after c2
    reported that frame: a stop slower than a frame. c2 is launched without that
    cost (the test changes the environment for launches made after the hand-over)."""

    def __init__(self, env: dict[str, str]) -> None:
        super().__init__()
        self.env = env

    def frame_done(self, child: int, frame: int, now: float) -> list[Action]:
        if child == 0 and frame == 2 and not self.handed:
            self.env.pop("STANDIN_FRAME_SEC_AT")
            self.env.pop("STANDIN_FAIL")
        return super().frame_done(child, frame, now)

    def ended(
        self, child: int, now: float, rendered: Iterable[int], retryable: bool = True
    ) -> list[Action]:
        super().ended(child, now, rendered, retryable)
        if child == 1 and 5 not in self.ended_with[1]:
            return [Launch(2, 5, 5, 1)]
        return []

    @property
    def finished(self) -> bool:
        return len(self.ended_with) == 3 or (
            len(self.ended_with) == 2 and 5 in self.ended_with.get(1, [])
        )


def test_a_frame_a_slow_stop_wrote_again_after_the_hand_over_is_rendered_again(
    tmp_path: Path,
) -> None:
    job, _trace = _job(tmp_path, retries=1, fail="ignore_term")
    job.env["STANDIN_FRAME_SEC"] = "0.1"
    job.env["STANDIN_FRAME_SEC_AT"] = "5:4"
    job.child_grace = 15.0
    stdout = io.StringIO()
    orchestrator = Orchestrator(job, stdout, NoAffinity())
    fake = _SlowStop(job.env)
    orchestrator.scheduler = fake  # type: ignore[assignment]
    code = orchestrator.run()
    log = stdout.getvalue()
    assert code == 0, log
    assert (
        "STMPO: [c2 f5-9] frame 5 was written again by the stopping [c1 f0-9] after it "
        "was reported: rendering it again"
    ) in log
    assert fake.ended_with[1] == [6, 7, 8, 9]  # c2's frame 5 no longer counts
    assert "STMPO: [c3 f5-5] retry 1 of 1: frames 5-5 (c2: frame 5 overwritten" in log
    assert fake.ended_with[2] == [5]


def test_a_dynamic_hand_over_balances_a_heavy_tail_with_real_processes(tmp_path: Path) -> None:
    """2 processes, 24 frames, the last quarter ten times dearer: c1 finishes 0-11 while c2
    is still in the slow frames, so the Scheduler cuts c2's range and a new launch takes
    its tail. Every frame is written exactly once (the stand-in's trace), the shortened
    child succeeds, and the summary counts the hand-over; the static split renders the
    same frames with no hand-over."""
    slow = "STANDIN_FRAME_SEC_AT"
    for strategy, handovers in (("dynamic", True), ("static", False)):
        scene = make_scene(tmp_path / strategy)
        env = base_env(scene, STANDIN_FRAME_SEC="0.02", **{slow: "18-23:0.4"})
        argv = render_argv(
            scene, "0-23", "--concurrency", "2", "--split-strategy", strategy, "--spawn-delay", "0"
        )
        result = run(argv, env)
        assert result.returncode == 0, result.stdout
        writes = _writes(scene.events("write"))
        assert sorted(writes) == sorted(str(scene.frame_file(f)) for f in range(24))
        assert set(writes.values()) == {1}, result.stdout
        summary = next(line for line in result.stdout.splitlines() if "STMPO summary" in line)
        if handovers:
            assert "shortened to frames" in result.stdout
            assert "hand-overs: 0" not in summary and "hand-overs:" in summary
            assert "(shortened)" in result.stdout  # the cut child succeeded on its new range
        else:
            assert "shortened to frames" not in result.stdout
