"""Export -> written, validated job bundle, behind a small interface.

The batch depends only on `BundleFactory`, so it can be exercised with a hand-written
bundle, and the GUI or a test can swap in its own; `stmpo_bundle_factory` is the
real one, the project's bundle builder (`stmpo.bundle`), which refuses to write a
bundle that fails Open Job Description validation.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stmpo.bundle.upload_policy import UploadSummary
from stmpo.errors import OutputRefused, Problem, StmpoError, os_problem
from stmpo.export.model import Export
from stmpo.farm_defaults import DEFAULT_TASK_TIMEOUT_SECONDS
from stmpo.job_properties import JobProperties


@dataclass(frozen=True)
class BundleRequest:
    items: tuple[int, ...] | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    job_name: str | None = None
    replace: bool = False
    """May an earlier bundle stmpo wrote at the folder be replaced (`--force`)?"""
    allow_secret_paths: bool = False
    allow_broad_assets: bool = False
    job_properties: JobProperties | None = None
    """Priority, retries...: `deadline:` values in the bundle, carried into CreateJob."""
    task_timeout: int = DEFAULT_TASK_TIMEOUT_SECONDS
    host_requirements: Mapping[str, Any] | None = None
    frame_overrides: Mapping[int, tuple[int, int, int]] = field(default_factory=dict)
    extra_input_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class WrittenBundle:
    path: Path
    job_name: str
    warnings: tuple[str, ...] = ()
    uploads: UploadSummary | None = None


BundleFactory = Callable[[Export, BundleRequest, Path], WrittenBundle]


def stmpo_bundle_factory(export: Export, request: BundleRequest, out_dir: Path) -> WrittenBundle:
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle

    settings = BundleSettings(
        items=request.items,
        parameters=dict(request.parameters),
        job_name=request.job_name,
        allow_secret_paths=request.allow_secret_paths,
        allow_broad_assets=request.allow_broad_assets,
        job_properties=request.job_properties,
        task_timeout=request.task_timeout,
        host_requirements=request.host_requirements,
        frame_overrides=dict(request.frame_overrides),
        extra_input_files=request.extra_input_files,
    )
    built = build_bundle(export, settings)
    path = write_bundle(built, out_dir, overwrite=request.replace)
    return WrittenBundle(Path(path), built.job_name, tuple(built.warnings), built.uploads)


def check_bundle_folders(bundles_dir: Path, names: Sequence[str], *, replace: bool) -> None:
    """Before anything is built or submitted: every `DIR/<name>` must be new, empty, or
    (with `replace`) an earlier stmpo bundle; all that are not, named in one error.

    Every export's folder is checked, including those `--skip-submitted` will skip
    (which are then left alone), so the answer does not depend on the report.
    """
    from stmpo.bundle.target import follow_folder_link, resolve_target

    try:
        folder = follow_folder_link(bundles_dir.absolute())
        if os.path.lexists(folder) and not folder.is_dir():
            raise OutputRefused([Problem(str(bundles_dir), "exists and is not a folder")])
        problems = []
        for name in names:
            try:
                resolve_target(folder / name, replace=replace)
            except OutputRefused as exc:
                problems += exc.problems
    except OutputRefused as exc:
        problems = exc.problems
    except OSError as exc:
        problems = [os_problem("", exc)]
    if problems:
        raise StmpoError([Problem("--bundles-dir", str(p)) for p in problems])
