"""The balanced scheduler on a virtual clock: makespan against the lower bound.

Drives the worker's real `Scheduler` (worker_scripts/stmpo_worker/schedule.py) with the
events a fan-out of aerender processes would produce, on an event heap: no sleeping, no
processes. So the numbers are those of the plan the worker runs, not of a model of it.

The virtual child follows aerender as the worker sees it (docs/stmpo-worker.md):
- `first_line` seconds after its launch it prints its first line (aerender's version
  banner comes before the project loads) -> `started`; the staggered starts wait on it.
- `startup` seconds after its launch it begins its first frame, then renders its frames
  one after another, each taking the workload's cost, -> `frame_done` as each finishes.
  With `--startup-jitter J` each launch draws its own startup: `startup * exp(J * |Z|)`,
  Z standard normal, seeded by (seed, child id). Why this one: the cell's startup is
  that of a quiet host and nothing makes a launch faster than that, while CPU load, a
  slow licence check, launches that start together and a project on a slow share each
  multiply the load time and may stack: a floor with a long right tail (J 0.5 gives a
  median launch 1.4x the floor, one in 20 over 2.7x: on a 30 s startup, tens of
  seconds apart, as docs/stmpo-worker.md reports of one host). The first line stays at
  `first_line`: aerender prints its banner before After Effects loads, so the delays
  fall after it and the first line tells nothing of them (the hard case).
- `Shorten(child, last)`: it stops right after `last` (at once if it already finished
  it); a stop takes `STOP` seconds; the frames after `last` are not rendered by it.
- When its range is done (or it stopped) -> `ended(child, now, rendered)`.
`tick` is called at `wakeup()`.

Invariants checked on every run (an AssertionError names the broken one): every frame
rendered exactly once, by a child that was not told to stop before it; no two children
on one frame at overlapping times; every Launch inside the task's runs and a Shorten
never hands over a frame the child reported; the scheduler says `finished`.

Lower bound: startup + max(total frame time / processes, slowest frame).

Usage: python bench/bench_schedule.py [--slots 16 64 128] [--startup 5 15 30]
          [--workloads uniform ramp heavy lognormal hot] [--strategies static dynamic]
          [--first-line 0.2] [--startup-jitter J [--jitter-seeds N]] [--handovers]
          [--check]
`--check` exits 1 unless dynamic meets the issue 11 targets in the cells run.
Results go to docs/performance.md, section "Balanced scheduling".
"""

from __future__ import annotations

import argparse
import dataclasses
import heapq
import itertools
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "worker_scripts"))

from stmpo_worker.schedule import Action, Launch, Policy, Scheduler, Shorten  # noqa: E402

#: Seconds a stop takes (the orchestrator ends the tree; aerender exits).
STOP = 0.5
#: Frames per process in the issue's grid.
FRAMES_PER_PROCESS = 30
#: Issue 11 targets for `dynamic`, makespan / lower bound.
TARGETS = {"uniform": 1.10, "ramp": 1.10, "heavy": 1.10, "lognormal": 1.10, "hot": 1.25}
WORKLOADS = ("uniform", "ramp", "heavy", "lognormal", "hot")


