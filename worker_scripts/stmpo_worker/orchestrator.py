"""The imperative shell: start the children, merge their logs, report, retry, fail fast,
cancel.

Which frames each aerender launch renders is the `schedule.Scheduler`'s decision (pure,
also driven by bench/bench_schedule.py on a virtual clock): this shell feeds it what
happened (a child's first line, each frame a child reports finished, a child's end
with the frames whose files verify) and carries out what it answers (`Launch`,
`Shorten`). Each launch is a `Child` whose lifecycle is an explicit state
(`childstate`).

One thread per child only reads its pipe, in bounded pieces, into a bounded queue
(`childlog`): when this thread falls behind, the readers block and the children wait
in `write`, so memory stays bounded whatever they print. This (main) thread is the only
writer of stdout, so log lines are whole and never interleaved, and it alone decides
about launching, failing and cancelling. Every line it prints goes through `logtext`:
outside text (a child's output, paths, comp and process names) is escaped to one
bounded line, and only the worker's own directives start with `openjd_`.

Exit status 0 means every frame of the task was rendered (retries included) and the
final check found every expected output file of the task there, non-empty and written
by this render (outputs.file_problem).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from . import memory
from . import outputs as out
from . import watchdog as wd
from .aerender import child_command
from .affinity import AffinityBackend, Started
from .cancelinfo import kill_deadline, read_notify_end, session_directories
from .childlog import CARRY, Event, Scanner, read_pieces
from .childstate import ChildState, Lifecycle
from .frameid import Frames, line_frame
from .frametime import rate_text
from .journal import Journal
from .logtext import (
    MAX_LINE,
    directive,
    lines_need_escaping,
    prefixed_lines,
    shown,
    text_line,
)
from .planning import RenderPlan, cpu_list_text
from .procs import Member, StopReport, Tree, children_by_parent, end_trees, spawn
from .progress import (
    FrameTally,
    ReportThrottle,
    frame_marker,
    is_error_line,
    is_missing_line,
    may_hold_problem,
    progress_lines,
)
from .schedule import Action, Launch, Policy, Scheduler, Shorten
from .subreaper import TAG_VAR, adopted, become_subreaper, end_orphans, pipes_of, reap, tag_of

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 143  # 128 + SIGTERM, what a shell reports for a terminated job

PROGRESS_INTERVAL = 0.5  # at most two progress reports a second
REFRESH_INTERVAL = 2.0  # how often descendants are recorded (psutil)
EOF_WAIT = 2.0  # after a child exits, how long its pipe may stay open (orphans)
SWEEP_ROUNDS = 3  # end-of-task sweeps: a helper's helpers are orphaned in turn
# Reads waiting to be printed, over all children: at most QUEUE_EVENTS x READ_PIECE
# bytes (4 MiB; up to 4x that as str) however much the children print.
QUEUE_EVENTS = 256
# Events handled per poll, so a flood of output never starves cancel, exits or progress.
DRAIN_BATCH = QUEUE_EVENTS
ERROR_LINE_CHARS = 1000  # of an aerender error line, kept for the summary
#: A failed child's files are checked frame by frame until this many frames did not
#: verify; its later frames count as not rendered (see `Orchestrator.rendered`).
MAX_BAD_FRAMES = 64
#: Seconds from a launch to its first frame the Scheduler assumes before it has seen
#: one (After Effects' start and project load on a farm host; a conservative guess).


@dataclass
class RenderJob:
    """Everything one `render` call needs, already validated."""

    project: str
    rqindex: int
    aerender: str
    item: out.Item  # outputs after path mapping
    output_override: str | None
    plan: RenderPlan
    spawn_delay: float
    child_grace: float
    fail_fast: bool
    verify_outputs: bool = True
    #: ContinueOnMissingFootage: aerender's -continueOnMissingFootage, and AE's
    #: missing-footage/font/effect warnings only warn instead of failing the child.
    continue_on_missing: bool = False
    #: Issue 11 (docs/stmpo-worker.md): SplitStrategy ("dynamic" or "static", see
    #: schedule.py), RetryFailedRanges, SkipExisting (resume image sequences), and the
    #: watchdogs StallTimeoutSec / StartupTimeoutSec in seconds (0 = off).
    #: What a launch and a frame cost before this task measured any: observed earlier
    #: in the session (timings.py) or the conservative assumption.
    startup_estimate: float = 30.0
    frame_estimate: float | None = None
    split_strategy: str = "dynamic"
    retries: int = 1
    skip_existing_frames: bool = True
    stall_timeout: float = 0.0
    startup_timeout: float = 0.0
    #: RamPerProcessGB for the memory guard (`Orchestrator.may_launch`); 0 = no guard.
    ram_per_process_gb: float = 0.0
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    #: SkipExisting: where verified frames are journaled for a retry (journal.py).
    journal: Journal | None = None


@dataclass
class Child:
    """One aerender launch: what the Scheduler gave it, and what came of it."""

    index: int  # the Scheduler's child id (launch order, from 0)
    start: int
    end: int  # its range's last frame; a Shorten moves it down
    step: int
    attempt: int  # 0: first render of these frames; n: the n-th retry
    cpus: tuple[int, ...] | None
    slot: int  # which of the plan's process slots (and CPU block) it uses
    frames_of: Frames
    life: Lifecycle = field(init=False)
    tree: Tree | None = None
    exit_code: int | None = None
    eof: bool = False
    exited_at: float | None = None
    started_wall: float | None = None  # time.time() just before the spawn: file times
    pipe: int | None = None  # inode of its output pipe: an orphan holding it is its own
    orphan_kill_at: float | None = None
    kill_at: float | None = None  # a shortened child still running then gets SIGKILL
    error_line: str = ""
    error_before_frames: bool = False  # the error came before any frame: not retryable
    confirmed_at_error: int | None = None  # `confirmed` when the error line came
    missing_line: bool = False  # error_line is AE's report of something missing
    missing_warned: bool = False
    failure: str = ""
    stop_reason: str = ""  # "shortened", "fail-fast" or "cancel" once asked to stop
    shortened: bool = False
    scanner: Scanner = field(default_factory=Scanner)
    #: Output frames it reported finished -> time.time() of the first report.
    reported: dict[int, float] = field(default_factory=dict)
    markers: set[int] = field(default_factory=set)  # distinct `(N)`: identity fallback
    by_count: bool = False  # its lines' times did not name its frames: count them
    confirmed: int = 0  # its frames start..confirmed-step are all reported, in order
    #: The child whose tail it took over (Shorten), and the frames the race check found
    #: overwritten after it reported them (rendered again).
    predecessor: int | None = None
    spoiled: set[int] = field(default_factory=set)
    ended_sent: bool = False  # the Scheduler was told it ended
    label: str = ""
    #: Watchdogs (`Orchestrator.watch`), on the orchestrator's clock: launch, first
    #: output line, last frame count change; a licence prompt it printed before its
    #: first frame; what ended it ("" or watchdog.STALLED / STARTUP: retryable).
    launched_at: float = 0.0
    first_output_at: float | None = None
    last_frame_at: float | None = None
    frames_seen: int = 0
    licence_line: str = ""
    licence_scanned: int = 0  # lines searched for a licence prompt (wd.LICENCE_SCAN_LINES)
    watchdog: str = ""

    def __post_init__(self) -> None:
        self.label = f"c{self.index + 1} f{self.start}-{self.end}"
        self.life = Lifecycle(self.label)
        self.confirmed = self.start

    @property
    def state(self) -> ChildState:
        return self.life.state

    @property
    def done(self) -> bool:
        return self.state.terminal

    @property
    def stopped(self) -> bool:
        return self.state is ChildState.STOPPED

    @property
    def frames(self) -> range:
        """The output frames its current range writes."""
        return self.frames_of.outputs(self.start, self.end)


def _exit_text(code: int | None) -> str:
    """`exit code 3`, or `killed by SIGSEGV` for a POSIX child ended by a signal."""
    if code is not None and code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _clock_text(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


def grid_runs_of(ranges: list[tuple[int, int]], step: int) -> list[tuple[int, int]]:
    """The plan's ranges as the Scheduler's runs: adjacent ranges (the usual static cut)
    joined, gaps (a resumed task) kept."""
    runs: list[tuple[int, int]] = []
    for first, last in sorted(ranges):
        if runs and first == runs[-1][1] + step:
            runs[-1] = (runs[-1][0], last)
        else:
            runs.append((first, last))
    return runs


class Orchestrator:
    def __init__(
        self,
        job: RenderJob,
        stdout: TextIO,
        affinity: AffinityBackend,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.job = job
        self.stdout = stdout
        self.affinity = affinity
        self.pinning = True  # until the first pinning failure
        self.clock = clock
        plan = job.plan
        self.blocks: list[tuple[int, ...] | None] = (
            list(plan.cpu_blocks) if plan.cpu_blocks else [None] * plan.processes
        )
        if len(self.blocks) != plan.processes:
            raise ValueError("a CPU block for every process")
        self.frames_of = Frames(plan.step, plan.timebase)
        #: The rate progress lines display frames at: the render rate at another rate
        #: than the comp's, else the comp's (None: unknown, frames are counted).
        tb = plan.timebase
        self.display_rate = float(tb.render_rate) if tb is not None else job.item.comp_rate
        # A renumbered sequence ("Use Comp Frame Number" off) or a movie is one file set
        # per launch: a retry must render the whole range again, so nothing of a failed
        # launch counts as rendered (and such an item runs on one process anyway).
        self.whole_launches = job.item.movie or job.item.renumbered
        #: The frames to render as runs (a resumed task leaves out what an earlier
        #: attempt of the job rendered: journal.py); a launch never spans a gap.
        self.runs = grid_runs_of(plan.ranges, plan.step)
        self.scheduler = Scheduler(
            self.runs,
            plan.step,
            Policy(
                strategy=job.split_strategy,
                slots=plan.processes,
                startup_estimate=job.startup_estimate,
                frame_estimate=job.frame_estimate,
                retries=job.retries,
                spawn_delay=job.spawn_delay,
            ),
        )
        self.children: list[Child] = []  # by Scheduler id, in launch order
        self.tally = FrameTally(plan.frame_count)
        self.finished_frames: set[int] = set()  # aerender frames counted in the tally
        self.throttle = ReportThrottle(PROGRESS_INTERVAL)
        self.events: queue.Queue[Event] = queue.Queue(maxsize=QUEUE_EVENTS)
        self.cancel_requested = threading.Event()
        self.cancel_noted = False  # cancel_info.json read (once, at the first cancel)
        self.kill_by: float | None = None  # time.monotonic(): SIGKILL all by then (cancel)
        self.started_wall = time.time()  # a cancel_info.json older than this is stale
        self.aborting = ""  # "fail-fast" or "cancel" once we stop everything
        self.last_refresh = 0.0  # clock() of the last descendant scan
        self.subreaper = False  # orphans of the children are reparented to us (Linux)
        self.strays: dict[int, str] = {}  # adopted orphans no child claims: pid -> name
        self.retries = 0  # launches that render frames again after a failure
        self.handovers = 0  # Shorten actions carried out
        #: First frame of a shortened child's former tail -> that child, until the
        #: launch that takes the tail over is made.
        self.handed_over: dict[int, int] = {}
        self.verify_problem = ""  # the final check's finding
        self.memory_wait_since: float | None = None  # clock() when the current wait began
        self.memory_waits = 0
        self.memory_waited = 0.0  # seconds, over the finished waits
        #: Launches the Scheduler made that wait for memory (the memory guard), in order.
        self.held: list[Launch] = []

    @property
    def launched(self) -> int:
        return len(self.children)

    # -- output -----------------------------------------------------------------
    def say(self, text: str) -> None:
        """One ordinary log line; whatever `text` quotes, it stays one bounded line."""
        self.emit(text_line(text))

    def emit(self, line: str, flush: bool = True) -> None:
        """A line `logtext` already made safe (a directive, a child's piece). Children's
        pieces are flushed once per batch (`drain`): a flush per line costs more than
        escaping it."""
        self.stdout.write(line + "\n")
        if flush:
            self.stdout.flush()

    def report_progress(
        self,
        force: bool = False,
        running: int | None = None,
        measured: tuple[float, float] | None = None,
    ) -> None:
        """Offer the current progress+status pair; called on every change and every
        poll, so a report the rate limit held goes out once its window expires."""
        if running is None:
            running = self.running_count()
        report = progress_lines(self.tally, running, measured)
        lines = self.throttle.offer(report, self.clock(), force=force)
        for line in lines or ():
            self.emit(line)

    def running_count(self) -> int:
        return sum(1 for c in self.children if c.tree is not None and c.exit_code is None)

    # -- signals ------------------------------------------------------------------
    def install_signal_handlers(self) -> None:
        def handler(signum: int, _frame: object) -> None:
            self.cancel_requested.set()

        for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
            sig = getattr(signal, name, None)
            if sig is not None:
                signal.signal(sig, handler)

    # -- the cancel's deadline ------------------------------------------------------
    def note_cancel(self) -> None:
        """At the first cancel: when openjd will kill this action (its cancel_info.json),
        so every SIGKILL lands before then, however long `--child-grace-sec` is."""
        if self.cancel_noted or not self.cancel_requested.is_set():
            return
        self.cancel_noted = True
        try:
            cwd = os.getcwd()
        except OSError:  # the working directory was removed
            cwd = ""
        found = read_notify_end(session_directories(self.job.env, cwd), self.started_wall)
        grace = self.job.child_grace
        if found.problem:
            self.say(f"STMPO: warning: {found.path} ignored ({found.problem}); grace {grace:g} s")
        if found.when is None:
            return
        wall, mono = time.time(), time.monotonic()
        self.kill_by = kill_deadline(found.when, wall, mono)
        end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(found.when))
        said = f"STMPO: cancel: openjd ends this action at {end} ({found.when - wall:.1f} s)"
        if self.kill_by - mono < grace:
            self.say(f"{said}: grace shortened from {grace:g} s to {self.kill_by - mono:.1f} s")
        else:
            self.say(f"{said}: the grace of {grace:g} s fits")

    def kill_at(self) -> float | None:
        """`end_trees`' deadline, asked at every look: a cancel that comes in while a
        fail-fast stop or the last sweep waits out its grace shortens it too."""
        self.note_cancel()
        return self.kill_by

    def grace(self) -> float:
        """The grace a stop starting now gets: `--child-grace-sec`, or less once a
        cancel's NotifyEnd is near."""
        if self.kill_by is None:
            return self.job.child_grace
        return max(0.0, min(self.job.child_grace, self.kill_by - time.monotonic()))

    def grace_text(self, grace: float) -> str:
        """`30` as configured; `1.6` once a cancel's deadline has cut it."""
        return f"{grace:g}" if grace == self.job.child_grace else f"{grace:.1f}"

    # -- the Scheduler's actions ---------------------------------------------------
    def apply(self, actions: Iterable[Action]) -> None:
        """Carry out what the Scheduler answered, in order. Nothing new starts once the
        task is stopping."""
        for action in actions:
            if isinstance(action, Launch):
                if not self.aborting:
                    self.held.append(action)
            elif self.held and action.child >= self.held[0].child:
                self.shorten_held(action)
            else:
                self.shorten(action)
        self.launch_held(self.clock())

    def observed_timings(self) -> tuple[float, float] | None:
        """(startup, seconds per frame) measured by this task's Scheduler, which the
        session's next task plans with (cli.py records them: timings.py)."""
        return self.scheduler.observed_timings()

    def launch_held(self, now: float) -> None:
        """Make the launches the memory guard holds, in the Scheduler's order, while it
        lets them go (`may_launch`: always when nothing runs)."""
        while self.held and not self.aborting and self.may_launch(self.held[0].child, now):
            self.launch(self.held.pop(0))
        if self.aborting:
            self.held = []

    def shorten_held(self, action: Shorten) -> None:
        """A Shorten for a launch still held: it starts with the shorter range."""
        for i, held in enumerate(self.held):
            if held.child == action.child and action.last < held.last:
                self.held[i] = Launch(held.child, held.first, action.last, held.attempt)

    def free_slot(self) -> int:
        """The lowest process slot (and its CPU block) no live child holds."""
        busy = {c.slot for c in self.children if not c.done}
        return next((s for s in range(len(self.blocks)) if s not in busy), 0)

    def launch(self, action: Launch) -> None:
        job = self.job
        slot = self.free_slot()
        child = Child(
            action.child,
            action.first,
            action.last,
            job.plan.step,
            action.attempt,
            self.blocks[slot],
            slot,
            self.frames_of,
        )
        if action.child != len(self.children):
            raise RuntimeError(f"the Scheduler launched child {action.child} out of order")
        self.children.append(child)
        # The launch that takes a shortened child's tail over (now or after a stagger)
        # starts at the frame after its new last one.
        child.predecessor = self.handed_over.pop(action.first, None)
        if action.attempt:
            self.retries += 1
            self.say(
                f"STMPO: [{child.label}] retry {action.attempt} of {job.retries}: frames "
                f"{action.first}-{action.last} ({self.retry_cause(action.first)})"
            )
        argv = child_command(
            job.aerender,
            job.project,
            job.rqindex,
            child.start,
            child.end,
            child.step,
            job.plan.mfr,
            job.output_override,
            job.continue_on_missing,
        )
        env = dict(job.env)
        env["KMP_DUPLICATE_LIB_OK"] = "TRUE"
        env[TAG_VAR] = self.tag(child)
        cpus = child.cpus if self.pinning else None  # no more tries after a failure
        pinned = f", CPUs {cpu_list_text(cpus)}" if cpus else ""
        range_text = self.range_text(child)
        shown_range = f"frames {range_text}, " if range_text else ""
        self.say(
            f"STMPO: starting [{child.label}] ({shown_range}{len(child.frames)} frames{pinned})"
        )
        child.started_wall = time.time()
        child.launched_at = self.clock()
        try:
            started: Started = self.affinity.start(
                lambda suspended: spawn(argv, env, suspended), cpus
            )
        except OSError as exc:
            child.exit_code = -1
            child.eof = True
            child.failure = f"could not start {job.aerender}: {exc.strerror or exc}"
            child.life.move(ChildState.FAILED)
            self.say(f"STMPO: [{child.label}] {child.failure}")
            self.ended(child, retryable=False)
            return
        child.life.move(ChildState.STARTING)
        if started.problem:
            self.say(f"STMPO: warning: CPU affinity failed ({started.problem}); rendering unpinned")
            self.pinning = False
        proc = started.proc
        child.tree = Tree(proc, child.label, started.job)
        assert proc.stdout is not None
        with contextlib.suppress(OSError, ValueError):
            child.pipe = os.fstat(proc.stdout.fileno()).st_ino
        threading.Thread(
            target=read_pieces, args=(child.index, proc.stdout, self.events.put), daemon=True
        ).start()

    def range_text(self, child: Child) -> str:
        """`` for comp frames; `0-49 (comp 0-99 at 25 fps -> 12.5 fps)` at another
        render rate."""
        tb = self.job.plan.timebase
        if tb is None:
            return ""
        frames = child.frames
        shown_frames = f"{frames.start}-{frames.stop - 1}" if len(frames) else "none"
        return (
            f"{shown_frames} (comp {child.start}-{child.end} at {rate_text(tb.comp_rate)} fps "
            f"-> {rate_text(tb.render_rate)} fps)"
        )

    def retry_cause(self, first: int) -> str:
        """Why frames from `first` on are rendered again: the latest failed child that
        had them."""
        for child in reversed(self.children):
            if child.state is ChildState.FAILED and child.start <= first <= child.end:
                return f"{child.label.split()[0]} {child.failure}"
            if child.spoiled and first in child.spoiled:
                return f"{child.label.split()[0]}: frame {first} overwritten by a stopping process"
        return "not rendered"

    def shorten(self, action: Shorten) -> None:
        """The child's range now ends at `last`: stop it once it has reported every
        frame up to there (now, if it has)."""
        child = self.children[action.child]
        if child.done or action.last >= child.end:
            return
        child.end = action.last
        child.shortened = True
        self.handovers += 1
        handover = action.last + child.step
        taker = next(
            (c for c in self.children if c.index > child.index and c.start == handover), None
        )
        if taker is not None:  # the Launch came first in the Scheduler's answer
            taker.predecessor = child.index
        else:
            self.handed_over[handover] = child.index
        self.say(
            f"STMPO: [{child.label}] shortened to frames {child.start}-{child.end}: the rest "
            "goes to another process"
        )
        self.stop_if_through(child)

    def stop_if_through(self, child: Child) -> None:
        """A shortened child that has reported its last frame is stopped (its tree,
        SIGTERM now, SIGKILL after the grace): it must not start the frame after."""
        if not child.shortened or child.confirmed <= child.end or not child.state.alive:
            return
        if child.state is ChildState.STOPPING or child.exit_code is not None:
            return
        child.life.move(ChildState.STOPPING)
        child.stop_reason = "shortened"
        if child.tree is not None:
            child.tree.terminate()
            child.kill_at = self.clock() + self.job.child_grace

    # -- what the children print ---------------------------------------------------
    def handle(self, event: Event) -> None:
        """What one read of a child's pipe gave: each line or piece printed (cut further
        if escaping made it long, every line with the child's prefix), then searched for
        progress and errors together with the end of the previous piece of its line."""
        kind, index, batch = event
        child = self.children[index]
        if kind == "eof":
            child.eof = True
            return
        self.heard(child, batch)
        if child.state is ChildState.STARTING:
            child.life.move(ChildState.RUNNING)
            self.apply(self.scheduler.started(child.index, self.clock()))
        prefix = f"[{child.label}] "
        if len(batch) > 1 and self._handle_plain(child, prefix, batch):
            return
        for text, continued in batch:
            for line in prefixed_lines(prefix, text):
                self.emit(line, flush=False)
            scanned = child.scanner.text(text, continued)
            self.frame_line(child, scanned, continued)
            if not child.error_line and is_error_line(scanned):
                self.error(child, scanned)
            if not child.error_line and is_missing_line(scanned):
                self.missing(child, scanned)

    def _handle_plain(self, child: Child, prefix: str, batch: list[tuple[str, bool]]) -> bool:
        """Many short lines that need no escaping and continue no cut line (a chatty
        child): printed with one write and searched as one text, so the per-line cost
        of the general path is paid per read. False, having done nothing, otherwise."""
        texts, continued = zip(*batch)  # C loops: no Python step a line
        joined = "\n".join(texts)  # markers never span a newline
        if (
            any(continued)
            or max(map(len, texts)) > MAX_LINE - len(prefix)
            or lines_need_escaping(joined)
        ):
            return False
        self.stdout.write(prefix + ("\n" + prefix).join(texts) + "\n")
        child.scanner.carry = texts[-1][-CARRY:]  # the last may be cut: its next piece
        if "(" in joined:
            for text in texts:
                if "(" in text:
                    self.frame_line(child, text, False)
        if not may_hold_problem(joined):  # most reads: one pass, not two searches a line
            return True
        if not child.error_line and is_error_line(joined):
            self.error(child, next((text for text in texts if is_error_line(text)), joined))
        if not child.error_line and is_missing_line(joined):
            self.missing(child, next((t for t in texts if is_missing_line(t)), joined))
        return True

    def error(self, child: Child, line: str) -> None:
        child.error_line = line.strip()[:ERROR_LINE_CHARS]
        child.confirmed_at_error = child.confirmed
        # Before its first frame (no project, no such item, bad arguments): the same
        # launch fails the same way every time, so it is not retried.
        child.error_before_frames = not child.reported

    def frame_line(self, child: Child, line: str, continued: bool) -> None:
        """A progress line: which output frame it names (frameid), then every frame of
        the child's range now reported in order goes to the Scheduler and the tally."""
        marker = frame_marker(line, continued)
        if marker is None:
            return
        frames = self.frames_of.outputs(child.start, child.end)
        shown_frame = None if child.by_count else line_frame(line, self.display_rate, continued)
        if shown_frame is not None and shown_frame not in frames:
            child.by_count = True  # its times do not name its frames: count instead
            shown_frame = None
        if shown_frame is None:
            child.markers.add(marker)
            if len(child.markers) > len(frames):
                return
            shown_frame = frames[len(child.markers) - 1]
        child.reported.setdefault(shown_frame, time.time())
        self.advance(child)

    def advance(self, child: Child) -> None:
        """Move `confirmed` over every frame whose outputs are all reported."""
        now = self.clock()
        changed = False
        while child.confirmed <= child.end and all(
            o in child.reported for o in self.frames_of.outputs_of(child.confirmed)
        ):
            frame = child.confirmed
            child.confirmed += child.step
            changed = self.count_finished(frame) or changed
            self.apply(self.scheduler.frame_done(child.index, frame, now))
        if changed:
            self.report_progress()
        self.stop_if_through(child)

    def count_finished(self, frame: int) -> bool:
        """Count an aerender frame's output frames as done, once whoever rendered it."""
        if frame in self.finished_frames:
            return False
        self.finished_frames.add(frame)
        self.tally.done += len(self.frames_of.outputs_of(frame))
        return True

    def missing(self, child: Child, line: str) -> None:
        """AE reported missing footage, a font or an effect: the child fails on it (the
        frames would be color bars or substitutes), unless ContinueOnMissingFootage is
        on, which only warns, once per child."""
        text = line.strip()[:ERROR_LINE_CHARS]
        if not self.job.continue_on_missing:
            child.error_line = text
            child.missing_line = True
        elif not child.missing_warned:
            child.missing_warned = True
            self.say(
                f"STMPO: warning: [{child.label}] After Effects reports something missing, "
                f"rendering on (ContinueOnMissingFootage): {text}"
            )

    def check_exits(self) -> None:
        now = self.clock()
        for child in list(self.children):
            tree = child.tree
            if tree is None:
                continue
            if child.exit_code is None:
                code = tree.proc.poll()
                if code is None:
                    if child.kill_at is not None and now >= child.kill_at:
                        child.kill_at = None  # a shortened child ignoring SIGTERM
                        self.say_killed(tree, tree.members())
                        tree.kill()
                    continue
                child.exit_code = code
                child.exited_at = now
                child.kill_at = None
                child.life.move(ChildState.EXITED)
                self.adopt_orphans()  # its orphans came to us: claim them before looking
                left = tree.members()
                if left:  # orphans of a child that is gone: end them
                    self.say(
                        f"STMPO: [{child.label}] exited leaving {len(left)} process(es): "
                        f"{', '.join(map(str, left))}; SIGTERM sent"
                    )
                    tree.terminate()
                    child.orphan_kill_at = now + self.job.child_grace
            if child.orphan_kill_at is not None:
                self.check_orphans(child, tree, now)
            if child.done:
                continue
            assert child.exited_at is not None
            waited = now - child.exited_at
            if child.eof or waited > EOF_WAIT + self.job.child_grace:
                self.finish(child)

    # -- orphans (child subreaper) ----------------------------------------------------
    def tag(self, child: Child) -> str:
        """The TAG_VAR value a child's processes inherit: which child, of which task."""
        return f"{os.getpid()}.{child.index}"

    def become_subreaper(self) -> None:
        try:
            self.subreaper = become_subreaper()
        except OSError as exc:
            self.say(
                f"STMPO: warning: cannot become a child subreaper ({shown(exc)}); "
                "a helper that detaches with setsid() may outlive the task"
            )

    def adopt_orphans(self) -> None:
        """Give each orphan that was reparented to us to the child it came from (its
        TAG_VAR, else the child pipe it holds), so it is ended with that child's tree;
        reap the ones that have ended. Orphans nobody claims wait for the task's end.
        `render` starts no process but the children (host facts are read before), so
        any other child of this process is an orphan, never one a caller waits for."""
        if not self.subreaper:
            return
        own = {
            c.tree.pid
            for c in self.children
            if c.tree is not None and c.tree.proc.returncode is None
        }
        strays: dict[int, str] = {}
        for orphan in adopted(own):
            if orphan.gone:
                reap(orphan.pid)
                continue
            owner = self.claimant(orphan.pid)
            if owner is not None and owner.tree is not None:
                owner.tree.adopt(orphan.pid, orphan.name)
            else:
                strays[orphan.pid] = orphan.name
        self.strays = strays

    def claimant(self, pid: int) -> Child | None:
        tag = tag_of(pid)
        for child in self.children:
            if child.tree is not None and tag == self.tag(child):
                return child
        pipes = pipes_of(pid)
        for child in self.children:
            if child.tree is not None and child.pipe in pipes:
                return child
        return None

    def end_strays(self) -> None:
        """At the task's end: orphans no child claimed, SIGTERM then SIGKILL."""
        if not self.strays:
            return
        names = ", ".join(shown(Member(p, n)) for p, n in sorted(self.strays.items()))
        self.say(f"STMPO: ending {len(self.strays)} orphan process(es) no child claims: {names}")
        grace = self.grace()
        ended = end_orphans(list(self.strays), grace, wait=self.keep_up, deadline=self.kill_at)
        if ended.killed:
            self.say(
                f"STMPO: still running {self.grace_text(grace)} s after SIGTERM, SIGKILL: "
                + ", ".join(f"pid {p}" for p in ended.killed)
            )
        if ended.unkillable:
            self.say(
                "STMPO: warning: still running after SIGKILL: "
                + ", ".join(f"pid {p}" for p in ended.unkillable)
            )
        self.strays = {}

    def check_orphans(self, child: Child, tree: Tree, now: float) -> None:
        """Orphans of a child that exited got SIGTERM: done as soon as they are gone,
        SIGKILL only for those still there when the grace ends. The other children
        keep rendering meanwhile."""
        assert child.orphan_kill_at is not None
        left = tree.members()
        due = now >= child.orphan_kill_at
        if self.kill_by is not None and time.monotonic() >= self.kill_by:
            due = True
        if left and due:
            self.say_killed(tree, left)
            tree.kill()
        elif left:
            return
        else:
            self.say(f"STMPO: [{child.label}] leftover processes stopped after SIGTERM")
        child.orphan_kill_at = None

    def say_killed(self, tree: Tree, members: list[Member]) -> None:
        waited = f"{self.job.child_grace:g} s"
        if self.kill_by is not None and tree.term_sent is not None:
            shortened = self.kill_by - tree.term_sent
            if shortened < self.job.child_grace:
                waited = f"{max(0.0, shortened):.1f} s (the cancel's deadline)"
        self.say(
            f"STMPO: [{tree.label}] still running {waited} after SIGTERM, "
            f"SIGKILL: {', '.join(map(str, members))}"
        )

    def say_stopped(self, report: StopReport) -> None:
        """Which processes needed SIGKILL (they cost the grace); or that none did."""
        for tree, members in report.killed:
            self.say_killed(tree, members)
        for tree, members in report.unkillable:
            self.say(
                f"STMPO: warning: [{tree.label}] still running after SIGKILL: "
                f"{', '.join(map(str, members))}"
            )
        if report.asked and not report.killed and not report.unkillable:
            self.say("STMPO: all processes stopped after SIGTERM")

    def finish(self, child: Child) -> None:
        """The child exited and its pipe closed: decide how it ended, then tell the
        Scheduler which frames of its range it rendered."""
        self.judge(child)
        if child.state is ChildState.STOPPED:
            return
        if child.failure:
            if not child.watchdog:  # a watchdog said why when it ended the child
                self.say(f"STMPO: [{child.label}] FAILED: {child.failure}")
        else:
            self.count_range(child)
            ended = " (shortened)" if child.shortened else ""
            self.say(f"STMPO: [{child.label}] done{ended}")
            self.report_progress()
        self.ended(child, retryable=self.retryable(child))
        for taker in self.children:  # a hand-over waits for its predecessor's end
            if taker.predecessor == child.index:
                self.race_check(child, taker)
                if taker.done and not taker.ended_sent:
                    self.ended(taker, retryable=self.retryable(taker))

    def judge(self, child: Child) -> None:
        if child.stop_reason in ("fail-fast", "cancel") and not child.error_line:
            child.life.move(ChildState.STOPPED)
            return
        if child.watchdog:  # its failure is the watchdog's finding, whatever the exit
            child.life.move(ChildState.FAILED)
            return
        shortened_ok = child.stop_reason == "shortened"  # stopped by us: a signal's code
        if child.error_line:
            # The error line is the cause. How the process ended afterwards is a race with
            # fail-fast's SIGTERM, so it comes second and never changes the leading words.
            ended = "exited 0" if child.exit_code == 0 else _exit_text(child.exit_code)
            what = (
                "After Effects reports something missing (ContinueOnMissingFootage is off)"
                if child.missing_line
                else "aerender reported an error"
            )
            child.failure = f"{what}: {child.error_line} (then {ended})"
        elif child.exit_code != 0 and not shortened_ok:
            child.failure = _exit_text(child.exit_code)
        elif self.job.verify_outputs and out.checkable(self.job.item):
            child.failure = self.output_failure(child)
        elif shortened_ok and child.confirmed <= child.end:
            child.failure = f"stopped before reporting frame {child.confirmed}"
        child.life.move(ChildState.FAILED if child.failure else ChildState.SUCCEEDED)

    def retryable(self, child: Child) -> bool:
        """Whether rendering its frames again can help (docs/stmpo-worker.md,
        "Retries"): not after AE reported something missing with
        ContinueOnMissingFootage off, nor after an aerender error before its first
        frame (no project, no such item, bad arguments): those fail the same way every
        time; nor after a startup timeout with a licence or sign-in prompt in its output.
        A crash, a stall, a silent start, a signal, an error mid-render or a missing
        file: yes."""
        if child.missing_line:
            return False
        if child.watchdog == wd.STARTUP and child.licence_line:
            return False  # a licence or sign-in prompt comes back at every launch
        return not (child.error_line and child.error_before_frames)

    def count_range(self, child: Child) -> None:
        """A child that succeeded rendered every frame of its range, reported or not:
        counted without a set entry per frame (a task may span 10^9 frames)."""
        counted = sum(
            len(self.frames_of.outputs_of(f))
            for f in self.finished_frames
            if child.start <= f <= child.end and (f - child.start) % child.step == 0
        )
        self.tally.done += len(child.frames) - counted
        self.finished_frames.difference_update(
            [f for f in self.finished_frames if child.start <= f <= child.end]
        )

    def rendered(self, child: Child) -> Iterable[int]:
        """The frames of the child's range whose files verify: all of them for a child
        that succeeded; for one that failed, each frame whose every output file is
        there, non-empty and written since it started, until MAX_BAD_FRAMES frames did
        not verify (aerender renders a range in order: a launch that stopped early costs
        a stat per frame it rendered plus that many, not one per frame of a huge range;
        the frames after that point are rendered again). A movie or a
        renumbered sequence: all or nothing. Outputs that cannot be checked here: the
        frames it reported."""
        frames = self.frames_of.comp_frames(child.start, child.end)
        if child.missing_line:
            return []  # rendered with color bars or a substitute font: none is right
        if child.confirmed_at_error is not None:
            # An error line: only frames it reported before it count, and never the
            # last of its range (the error may be about finishing it).
            last_good = min(child.confirmed_at_error - child.step, child.end - child.step)
            frames = self.frames_of.comp_frames(child.start, last_good)
        if child.state is ChildState.SUCCEEDED and not child.spoiled:
            return frames
        if child.state is ChildState.SUCCEEDED:
            return [f for f in frames if f not in child.spoiled]
        if not (self.job.verify_outputs and out.checkable(self.job.item)):
            return [f for f in frames if f < child.confirmed]
        if self.whole_launches:
            assert child.started_wall is not None
            ok = not out.output_problems(self.job.item, child.frames, child.started_wall, limit=1)
            return frames if ok else []
        good: list[int] = []
        bad = 0
        for frame in frames:
            if frame in child.spoiled or not self.frame_verifies(frame, child):
                bad += 1
                if bad >= MAX_BAD_FRAMES:
                    break
                continue
            good.append(frame)
        return good

    def frame_verifies(self, frame: int, child: Child) -> bool:
        assert child.started_wall is not None
        item = self.job.item
        return all(
            out.file_problem(path, child.started_wall, keep_existing=item.skip_existing) is None
            for path in out.iter_expected_files(item, self.frames_of.outputs_of(frame))
        )

    def ended(self, child: Child, retryable: bool) -> None:
        """Tell the Scheduler the child is gone and which frames it rendered; a child
        that took over a shortened one's tail waits until that one is gone (the race
        check may still take a frame away from it)."""
        if child.ended_sent:
            return
        predecessor = self.children[child.predecessor] if child.predecessor is not None else None
        if predecessor is not None and not predecessor.done:
            return
        child.ended_sent = True
        rendered = self.rendered(child)
        if self.job.journal is not None:  # verified frames: a retry of the task reuses them
            self.job.journal.record(rendered)
        self.apply(self.scheduler.ended(child.index, self.clock(), rendered, retryable))

    def race_check(self, gone: Child, taker: Child) -> None:
        """After a shortened child is gone: the first frame of the launch that took its
        tail over must not have been written again after the taker reported it (a
        stop slower than a frame could leave a partial file over it). If it was, that
        frame is rendered again (docs/stmpo-worker.md, "Hand-over race")."""
        frame = gone.end + gone.step
        item = self.job.item
        if not (self.job.verify_outputs and out.checkable(item)) or self.whole_launches:
            return
        for output in self.frames_of.outputs_of(frame):
            when = taker.reported.get(output)
            if when is None:
                continue  # not rendered by the taker yet: its own write comes last
            for path in out.iter_expected_files(item, range(output, output + 1)):
                try:
                    mtime = os.stat(path).st_mtime
                except OSError:
                    continue  # missing: the taker's own verification finds it
                if mtime > when + out.MTIME_TOLERANCE:
                    taker.spoiled.add(frame)
                    self.say(
                        f"STMPO: [{taker.label}] frame {frame} was written again by the "
                        f"stopping [{gone.label}] after it was reported: rendering it again"
                    )
                    return

    def output_failure(self, child: Child) -> str:
        """Why a child that exited 0 did not render: '' when each expected file is
        there, non-empty and modified since the child started (outputs.file_problem)."""
        assert child.started_wall is not None
        problems = out.output_problems(self.job.item, child.frames, child.started_wall)
        if not problems:
            return ""
        count = f"{len(problems)}{' or more' if len(problems) >= out.REPORTED_PROBLEMS else ''}"
        files = "; ".join(f"{shown(p.path)} ({p.why})" for p in problems)
        return f"exited 0 but {count} expected output file(s) are missing, empty or stale: {files}"

    def failed(self) -> list[Child]:
        """Children that failed, or will: an aerender error line already decides it."""
        return [c for c in self.children if c.failure or c.error_line]

    def stop_all(self, why: str) -> None:
        """Fail-fast or cancel: no more launches, every tree (and orphan) ended within
        the grace."""
        self.aborting = why
        self.adopt_orphans()
        trees = []
        for child in self.children:
            if child.tree is None:
                continue
            if child.state in (ChildState.STARTING, ChildState.RUNNING):
                child.life.move(ChildState.STOPPING)
            if child.exit_code is None and not child.error_line:
                child.stop_reason = why
            if not child.done or child.tree.group_alive():
                trees.append(child.tree)
                child.orphan_kill_at = None
        if trees:
            grace = self.grace_text(self.grace())
            self.say(f"STMPO: {why}: stopping {len(trees)} process tree(s) (grace {grace} s)")
        self.say_stopped(self.end(trees))

    def end(self, trees: list[Tree]) -> StopReport:
        """End `trees` within the grace, and before a cancel's deadline."""
        return end_trees(trees, self.job.child_grace, wait=self.keep_up, kill_at=self.kill_at)

    def keep_up(self, seconds: float) -> None:
        """While `end_trees` waits for processes to go: keep merging their log lines (a
        process that ignores SIGTERM may go on rendering for the whole grace) and keep
        the monitor's progress current."""
        deadline = time.monotonic() + seconds  # end_trees' own clock
        while True:
            self.drain(timeout=max(0.0, deadline - time.monotonic()))
            self.report_progress()
            if time.monotonic() >= deadline:
                return

    # -- watchdogs and the memory guard (watchdog.py, memory.py) ------------------------
    def heard(self, child: Child, batch: list[tuple[str, bool]]) -> None:
        """A read of a child's output: the first starts its stall clock; before its
        first frame, a licence or sign-in prompt in it is kept for the startup report."""
        if child.first_output_at is None:
            child.first_output_at = self.clock()
        if child.licence_scanned >= wd.LICENCE_SCAN_LINES or child.licence_line:
            return  # a prompt comes at startup: a chatty child's flood is not searched
        if child.last_frame_at is None:
            for text, _continued in batch[: wd.LICENCE_SCAN_LINES - child.licence_scanned]:
                if wd.is_licence_line(text):
                    child.licence_line = text.strip()[:ERROR_LINE_CHARS]
                    break
        child.licence_scanned += len(batch)

    def watch(self, now: float) -> None:
        """Once per loop turn: note which children finished a frame since the last
        turn, and end the tree of one that stalled or never got to its first frame. Its
        failure is retryable (`Child.watchdog`); it fails the task as a failed child
        does, with fail-fast stopping the others."""
        job = self.job
        for child in self.children:
            if child.tree is None or child.exit_code is not None or child.watchdog:
                continue
            if child.state is ChildState.STOPPING:  # shortened, fail-fast: ending anyway
                continue
            seen = max(len(child.reported), len(child.markers))
            if seen > child.frames_seen:
                child.frames_seen, child.last_frame_at = seen, now
            if self.aborting:
                continue
            found = wd.verdict(
                child.launched_at,
                child.first_output_at,
                child.last_frame_at,
                now,
                job.stall_timeout,
                job.startup_timeout,
            )
            if found is None:
                continue
            child.watchdog = found.kind
            if found.kind == wd.STALLED:
                child.failure = wd.stall_message(found.seconds)
            else:
                child.failure = wd.startup_message(found.seconds, child.licence_line)
            self.say(f"STMPO: [{child.label}] {child.failure}; ending it")
            child.life.move(ChildState.STOPPING)
            child.stop_reason = "watchdog"
            self.say_stopped(self.end([child.tree]))
            # Its last lines and the end of its pipe, so it is finished (not among the
            # trees a fail-fast stop then ends again) and its log is complete.
            until = time.monotonic() + EOF_WAIT
            while not child.eof and time.monotonic() < until:
                self.drain(timeout=0.05)
            self.check_exits()

    def may_launch(self, child_index: int, now: float) -> bool:
        """The memory guard: False while less than RamPerProcessGB is available and
        another child runs (re-asked every loop turn); each wait is logged once, with
        the numbers, and counted for the summary."""
        per_process = self.job.ram_per_process_gb
        running = self.running_count()
        available = memory.available_gb(self.job.env) if per_process > 0 and running else None
        if not wd.must_wait_for_memory(available, per_process, running):
            if self.memory_wait_since is not None:
                self.memory_waited += now - self.memory_wait_since
                self.memory_wait_since = None
            return True
        if self.memory_wait_since is None:
            self.memory_wait_since = now
            self.memory_waits += 1
            self.say(
                f"STMPO: waiting to start c{child_index + 1}: {available:.1f} GB available, "
                f"{per_process:g} GB per process"
            )
        return False

    def watch_summary(self) -> list[str]:
        """The summary's watchdog parts: `stalled: c3 f20-29`, `startup timeouts: none`,
        `memory waits: 2 (41 s)`."""
        waited = self.memory_waited
        if self.memory_wait_since is not None:  # still waiting when the task ended
            waited += self.clock() - self.memory_wait_since
        parts = []
        for kind, name in ((wd.STALLED, "stalled"), (wd.STARTUP, "startup timeouts")):
            labels = [c.label for c in self.children if c.watchdog == kind]
            parts.append(f"{name}: {', '.join(labels) or 'none'}")
        parts.append(f"memory waits: {self.memory_waits} ({waited:.0f} s)")
        return parts

    # -- main loop ----------------------------------------------------------------
    def run(self) -> int:
        """Render; the exit status. An unexpected error (stdout gone because the agent
        died, a bug) still ends every tree before it propagates: the children run in
        sessions of their own and would outlive the task."""
        try:
            return self._render()
        except BaseException:
            trees = [c.tree for c in self.children if c.tree is not None]
            with contextlib.suppress(Exception):  # the error to report is the first one
                self.adopt_orphans()
            # Silent (stdout may be what failed), but within a cancel's deadline.
            end_trees(trees, self.job.child_grace, kill_at=lambda: self.kill_by)
            with contextlib.suppress(Exception):
                end_orphans(list(self.strays), self.job.child_grace, deadline=lambda: self.kill_by)
            raise

    def _render(self) -> int:
        job, plan = self.job, self.job.plan
        started = self.clock()
        self.become_subreaper()  # before the first child: its orphans must come to us
        self.say(
            f"STMPO: rendering rq item {job.rqindex} ({job.item.comp!r}) frames "
            f"{plan.ranges[0][0]}-{plan.ranges[-1][1]} step {plan.step}: "
            f"{plan.frame_count} {'output ' if plan.render_ranges else ''}frames in "
            f"{plan.processes} process(es), {job.split_strategy} split, "
            f"{job.retries} retr{'y' if job.retries == 1 else 'ies'} per failed range"
        )
        for reason in plan.reasons:
            self.say(f"STMPO: {reason}")
        if job.output_override is not None:
            self.say(f"STMPO: output path mapped: -output {job.output_override}")
        self.apply(self.scheduler.begin(started))
        while True:
            now = self.clock()
            if self.cancel_requested.is_set() and self.aborting != "cancel":
                self.note_cancel()
                self.stop_all("cancel")
            if not self.aborting:
                self.apply(self.scheduler.tick(now))
                self.launch_held(now)
                self.watch(now)
            self.drain(timeout=self._wait_time())
            self.check_exits()
            if job.fail_fast and not self.aborting and self.scheduler.failure:
                self.stop_all("fail-fast")
            self.refresh_trees()
            if self.all_finished():
                break
            self.report_progress()
        self.drain(timeout=0)
        # Last sweep: whatever is still alive in any child's group, among the
        # descendants seen or among the orphans reparented to us is left over now, and
        # nothing may outlive the task. Ending a helper can orphan its own children,
        # which come to us in turn: so look again, a few rounds at most.
        for _round in range(SWEEP_ROUNDS):
            self.adopt_orphans()
            leftovers = [
                c.tree for c in self.children if c.tree is not None and c.tree.group_alive()
            ]
            if not leftovers and not self.strays:
                break
            if leftovers:
                self.say(f"STMPO: ending {len(leftovers)} leftover process tree(s)")
                self.say_stopped(self.end(leftovers))
            self.end_strays()
        if not self.aborting and self.scheduler.finished:
            self.verify_task()
        return self.summarise(self.clock() - started)

    def verify_task(self) -> None:
        """After the last process: every expected file of the TASK is there, non-empty
        and written by this render (since the task started; with "Skip Existing Files",
        older frames count), whatever each aerender's exit code said."""
        item = self.job.item
        if not (self.job.verify_outputs and out.checkable(item)):
            return
        # A renumbered sequence runs as one launch of the whole range (a retry too), so
        # its names follow the position in the whole range as well. A resumed task
        # checks the runs it rendered: the frames it reused are older than the task and
        # were checked against the journal (size and mtime) before it started.
        problems: list[out.FileProblem] = []
        for first, last in self.runs:
            frames = self.frames_of.outputs(first, last)
            problems += out.output_problems(item, frames, self.started_wall)
            if len(problems) >= out.REPORTED_PROBLEMS:
                problems = problems[: out.REPORTED_PROBLEMS]
                break
        if not problems:
            return
        count = f"{len(problems)}{' or more' if len(problems) >= out.REPORTED_PROBLEMS else ''}"
        files = "; ".join(f"{shown(p.path)} ({p.why})" for p in problems)
        self.verify_problem = (
            f"every process finished but {count} expected output file(s) of the task are "
            f"missing, empty or stale: {files}"
        )
        self.say(f"STMPO: verification FAILED: {self.verify_problem}")

    def refresh_trees(self) -> None:
        now = self.clock()
        if now - self.last_refresh < REFRESH_INTERVAL:
            return
        self.last_refresh = now
        self.adopt_orphans()  # claim orphans while their environment can be read; reap
        running = [c.tree for c in self.children if c.tree is not None and c.exit_code is None]
        if running:
            parents = children_by_parent()
            for tree in running:
                tree.refresh(parents)

    def _wait_time(self) -> float:
        """Up to 0.1 s, less when the Scheduler's next staggered launch is due sooner."""
        wakeup = None if self.aborting else self.scheduler.wakeup()
        if wakeup is None:
            return 0.1
        return max(0.0, min(0.1, wakeup - self.clock()))

    def drain(self, timeout: float) -> None:
        """Handle what the readers queued: wait up to `timeout` for the first event,
        then at most a batch, so children that print without pause cannot keep this
        loop from launching, checking exits or noticing a cancel."""
        try:
            event = self.events.get(timeout=timeout) if timeout > 0 else self.events.get_nowait()
        except queue.Empty:
            return
        try:
            self.handle(event)
            for _ in range(DRAIN_BATCH - 1):
                try:
                    event = self.events.get_nowait()
                except queue.Empty:
                    return
                self.handle(event)
        finally:
            self.stdout.flush()

    def all_finished(self) -> bool:
        for child in self.children:
            if not child.done or child.orphan_kill_at is not None:
                return False
        if self.aborting or self.scheduler.failure:
            return True
        return self.scheduler.finished

    def processes_text(self) -> str:
        """`2/2 processes` (launched of the plan's); `3 launches on 2 processes` once
        retries or hand-overs launched more than the plan's count."""
        slots = self.job.plan.processes
        if self.launched <= slots:
            return f"{self.launched}/{slots} processes"
        return f"{self.launched} launches on {slots} processes"

    def failure_text(self, failed: list[Child]) -> str:
        return _failure_words(failed, self.scheduler.failure)

    def summarise(self, wall: float) -> int:
        failed = self.failed()
        stopped = [c for c in self.children if c.stopped]
        ok = not (self.aborting or self.scheduler.failure or self.verify_problem)
        # The last word, whatever the outcome; a task that rendered all its frames adds
        # what it measured, which a submitter reads back from the job (progress.py).
        measured = self.observed_timings() if ok else None
        self.report_progress(force=True, running=0, measured=measured)
        parts = [
            f"{self.tally.done}/{self.tally.total} frames",
            self.processes_text(),
            f"wall {_clock_text(wall)}",
        ]
        if failed:
            parts.append(
                "failed: " + "; ".join(f"{c.label} ({c.failure or c.error_line})" for c in failed)
            )
        else:
            parts.append("failed: none")
        if stopped:
            parts.append("stopped: " + ", ".join(c.label for c in stopped))
        if self.retries or self.handovers:
            parts.append(f"retries: {self.retries}, hand-overs: {self.handovers}")
        if self.verify_problem:
            parts.append("verification failed")
        parts.extend(self.watch_summary())
        self.say("STMPO summary: " + ", ".join(parts))
        if self.aborting == "cancel":
            self.emit(directive("fail", "STMPO cancelled: every aerender process was stopped"))
            return EXIT_CANCELLED
        if self.scheduler.failure or self.aborting:
            self.emit(directive("fail", self.failure_text(failed)))
            return EXIT_FAILED
        if self.verify_problem:
            self.emit(directive("fail", self.verify_problem))
            return EXIT_FAILED
        return EXIT_OK


def _failure_words(failed: list[Child], why: str) -> str:
    """`aerender failed for frames c1 f0-4: exit code 3; then c3 f2-4: exit code 3 (+1
    more); frames 2-4 not rendered after 2 attempt(s) (no retry left)`: the first failure,
    the last (a retry's, when it differs), how many other ranges failed, and the
    Scheduler's verdict."""
    if not failed:
        return f"aerender failed: {why or 'stopped'}"
    first, last = failed[0], failed[-1]
    text = f"aerender failed for frames {first.label}: {first.failure or first.error_line}"
    if last is not first:
        text += f"; then {last.label}: {last.failure or last.error_line}"
    others = [c for c in failed[1:] if c.attempt == 0]
    if others:
        text += f" (+{len(others)} more)"
    return f"{text}; {why}" if why else text


def write_stdout() -> TextIO:
    """stdout as UTF-8 that never raises on odd characters (Windows consoles)."""
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8", errors="replace")
    return stream
