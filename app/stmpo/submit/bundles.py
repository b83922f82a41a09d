"""Export -> written, validated job bundle, behind a small interface.

The batch depends only on `BundleFactory`, so it can be exercised with a hand-written
bundle, and the GUI or a test can swap in its own; `stmpo_bundle_factory` is the
real one, the project's bundle builder (`stmpo.bundle`), which refuses to write a
bundle that fails Open Job Description validation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from stmpo.bundle.upload_policy import UploadSummary
from stmpo.export.model import Export


@dataclass(frozen=True)
class BundleRequest:
    items: tuple[int, ...] | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    job_name: str | None = None
    allow_secret_paths: bool = False
    allow_broad_assets: bool = False


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
    )
    built = build_bundle(export, settings)
    path = write_bundle(built, out_dir, overwrite=True)
    return WrittenBundle(Path(path), built.job_name, tuple(built.warnings), built.uploads)
