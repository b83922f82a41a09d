"""Export + settings -> BuiltBundle: everything a bundle holds, still in memory.

Pure apart from reading the file system for asset and font existence; nothing is
written. The GUI previews a BuiltBundle and `write_bundle` turns it into files.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from stmpo._worker_scripts.stmpo_worker.cachepaths import parse_roots, root_of
from stmpo._worker_scripts.stmpo_worker.contract import encode_json_file
from stmpo.bundle.assets import AssetRefs, AssetScan, collect_assets, expand_sequence
from stmpo.bundle.cache import (
    CACHE_FILE,
    CacheInput,
    CacheOptions,
    CachePlan,
    plan_cache,
    project_not_attached,
    roots_problem,
    with_cache_steps,
)
from stmpo.bundle.command_lines import too_long
from stmpo.bundle.conda import conda_packages_for, exporting_version
from stmpo.bundle.limits import template_size_problem
from stmpo.bundle.parameters import default_value, parse_parameter_values
from stmpo.bundle.selection import ItemPlan, plan_items
from stmpo.bundle.settings import BundleSettings
from stmpo.bundle.template import build_template, job_files, job_name, step_name
from stmpo.bundle.upload_policy import UploadCheck, UploadRules, UploadSummary, check_uploads
from stmpo.errors import BundleError, Problem
from stmpo.export.model import Export


@dataclass(frozen=True)
class FontFile:
    """A font file to copy into `scripts/fonts/` under `name` (unique in that folder)."""

    source: str
    name: str
    post_script_name: str


@dataclass(frozen=True)
class BuiltBundle:
    template: dict[str, Any]
    parameter_values: list[dict[str, Any]]
    """`parameterValues` of parameter_values.yaml: `[{name, value}]`."""
    asset_references: AssetRefs
    warnings: tuple[str, ...]
    plans: tuple[ItemPlan, ...]
    fonts: tuple[FontFile, ...]
    uploads: UploadSummary = field(default_factory=UploadSummary)
    """What job attachments will upload from this machine, before deduplication."""
    script_files: tuple[tuple[str, str], ...] = ()
    """`(path inside scripts/, text)`: the item and output-folder files the template's
    command lines name (worker `contract.py`), and `cache.json` with cache steps."""
    cache: CachePlan = field(default_factory=CachePlan)
    """The file cache steps (issue 12); inactive without CacheRootPaths."""

    @property
    def job_name(self) -> str:
        return str(self.template["name"])


def plan_fonts(export: Export) -> tuple[list[FontFile], list[str]]:
    """The font files to ship and a warning for each font the workers will not get.

    A font is shipped only when a file on this machine really holds its PostScript name,
    found at the location AE reported or in this OS's font folders; a collection (.ttc)
    is shipped whole.
    """
    from stmpo.fonts import FontNameCache, attachment_files, default_cache_file, resolve_fonts
    from stmpo.fonts.resolve import flat_names

    if not export.fonts:
        return [], []
    resolutions = resolve_fonts(export.fonts, cache=FontNameCache(default_cache_file()))
    warnings = [f"font {r.postscript_name}: {r.reason}" for r in resolutions if not r.attached]
    names_by_file: dict[Path, list[str]] = {}
    for r in resolutions:
        if r.attached and r.path is not None:
            names_by_file.setdefault(r.path, []).append(r.postscript_name)
    fonts = [
        FontFile(source=str(path), name=name, post_script_name=", ".join(names_by_file[path]))
        for path, name in flat_names(attachment_files(resolutions))
    ]
    return fonts, warnings


def build_bundle(export: Export, settings: BundleSettings | None = None) -> BuiltBundle:
    """Plan the job from an export; raise BundleError naming the setting at fault."""
    settings = settings or BundleSettings()
    problems: list[Problem] = []
    values: dict[str, Any] = {}
    try:
        values = parse_parameter_values(settings.parameters)
    except BundleError as exc:
        problems += exc.problems
    chunk_size = int(values.get("ChunkSize", default_value("ChunkSize")))
    roots_text = str(values.get("CacheRootPaths", default_value("CacheRootPaths")))
    try:
        plans, warnings = plan_items(export, settings.items, settings.frame_overrides, chunk_size)
    except BundleError as exc:
        problems += exc.problems
    if problems:  # every mistake at once: parameters, items and frames
        raise BundleError(problems)
    fonts, font_warnings = plan_fonts(export)
    name = job_name(export, len(plans), settings.job_name)
    template = build_template(
        plans,
        name,
        has_fonts=bool(fonts),
        chunk_size=chunk_size,
        task_timeout=settings.task_timeout,
        host_requirements=settings.host_requirements,
    )
    project_file = str(values.get("ProjectFile", export.project.path))
    cache = _cache_plan(export, plans, project_file, values, parse_roots(roots_text))
    template = with_cache_steps(
        template, [(step_name(plan), plan.item.index) for plan in plans], cache
    )
    if cache.roots and root_of(project_file, cache.roots) is not None:
        template = project_not_attached(template)
    too_large = template_size_problem(template, plans, chunk_size)
    if too_large is not None:  # before assets, writing and openjd-model: seconds, not minutes
        raise BundleError([too_large])

    values["ProjectFile"] = project_file
    conda_warnings: list[str] = []
    if "CondaPackages" not in values:  # given, even empty (-p CondaPackages=), it stays
        choice = conda_packages_for(exporting_version(export))
        values["CondaPackages"] = choice.packages
        conda_warnings += [choice.warning] if choice.warning else []
    parameter_values = [{"name": "ProjectFile", "value": project_file}]
    parameter_values += [
        {"name": key, "value": value} for key, value in values.items() if key != "ProjectFile"
    ]
    if settings.job_properties is not None:
        parameter_values += settings.job_properties.parameter_values()
    scan = collect_assets(
        export,
        plans,
        project_file=project_file,
        project_where="-p ProjectFile" if "ProjectFile" in settings.parameters else "project.path",
        extra_input_files=settings.extra_input_files,
        cache_roots=cache.roots,
    )
    asset_warnings = scan.warnings
    check = _check(scan, settings, fonts)
    if check.problems:  # before anything is written, let alone uploaded
        raise BundleError(list(check.problems))
    # A new id per bundle: a resumed task reuses only its own render's frames.
    job = tuple(sorted(_script_files(plans, cache).items()))
    return BuiltBundle(
        template=template,
        parameter_values=parameter_values,
        asset_references=scan.refs,
        warnings=tuple(
            [
                *(f"export: {w}" for w in export.warnings),
                *conda_warnings,
                *warnings,
                *font_warnings,
                *asset_warnings,
                *cache.warnings,
                *too_long(template),
            ]
        ),
        plans=tuple(plans),
        fonts=tuple(fonts),
        uploads=_with_job_files(replace(check.summary, cached_files=len(scan.cached)), job),
        script_files=job,
        cache=cache,
    )


def _with_job_files(summary: UploadSummary, job: tuple[tuple[str, str], ...]) -> UploadSummary:
    """The count with the files the bundle writes for this job (`scripts/items/*.json`,
    `output_dirs.json`, the cache plan): job attachments upload them too, so the count
    is the input manifest's, the files `deadline` hashes on a first submission."""
    size = sum(len(text.encode("utf-8")) for _name, text in job)
    return replace(summary, files=summary.files + len(job), bytes=summary.bytes + size)


