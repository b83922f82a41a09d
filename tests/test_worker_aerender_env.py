"""The real worker finds aerender where a Deadline Cloud worker has it: through
`AERENDER_EXECUTABLE` (the official After Effects integration's variable) and on PATH,
where the `aftereffects` conda package's activation puts its folder with `aerender.exe`.

Each test runs `stmpo_render.py render` with an empty `--aerender-path`, as the job
template passes it when the AerenderPath job parameter is left empty.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from stmpo_worker_harness import (
    STANDIN,
    base_env,
    make_scene,
    protocol_values,
    render_argv,
    run,
)


def without_explicit_path(argv: list[str]) -> list[str]:
    argv = list(argv)
    argv[argv.index(str(STANDIN))] = ""
    return argv


def launcher_named(folder: Path, name: str) -> Path:
    """An executable `name` that runs the aerender stand-in, as the conda package's
    `aerender.exe` runs After Effects' renderer."""
    folder.mkdir(parents=True, exist_ok=True)
    exe = folder / name
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" "$@"\n', encoding="utf-8")
    exe.chmod(0o755)
    return exe


def test_aerender_executable_names_the_renderer(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    argv = without_explicit_path(render_argv(scene, "0-3"))
    env = base_env(scene, AERENDER_EXECUTABLE=str(STANDIN), PATH=str(tmp_path / "empty-bin"))
    result = run(argv, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == {0, 1, 2, 3}

    # AERENDER_PATH, this worker's own variable, comes first
    scene = make_scene(tmp_path / "again")
    argv = without_explicit_path(render_argv(scene, "0-1"))
    bogus = str(tmp_path / "nope" / "aerender.exe")
    env = base_env(scene, AERENDER_PATH=str(STANDIN), AERENDER_EXECUTABLE=bogus)
    result = run(argv, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == {0, 1}


def test_a_missing_aerender_executable_is_named_not_skipped(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    argv = without_explicit_path(render_argv(scene, "0-1"))
    on_path = launcher_named(tmp_path / "bin", "aerender")
    missing = tmp_path / "AE 2099" / "aerender.exe"
    env = base_env(scene, AERENDER_EXECUTABLE=str(missing), PATH=str(on_path.parent))
    result = run(argv, env)
    assert result.returncode == 2
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert "AERENDER_EXECUTABLE" in fail and "AE 2099" in fail
    assert scene.events() == []


def test_the_conda_packages_aerender_exe_on_path_is_found(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    argv = without_explicit_path(render_argv(scene, "0-3"))
    conda_bin = tmp_path / "conda" / "opt" / "aftereffects"
    launcher_named(conda_bin, "aerender.exe")
    path = os.pathsep.join([str(conda_bin), "/usr/bin", "/bin"])
    result = run(argv, base_env(scene, PATH=path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == {0, 1, 2, 3}
    assert len(scene.events("start")) >= 1


def test_nothing_found_names_both_variables_and_path(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    argv = without_explicit_path(render_argv(scene, "0-1"))
    result = run(argv, base_env(scene, PATH=str(tmp_path / "empty-bin")))
    assert result.returncode == 2
    [fail] = protocol_values(result.stdout, "openjd_fail")
    for place in (
        "AERENDER_PATH (not set)",
        "AERENDER_EXECUTABLE (not set)",
        "aerender.exe on PATH",
    ):
        assert place in fail
    assert "CondaPackages" in fail