def workload(name: str, n: int, seed: int = 1) -> list[float]:
    """Seconds per frame for `n` frames: the issue's five workloads."""
    if name == "uniform":
        return [10.0] * n
    if name == "ramp":
        return [5.0 + 15.0 * i / max(1, n - 1) for i in range(n)]
    if name == "heavy":  # the last quarter 8x
        return [80.0 if i >= 3 * n // 4 else 10.0 for i in range(n)]
    if name == "lognormal":
        rng = random.Random(seed)
        return [10.0 * math.exp(rng.gauss(0.0, 0.8)) for _ in range(n)]
    if name == "hot":  # the middle 10 % 20x
        lo, hi = int(n * 0.45), int(n * 0.55)
        return [200.0 if lo <= i < hi else 10.0 for i in range(n)]
    raise ValueError(f"unknown workload {name!r}")


def lower_bound(costs: Sequence[float], slots: int, startup: float) -> float:
    return startup + max(sum(costs) / slots, max(costs))


@dataclass
class _Kid:
    first: int
    last: int
    next: int  # the frame it renders next (or is rendering)
    launched_last: int = 0
    busy_since: float | None = None  # when it began `next`; None: not rendering
    done: list[int] = field(default_factory=list)
    stopping: bool = False
    alive: bool = True


@dataclass
class Result:
    makespan: float
    launches: int
    shortens: int


def simulate(
    costs: Sequence[float],
    policy: Policy,
    startup: float,
    first_line: float = 0.2,
    runs: Sequence[tuple[int, int]] | None = None,
    step: int = 1,
    first_frame: int = 0,
    fail: Callable[[int, int], int | None] | None = None,
    jitter: float = 0.0,
    jitter_seed: int = 1,
) -> Result:
    """Run one task to its end; `costs[i]` is the cost of frame `first_frame + i*step`.

    `runs` (default: all frames) are the frames to render; `fail(child, attempt)` may
    return how many frames that child renders before it crashes (None: no crash);
    `jitter` spreads each launch's startup (module docstring), seeded by `jitter_seed`."""
    frames = [first_frame + i * step for i in range(len(costs))]
    cost = dict(zip(frames, costs, strict=True))
    runs = list(runs) if runs is not None else [(frames[0], frames[-1])]
    wanted = {f for a, b in runs for f in range(a, b + 1, step)}
    if policy.strategy == "guided":
        sched: Scheduler = Guided(runs, step, dataclasses.replace(policy, strategy="static"))
    else:
        sched = Scheduler(runs, step, policy)
    heap: list[tuple[float, int, str, int, int]] = []
    seq = 0
    kids: dict[int, _Kid] = {}
    rendered_by: dict[int, list[int]] = {}
    busy: dict[int, list[tuple[float, float, int]]] = {}  # frame -> (from, to, child)
    crash_after: dict[int, int | None] = {}
    counts = {"launch": 0, "shorten": 0}
    now = 0.0

    def push(at: float, kind: str, child: int, frame: int = -1) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(heap, (at, seq, kind, child, frame))

    def stop(kid: _Kid, child: int, at: float, delay: float) -> None:
        if not kid.stopping:
            kid.stopping = True
            push(at + delay, "end", child)

    def carry_out(actions: Sequence[object], at: float) -> None:
        for action in actions:
            if isinstance(action, Launch):
                assert any(
                    a <= action.first <= action.last <= b and (action.first - a) % step == 0
                    for a, b in runs
                ), f"launch outside the runs: {action}"
                counts["launch"] += 1
                kids[action.child] = _Kid(action.first, action.last, action.first, action.last)
                crash_after[action.child] = fail(action.child, action.attempt) if fail else None
                push(at + first_line, "line", action.child)
                push(at + launch_startup(action.child), "begin", action.child)
            elif isinstance(action, Shorten):
                counts["shorten"] += 1
                kid = kids[action.child]
                assert action.last <= kid.last, f"lengthened: {action}"
                assert not kid.done or action.last >= kid.done[-1], (
                    f"handed over a done frame: {action}"
                )
                assert kid.busy_since is None or action.last >= kid.next, (
                    f"handed over a frame in progress: {action}"
                )
                kid.last = action.last
                if kid.alive and kid.next > kid.last:
                    stop(kid, action.child, at, STOP)
            else:
                raise AssertionError(f"unknown action {action!r}")

    def begin_next(kid: _Kid, child: int, at: float) -> None:
        if kid.stopping or not kid.alive:
            return
        if kid.next > kid.last:
            stop(kid, child, at, 0.0)
            return
        crash = crash_after[child]
        if crash is not None and len(kid.done) >= crash:
            stop(kid, child, at, 0.0)  # crashed: ends without its remaining frames
            return
        kid.busy_since = at
        push(at + cost[kid.next], "frame", child, kid.next)

    def launch_startup(child: int) -> float:
        if not jitter:
            return startup
        draw = random.Random(f"{jitter_seed}:{child}").gauss(0.0, 1.0)
        return startup * math.exp(jitter * abs(draw))

    carry_out(sched.begin(now), now)
    while heap or sched.wakeup() is not None:
        due = sched.wakeup()
        if due is not None and (not heap or due < heap[0][0]):
            now = max(now, due)
            actions = sched.tick(now)
            assert actions or heap, f"wakeup at {due} with nothing to do"
            carry_out(actions, now)
            continue
        now, _, kind, child, frame = heapq.heappop(heap)
        kid = kids[child]
        if kind == "line":
            if kid.alive:
                carry_out(sched.started(child, now), now)
        elif kind == "begin":
            begin_next(kid, child, now)
        elif kind == "frame":
            assert kid.busy_since is not None
            busy.setdefault(frame, []).append((kid.busy_since, now, child))
            kid.busy_since = None
            assert frame <= kid.last, f"child {child} rendered {frame} after its stop"
            kid.done.append(frame)
            rendered_by.setdefault(frame, []).append(child)
            kid.next = frame + step
            carry_out(sched.frame_done(child, frame, now), now)
            if kid.next > kid.last:
                stop(kid, child, now, STOP if kid.last < kid.launched_last else 0.0)
            else:
                begin_next(kid, child, now)
        elif kind == "end":
            kid.alive = False
            carry_out(sched.ended(child, now, list(kid.done)), now)
    assert not sched.failure, sched.failure
    assert sched.finished, "scheduler not finished with nothing left to happen"
    assert set(rendered_by) == wanted, (
        f"frames not rendered: {sorted(wanted - set(rendered_by))[:5]}, "
        f"not wanted: {sorted(set(rendered_by) - wanted)[:5]}"
    )
    twice = [f for f, by in rendered_by.items() if len(by) != 1]
    assert not twice, f"frames rendered twice: {twice[:5]}"
    for frame, spans in busy.items():
        spans.sort()
        for (_, end_a, a), (start_b, _, b) in itertools.pairwise(spans):
            assert start_b >= end_a, f"children {a} and {b} overlap on frame {frame}"
    return Result(now, counts["launch"], counts["shorten"])


class Guided(Scheduler):
    """The other technique measured: a queue of shrinking chunks (guided
    self-scheduling, in its "factoring" form: each launch takes half of the remaining
    frames' fair share, ceil(R / 2P), but never less than a startup's worth of frames).
    No running child is ever cut, so no hand-over can race; every chunk pays a startup.
    Kept in the bench only: it lost (docs/performance.md)."""

    def begin(self, now: float) -> list[Action]:
        self.queue = [list(run) for run in self.runs]
        self._refill()
        return self._launch_due(now)

    def _refill(self) -> None:
        while self.queue and self._idle_slots() > 0:
            left = sum(_count(a, b, self.step) for a, b in self.queue)
            worth = math.ceil(self.startup / max(1e-9, self.costs.mean))
            size = max(1, worth, math.ceil(left / (2 * self.policy.slots)))
            first, last = self.queue[0]
            end = min(last, first + (size - 1) * self.step)
            self.pending.append((first, end, 0))
            if end == last:
                self.queue.pop(0)
            else:
                self.queue[0][0] = end + self.step

    def _rebalance(self, now: float) -> list[Action]:
        self._refill()
        return self._launch_due(now)


def _count(first: int, last: int, step: int) -> int:
    return (last - first) // step + 1


def frame_queue(costs: Sequence[float], slots: int, startup: float) -> float:
    """Makespan of an ideal that no aerender allows: one startup per slot, then every
    slot takes the next frame from one queue as it frees (greedy list scheduling, free
    of relaunch costs and staggered starts). What a scheduler that cannot know a
    frame's cost before rendering it can expect, at best, on i.i.d. costs."""
    free = [startup] * slots
    for seconds in costs:
        heapq.heappush(free, heapq.heappop(free) + seconds)
    return max(free)


def cell(
    name: str,
    slots: int,
    startup: float,
    strategy: str,
    first_line: float = 0.2,
    fields: dict[str, float] | None = None,
    seed: int = 1,
    jitter: float = 0.0,
    jitter_seed: int = 1,
) -> tuple[float, Result]:
    """One cell of the grid with default settings (plus `fields`): ratio and result.
    With `jitter` the lower bound keeps the cell's startup, the quietest launch's."""
    costs = workload(name, FRAMES_PER_PROCESS * slots, seed)
    policy = Policy(strategy=strategy, slots=slots, **(fields or {}))  # type: ignore[arg-type]
    result = simulate(
        costs, policy, startup, first_line=first_line, jitter=jitter, jitter_seed=jitter_seed
    )
    return result.makespan / lower_bound(costs, slots, startup), result


def jittered_cell(
    name: str,
    slots: int,
    startup: float,
    strategy: str,
    args: argparse.Namespace,
    fields: dict[str, float],
) -> tuple[float, float]:
    """A cell's ratio and hand-overs (Shorten actions), each the median over the
    jitter seeds 1..`--jitter-seeds` (one run without jitter)."""
    seeds = range(1, args.jitter_seeds + 1) if args.startup_jitter else range(1, 2)
    runs = [
        cell(
            name,
            slots,
            startup,
            strategy,
            args.first_line,
            fields,
            args.seed,
            args.startup_jitter,
            jitter_seed,
        )
        for jitter_seed in seeds
    ]
    return (
        statistics.median(r for r, _ in runs),
        statistics.median(res.shortens for _, res in runs),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, nargs="+", default=[16, 64, 128])
    parser.add_argument("--startup", type=float, nargs="+", default=[5.0, 15.0, 30.0])
    parser.add_argument("--workloads", nargs="+", choices=WORKLOADS, default=list(WORKLOADS))
    parser.add_argument("--strategies", nargs="+", default=["static", "dynamic"])
    parser.add_argument("--first-line", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1, help="the lognormal workload's seed")
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="FIELD=VALUE",
        help="other Policy fields (numbers), e.g. min_gain=0.5, to measure their effect",
    )
    parser.add_argument(
        "--seeds",
        type=int,
        default=0,
        help="also run lognormal with seeds 1..N (and jitter seed N): median and worst, "
        "against the frame queue",
    )
    parser.add_argument(
        "--startup-jitter",
        type=float,
        default=0.0,
        metavar="J",
        help="each launch's startup is startup * exp(J * |Z|), Z normal (0: all equal)",
    )
    parser.add_argument(
        "--jitter-seeds",
        type=int,
        default=1,
        metavar="N",
        help="with --startup-jitter: run seeds 1..N, show the medians",
    )
    parser.add_argument(
        "--handovers",
        action="store_true",
        help="after each ratio, [the hand-overs it took] (Shorten actions)",
    )
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    fields = {}
    for item in args.set:
        key, _, value = item.partition("=")
        fields[key] = int(value) if key == "neighbours" else float(value)
    t0 = time.perf_counter()
    missed: list[str] = []
    print(
        f"first line after {args.first_line} s; stop {STOP} s; "
        f"{FRAMES_PER_PROCESS} frames a process"
    )
    if args.startup_jitter:
        print(
            f"startup jitter {args.startup_jitter:g}: startup * exp(J * |Z|), "
            f"median of seeds 1-{args.jitter_seeds}"
        )
    print("makespan / lower bound (startup " + ", ".join(f"{s:g}" for s in args.startup) + " s)\n")
    head = "| workload | strategy | " + " | ".join(f"{p} processes" for p in args.slots) + " |"
    print(head)
    print("|---|---|" + "---|" * len(args.slots))
    for name in args.workloads:
        for strategy in args.strategies:
            row = []
            for slots in args.slots:
                shown = []
                for startup in args.startup:
                    ratio, handovers = jittered_cell(name, slots, startup, strategy, args, fields)
                    shown.append(f"{ratio:.2f}" + (f" [{handovers:g}]" if args.handovers else ""))
                    if strategy == "dynamic" and ratio > TARGETS[name]:
                        missed.append(f"{name} {slots} processes startup {startup:g}: {ratio:.2f}")
                row.append(" / ".join(shown))
            print(f"| {name} | {strategy} | " + " | ".join(row) + " |")
    if args.seeds:
        print(f"\nlognormal over seeds 1-{args.seeds}: median (worst)\n")
        print("| strategy | " + " | ".join(f"{p} processes" for p in args.slots) + " |")
        print("|---|" + "---|" * len(args.slots))
        for strategy in [*args.strategies, "frame queue"]:
            row = []
            for slots in args.slots:
                parts = []
                for startup in args.startup:
                    ratios = []
                    for seed in range(1, args.seeds + 1):
                        if strategy == "frame queue":
                            costs = workload("lognormal", FRAMES_PER_PROCESS * slots, seed)
                            bound = lower_bound(costs, slots, startup)
                            ratios.append(frame_queue(costs, slots, startup) / bound)
                        else:
                            ratios.append(
                                cell(
                                    "lognormal",
                                    slots,
                                    startup,
                                    strategy,
                                    args.first_line,
                                    fields,
                                    seed,
                                    args.startup_jitter,
                                    seed,
                                )[0]
                            )
                    parts.append(f"{statistics.median(ratios):.2f} ({max(ratios):.2f})")
                row.append(" / ".join(parts))
            print(f"| {strategy} | " + " | ".join(row) + " |")
    print(f"\n{time.perf_counter() - t0:.1f} s")
    if missed:
        print("targets missed: " + "; ".join(missed))
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
