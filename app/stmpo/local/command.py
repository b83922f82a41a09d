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
from typing import Any, TextIO

from stmpo.errors import Problem, StmpoError

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
    p.add_argument("input", help="a job bundle directory, or an export JSON to bundle first")
    p.add_argument(
        "-p",
        "--parameter",
        dest="parameters",
        action="append",
        default=[],
        metavar="Name=Value",
        help="job parameter value (overrides the bundle's parameter_values); repeatable",
    )
    p.add_argument(
        "--items",
        help="with an export: render queue indexes to bundle, e.g. 1,3 (default: all renderable)",
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


def parse_items(text: str | None) -> tuple[int, ...] | None:
    """`1,3` -> (1, 3); the builder checks that the indexes exist."""
    if text is None:
        return None
    items: list[int] = []
    for part in text.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise StmpoError(
                [Problem("--items", f"expected render queue indexes like 1,3: {text!r}")]
            )
        items.append(int(part))
    return tuple(items)


def bundle_export(
    export_path: Path, items: tuple[int, ...] | None, parameters: Mapping[str, str], out: Path
) -> tuple[Path, tuple[str, ...]]:
    """Build and write a validated bundle from an export; returns (bundle dir, warnings).

    `-p` values go to the builder too, because some (ChunkSize) shape the tasks and are
    baked in when the bundle is built.
    """
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export.loader import load_export

    export = load_export(export_path)
    built = build_bundle(export, BundleSettings(items=items, parameters=dict(parameters)))
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


def _open_log(path: Path | None) -> contextlib.AbstractContextManager[TextIO]:
    if path is None:
        return contextlib.nullcontext(sys.stdout)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path.open("w", encoding="utf-8")
    except OSError as exc:
        raise StmpoError([Problem("--log", f"cannot write {path}: {exc.strerror}")]) from exc


def run(args: argparse.Namespace) -> int:
    from stmpo.local.orphans import become_subreaper
    from stmpo.local.parameters import parse_assignments

    overrides = parse_assignments(args.parameters)
    source = Path(args.input)
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    if source.is_dir():
        if args.items is not None:
            raise StmpoError([Problem("--items", "only applies when the input is an export")])
        bundle_dir = source
    elif source.is_file():
        workdir = Path(tempfile.mkdtemp(prefix="stmpo-run-local-bundle-"))
        if not args.keep_session_dir:
            cleanup = lambda: shutil.rmtree(workdir, ignore_errors=True)  # noqa: E731
        try:
            bundle_dir, warnings = bundle_export(
                source, parse_items(args.items), overrides, workdir / "bundle"
            )
        except BaseException:
            cleanup()
            raise
        for warning in warnings:
            print(f"stmpo run-local: warning: {warning}", file=sys.stderr)
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
    from stmpo.local.progress import Console
    from stmpo.local.runner import run_job

    prepared = prepare_job(read_bundle(bundle_dir), overrides)
    cancel, force = threading.Event(), threading.Event()
    received: list[int] = []
    with _open_log(args.log) as out:
        live = sys.stderr.isatty()
        console = Console(
            out, sys.stderr, live=live, shared_terminal=live and out is sys.stdout and out.isatty()
        )
        console.message(f"stmpo run-local: running job '{prepared.job.name}' from {bundle_dir}")
        with cancel_on_signals(cancel, force, received):
            result = run_job(
                prepared,
                on_progress=console.on_progress,
                log=console.log_line,
                cancel_event=cancel,
                force_cancel_event=force,
                keep_session_dir=args.keep_session_dir,
                verbose=args.verbose,
            )
    summary = _summary(str(prepared.job.name), result)
    for line in summary:
        print(f"stmpo run-local: {line}", file=sys.stderr)
    if result.canceled:
        return EXIT_SIGNAL_BASE + (received[0] if received else signal.SIGINT)
    return 0 if result.succeeded else EXIT_FAILED


def _summary(job_name: str, result: Any) -> list[str]:
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
