"""Export + plan -> OpenJD job template (a plain dict) and the job files it names. Pure:
no files, no clock.

How values reach the worker is defined once, in the worker's `contract.py`: per-item
constants (comp names, output paths) are JSON files in `scripts/`, job parameters are the
job environment's `variables`, and a command line holds only the frames and short names,
so it fits Windows' limits. User-controlled text is never in the template's commands,
so OpenJD's format strings and the worker's argument parsing cannot alter it. Names that OpenJD
shows (job and step names) are sanitized instead, because the job name *is* a format
string and step names are shown next to it. Options are passed as `--name=value` so a
value that starts with `-` (frame `-5`, a user's path) is never read as an option.
"""

from __future__ import annotations

import copy
import ntpath
import posixpath
import re
import unicodedata
from collections.abc import Mapping
from types import ModuleType
from typing import Any

from stmpo._worker_scripts.stmpo_worker.contract import (
    FONTS_DIR,
    OUTPUT_DIRS_FILE,
    encode_json_file,
    item_name,
    item_relpath,
    job_variables,
)
from stmpo._worker_scripts.stmpo_worker.logtext import first_unsafe
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.bundle.parameters import parameter_definitions
from stmpo.bundle.selection import ItemPlan
from stmpo.export.model import Export, OutputModule
from stmpo.farm_defaults import (
    DEFAULT_HOST_REQUIREMENTS,
    DEFAULT_TASK_TIMEOUT_SECONDS,
    ENVIRONMENT_TIMEOUT_SECONDS,
)

SPECIFICATION_VERSION = "jobtemplate-2023-09"
ENVIRONMENT_NAME = "STMPO Outputs"
TASK_PARAMETER = "Frames"
MAX_STEP_NAME = 64
MAX_JOB_NAME = 128
#: ChildGraceSec's maxValue (240 s) plus time for the orchestrator to kill and report.
NOTIFY_PERIOD_SECONDS = 300

RENDER_SCRIPT = "{{Param.StmpoScripts}}/stmpo_render.py"
PATH_MAPPING_ARG = "--path-mapping-rules={{Session.PathMappingRulesFile}}"
FONT_STATE_ARG = "--font-state={{Session.WorkingDirectory}}/fonts.json"
#: What a launch cost earlier in the session, for the next task's plan (timings.py).
TIMINGS_ARG = "--timings={{Session.WorkingDirectory}}/stmpo_timings.json"

_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:|\\\\|//)|\\")
_SPACES = re.compile(r"\s+")


#: The worker's own base64 encoder (hand runs, `--item-b64`), kept beside its decoder.
b64_json = encode_b64_json


def _clean_char(char: str) -> str:
    if unicodedata.category(char) == "Cs":
        return "\ufffd"  # lone surrogates cannot be written
    # What the worker log escapes (controls, line separators, bidi controls such as
    # U+202E) has no place in a name OpenJD shows and logs.
    return " " if first_unsafe(char) == 0 else char


def safe_name(text: str, max_length: int, fallback: str) -> str:
    """A name OpenJD accepts and never reads as a format string.

    Control, line-separator and bidi characters become spaces and braces become
    parentheses (OpenJD 2023-09 has no escape for `{{`); whitespace is collapsed and the
    result cut to `max_length` characters.
    """
    cleaned = "".join(_clean_char(c) for c in text)
    cleaned = cleaned.replace("{", "(").replace("}", ")")
    cleaned = _SPACES.sub(" ", cleaned).strip()
    if len(cleaned) > max_length:
        cleaned = cleaned[: max_length - 1].rstrip() + "…"
    return cleaned or fallback


def step_name(plan: ItemPlan) -> str:
    """`RQ 003 MAIN comp`: the index keeps names unique, the comp name makes them readable."""
    prefix = f"RQ {plan.item.index:03d}"
    return safe_name(f"{prefix} {plan.item.comp.name}", MAX_STEP_NAME, prefix)


def default_job_name(export: Export, item_count: int) -> str:
    name = export.project_name
    stem = name.rsplit(".", 1)[0] if "." in name else name
    noun = "item" if item_count == 1 else "items"
    return f"{stem} ({item_count} {noun})"


def job_name(export: Export, item_count: int, requested: str | None) -> str:
    text = requested if requested and requested.strip() else default_job_name(export, item_count)
    return safe_name(text, MAX_JOB_NAME, "After Effects render")


def path_flavour(path: str) -> ModuleType:
    """`ntpath` for a path written on Windows (drive, UNC or a backslash), else `posixpath`:
    an export's paths follow the artist's OS, not the one building the bundle."""
    return ntpath if _WINDOWS_PATH.search(path) else posixpath


def output_directory(path: str) -> str:
    """The folder an output module writes into, in the path's own OS convention."""
    return path_flavour(path).dirname(path) or path


def item_payload(plan: ItemPlan, render_id: str = "") -> dict[str, Any]:
    """What the item file holds: the item's names and outputs exactly as AE has them,
    its render queue index and frame step.

    The export's render-settings and numbering fields ride along only when they differ
    from AE's defaults (renderFrameRate, skipExistingFiles; per output useCompFrameNumber,
    startingNumber), so the worker can honour them: it verifies skipExistingFiles and
    the numbering. The comp's frame rate is always there: the worker reads which frame
    a timecode progress line names with it (frameid.py). With renderFrameRate come the
    comp's displayed start, which the worker needs to tell which output frames a comp
    range yields (frametime.py). `renderId` names this render's resume journal where
    Deadline's job id is not set (`openjd run`, run-local; worker_scripts/stmpo_worker/
    journal.py)."""
    item = plan.item
    payload: dict[str, Any] = {
        "rqindex": item.index,
        "step": plan.step,
        "comp": item.comp.name,
        "outputs": [_output_payload(om) for om in item.output_modules],
        "compFrameRate": item.comp.frame_rate,
    }
    if item.render_frame_rate is not None:
        payload["renderFrameRate"] = item.render_frame_rate
        if item.comp.display_start_time:
            payload["compDisplayStartTime"] = item.comp.display_start_time
        if plan.display_start_frame:
            payload["projectDisplayStartFrame"] = plan.display_start_frame
    if item.skip_existing_files:
        payload["skipExistingFiles"] = True
    if render_id:
        payload["renderId"] = render_id
    return payload


