"""The balanced scheduler (issue 11, "Scheduling"): the `dynamic` strategy on the virtual
clock of bench/bench_schedule.py, which checks on every run that each frame is rendered
exactly once, never by two children at overlapping times, and that every launch stays
inside the task's runs; and the bench itself through its command line."""

from __future__ import annotations

import importlib.util
import itertools
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench" / "bench_schedule.py"


def _load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_schedule", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_schedule"] = module
    spec.loader.exec_module(module)
    return module


bench = _load_bench()
sched = sys.modules["stmpo_worker.schedule"]  # the very module the bench drives
Launch, Shorten, Policy, Scheduler = sched.Launch, sched.Shorten, sched.Policy, sched.Scheduler


class Recorder:
    """Wraps a Scheduler to keep every action with the time it was answered at."""

    def __init__(self) -> None:
        self.actions: list[tuple[float, object]] = []
        self.original = {
            name: getattr(Scheduler, name)
            for name in ("begin", "started", "frame_done", "ended", "tick")
        }

    def __enter__(self) -> Recorder:
        recorder = self

        def wrap(name: str):  # type: ignore[no-untyped-def]
            method = self.original[name]

            def recorded(self_, *args, **kwargs):  # type: ignore[no-untyped-def]
                actions = method(self_, *args, **kwargs)
                at = {"begin": 0, "tick": 0, "started": 1, "frame_done": 2, "ended": 1}[name]
                now = args[at]
                recorder.actions.extend((now, a) for a in actions)
                return actions

            return recorded

        for name in self.original:
            setattr(Scheduler, name, wrap(name))
        return self

    def __exit__(self, *exc: object) -> None:
        for name, method in self.original.items():
            setattr(Scheduler, name, method)

    def of(self, kind: type) -> list[tuple[float, object]]:
        return [(t, a) for t, a in self.actions if isinstance(a, kind)]


# -- coverage: every frame once, no overlap, both strategies --------------------------


@settings(max_examples=60, deadline=None)
@given(
    costs=st.lists(st.floats(min_value=0.1, max_value=60.0), min_size=1, max_size=60),
    hot=st.tuples(st.integers(0, 59), st.integers(1, 20), st.floats(1.0, 30.0)),
    slots=st.integers(1, 8),
    startup=st.floats(min_value=0.0, max_value=30.0),
    first_line=st.floats(min_value=0.0, max_value=3.0),
    step=st.integers(1, 3),
    gap=st.integers(0, 59),
    strategy=st.sampled_from(["dynamic", "static"]),
)
def test_every_frame_once_and_never_two_children_on_one_frame(
    costs: list[float],
    hot: tuple[int, int, float],
    slots: int,
    startup: float,
    first_line: float,
    step: int,
    gap: int,
    strategy: str,
) -> None:
    at, width, factor = hot  # neighbouring frames cost alike: what the scheduler learns from
    costs = [c * factor if at <= i < at + width else c for i, c in enumerate(costs)]
    frames = [10 + i * step for i in range(len(costs))]
    # A resumed task: the frame at `gap` was rendered before, so there are two runs.
    runs = [(frames[0], frames[-1])]
    if 0 < gap < len(frames) - 1:
        runs = [(frames[0], frames[gap - 1]), (frames[gap + 1], frames[-1])]
        costs = costs[:]  # the skipped frame's cost is simply never used
    policy = Policy(strategy=strategy, slots=slots, startup_estimate=max(startup, 0.1))
    bench.simulate(costs, policy, startup, first_line, runs=runs, step=step, first_frame=10)


@pytest.mark.parametrize("name", [w for w in bench.WORKLOADS if w != "uniform"])
def test_dynamic_hands_over_without_racing_on_uneven_workloads(name: str) -> None:
    costs = bench.workload(name, 8 * 30)
    with Recorder() as seen:
        result = bench.simulate(costs, Policy(strategy="dynamic", slots=8), startup=15.0)
    static = bench.simulate(costs, Policy(strategy="static", slots=8), startup=15.0)
    assert result.makespan < static.makespan
    assert seen.of(Shorten), "uneven work was not redistributed"


