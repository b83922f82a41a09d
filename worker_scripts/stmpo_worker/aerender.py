"""Finding aerender and building each child's argument list.

Resolution order: `--aerender-path`, `AERENDER_PATH`, `AERENDER_EXECUTABLE` (the
official Deadline Cloud After Effects integration's variable), `aerender` or
`aerender.exe` on PATH, then the default install folders, newest After Effects first.
An explicit path that does not exist is an error (a typo must not silently render with
another AE version).

On a service-managed fleet the queue's conda environment installs After Effects from
the `aftereffects` package, whose activation script puts its install folder (holding
`aerender.exe`) on PATH (aws-deadline/deadline-cloud-samples,
`conda_recipes/aftereffects-25.0/recipe/build_win.sh`): PATH is where the worker finds it.
"""

from __future__ import annotations

import glob
import ntpath
import os
import posixpath
import re
import shutil
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass

WINDOWS_GLOBS = (r"{pf}\Adobe\Adobe After Effects *\Support Files\aerender.exe",)
MACOS_GLOBS = ("/Applications/Adobe After Effects */aerender",)
#: Environment variables naming aerender (a file, or a folder holding it), in order.
ENV_VARIABLES = ("AERENDER_PATH", "AERENDER_EXECUTABLE")
#: Names looked up on PATH: `aerender.exe` also where PATHEXT does not supply `.exe`.
PATH_NAMES = ("aerender", "aerender.exe")


class AerenderNotFound(Exception):
    """No aerender anywhere; `looked` names every place, in order."""

    def __init__(self, looked: Sequence[str]) -> None:
        self.looked = list(looked)
        super().__init__(
            "aerender not found. Looked in: "
            + "; ".join(self.looked)
            + ". Set the AerenderPath job parameter, AERENDER_PATH or AERENDER_EXECUTABLE "
            "on the worker, or CondaPackages (aftereffects=X.Y) on a service-managed fleet."
        )


def _version_key(path: str) -> tuple[int, int, str]:
    """Newest first: `Adobe After Effects 2025` > `2024` > `CC 2019`; Beta after release."""
    folder = re.search(r"Adobe After Effects ([^\\/]*)", path)
    name = folder.group(1) if folder else ""
    years = re.findall(r"\d{4}", name)
    year = int(years[-1]) if years else 0
    beta = 1 if "beta" in name.lower() else 0
    return (-year, beta, name)


def default_install_candidates(
    os_name: str, glob_fn: Callable[[str], list[str]], env: dict[str, str]
) -> tuple[list[str], list[str]]:
    """(existing candidates newest first, the patterns looked at) for this OS."""
    patterns: list[str] = []
    if os_name == "windows":
        roots = []
        for var in ("ProgramFiles", "ProgramW6432"):
            value = env.get(var)
            if value and value not in roots:
                roots.append(value)
        if r"C:\Program Files" not in roots:
            roots.append(r"C:\Program Files")
        patterns = [g.format(pf=root) for root in roots for g in WINDOWS_GLOBS]
    elif os_name == "macos":
        patterns = list(MACOS_GLOBS)
    found: list[str] = []
    for pattern in patterns:
        for hit in glob_fn(pattern):
            if hit not in found:
                found.append(hit)
    return sorted(found, key=_version_key), patterns


@dataclass(frozen=True)
class Finder:
    """The file system and environment, so resolution can be tested with fakes."""

    is_file: Callable[[str], bool] = os.path.isfile
    is_dir: Callable[[str], bool] = os.path.isdir
    which: Callable[[str], str | None] = shutil.which
    glob: Callable[[str], list[str]] = glob.glob


def _explicit(path: str, finder: Finder, what: str, os_name: str) -> str:
    """An explicit file, or a folder holding aerender (AE's `Support Files`)."""
    if finder.is_file(path):
        return path
    if finder.is_dir(path):
        join = ntpath.join if os_name == "windows" else posixpath.join
        for name in ("aerender.exe", "aerender", "aerender_standin.py"):
            inside = join(path, name)
            if finder.is_file(inside):
                return inside
        raise AerenderNotFound([f"{path} ({what}): a folder without aerender in it"])
    raise AerenderNotFound([f"{path} ({what}): does not exist"])


def resolve_aerender(
    explicit: str,
    env: dict[str, str],
    os_name: str,
    finder: Finder | None = None,
) -> str:
    """The aerender executable to run; raises AerenderNotFound naming every place."""
    finder = finder or Finder()
    if explicit.strip():
        return _explicit(explicit.strip(), finder, "--aerender-path", os_name)
    looked = ["--aerender-path (empty)"]
    for variable in ENV_VARIABLES:
        from_env = env.get(variable, "").strip()
        if from_env:
            return _explicit(from_env, finder, variable, os_name)
        looked.append(f"{variable} (not set)")
    for name in PATH_NAMES:
        on_path = finder.which(name)
        if on_path:
            return on_path
    looked.extend(f"{name} on PATH" for name in PATH_NAMES)
    found, patterns = default_install_candidates(os_name, finder.glob, env)
    if found:
        return found[0]
    looked.extend(patterns or [f"no default install folder on {os_name}"])
    raise AerenderNotFound(looked)


def launcher(aerender: str) -> list[str]:
    """The argv prefix that runs `aerender`.

    A `.py` aerender (the stand-in) runs with this Python, so it works without an
    executable bit (wheels drop it) and on Windows, where a shebang means nothing.
    """
    if aerender.lower().endswith(".py"):
        return [sys.executable, aerender]
    return [aerender]


def child_command(
    aerender: str,
    project: str,
    rqindex: int,
    start: int,
    end: int,
    step: int,
    mfr: bool,
    output: str | None = None,
    continue_on_missing: bool = False,
) -> list[str]:
    """One child's argument list (never a shell string).

    `continue_on_missing` (the ContinueOnMissingFootage job parameter, the official
    integration's "Continue On Missing Footage" check box,
    aws-deadline/deadline-cloud-for-after-effects `AESubmitterUI.jsx`) adds
    `-continueOnMissingFootage`: "Do not stop rendering on missing footage. Log and
    render with placeholder color bars instead" (aerender's `-help`; not checked
    against a real aerender here)."""
    argv = [
        *launcher(aerender),
        "-project", project,
        "-rqindex", str(rqindex),
        "-s", str(start),
        "-e", str(end),
        "-i", str(step),
        "-mfr", "ON" if mfr else "OFF", "100",
        "-v", "ERRORS_AND_PROGRESS",
        "-close", "DO_NOT_SAVE_CHANGES",
        "-sound", "OFF",
    ]  # fmt: skip
    if output is not None:
        argv += ["-output", output]
    if continue_on_missing:
        argv.append("-continueOnMissingFootage")
    return argv
