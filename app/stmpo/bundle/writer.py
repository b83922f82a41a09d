"""Write a BuiltBundle to disk: all or nothing.

The bundle is written into a staging folder next to the target, validated there, and only
then renamed into place, so a bundle that fails validation is never written and a reader
never sees a half-written one. The deadline dialog passes an existing empty folder (its
job history entry); that counts as free.
"""

from __future__ import annotations

import contextlib
import copy
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from stmpo.bundle.assets import AssetReferencesLike, AssetRefs
from stmpo.bundle.build import BuiltBundle
from stmpo.bundle.validate import validate_bundle_dir
from stmpo.errors import BundleError, Problem
from stmpo.locations import resources_dir, worker_scripts_dir
from stmpo.yaml_text import dump_yaml

NUMA_MAP = "numa_map.json"


def _dump_yaml(path: Path, data: Any) -> None:
    path.write_text(dump_yaml(data), encoding="utf-8")


def _is_empty_dir(path: Path) -> bool:
    return path.is_dir() and not any(path.iterdir())


def copy_scripts(dest: Path, fonts: Iterable[tuple[str, str]] = ()) -> None:
    """`scripts/`: the worker entry point and package, the NUMA map, the job's fonts."""
    source = worker_scripts_dir()
    dest.mkdir(parents=True)
    shutil.copy2(source / "stmpo_render.py", dest / "stmpo_render.py")
    shutil.copytree(
        source / "stmpo_worker",
        dest / "stmpo_worker",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"),
    )
    numa_map = resources_dir() / NUMA_MAP
    if numa_map.is_file():
        shutil.copy2(numa_map, dest / NUMA_MAP)
    fonts = list(fonts)
    if fonts:
        (dest / "fonts").mkdir()
        for src, name in fonts:
            shutil.copy2(src, dest / "fonts" / name)


def final_template(
    built: BuiltBundle, host_requirements: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The template with the dialog's host requirements on every step (as the deadline
    library's own bundle submitter does)."""
    template = copy.deepcopy(built.template)
    if host_requirements:
        for step in template["steps"]:
            step["hostRequirements"] = copy.deepcopy(dict(host_requirements))
    return template


def final_parameter_values(
    built: BuiltBundle, queue_parameters: Iterable[Mapping[str, Any]] | None
) -> list[dict[str, Any]]:
    """Queue parameter values first (those the template does not define), then ours."""
    own = {entry["name"] for entry in built.parameter_values}
    own |= {d["name"] for d in built.template.get("parameterDefinitions", [])}
    values = [
        {"name": entry["name"], "value": entry["value"]}
        for entry in queue_parameters or []
        if entry.get("name") not in own and entry.get("value") is not None
    ]
    return values + [dict(entry) for entry in built.parameter_values]


def _check_target(out: Path, overwrite: bool) -> None:
    if out.exists() and not out.is_dir():
        raise BundleError([Problem(str(out), "exists and is not a folder")])
    if out.is_dir() and not overwrite and not _is_empty_dir(out):
        raise BundleError(
            [Problem(str(out), "the folder exists and is not empty (use --force to replace it)")]
        )


def _swap_into_place(staging: Path, out: Path) -> None:
    if not out.exists():
        os.rename(staging, out)
        return
    if _is_empty_dir(out):
        out.rmdir()
        os.rename(staging, out)
        return
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    trash.rmdir()
    os.rename(out, trash)
    try:
        os.rename(staging, out)
    except OSError:
        os.rename(trash, out)
        raise
    shutil.rmtree(trash, ignore_errors=True)


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

    Raises BundleError (nothing written) when the target is a non-empty folder and
    `overwrite` is false, or when the bundle fails validation.
    """
    out = Path(out_dir).absolute()
    _check_target(out, overwrite)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
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
        copy_scripts(staging / "scripts", [(f.source, f.name) for f in built.fonts])
        try:
            validate_bundle_dir(staging)
        except BundleError as exc:
            raise BundleError(
                exc.problems, source="the bundle is invalid, nothing written"
            ) from None
        _check_target(out, overwrite)
        _swap_into_place(staging, out)
    except BaseException:
        with contextlib.suppress(OSError):
            shutil.rmtree(staging)
        raise
    return out
