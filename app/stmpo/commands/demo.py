"""`stmpo demo`: render the sample project with the aerender stand-in, end to end"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from stmpo.errors import Problem, StmpoError, writing
from stmpo.output_paths import follow_link

EXAMPLE = "image_sequence.json"


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "demo",
        help="render the sample project with the aerender stand-in: export, bundle, "
        "validation, local session, STMPO fan-out",
        description=(
            "Renders resources/examples/image_sequence.json (or EXPORT) with the aerender stand-in "
            "through the whole product: export, job bundle, OpenJD validation, a local "
            "openjd-sessions session and the STMPO worker fanning the frames out over "
            "several processes; then once more with one process, to compare."
        ),
    )
    p.add_argument(
        "export",
        nargs="?",
        type=Path,
        metavar="EXPORT",
        help="the export JSON or saved .aep to render (default: "
        f"resources/examples/{EXAMPLE}); any shipped sample works",
    )
    p.add_argument(
        "--out", type=Path, default=Path("demo-out"), help="demo folder (default ./demo-out)"
    )
    p.add_argument(
        "--frame-sec",
        type=float,
        default=0.15,
        help="stand-in CPU seconds per frame (default 0.15)",
    )
    p.add_argument(
        "--startup-sec",
        type=float,
        default=2.0,
        help="stand-in idle seconds per process start, like AE loading (default 2)",
    )
    p.add_argument(
        "--concurrency",
        type=int,
        default=default_concurrency(),
        help="aerender processes at once; 0 = STMPO's auto plan, which keeps two logical "
        "CPUs per aerender and so picks 1 on a 2-CPU machine (default: one per CPU core, "
        f"2 to 8, here {default_concurrency()})",
    )
    p.add_argument(
        "--no-baseline",
        action="store_true",
        help="skip the one-process comparison run",
    )
    p.set_defaults(handler=run)


def default_concurrency() -> int:
    """One stand-in per core: it renders a frame on one core."""
    return max(2, min(os.cpu_count() or 2, 8))


@dataclass(frozen=True)
class RunStats:
    seconds: float
    processes: int
    peak: int
    """Most stand-in processes alive at the same time."""


def trace_stats(trace: Path, seconds: float) -> RunStats:
    """Processes and peak parallelism from the stand-in's trace (start/end per pid)."""
    starts: dict[int, float] = {}
    ends: dict[int, float] = {}
    if trace.is_file():
        for line in trace.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if record.get("event") == "start":
                starts[int(record["pid"])] = float(record["t"])
            elif record.get("event") == "end":
                ends[int(record["pid"])] = float(record["t"])
    edges = sorted(
        [(t, 1) for t in starts.values()] + [(ends.get(pid, float("inf")), -1) for pid in starts],
        key=lambda e: (e[0], e[1]),
    )
    alive = peak = 0
    for _t, delta in edges:
        alive += delta
        peak = max(peak, alive)
    return RunStats(seconds=seconds, processes=len(starts), peak=peak)


def _clear_frames(out: Path) -> None:
    frames = out / "frames"
    for folder in sorted(p for p in frames.rglob("*") if p.is_dir()) if frames.is_dir() else []:
        for file in folder.iterdir():
            if file.is_file():
                file.unlink()


