"""The submitter's settings: the dataclass the deadline dialog carries, and sticky storage.

Settings are saved beside the project (`<project>.stmpo.json`) so that the next artist
opening the same project gets the same choices. When the project folder is not reachable
from this machine (an export made on another OS), they go beside the export instead.

That file is outside input: anyone may have edited, truncated or replaced it. Loading
takes each value only when it has the type and range the control shows, and reports
what it ignored (`AfterEffectsSettings.notices`), so a damaged file never stops the
submitter. Saving never replaces a file that is not STMPO's own settings.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from stmpo._worker_scripts.stmpo_worker.contract import SETTINGS
from stmpo.bundle import BundleSettings
from stmpo.bundle.parameters import default_value, definitions_by_name
from stmpo.export.model import Export
from stmpo.frame_text import parse_frame_range
from stmpo.job_properties import JobProperties

STICKY_VERSION = 1
_JOB = JobProperties()

#: The STMPO controls the tab edits, by job parameter name: the worker table's rows with
#: a job parameter and a control (contract.SETTINGS), STMPO's own first.
STMPO_CONTROLS: tuple[str, ...] = tuple(
    row.parameter
    for row in sorted(SETTINGS, key=lambda row: row.group != "STMPO")
    if row.parameter is not None and row.gui
)


def _as_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


#: Defaults come from the template's own parameter definitions: one source of truth.
DEFAULT_PARAMETERS: dict[str, str] = {
    name: _as_text(default_value(name)) for name in STMPO_CONTROLS
}


def parameter_number(values: Mapping[str, str], name: str) -> float:
    """`values[name]` as a number; the template default when it is missing or not a
    finite one (`int(inf)` in a spin box would end the submitter)."""
    try:
        number = float(values.get(name, DEFAULT_PARAMETERS[name]))
    except ValueError:
        return float(DEFAULT_PARAMETERS[name])
    return number if math.isfinite(number) else float(DEFAULT_PARAMETERS[name])


def parameter_flag(values: Mapping[str, str], name: str) -> bool:
    """A true/false parameter; the template default when it is missing."""
    return values.get(name, DEFAULT_PARAMETERS[name]).strip().lower() == "true"


def parameter_range(name: str) -> tuple[float, float]:
    """The template's minValue and maxValue of a numeric parameter, for its control:
    a control that allowed more would let the artist pick a value the bundle refuses."""
    definition = definitions_by_name()[name]
    return float(definition["minValue"]), float(definition["maxValue"])


@dataclass
class AfterEffectsSettings:
    """What the After Effects tab edits. Must be constructible with no arguments."""

    submitter_name: str = "After Effects"
    name: str = "After Effects job"
    description: str = ""
    # Shared-settings fields the deadline dialog fills when present; a render's defaults,
    # the same as `stmpo bundle`/`submit` (stmpo.bundle.job_properties).
    priority: int = _JOB.priority
    initial_status: str = _JOB.target_task_run_status
    max_failed_tasks_count: int = _JOB.max_failed_tasks_count
    max_retries_per_task: int = _JOB.max_retries_per_task
    max_worker_count: int = -1

    export_path: str = ""
    selected_items: list[int] = field(default_factory=list)
    frame_overrides: dict[int, str] = field(default_factory=dict)  # rq index -> "S-E[:step]"
    chunk_size: int = 0
    parameters: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_PARAMETERS))
    profile: str = "Hero"
    preview_cpus: int = 64
    preview_ram_gb: float = 256.0
    preview_numa_nodes: int = 2
    #: The plan view's estimate inputs (plan_summary): seconds one process takes per
    #: frame, and an optional price per worker-hour (0 = no cost shown).
    seconds_per_frame: float = 10.0
    hourly_price: float = 0.0
    # The upload opt-ins are per submission: never in STICKY_FIELDS, so a yes once given
    # beside a project does not silently apply to the next artist opening it.
    allow_secret_paths: bool = False
    allow_broad_assets: bool = False
    #: What loading the sticky file found wrong; shown in the tab, never saved.
    notices: list[str] = field(default_factory=list)


STICKY_FIELDS: tuple[str, ...] = (
    "name",
    "description",
    "priority",
    "initial_status",
    "max_failed_tasks_count",
    "max_retries_per_task",
    "max_worker_count",
    "selected_items",
    "frame_overrides",
    "chunk_size",
    "parameters",
    "profile",
    "preview_cpus",
    "preview_ram_gb",
    "preview_numa_nodes",
    "seconds_per_frame",
    "hourly_price",
)


def sticky_path(export: Export, export_path: str | os.PathLike[str]) -> Path:
    project = Path(export.project.path.replace("\\", "/"))
    try:
        if project.name and project.parent.is_dir():
            return project.with_name(project.name + ".stmpo.json")
    except (OSError, ValueError):  # a project path this OS cannot even ask about
        pass
    export_file = Path(export_path)
    return export_file.with_name(export_file.stem + ".stmpo.json")


def initial_settings(export: Export, export_path: str | os.PathLike[str]) -> AfterEffectsSettings:
    """Defaults from the export, then whatever was saved beside the project."""
    stem = export.project_name.rsplit(".", 1)[0] or "After Effects job"
    settings = AfterEffectsSettings(
        name=stem,
        export_path=str(export_path),
        selected_items=[item.index for item in export.renderable_items],
    )
    settings.notices = load_sticky(settings, sticky_path(export, export_path), export)
    return settings


class _Bad(Exception):
    """A saved value that does not fit its control: ignored, the default stays."""


_INT32 = 2**31 - 1
#: Ranges of the controls that show each number (ours and the deadline dialog's).
_INT_RANGES: dict[str, tuple[int, int]] = {
    "priority": (0, 100),
    "max_failed_tasks_count": (0, _INT32),
    "max_retries_per_task": (0, _INT32),
    "max_worker_count": (-1, _INT32),
    "chunk_size": (0, 1_000_000),
    "preview_cpus": (1, 4096),
    "preview_numa_nodes": (1, 64),
}
_TEXT_LIMIT = 10_000


def _int(key: str, value: object) -> int:
    low, high = _INT_RANGES[key]
    if (
        type(value) is not int
        or not low <= value <= high
        or (key == "max_worker_count" and value == 0)
    ):
        raise _Bad
    return value


def _text(value: object) -> str:
    if not isinstance(value, str) or len(value) > _TEXT_LIMIT:
        raise _Bad
    return value


def _status(value: object) -> str:
    if value not in ("READY", "SUSPENDED"):
        raise _Bad
    return str(value)


def _ram(value: object) -> float:
    if type(value) not in (int, float) or not 1.0 <= float(value) <= 65536.0:  # type: ignore[arg-type]
        raise _Bad
    return float(value)  # type: ignore[arg-type]


def _bounded(low: float, high: float) -> Callable[[object], float]:
    """A saved number the plan view's spin box can show (bool is not a number here)."""

    def check(value: object) -> float:
        if type(value) not in (int, float) or not low <= float(value) <= high:  # type: ignore[arg-type]
            raise _Bad
        return float(value)  # type: ignore[arg-type]

    return check


