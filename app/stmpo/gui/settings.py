"""The submitter's settings: the dataclass the deadline dialog carries, and sticky storage.

Settings are saved beside the project (`<project>.stmpo.json`) so that the next artist
opening the same project gets the same choices. When the project folder is not reachable
from this machine (an export made on another OS), they go beside the export instead.

That file is outside input: anyone may have edited, truncated or replaced it. Loading
takes each value only when it has the type and range the control shows, and reports
what it ignored (`AfterEffectsSettings.notices`), so a damaged file never stops the
submitter. Saving never replaces a file that is not STMPO's own settings, nor one made
read-only, and a save that fails is for the window to say (`try_save_sticky`).

Which fields stick, and what each accepts, is said once, on the field itself
(`metadata=sticky(check)`, after the `deadline` library's Nuke and Blender submitters'
`metadata={"sticky": True}`): saving and loading walk `dataclasses.fields()`.
"""

from __future__ import annotations

import json
import math
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import Field, dataclass, field, fields
from pathlib import Path
from typing import Any

from stmpo._worker_scripts.stmpo_worker.contract import SETTINGS
from stmpo.bundle import BundleSettings
from stmpo.bundle.parameters import coerce_value, default_value, definitions_by_name
from stmpo.bundle.template import default_job_name
from stmpo.export.model import Export
from stmpo.frame_text import parse_frame_range
from stmpo.gui.profiles import CUSTOM, PROFILES
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


class _Bad(Exception):
    """A saved value that does not fit its control: ignored, the default stays. A value
    made of parts (the job parameters) may keep the parts that fit: `kept` is then the
    value to use and `parts` names those ignored."""

    def __init__(self, kept: object = None, parts: tuple[str, ...] = ()) -> None:
        super().__init__(*parts)
        self.kept = kept
        self.parts = parts


@dataclass(frozen=True)
class LoadContext:
    """What a saved value is checked against besides its own type and range: the export
    being opened (a saved item the project no longer renders is simply not selected)."""

    selectable_items: frozenset[int]


#: A sticky field's check: the saved JSON value as the field holds it, or `_Bad`.
Check = Callable[[object, LoadContext], Any]


def sticky(check: Check) -> dict[str, Any]:
    """Field metadata marking a field saved beside the project, as the `deadline`
    library's own submitters mark theirs (`metadata={"sticky": True}`), plus the check
    loading applies: the file is outside input, so every sticky field must say what it
    accepts, in the same place that says it is sticky."""
    return {"sticky": True, "check": check}


_INT32 = 2**31 - 1
_TEXT_LIMIT = 10_000


@dataclass(frozen=True)
class Bounded:
    """A number the control showing it accepts (bool is not a number here): the check
    of a sticky number, and the range its control is given (`control_range`), so the
    two cannot disagree."""

    low: float
    high: float
    whole: bool
    never: int | None = None

    def __call__(self, value: object, _: LoadContext) -> int | float:
        if self.whole:
            if type(value) is not int or not self.low <= value <= self.high:
                raise _Bad
            if value == self.never:
                raise _Bad
            return value
        if type(value) not in (int, float) or not self.low <= float(value) <= self.high:  # type: ignore[arg-type]
            raise _Bad
        return float(value)  # type: ignore[arg-type]


def whole(low: int, high: int, *, never: int | None = None) -> Check:
    """A whole number the control showing it accepts."""
    return Bounded(low, high, whole=True, never=never)


def number(low: float, high: float) -> Check:
    """A number a spin box can show (an int in the file is fine)."""
    return Bounded(low, high, whole=False)


def short_text(value: object, _: LoadContext | None = None) -> str:
    if not isinstance(value, str) or len(value) > _TEXT_LIMIT:
        raise _Bad
    return value


def true_or_false(value: object, _: LoadContext) -> bool:
    if type(value) is not bool:
        raise _Bad
    return value


def one_of(*allowed: str) -> Check:
    def check(value: object, _: LoadContext) -> str:
        if value not in allowed:
            raise _Bad
        return str(value)

    return check


def _parameter(name: str, value: object) -> str:
    """A saved job parameter value as the template's own definition accepts it (type,
    minValue/maxValue, allowedValues, length: `coerce_value`, what `stmpo bundle -p`
    checks), written as its control writes it; else `_Bad`."""
    if not isinstance(value, str):
        raise _Bad
    definition = definitions_by_name()[name]
    if value != value.strip():  # ` 4`: no control writes it, `-p` would read it
        raise _Bad
    allowed = definition.get("allowedValues")
    if allowed is not None and value not in allowed:  # check boxes say exactly true/false
        raise _Bad
    try:
        coerce_value(definition, value)
    except ValueError:
        raise _Bad from None
    return value


