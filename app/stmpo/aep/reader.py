"""Read a saved .aep with py-aep into an `Export` (the imperative edge of the reader).

py-aep parses lazily and raises whatever its binary reader hits (OSError on a short
read, UnicodeDecodeError, ValueError...), so every call into it happens here, inside
one guard that turns a failure into an `ExportError` naming the file. What comes out
is plain data (`stmpo.aep.snapshot`); `stmpo.aep.build` makes the export from it and
the export goes through the same loader as any export file, so the reader can never
hand the submitter something the loader would refuse.
"""

from __future__ import annotations

import json
import os
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stmpo.aep.build import build_export
from stmpo.aep.frames import clean_rate, path_style, skip_frames_hint
from stmpo.aep.snapshot import (
    FootageSnap,
    OutputKind,
    OutputModuleSnap,
    ProjectSnap,
    RenderItemSnap,
)
from stmpo.errors import ExportError, Problem
from stmpo.export.loader import parse_export
from stmpo.export.model import Export

if TYPE_CHECKING:
    from types import ModuleType

INSTALL_HINT = (
    'reading .aep files needs py-aep: install stmpo-ae[aep] (pip install "stmpo-ae[aep]")'
)

#: A binary AE project is a big-endian RIFF ("RIFX") whose form type is "Egg!".
_RIFX, _EGG = b"RIFX", b"Egg!"


def import_py_aep() -> ModuleType:
    """py-aep, or an ExportError telling how to install it (it is an optional extra)."""
    try:
        import py_aep
    except ImportError:
        raise ExportError(INSTALL_HINT) from None
    return py_aep


def _fail(source: str, message: str) -> ExportError:
    return ExportError([Problem("", message)], source=source)


def check_header(path: Path, source: str) -> None:
    """Refuse what is plainly not a binary AE project before py-aep sees it."""
    try:
        with path.open("rb") as handle:
            head = handle.read(64)
    except FileNotFoundError:
        raise _fail(source, "no such file") from None
    except IsADirectoryError:
        raise _fail(source, "is a folder, not an After Effects project") from None
    except OSError as exc:
        raise _fail(source, f"cannot read: {exc.strerror or exc}") from None
    if not head:
        raise _fail(source, "the file is empty, not an After Effects project")
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise _fail(
            source,
            "this is an XML project (.aepx); py-aep reads binary .aep files only: "
            "save a copy as .aep in After Effects, or export with the STMPO bridge",
        )
    if head[:4] != _RIFX or head[8:12] != _EGG:
        raise _fail(source, "not an After Effects project (.aep files start with RIFX...Egg!)")


def _enum_name(value: Any) -> str:
    return str(getattr(value, "name", value))


def _output_kind(py_aep: ModuleType, format_name: str | None) -> OutputKind | None:
    """sequence or movie from AE's format name; audio files are one file, like movies."""
    for fmt in py_aep.OutputFormat:
        if fmt.label == format_name:
            kind = _enum_name(fmt.kind).lower()
            return "sequence" if kind == "sequence" else "movie"
    return None


def _setting(settings: Any, key: str) -> Any:
    """One of py-aep's typed settings, or None when it cannot read it from this file."""
    try:
        return settings[key]
    except Exception:
        return None


def _numbering(om: Any) -> tuple[bool | None, int | None]:
    """ "Use Comp Frame Number" and "Starting #" as AE's getSettings names them."""
    settings = getattr(om, "settings", None)
    use_comp = _setting(settings, "Use Comp Frame Number")
    starting = _setting(settings, "Starting #")
    return (
        use_comp if isinstance(use_comp, bool) else None,
        starting
        if isinstance(starting, int) and not isinstance(starting, bool) and 0 <= starting <= 10**9
        else None,
    )


def _read_output_module(
    py_aep: ModuleType, om: Any, index: int
) -> tuple[OutputModuleSnap | None, str | None]:
    try:
        path = str(om.file or "")
    except Exception as exc:  # py-aep resolves [compName] etc. and may fail on odd data
        return None, f"output module {index} is left out: its path cannot be read ({exc})"
    if not path:
        return None, f"output module {index} has no output file set, so it is left out"
    if path_style(path) is None:
        return None, f'output module {index} is left out: "{path}" is not an absolute path'
    try:
        format_name: str | None = str(om.get_settings()["Format"]) or None
    except Exception:
        format_name = None
    template = str(om.name or "") or None
    use_comp, starting = _numbering(om)
    return (
        OutputModuleSnap(
            index=index,
            path=path,
            template=template,
            format_name=format_name,
            kind=_output_kind(py_aep, format_name),
            use_comp_frame_number=use_comp,
            starting_number=starting,
        ),
        None,
    )


