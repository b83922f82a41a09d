"""Which frames each aerender launch renders, decided while the task runs.

Pure: no clock, no processes, no files. The orchestrator drives a `Scheduler` with
what happened (a child printed its first line, finished a frame, ended) and carries out
the actions it answers with; `bench/bench_schedule.py` drives the same object on a
virtual clock. So the plan the benchmark measures is the plan the worker runs.

Frames are aerender's: numbers on the task's step grid (`-s/-e/-i`). A launch renders
one contiguous run of them (aerender renders one range per start). The frames to render
may be several runs (a resumed task skips frames an earlier attempt rendered), and a
launch never spans a gap: a frame is rendered once.

The interface, for both strategies:
- `begin(now)` once, then `started`, `frame_done`, `ended` as they happen and `tick(now)`
  at the latest at `wakeup()`. Each returns the actions to carry out now, in order.
- `Launch(child, first, last, attempt)`: start child `child` (ids count up from 0, never
  reused) for frames `first..last`.
- `Shorten(child, last)`: the child's range now ends at `last`; the frames after it went
  to a later launch. The orchestrator stops the child once it has reported every frame
  up to `last` (at once, if it already has), and then counts it as ended with its
  shortened range. A child may be shortened again, never lengthened.
- `ended(child, now, rendered, retryable)`: the child is gone; `rendered` are the frames
  of its (current) range whose files are verified. The other frames of its range are
  rendered again by a new launch while `RetryFailedRanges` allows and `retryable` (a
  crash, a stall: yes; aerender missing, bad arguments: no); otherwise the task fails
  (`failure`). A child that rendered its whole range is simply done.
- `finished`: every frame rendered and nothing running; `failure`: why the task cannot
  finish ('' while it can). After a failure no more launches are made.

Strategies:
- `static`: the runs cut into `slots` equal contiguous parts up front (today's split,
  kept for comparison and for those who want it); only retries launch more.
- `dynamic`: keeps every slot busy until the last frames (see docs/stmpo-worker.md,
  "Balanced scheduling", for the technique and the measurements that chose it).

Staggered starts (both): the next launch is made once the previous child has printed
its first line (`started`) or `spawn_delay` seconds after the previous launch,
whichever comes first, so a big host does not idle through a fixed delay per process.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

STRATEGIES = ("dynamic", "static")


@dataclass(frozen=True)
class Launch:
    child: int
    first: int
    last: int
    attempt: int = 0  # 0: first render of these frames; n: the n-th retry


@dataclass(frozen=True)
class Shorten:
    child: int
    last: int


Action = Union[Launch, Shorten]


@dataclass(frozen=True)
class Policy:
    strategy: str = "dynamic"
    #: Processes at once (the plan's process count).
    slots: int = 1
    #: Seconds from a launch to its first frame (After Effects' start, project load).
    startup_estimate: float = 30.0
    #: Seconds per frame before any frame was measured; None: unknown.
    frame_estimate: float | None = None
    #: RetryFailedRanges: how often the unfinished frames of a failed child are retried.
    retries: int = 1
    #: SpawnDelay: at most this long between two launches (sooner on a first line).
    spawn_delay: float = 2.0


@dataclass
class _Child:
    first: int
    last: int
    attempt: int
    launched_at: float
    started_at: float | None = None
    done: set[int] = field(default_factory=set)
    ended: bool = False


def grid_runs(frames: Iterable[int]) -> list[tuple[int, int]]:
    """Sorted frames of one step grid as contiguous runs (first, last); the step is the
    smallest gap, so pass frames of one grid only."""
    ordered = sorted(set(frames))
    if not ordered:
        return []
    step = min((b - a for a, b in zip(ordered, ordered[1:])), default=1)
    runs: list[tuple[int, int]] = []
    first = prev = ordered[0]
    for frame in ordered[1:]:
        if frame - prev != step:
            runs.append((first, prev))
            first = frame
        prev = frame
    runs.append((first, prev))
    return runs


def _count(first: int, last: int, step: int) -> int:
    return (last - first) // step + 1


def _cut_runs(runs: Sequence[tuple[int, int]], step: int, parts: int) -> list[tuple[int, int]]:
    """`runs` cut into about `parts` contiguous pieces of near-equal frame counts, never
    spanning a gap between runs, the larger pieces first within a run."""
    total = sum(_count(a, b, step) for a, b in runs)
    parts = max(1, min(parts, total))
    pieces: list[tuple[int, int]] = []
    for first, last in runs:
        count = _count(first, last, step)
        share = max(1, round(parts * count / total))
        share = min(share, count)
        base, extra = divmod(count, share)
        at = first
        for i in range(share):
            size = base + (1 if i < extra else 0)
            pieces.append((at, at + (size - 1) * step))
            at += size * step
    return pieces


class Scheduler:
    def __init__(self, runs: Sequence[tuple[int, int]], step: int, policy: Policy) -> None:
        if policy.strategy not in STRATEGIES:
            raise ValueError(f"strategy must be one of {STRATEGIES}, got {policy.strategy!r}")
        if step < 1 or policy.slots < 1:
            raise ValueError("step and slots must be at least 1")
        self.step = step
        self.policy = policy
        self.runs = [r for r in runs if r[1] >= r[0]]
        self.children: dict[int, _Child] = {}
        self.rendered: set[int] = set()
        #: Launches decided but not made yet (staggered starts), in order.
        self.pending: list[tuple[int, int, int]] = []
        self.last_launch_at: float | None = None
        self.failure = ""
        self._next_id = 0

    # -- events ---------------------------------------------------------------------
    def begin(self, now: float) -> list[Action]:
        self.pending = [(a, b, 0) for a, b in _cut_runs(self.runs, self.step, self.policy.slots)]
        return self._launch_due(now)

    def started(self, child: int, now: float) -> list[Action]:
        state = self.children[child]
        if state.started_at is None:
            state.started_at = now
            if self._newest() == child:
                return self._launch_due(now)
        return []

    def frame_done(self, child: int, frame: int, now: float) -> list[Action]:
        state = self.children[child]
        if state.first <= frame <= state.last and (frame - state.first) % self.step == 0:
            state.done.add(frame)
        return []

    def ended(
        self, child: int, now: float, rendered: Iterable[int], retryable: bool = True
    ) -> list[Action]:
        state = self.children[child]
        state.ended = True
        mine = range(state.first, state.last + 1, self.step)
        good = {f for f in rendered if f in mine}
        self.rendered |= good
        left = [f for f in mine if f not in good]
        if left and not self.failure:
            if retryable and state.attempt < self.policy.retries:
                self.pending.extend((a, b, state.attempt + 1) for a, b in grid_runs(left))
            else:
                why = "no retry left" if retryable else "not retryable"
                self.failure = (
                    f"frames {left[0]}-{left[-1]} not rendered after {state.attempt + 1} "
                    f"attempt(s) ({why})"
                )
                self.pending = []
        return self._launch_due(now)

    def tick(self, now: float) -> list[Action]:
        return self._launch_due(now)

    # -- state ----------------------------------------------------------------------
    def wakeup(self) -> float | None:
        """When `tick` must be called at the latest; None: only events matter now."""
        if not self.pending or self._running() >= self.policy.slots:
            return None
        if self.last_launch_at is None:
            return 0.0
        return self.last_launch_at + self.policy.spawn_delay

    @property
    def finished(self) -> bool:
        return not self.failure and not self.pending and self._running() == 0

    def range_of(self, child: int) -> tuple[int, int]:
        state = self.children[child]
        return state.first, state.last

    # -- internals ------------------------------------------------------------------
    def _running(self) -> int:
        return sum(1 for c in self.children.values() if not c.ended)

    def _newest(self) -> int | None:
        return self._next_id - 1 if self._next_id else None

    def _launch_due(self, now: float) -> list[Action]:
        """Pending launches while a slot is free and the stagger allows: the previous
        child has printed its first line (or ended), or `spawn_delay` has passed since
        the previous launch. Each new child then staggers the next."""
        actions: list[Action] = []
        while not self.failure and self.pending and self._running() < self.policy.slots:
            newest = self._newest()
            if newest is not None:
                prev = self.children[newest]
                waiting = prev.started_at is None and not prev.ended
                assert self.last_launch_at is not None
                if waiting and now < self.last_launch_at + self.policy.spawn_delay:
                    break
            first, last, attempt = self.pending.pop(0)
            child = self._next_id
            self._next_id += 1
            self.children[child] = _Child(first, last, attempt, launched_at=now)
            self.last_launch_at = now
            actions.append(Launch(child, first, last, attempt))
        return actions
