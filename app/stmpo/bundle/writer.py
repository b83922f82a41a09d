"""Write a BuiltBundle to disk: all or nothing.

The bundle is written into a staging folder next to the target, validated there, and only
then renamed into place, so a bundle that fails validation is never written and a reader
never sees a half-written one. The deadline dialog passes an existing empty folder (its
job history entry); that counts as free and is filled in place. Only a folder stmpo
wrote as a bundle is ever replaced (`stmpo.bundle.marker`); files and folders get the
modes the umask gives, like any other program's output.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stmpo.bundle.assets import AssetReferencesLike, AssetRefs
from stmpo.bundle.build import BuiltBundle
from stmpo.bundle.cache import is_cache_step
from stmpo.bundle.marker import MARKER, files_in, marker_text, refusal
from stmpo.bundle.target import Target, resolve_target
from stmpo.bundle.validate import validate_bundle_dir
from stmpo.errors import BundleError, OutputRefused, Problem
from stmpo.files import about, copy_file, copy_tree, make_dir_beside, sibling_name
from stmpo.locations import resources_dir, worker_scripts_dir
from stmpo.yaml_text import dump_yaml

NUMA_MAP = "numa_map.json"


def _dump_yaml(path: Path, data: Any) -> None:
    path.write_text(dump_yaml(data), encoding="utf-8")


def _compiled(name: str) -> bool:
    return name == "__pycache__" or name.endswith((".pyc", ".pyo"))


def copy_scripts(
    dest: Path,
    fonts: Iterable[tuple[str, str]] = (),
    files: Iterable[tuple[str, str]] = (),
) -> None:
    """`scripts/`: the worker entry point and package, the NUMA map, the job's fonts and
    its job files (`(relative path, text)`). Modes come from the umask, not from the
    installed files or the artist's fonts."""
    source = worker_scripts_dir()
    dest.mkdir(parents=True)
    copy_file(source / "stmpo_render.py", dest / "stmpo_render.py")
    copy_tree(source / "stmpo_worker", dest / "stmpo_worker", skip=_compiled)
    numa_map = resources_dir() / NUMA_MAP
    if numa_map.is_file():
        copy_file(numa_map, dest / NUMA_MAP)
    fonts = list(fonts)
    if fonts:
        (dest / "fonts").mkdir()
        for src, name in fonts:
            copy_file(Path(src), dest / "fonts" / name)
    for relative, text in files:
        path = dest.joinpath(*relative.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="ascii")