def run(args: argparse.Namespace) -> int:
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.local.console_run import exit_status, run_with_display, summary_lines
    from stmpo.local.demo import expected_frames, prepare_demo_folder, write_demo_inputs
    from stmpo.local.orphans import become_subreaper
    from stmpo.local.parameters import prepare_job, read_bundle
    from stmpo.locations import aerender_standin, examples_dir

    if args.frame_sec < 0 or args.startup_sec < 0:
        raise StmpoError([Problem("--frame-sec/--startup-sec", "cannot be negative")])
    if args.concurrency < 0:
        raise StmpoError([Problem("--concurrency", "must be 0 (auto) or more")])
    source: Path = args.export if args.export is not None else examples_dir() / EXAMPLE
    _check_renderable(source)
    with writing("--out"):
        out = follow_link(args.out.absolute())
        prepare_demo_folder(out)
        export_path, export = write_demo_inputs(source, out)
    become_subreaper()
    say = _Say()

    say(f"export   {export_path}  (from {source})")
    parameters = {
        "AerenderPath": str(aerender_standin()),
        "Python": sys.executable,
        "Concurrency": str(args.concurrency),
        "RamPerProcessGB": "0.5",
        # The stand-in renders a frame on one core, as aerender does without
        # Multi-Frame Rendering: let the auto plan count one core per process.
        "DisableMFR": "true",
        "SpawnDelay": "0.2",
        "ChildGraceSec": "5",
    }
    built = build_bundle(export, BundleSettings(parameters=parameters))
    bundle = Path(write_bundle(built, out / "bundle", overwrite=True))
    say(f"bundle   {bundle}  (validated with openjd-model)")
    expected = expected_frames(export)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    os.environ["STANDIN_FRAME_SEC"] = str(args.frame_sec)
    os.environ["STANDIN_STARTUP_SLEEP_SEC"] = str(args.startup_sec)

    def render(label: str, overrides: Mapping[str, str]) -> tuple[int, RunStats]:
        prepared = prepare_job(read_bundle(bundle), overrides)
        trace = logs / f"trace-{label}.jsonl"
        os.environ["STANDIN_TRACE"] = str(trace)
        say(f"render   {label}: log in {logs / (label + '.log')}")
        started = time.monotonic()
        with (logs / f"{label}.log").open("w", encoding="utf-8") as log:
            result, received = run_with_display(prepared, out=log)
        stats = trace_stats(trace, time.monotonic() - started)
        for line in summary_lines(str(prepared.job.name), result):
            say(f"         {line}")
        return exit_status(result, received), stats

    baseline: RunStats | None = None
    if not args.no_baseline:
        status, baseline = render("one-process", {"Concurrency": "1"})
        if status != 0:
            return status
        _clear_frames(out)
    status, stmpo = render("stmpo", {})
    if status != 0:
        return status

    missing = [f for f in expected if not f.is_file()]
    on_disk = [f for f in expected if f.is_file()]
    folders = sorted({str(f.parent) for f in expected})
    say("")
    say(f"frames   {len(on_disk)} of {len(expected)} in {', '.join(folders)}")
    say(f"STMPO    {stmpo.seconds:.1f}s with {_processes(stmpo)}")
    if baseline is not None:
        speedup = baseline.seconds / stmpo.seconds if stmpo.seconds > 0 else 0.0
        say(f"one      {baseline.seconds:.1f}s with {_processes(baseline)}")
        say(f"speed-up {speedup:.2f}x on {os.cpu_count()} CPU cores (whole job, session included)")
        if hasattr(os, "getloadavg"):
            load = os.getloadavg()[0]
            say(f"         load average {load:.1f}: the times vary with other work on the CPUs")
    if missing:
        say(f"MISSING  {len(missing)} frames, first: {missing[0]}")
        return 1
    return 0


def _check_renderable(source: Path) -> None:
    """The demo renders the export's preselected items and has no `--items`: an export
    with none (the `edge_cases/` sample) is refused before anything is written, with the
    command that can pick them."""
    from stmpo.export.sources import load_any

    if not load_any(source).renderable_items:
        raise StmpoError(
            [
                Problem(
                    str(source),
                    "has no preselected item for the demo to render; pick items with "
                    f"stmpo run-local {shlex.quote(str(source))} --standin --items N",
                )
            ]
        )


def _processes(stats: RunStats) -> str:
    plural = "es" if stats.processes != 1 else ""
    return f"{stats.processes} aerender process{plural} ({stats.peak} at once)"


class _Say:
    def __call__(self, text: str) -> None:
        print(f"stmpo demo: {text}" if text else "", flush=True)
