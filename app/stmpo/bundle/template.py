"""Export + plan -> OpenJD job template (a plain dict). Pure: no files, no clock.

Everything user-controlled (comp names, output paths) reaches the worker as URL-safe
base64 of JSON, which contains no `{{`, quotes, spaces or shell characters, so OpenJD's
format strings and the worker's argument parsing cannot alter it. Names that OpenJD
shows (job and step names) are sanitized instead, because the job name *is* a format
string and step names are shown next to it. Options are passed as `--name=value` so a
value that starts with `-` (frame `-5`, a user's path) is never read as an option.
"""

from __future__ import annotations

import ntpath
import posixpath
import re
import unicodedata
from types import ModuleType
from typing import Any

from stmpo._worker_scripts.stmpo_worker.logtext import first_unsafe
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.bundle.parameters import parameter_definitions
from stmpo.bundle.selection import ItemPlan
from stmpo.export.model import Export

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

_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:|\\\\|//)|\\")
_SPACES = re.compile(r"\s+")


#: Per-item values reach the worker through the worker's own encoder, so the encoding
#: and its decoder (`decode_b64_json`) live in one file.
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


def item_payload(plan: ItemPlan) -> dict[str, Any]:
    """What `--item-b64` carries: the item's names and outputs, exactly as AE has them."""
    return {
        "comp": plan.item.comp.name,
        "outputs": [
            {"index": om.index, "path": om.path, "kind": om.resolved_kind}
            for om in plan.item.output_modules
        ],
    }


def _cancelation() -> dict[str, Any]:
    return {"mode": "NOTIFY_THEN_TERMINATE", "notifyPeriodInSeconds": NOTIFY_PERIOD_SECONDS}


def render_args(plan: ItemPlan) -> list[str]:
    """The worker command line of docs/architecture.md, for one item."""
    return [
        RENDER_SCRIPT,
        "render",
        "--project={{Param.ProjectFile}}",
        f"--rqindex={plan.item.index}",
        "--frames={{Task.Param.Frames}}",
        f"--step={plan.step}",
        f"--item-b64={b64_json(item_payload(plan))}",
        "--concurrency={{Param.Concurrency}}",
        "--max-concurrency={{Param.MaxConcurrency}}",
        "--ram-per-process-gb={{Param.RamPerProcessGB}}",
        "--disable-mfr={{Param.DisableMFR}}",
        "--disable-affinity={{Param.DisableAffinity}}",
        "--spawn-delay={{Param.SpawnDelay}}",
        "--child-grace-sec={{Param.ChildGraceSec}}",
        "--no-kill-on-fail={{Param.NoKillOnFail}}",
        "--aerender-path={{Param.AerenderPath}}",
        "--numa-map={{Param.NumaMap}}",
        PATH_MAPPING_ARG,
    ]


def step_template(plan: ItemPlan) -> dict[str, Any]:
    return {
        "name": step_name(plan),
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
        f"--dirs-b64={b64_json(output_directories(plans))}",
        "--aerender-path={{Param.AerenderPath}}",  # the preflight finds aerender as render does
        PATH_MAPPING_ARG,
    ]
    if has_fonts:
        enter_args += ["--fonts-dir={{Param.StmpoScripts}}/fonts", FONT_STATE_ARG]
    return {
        "name": ENVIRONMENT_NAME,
        "description": "Creates the output folders and installs the job's fonts; "
        "removes the fonts when the session ends.",
        "script": {
            "actions": {
                "onEnter": {"command": "{{Param.Python}}", "args": enter_args},
                "onExit": {
                    "command": "{{Param.Python}}",
                    "args": [RENDER_SCRIPT, "remove-fonts", FONT_STATE_ARG],
                },
            }
        },
    }


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
    plans: list[ItemPlan], name: str, *, has_fonts: bool, chunk_size: int = 0
) -> dict[str, Any]:
    """The whole job template; `name` must already be sanitized (see `job_name`)."""
    return {
        "specificationVersion": SPECIFICATION_VERSION,
        "name": name,
        "parameterDefinitions": pinned_chunk_size(parameter_definitions(), chunk_size),
        "jobEnvironments": [environment_template(plans, has_fonts)],
        "steps": [step_template(plan) for plan in plans],
    }