# -- the targets, on a reduced grid ---------------------------------------------------


#: Where a target is out of reach, the level reached (docs/performance.md): lognormal
#: sigma 0.8 at 16 processes, startup 15 s, is 1.11 (an ideal frame queue: 1.07-1.08).
REACHED = {"lognormal": 1.12}


def test_dynamic_meets_the_targets_at_16_processes() -> None:
    for name in bench.WORKLOADS:
        ratio, result = bench.cell(name, 16, 15.0, "dynamic")
        assert ratio <= REACHED.get(name, bench.TARGETS[name]), (name, ratio)
        static_ratio, static = bench.cell(name, 16, 15.0, "static")
        if name == "uniform":  # even work: no launch that costs time
            assert result.makespan <= static.makespan + 0.01
        else:
            assert ratio < static_ratio - 0.2, (name, ratio, static_ratio)


def test_bench_command_line_checks_the_targets() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--slots",
            "16",
            "--startup",
            "15",
            "--check",
            "--workloads",
            "uniform",
            "ramp",
            "heavy",
            "hot",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = {
        tuple(cell.strip() for cell in line.strip("|").split("|")[:2]): line
        for line in run.stdout.splitlines()
        if line.startswith("| ")
    }
    assert ("hot", "dynamic") in rows and ("hot", "static") in rows
    hot_dynamic = float(rows[("hot", "dynamic")].strip("| \n").split("|")[2])
    hot_static = float(rows[("hot", "static")].strip("| \n").split("|")[2])
    assert hot_dynamic <= 1.25 < 5.0 < hot_static


def test_bench_check_fails_when_a_target_is_missed() -> None:
    # lognormal at 128 processes: not even an ideal frame queue makes 1.10 (see docs)
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--slots",
            "128",
            "--startup",
            "30",
            "--workloads",
            "lognormal",
            "--strategies",
            "dynamic",
            "--check",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert run.returncode == 1
    assert "targets missed: lognormal 128 processes startup 30" in run.stdout


# -- hand-overs, driven event by event -------------------------------------------------


def _slow_and_fast(startup: float, retries: int = 1):  # type: ignore[no-untyped-def]
    """Two slots, frames 0-19, launches taking `startup` s: child 0 (0-9) renders at
    10 s a frame, child 1 (10-19) at 1 s. Child 1 ends and frees its slot while child 0
    is rendering frame 2: returns the scheduler and the actions of that moment."""
    s = Scheduler([(0, 19)], 1, Policy(strategy="dynamic", slots=2, retries=retries))
    actions = list(s.begin(0.0))
    actions += s.started(0, 0.1)
    assert [a for a in actions if isinstance(a, Launch)] == [Launch(0, 0, 9), Launch(1, 10, 19)]
    for i, frame in enumerate(range(10, 20)):
        assert s.frame_done(1, frame, 0.1 + startup + 1.0 + i) == []
    s.frame_done(0, 0, startup + 10.0)
    s.frame_done(0, 1, startup + 20.0)
    return s, s.ended(1, startup + 21.0, list(range(10, 20)))


@pytest.mark.parametrize("startup", [1.0, 25.0])
def test_a_freed_slot_takes_the_tail_of_the_slowest_child(startup: float) -> None:
    s, handed = _slow_and_fast(startup)
    assert abs(s.startup - startup) < 0.5  # learnt from the first frames
    shorten = [a for a in handed if isinstance(a, Shorten)]
    launch = [a for a in handed if isinstance(a, Launch)]
    assert len(shorten) == 1 and len(launch) == 1
    keep = shorten[0].last
    assert launch[0] == Launch(2, keep + 1, 9, 0)
    assert s.range_of(0) == (0, keep)
    # it keeps the frame in progress (2) and, as a margin, every frame it should finish
    # within the new child's startup: it never reaches a frame handed over
    kept_seconds = 9.0 + 10.0 * (keep - 2)
    assert keep >= 2 and kept_seconds >= startup
    # and the hand-over pays: both finish sooner than child 0 alone (8 frames, 79 s)
    assert max(kept_seconds, startup + 10.0 * (9 - keep)) < 79.0


