"""Running a prepared job on this machine with progress on the terminal, for
`stmpo run-local` and `stmpo demo` alike: the same display, Ctrl-C handling, exit
statuses and closing summary, so the demo shows what a real local run would.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any, TextIO

from stmpo.local.parameters import PreparedJob
from stmpo.local.progress import Console
from stmpo.local.runner import RunResult, run_job

EXIT_FAILED = 1
EXIT_SIGNAL_BASE = 128


@contextlib.contextmanager
def cancel_on_signals(
    cancel: threading.Event, force: threading.Event, received: list[int]
) -> Iterator[None]:
    """First SIGINT/SIGTERM cancels the job, a second one also cancels its cleanup.

    The handler only sets events: the runner's waiting loop does the canceling, so no
    lock is ever taken inside a signal handler.
    """

    def handler(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)
        (force if cancel.is_set() else cancel).set()

    previous: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_with_display(
    prepared: PreparedJob, *, out: TextIO, keep_session_dir: bool = False, verbose: bool = False
) -> tuple[RunResult, list[int]]:
    """Run a job with progress on stderr, its output to `out`, Ctrl-C/SIGTERM canceling.

    Returns the result and the signals received (the first decides the exit status).
    """
    cancel, force = threading.Event(), threading.Event()
    received: list[int] = []
    live = sys.stderr.isatty()
    shared = live and out is sys.stdout and out.isatty()
    console = Console(out, sys.stderr, live=live, shared_terminal=shared)
    with cancel_on_signals(cancel, force, received):
        result = run_job(
            prepared,
            on_progress=console.on_progress,
            log=console.log_line,
            cancel_event=cancel,
            force_cancel_event=force,
            keep_session_dir=keep_session_dir,
            verbose=verbose,
        )
    return result, received


def exit_status(result: RunResult, received: list[int]) -> int:
    """0 all tasks succeeded, 1 failed, 128+signal when a signal canceled the job."""
    if result.canceled:
        return EXIT_SIGNAL_BASE + (received[0] if received else signal.SIGINT)
    return 0 if result.succeeded else EXIT_FAILED


def summary_lines(job_name: str, result: RunResult) -> list[str]:
    """What happened, for the end of the run (also used by `stmpo demo`)."""
    lines: list[str] = []
    done = f"{result.tasks_succeeded}/{result.tasks_total} tasks"
    if result.succeeded:
        lines.append(f"job '{job_name}' succeeded: {done} in {result.duration_seconds:.1f}s")
    elif result.canceled:
        where = f" during {result.failed_action.describe()}" if result.failed_action else ""
        lines.append(f"job '{job_name}' canceled{where}: {done} finished")
    else:
        ref = result.failed_action
        what = ref.describe() if ref is not None else "the job"
        reason = result.fail_message or (
            f"exit code {result.exit_code}" if result.exit_code is not None else "failed"
        )
        lines.append(f"job '{job_name}' FAILED at {what}: {reason}")
        if ref is not None and ref.kind == "task" and ref.task_number < result.tasks_total:
            lines.append(f"later tasks were not run ({done} succeeded)")
    if result.orphans_stopped:
        pids = ", ".join(str(p) for p in result.orphans_stopped)
        lines.append(f"stopped processes left behind by the job: {pids}")
    if result.session_dir is not None:
        lines.append(f"session directory kept: {result.session_dir}")
    return lines
