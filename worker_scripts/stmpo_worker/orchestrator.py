"""The imperative shell: start the children, merge their logs, report, fail fast, cancel.

One thread per child only reads its pipe, in bounded pieces, into a bounded queue
(`childlog`): when this thread falls behind, the readers block and the children wait
in `write`, so memory stays bounded whatever they print. This (main) thread is the only
writer of stdout, so log lines are whole and never interleaved, and it alone decides
about launching, failing and cancelling. Every line it prints goes through `logtext`:
outside text (a child's output, paths, comp and process names) is escaped to one
bounded line, and only the worker's own directives start with `openjd_`.

Exit status 0 means every child exited 0, printed no aerender error and wrote every
expected output file (outputs.file_problem).
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TextIO

from . import outputs as out
from .aerender import child_command
from .affinity import AffinityBackend, Started
from .cancelinfo import kill_deadline, read_notify_end, session_directories
from .childlog import CARRY, Event, Scanner, read_pieces
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
    ReportThrottle,
    TaskProgress,
    is_error_line,
    is_missing_line,
    may_hold_problem,
    progress_lines,
)
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
    split_strategy: str = "dynamic"
    retries: int = 1
    skip_existing_frames: bool = True
    stall_timeout: float = 0.0
    startup_timeout: float = 0.0
    env: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    #: SkipExisting: where verified frames are journaled for a retry (journal.py).
    journal: Journal | None = None


@dataclass
class Child:
    index: int
    start: int
    end: int
    step: int
    cpus: tuple[int, ...] | None
    tree: Tree | None = None
    exit_code: int | None = None
    eof: bool = False
    exited_at: float | None = None
    started_wall: float | None = None  # time.time() just before the spawn: file times
    pipe: int | None = None  # inode of its output pipe: an orphan holding it is its own
    orphan_kill_at: float | None = None
    error_line: str = ""
    missing_line: bool = False  # error_line is AE's report of something missing
    missing_warned: bool = False
    failure: str = ""
    done: bool = False
    stopped: bool = False  # ended by fail-fast or cancel, not by itself
    scanner: Scanner = field(default_factory=Scanner)
    #: The frames it writes (output frames at the render rate); None: its comp frames.
    output_frames: range | None = None
    #: How the start line names its range: `0-49 (comp 0-99 at 25 fps -> 12.5 fps)`.
    range_text: str = ""

    @property
    def label(self) -> str:
        return f"c{self.index + 1} f{self.start}-{self.end}"

    @property
    def frames(self) -> range:
        if self.output_frames is not None:
            return self.output_frames
        return range(self.start, self.end + 1, self.step)


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
        blocks: list[tuple[int, ...] | None] = (
            list(plan.cpu_blocks) if plan.cpu_blocks else [None] * plan.processes
        )
        if len(blocks) != len(plan.ranges):
            raise ValueError("a CPU block for every frame range")
        self.children = [  # not zip(strict=True): the worker runs on Python 3.9
            Child(
                i,
                s,
                e,
                plan.step,
                blocks[i],
                output_frames=plan.child_frames(i) if plan.render_ranges is not None else None,
                range_text=plan.range_text(i) if plan.render_ranges is not None else "",
            )
            for i, (s, e) in enumerate(plan.ranges)
        ]
        self.progress = TaskProgress([len(c.frames) for c in self.children])
        self.throttle = ReportThrottle(PROGRESS_INTERVAL)
        self.events: queue.Queue[Event] = queue.Queue(maxsize=QUEUE_EVENTS)
        self.cancel_requested = threading.Event()
        self.cancel_noted = False  # cancel_info.json read (once, at the first cancel)
        self.kill_by: float | None = None  # time.monotonic(): SIGKILL all by then (cancel)
        self.started_wall = time.time()  # a cancel_info.json older than this is stale
        self.aborting = ""  # "fail-fast" or "cancel" once we stop everything
        self.launched = 0
        self.last_refresh = 0.0  # clock() of the last descendant scan
        self.subreaper = False  # orphans of the children are reparented to us (Linux)
        self.strays: dict[int, str] = {}  # adopted orphans no child claims: pid -> name

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

    def report_progress(self, force: bool = False, running: int | None = None) -> None:
        """Offer the current progress+status pair; called on every change and every
        poll, so a report the rate limit held goes out once its window expires."""
        if running is None:
            running = self.running_count()
        lines = self.throttle.offer(
            progress_lines(self.progress, running), self.clock(), force=force
        )
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

    # -- children -----------------------------------------------------------------
    def launch(self, child: Child) -> None:
        job = self.job
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
        shown_range = f"frames {child.range_text}, " if child.range_text else ""
        self.say(
            f"STMPO: starting [{child.label}] ({shown_range}{len(child.frames)} frames{pinned})"
        )
        child.started_wall = time.time()
        try:
            started: Started = self.affinity.start(
                lambda suspended: spawn(argv, env, suspended), cpus
            )
        except OSError as exc:
            child.exit_code = -1
            child.eof = True
            child.done = True
            child.failure = f"could not start {job.aerender}: {exc.strerror or exc}"
            self.say(f"STMPO: [{child.label}] {child.failure}")
            return
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

    def handle(self, event: Event) -> None:
        """What one read of a child's pipe gave: each line or piece printed (cut further
        if escaping made it long, every line with the child's prefix), then searched for
        progress and errors together with the end of the previous piece of its line."""
        kind, index, batch = event
        child = self.children[index]
        if kind == "eof":
            child.eof = True
            return
        prefix = f"[{child.label}] "
        if len(batch) > 1 and self._handle_plain(child, prefix, batch):
            return
        for text, continued in batch:
            for line in prefixed_lines(prefix, text):
                self.emit(line, flush=False)
            scanned = child.scanner.text(text, continued)
            if self.progress.feed(index, scanned, continued):
                self.report_progress()
            if not child.error_line and is_error_line(scanned):
                child.error_line = scanned.strip()[:ERROR_LINE_CHARS]
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
        if self.progress.feed_lines(child.index, joined):
            self.report_progress()
        if not may_hold_problem(joined):  # most reads: one pass, not two searches a line
            return True
        if not child.error_line and is_error_line(joined):
            first = next((text for text in texts if is_error_line(text)), joined)
            child.error_line = first.strip()[:ERROR_LINE_CHARS]
        if not child.error_line and is_missing_line(joined):
            self.missing(child, next((t for t in texts if is_missing_line(t)), joined))
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
        for child in self.children:
            tree = child.tree
            if tree is None:
                continue
            if child.exit_code is None:
                code = tree.proc.poll()
                if code is None:
                    continue
                child.exit_code = code
                child.exited_at = now
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
        child.done = True
        if child.stopped:
            return
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
        elif child.exit_code != 0:
            child.failure = _exit_text(child.exit_code)
        elif self.job.verify_outputs and out.checkable(self.job.item):
            child.failure = self.output_failure(child)
        if child.failure:
            self.say(f"STMPO: [{child.label}] FAILED: {child.failure}")
        else:
            self.progress.child_finished(child.index)
            if self.job.journal is not None:  # its frames verified: a retry reuses them
                self.job.journal.record(child.frames)
            self.say(f"STMPO: [{child.label}] done")
            self.report_progress()

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
            if not child.done and child.exit_code is None and not child.error_line:
                child.stopped = True
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
            f"{plan.processes} process(es)"
        )
        for reason in plan.reasons:
            self.say(f"STMPO: {reason}")
        if job.output_override is not None:
            self.say(f"STMPO: output path mapped: -output {job.output_override}")
        next_launch = started
        while True:
            now = self.clock()
            if self.cancel_requested.is_set() and self.aborting != "cancel":
                self.note_cancel()
                self.stop_all("cancel")
            if not self.aborting and self.launched < len(self.children) and now >= next_launch:
                self.launch(self.children[self.launched])
                self.launched += 1
                next_launch = now + job.spawn_delay
            self.drain(timeout=self._wait_time(next_launch))
            self.check_exits()
            if job.fail_fast and not self.aborting and self.failed():
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
        return self.summarise(self.clock() - started)

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

    def _wait_time(self, next_launch: float) -> float:
        if self.aborting or self.launched >= len(self.children):
            return 0.1
        return max(0.0, min(0.1, next_launch - self.clock()))

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
        for child in self.children[: self.launched]:
            if not child.done or child.orphan_kill_at is not None:
                return False
        return bool(self.aborting) or self.launched == len(self.children)

    def summarise(self, wall: float) -> int:
        failed = self.failed()
        stopped = [c for c in self.children if c.stopped]
        not_started = len(self.children) - self.launched
        self.report_progress(force=True, running=0)  # the last word, whatever the outcome
        parts = [
            f"{self.progress.done}/{self.progress.total} frames",
            f"{self.launched}/{len(self.children)} processes",
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
        if not_started:
            parts.append(f"not started: {not_started}")
        self.say("STMPO summary: " + ", ".join(parts))
        if self.aborting == "cancel":
            self.emit(directive("fail", "STMPO cancelled: every aerender process was stopped"))
            return EXIT_CANCELLED
        if failed:
            first = failed[0]
            more = f" (+{len(failed) - 1} more)" if len(failed) > 1 else ""
            why = first.failure or first.error_line
            self.emit(directive("fail", f"aerender failed for frames {first.label}: {why}{more}"))
            return EXIT_FAILED
        return EXIT_OK


def write_stdout() -> TextIO:
    """stdout as UTF-8 that never raises on odd characters (Windows consoles)."""
    stream = sys.stdout
    reconfigure = getattr(stream, "reconfigure", None)
    if reconfigure is not None:
        with contextlib.suppress(ValueError, OSError):
            reconfigure(encoding="utf-8", errors="replace")
    return stream