def final_template(
    built: BuiltBundle, host_requirements: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The template with the dialog's host requirements on every render step (as the
    deadline library's own bundle submitter does on every step); the file cache steps
    keep their Linux requirement (docs/file-cache.md)."""
    template = copy.deepcopy(built.template)
    if host_requirements:
        for step in template["steps"]:
            if not is_cache_step(step):
                step["hostRequirements"] = copy.deepcopy(dict(host_requirements))
    return template


#: Parameters the template shares with the queue's conda environment. The submitter
#: dialog shows them in its queue environment section, prefilled with our default
#: (`initial_shared_parameter_values`), so the value there is what the artist chose.
QUEUE_SHOWN = frozenset({"CondaPackages", "CondaChannels"})


def final_parameter_values(
    built: BuiltBundle, queue_parameters: Iterable[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """Queue parameter values first (those the template does not define, and the conda
    ones the dialog shows), then ours."""
    own = {entry["name"] for entry in built.parameter_values}
    own |= {d["name"] for d in built.template.get("parameterDefinitions", [])}
    values = [
        {"name": entry["name"], "value": entry["value"]}
        for entry in queue_parameters or []
        if (entry.get("name") not in own or entry.get("name") in QUEUE_SHOWN)
        and entry.get("value") is not None
    ]
    given = {entry["name"] for entry in values}
    return values + [dict(e) for e in built.parameter_values if e["name"] not in given]


def _inside(exc: OSError, staging: Path) -> bool:
    """Is the OS complaining about a staging path (which the user never named)?"""
    return any(
        name is not None and os.fspath(name).startswith(str(staging))
        for name in (exc.filename, exc.filename2)
    )


def _fill_empty(staging: Path, target: Target) -> None:
    """Move the bundle into the user's empty folder: the folder itself (its owner, mode,
    a mount point) stays. The marker goes last, so a half-moved folder is never marked;
    on failure what was moved goes back."""
    out = target.path
    names = sorted(os.listdir(staging), key=lambda name: name == MARKER)
    moved: list[str] = []
    try:
        for name in names:
            os.rename(staging / name, out / name)
            moved.append(name)
    except OSError as exc:
        for name in reversed(moved):
            with contextlib.suppress(OSError):
                os.rename(out / name, staging / name)
        raise about(exc, target.shown) from None
    staging.rmdir()


def _replace_bundle(staging: Path, target: Target) -> None:
    """Swap an earlier bundle out and the new one in; delete the old one only after
    checking it again where nobody else writes (a file dropped into it since the first
    check puts it back and refuses)."""
    out = target.path
    trash = sibling_name(out, ".old")
    os.rename(out, trash)
    why = refusal(trash)
    if why is not None:
        os.rename(trash, out)
        raise OutputRefused([Problem(str(target.shown), f"{why}; give a new or empty folder")])
    try:
        os.rename(staging, out)
    except OSError as exc:
        os.rename(trash, out)
        raise about(exc, target.shown) from None
    shutil.rmtree(trash, ignore_errors=True)


def _swap_into_place(staging: Path, target: Target) -> None:
    if target.state == "empty":
        _fill_empty(staging, target)
    elif target.state == "bundle":
        _replace_bundle(staging, target)
    else:
        try:
            os.rename(staging, target.path)
        except OSError as exc:
            raise about(exc, target.shown) from None


def _make_parents(folder: Path) -> list[Path]:
    """Create the missing folders above the bundle; returns them, outermost first."""
    missing = [p for p in [folder, *folder.parents] if not os.path.lexists(p)][::-1]
    folder.mkdir(parents=True, exist_ok=True)
    return missing


def _remove_made(folders: list[Path]) -> None:
    for folder in reversed(folders):
        with contextlib.suppress(OSError):
            folder.rmdir()


def write_bundle(
    built: BuiltBundle,
    out_dir: str | Path,
    *,
    overwrite: bool = False,
    queue_parameters: list[dict[str, Any]] | None = None,
    extra_asset_references: AssetRefs | AssetReferencesLike | Mapping[str, Any] | None = None,
    host_requirements: dict[str, Any] | None = None,
) -> Path:
    """Write, validate and move the bundle into `out_dir`; return its path.

    An existing folder is used when it is empty, and replaced only when it is a bundle
    stmpo wrote (its `.stmpo-bundle` marker accounts for everything in it) and
    `overwrite` is true; anything else raises OutputRefused naming the folder, and a
    bundle that fails validation raises BundleError: nothing is written either way, no
    temporary is left behind, and what was there is untouched. A symbolic link to a
    folder is written through; the returned path is the one given.
    """
    target = resolve_target(out_dir, replace=overwrite)
    made = _make_parents(target.path.parent)
    try:
        staging = make_dir_beside(target.path)
    except OSError as exc:
        _remove_made(made)
        raise about(exc, target.shown) from None
    try:
        assets = built.asset_references
        if extra_asset_references is not None:
            assets = assets.union(AssetRefs.from_any(extra_asset_references))
        _dump_yaml(staging / "template.yaml", final_template(built, host_requirements))
        _dump_yaml(
            staging / "parameter_values.yaml",
            {"parameterValues": final_parameter_values(built, queue_parameters)},
        )
        _dump_yaml(staging / "asset_references.yaml", assets.to_dict())
        copy_scripts(
            staging / "scripts", [(f.source, f.name) for f in built.fonts], built.script_files
        )
        try:
            validate_bundle_dir(staging)
        except BundleError as exc:
            raise BundleError(
                exc.problems, source="the bundle is invalid, nothing written"
            ) from None
        (staging / MARKER).write_text(marker_text(files_in(staging)), encoding="utf-8")
        # Again: the folder may have changed while the bundle was written and validated.
        again = resolve_target(out_dir, replace=overwrite)
        if again.path != target.path:
            raise OutputRefused([Problem(str(target.shown), "changed while it was written")])
        _swap_into_place(staging, again)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        _remove_made(made)
        if isinstance(exc, OSError) and _inside(exc, staging):
            raise about(exc, target.shown) from None
        raise
    return target.shown