def test_the_simulator_catches_a_hand_over_of_a_reported_frame() -> None:
    class Careless(Scheduler):  # type: ignore[misc, valid-type]
        def frame_done(self, child: int, frame: int, now: float) -> list[object]:
            super().frame_done(child, frame, now)
            state = self.children[child]
            if child == 0 and frame == 1 and state.last > 1:
                self.pending.append((frame, state.last, 0))  # frame 1 is done already
                state.last = frame - 1
                return [Shorten(child, frame - 1)]
            return []

    original = bench.Scheduler
    bench.Scheduler = Careless
    try:
        with pytest.raises(AssertionError, match="handed over a done frame"):
            bench.simulate([1.0] * 10, Policy(strategy="static", slots=2), 1.0)
    finally:
        bench.Scheduler = original


def test_a_crashed_child_after_a_hand_over_retries_only_its_own_unfinished_frames() -> None:
    s, handed = _slow_and_fast(5.0)
    keep = s.range_of(0)[1]
    tail = next(a for a in handed if isinstance(a, Launch))
    assert keep >= 3
    retry = s.ended(0, 36.0, [0, 1, 2], retryable=True)
    assert [a for a in retry if isinstance(a, Launch)] == [Launch(3, 3, keep, 1)]
    assert tail.first == keep + 1  # the handed-over frames stay with the tail
    # the retry crashes too: no retry left, the failure names the frames
    s.frame_done(3, 3, 50.0)
    assert s.ended(3, 51.0, [3], retryable=True) == []
    assert s.failure == f"frames 4-{keep} not rendered after 2 attempt(s) (no retry left)"
    assert s.tick(100.0) == []


def test_a_child_that_cannot_be_retried_fails_the_task_at_once() -> None:
    s, handed = _slow_and_fast(5.0, retries=3)
    keep = s.range_of(0)[1]
    assert any(isinstance(a, Shorten) for a in handed) and keep < 9
    assert s.ended(0, 36.0, [0, 1], retryable=False) == []
    assert s.failure == f"frames 2-{keep} not rendered after 1 attempt(s) (not retryable)"
    assert s.tick(100.0) == []


@pytest.mark.parametrize("first_line", [0.5, 5.0])
def test_hand_overs_are_staggered_like_first_launches(first_line: float) -> None:
    costs = bench.workload("hot", 8 * 30)
    with Recorder() as seen:
        bench.simulate(
            costs, Policy(strategy="dynamic", slots=8, spawn_delay=2.0), 15.0, first_line=first_line
        )
    launches = sorted(t for t, _ in seen.of(Launch))
    assert len(launches) > 8  # hand-overs were made
    gaps = [round(b - a, 6) for a, b in itertools.pairwise(launches)]
    # the next launch comes on the previous child's first line or after SpawnDelay
    # (2 s), whichever is first: never sooner, and the first launches exactly so
    assert min(gaps) >= min(first_line, 2.0)
    assert gaps[:7] == [min(first_line, 2.0)] * 7


def test_a_resumed_task_is_redistributed_within_its_runs() -> None:
    costs = bench.workload("heavy", 4 * 30)
    runs = [(0, 49), (60, 119)]  # 50-59 rendered by an earlier attempt
    with Recorder() as seen:
        bench.simulate(costs, Policy(strategy="dynamic", slots=4), 10.0, runs=runs)
    assert seen.of(Shorten)
    for _, launch in seen.of(Launch):
        assert any(a <= launch.first <= launch.last <= b for a, b in runs), launch


def test_frame_costs_follow_neighbours_on_a_ramp_and_the_mean_on_noise() -> None:
    ramp = sched.FrameCosts(3, 10.0)
    for frame in range(0, 100, 2):
        ramp.add(frame, 5.0 + frame)
    assert abs(ramp.estimate(51) - 56.0) < 3.0
    noise = sched.FrameCosts(3, 10.0)
    values = [1.0, 40.0] * 25
    for frame, seconds in zip(range(0, 100, 2), values, strict=True):
        noise.add(frame, seconds)
    # neighbours alternate 1/40: they predict worse than the mean, which wins the blend
    assert abs(noise.estimate(51) - noise.mean) < abs(noise.estimate(51) - 40.0)


