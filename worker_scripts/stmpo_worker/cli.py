"""Worker command line: `render`, `prepare-outputs`, `remove-fonts`, `cache-refresh`,
`cache-writeback`, `cache-check` (docs/architecture.md, docs/file-cache.md).

Exit status: 0 success; 1 a render or preparation failed; 2 bad arguments or setup
(named argument, aerender not found, unreadable path mapping rules); 143 cancelled.
Every failure also prints one `openjd_fail:` line so the Deadline task shows why.
Every line printed here, on stdout or stderr, is made by `logtext`: argument values,
paths, font names and exception texts are outside text and must not steer OpenJD.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import NoReturn, TextIO

from . import journal as jr
from . import outputs as out
from .aerender import AerenderNotFound, resolve_aerender
from .affinity import default_backend
from .contract import (
    MAX_FRAME_NUMBER,
    SETTINGS,
    Setting,
    in_scripts,
    item_path,
    read_json_file,
    setting,
    variable_for,
)
from .logtext import directive, shown, text_line
from .orchestrator import EXIT_FAILED, EXIT_OK, Orchestrator, RenderJob, write_stdout
from .pathmap import JUNCTIONS_VAR, PathMappingError, junction_rules, load_rules, map_path
from .planning import StmpoSettings, child_summaries, plan_render
from .timings import ASSUMED, read_timings, record_timings
from .topology import os_name, read_host_facts

EXIT_USAGE = 2
#: Longer numbers are beyond every bound below (and int() of 4300+ digits raises).
_MAX_DIGITS = 12
_INTEGER = re.compile(rf"^[+-]?\d{{1,{_MAX_DIGITS}}}\Z", re.ASCII)
_FRAMES = re.compile(r"^\s*(-?\d+)\s*(?:-\s*(-?\d+)\s*)?$", re.ASCII)
#: The job environment's variable for the AerenderPath job parameter (the `STMPO_*`
#: variables that carry job parameters to every action of the session).
AERENDER_VARIABLE = "STMPO_AERENDER_PATH"
EXIT_INTERRUPTED = 130  # 128 + SIGINT; `render` turns SIGINT into 143 once it has started


class _Parser(argparse.ArgumentParser):
    """argparse whose errors name the argument, exit 2, and tell OpenJD why."""

    def error(self, message: str) -> NoReturn:
        # `message` quotes the command line (unrecognized arguments, invalid choices).
        print(directive("fail", f"{self.prog}: {message}"), flush=True)
        self.exit(EXIT_USAGE, text_line(f"{self.prog}: error: {message}") + "\n")


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "1", "yes", "on"):
        return True
    if lowered in ("false", "0", "no", "off", ""):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {value!r}")


def _int_between(low: int, high: int) -> type[int]:
    """An integer in `low..high`: the bound keeps what the value sizes (processes, frame
    ranges) within what one host can hold."""

    def parse(value: str) -> int:
        text = value.strip()
        if not _INTEGER.match(text):
            raise argparse.ArgumentTypeError(f"expected an integer, got {shown(value, 40)}")
        number = int(text)
        if number < low or number > high:
            raise argparse.ArgumentTypeError(f"must be {low} to {high}, got {number}")
        return number

    return parse  # type: ignore[return-value]


def _float_at_least(low: float, strict: bool = False, high: float | None = None) -> type[float]:
    """A finite number from `low` (above it when `strict`) up to `high`, the job
    template's own maxValue: a delay or grace of 1e308 s would never end the task."""

    def parse(value: str) -> float:
        try:
            number = float(value.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {value!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {value!r}")
        if number < low or (strict and number == low):
            raise argparse.ArgumentTypeError(
                f"must be {'above' if strict else 'at least'} {low:g}, got {number:g}"
            )
        if high is not None and number > high:
            raise argparse.ArgumentTypeError(f"must be at most {high:g}, got {number:g}")
        return number

    return parse  # type: ignore[return-value]


def _frames(value: str) -> tuple[int, int]:
    match = _FRAMES.match(value)
    if not match:
        raise argparse.ArgumentTypeError(f"expected S-E (for example 0-99), got {shown(value)}")
    numbers = [g for g in match.groups() if g is not None]
    for text in numbers:
        if len(text.lstrip("-")) > _MAX_DIGITS or abs(int(text)) > MAX_FRAME_NUMBER:
            raise argparse.ArgumentTypeError(
                f"frame {shown(text, 40)} is beyond +-{MAX_FRAME_NUMBER} (the export's frame bound)"
            )
    start = int(numbers[0])
    end = int(numbers[-1])
    if end < start:
        raise argparse.ArgumentTypeError(f"end {end} is before start {start}")
    return start, end


def _text(value: str) -> str:
    return value


def _parser_for(row: Setting) -> Callable[[str], object]:
    """The argparse `type` of a table row: its kind and bounds, nothing restated."""
    if row.kind == "bool":
        return _bool
    if row.kind == "int":
        return _int_between(int(row.low or 0), int(row.high or 0))
    if row.kind == "float":
        return _float_at_least(row.low or 0.0, high=row.high)
    if row.kind == "choice":
        return _choice(row.choices)
    return _text


def _choice(choices: tuple[str, ...]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        text = value.strip().lower()
        if text not in choices:
            raise argparse.ArgumentTypeError(
                f"expected {' or '.join(choices)}, got {shown(value, 40)}"
            )
        return text

    return parse


def _job_settings() -> dict[str, tuple[Callable[[str], object], object]]:
    """Parser and default of every job setting (`contract.SETTINGS` rows with a job
    parameter)."""
    return {row.flag: (_parser_for(row), row.default) for row in SETTINGS if row.parameter}


def apply_job_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    """Fill every job setting not given on the command line from its environment
    variable (set by the job environment), else its default; ArgumentProblem naming the
    variable when its value is unusable. An empty variable counts as unset (Windows
    cannot hold an empty one)."""
    for option, (kind, default) in _job_settings().items():
        dest = option.lstrip("-").replace("-", "_")
        if getattr(args, dest) is not None:
            continue
        variable = variable_for(option)
        value = environ.get(variable, "")
        if not value.strip():
            setattr(args, dest, default)
            continue
        try:
            setattr(args, dest, kind(value))
        except argparse.ArgumentTypeError as exc:
            raise out.ArgumentProblem(f"{variable} (for {option})", str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="stmpo_render.py", description="STMPO worker side.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    render = sub.add_parser("render", help="render a frame range with N aerender processes")
    render.add_argument("--rqindex", type=_int_between(1, MAX_FRAME_NUMBER), default=None)
    render.add_argument("--frames", required=True, type=_frames, help="S-E, inclusive")
    render.add_argument("--step", type=_int_between(1, MAX_FRAME_NUMBER), default=None)
    render.add_argument("--item", default="", help="item file name in scripts/items (rq003)")
    render.add_argument("--item-b64", default="", help="base64 JSON {comp, outputs}")
    for option, (kind, _default) in _job_settings().items():
        # None: not given, so the job environment's variable (or the default) applies.
        render.add_argument(option, type=kind, default=None, help=setting(option).help)
    render.add_argument("--path-mapping-rules", default="")
    for row in SETTINGS:
        if row.parameter is None:  # per-task flags: their own default applies at once
            if row.kind == "bool":  # `--dry-run` alone means true
                render.add_argument(
                    row.flag, type=_bool, default=row.default, nargs="?", const=True, help=row.help
                )
            else:
                render.add_argument(
                    row.flag, type=_parser_for(row), default=row.default, help=row.help
                )
    render.set_defaults(handler=run_render)

    prep = sub.add_parser(
        "prepare-outputs", help="preflight (Python, aerender), create output folders, install fonts"
    )
    dirs = prep.add_mutually_exclusive_group(required=True)
    dirs.add_argument("--dirs-file", default="", help="JSON list; relative = in scripts/")
    dirs.add_argument("--dirs-b64", default="")
    prep.add_argument(
        "--aerender-path",
        default=None,
        help=f"as `render` takes it; not given: ${AERENDER_VARIABLE}, then AERENDER_PATH, PATH...",
    )
    prep.add_argument("--path-mapping-rules", default="")
    prep.add_argument("--fonts-dir", default="", help="relative = in scripts/")
    prep.add_argument("--font-state", default="")
    prep.add_argument("--strict-fonts", type=_bool, default=False)
    prep.set_defaults(handler=run_prepare_outputs)

    remove = sub.add_parser("remove-fonts", help="remove the fonts prepare-outputs installed")
    remove.add_argument("--font-state", required=True)
    remove.set_defaults(handler=run_remove_fonts)
    _add_cache_parsers(sub)
    return parser


def _add_cache_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """The file cache steps (cachesteps.py, docs/file-cache.md): settings from the
    STMPO_CACHE_* variables, files from scripts/cache.json."""
    refresh = sub.add_parser(
        "cache-refresh", help="release stale cached inputs and restore them (lfs)"
    )
    refresh.add_argument("--path-mapping-rules", default="")
    refresh.set_defaults(handler=_cache_handler("run_cache_refresh"))

    writeback = sub.add_parser(
        "cache-writeback", help="archive the files this task rendered and wait (lfs)"
    )
    writeback.add_argument("--item", required=True, help="item name in cache.json (rq003)")
    writeback.add_argument("--frames", required=True, type=_frames, help="S-E, inclusive")
    writeback.add_argument("--step", type=_int_between(1, MAX_FRAME_NUMBER), default=1)
    writeback.add_argument("--path-mapping-rules", default="")
    writeback.set_defaults(handler=_cache_handler("run_cache_writeback"))

    check = sub.add_parser("cache-check", help="report outputs that are not archived (lfs)")
    check.add_argument("--path-mapping-rules", default="")
    check.set_defaults(handler=_cache_handler("run_cache_check"))


def _cache_handler(name: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        from . import cachesteps  # only here: `render` never needs it

        return int(getattr(cachesteps, name)(args))

    return handler


def _say(stream: TextIO, text: str) -> None:
    """One ordinary log line, escaped and bounded, flushed."""
    stream.write(text_line(text) + "\n")
    stream.flush()


def _fail(stream: TextIO, text: str) -> None:
    """The one `openjd_fail:` line of a failed command."""
    stream.write(directive("fail", text) + "\n")
    stream.flush()


def _usage_failure(parser_prog: str, message: str) -> int:
    _fail(sys.stdout, message)
    _say(sys.stderr, f"{parser_prog}: error: {message}")
    return EXIT_USAGE


def _load_item(args: argparse.Namespace) -> out.Item:
    """The item from `--item` (a file in scripts/items) or `--item-b64`; the file's
    rqindex and step apply unless given on the command line."""
    if args.item and args.item_b64:
        raise out.ArgumentProblem("--item", "give --item or --item-b64, not both")
    if args.item:
        data = read_json_file(item_path(args.item), "--item")
        item = out.item_from_data(data, "--item")
        for key in ("rqindex", "step"):
            value = data.get(key)
            if getattr(args, key) is None and value is not None:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise out.ArgumentProblem(f"--item: {key}", "must be an integer")
                if not 1 <= value <= MAX_FRAME_NUMBER:
                    raise out.ArgumentProblem(f"--item: {key}", f"must be 1 to {MAX_FRAME_NUMBER}")
                setattr(args, key, value)
    else:
        item = out.parse_item(args.item_b64) if args.item_b64 else out.Item("", ())
    if args.rqindex is None:
        raise out.ArgumentProblem("--rqindex", "required (or an --item file that holds it)")
    if args.step is None:
        args.step = 1
    return item


def run_render(args: argparse.Namespace) -> int:
    stdout = write_stdout()
    prog = "stmpo_render.py render"
    try:
        item = _load_item(args)
        apply_job_settings(args, os.environ)
        if not args.project:
            raise out.ArgumentProblem("--project", f"required (or {variable_for('--project')})")
        rules = load_rules(args.path_mapping_rules)
    except out.ArgumentProblem as exc:
        return _usage_failure(prog, str(exc))
    except PathMappingError as exc:
        return _usage_failure(prog, f"--path-mapping-rules: {exc}")
    try:
        junctions = junction_rules(os.environ, lambda m: _say(stdout, f"STMPO: warning: {m}"))
    except PathMappingError as exc:
        return _usage_failure(prog, str(exc))
    try:
        # A dry run starts nothing: it plans on a host without After Effects too.
        aerender = (
            ""
            if args.dry_run
            else resolve_aerender(args.aerender_path, dict(os.environ), os_name())
        )
    except AerenderNotFound as exc:
        return _usage_failure(prog, str(exc))

    def warn(message: str) -> None:
        _say(stdout, f"STMPO: warning: {message}")

    settings = StmpoSettings(
        concurrency=args.concurrency,
        max_concurrency=args.max_concurrency,
        ram_per_process_gb=args.ram_per_process_gb,
        disable_mfr=args.disable_mfr,
        disable_affinity=args.disable_affinity,
        spawn_delay=args.spawn_delay,
        child_grace_sec=args.child_grace_sec,
        no_kill_on_fail=args.no_kill_on_fail,
    )
    host = read_host_facts("" if args.disable_affinity else args.numa_map, warn)
    start, end = args.frames
    timebase = item.timebase
    if timebase is not None and args.step != 1:
        return _usage_failure(
            prog,
            f"--step: {args.step} with a render frame rate other than the comp's is not "
            "supported (which output frames AE writes then is not modelled; render every frame)",
        )
    if timebase is not None and not len(timebase.render_range(start, end)):
        # A comp range shorter than one output frame (a 1-frame chunk at half the rate):
        # AE writes no file for it, so there is nothing to start and nothing to check.
        _say(stdout, f"STMPO: comp frames {start}-{end} hold no output frame at the render rate")
        stdout.write(directive("progress", "100.0") + "\n")
        _say(stdout, "STMPO summary: 0/0 frames, 0/0 processes, wall 0:00:00, failed: none")
        return EXIT_OK
    timings = read_timings(args.timings)
    plan = plan_render(
        host,
        settings,
        start,
        end,
        args.step,
        item.movie,
        item.renumbered,
        timebase,
        timings,
    )
    mapped = out.mapped_item(out.mapped_item(item, rules), junctions)
    project = map_path(junctions, args.project)
    if junctions:
        _say(stdout, f"STMPO: {JUNCTIONS_VAR}: project {project}")
    if args.verify_outputs and item.outputs and not out.checkable(mapped):
        warn("output paths are not paths on this host (no path mapping rule?): not checked")
    job = RenderJob(
        project=project,
        rqindex=args.rqindex,
        aerender=aerender,
        item=mapped,
        output_override=out.output_override(item, mapped),
        plan=plan,
        spawn_delay=settings.spawn_delay,
        child_grace=settings.child_grace_sec,
        fail_fast=not settings.no_kill_on_fail,
        verify_outputs=args.verify_outputs,
        continue_on_missing=args.continue_on_missing_footage,
        split_strategy=args.split_strategy,
        retries=args.retry_failed_ranges,
        skip_existing_frames=args.skip_existing,
        stall_timeout=args.stall_timeout_sec,
        startup_timeout=args.startup_timeout_sec,
        ram_per_process_gb=settings.ram_per_process_gb,
        startup_estimate=timings.startup if timings else ASSUMED.startup,
        frame_estimate=timings.frame if timings else None,
    )
    if args.dry_run:
        for line in plan_lines(job):
            _say(stdout, f"STMPO: {line}")
        return EXIT_OK
    resumed = _resume(job, start, end, args.step, stdout)
    if resumed is None:
        stdout.write(directive("progress", "100.0") + "\n")
        _say(stdout, "STMPO summary: 0/0 frames, 0/0 processes, wall 0:00:00, failed: none")
        return EXIT_OK
    job = resumed
    _say(
        stdout,
        f"STMPO: host: {host.logical_cpus} logical CPUs, {host.total_ram_gb:.0f} GB RAM, "
        f"{len(host.numa_pools or ())} CPU pool(s), {host.os_name}; aerender: {aerender}",
    )
    orchestrator = Orchestrator(job, stdout, default_backend(warn))
    orchestrator.install_signal_handlers()
    status = orchestrator.run()
    # The session's next task plans with what this one saw (timings.py): the startup and
    # frame times its Scheduler measured.
    measured = orchestrator.observed_timings()
    if args.timings and measured:
        record_timings(args.timings, *measured)
    return int(status)


def plan_lines(job: RenderJob) -> list[str]:
    """What `render --dry-run` prints: the plan's head line, the issue 11 settings as the
    render gets them, the reasons and one line per child, the same text the submitter's
    preview shows for the task."""
    plan = job.plan
    head = (
        f"plan: {plan.frame_count} frames in {plan.processes} "
        f"process{'es' if plan.processes != 1 else ''}, split strategy {job.split_strategy}"
    )
    settings = (
        f"settings: retry failed ranges {job.retries}, skip existing "
        f"{'on' if job.skip_existing_frames else 'off'}, stall timeout {job.stall_timeout:g} s, "
        f"startup timeout {job.startup_timeout:g} s (0 = off)"
    )
    return [head, settings, *plan.reasons, *child_summaries(plan)]


def _resume(job: RenderJob, start: int, end: int, step: int, stdout: TextIO) -> RenderJob | None:
    """SkipExisting (journal.py): `job` rendering only the frames no earlier attempt of
    this job rendered, with the journal its verified frames go to; None when none is
    left. Unchanged when the item cannot resume or no job key is known."""
    if not job.skip_existing_frames:
        return job
    why = jr.not_resumable(job.item)
    if not why and not out.checkable(job.item):
        why = "output paths are not paths on this host"
    if not why and not job.verify_outputs:
        why = "--verify-outputs is false: no frame is verified"
    key, source = jr.job_key(os.environ, job.item.render_id)
    if not why and not key:
        why = source
    if why:
        _say(stdout, f"STMPO: resume: off ({why})")
        return job
    found = jr.resume(
        job.item,
        job.rqindex,
        start,
        end,
        step,
        key,
        lambda m: _say(stdout, m),
        lambda m: _say(stdout, f"STMPO: warning: {m}"),
    )
    if not found.runs:
        return None
    plan = jr.resumed_plan(job.plan, found.runs) if found.reused else job.plan
    return replace(job, plan=plan, journal=found.journal)


def run_prepare_outputs(args: argparse.Namespace) -> int:
    stdout = write_stdout()
    prog = "stmpo_render.py prepare-outputs"
    try:
        if args.dirs_file:
            data = read_json_file(in_scripts(args.dirs_file), "--dirs-file")
            dirs = out.dirs_from_data(data, "--dirs-file")
        else:
            dirs = out.parse_dirs(args.dirs_b64)
        rules = load_rules(args.path_mapping_rules)
    except out.ArgumentProblem as exc:
        return _usage_failure(prog, str(exc))
    except PathMappingError as exc:
        return _usage_failure(prog, f"--path-mapping-rules: {exc}")
    try:
        junctions = junction_rules(os.environ, lambda m: _say(stdout, f"STMPO: warning: {m}"))
    except PathMappingError as exc:
        return _usage_failure(prog, str(exc))
    if bool(args.fonts_dir) != bool(args.font_state):
        return _usage_failure(prog, "--fonts-dir and --font-state go together")
    # Preflight. This runs once per session, before any task: a worker without aerender
    # fails here once, with the reason, instead of failing every task of the job. (An
    # interpreter older than 3.9 never gets here: stmpo_render.py refuses it first.)
    explicit = args.aerender_path
    if explicit is None:  # the job environment may carry the AerenderPath parameter
        explicit = os.environ.get(AERENDER_VARIABLE, "")
    try:
        aerender = resolve_aerender(explicit, dict(os.environ), os_name())
    except AerenderNotFound as exc:
        return _usage_failure(prog, f"preflight: {exc}")
    version = ".".join(str(part) for part in sys.version_info[:3])
    _say(stdout, f"STMPO: preflight: Python {version} ({sys.executable}); aerender: {aerender}")

    failures: list[str] = []
    for directory in dirs:
        mapped = map_path(junctions, map_path(rules, directory))
        if not out.is_host_path(mapped):
            failures.append(
                f"{mapped}: not an absolute path on this worker (missing path mapping rule?)"
            )
            continue
        try:
            os.makedirs(mapped, exist_ok=True)
        except OSError as exc:
            failures.append(f"{mapped}: {exc.strerror or exc}")
            continue
        shown = f"{directory} -> {mapped}" if mapped != directory else mapped
        _say(stdout, f"STMPO: output folder ready: {shown}")
    for failure in failures:
        _say(stdout, f"STMPO: cannot create output folder {failure}")
    if failures:
        _fail(stdout, f"cannot create output folder {failures[0]}")
        return EXIT_FAILED

    if args.fonts_dir:
        from .fonts import install_fonts  # only here: `render` never needs it

        try:
            install_fonts(in_scripts(args.fonts_dir), args.font_state, strict=args.strict_fonts)
        except Exception as exc:
            _say(stdout, f"STMPO: warning: installing fonts failed: {exc}")
            if args.strict_fonts:
                _fail(stdout, f"installing fonts failed: {exc}")
                return EXIT_FAILED
    return EXIT_OK


def run_remove_fonts(args: argparse.Namespace) -> int:
    from .fonts import remove_fonts

    stdout = write_stdout()
    try:
        remove_fonts(args.font_state)
    except Exception as exc:  # cleanup must not fail the finished job
        _say(stdout, f"STMPO: warning: removing fonts failed: {exc}")
    return EXIT_OK


def setup_streams() -> None:
    """The one place the worker's output streams are set up: UTF-8 (what the worker
    agent reads), and a character that cannot be written becomes an escape instead of
    an exception, whatever PYTHONIOENCODING or the console code page says."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(encoding="utf-8", errors="backslashreplace")


def interrupted() -> int:
    """Ctrl+C before `render` installed its handlers (or in the other commands): the
    reason for the task log, one line on stderr, no traceback, and 130 (128 + SIGINT)."""
    with contextlib.suppress(Exception):
        print(directive("fail", "interrupted (Ctrl+C)"), flush=True)
    with contextlib.suppress(Exception):
        print("stmpo_render.py: interrupted", file=sys.stderr, flush=True)
    return EXIT_INTERRUPTED


def main(argv: Sequence[str] | None = None) -> int:
    try:
        setup_streams()
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except KeyboardInterrupt:
        return interrupted()
    except Exception as exc:
        # A bug or an unexpected OSError: Python's own report would print the exception
        # text (maybe a path) raw on stderr, which OpenJD reads too.
        with contextlib.suppress(OSError, ValueError):
            for line in traceback.format_exc().splitlines():
                _say(sys.stderr, line)
            _fail(sys.stdout, f"STMPO worker error: {type(exc).__name__}: {exc}")
        return EXIT_FAILED
