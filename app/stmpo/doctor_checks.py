"""What a first run needs, one check each: `stmpo doctor`'s functional core.

A newcomer's first failure is rarely in STMPO: a Qt platform library the distribution
does not install, a farm never chosen, expired credentials. Each check answers `ok`,
`WARN` (works, but something will surprise) or `MISSING` (a first run fails), and a
miss always says how to fix it. Pure functions of what they are given where the answer
is a decision (`qt_check`, `python_check`), so the decisions are testable without this
machine's state; the probes that read the machine are kept thin beside them.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

OK, WARN, MISSING = "ok", "WARN", "MISSING"

MIN_PYTHON = (3, 10)
"""The app's `requires-python` (pyproject.toml); the worker's own floor is 3.9."""

QT_XCB_LIBRARIES: tuple[tuple[str, str], ...] = (
    ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libxcb-icccm.so.4", "libxcb-icccm4"),
    ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxcb-image.so.0", "libxcb-image0"),
    ("libxcb-randr.so.0", "libxcb-randr0"),
    ("libxcb-render-util.so.0", "libxcb-render-util0"),
    ("libxcb-render.so.0", "libxcb-render0"),
    ("libxcb-shape.so.0", "libxcb-shape0"),
    ("libxcb-shm.so.0", "libxcb-shm0"),
    ("libxcb-sync.so.1", "libxcb-sync1"),
    ("libxcb-util.so.1", "libxcb-util1"),
    ("libxcb-xfixes.so.0", "libxcb-xfixes0"),
    ("libxcb-xkb.so.1", "libxcb-xkb1"),
    ("libxcb.so.1", "libxcb1"),
    ("libX11-xcb.so.1", "libx11-xcb1"),
    ("libX11.so.6", "libx11-6"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"),
    ("libxkbcommon.so.0", "libxkbcommon0"),
    ("libEGL.so.1", "libegl1"),
    ("libGL.so.1", "libgl1"),
    ("libfontconfig.so.1", "libfontconfig1"),
    ("libfreetype.so.6", "libfreetype6"),
    ("libglib-2.0.so.0", "libglib2.0-0"),
    ("libdbus-1.so.3", "libdbus-1-3"),
)
"""Shared objects the PySide6 wheel's `xcb` platform plugin and QtGui load from the
system (`ldd` of PySide6 6.x's `plugins/platforms/libqxcb.so`, `libQt6XcbQpa.so.6` and
`libQt6Gui.so.6`, minus what the wheel ships and libc), with the Debian/Ubuntu package
that installs each. README.md lists the same packages; libxcb-cursor0 is the one most
often missing (Qt 6.5 made it required)."""

PLATFORMS_WITHOUT_DISPLAY = frozenset({"offscreen", "minimal", "vnc"})


@dataclass(frozen=True)
class Check:
    name: str
    status: str
    detail: str
    fix: str = ""

    @property
    def blocks(self) -> bool:
        return self.status == MISSING

    def to_json(self) -> dict[str, str]:
        return {"check": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}


def python_check(version: Sequence[int], executable: str) -> Check:
    shown = ".".join(str(part) for part in version[:3])
    if tuple(version[:2]) >= MIN_PYTHON:
        return Check("python", OK, f"Python {shown} ({executable})")
    need = ".".join(map(str, MIN_PYTHON))
    return Check(
        "python",
        MISSING,
        f"Python {shown} is older than stmpo needs ({need})",
        f"install Python {need} or newer and re-create the venv (make .venv/.installed)",
    )


def ldconfig_sonames(listing: str) -> set[str]:
    """The sonames in `ldconfig -p` output (`\tlibfoo.so.1 (libc6,x86-64) => /path`)."""
    names = set()
    for line in listing.splitlines():
        match = re.match(r"\s+(\S+)\s+\(", line)
        if match:
            names.add(match.group(1))
    return names


def qt_check(
    platform: str,
    env: Mapping[str, str],
    found: set[str],
) -> Check:
    """Can the submitter open a window here? Only Linux's xcb plugin needs system
    libraries beyond the PySide6 wheel; `found` is every soname the loader can find."""
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if not platform.startswith("linux"):
        return Check("qt", OK, f"{platform}: Qt's platform plugin ships in the PySide6 wheel")
    if chosen.split(":")[0] in PLATFORMS_WITHOUT_DISPLAY:
        return Check(
            "qt",
            OK,
            f"QT_QPA_PLATFORM={chosen}: no display or X11 libraries needed (no window shown)",
        )
    missing = [(so, package) for so, package in QT_XCB_LIBRARIES if so not in found]
    if chosen.startswith("wayland"):
        missing = [(so, p) for so, p in missing if "xcb" not in so and "x11" not in so]
    if missing:
        packages = " ".join(package for _, package in missing)
        return Check(
            "qt",
            MISSING,
            "Qt's xcb platform plugin cannot load: missing " + ", ".join(so for so, _ in missing),
            f"sudo apt-get install {packages} (Debian/Ubuntu package "
            "names), or QT_QPA_PLATFORM=offscreen for no window",
        )
    if not chosen and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return Check(
            "qt",
            WARN,
            "Qt's libraries are installed, but there is no DISPLAY: the submitter "
            "cannot open a window in this session",
            "run it in a desktop session (or ssh -X), or set QT_QPA_PLATFORM=offscreen",
        )
    return Check("qt", OK, "Qt's xcb platform libraries are installed")


def loader_sonames(env: Mapping[str, str]) -> set[str]:
    """Every soname the dynamic loader can find: `ldconfig -p` (found on PATH first, so
    a test can stand one in, then /sbin) plus the LD_LIBRARY_PATH folders."""
    found: set[str] = set()
    import shutil

    ldconfig = shutil.which("ldconfig", path=env.get("PATH")) or next(
        (p for p in ("/sbin/ldconfig", "/usr/sbin/ldconfig") if os.path.exists(p)), None
    )
    if ldconfig:
        try:
            listing = subprocess.run(
                [ldconfig, "-p"], capture_output=True, text=True, timeout=20, check=False
            ).stdout
            found |= ldconfig_sonames(listing)
        except (OSError, subprocess.SubprocessError):
            pass
    for folder in filter(None, env.get("LD_LIBRARY_PATH", "").split(os.pathsep)):
        try:
            found |= set(os.listdir(folder))
        except OSError:
            continue
    return found


def aerender_check(env: Mapping[str, str], platform: str) -> Check:
    """The worker's own resolution (`stmpo_worker.aerender`), as `stmpo run-local` uses."""
    from stmpo._worker_scripts.stmpo_worker.aerender import AerenderNotFound, resolve_aerender

    os_name = {"win32": "nt", "darwin": "posix"}.get(platform, "posix")
    try:
        found = resolve_aerender("", dict(env), os_name)
    except AerenderNotFound as exc:
        return Check(
            "aerender",
            WARN,
            "no aerender here; only `stmpo run-local` needs it (farm workers resolve "
            "their own). Looked in: " + "; ".join(exc.looked),
            "install After Effects, or set AERENDER_PATH (the stand-in: "
            f"AERENDER_PATH={_standin()})",
        )
    except Exception as exc:  # an explicit path that is not a runnable file
        return Check("aerender", WARN, str(exc), "point AERENDER_PATH at aerender itself")
    return Check("aerender", OK, f"aerender for local runs: {found}")


def _standin() -> str:
    from stmpo.locations import aerender_standin

    return str(aerender_standin())


def font_check(folders: Iterable[Path], count: int) -> Check:
    where = ", ".join(str(f) for f in folders)
    if count:
        return Check("fonts", OK, f"{count} installed fonts indexed by PostScript name")
    return Check(
        "fonts",
        WARN,
        f"no fonts found in {where}: a project's fonts travel with the job only when "
        "they are installed here",
        "install the project's fonts on this computer (stmpo fonts EXPORT lists them)",
    )


def platform_name() -> str:
    return sys.platform