def test_a_billion_frame_task_is_scheduled_without_listing_its_frames() -> None:
    """A task may name 10^9 frames (the export's bound): ending a launch that rendered
    none, and cutting a running launch's remaining range when a slot frees, take time
    in the frames rendered, not in the range (both listed every frame before: minutes
    and gigabytes)."""
    import time as _time

    from stmpo._worker_scripts.stmpo_worker.schedule import Launch, Policy, Scheduler, Shorten

    began = _time.perf_counter()
    scheduler = Scheduler(
        [(0, 2 * 10**9)], 1, Policy(strategy="dynamic", slots=2, startup_estimate=5.0)
    )
    launches = [a for a in scheduler.begin(0.0) if isinstance(a, Launch)]
    launches += [a for a in scheduler.started(0, 0.1) if isinstance(a, Launch)]
    assert [a.child for a in launches] == [0, 1]
    for child in (0, 1):
        scheduler.started(child, 0.2)
        for n in range(3):
            scheduler.frame_done(child, launches[child].first + n, 10.0 + n)
    # c1 crashes having rendered 3 frames: its other ~10^9 are retried as one run
    actions = scheduler.ended(1, 20.0, range(launches[1].first, launches[1].first + 3))
    [retry] = [a for a in actions if isinstance(a, Launch)]
    assert (retry.first, retry.last, retry.attempt) == (
        launches[1].first + 3,
        launches[1].last,
        1,
    )
    # the retry finishes its run: the freed slot takes over the tail of c0's ~10^9 frames
    scheduler.started(retry.child, 21.0)
    actions = scheduler.ended(retry.child, 30.0, range(retry.first, retry.last + 1))
    assert any(isinstance(a, Shorten) and a.child == 0 for a in actions), actions
    assert any(isinstance(a, Launch) and a.last == launches[0].last for a in actions), actions
    assert _time.perf_counter() - began < 2.0


# -- a slow launch is not a dear frame -------------------------------------------------


def test_a_late_first_line_is_not_booked_as_the_cost_of_a_first_frame() -> None:
    """CI's reproduction: every gap measured is 0.01 s and a startup about 0.05 s, but
    child 1 printed its first line 0.45 s late. Its first frame was booked as costing
    that delay: its neighbours looked dear and a free slot took its tail for a launch
    that costs a startup, for nothing."""
    policy = Policy(strategy="dynamic", slots=2, spawn_delay=2.0, retries=1, startup_estimate=30.0)
    s = Scheduler([(0, 9)], 1, policy)
    assert s.begin(0.0) == [Launch(0, 0, 4)]
    assert s.started(0, 0.05) == [Launch(1, 5, 9)]
    for frame, at in ((0, 0.06), (1, 0.07), (2, 0.08)):
        assert s.frame_done(0, frame, at) == []
    assert s.ended(0, 0.09, [0, 1, 2], True) == []  # the retry waits for c1's first line
    assert s.started(1, 0.5) == [Launch(2, 3, 4, attempt=1)]
    s.started(2, 0.55)
    s.frame_done(2, 3, 0.56)
    s.frame_done(2, 4, 0.57)
    assert s.ended(2, 0.58, [3, 4], True) == []
    assert s.frame_done(1, 5, 0.51) == []  # was [Shorten(1, 7), Launch(3, 8, 9)]
    assert [round(s.costs.estimate(f), 3) for f in range(5, 10)] == [0.01] * 5


