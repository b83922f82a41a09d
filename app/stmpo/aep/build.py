"""Turn a `ProjectSnap` into export JSON (pure: the file system comes in as `exists`).

Everything a saved file cannot tell (font files, substitutions, footage on another
OS) becomes a warning in the export rather than a guess, so the artist sees it in
the submitter before anything renders.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from stmpo.aep.frames import frame_range, path_style, sequence_pattern
from stmpo.aep.snapshot import FootageSnap, ProjectSnap, RenderItemSnap
from stmpo.export.model import FINISHED_STATUSES, FORMAT_NAME, FORMAT_VERSION

#: Missing footage files named one per warning; past this, one line counts the rest.
MAX_LISTED_MISSING = 10

FONT_WARNING = (
    "fonts were read from the .aep file without After Effects: only PostScript names are "
    "known, not font files, families or whether AE substituted a missing font; make sure "
    "the workers have these fonts ({names})"
)


def infer_host_os(project_path: str, paths: Iterable[str]) -> str | None:
    """The OS the project's own paths were written on, when the export can say it.

    After Effects runs on Windows and macOS only, so POSIX paths mean macOS. The
    export checks every path, the project's own included, against `host.os`; when the
    project was read at a path of the other style (a Windows project read on Linux)
    the OS is left unset and both styles are accepted.
    """
    styles = {path_style(p) for p in paths if p}
    styles.discard(None)
    if len(styles) != 1:
        return None
    style = styles.pop()
    if path_style(project_path) != style:
        return None
    return "windows" if style == "windows" else "macos"


def _item_json(
    item: RenderItemSnap, project_display_start_frame: int, warnings: list[str]
) -> dict[str, Any] | None:
    label = f"render queue item {item.index} ({item.comp_name})"
    try:
        start, end = frame_range(
            comp_display_start_frame=item.comp_display_start_frame,
            span_start=item.span_start,
            span_duration=item.span_duration,
            frame_rate=item.frame_rate,
            project_display_start_frame=project_display_start_frame,
        )
    except ValueError as exc:
        warnings.append(f"{label} is left out: {exc}")
        return None
    warnings.extend(f"{label}: {text}" for text in item.skipped_output_modules)
    modules = [
        {
            "index": om.index,
            "path": om.path,
            **({"template": om.template} if om.template else {}),
            **({"kind": om.kind} if om.kind else {}),
            **(
                {"useCompFrameNumber": om.use_comp_frame_number}
                if om.use_comp_frame_number is not None
                else {}
            ),
            **({"startingNumber": om.starting_number} if om.starting_number is not None else {}),
        }
        for om in item.output_modules
    ]
    for om in item.output_modules:
        if om.use_comp_frame_number is None:
            warnings.append(
                f"{label}: output module {om.index}: the saved project cannot tell whether it "
                'uses the comp\'s frame numbers (py-aep cannot read "Use Comp Frame Number"); '
                "files are expected at comp frame numbers"
            )
    for om in item.output_modules:
        if om.kind is None:
            shown = f"format {om.format_name!r}" if om.format_name else "its format"
            warnings.append(
                f"{label}: output module {om.index}: py-aep does not know {shown}; "
                "sequence or movie is decided from the path"
            )
    render = item.render and item.status != "NEEDS_OUTPUT"
    if render and not modules and item.status == "QUEUED":
        warnings.append(f"{label} has no usable output module, so it is not selected")
        render = False
    if item.status in FINISHED_STATUSES:
        # aerender -rqindex cannot set such an item's Render flag; a saved file cannot be
        # prepared the way the bridge does it (duplicate, save, export the copy).
        warnings.append(
            f"{label} is {item.status}: aerender cannot render it again, so it is not "
            "offered; duplicate it in After Effects (the copy is QUEUED) and save"
        )
        render = False
    if not item.frame_rate_known:
        warnings.append(
            f"{label}: the saved project cannot tell the render settings' frame rate "
            "(py-aep cannot read it); files are expected at the comp's rate"
        )
    if item.skip_frames_hint is not None:
        every = item.skip_frames_hint + 1
        warnings.append(
            f"{label}: the saved project cannot tell Skip Frames (After Effects does not "
            f"save it and renders every frame of a project it opens), but its output modules "
            f"were last prepared for Skip Frames {item.skip_frames_hint} (one frame in "
            f"{every}); every frame is exported (frames.step 1). To render one frame in "
            f"{every}, set Skip Frames in After Effects and export with the bridge"
        )
    if item.skip_existing_files is None:
        warnings.append(
            f'{label}: the saved project cannot tell whether "Skip Existing Files" is on '
            "(py-aep cannot read it); taken as off"
        )
    comp: dict[str, Any] = {
        "name": item.comp_name,
        "width": item.width,
        "height": item.height,
        "frameRate": item.frame_rate,
        "duration": item.duration,
        "displayStartTime": item.display_start_time,
    }
    result: dict[str, Any] = {
        "index": item.index,
        "render": render,
        "status": item.status,
        "comp": comp,
        "frames": {"start": start, "end": end, "step": 1},
        "outputModules": modules,
    }
    if item.render_settings:
        result["renderSettings"] = item.render_settings
    # As the bridge: the rate files are written at, the comp's unless the render settings
    # say "Use this frame rate" (frames stay comp frames, what aerender -s/-e take).
    if item.frame_rate_known:
        result["renderFrameRate"] = (
            item.custom_frame_rate if item.custom_frame_rate is not None else item.frame_rate
        )
    if item.skip_existing_files is not None:
        result["skipExistingFiles"] = item.skip_existing_files
    return result


def _footage_json(
    footage: Iterable[FootageSnap], exists: Callable[[str], bool], warnings: list[str]
) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()
    missing: list[str] = []
    for item in footage:
        if item.file is None:
            warnings.append(f'footage "{item.name}" is a placeholder with no file')
            continue
        path = sequence_pattern(item.file, item.frame_count) if item.sequence else item.file
        if path in seen:
            continue
        seen.add(path)
        here = exists(item.file)
        if not here:
            missing.append(path)
        elif item.missing_at_save:
            warnings.append(
                f"After Effects could not find {path} when the project was saved; "
                "it exists on this machine"
            )
        entries.append({"path": path, "sequence": item.sequence, "missing": not here})
    for path in missing[:MAX_LISTED_MISSING]:
        warnings.append(f"footage not found on this machine: {path}")
    if len(missing) > MAX_LISTED_MISSING:
        warnings.append(
            f"... and {len(missing) - MAX_LISTED_MISSING} more footage files not found "
            "on this machine"
        )
    return entries


def build_export(
    snap: ProjectSnap, *, exists: Callable[[str], bool], exported_at: str
) -> dict[str, Any]:
    """The export JSON for a project; `exists` tells whether a path is on this machine."""
    warnings: list[str] = list(snap.notes)
    items = [
        entry
        for entry in (_item_json(i, snap.display_start_frame, warnings) for i in snap.render_items)
        if entry is not None
    ]
    footage = _footage_json(snap.footage, exists, warnings)
    fonts = [{"postScriptName": name} for name in dict.fromkeys(n for n in snap.fonts if n)]
    if fonts:
        warnings.append(FONT_WARNING.format(names=", ".join(f["postScriptName"] for f in fonts)))

    foreign = [
        om["path"] for item in items for om in item["outputModules"] if isinstance(om, dict)
    ] + [entry["path"] for entry in footage]
    host: dict[str, Any] = {"app": f"py-aep {snap.reader_version}"}
    host_os = infer_host_os(snap.path, foreign)
    if host_os is not None:
        host["os"] = host_os
    elif any(path_style(p) == "windows" for p in foreign) and path_style(snap.path) == "posix":
        warnings.append(
            "the project's paths are Windows paths but it was read here at a POSIX path; "
            "map them with path mapping rules"
        )
    if snap.saved_with:
        host["savedWith"] = f"After Effects {snap.saved_with}"

    return {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "exportedAt": exported_at,
        "host": host,
        "project": {"path": snap.path, "displayStartFrame": snap.display_start_frame},
        "renderQueue": items,
        "footage": footage,
        "fonts": fonts,
        "warnings": warnings,
    }