def _script_files(plans: list[ItemPlan], cache: CachePlan) -> dict[str, str]:
    files = job_files(plans, secrets.token_hex(8))
    if cache.active:
        files[CACHE_FILE] = encode_json_file(cache.payload())
    return files


def _flag(values: dict[str, Any], name: str) -> bool:
    return str(values.get(name, default_value(name))).lower() == "true"


def _cache_plan(
    export: Export,
    plans: list[ItemPlan],
    project_file: str,
    values: dict[str, Any],
    roots: list[str],
) -> CachePlan:
    """The file cache steps the job needs (docs/file-cache.md); none without roots."""
    if not roots:
        return CachePlan()
    options = CacheOptions(
        roots=tuple(roots),
        eviction=_flag(values, "CacheEviction"),
        hydration=_flag(values, "CacheHydration"),
        write_back=_flag(values, "CacheWriteBack"),
    )
    inputs = [CacheInput(project_file)]
    for footage in export.footage:
        if footage.missing:
            continue
        on_disk = (
            tuple(expand_sequence(footage.path))
            if footage.sequence and root_of(footage.path, roots) is not None
            else ()
        )
        inputs.append(CacheInput(footage.path, footage.sequence, on_disk))
    items = [
        (
            plan.item.index,
            [om.path for om in plan.item.output_modules],
            (plan.start, plan.end, plan.step),
        )
        for plan in plans
    ]
    return plan_cache(options, inputs, items)


def _check(scan: AssetScan, settings: BundleSettings, fonts: list[FontFile]) -> UploadCheck:
    return check_uploads(
        scan.sources,
        UploadRules(settings.allow_secret_paths, settings.allow_broad_assets),
        also_uploaded=[*(font.source for font in fonts), *bundled_script_files()],
    )


def check_export_uploads(export: Export, settings: BundleSettings | None = None) -> UploadCheck:
    """What the export's job would upload, and what is refused, whatever items are chosen
    (inputs do not depend on them): the submitter shows this before Submit."""
    return scan_export_uploads(export, settings)[1]


def scan_export_uploads(
    export: Export, settings: BundleSettings | None = None
) -> tuple[AssetScan, UploadCheck]:
    """`check_export_uploads` with the scan it was made from: which inputs are uploaded
    and which reach the workers through the file cache (`scan.cached`)."""
    settings = settings or BundleSettings()
    fonts, _ = plan_fonts(export)
    project_file = str(settings.parameters.get("ProjectFile") or export.project.path)
    roots_text = str(settings.parameters.get("CacheRootPaths") or "")
    roots = parse_roots(roots_text) if roots_problem(roots_text) is None else []
    scan = collect_assets(
        export,
        [],
        project_file=project_file,
        extra_input_files=settings.extra_input_files,
        cache_roots=roots,
    )
    check = _check(scan, settings, fonts)
    return scan, replace(check, summary=replace(check.summary, cached_files=len(scan.cached)))


def bundled_script_files() -> list[str]:
    """The worker scripts every bundle carries in `scripts/` (uploaded with the job)."""
    from stmpo.bundle.writer import NUMA_MAP
    from stmpo.locations import resources_dir, worker_scripts_dir

    source = worker_scripts_dir()
    files = [source / "stmpo_render.py", resources_dir() / NUMA_MAP]
    files += [
        path
        for path in sorted((source / "stmpo_worker").rglob("*"))
        if path.is_file()
        and "__pycache__" not in path.parts
        and path.suffix not in (".pyc", ".pyo")
    ]
    return [str(path) for path in files if path.is_file()]
