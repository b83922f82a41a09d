"""Which After Effects a service-managed fleet installs: the `CondaPackages` default.

Service-managed fleets have no After Effects; the queue's conda environment installs
the `aftereffects` package from the `deadline-cloud` channel, named by the job parameter
`CondaPackages`. The package must match the After Effects that saved the project (an
older one cannot open it), so the default is the exporting version's major.minor.

The channel carries only some versions. For any other, the official integration
(aws-deadline/deadline-cloud-for-after-effects, `src/submission/SubmitBundle.jsx`,
`generateTemplate`) asks for the major version alone (`Math.floor`, so 23.0 ->
`aftereffects=23`) and warns that the version is not supported on service-managed
fleets; stmpo does the same, so a studio channel carrying that major still works.
Pure: no files, no clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from stmpo.export.model import Export

PACKAGE = "aftereffects"
#: The `aftereffects` versions the deadline-cloud channel is known to carry.
CHANNEL_VERSIONS: tuple[tuple[int, int], ...] = ((24, 6), (25, 1), (25, 2), (25, 6), (26, 0))
_VERSION = re.compile(r"\s*(?:After Effects\s+)?(\d{1,4})(?:\.(\d{1,4}))?")


@dataclass(frozen=True)
class CondaChoice:
    packages: str
    """The CondaPackages value."""
    warning: str | None = None
    """Why a service-managed fleet may not find that package, or None."""


def _shown(versions: tuple[tuple[int, int], ...]) -> str:
    return ", ".join(f"{major}.{minor}" for major, minor in versions)


def exporting_version(export: Export) -> str | None:
    """The After Effects version that wrote the export (`host.version`), or for a saved
    `.aep` read without AE the one that saved it (`host.savedWith`)."""
    host = export.host
    if host is None:
        return None
    if host.version:
        return host.version
    saved = (host.model_extra or {}).get("savedWith")
    return saved if isinstance(saved, str) and saved.strip() else None


def conda_packages_for(version: str | None) -> CondaChoice:
    """The CondaPackages default for an After Effects version such as `24.6.2` (AE's
    `app.version` may carry a build suffix: `24.6.2x4`)."""
    advice = (
        "set -p CondaPackages=aftereffects=X.Y to one your queue's channels carry, or "
        "-p CondaPackages= on a fleet with After Effects installed"
    )
    match = _VERSION.match(version or "")
    if match is None:
        newest = CHANNEL_VERSIONS[-1]
        packages = f"{PACKAGE}={newest[0]}.{newest[1]}"
        return CondaChoice(
            packages,
            "the export does not say which After Effects wrote it; CondaPackages is "
            f"{packages}, the newest the deadline-cloud conda channel is known to carry; " + advice,
        )
    major, minor = int(match.group(1)), int(match.group(2) or 0)
    if (major, minor) in CHANNEL_VERSIONS:
        return CondaChoice(f"{PACKAGE}={major}.{minor}")
    packages = f"{PACKAGE}={major}"
    return CondaChoice(
        packages,
        f"After Effects {major}.{minor} is not a version the deadline-cloud conda channel "
        f"is known to carry ({_shown(CHANNEL_VERSIONS)}); CondaPackages is {packages} "
        "(the major version, as the official After Effects submitter falls back), which "
        "a service-managed fleet may not find: " + advice,
    )
