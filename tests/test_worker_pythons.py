"""The worker scripts under every Python a worker may have (tests/worker_pythons.py).

Run through the real `stmpo_render.py`, as the job template runs it: a Python older than
3.9 must say so in one `openjd_fail:` line and exit 2 before it imports anything (3.8
used to die with `'type' object is not subscriptable` from deep inside an import, 3.6
and 2.7 with a SyntaxError, each exit 1 with a traceback and no reason in the task).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo_worker_harness import SCRIPT
from worker_pythons import TOO_OLD, python_or_fail


def _version_of(python: str) -> str:
    return subprocess.run(
        [python, "-c", "import sys; print('.'.join(map(str, sys.version_info[:3])))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@pytest.mark.parametrize("version", TOO_OLD)
@pytest.mark.parametrize("command", ["prepare-outputs", "render", "remove-fonts"])
def test_an_older_python_fails_once_naming_its_version(
    tmp_path: Path, version: str, command: str
) -> None:
    python = python_or_fail(version)
    exact = _version_of(python)
    wanted = tmp_path / "out"
    args = {
        "prepare-outputs": ["--dirs-b64", encode_b64_json([str(wanted)])],
        "render": ["--project", str(tmp_path / "p.aep"), "--rqindex", "1", "--frames", "0-1"],
        "remove-fonts": ["--font-state", str(tmp_path / "fonts.json")],
    }[command]
    result = subprocess.run(
        [python, str(SCRIPT), command, *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"openjd_fail: STMPO worker needs Python 3.9 or newer; this worker ran Python {exact} "
        "(give the job a newer interpreter: its Python parameter)"
    ]
    assert result.stderr.splitlines() == [
        f"stmpo_render.py: error: Python {exact} is older than 3.9"
    ]
    assert not wanted.exists()