def _parameter(name: str, value: object) -> str:
    """A saved job parameter value as the template would accept it, else `_Bad`."""
    text = _text(value)
    default = DEFAULT_PARAMETERS[name]
    allowed = definitions_by_name()[name].get("allowedValues")
    if allowed is not None and text not in allowed:  # check boxes, SplitStrategy
        raise _Bad
    if default in ("true", "false"):
        if text not in ("true", "false"):
            raise _Bad
        return text
    try:
        float(default)
    except ValueError:
        return text  # a free text parameter (AerenderPath)
    try:
        number = float(text)
    except ValueError:
        raise _Bad from None
    low, high = parameter_range(name)
    if not math.isfinite(number) or not low <= number <= high:
        raise _Bad
    return text


def _parameters(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        raise _Bad
    merged = dict(DEFAULT_PARAMETERS)
    for name, text in value.items():
        if name in DEFAULT_PARAMETERS:
            merged[name] = _parameter(name, text)
    return merged


def _frame_overrides(value: object) -> dict[int, str]:
    if not isinstance(value, dict):
        raise _Bad
    overrides: dict[int, str] = {}
    for key, text in value.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) < 10):
            raise _Bad
        if not isinstance(text, str) or parse_frame_range(text) is None:
            raise _Bad
        overrides[int(key)] = text
    return overrides


