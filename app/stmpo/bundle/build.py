"""Export + settings -> BuiltBundle: everything a bundle holds, still in memory.

Pure apart from reading the file system for asset and font existence; nothing is
written. The GUI previews a BuiltBundle and `write_bundle` turns it into files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from stmpo.bundle.assets import AssetRefs, collect_assets
from stmpo.bundle.parameters import default_value, parse_parameter_values
from stmpo.bundle.selection import ItemPlan, plan_items
from stmpo.bundle.settings import BundleSettings
from stmpo.bundle.template import build_template, job_name
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

    @property
    def job_name(self) -> str:
        return str(self.template["name"])


def _basename(path: str) -> str:
    windows = PureWindowsPath(path).name
    return PurePosixPath(windows).name if "/" in windows else windows


def plan_fonts(export: Export) -> tuple[list[FontFile], list[str]]:
    """The fonts to ship (those with a file here) and warnings about the others."""
    fonts: list[FontFile] = []
    warnings: list[str] = []
    seen_sources: set[str] = set()
    used_names: set[str] = set()
    for font in export.fonts:
        label = font.post_script_name
        if font.is_substitute:
            warnings.append(f"font {label} is missing in After Effects (it was substituted)")
            continue
        if not font.location:
            warnings.append(
                f"font {label}: After Effects does not know its file; "
                "it must be installed on the workers"
            )
            continue
        if not os.path.isfile(font.location):
            warnings.append(f"font {label}: file not found on this computer: {font.location}")
            continue
        if font.location in seen_sources:
            continue
        seen_sources.add(font.location)
        name = _basename(font.location)
        stem, dot, ext = name.rpartition(".")
        counter = 2
        while name.lower() in used_names:
            name = f"{stem}-{counter}{dot}{ext}" if dot else f"{ext}-{counter}"
            counter += 1
        used_names.add(name.lower())
        fonts.append(FontFile(source=font.location, name=name, post_script_name=label))
    return fonts, warnings


def build_bundle(export: Export, settings: BundleSettings | None = None) -> BuiltBundle:
    """Plan the job from an export; raise BundleError naming the setting at fault."""
    settings = settings or BundleSettings()
    values = parse_parameter_values(settings.parameters)
    chunk_size = int(values.get("ChunkSize", default_value("ChunkSize")))
    plans, warnings = plan_items(export, settings.items, settings.frame_overrides, chunk_size)
    fonts, font_warnings = plan_fonts(export)
    name = job_name(export, len(plans), settings.job_name)
    template = build_template(plans, name, has_fonts=bool(fonts))

    project_file = str(values.get("ProjectFile", export.project.path))
    values["ProjectFile"] = project_file
    parameter_values = [{"name": "ProjectFile", "value": project_file}]
    parameter_values += [
        {"name": key, "value": value} for key, value in values.items() if key != "ProjectFile"
    ]
    assets, asset_warnings = collect_assets(
        export, plans, project_file=project_file, extra_input_files=settings.extra_input_files
    )
    return BuiltBundle(
        template=template,
        parameter_values=parameter_values,
        asset_references=assets,
        warnings=tuple([*export.warnings, *warnings, *font_warnings, *asset_warnings]),
        plans=tuple(plans),
        fonts=tuple(fonts),
    )