def _output_payload(om: OutputModule) -> dict[str, Any]:
    out: dict[str, Any] = {"index": om.index, "path": om.path, "kind": om.resolved_kind}
    if not om.use_comp_frame_number:
        out["useCompFrameNumber"] = False
    if om.starting_number is not None:
        out["startingNumber"] = om.starting_number
    return out


def _cancelation() -> dict[str, Any]:
    return {"mode": "NOTIFY_THEN_TERMINATE", "notifyPeriodInSeconds": NOTIFY_PERIOD_SECONDS}


def render_args(plan: ItemPlan) -> list[str]:
    """The worker command line of docs/architecture.md, for one item: the item file's
    name, the task's frames, the session's path mapping rules and timings file."""
    return [
        RENDER_SCRIPT,
        "render",
        f"--item={item_name(plan.item.index)}",
        "--frames={{Task.Param.Frames}}",
        PATH_MAPPING_ARG,
        TIMINGS_ARG,
    ]


def step_template(
    plan: ItemPlan,
    *,
    task_timeout: int = DEFAULT_TASK_TIMEOUT_SECONDS,
    host_requirements: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "name": step_name(plan),
        "hostRequirements": copy.deepcopy(dict(host_requirements or DEFAULT_HOST_REQUIREMENTS)),
        "parameterSpace": {
            "taskParameterDefinitions": [
                {"name": TASK_PARAMETER, "type": "STRING", "range": list(plan.chunks)}
            ]
        },
        "script": {
            "actions": {
                "onRun": {
                    "command": "{{Param.Python}}",
                    "args": render_args(plan),
                    "timeout": task_timeout,
                    "cancelation": _cancelation(),
                }
            }
        },
    }


def output_directories(plans: list[ItemPlan]) -> list[str]:
    dirs = [output_directory(om.path) for plan in plans for om in plan.item.output_modules]
    return list(dict.fromkeys(dirs))


def environment_template(plans: list[ItemPlan], has_fonts: bool) -> dict[str, Any]:
    enter_args = [
        RENDER_SCRIPT,
        "prepare-outputs",
        f"--dirs-file={OUTPUT_DIRS_FILE}",
        PATH_MAPPING_ARG,
    ]
    if has_fonts:
        enter_args += [f"--fonts-dir={FONTS_DIR}", FONT_STATE_ARG]
    return {
        "name": ENVIRONMENT_NAME,
        "description": "Sets the job's STMPO settings for every action, creates the output "
        "folders and installs the job's fonts; removes the fonts when the session ends.",
        "variables": job_variables(),
        "script": {
            "actions": {
                "onEnter": {
                    "command": "{{Param.Python}}",
                    "args": enter_args,
                    "timeout": ENVIRONMENT_TIMEOUT_SECONDS,
                },
                "onExit": {
                    "command": "{{Param.Python}}",
                    "args": [RENDER_SCRIPT, "remove-fonts", FONT_STATE_ARG],
                    "timeout": ENVIRONMENT_TIMEOUT_SECONDS,
                },
            }
        },
    }


def job_files(plans: list[ItemPlan], render_id: str = "") -> dict[str, str]:
    """The files the template's command lines name, by path inside `scripts/`: one per
    item (`items/rq003.json`, carrying `render_id`) and the output folders
    `prepare-outputs` creates."""
    files = {
        item_relpath(item_name(plan.item.index)): encode_json_file(item_payload(plan, render_id))
        for plan in plans
    }
    files[OUTPUT_DIRS_FILE] = encode_json_file(output_directories(plans))
    return files


def pinned_chunk_size(definitions: list[dict[str, Any]], chunk_size: int) -> list[dict[str, Any]]:
    """The definitions with ChunkSize fixed to the value the tasks were cut with.

    Chunks are baked into the steps when the bundle is built, so a different ChunkSize at
    submit or run time would silently change nothing; pinning it makes OpenJD refuse it.
    """
    pinned = []
    for definition in definitions:
        if definition["name"] == "ChunkSize":
            definition = {
                **definition,
                "default": chunk_size,
                "minValue": chunk_size,
                "maxValue": chunk_size,
                "description": f"{definition['description']} This bundle was built with "
                f"{chunk_size}; rebuild it (stmpo bundle -p ChunkSize=N) to change it.",
            }
        pinned.append(definition)
    return pinned


def build_template(
    plans: list[ItemPlan],
    name: str,
    *,
    has_fonts: bool,
    chunk_size: int = 0,
    task_timeout: int = DEFAULT_TASK_TIMEOUT_SECONDS,
    host_requirements: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The whole job template; `name` must already be sanitized (see `job_name`).

    `host_requirements` (an OpenJD `hostRequirements` object) replaces the default
    Windows-or-macOS requirement on every step; it does not add to it.
    """
    return {
        "specificationVersion": SPECIFICATION_VERSION,
        "name": name,
        "parameterDefinitions": pinned_chunk_size(parameter_definitions(), chunk_size),
        "jobEnvironments": [environment_template(plans, has_fonts)],
        "steps": [
            step_template(plan, task_timeout=task_timeout, host_requirements=host_requirements)
            for plan in plans
        ],
    }