def _read_render_item(py_aep: ModuleType, rqi: Any, index: int) -> RenderItemSnap:
    comp = rqi.comp
    modules: list[OutputModuleSnap] = []
    skipped: list[str] = []
    for om_index, om in enumerate(rqi.output_modules, start=1):
        snap, problem = _read_output_module(py_aep, om, om_index)
        if snap is not None:
            modules.append(snap)
        if problem is not None:
            skipped.append(problem)
    settings = rqi.settings
    custom_rate: float | None = None
    rate_mode = _setting(settings, "Frame Rate")
    if rate_mode is not None and int(rate_mode) == int(py_aep.FrameRateSetting.USE_THIS_FRAME_RATE):
        rate = _setting(settings, "Use this frame rate")
        custom_rate = clean_rate(float(rate)) if rate is not None and float(rate) > 0 else None
    frame_rate_known = rate_mode is not None and (
        custom_rate is not None
        or int(rate_mode) != int(py_aep.FrameRateSetting.USE_THIS_FRAME_RATE)
    )
    skip_existing = _setting(settings, "Skip Existing Files")
    render_rate = custom_rate if custom_rate is not None else clean_rate(float(comp.frame_rate))
    skip_hint = (
        skip_frames_hint(render_rate, _stored_output_rates(rqi)) if frame_rate_known else None
    )
    return RenderItemSnap(
        index=index,
        status=_enum_name(rqi.status),
        render=bool(rqi.render),
        comp_name=str(comp.name),
        width=int(comp.width),
        height=int(comp.height),
        frame_rate=clean_rate(float(comp.frame_rate)),
        duration=float(comp.duration),
        display_start_time=float(comp.display_start_time),
        comp_display_start_frame=int(comp.display_start_frame),
        span_start=float(rqi.time_span_start),
        span_duration=float(rqi.time_span_duration),
        render_settings=str(rqi.name or "") or None,
        custom_frame_rate=custom_rate,
        output_modules=tuple(modules),
        skipped_output_modules=tuple(skipped),
        skip_existing_files=skip_existing if isinstance(skip_existing, bool) else None,
        frame_rate_known=frame_rate_known,
        skip_frames_hint=skip_hint,
    )


def _stored_output_rates(rqi: Any) -> list[float]:
    """Each output module's stored frame rate. py-aep 0.18 has no public attribute for
    it (only the private `_roou.frame_rate`); when that changes this reads nothing, and
    the reader just gives no Skip Frames trace."""
    rates: list[float] = []
    for om in rqi.output_modules:
        try:
            rates.append(float(om._roou.frame_rate))
        except Exception:
            continue
    return rates


def _read_footage(py_aep: ModuleType, item: Any) -> FootageSnap | None:
    """File and placeholder footage; solids have no file and are left out."""
    source = item.main_source
    if isinstance(source, py_aep.PlaceholderSource):
        return FootageSnap(
            name=str(item.name), file=None, sequence=False, frame_count=0, missing_at_save=True
        )
    if not isinstance(source, py_aep.FileSource):
        return None
    sequence = bool(source.target_is_folder) and not bool(source.is_still)
    count = int(item.end_frame) - int(item.start_frame) + 1
    if count < 1:
        count = round(float(item.duration) * float(item.frame_rate))
    return FootageSnap(
        name=str(item.name),
        file=str(source.file),
        sequence=sequence,
        frame_count=count,
        missing_at_save=bool(source.missing_footage_path),
    )


def snapshot_project(py_aep: ModuleType, path: Path, source: str) -> ProjectSnap:
    """Parse with py-aep and copy out what the export needs. Raises ExportError."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            app = py_aep.parse(path)
            project = app.project
            render_queue = project.render_queue  # None for a file saved without one
            queue = list(render_queue.items) if render_queue is not None else []
            display_start_frame = int(project.display_start_frame)
        except Exception as exc:
            raise _fail(
                source, f"not a readable After Effects project ({type(exc).__name__}: {exc})"
            ) from None
        items: list[RenderItemSnap] = []
        for index, rqi in enumerate(queue, start=1):
            try:
                items.append(_read_render_item(py_aep, rqi, index))
            except Exception as exc:
                notes.append(
                    f"render queue item {index} could not be read and is left out "
                    f"({type(exc).__name__}: {exc})"
                )
        footage: list[FootageSnap] = []
        try:
            footage_items = list(project.footages)
        except Exception as exc:
            footage_items = []
            notes.append(f"footage could not be read ({type(exc).__name__}: {exc})")
        for item in footage_items:
            try:
                snap = _read_footage(py_aep, item)
            except Exception as exc:
                notes.append(f"a footage item could not be read ({type(exc).__name__}: {exc})")
                continue
            if snap is not None:
                footage.append(snap)
        try:
            fonts = tuple(str(entry["font"].post_script_name) for entry in project.used_fonts)
        except Exception as exc:
            fonts = ()
            notes.append(f"the fonts could not be read ({type(exc).__name__}: {exc})")
        try:
            saved_with: str | None = str(app.version) or None
        except Exception:
            saved_with = None
    notes.extend(f"py-aep: {w.message}" for w in caught)
    return ProjectSnap(
        path=str(path),
        display_start_frame=display_start_frame,
        reader_version=str(getattr(py_aep, "__version__", "unknown")).removeprefix("v"),
        saved_with=saved_with,
        render_items=tuple(items),
        footage=tuple(footage),
        fonts=fonts,
        notes=tuple(dict.fromkeys(notes)),
    )


def read_aep(path: str | Path) -> Export:
    """Read a saved .aep into an export; every failure is an ExportError, never a traceback."""
    source = str(path)
    file = Path(os.path.abspath(path))
    check_header(file, source)
    py_aep = import_py_aep()
    snap = snapshot_project(py_aep, file, source)
    exported_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data = build_export(snap, exists=os.path.exists, exported_at=exported_at)
    # Through JSON text and the loader, exactly as a consumer of the file would read it.
    text = json.dumps(data, ensure_ascii=False)
    try:
        return parse_export(json.loads(text), source=source)
    except ExportError as exc:
        raise ExportError(
            [
                Problem("", "py-aep read this project into an export the loader refuses:"),
                *exc.problems,
            ],
            source=source,
        ) from None


def export_json(export: Export) -> str:
    """The export as the JSON text an export file holds."""
    # Unset fields stay out: a default the reader did not choose (isSubstitute: false
    # for a font it knows nothing about) must not read as a fact.
    data = export.model_dump(mode="json", by_alias=True, exclude_none=True, exclude_unset=True)
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
