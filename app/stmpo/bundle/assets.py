"""Asset references: what job attachments upload (inputs) and download (outputs).

Reads the file system (does a footage file exist?) but writes nothing. Sequence patterns
are expanded to the frames that exist, so only those are uploaded; a file the project
references but that is not on this machine becomes a referenced path (path-mapped, not
uploaded) plus a warning, because the upload would fail on it otherwise.

Fonts are not listed here: their files are copied into the bundle's `scripts/fonts/`,
which job attachments carry as part of the `StmpoScripts` folder.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from stmpo._worker_scripts.stmpo_worker.cachepaths import root_of
from stmpo.bundle.asset_roots import (
    WINDOWS_PATH_LIMIT,
    WORKER_ROOT_DEPTH,
    asset_roots,
    covering_output_dirs,
    folder_of,
    footage_outside_project_root,
    long_worker_paths,
)
from stmpo.bundle.selection import ItemPlan
from stmpo.bundle.template import output_directories, path_flavour
from stmpo.bundle.upload_policy import UploadSource
from stmpo.export.model import Export, Footage

# AE shows a sequence as `name.[0000-0047].exr`; some exporters write `name.[####].exr`.
_RANGE_PATTERN = re.compile(r"\[(?:(?P<first>\d+)-(?P<last>\d+)|(?P<hashes>#+))\]")
_DIGITS = re.compile(r"\d+")


class AssetReferencesLike(Protocol):
    """The deadline library's `AssetReferences` (only its fields are read)."""

    input_filenames: set[str]
    input_directories: set[str]
    output_directories: set[str]
    referenced_paths: set[str]


@dataclass(frozen=True)
class AssetRefs:
    input_filenames: tuple[str, ...] = ()
    input_directories: tuple[str, ...] = ()
    output_directories: tuple[str, ...] = ()
    referenced_paths: tuple[str, ...] = ()

    def union(self, other: AssetRefs) -> AssetRefs:
        def merged(a: tuple[str, ...], b: tuple[str, ...]) -> tuple[str, ...]:
            return tuple(dict.fromkeys(a + b))

        return AssetRefs(
            merged(self.input_filenames, other.input_filenames),
            merged(self.input_directories, other.input_directories),
            merged(self.output_directories, other.output_directories),
            merged(self.referenced_paths, other.referenced_paths),
        )

    def to_dict(self) -> dict[str, Any]:
        """The `asset_references.yaml` document, in the deadline library's shape."""
        return {
            "assetReferences": {
                "inputs": {
                    "directories": sorted(self.input_directories),
                    "filenames": sorted(self.input_filenames),
                },
                "outputs": {"directories": sorted(self.output_directories)},
                "referencedPaths": sorted(self.referenced_paths),
            }
        }

    @classmethod
    def from_any(cls, value: AssetRefs | AssetReferencesLike | Mapping[str, Any]) -> AssetRefs:
        """Accept our type, the deadline library's `AssetReferences`, or its dict form."""
        if isinstance(value, AssetRefs):
            return value
        if isinstance(value, Mapping):
            refs = value.get("assetReferences", value)
            inputs = refs.get("inputs", {}) or {}
            outputs = refs.get("outputs", {}) or {}
            return cls(
                tuple(inputs.get("filenames", []) or []),
                tuple(inputs.get("directories", []) or []),
                tuple(outputs.get("directories", []) or []),
                tuple(refs.get("referencedPaths", []) or []),
            )
        return cls(
            tuple(sorted(value.input_filenames)),
            tuple(sorted(value.input_directories)),
            tuple(sorted(value.output_directories)),
            tuple(sorted(value.referenced_paths)),
        )


def _split(path: str) -> tuple[str, str]:
    folder, name = path_flavour(path).split(path)
    return folder, name


def _sequence_matcher(name: str) -> tuple[re.Pattern[str], range | None] | None:
    """A regex for the frame files of a sequence name, and the frame range if it is known."""
    found = list(_RANGE_PATTERN.finditer(name))
    if found:
        match = found[-1]
        if match.group("hashes"):
            digits, numbers = rf"\d{{{len(match.group('hashes'))},}}", None
        else:
            first, last = match.group("first"), match.group("last")
            digits = rf"\d{{{len(first)},}}"
            numbers = range(int(first), int(last) + 1)
        head, tail = name[: match.start()], name[match.end() :]
    else:
        runs = list(_DIGITS.finditer(name))
        if not runs:
            return None
        run = runs[-1]
        digits, numbers = rf"\d{{{len(run.group())}}}", None
        head, tail = name[: run.start()], name[run.end() :]
    pattern = re.compile(rf"{re.escape(head)}(?P<frame>{digits}){re.escape(tail)}\Z")
    return pattern, numbers


def expand_sequence(path: str) -> list[str]:
    """The existing frame files of a sequence pattern, sorted; [] if none exist."""
    folder, name = _split(path)
    matcher = _sequence_matcher(name)
    if matcher is None or not os.path.isdir(folder):
        return []
    pattern, numbers = matcher
    files: list[str] = []
    with os.scandir(folder) as entries:
        for entry in entries:
            match = pattern.match(entry.name)
            if match is None or not entry.is_file():
                continue
            if numbers is not None and int(match.group("frame")) not in numbers:
                continue
            files.append(os.path.join(folder, entry.name))
    return sorted(files)


