"""`stmpo run-local`: run a job bundle (or an export) on this machine through openjd-sessions"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TextIO

from stmpo._worker_scripts.stmpo_worker.logtext import text_line
from stmpo.cli_args import add_selection_arguments
from stmpo.errors import Problem, StmpoError


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
        "--standin",
        action="store_true",
        help="with an export: render with the repository's aerender stand-in instead of "
        "After Effects (resources/aerender_standin.py); the export is re-pointed at a "
        "placeholder project and its frames go under --out (default: a fresh temporary "
        "folder, printed); sets the AerenderPath and Python parameters",
    )
    p.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        help="with --standin: the folder for the re-pointed export and the frames "
        "(new, empty, or an earlier one of stmpo demo/--standin)",
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
) -> tuple[Path, tuple[str, ...], str]:
    """Build and write a validated bundle from an export or .aep; returns (dir, warnings,
    the project path the export names).

    `-p` values go to the builder too, because some (ChunkSize) shape the tasks and are
    baked in when the bundle is built.
    """
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export.sources import load_any

    export = load_any(export_path)
    settings = BundleSettings(items=items, frame_overrides=frames, parameters=dict(parameters))
    built = build_bundle(export, settings)
    return Path(write_bundle(built, out)), tuple(built.warnings), export.project.path


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
    from stmpo.local.standin import argument_problems

    overrides = parse_assignments(args.parameter)
    source = Path(args.input)
    problems = argument_problems(
        standin=args.standin, out=args.out, bundle_input=source.is_dir(), overrides=overrides
    )
    if problems:
        raise StmpoError(problems)
    cleanup: Callable[[], None] = lambda: None  # noqa: E731
    standin_out: Path | None = None
    missing_project: str | None = None
    if source.is_dir():
        if args.items is not None or args.frames:
            raise StmpoError([Problem("--items/--frames", "only apply to an export input")])
        bundle_dir = source
    elif source.is_file():
        from stmpo.cli_args import parse_frames, parse_items

        items, frames = parse_items(args.items), parse_frames(args.frames)
        if args.standin:
            from stmpo.local.standin import prepare_standin_export, standin_parameters

            source, standin_out = prepare_standin_export(source, args.out)
            overrides = {**overrides, **standin_parameters()}
        workdir = Path(tempfile.mkdtemp(prefix="stmpo-run-local-bundle-"))
        if not args.keep_session_dir:
            cleanup = lambda: shutil.rmtree(workdir, ignore_errors=True)  # noqa: E731
        try:
            bundle_dir, warnings, project = bundle_export(
                source, items, frames, overrides, workdir / "bundle"
            )
        except BaseException:
            cleanup()
            if standin_out is not None and args.out is None:  # our fresh folder, unused
                shutil.rmtree(standin_out, ignore_errors=True)
            raise
        for warning in warnings:
            print(text_line(f"stmpo run-local: warning: {warning}"), file=sys.stderr)
        print(f"stmpo run-local: built bundle {bundle_dir}", file=sys.stderr)
        if standin_out is None and not os.path.exists(project):
            missing_project = project
        if standin_out is not None:
            print(
                text_line(
                    "stmpo run-local: --standin: rendering with the aerender stand-in; "
                    f"frames go under {standin_out / 'frames'}"
                ),
                file=sys.stderr,
            )
    else:
        raise StmpoError([Problem(str(source), "no such bundle directory or export file")])
    try:
        become_subreaper()
        status = _run_bundle_dir(bundle_dir, overrides, args)
    finally:
        cleanup()
    if standin_out is not None:
        print(text_line(f"stmpo run-local: frames in {standin_out / 'frames'}"), file=sys.stderr)
    if status != 0 and missing_project is not None:
        from stmpo.local.standin import standin_hint

        print(text_line(standin_hint(args.input, missing_project)), file=sys.stderr)
    return status


def _run_bundle_dir(
    bundle_dir: Path, overrides: Mapping[str, str], args: argparse.Namespace
) -> int:
    from stmpo.local.console_run import exit_status, run_with_display, summary_lines
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
