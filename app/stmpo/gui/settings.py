"""The submitter's settings: the dataclass the deadline dialog carries, and sticky storage.

Settings are saved beside the project (`<project>.stmpo.json`) so that the next artist
opening the same project gets the same choices. When the project folder is not reachable
from this machine (an export made on another OS), they go beside the export instead.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from stmpo.bundle import BundleSettings
from stmpo.bundle.parameters import default_value, definitions_by_name
from stmpo.export.model import Export
from stmpo.frame_text import parse_frame_range

STICKY_VERSION = 1

#: The STMPO controls the tab edits, by job parameter name.
STMPO_CONTROLS: tuple[str, ...] = (
    "Concurrency",
    "MaxConcurrency",
    "RamPerProcessGB",
    "DisableMFR",
    "DisableAffinity",
    "SpawnDelay",
    "ChildGraceSec",
    "NoKillOnFail",
    "AerenderPath",
)


def _as_text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


#: Defaults come from the template's own parameter definitions: one source of truth.
DEFAULT_PARAMETERS: dict[str, str] = {
    name: _as_text(default_value(name)) for name in STMPO_CONTROLS
}


def parameter_number(values: Mapping[str, str], name: str) -> float:
    """`values[name]` as a number; the template default when it is missing or not one."""
    try:
        return float(values.get(name, DEFAULT_PARAMETERS[name]))
    except ValueError:
        return float(DEFAULT_PARAMETERS[name])


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
    # Shared-settings fields the deadline dialog fills when present.
    priority: int = 50
    initial_status: str = "READY"
    max_failed_tasks_count: int = 20
    max_retries_per_task: int = 5
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
    # The upload opt-ins are per submission: never in STICKY_FIELDS, so a yes once given
    # beside a project does not silently apply to the next artist opening it.
    allow_secret_paths: bool = False
    allow_broad_assets: bool = False


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
)


def sticky_path(export: Export, export_path: str | os.PathLike[str]) -> Path:
    project = Path(export.project.path.replace("\\", "/"))
    if project.parent.is_dir():
        return project.with_name(project.name + ".stmpo.json")
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
    load_sticky(settings, sticky_path(export, export_path), export)
    return settings


def load_sticky(settings: AfterEffectsSettings, path: Path, export: Export) -> bool:
    """Apply saved settings; ignore a damaged or foreign file rather than refuse to start."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(data, dict) or data.get("stmpoStickyVersion") != STICKY_VERSION:
        return False
    known = {f.name: f for f in fields(AfterEffectsSettings)}
    valid_items = {item.index for item in export.render_queue if item.selectable}
    for key in STICKY_FIELDS:
        if key not in data:
            continue
        value: Any = data[key]
        if key == "selected_items":
            if not isinstance(value, list):
                continue
            value = [i for i in value if isinstance(i, int) and i in valid_items]
        elif key == "frame_overrides":
            if not isinstance(value, dict):
                continue
            value = {int(k): str(v) for k, v in value.items() if str(k).isdigit()}
        elif key == "parameters":
            if not isinstance(value, dict):
                continue
            merged = dict(DEFAULT_PARAMETERS)
            merged.update({str(k): str(v) for k, v in value.items() if k in DEFAULT_PARAMETERS})
            value = merged
        default = getattr(AfterEffectsSettings(), known[key].name)
        if not isinstance(value, type(default)) and not (
            isinstance(default, float) and isinstance(value, int)
        ):
            continue
        setattr(settings, key, value)
    return True


def _is_sticky_text(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "stmpoStickyVersion" in data


def save_sticky(settings: AfterEffectsSettings, path: Path) -> None:
    """Beside the project, atomically; a file of that name that is not ours is left alone
    (the settings are a convenience, not worth someone's file)."""
    from stmpo.errors import OutputRefused
    from stmpo.files import write_text_atomically
    from stmpo.output_paths import file_target

    data = {key: value for key, value in asdict(settings).items() if key in STICKY_FIELDS}
    data["frame_overrides"] = {str(k): v for k, v in settings.frame_overrides.items()}
    data["stmpoStickyVersion"] = STICKY_VERSION
    try:
        target = file_target(path, ours=_is_sticky_text, what="saved submitter settings")
    except OutputRefused:
        return
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