@dataclass
class _Collector:
    files: dict[str, None]
    dirs: dict[str, None]
    referenced: dict[str, None]
    warnings: list[str]
    sources: dict[tuple[str, bool], UploadSource]
    cache_roots: tuple[str, ...] = ()
    cached: dict[str, None] = field(default_factory=dict)
    """Inputs under a file cache root: the workers read them through the cache mount,
    so they are neither uploaded nor path-mapped to a job attachments folder."""

    def in_cache(self, path: str) -> bool:
        return bool(self.cache_roots) and root_of(path, self.cache_roots) is not None

    def input_file(self, path: str, what: str, where: str) -> None:
        if self.in_cache(path):
            self.cached[path] = None
            return
        if os.path.isfile(path):
            self.files[path] = None
            self.sources.setdefault((path, False), UploadSource(path, where))
        else:
            self.referenced[path] = None
            if os.path.isdir(path):
                self.warnings.append(f"{what} is a folder, not a file; not uploaded: {path}")
            else:
                self.warnings.append(f"{what} not found on this computer: {path}")


def _footage(collector: _Collector, footage: Footage, where: str) -> None:
    if footage.missing:
        collector.referenced[footage.path] = None
        collector.warnings.append(f"footage missing in After Effects: {footage.path}")
        return
    if collector.in_cache(footage.path):
        frames = expand_sequence(footage.path) if footage.sequence else []
        collector.cached.update(dict.fromkeys(frames or [footage.path]))
        return
    if not footage.sequence:
        collector.input_file(footage.path, "footage", where)
        return
    frames = expand_sequence(footage.path)
    if frames:
        collector.files.update(dict.fromkeys(frames))
        for frame in frames:
            collector.sources.setdefault((frame, False), UploadSource(frame, where))
        return
    folder, _ = _split(footage.path)
    if os.path.isdir(folder):
        collector.dirs[folder] = None
        collector.sources.setdefault((folder, True), UploadSource(folder, where, is_dir=True))
        collector.warnings.append(
            f"no frame of the sequence {footage.path} found; attaching its folder {folder}"
        )
    else:
        collector.referenced[footage.path] = None
        collector.warnings.append(f"footage sequence not found on this computer: {footage.path}")


@dataclass(frozen=True)
class AssetScan:
    refs: AssetRefs
    warnings: list[str]
    sources: tuple[UploadSource, ...]
    """Every uploaded input with the JSON path (or argument) that named it."""
    cached: tuple[str, ...] = ()
    """Inputs under a file cache root (a sequence as its frames on this machine): not
    uploaded, the workers read them through the cache mount."""


def collect_assets(
    export: Export,
    plans: list[ItemPlan],
    *,
    project_file: str,
    project_where: str = "project.path",
    extra_input_files: Iterable[str] = (),
    cache_roots: Sequence[str] = (),
) -> AssetScan:
    """Inputs (project, footage, extra files), outputs (output folders), and warnings.
    Inputs and output folders under a file cache root (`cache_roots`) are left out of
    the references: the workers reach them through the cache mount (docs/file-cache.md)."""
    collector = _Collector({}, {}, {}, [], {}, tuple(cache_roots))
    collector.input_file(project_file, "project file", project_where)
    for index, footage in enumerate(export.footage):
        _footage(collector, footage, f"footage[{index}].path")
    from stmpo._worker_scripts.stmpo_worker.logtext import shown
    from stmpo.errors import Problem, StmpoError
    from stmpo.export.loader import control_problem

    for path in extra_input_files:
        problem = control_problem(path)
        if problem:
            raise StmpoError([Problem("--input-file", f"{shown(path)}: {problem}")])
        collector.input_file(path, "extra input file", "--input-file")
    outputs = [d for d in output_directories(plans) if not collector.in_cache(d)]
    inputs = [*collector.files, *collector.referenced]
    refs = AssetRefs(
        input_filenames=tuple(collector.files),
        input_directories=tuple(collector.dirs),
        output_directories=tuple(covering_output_dirs(outputs, inputs, collector.dirs)),
        referenced_paths=tuple(collector.referenced),
    )
    output_files = [
        om.path
        for plan in plans
        for om in plan.item.output_modules
        if not collector.in_cache(om.path)
    ]
    collector.warnings.extend(
        _root_warnings(project_file, export, inputs, list(collector.dirs), outputs, output_files)
    )
    return AssetScan(
        refs, collector.warnings, tuple(collector.sources.values()), tuple(collector.cached)
    )


def _root_warnings(
    project: str,
    export: Export,
    inputs: list[str],
    input_dirs: list[str],
    outputs: list[str],
    output_files: list[str],
) -> list[str]:
    """What job attachments' asset roots will do to these paths on a Windows worker."""
    warnings: list[str] = []
    outside = footage_outside_project_root(project, [f.path for f in export.footage])
    if outside:
        more = f" (and {len(outside) - 1} more)" if len(outside) > 1 else ""
        warnings.append(
            f"{len(outside)} footage file(s) on another drive or share than the project "
            f"file, for example {outside[0]}{more}: job attachments give each drive or share "
            "its own folder on a worker, and After Effects finds moved footage only relative "
            "to the project, so the render will miss it; move the footage next to the project "
            "or onto the project's drive"
        )
    roots = asset_roots([*map(folder_of, inputs), *input_dirs, *outputs])
    long = long_worker_paths([*inputs, *output_files], roots)
    if long:
        length, path = long[0]
        more = f" (and {len(long) - 1} more)" if len(long) > 1 else ""
        warnings.append(
            f"{len(long)} path(s) would pass {WINDOWS_PATH_LIMIT} characters on a Windows "
            f"worker, where job attachments put their folder about {WORKER_ROOT_DEPTH} "
            f"characters deep; the longest, {path}, would be {length}{more}: such a render "
            "fails unless the workers have LongPathsEnabled or the queue provides junctions "
            "(DEADLINE_JUNCTIONS); shorter folder or file names avoid it"
        )
    return warnings