def job_parameters(value: object, _: LoadContext) -> dict[str, str]:
    """The template's defaults with the saved values of the parameters it still has; a
    value the template refuses is ignored alone (`parameters.Concurrency`), not with the
    others beside it."""
    if not isinstance(value, dict):
        raise _Bad
    merged = dict(DEFAULT_PARAMETERS)
    refused = []
    for name, saved in value.items():
        if name in DEFAULT_PARAMETERS:
            try:
                merged[name] = _parameter(name, saved)
            except _Bad:  # this one keeps its default; the others are the artist's
                refused.append(name)
    if refused:
        raise _Bad(kept=merged, parts=tuple(refused))
    return merged


def frame_range_texts(value: object, context: LoadContext) -> dict[int, str]:
    """JSON keys are text: the render queue indexes come back as numbers. The override of
    an item the project no longer lets the artist pick (rendered since: DONE) is dropped,
    as its selection is: its greyed row could not be edited, and the bundle refuses an
    override of an item it does not render."""
    if not isinstance(value, dict):
        raise _Bad
    overrides: dict[int, str] = {}
    for key, saved in value.items():
        if not (isinstance(key, str) and key.isdigit() and len(key) < 10):
            raise _Bad
        if not isinstance(saved, str) or parse_frame_range(saved) is None:
            raise _Bad
        if int(key) in context.selectable_items:
            overrides[int(key)] = saved
    return overrides


def renderable_selection(value: object, context: LoadContext) -> list[int]:
    if not isinstance(value, list) or any(type(i) is not int for i in value):
        raise _Bad
    # An item the project no longer has (or no longer renders) is simply not selected.
    return [i for i in value if i in context.selectable_items]


@dataclass
class AfterEffectsSettings:
    """What the After Effects tab edits. Must be constructible with no arguments.

    A field with `sticky(check)` metadata is saved beside the project and loaded through
    its check (`load_sticky`/`save_sticky` walk `dataclasses.fields`): marking a field is
    the whole edit, there is no second list of names. The ranges are those of the
    controls that show each value (ours and the deadline dialog's)."""

    submitter_name: str = "After Effects"
    name: str = field(default="After Effects job", metadata=sticky(short_text))
    description: str = field(default="", metadata=sticky(short_text))
    # Shared-settings fields the deadline dialog fills when present; a render's defaults,
    # the same as `stmpo bundle`/`submit` (stmpo.bundle.job_properties).
    priority: int = field(default=_JOB.priority, metadata=sticky(whole(0, 100)))
    initial_status: str = field(
        default=_JOB.target_task_run_status, metadata=sticky(one_of("READY", "SUSPENDED"))
    )
    max_failed_tasks_count: int = field(
        default=_JOB.max_failed_tasks_count, metadata=sticky(whole(0, _INT32))
    )
    max_retries_per_task: int = field(
        default=_JOB.max_retries_per_task, metadata=sticky(whole(0, _INT32))
    )
    #: -1 is "no limit"; the deadline dialog has no 0.
    max_worker_count: int = field(default=-1, metadata=sticky(whole(-1, _INT32, never=0)))

    export_path: str = ""
    selected_items: list[int] = field(default_factory=list, metadata=sticky(renderable_selection))
    #: rq index -> "S-E[:step]"
    frame_overrides: dict[int, str] = field(
        default_factory=dict, metadata=sticky(frame_range_texts)
    )
    chunk_size: int = field(default=0, metadata=sticky(whole(0, 1_000_000)))
    parameters: dict[str, str] = field(
        default_factory=lambda: dict(DEFAULT_PARAMETERS), metadata=sticky(job_parameters)
    )
    #: A profile's name or Custom: the combo box has no other entry.
    profile: str = field(default="Hero", metadata=sticky(one_of(*PROFILES, CUSTOM)))
    preview_cpus: int = field(default=64, metadata=sticky(whole(1, 4096)))
    preview_ram_gb: float = field(default=256.0, metadata=sticky(number(1.0, 65536.0)))
    preview_numa_nodes: int = field(default=2, metadata=sticky(whole(1, 64)))
    #: The plan view's estimate inputs (plan_summary): seconds one process takes per
    #: frame, and an optional price per worker-hour (0 = no cost shown).
    seconds_per_frame: float = field(default=10.0, metadata=sticky(number(0.1, 86400.0)))
    hourly_price: float = field(default=0.0, metadata=sticky(number(0.0, 100000.0)))
    #: "Use the measured time": estimate with what an earlier job of the project measured
    #: when there is such a job; unticked, the typed estimate counts even then.
    prefer_measured_time: bool = field(default=True, metadata=sticky(true_or_false))
    # The upload opt-ins are per submission: never sticky, so a yes once given beside a
    # project does not silently apply to the next artist opening it.
    allow_secret_paths: bool = False
    allow_broad_assets: bool = False
    #: What loading the sticky file found wrong; shown in the tab, never saved.
    notices: list[str] = field(default_factory=list)


def control_range(name: str) -> tuple[float, float]:
    """The range of the control that shows the sticky number `name`: its check's."""
    check = next(f for f in fields(AfterEffectsSettings) if f.name == name).metadata["check"]
    assert isinstance(check, Bounded), name
    return check.low, check.high


