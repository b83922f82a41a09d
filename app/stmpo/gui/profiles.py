"""The two STMPO profiles of the original README, as job parameter values.

Hero matches the template defaults (the original's shipped defaults), so an untouched
submitter shows "Hero".

"Hero" suits heavy comps that gain from Multi-Frame Rendering: fewer, fatter processes.
"Farm" suits well-behaved comps: more, lighter processes with MFR off. Anything the
artist changes by hand makes the profile "Custom"; `profile_for` recognises a profile
from values so the combo box shows the truth after settings are restored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

HERO = "Hero"
FARM = "Farm"
CUSTOM = "Custom"


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    values: Mapping[str, str]


PROFILES: dict[str, Profile] = {
    HERO: Profile(
        HERO,
        "MFR on, 32-64 GB per process, 12-24 processes at most: heavy comps and plug-in stacks.",
        {
            "Concurrency": "0",
            "DisableMFR": "false",
            "RamPerProcessGB": "32.0",
            "MaxConcurrency": "24",
        },
    ),
    FARM: Profile(
        FARM,
        "MFR off, 24-32 GB per process, 24-32 processes at most: light, well-behaved comps.",
        {
            "Concurrency": "0",
            "DisableMFR": "true",
            "RamPerProcessGB": "24.0",
            "MaxConcurrency": "32",
        },
    ),
}

#: Parameters that a profile sets; other controls never change the profile name.
PROFILE_KEYS: tuple[str, ...] = ("Concurrency", "DisableMFR", "RamPerProcessGB", "MaxConcurrency")


def _same(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return a.strip().lower() == b.strip().lower()


def profile_for(values: Mapping[str, str]) -> str:
    """The profile whose values all match, else Custom."""
    for profile in PROFILES.values():
        if all(_same(values.get(k, ""), v) for k, v in profile.values.items()):
            return profile.name
    return CUSTOM


def apply_profile(values: Mapping[str, str], name: str) -> dict[str, str]:
    """Values with the profile's settings laid over them (Custom changes nothing)."""
    result = dict(values)
    if name in PROFILES:
        result.update(PROFILES[name].values)
    return result