def _selected(value: object, valid_items: set[int]) -> list[int]:
    if not isinstance(value, list) or any(type(i) is not int for i in value):
        raise _Bad
    # An item the project no longer has (or no longer renders) is simply not selected.
    return [i for i in value if i in valid_items]


def _checkers(valid_items: set[int]) -> dict[str, Callable[[object], Any]]:
    def selected(value: object) -> list[int]:
        return _selected(value, valid_items)

    def int_field(key: str) -> Callable[[object], int]:
        return lambda value: _int(key, value)

    checkers: dict[str, Callable[[object], Any]] = {key: int_field(key) for key in _INT_RANGES}
    checkers.update(
        name=_text,
        description=_text,
        profile=_text,
        initial_status=_status,
        preview_ram_gb=_ram,
        seconds_per_frame=_bounded(0.1, 86400.0),
        hourly_price=_bounded(0.0, 100000.0),
        parameters=_parameters,
        frame_overrides=_frame_overrides,
        selected_items=selected,
    )
    return checkers


#: Saved settings are a few hundred bytes; anything far larger is not ours.
MAX_STICKY_BYTES = 1024 * 1024


def load_sticky(settings: AfterEffectsSettings, path: Path, export: Export) -> list[str]:
    """Apply the saved settings that fit their controls; returns what was ignored and
    why, one line each. No file is no warning; a damaged one never stops the submitter."""
    try:
        with path.open("rb") as handle:  # capped: a link to /dev/zero must not eat memory
            raw = handle.read(MAX_STICKY_BYTES + 1)
        if len(raw) > MAX_STICKY_BYTES:
            raise ValueError(f"larger than {MAX_STICKY_BYTES // 1024} KiB")
        text = raw.decode("utf-8")
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:  # a folder in its place, no permission, binary
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return [f"Saved settings {path} cannot be read ({reason}): ignored, defaults used"]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return [f"Saved settings {path} are not valid JSON ({exc}): ignored, defaults used"]
    if not isinstance(data, dict) or data.get("stmpoStickyVersion") != STICKY_VERSION:
        return [
            f"Saved settings {path} are not STMPO submitter settings (version "
            f"{STICKY_VERSION}): ignored, defaults used"
        ]
    valid_items = {item.index for item in export.render_queue if item.selectable}
    checkers = _checkers(valid_items)
    ignored = []
    for key in STICKY_FIELDS:
        if key not in data:
            continue
        try:
            setattr(settings, key, checkers[key](data[key]))
        except _Bad:
            ignored.append(key)
    if not ignored:
        return []
    return [f"Saved settings {path}: damaged {', '.join(ignored)} ignored, defaults used"]


def _is_sticky_text(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "stmpoStickyVersion" in data


def save_sticky(settings: AfterEffectsSettings, path: Path) -> None:
    """Beside the project, atomically; raises OSError when that cannot be done or when
    `path` is something other than STMPO's own settings file, which is never replaced
    (the settings are a convenience, not worth someone's file)."""
    from stmpo.errors import OutputRefused
    from stmpo.files import write_text_atomically
    from stmpo.output_paths import file_target

    data = {key: value for key, value in asdict(settings).items() if key in STICKY_FIELDS}
    data["frame_overrides"] = {str(k): v for k, v in settings.frame_overrides.items()}
    data["stmpoStickyVersion"] = STICKY_VERSION
    try:
        target = file_target(path, ours=_is_sticky_text, what="saved submitter settings")
    except OutputRefused as exc:
        raise OSError(f"{path} exists and is not STMPO submitter settings: left as it is") from exc
    write_text_atomically(target, json.dumps(data, indent=2, sort_keys=True))


def to_bundle_settings(settings: AfterEffectsSettings) -> BundleSettings:
    """The dialog's settings as the bundle builder takes them (same path as `stmpo bundle`)."""
    overrides = {}
    for index, text in settings.frame_overrides.items():
        parsed = parse_frame_range(text)
        if parsed is not None:
            overrides[index] = parsed
    parameters = dict(DEFAULT_PARAMETERS)
    parameters.update(settings.parameters)
    parameters["ChunkSize"] = str(settings.chunk_size)
    return BundleSettings(
        items=tuple(settings.selected_items),
        frame_overrides=overrides,
        parameters=parameters,
        job_name=settings.name or None,
        allow_secret_paths=settings.allow_secret_paths,
        allow_broad_assets=settings.allow_broad_assets,
    )
