"""`stmpo bundle`: write a validated Deadline Cloud job bundle from an export."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from stmpo.errors import BundleError, Problem, writing

_FRAMES = re.compile(r"^\s*(\d+)\s*=\s*(-?\d+)\s*-\s*(-?\d+)\s*(?::\s*(\d+)\s*)?$")


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser(
        "bundle",
        help="write a validated Deadline Cloud job bundle from an export",
        description="Build an OpenJD job bundle (template, parameter values, asset "
        "references, worker scripts, fonts) from an After Effects export, validate it, "
        "and write it to a folder.",
    )
    p.add_argument("export", type=Path, help="the export JSON (stmpo-ae-export)")
    p.add_argument("-o", "--output", type=Path, required=True, help="bundle folder to write")
    p.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="Name=Value",
        help="job parameter value (repeatable), e.g. -p Concurrency=8 -p ChunkSize=50",
    )
    p.add_argument(
        "--items", metavar="1,3", help="render queue indexes (default: the renderable items)"
    )
    p.add_argument(
        "--frames",
        action="append",
        default=[],
        metavar="RQ=S-E[:STEP]",
        help="frame range override for one item (repeatable), e.g. 3=0-99:2",
    )
    p.add_argument("--job-name", help='default: "<project> (N items)"')
    p.add_argument(
        "--input-file",
        action="append",
        default=[],
        type=str,
        metavar="PATH",
        help="another file for job attachments to upload (repeatable)",
    )
    p.add_argument("--force", action="store_true", help="replace a non-empty output folder")
    p.set_defaults(handler=run)


def parse_items(text: str | None) -> tuple[int, ...] | None:
    if text is None:
        return None
    items: list[int] = []
    problems: list[Problem] = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if not part.isdigit() or int(part) < 1:
            problems.append(Problem(f"--items {part}", "expected a render queue index (1, 2...)"))
        else:
            items.append(int(part))
    if not items and not problems:
        problems.append(Problem(f"--items {text}", "no render queue index given"))
    if problems:
        raise BundleError(problems)
    return tuple(items)


def parse_frames(values: list[str]) -> dict[int, tuple[int, int, int]]:
    overrides: dict[int, tuple[int, int, int]] = {}
    problems: list[Problem] = []
    for text in values:
        match = _FRAMES.match(text)
        if match is None:
            problems.append(
                Problem(f"--frames {text}", "expected RQ=START-END or RQ=START-END:STEP")
            )
            continue
        index, start, end, step = match.groups()
        if int(index) in overrides:
            problems.append(Problem(f"--frames {text}", f"item {index} is given twice"))
            continue
        overrides[int(index)] = (int(start), int(end), int(step) if step else 1)
    if problems:
        raise BundleError(problems)
    return overrides


def parse_parameters(values: list[str]) -> dict[str, str]:
    from stmpo.bundle.parameters import parse_assignment

    parsed: dict[str, str] = {}
    for text in values:
        name, value = parse_assignment(text)
        if name in parsed:
            raise BundleError([Problem(f"-p {name}", "is given twice")])
        parsed[name] = value
    return parsed


def run(args: argparse.Namespace) -> int:
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export.sources import load_any

    settings = BundleSettings(
        items=parse_items(args.items),
        frame_overrides=parse_frames(args.frames),
        parameters=parse_parameters(args.parameter),
        job_name=args.job_name,
        extra_input_files=tuple(args.input_file),
    )
    export = load_any(args.export)
    built = build_bundle(export, settings)
    with writing("-o"):
        out = write_bundle(built, args.output, overwrite=args.force)
    for warning in built.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    steps = len(built.plans)
    tasks = sum(len(plan.chunks) for plan in built.plans)
    print(
        f'{out}: "{built.job_name}", {steps} step{"s" if steps != 1 else ""}, '
        f"{tasks} task{'s' if tasks != 1 else ''}"
    )
    return 0
