"""The worker scripts under every Python a worker may have (tests/worker_pythons.py).

Run through the real `stmpo_render.py`, as the job template runs it. Under every
supported Python (3.9, Amazon Linux 2023's `python3`, to 3.13) a session's
`prepare-outputs` and a fanned-out stand-in render with a WINDOWS path-mapping rule
work, the way a Linux worker runs a job submitted from Windows. A Python older than
3.9 must say so in one `openjd_fail:` line and exit 2 before it imports anything (3.8
used to die with `'type' object is not subscriptable` from deep inside an import, 3.6
and 2.7 with a SyntaxError, each exit 1 with a traceback and no reason in the task).
A missing interpreter fails its test, naming it (see worker_pythons.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo_worker_harness import (
    SCRIPT,
    STANDIN,
    base_env,
    make_scene,
    protocol_values,
    run,
    write_windows_rules,
)
from worker_pythons import TOO_OLD, python_or_fail, versions_to_test


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


def _aerender(folder: Path) -> Path:
    """An `aerender` executable, as After Effects ships one: the stand-in, run by the
    test's own Python (the worker's interpreter runs only the worker)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "aerender"
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n', encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.mark.skipif(sys.platform == "win32", reason="a POSIX aerender wrapper")
@pytest.mark.parametrize("version", versions_to_test())
def test_a_session_renders_with_a_windows_rule_under_every_supported_python(
    tmp_path: Path, version: str
) -> None:
    python = python_or_fail(version)
    exact = _version_of(python)
    aerender = _aerender(tmp_path / "bin")
    rules = write_windows_rules(tmp_path / "rules.json", tmp_path / "mnt")
    scene = make_scene(tmp_path)
    env = {k: v for k, v in base_env(scene).items() if not k.startswith("PYTHONPATH")}
    windows_dir = "C:\\renders\\shot"

    prepared = run(
        [
            python,
            str(SCRIPT),
            "prepare-outputs",
            f"--dirs-b64={encode_b64_json([windows_dir])}",
            f"--aerender-path={aerender}",
            f"--path-mapping-rules={rules}",
        ],
        env,
    )
    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    assert prepared.stdout.splitlines()[0] == (
        f"STMPO: preflight: Python {exact} ({python}); aerender: {aerender}"
    )
    mapped = tmp_path / "mnt" / "shot"
    assert mapped.is_dir()

    pattern = windows_dir + "\\MAIN_[#####].png"
    rendered = run(
        [
            python,
            str(SCRIPT),
            "render",
            f"--project={scene.project}",
            "--rqindex=1",
            "--frames=0-5",
            f"--item-b64={scene.item_b64(path=pattern)}",
            "--concurrency=2",
            "--spawn-delay=0",
            "--split-strategy=static",  # two launches, whatever the load
            "--child-grace-sec=2",
            f"--aerender-path={aerender}",
            f"--path-mapping-rules={rules}",
        ],
        env,
    )
    assert rendered.returncode == 0, rendered.stdout[-3000:] + rendered.stderr[-3000:]
    assert "Traceback" not in rendered.stderr
    assert sorted(p.name for p in mapped.iterdir()) == [f"MAIN_{f:05d}.png" for f in range(6)]
    assert protocol_values(rendered.stdout, "openjd_progress")[-1] == "100.0"
    assert f"output path mapped: -output {mapped / 'MAIN_[#####].png'}" in rendered.stdout
    assert len(scene.events("start")) == 2  # fanned out, each child under its own -s/-e
    assert not os.listdir(scene.out_dir)  # nothing went to the sidecar's own path
