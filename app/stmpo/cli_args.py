"""The arguments several commands share (`-p`, `--items`, `--frames`), parsed one way.

`stmpo bundle`, `stmpo submit` and `stmpo run-local` take the same selections, so a
wrangler gets the same meaning and the same messages everywhere; every problem is reported
at once, each naming the argument at fault.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from stmpo.errors import Problem, StmpoError
from stmpo.frame_text import parse_frame_range

if TYPE_CHECKING:
    from stmpo.job_properties import JobProperties


def add_selection_arguments(
    parser: argparse.ArgumentParser, *, parameter_help: str, scope: str = ""
) -> None:
    """`-p`, `--items` and `--frames`, with the same names and metavars everywhere.

    `scope` prefixes the help of the item options (e.g. "with an export: ").
    """
    parser.add_argument(
        "-p",
        "--parameter",
        action="append",
        default=[],
        metavar="Name=Value",
        help=parameter_help,
    )
    parser.add_argument(
        "--items",
        metavar="1,3",
        help=f"{scope}render queue indexes (default: the renderable items)",
    )
    parser.add_argument(
        "--frames",
        action="append",
        default=[],
        metavar="RQ=S-E[:STEP]",
        help=f"{scope}frame range override for one item (repeatable), e.g. 3=0-99:2",
    )


def add_input_file_argument(parser: argparse.ArgumentParser) -> None:
    """`--input-file` (repeatable): a file the project needs that the export does not name
    (an expression's data file, a script), uploaded with the job attachments."""
    parser.add_argument(
        "--input-file",
        action="append",
        default=[],
        type=str,
        metavar="PATH",
        help="another file for job attachments to upload (repeatable)",
    )


def add_upload_arguments(parser: argparse.ArgumentParser) -> None:
    """The per-category opt-ins for uploads `stmpo.bundle.upload_policy` refuses."""
    parser.add_argument(
        "--allow-secret-paths",
        action="store_true",
        help="upload inputs inside credentials locations (~/.ssh, ~/.aws, ~/.gnupg, /etc, ...); "
        "refused by default",
    )
    parser.add_argument(
        "--allow-broad-assets",
        action="store_true",
        help="upload folders far wider than the project (a home folder, a drive root, "
        "one with 10x the project's files or bytes); refused by default",
    )


def add_job_property_arguments(parser: argparse.ArgumentParser) -> None:
    """The job properties of `deadline bundle submit`, with the same flag names."""
    from stmpo.job_properties import JobProperties

    d = JobProperties()
    group = parser.add_argument_group("job properties (as deadline bundle submit)")
    group.add_argument(
        "--priority", metavar="0-100", help=f"higher runs first (default {d.priority})"
    )
    group.add_argument(
        "--max-failed-tasks-count",
        metavar="N",
        help=f"failed tasks before the job fails (default {d.max_failed_tasks_count})",
    )
    group.add_argument(
        "--max-retries-per-task",
        metavar="N",
        help=f"retries of a failed task (default {d.max_retries_per_task}: a worker that "
        "cannot render fails the same way every time)",
    )
    group.add_argument(
        "--max-worker-count",
        metavar="N",
        help="most workers on the job at once, -1 = no limit (default: not set, no limit)",
    )
    group.add_argument(
        "--target-task-run-status",
        metavar="ready|suspended",
        help="suspended: create the tasks without starting them (default ready)",
    )


def parse_job_properties(args: argparse.Namespace) -> JobProperties:
    """The job property flags, range-checked as CreateJob would; every problem names its
    flag."""
    from stmpo.job_properties import JobProperties, check_int, check_status

    values: dict[str, Any] = {}
    problems: list[Problem] = []
    flags = {
        "--priority": "priority",
        "--max-failed-tasks-count": "max_failed_tasks_count",
        "--max-retries-per-task": "max_retries_per_task",
        "--max-worker-count": "max_worker_count",
    }
    for flag, field in flags.items():
        text = getattr(args, field, None)
        if text is None:
            continue
        try:
            values[field] = check_int(flag, text)
        except ValueError as exc:
            problems.append(Problem(f"{flag} {text}", str(exc)))
    status = getattr(args, "target_task_run_status", None)
    if status is not None:
        try:
            values["target_task_run_status"] = check_status(status)
        except ValueError as exc:
            problems.append(Problem(f"--target-task-run-status {status}", str(exc)))
    if problems:
        raise StmpoError(problems)
    return JobProperties(**values)


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    """Where the job may run and for how long: `--host-requirements`, `--task-timeout`."""
    from stmpo.farm_defaults import (
        DEFAULT_TASK_TIMEOUT_SECONDS,
        MAX_TASK_TIMEOUT_SECONDS,
        MIN_TASK_TIMEOUT_SECONDS,
    )

    parser.add_argument(
        "--host-requirements",
        metavar="FILE",
        help="an OpenJD hostRequirements object (YAML or JSON) for every step; replaces "
        "the default (attr.worker.os.family anyOf [windows, macos])",
    )
    parser.add_argument(
        "--task-timeout",
        metavar="SECONDS",
        default=str(DEFAULT_TASK_TIMEOUT_SECONDS),
        help=f"seconds a render task may run before Deadline Cloud cancels it "
        f"({MIN_TASK_TIMEOUT_SECONDS}-{MAX_TASK_TIMEOUT_SECONDS}; "
        f"default {DEFAULT_TASK_TIMEOUT_SECONDS}, two days)",
    )


def parse_task_timeout(text: str) -> int:
    """`--task-timeout` as whole seconds within the template's bounds."""
    from stmpo.farm_defaults import MAX_TASK_TIMEOUT_SECONDS, MIN_TASK_TIMEOUT_SECONDS

    seconds = _whole_number(text)
    if seconds is None or not MIN_TASK_TIMEOUT_SECONDS <= seconds <= MAX_TASK_TIMEOUT_SECONDS:
        raise StmpoError(
            [
                Problem(
                    f"--task-timeout {text[:40]}",
                    f"expected whole seconds from {MIN_TASK_TIMEOUT_SECONDS} to "
                    f"{MAX_TASK_TIMEOUT_SECONDS} (30 days)",
                )
            ]
        )
    return seconds


def parse_host_requirements(path: str | None) -> dict[str, Any] | None:
    """`--host-requirements FILE` read and checked with openjd-model; None when not given."""
    if path is None:
        return None
    from stmpo.bundle.host_requirements import load_host_requirements

    return load_host_requirements(path)


def parse_assignments(values: Sequence[str]) -> dict[str, str]:
    """`-p Name=Value` into a dict; the value may contain `=` and may be empty."""
    result: dict[str, str] = {}
    problems: list[Problem] = []
    for text in values:
        name, sep, value = text.partition("=")
        name = name.strip()
        if not sep or not name:
            problems.append(Problem(f"-p {text}", "expected Name=Value"))
        elif name in result:
            problems.append(Problem(f"-p {name}", "given more than once"))
        else:
            result[name] = value
    if problems:
        raise StmpoError(problems)
    return result


def _whole_number(text: str) -> int | None:
    """`text` as a non-negative integer, or None.

    `str.isdigit` admits "²", which `int` refuses, and `int` refuses over 4300 digits:
    either would end a command in a traceback instead of a message naming the argument.
    """
    text = text.strip()
    if not text.isdecimal():
        return None
    try:
        return int(text)
    except ValueError:
        return None


def parse_items(text: str | None) -> tuple[int, ...] | None:
    """`--items 3,1` into render queue indexes in the order given, without repeats."""
    if text is None:
        return None
    items: list[int] = []
    problems: list[Problem] = []
    for part in text.split(","):
        part = part.strip()
        index = _whole_number(part)
        if not part:
            problems.append(Problem(f"--items {text}", "has an empty entry"))
        elif index is None or index < 1:
            problems.append(Problem(f"--items {part}", "is not a render queue index (1, 2, ...)"))
        elif index not in items:
            items.append(index)
    if problems:
        raise StmpoError(problems)
    return tuple(items)


def parse_frames(values: Sequence[str]) -> dict[int, tuple[int, int, int]]:
    """`--frames RQ=START-END[:STEP]` (repeatable) into per-item frame overrides."""
    overrides: dict[int, tuple[int, int, int]] = {}
    problems: list[Problem] = []
    for text in values:
        head, sep, frames = text.partition("=")
        index = _whole_number(head)
        parsed = parse_frame_range(frames) if sep else None
        if index is None or parsed is None:
            problems.append(
                Problem(f"--frames {text}", "expected RQ=START-END or RQ=START-END:STEP")
            )
        elif index in overrides:
            problems.append(Problem(f"--frames {text}", f"item {index} is given twice"))
        else:
            overrides[index] = parsed
    if problems:
        raise StmpoError(problems)
    return overrides