def test_a_launch_slow_to_load_has_its_first_frame_settled_by_its_second_gap() -> None:
    """The delay may also come after the first line (a slow licence check, a project on
    a slow share): child 1 prints its line at once but loads 6 s longer than child 0.
    Its first frame is provisional until its second gap: then its frames cost what
    they cost (1 s), and the slot child 0 frees does not take child 1's tail (the old
    estimate kept frame 5 at 7 s and launched frame 9 anew)."""
    s = Scheduler([(0, 9)], 1, Policy(strategy="dynamic", slots=2, startup_estimate=30.0))
    assert s.begin(0.0) + s.started(0, 0.1) == [Launch(0, 0, 4), Launch(1, 5, 9)]
    for frame in range(5):  # child 0: 1 s startup, 1 s a frame
        assert s.frame_done(0, frame, 2.0 + frame) == []
    s.started(1, 0.2)
    assert s.frame_done(1, 5, 8.1) == []
    assert s.frame_done(1, 6, 9.1) == []
    assert s.costs.estimate(5) == pytest.approx(1.0)
    assert s.ended(0, 9.2, range(5)) == []
    assert [s.costs.estimate(f) for f in (7, 8, 9)] == pytest.approx([1.0, 1.0, 1.0])
    assert s.startup == pytest.approx(4.0)  # (1 + 7) / 2: the startup itself is kept


def test_a_single_frame_launch_keeps_its_first_frame_measure() -> None:
    """A launch that renders one frame has no second gap: its first frame (from its
    first line, less the usual time from line to frame) is all that tells its cost."""
    s = Scheduler([(0, 4)], 1, Policy(strategy="dynamic", slots=2, startup_estimate=30.0))
    assert s.begin(0.0) + s.started(0, 0.1) == [Launch(0, 0, 2), Launch(1, 3, 4)]
    for frame in range(3):
        s.frame_done(0, frame, 2.0 + frame)  # line at 0.1, frames at 2, 3, 4: 0.9 s to go
    s.started(1, 3.0)  # a late first line
    s.frame_done(1, 3, 3.0 + 0.9 + 20.0)  # a dear frame after the usual 0.9 s
    assert s.costs.estimate(3) == pytest.approx(20.0)


@settings(max_examples=30, deadline=None)
@given(
    costs=st.lists(st.floats(min_value=0.1, max_value=60.0), min_size=1, max_size=60),
    slots=st.integers(1, 8),
    startup=st.floats(min_value=0.0, max_value=30.0),
    first_line=st.floats(min_value=0.0, max_value=3.0),
    jitter=st.floats(min_value=0.0, max_value=1.5),
    seed=st.integers(0, 1000),
)
def test_every_frame_once_when_each_launch_has_its_own_startup(
    costs: list[float],
    slots: int,
    startup: float,
    first_line: float,
    jitter: float,
    seed: int,
) -> None:
    """The bench's invariants (each frame once, never two children on one frame, every
    launch inside the runs) hold when launches load at different speeds, including a
    first frame that comes before the first line (startup < first line)."""
    policy = Policy(strategy="dynamic", slots=slots, startup_estimate=max(startup, 0.1))
    bench.simulate(costs, policy, startup, first_line, jitter=jitter, jitter_seed=seed)


def test_bench_startup_jitter_spreads_startups_and_counts_hand_overs() -> None:
    """`--startup-jitter` through the bench's command line: each launch draws its own
    startup (so the makespan moves off the even-startup run), `--handovers` shows the
    hand-overs after each ratio, and a run without it prints what it always printed."""

    def run(*extra: str) -> str:
        done = subprocess.run(
            [
                sys.executable,
                str(BENCH),
                "--slots",
                "16",
                "--startup",
                "30",
                "--workloads",
                "uniform",
                "hot",
                "--strategies",
                "dynamic",
                *extra,
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout

    def cells(out: str) -> dict[str, str]:
        return {
            line.split("|")[1].strip(): line.split("|")[3].strip()
            for line in out.splitlines()
            if line.startswith("| ") and "dynamic" in line
        }

    even = cells(run())
    assert "[" not in even["uniform"] and float(even["uniform"]) <= 1.02
    jittered = run("--startup-jitter", "0.5", "--jitter-seeds", "3", "--handovers")
    assert "startup jitter 0.5" in jittered and "seeds 1-3" in jittered
    shown = cells(jittered)
    ratio, handovers = shown["hot"].split(" [")
    assert int(handovers.rstrip("]")) > 0  # hot middle is redistributed
    # a launch slower than the floor (the lower bound's startup) delays its frames
    assert float(shown["uniform"].split(" [")[0]) > float(even["uniform"])
    assert float(ratio) > 1.0
