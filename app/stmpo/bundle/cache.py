"""The job's file cache steps (issue 12, docs/file-cache.md). Pure apart from listing
the frames of an input sequence on this machine.

Studios keep projects on NFS and burst to workers that see it through a Lustre file
cache (Amazon File Cache). The `lfs` tool is Linux-only and After Effects renders on
Windows or macOS, so the cache work runs in steps of its own with a Linux host
requirement: *Cache refresh* first (release and restore stale cached inputs; every
render step depends on it), a *Cache write-back rqNNN* step per render step with the
same Frames tasks (archive what each task rendered), and *Cache write-back check* last.
What the worker does in them is `stmpo_render.py cache-*`, reading `scripts/cache.json`.

Which paths lie under a root is decided by the worker's own `cachepaths`, so the
submitter and the worker never disagree about a path.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from stmpo._worker_scripts.stmpo_worker.cachepaths import (
    CacheRootProblem,
    parse_roots,
    root_of,
)
from stmpo._worker_scripts.stmpo_worker.contract import MAX_CACHE_ROOTS, item_name
from stmpo.errors import Problem

CACHE_FILE = "cache.json"
ROOTS_WHERE = "-p CacheRootPaths"
REFRESH_STEP = "Cache refresh"
CHECK_STEP = "Cache write-back check"
WRITEBACK_PREFIX = "Cache write-back "
#: The cache steps' requirement: the Lustre client (and `lfs`) is Linux-only.
LINUX_HOST = {"attributes": [{"name": "attr.worker.os.family", "anyOf": ["linux"]}]}

_RANGE = re.compile(r"\[(?P<first>\d+)-(?P<last>\d+)\]")
_HASHES = re.compile(r"\[#+\]")
_DIGITS = re.compile(r"\d+")


def roots_problem(text: str) -> Problem | None:
    """Why `CacheRootPaths` cannot be used (naming `-p CacheRootPaths`), or None. A root
    inside another is fine: the deepest one a path lies in is its root."""
    try:
        roots = parse_roots(text)
    except CacheRootProblem as exc:
        return Problem(ROOTS_WHERE, f"{exc.root!r} is not an absolute path")
    if len(roots) > MAX_CACHE_ROOTS:
        return Problem(
            ROOTS_WHERE,
            f"{len(roots)} roots given; a file cache links at most {MAX_CACHE_ROOTS} "
            "data repositories",
        )
    return None


@dataclass(frozen=True)
class CacheOptions:
    """The cache job parameters the steps depend on, as the bundle is built."""

    roots: tuple[str, ...] = ()
    eviction: bool = True
    hydration: bool = True
    write_back: bool = True


@dataclass(frozen=True)
class CachePlan:
    """What the job does with the cache: `payload` is `scripts/cache.json`."""

    roots: tuple[str, ...] = ()
    inputs: tuple[Any, ...] = ()
    items: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    refresh: bool = False
    write_back: tuple[str, ...] = ()
    """The items (`rq003`) that get a write-back step."""
    warnings: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.refresh or bool(self.write_back)

    def payload(self) -> dict[str, Any]:
        return {
            "roots": list(self.roots),
            "inputs": list(self.inputs),
            "items": {name: dict(value) for name, value in self.items.items()},
        }


def _frames_entry(pattern: str, frames: Sequence[int]) -> dict[str, Any]:
    """A sequence input: a contiguous run as `range`, anything else as `frames`."""
    ordered = sorted(set(frames))
    if ordered and ordered[-1] - ordered[0] + 1 == len(ordered):
        return {"path": pattern, "range": [ordered[0], ordered[-1]]}
    return {"path": pattern, "frames": ordered}


def sequence_input(path: str, on_disk: Iterable[str]) -> dict[str, Any]:
    """`seq.[0000-0047].exr` -> `seq.[####].exr` with its range; `seq.[####].exr` or a
    first frame `seq.0001.exr` -> the pattern with the frames found on this machine."""
    head, _, name = path.replace("\\", "/").rpartition("/")
    folder = path[: len(head)]
    sep = path[len(head) : len(head) + 1]
    found = list(_RANGE.finditer(name))
    if found:
        match = found[-1]
        hashes = "[" + "#" * len(match.group("first")) + "]"
        pattern = folder + sep + name[: match.start()] + hashes + name[match.end() :]
        return {"path": pattern, "range": [int(match.group("first")), int(match.group("last"))]}
    marks = list(_HASHES.finditer(name))
    if marks:
        mark = marks[-1]
        head_text, tail = name[: mark.start()], name[mark.end() :]
        pattern = path
    else:
        runs = list(_DIGITS.finditer(name))
        if not runs:
            return {"path": path, "frames": []}
        run = runs[-1]
        head_text, tail = name[: run.start()], name[run.end() :]
        pattern = folder + sep + head_text + "[" + "#" * len(run.group()) + "]" + tail
    frames = []
    for file in on_disk:
        base = file.replace("\\", "/").rpartition("/")[2]
        if base.startswith(head_text) and base.endswith(tail):
            digits = base[len(head_text) : len(base) - len(tail)]
            if digits.isdigit():
                frames.append(int(digits))
    return _frames_entry(pattern, frames)


@dataclass(frozen=True)
class CacheInput:
    """One input of the job as the submitter sees it (project or footage)."""

    path: str
    sequence: bool = False
    frames_on_disk: tuple[str, ...] = ()


def plan_cache(
    options: CacheOptions,
    inputs: Sequence[CacheInput],
    items: Sequence[tuple[int, Sequence[str], tuple[int, int, int]]],
) -> CachePlan:
    """The cache steps for inputs and items `(rqindex, output paths, (start, end, step))`.

    Cache refresh runs when an input lies under a root and eviction or hydration is on;
    an item gets a write-back step when one of its outputs lies under a root and
    write-back is on. Roots given but nothing under any: a warning, no steps."""
    roots = options.roots
    if not roots:
        return CachePlan()
    cached_inputs: list[Any] = []
    for entry in inputs:
        if root_of(entry.path, roots) is None:
            continue
        if entry.sequence:
            cached_inputs.append(sequence_input(entry.path, entry.frames_on_disk))
        else:
            cached_inputs.append(entry.path)
    cached_items: dict[str, dict[str, Any]] = {}
    for rqindex, outputs, frames in items:
        under = [path for path in outputs if root_of(path, roots) is not None]
        if under:
            cached_items[item_name(rqindex)] = {
                "outputs": list(dict.fromkeys(under)),
                "frames": list(frames),
            }
    warnings: list[str] = []
    if not cached_inputs and not cached_items:
        warnings.append(
            f"CacheRootPaths is set, but neither the project, its footage nor an output "
            f"lies under {'; '.join(roots)}: the job gets no cache steps"
        )
    refresh = bool(cached_inputs) and (options.eviction or options.hydration)
    write_back = tuple(cached_items) if options.write_back else ()
    return CachePlan(
        roots=tuple(roots),
        inputs=tuple(cached_inputs),
        items=cached_items,
        refresh=refresh,
        write_back=write_back,
        warnings=tuple(warnings),
    )


def is_cache_step(step: Mapping[str, Any]) -> bool:
    """A step of ours that runs `lfs` (its Linux requirement is not the dialog's)."""
    name = str(step.get("name", ""))
    return name in (REFRESH_STEP, CHECK_STEP) or name.startswith(WRITEBACK_PREFIX)


#: A cache step may wait CachePollTimeoutSec (at most 7 days) and then report: the
#: action's own timeout is beyond that, so the worker's timeout, which names the files,
#: is the one that fires.
CACHE_STEP_TIMEOUT_SECONDS = 604_800 + 3_600
SETTINGS_ENVIRONMENT = "STMPO Settings"


def _cache_action(args: list[str]) -> dict[str, Any]:
    from stmpo.bundle.template import RENDER_SCRIPT

    return {
        "command": "{{Param.Python}}",
        "args": [RENDER_SCRIPT, *args],
        "timeout": CACHE_STEP_TIMEOUT_SECONDS,
    }


def _linux_step(name: str, args: list[str], depends_on: Sequence[str]) -> dict[str, Any]:
    step: dict[str, Any] = {
        "name": name,
        "hostRequirements": {"attributes": [dict(a) for a in LINUX_HOST["attributes"]]},
        "script": {"actions": {"onRun": _cache_action(args)}},
    }
    if depends_on:
        step["dependencies"] = [{"dependsOn": other} for other in depends_on]
    return step


def with_cache_steps(
    template: Mapping[str, Any], render_steps: Sequence[tuple[str, int]], plan: CachePlan
) -> dict[str, Any]:
    """`template` with the cache steps of `plan`; `render_steps` are `(step name,
    rqindex)` of the render steps, in template order.

    The job environment's actions (the aerender preflight, output folders, fonts) move
    to each render step as a step environment: a Linux cache host has no aerender and
    needs no fonts. Its `STMPO_*` variables stay in a job environment, so the cache steps
    read the same settings."""
    from stmpo.bundle.template import PATH_MAPPING_ARG, TASK_PARAMETER

    result = dict(template)
    if not plan.active:
        return result
    [environment] = template["jobEnvironments"]
    settings_env = {
        "name": SETTINGS_ENVIRONMENT,
        "description": "Sets the job's STMPO settings for every action of every step.",
        "variables": copy.deepcopy(environment["variables"]),
    }
    outputs_env = {k: v for k, v in environment.items() if k != "variables"}
    outputs_env["description"] = (
        "Creates the output folders and installs the job's fonts on the render host; "
        "removes the fonts when the step's session moves on."
    )
    result["jobEnvironments"] = [settings_env]
    steps: list[dict[str, Any]] = []
    if plan.refresh:
        steps.append(_linux_step(REFRESH_STEP, ["cache-refresh", PATH_MAPPING_ARG], ()))
    by_name = {name: rqindex for name, rqindex in render_steps}
    writebacks: list[dict[str, Any]] = []
    for original in template["steps"]:
        step = dict(original)
        step["stepEnvironments"] = [copy.deepcopy(outputs_env)]
        if plan.refresh:
            step["dependencies"] = [{"dependsOn": REFRESH_STEP}]
        steps.append(step)
        rqindex = by_name.get(step["name"])
        item = item_name(rqindex) if rqindex is not None else ""
        if item not in plan.write_back:
            continue
        args = ["cache-writeback", f"--item={item}", "--frames={{Task.Param.Frames}}"]
        frames = plan.items[item]["frames"]
        if frames[2] != 1:
            args.append(f"--step={frames[2]}")
        writeback = _linux_step(WRITEBACK_PREFIX + item, [*args, PATH_MAPPING_ARG], [step["name"]])
        [frames_param] = [
            p
            for p in step["parameterSpace"]["taskParameterDefinitions"]
            if p["name"] == TASK_PARAMETER
        ]
        writeback["parameterSpace"] = {"taskParameterDefinitions": [copy.deepcopy(frames_param)]}
        writebacks.append(writeback)
    steps.extend(writebacks)
    if writebacks:
        steps.append(
            _linux_step(
                CHECK_STEP, ["cache-check", PATH_MAPPING_ARG], [w["name"] for w in writebacks]
            )
        )
    result["steps"] = steps
    return result


def project_not_attached(template: Mapping[str, Any]) -> dict[str, Any]:
    """`template` with `ProjectFile`'s `dataFlow` NONE: the deadline library adds every
    PATH parameter with a data flow to the job attachments, so a project in the cache
    would be uploaded after all. OpenJD still maps the value with the session's path
    mapping rules (it maps every PATH parameter), so the workers open it on the mount."""
    result = dict(template)
    definitions = []
    for definition in template["parameterDefinitions"]:
        if definition.get("name") == "ProjectFile":
            definition = {**definition, "dataFlow": "NONE"}
        definitions.append(definition)
    result["parameterDefinitions"] = definitions
    return result
