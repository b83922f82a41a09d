"""Missing footage, fonts and effects at render time (issue 10 point 12), through the
real worker and the aerender stand-in: After Effects' warnings fail the task unless the
ContinueOnMissingFootage job parameter is on, which also passes aerender
`-continueOnMissingFootage`."""

from __future__ import annotations

from pathlib import Path

import pytest
from stmpo_worker_harness import base_env, make_scene, protocol_values, render_argv, run

pytestmark = pytest.mark.slow

FOOTAGE = "/footage/plate_\x1b[31m.png"  # outside text: an escape sequence in a path
SHOWN = "/footage/plate_\\x1b[31m.png"  # as logtext shows it


def _argvs(scene: object) -> list[list[str]]:
    return [e["argv"] for e in scene.events("start")]  # type: ignore[attr-defined]


def test_missing_footage_fails_the_task_by_default(tmp_path: Path) -> None:
    """Without -continueOnMissingFootage aerender stops at the missing footage and
    still exits 0: only its warning tells; the task must fail, naming the line."""
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-5", "--concurrency", "1"),
        base_env(scene, STANDIN_FAIL=f"missing_footage@3:{FOOTAGE}"),
    )
    assert result.returncode == 1, result.stdout
    [why] = protocol_values(result.stdout, "openjd_fail")
    # How the process ended after its line ("(then exited 0)") races with fail-fast.
    assert why.startswith(
        "aerender failed for frames c1 f0-5: After Effects reports something missing "
        "(ContinueOnMissingFootage is off): WARNING:After Effects warning: logged one "
        f"error  error: Unable to Render: File Not Found {SHOWN} (then "
    )
    assert "\x1b" not in result.stdout + result.stderr
    assert all("-continueOnMissingFootage" not in argv for argv in _argvs(scene))
    assert scene.frames_on_disk() == {0, 1, 2}


def test_continue_on_missing_footage_passes_the_flag_and_renders_on(tmp_path: Path) -> None:
    """The job parameter reaches the worker as STMPO_CONTINUE_ON_MISSING_FOOTAGE (the job
    environment's variable): every aerender gets -continueOnMissingFootage, renders
    every frame, and the task succeeds with a warning."""
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-5", "--concurrency", "2"),
        base_env(
            scene,
            STANDIN_FAIL=f"missing_footage@1:{FOOTAGE},missing_footage@4:{FOOTAGE}",
            STMPO_CONTINUE_ON_MISSING_FOOTAGE="true",
        ),
    )
    assert result.returncode == 0, result.stdout
    argvs = _argvs(scene)
    assert len(argvs) == 2 and all("-continueOnMissingFootage" in argv for argv in argvs)
    assert scene.frames_on_disk() == set(range(6))
    warnings = [
        line
        for line in result.stdout.splitlines()
        if line.startswith("STMPO: warning: [") and "something missing" in line
    ]
    assert len(warnings) == 2  # once per process
    assert warnings[0].endswith(f"WARNING:After Effects warning: File Not Found {SHOWN}")
    assert "\x1b" not in result.stdout + result.stderr
    assert protocol_values(result.stdout, "openjd_fail") == []


@pytest.mark.parametrize(
    ("fault", "line"),
    [
        ("missing_font", "WARNING:After Effects warning: Project has missing fonts."),
        ("missing_effect", "dependencies are missing:}Effect: STMPO Missing Effect"),
    ],
)
def test_missing_fonts_and_effects_fail_unless_the_parameter_is_on(
    tmp_path: Path, fault: str, line: str
) -> None:
    """AE renders on with a substitute font or without the effect and exits 0: wrong
    frames that look rendered. Off (the default): the task fails on the warning; on
    (`--continue-on-missing-footage true`, the flag that overrides the variable): it
    warns and passes."""
    scene = make_scene(tmp_path)
    failed = run(
        render_argv(scene, "0-3", "--concurrency", "1"), base_env(scene, STANDIN_FAIL=fault)
    )
    assert failed.returncode == 1, failed.stdout
    [why] = protocol_values(failed.stdout, "openjd_fail")
    assert "After Effects reports something missing (ContinueOnMissingFootage is off)" in why
    assert line in why

    passed = run(
        render_argv(scene, "0-3", "--concurrency", "1", "--continue-on-missing-footage", "true"),
        base_env(scene, STANDIN_FAIL=fault, STMPO_CONTINUE_ON_MISSING_FOOTAGE="false"),
    )
    assert passed.returncode == 0, passed.stdout
    assert line in passed.stdout
    assert scene.frames_on_disk() == {0, 1, 2, 3}


def test_a_bad_continue_on_missing_footage_value_exits_2_naming_it(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-1"),
        base_env(scene, STMPO_CONTINUE_ON_MISSING_FOOTAGE="sometimes"),
    )
    assert result.returncode == 2, result.stdout
    assert "STMPO_CONTINUE_ON_MISSING_FOOTAGE (for --continue-on-missing-footage)" in (
        result.stdout + result.stderr
    )
    assert "Traceback" not in result.stderr