def sticky_fields(
    settings_type: type[AfterEffectsSettings] = AfterEffectsSettings,
) -> tuple[Field[Any], ...]:
    """The fields saved beside the project, in declaration order. A field marked sticky
    by hand without a check is a programming error, refused before any file is read."""
    marked = tuple(f for f in fields(settings_type) if f.metadata.get("sticky"))
    for unchecked in (f.name for f in marked if not callable(f.metadata.get("check"))):
        raise TypeError(f"sticky field {unchecked} has no check (use metadata=sticky(check))")
    return marked


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
    """Defaults from the export, then whatever was saved beside the project; the job's
    name is the one `stmpo bundle` gives (`<project> (N items)`), for the items chosen."""
    renderable = [item.index for item in export.renderable_items]
    settings = AfterEffectsSettings(
        name=default_job_name(export, len(renderable)),
        export_path=str(export_path),
        selected_items=renderable,
    )
    settings.notices = load_sticky(settings, sticky_path(export, export_path), export)
    return settings


#: Saved settings are a few hundred bytes; anything far larger is not ours.
MAX_STICKY_BYTES = 1024 * 1024


def load_sticky(settings: AfterEffectsSettings, path: Path, export: Export) -> list[str]:
    """Apply the saved settings that fit their controls; returns what was ignored and
    why, one line each. No file is no warning; a damaged one never stops the submitter."""
    marked = sticky_fields(type(settings))
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
    context = LoadContext(frozenset(item.index for item in export.render_queue if item.selectable))
    ignored = []
    for sticky_field in marked:
        if sticky_field.name not in data:
            continue
        try:
            value = sticky_field.metadata["check"](data[sticky_field.name], context)
        except _Bad as bad:
            if not bad.parts:
                ignored.append(sticky_field.name)
                continue
            ignored += [f"{sticky_field.name}.{part}" for part in bad.parts]
            setattr(settings, sticky_field.name, bad.kept)
        else:
            setattr(settings, sticky_field.name, value)
    if not ignored:
        return []
    return [f"Saved settings {path}: damaged {', '.join(ignored)} ignored, defaults used"]


def _is_sticky_text(text: str) -> bool:
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and "stmpoStickyVersion" in data


class SettingsNotSaved(OSError):
    """Saving the sticky settings failed or was declined; `str()` says why in one line."""


#: Any write bit: a file with none is read-only to its owner, as `chmod a-w` or the
#: Windows read-only attribute (which Python reports as mode 0o444) leave it.
_ANY_WRITE = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH


def sticky_values(settings: AfterEffectsSettings) -> dict[str, Any]:
    """What is saved beside the project of these settings, field by field."""
    return {f.name: getattr(settings, f.name) for f in sticky_fields(type(settings))}


def save_sticky(settings: AfterEffectsSettings, path: Path) -> None:
    """Beside the project, atomically; raises `SettingsNotSaved` when that cannot be done,
    when `path` is something other than STMPO's own settings file, or when it is a
    settings file made read-only (a studio pinning its settings): neither is replaced
    (the settings are a convenience, not worth someone's file or choice). A file that is
    replaced keeps its mode: the rename would otherwise give it the umask's.

    The mode bits are read, not `os.access`: root may write anything, yet a file without
    a write bit is what a user means by read-only, and the rename replaces it regardless.
    """
    from stmpo.errors import OutputRefused
    from stmpo.files import write_text_atomically
    from stmpo.output_paths import file_target

    # JSON writes the render queue indexes of frame_overrides as text; its check reads
    # them back as numbers.
    data: dict[str, Any] = {**sticky_values(settings), "stmpoStickyVersion": STICKY_VERSION}
    try:
        target = file_target(path, ours=_is_sticky_text, what="saved submitter settings")
    except OutputRefused as exc:
        raise SettingsNotSaved(
            f"{path} exists and is not STMPO submitter settings: left as it is"
        ) from exc
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise SettingsNotSaved(f"{path}: {exc.strerror or exc}") from exc
    if mode is not None and not mode & _ANY_WRITE:
        raise SettingsNotSaved(f"{path} is read-only: left as it is")
    try:
        write_text_atomically(target, json.dumps(data, indent=2, sort_keys=True), mode)
    except OSError as exc:
        raise SettingsNotSaved(f"{path}: {exc.strerror or exc}") from exc


def try_save_sticky(settings: AfterEffectsSettings, path: Path) -> str | None:
    """Save, never raise: the line to show the artist when the settings were not saved
    (the bundle or job is made either way), else None."""
    try:
        save_sticky(settings, path)
    except OSError as exc:
        return f"Settings not saved, the next submitter on this project will not show them: {exc}"
    return None


def to_bundle_settings(settings: AfterEffectsSettings) -> BundleSettings:
    """The dialog's settings as the bundle builder takes them (same path as `stmpo bundle`)."""
    overrides = {}
    chosen = set(settings.selected_items)
    for index, text in settings.frame_overrides.items():
        parsed = parse_frame_range(text)
        if parsed is not None and index in chosen:  # an unchecked item's frames wait
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
