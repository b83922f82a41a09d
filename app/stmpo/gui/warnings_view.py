"""The tab's Warnings list and what the bundle refuses: the very answers `stmpo bundle`
gives for the same export and settings.

Issue 13: the tab used to compose its own list (export, footage, fonts, conda) and so
missed what only the bundle builder finds: a project file missing on this computer,
footage in another attachments root, an over-long command line. Its own checks of the
settings missed what only the builder refuses (an override outside the comp, a job
template over CreateJob's limit), which then surfaced only on a click. Now warnings and
refusals both come from `build_bundle`, the CLI's one source.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from stmpo.bundle import BundleSettings, build_bundle
from stmpo.errors import Problem, StmpoError
from stmpo.export.model import Export


@dataclass(frozen=True)
class BundleCheck:
    """What `stmpo bundle` says of these settings: its warnings, and its refusals (empty
    when the bundle can be built)."""

    warnings: list[str]
    refusals: list[Problem] = field(default_factory=list)
    #: The warnings are the export's for the CLI's defaults (`default_warnings`), not
    #: this configuration's: the same for every refused check of the export.
    from_defaults: bool = False


def check_bundle(
    export: Export, settings: BundleSettings, defaults: list[str] | None = None
) -> BundleCheck:
    """While the settings cannot be built: when only frame overrides are refused, the
    warnings of the same settings without them; else the export's own warnings for the
    CLI's defaults (`default_warnings`; pass them when known: they do not change with
    the settings) are shown beside the refusal."""
    try:
        return BundleCheck(list(build_bundle(export, settings).warnings))
    except StmpoError as exc:
        refusals = list(exc.problems)
    # Only frame overrides refused: the warnings of the artist's own settings without
    # them (their ChunkSize, their items), not of another job.
    refused = {refused_item(problem) for problem in refusals}
    if all(problem.where.startswith("--frames ") for problem in refusals) and None not in refused:
        kept = {i: frames for i, frames in settings.frame_overrides.items() if i not in refused}
        try:
            built = build_bundle(export, replace(settings, frame_overrides=kept))
        except StmpoError:
            pass
        else:
            return BundleCheck(list(built.warnings), refusals)
    warnings = default_warnings(export) if defaults is None else defaults
    return BundleCheck(warnings, refusals, from_defaults=True)


def default_warnings(export: Export) -> list[str]:
    """What `stmpo bundle` warns for the export with its defaults (every renderable
    item), failing that the export's warnings alone."""
    try:
        return list(build_bundle(export, BundleSettings()).warnings)
    except StmpoError:
        return [f"export: {warning}" for warning in export.warnings]


def settings_key(settings: BundleSettings) -> str:
    """Equal for settings that build the same bundle: which check answers the settings
    shown now."""
    return repr(settings)


_FRAMES = re.compile(r"^--frames (\d+)$")
_ITEMS = re.compile(r"^--items(?: (\d+))?$")
_PARAMETER = re.compile(r"^-p (\w+)")


def refused_item(problem: Problem) -> int | None:
    """The render queue index a refusal names (`--frames N`, `--items N`), if any."""
    for pattern in (_FRAMES, _ITEMS):
        match = pattern.match(problem.where)
        if match and match.group(1):
            return int(match.group(1))
    return None


def in_tab_words(problem: Problem) -> str:
    """A refusal as the tab names things: the CLI's `--frames 2` is item 2's frames."""
    where = problem.where
    if match := _FRAMES.match(where):
        where = f"frames of item {match.group(1)}"
    elif match := _ITEMS.match(where):
        where = f"item {match.group(1)}" if match.group(1) else "render queue selection"
    elif match := _PARAMETER.match(where):
        where = match.group(1)
    message = problem.message.replace("-p ChunkSize=N", "Frames per task")
    return f"{where}: {message}" if where else message
