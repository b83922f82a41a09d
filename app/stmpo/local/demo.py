"""The inputs of `stmpo demo`: the sample export re-pointed at a demo folder, and the
stand-in's sidecar that tells the fake aerender what each render queue item writes.

AE keeps output paths inside the .aep, which the stand-in cannot read; the sidecar
(`<project>.standin.json`, docs/aerender-standin.md) carries them instead. Everything
here is pure except `prepare_demo_folder` and `write_demo_inputs`.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path, PurePath
from typing import Any

from stmpo._worker_scripts.stmpo_worker.frametime import Timebase
from stmpo._worker_scripts.stmpo_worker.outputs import frame_path
from stmpo.errors import OutputRefused, Problem
from stmpo.export.model import Export, RenderQueueItem

DEMO_MARKER = ".stmpo-demo"
"""A folder holding this file was made by `stmpo demo` and may be cleared by it."""
DEMO_ENTRIES = frozenset({DEMO_MARKER, "export.json", "project", "frames", "bundle", "logs"})
"""Everything `stmpo demo` writes into its folder; anything else stops it clearing it."""


def demo_export(example: dict[str, Any], out: Path) -> dict[str, Any]:
    """The example export with its project in `out/project/` and its frames in `out/frames/`.

    Footage and fonts are dropped: the stand-in reads neither, and a missing footage
    file would only add warnings to the demo.
    """
    data = copy.deepcopy(example)
    project_name = PurePath(str(data["project"]["path"]).replace("\\", "/")).name
    data["project"]["path"] = str(out / "project" / project_name)
    for item in data["renderQueue"]:
        for module in item.get("outputModules", []):
            name = PurePath(str(module["path"]).replace("\\", "/")).name
            module["path"] = str(out / "frames" / f"rq{item['index']}" / name)
    data["footage"] = []
    data["fonts"] = []
    data["host"] = {**data.get("host", {}), "os": "linux"}
    return data


def standin_sidecar(export: Export) -> dict[str, Any]:
    """`{"frameRate", "displayStartFrame", "items": {"<rq>": {"comp", "outputs", "frames",
    "frameRate", "displayStartTime"[, "renderFrameRate"]}}}`: what the project would
    tell AE, the render settings' frame rate included."""
    items: dict[str, Any] = {}
    for item in export.render_queue:
        entry: dict[str, Any] = {
            "comp": item.comp.name,
            "outputs": [m.path for m in item.output_modules],
            "frames": {"start": item.frames.start, "end": item.frames.end},
            "frameRate": item.comp.frame_rate,
            "displayStartTime": item.comp.display_start_time or 0.0,
        }
        if item.render_frame_rate is not None:
            entry["renderFrameRate"] = item.render_frame_rate
        items[str(item.index)] = entry
    rate = export.render_queue[0].comp.frame_rate if export.render_queue else 25.0
    return {
        "frameRate": rate,
        "displayStartFrame": export.project.display_start_frame,
        "items": items,
    }


def expected_frames(export: Export, items: Sequence[int] | None = None) -> tuple[Path, ...]:
    """Every file the sequence outputs of the renderable items (the builder's default
    selection, which the demo renders), or of the render queue `items` picked, should
    hold after the render; the file names come from the worker's own `frame_path` and
    frame model, so the demo checks what the worker writes (output frames, at another
    render rate than the comp's)."""
    chosen = (
        export.renderable_items
        if items is None
        else [item for item in export.render_queue if item.index in items]
    )
    return tuple(
        Path(frame_path(module.path, frame))
        for item in chosen
        for module in item.output_modules
        if module.resolved_kind == "sequence"
        for frame in _written_frames(export, item)
    )


def _written_frames(export: Export, item: RenderQueueItem) -> range:
    if item.render_frame_rate is None or item.frames.step != 1:
        return item.frames.numbers
    timebase = Timebase.of(
        item.comp.frame_rate,
        item.render_frame_rate,
        item.comp.display_start_time or 0.0,
        export.project.display_start_frame,
    )
    return timebase.render_range(item.frames.start, item.frames.end)


def source_data(source: Path) -> dict[str, Any]:
    """The export a sample (or any export JSON or saved `.aep`) holds, as JSON data.

    Loaded the way every command loads it first (`load_any`), so a broken export or a
    project py-aep cannot read is the loader's exit 2 naming the JSON path, not a
    traceback here; a `.aep` goes through `stmpo export-aep`'s reader.
    """
    from stmpo.export.sources import is_project_file, load_any

    export = load_any(source)
    if is_project_file(source):
        from stmpo.aep.reader import export_json

        data: dict[str, Any] = json.loads(export_json(export))
        return data
    loaded: dict[str, Any] = json.loads(source.read_text(encoding="utf-8"))
    return loaded


def prepare_demo_folder(out: Path) -> None:
    """Clear an earlier demo folder: only the entries the demo writes, and only when
    nothing else is in the folder (the folder itself, or the link to it, stays).

    Raises OutputRefused for a file, a folder that is not empty and not a demo folder,
    or a demo folder holding anything stmpo did not write (docs/safety.md).
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise OutputRefused([Problem(str(out), "exists and is not a folder")])
    names = sorted(os.listdir(out))
    if names and DEMO_MARKER not in names:
        raise OutputRefused([Problem(str(out), "is not empty and not a demo folder")])
    foreign = [name for name in names if name not in DEMO_ENTRIES]
    if foreign:
        shown = ", ".join(foreign[:3]) + (
            f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        )
        raise OutputRefused([Problem(str(out), f"holds files stmpo demo did not write: {shown}")])
    for name in names:
        entry = out / name
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def write_demo_inputs(source: Path, out: Path) -> tuple[Path, Export]:
    """Write `out/export.json` (`source`, an export JSON or a `.aep`, re-pointed at
    `out`), the placeholder project and its sidecar; make the output folders. Returns
    the export's path and the loaded export."""
    return write_demo_data(source_data(source), out)


def write_demo_data(source: dict[str, Any], out: Path) -> tuple[Path, Export]:
    """`write_demo_inputs` for export data already loaded (`source_data`)."""
    from stmpo.export.loader import load_export

    data = demo_export(source, out.resolve())
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARKER).write_text(
        "made by stmpo demo or stmpo run-local --standin; safe to delete\n"
    )
    export_path = out / "export.json"
    export_path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    export = load_export(export_path)
    project = Path(export.project.path)
    project.parent.mkdir(parents=True, exist_ok=True)
    project.write_bytes(b"STMPO demo: a stand-in project (see docs/aerender-standin.md)\n")
    sidecar = project.with_name(project.name + ".standin.json")
    sidecar.write_text(json.dumps(standin_sidecar(export), indent=2), encoding="utf-8")
    for item in export.render_queue:
        for module in item.output_modules:
            Path(module.path).parent.mkdir(parents=True, exist_ok=True)
    return export_path, export
