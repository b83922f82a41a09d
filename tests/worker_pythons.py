"""Finding the Python interpreters the worker tests run the worker scripts under.

The worker must run on every Python from 3.9 (Amazon Linux 2023's `python3`) up, and
refuse older ones with one `openjd_fail:` line. The tests look for each version under
pyenv (`~/.pyenv/versions/X.Y.*`, or `$PYENV_ROOT/versions`), then `pythonX.Y` on PATH.
A version that is not there FAILS its test, naming what is missing: a CI that silently
lacks 3.9 would stop checking exactly what breaks on the farm. Set
STMPO_ALLOW_MISSING_PYTHONS=1 to turn those failures into skips that still name the
missing version (shown with `pytest -rs`).
"""

from __future__ import annotations

import glob
import os
import shutil
from pathlib import Path

import pytest

#: Every minor version the worker supports, oldest first (docs/stmpo-worker.md); a
#: newer one the machine has is tested too (`versions_to_test`).
SUPPORTED = ("3.9", "3.10", "3.11", "3.12", "3.13")
#: Older interpreters the version gate must refuse with a clear line.
TOO_OLD = ("2.7", "3.6", "3.8")
ALLOW_MISSING = "STMPO_ALLOW_MISSING_PYTHONS"


def _pyenv_roots() -> list[Path]:
    roots = [Path.home() / ".pyenv"]
    if os.environ.get("PYENV_ROOT"):
        roots.insert(0, Path(os.environ["PYENV_ROOT"]))
    return roots


def find_python(version: str) -> str | None:
    """The newest patch release of `version` (e.g. "3.9") this machine has, or None."""
    for root in _pyenv_roots():
        hits = glob.glob(str(root / "versions" / f"{version}.*" / "bin" / "python"))
        hits = [h for h in hits if Path(h).parent.parent.name.split(".")[:2] == version.split(".")]
        if hits:
            return sorted(hits, key=lambda h: int(Path(h).parent.parent.name.split(".")[2]))[-1]
    return shutil.which(f"python{version}")


def installed_minors() -> set[str]:
    """Every `X.Y` with an interpreter under pyenv (CPython release folders only)."""
    found = set()
    for root in _pyenv_roots():
        for folder in glob.glob(str(root / "versions" / "*.*.*")):
            parts = Path(folder).name.split(".")
            if len(parts) == 3 and all(p.isdigit() for p in parts):
                found.add(f"{parts[0]}.{parts[1]}")
    return found


def versions_to_test() -> list[str]:
    """SUPPORTED (each must be there), plus any newer Python this machine has (3.14...)."""
    newer = {v for v in installed_minors() if _key(v) > _key(SUPPORTED[-1])}
    return [*SUPPORTED, *sorted(newer, key=_key)]


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def python_or_fail(version: str) -> str:
    """The interpreter for `version`; its absence is a test failure (see module doc)."""
    found = find_python(version)
    if found:
        return found
    where = ", ".join(str(r / "versions" / f"{version}.*") for r in _pyenv_roots())
    message = (
        f"Python {version} is MISSING on this machine (looked in {where} and for "
        f"python{version} on PATH): the worker is not tested under it. Install it "
        f"(pyenv install {version}) or set {ALLOW_MISSING}=1 to skip knowingly."
    )
    if os.environ.get(ALLOW_MISSING) == "1":
        pytest.skip(message)
    pytest.fail(message)
