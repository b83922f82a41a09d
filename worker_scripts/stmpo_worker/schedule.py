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

import bisect
import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Union

#: A running child's next frames weighed one by one when cutting its range; beyond, the
#: rest is one lump (a task may hold 10^9 frames: a cut is never that far in anyway).
CONSIDERED_FRAMES = 4096

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
    #: dynamic: a hand-over is made only when it brings the child's finish forward by at
    #: least this fraction of a startup (a launch must be worth its startup).
    min_gain: float = 0.1
    #: dynamic: how many measured frames nearest by number predict a frame's cost.
    neighbours: int = 3


@dataclass
class _Child:
    first: int
    last: int
    attempt: int
    launched_at: float
    started_at: float | None = None
    done: set[int] = field(default_factory=set)
    ended: bool = False
    #: The frame it renders next (frames come in order); past `last`: none left.
    next: int = 0
    #: When it reported its last frame (None: none yet); frame times are the gaps.
    last_done_at: float | None = None
    first_done_at: float | None = None
    #: Its first frame, booked provisionally in the costs until its second gap replaces it.
    provisional: int | None = None


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


def _missing_runs(mine: range, rendered: Iterable[int]) -> list[tuple[int, int]]:
    """The runs of `mine` (a launch's frames) not in `rendered`, in time and memory of
    the frames rendered, not of the range: a launch may span 10^9 frames and end having
    rendered none (a range equal to `mine` is the whole of it, at once)."""
    if (
        isinstance(rendered, range)
        and rendered.step == mine.step
        and len(rendered)
        and rendered[0] <= mine[0]
        and rendered[-1] >= mine[-1]
        and (mine[0] - rendered[0]) % mine.step == 0
    ):
        return []
    good = sorted({f for f in rendered if f in mine})
    runs: list[tuple[int, int]] = []
    at = mine[0] if len(mine) else 0
    for frame in good:
        if frame > at:
            runs.append((at, frame - mine.step))
        at = frame + mine.step
    if len(mine) and at <= mine[-1]:
        runs.append((at, mine[-1]))
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


