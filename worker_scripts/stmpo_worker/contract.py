"""The one definition of how values reach the worker (docs/architecture.md, "The worker
command line"); the job template (app/stmpo/bundle/template.py) is built from it.

Why three channels: Windows refuses a command line over 32,767 characters and an agent
that starts actions through `CreateProcessWithLogonW` refuses 1,024, so an action's
command line may only carry what changes per task (the frames) and short names.
- Per-item constants (comp name, outputs, rqindex, step) and the job's output folders
  are JSON files in the bundle's `scripts/` folder, which job attachments carry to the
  worker beside `stmpo_render.py`; the command line names them (`--item=rq003`).
- Job parameters reach the worker as environment variables that the job environment's
  `variables` map sets for every action of the session (`STMPO_CONCURRENCY` for
  `--concurrency`); a command-line flag overrides its variable (tests, hand runs).
JSON files are ASCII-escaped UTF-8, so hostile comp names arrive byte-exact.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

from .outputs import ArgumentProblem

ITEMS_DIR = "items"
OUTPUT_DIRS_FILE = "output_dirs.json"
FONTS_DIR = "fonts"
#: An item file holds one item's comp name and outputs: far below this. A bound keeps a
#: damaged or hostile file from costing the worker its memory.
MAX_JSON_FILE_BYTES = 16 * 1024 * 1024
_ITEM_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z", re.ASCII)

#: (worker option, job parameter): the job environment sets `variable_for(option)` to
#: `{{Param.<parameter>}}`, and `render` reads it when the option is not given.
JOB_SETTINGS: tuple[tuple[str, str], ...] = (
    ("--project", "ProjectFile"),
    ("--concurrency", "Concurrency"),
    ("--max-concurrency", "MaxConcurrency"),
    ("--ram-per-process-gb", "RamPerProcessGB"),
    ("--disable-mfr", "DisableMFR"),
    ("--disable-affinity", "DisableAffinity"),
    ("--spawn-delay", "SpawnDelay"),
    ("--child-grace-sec", "ChildGraceSec"),
    ("--no-kill-on-fail", "NoKillOnFail"),
    ("--aerender-path", "AerenderPath"),
    ("--numa-map", "NumaMap"),
    ("--continue-on-missing-footage", "ContinueOnMissingFootage"),
)


def variable_for(option: str) -> str:
    """`--max-concurrency` -> `STMPO_MAX_CONCURRENCY`."""
    return "STMPO_" + option.lstrip("-").upper().replace("-", "_")


def job_variables() -> dict[str, str]:
    """The job environment's `variables` map: every job setting as a format string."""
    return {variable_for(option): "{{Param." + param + "}}" for option, param in JOB_SETTINGS}


def item_name(rqindex: int) -> str:
    """`rq003`: the short name `--item` takes for render queue item 3."""
    return f"rq{rqindex:03d}"


def item_relpath(name: str) -> str:
    """Where the item file lives inside the scripts folder (`/`-separated)."""
    return f"{ITEMS_DIR}/{name}.json"


def scripts_dir() -> str:
    """The folder holding `stmpo_render.py` and this package: the bundle's `scripts/`."""
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def in_scripts(path: str) -> str:
    """A relative path names a file that travels in the scripts folder; absolute stays."""
    return path if os.path.isabs(path) else os.path.join(scripts_dir(), path)


def item_path(name: str, arg: str = "--item") -> str:
    if not _ITEM_NAME.match(name):
        raise ArgumentProblem(arg, f"expected a name such as rq003, got {name!r}")
    return os.path.join(scripts_dir(), ITEMS_DIR, name + ".json")


def encode_json_file(value: Any) -> str:
    """The text of a job file: ASCII-escaped JSON (even a lone surrogate survives)."""
    return json.dumps(value, ensure_ascii=True, indent=1) + "\n"


def read_json_file(path: str, arg: str) -> Any:
    """JSON from a job file; ArgumentProblem naming `arg` when it cannot be used."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(MAX_JSON_FILE_BYTES + 1)
    except OSError as exc:
        raise ArgumentProblem(arg, f"cannot read {path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_JSON_FILE_BYTES:
        raise ArgumentProblem(arg, f"{path} is larger than {MAX_JSON_FILE_BYTES} bytes")
    try:
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ArgumentProblem(arg, "not JSON this worker can read (nested too deeply)") from None
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError
        raise ArgumentProblem(arg, f"{path} is not UTF-8 JSON ({exc})") from None
