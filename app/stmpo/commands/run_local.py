"""`stmpo run-local`: run a job bundle (or an export) on this machine through openjd-sessions"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from stmpo._worker_scripts.stmpo_worker.logtext import text_line
from stmpo.cli_args import add_selection_arguments
from stmpo.errors import Problem, StmpoError

if TYPE_CHECKING:
    from stmpo.local.parameters import PreparedJob
    from stmpo.local.runner import RunResult

EXIT_FAILED = 1
EXIT_SIGNAL_BASE = 128


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "run-local",
        help="run a job bundle (or an export) on this machine through openjd-sessions",
        description=(
            "Run every task of a job bundle here, the way a Deadline Cloud worker would: "
            "environments entered in order, steps in dependency order, environments exited "
            "in reverse, also after a failure or Ctrl-C. Exit 0 only if every task succeeded."
        ),
    )
    p.add_argument("input", help="a job bundle directory, or an export JSON / .aep to bundle first")
    add_selection_arguments(
        p,
        parameter_help="job parameter value (overrides the bundle's parameter_values); repeatable",
        scope="with an export: ",
    )
    p.add_argument(
        "--log",
        type=Path,
        metavar="FILE",
        help="write the job's output here instead of stdout",
    )
    p.add_argument(
        "--keep-session-dir",
        action="store_true",
        help="keep the session working directory (and a bundle built from an export)",
    )
    p.add_argument(
        "-v", "--verbose", action="store_true", help="also log openjd-sessions' own messages"
    )
    p.set_defaults(handler=run)


def bundle_export(
    export_path: Path,
    items: tuple[int, ...] | None,
    frames: Mapping[int, tuple[int, int, int]],
    parameters: Mapping[str, str],
    out: Path,
) -> tuple[Path, tuple[str, ...]]:
    """Build and write a validated bundle from an export or .aep; returns (dir, warnings).

    `-p` values go to the builder too, because some (ChunkSize) shape the tasks and are
    baked in when the bundle is built.
    """
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export.sources import load_any

    export = load_any(export_path)
    settings = BundleSettings(items=items, frame_overrides=frames, parameters=dict(parameters))
    built = build_bundle(export, settings)
    return Path(write_bundle(built, out)), tuple(built.warnings)


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


#: The first line of every log `--log` writes: what lets a later run replace it, and
#: refuse any other file (an export, a shot's notes) named by mistake.
LOG_HEADER = "# stmpo run-local log"


def _is_log_text(text: str) -> bool:
    return text.startswith(LOG_HEADER)


def _open_log(path: Path | None) -> contextlib.AbstractContextManager[TextIO]:
    if path is None:
        return contextlib.nullcontext(sys.stdout)
    from stmpo.errors import writing
    from stmpo.output_paths import file_target

    with writing("--log"):
        target = file_target(path, ours=_is_log_text, what="a run-local log", head=256)
        target.parent.mkdir(parents=True, exist_ok=True)
        handle = target.open("w", encoding="utf-8")
    handle.write(f"{LOG_HEADER}: {path}\n")
    return handle


def run(args: argparse.Namespace) -> int:
    from stmpo.cli_args import parse_assignments
    from stmpo.local.orphans import become_subreaper

    overrides = parse_assignments(args.parameter)
    source = Path(args.input)
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if source.is_dir():
        if args.items is not None or args.frames:
            raise StmpoError([Problem("--items/--frames", "only apply to an export input")])
        bundle_dir = source
    elif source.is_file():
        from stmpo.cli_args import parse_frames, parse_items

        items, frames = parse_items(args.items), parse_frames(args.frames)
        workdir = Path(tempfile.mkdtemp(prefix="stmpo-run-local-bundle-"))
        if not args.keep_session_dir:
            cleanup = lambda: shutil.rmtree(workdir, ignore_errors=True)  # noqa: E731
        try:
            bundle_dir, warnings = bundle_export(
                source, items, frames, overrides, workdir / "bundle"
            )
        except BaseException:
            cleanup()
            raise
        for warning in warnings:
            print(text_line(f"stmpo run-local: warning: {warning}"), file=sys.stderr)
        print(f"stmpo run-local: built bundle {bundle_dir}", file=sys.stderr)
    else:
        raise StmpoError([Problem(str(source), "no such bundle directory or export file")])
    try:
        become_subreaper()
        return _run_bundle_dir(bundle_dir, overrides, args)
    finally:
        cleanup()


def _run_bundle_dir(
    bundle_dir: Path, overrides: Mapping[str, str], args: argparse.Namespace
) -> int:
    from stmpo.local.parameters import prepare_job, read_bundle

    prepared = prepare_job(read_bundle(bundle_dir), overrides)
    with _open_log(args.log) as out:
        print(
            f"stmpo run-local: running job '{prepared.job.name}' from {bundle_dir}",
            file=sys.stderr,
        )
        result, received = run_with_display(
            prepared, out=out, keep_session_dir=args.keep_session_dir, verbose=args.verbose
        )
    for line in summary_lines(str(prepared.job.name), result):
        print(f"stmpo run-local: {line}", file=sys.stderr)
    return exit_status(result, received)


def run_with_display(
    prepared: PreparedJob, *, out: TextIO, keep_session_dir: bool = False, verbose: bool = False
) -> tuple[RunResult, list[int]]:
    """Run a job with progress on stderr, its output to `out`, Ctrl-C/SIGTERM canceling.

    Returns the result and the signals received (the first decides the exit status).
    """
    from stmpo.local.progress import Console
    from stmpo.local.runner import run_job

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