class FrameCosts:
    """What frames cost, learnt from the progress lines.

    Neighbouring frames cost alike in most comps (a ramp, a heavy last shot, a hot
    middle), so a frame is predicted by the mean of the nearest measured frames by
    number; where they do not (i.i.d. costs), the global mean predicts better. Each
    measurement first scores both predictions, and the estimate blends them by their
    squared errors so far: the better predictor gets the larger weight."""

    def __init__(self, neighbours: int, fallback: float) -> None:
        self.neighbours = max(1, neighbours)
        self.fallback = fallback
        self.frames: list[int] = []  # measured, sorted
        self.cost: dict[int, float] = {}
        self.total = 0.0
        self.err_near = 0.0
        self.err_mean = 0.0

    def add(self, frame: int, seconds: float) -> None:
        if frame in self.cost or seconds < 0:
            return
        if self.frames:
            self.err_near += (self._near(frame) - seconds) ** 2
            self.err_mean += (self.mean - seconds) ** 2
        bisect.insort(self.frames, frame)
        self.cost[frame] = seconds
        self.total += seconds

    def settle(self, frame: int, seconds: float) -> None:
        """Replaces a provisional measure by a better one. The score it gave the blend
        stays: noisy as it was, it is an early sample of whether neighbours or the mean
        predict better (dropping it cost 0.01-0.02 on lognormal with jittered startups)."""
        old = self.cost.get(frame)
        if old is None or seconds < 0:
            return
        self.cost[frame] = seconds
        self.total += seconds - old

    @property
    def mean(self) -> float:
        return self.total / len(self.frames) if self.frames else self.fallback

    def _near(self, frame: int) -> float:
        frames = self.frames
        i = bisect.bisect_left(frames, frame)
        lo, hi = i - 1, i
        got = 0
        total = 0.0
        while got < self.neighbours and (lo >= 0 or hi < len(frames)):
            if hi >= len(frames) or (lo >= 0 and frame - frames[lo] <= frames[hi] - frame):
                total += self.cost[frames[lo]]
                lo -= 1
            else:
                total += self.cost[frames[hi]]
                hi += 1
            got += 1
        return total / got if got else self.fallback

    def estimate(self, frame: int) -> float:
        if not self.frames:
            return self.fallback
        measured = self.cost.get(frame)
        if measured is not None:
            return measured
        near, mean = self._near(frame), self.mean
        errors = self.err_near + self.err_mean
        weight = self.err_mean / errors if errors > 0 else 1.0
        return weight * near + (1.0 - weight) * mean


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
        self.rendered_count = 0  # frames reported rendered by ended launches
        #: Launches decided but not made yet (staggered starts), in order.
        self.pending: list[tuple[int, int, int]] = []
        self.last_launch_at: float | None = None
        self.failure = ""
        self._next_id = 0
        self.costs = FrameCosts(policy.neighbours, policy.frame_estimate or 10.0)
        self._startup_sum = 0.0
        self._startup_n = 0
        #: Seconds from a child's first line to its first frame (less that frame's cost),
        #: summed over the children that rendered two frames.
        self._after_line_sum = 0.0

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
        if not (state.first <= frame <= state.last and (frame - state.first) % self.step == 0):
            return []
        state.done.add(frame)
        self._measure(state, frame, now)
        if self.policy.strategy == "dynamic" and self._idle_slots() > 0:
            return self._rebalance(now)
        return []

    def ended(
        self, child: int, now: float, rendered: Iterable[int], retryable: bool = True
    ) -> list[Action]:
        state = self.children[child]
        state.ended = True
        mine = range(state.first, state.last + 1, self.step)
        left = _missing_runs(mine, rendered)
        self.rendered_count += len(mine) - sum(_count(a, b, self.step) for a, b in left)
        if left and not self.failure:
            if retryable and state.attempt < self.policy.retries:
                self.pending.extend((a, b, state.attempt + 1) for a, b in left)
            else:
                why = "no retry left" if retryable else "not retryable"
                self.failure = (
                    f"frames {left[0][0]}-{left[-1][1]} not rendered after "
                    f"{state.attempt + 1} attempt(s) ({why})"
                )
                self.pending = []
        return self._launch_due(now) + self._rebalance(now)

    def tick(self, now: float) -> list[Action]:
        return self._launch_due(now) + self._rebalance(now)

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
            self.children[child] = _Child(first, last, attempt, launched_at=now, next=first)
            self.last_launch_at = now
            actions.append(Launch(child, first, last, attempt))
        return actions

    # -- dynamic --------------------------------------------------------------------
    @property
    def startup(self) -> float:
        """Seconds from a launch to its first frame: observed where known (first frame's
        time less the cost of its second, averaged over children), else the policy's."""
        if self._startup_n:
            return self._startup_sum / self._startup_n
        return self.policy.startup_estimate

    def observed_timings(self) -> tuple[float, float] | None:
        """(startup, seconds per frame) this task measured, for the session's next plan
        (timings.py); None until both were seen."""
        if not self._startup_n or not self.costs.frames:
            return None
        return self.startup, self.costs.mean

    def _measure(self, state: _Child, frame: int, now: float) -> None:
        """Books the frame's cost. A gap between two frames of a child is a frame's cost.
        A child's first frame also holds that child's own startup, which varies from
        launch to launch (load, licences, launches starting together): it is measured
        from the child's first line (a launch late to print it is late for its own
        reasons, not the frame's) less the mean time from first line to first frame,
        and booked provisionally: the child's second gap replaces it, so a slow launch
        does not make its frames look dear for the rest of the task. A child that
        renders a single frame keeps its provisional measure (docs/stmpo-worker.md)."""
        if frame >= state.next:
            state.next = frame + self.step
        line_at = state.started_at if state.started_at is not None else state.launched_at
        if state.last_done_at is None:
            state.first_done_at = now
            if self._startup_n:
                after_line = self._after_line_sum / self._startup_n
                self.costs.add(frame, max(0.0, now - line_at - after_line))
                state.provisional = frame
        else:
            seconds = now - state.last_done_at
            self.costs.add(frame, seconds)
            if len(state.done) == 2 and state.first_done_at is not None:
                if state.provisional is not None:
                    self.costs.settle(state.provisional, seconds)
                    state.provisional = None
                self._startup_sum += max(0.0, state.first_done_at - state.launched_at - seconds)
                self._after_line_sum += max(0.0, state.first_done_at - line_at - seconds)
                self._startup_n += 1
        state.last_done_at = now

    def _idle_slots(self) -> int:
        if self.failure:
            return 0
        return self.policy.slots - self._running() - len(self.pending)

    def _left(self, state: _Child, now: float) -> tuple[list[int], list[float]]:
        """The frames a running child has not reported and their predicted seconds from
        now (the first includes what is left of its startup, or of the frame in progress)."""
        count = _count(state.next, state.last, self.step) if state.next <= state.last else 0
        shown = min(count, CONSIDERED_FRAMES)
        frames = list(range(state.next, state.next + shown * self.step, self.step))
        costs = [self.costs.estimate(f) for f in frames]
        if count > shown:  # the rest as one lump at the end: a cut lands before it
            frames.append(state.last)
            costs.append((count - shown) * self.costs.estimate(state.last))
        if frames:
            if state.last_done_at is None:
                costs[0] += max(0.0, state.launched_at + self.startup - now)
            else:
                costs[0] = self._residual(costs[0], now - state.last_done_at)
        return frames, costs

    @staticmethod
    def _residual(estimate: float, elapsed: float) -> float:
        """Seconds left of a frame in progress. (Expecting a frame past its estimate to
        run on in proportion to its elapsed time was measured and did not help: see
        docs/stmpo-worker.md.)"""
        return max(0.0, estimate - elapsed)

    def _rough_left(self, state: _Child, now: float) -> float:
        """`_left`'s total from three samples: O(1), to rank the children."""
        count = _count(state.next, state.last, self.step) if state.next <= state.last else 0
        if count == 0:
            return 0.0
        mid = state.next + (count // 2) * self.step
        per = (
            self.costs.estimate(state.next)
            + self.costs.estimate(mid)
            + self.costs.estimate(state.last)
        ) / 3
        wait = (
            max(0.0, state.launched_at + self.startup - now)
            if state.last_done_at is None
            else self._residual(per, now - state.last_done_at) - per
        )
        return wait + count * per

    def _split(self, state: _Child, now: float, horizon: float) -> tuple[float, int] | None:
        """Where to cut a running child's unreported frames: (gain in seconds, the last
        frame it keeps), or None when no cut is worth a launch.

        The child keeps its first k frames, a new child takes the rest after a startup.
        k balances the two finishes, but the child keeps no more than `horizon` seconds
        of work (the task's remaining work per slot) when the rest is bigger: the new
        child then carries the excess and is cut again as the next slot frees, so a
        big hot range spreads over every free slot instead of being halved once. The
        child always keeps the frame in progress and every frame it should finish within
        the new child's startup (the margin: it is stopped before it could reach a
        handed-over frame). The cut is worth it when the child's finish moves forward by
        at least `min_gain` startups and the new child gets at least that much work."""
        frames, costs = self._left(state, now)
        if len(frames) < 2:
            return None
        startup = self.startup
        total = sum(costs)
        kept = 0.0
        rest = total
        chosen = 0
        chosen_kept = 0.0
        best = total
        for k in range(1, len(frames)):
            kept += costs[k - 1]
            rest -= costs[k - 1]
            if kept < startup:
                continue  # the margin: it might reach frames[k] before the new child starts
            finish = max(kept, startup + rest)
            if finish < best:
                best, chosen, chosen_kept = finish, k, kept
            if kept >= horizon or startup + rest <= kept:
                break  # at the horizon the rest is the new child's, cut again later
        if not chosen:
            return None
        gain = total - best
        if (
            gain < max(1e-9, self.policy.min_gain * startup)
            or total - chosen_kept < self.policy.min_gain * startup
        ):
            return None
        return gain, frames[chosen - 1]

    def _rebalance(self, now: float) -> list[Action]:
        """Fill free slots by handing the tail of the child predicted to finish last to a
        new launch: O(children) to rank, O(its frames) to cut."""
        actions: list[Action] = []
        if self.policy.strategy != "dynamic":
            return actions
        while self._idle_slots() > 0:
            ranked = [
                (self._rough_left(c, now), i) for i, c in self.children.items() if not c.ended
            ]
            waiting = sum(_count(a, b, self.step) for a, b, _ in self.pending) * self.costs.mean
            idle = self._idle_slots() + len(self.pending)
            horizon = (
                sum(r for r, _ in ranked) + waiting + idle * self.startup
            ) / self.policy.slots
            choice: tuple[float, int, int] | None = None
            for _, i in heapq.nlargest(3, ranked):
                cut = self._split(self.children[i], now, horizon)
                if cut is not None and (choice is None or cut[0] > choice[0]):
                    choice = (cut[0], i, cut[1])
            if choice is None:
                break
            _, i, keep = choice
            state = self.children[i]
            tail = (keep + self.step, state.last)
            state.last = keep
            actions.append(Shorten(i, keep))
            self.pending.append((tail[0], tail[1], state.attempt))
            actions.extend(self._launch_due(now))
        return actions
