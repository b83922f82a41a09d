"""A full disk under aerender: the stand-in says so the way aerender does, and the
worker fails the task with that reason (docs/aerender-standin.md, "Faults")."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from stmpo_worker_harness import base_env, make_scene, protocol_values, render_argv, run, standin

WRITE_ERROR = "aerender ERROR: After Effects error: Rendering error while writing to file"


def test_disk_full_fault_is_an_aerender_error_not_a_traceback(tmp_path: Path) -> None:
    pattern = str(tmp_path / "f_[####].png")
    result = standin("-output", pattern, "-s", "1", "-e", "4", env={"STANDIN_FAIL": "disk_full@3"})
    assert result.returncode == 1
    assert result.stderr == ""
    last = result.stdout.splitlines()[-1]
    assert last.startswith(f'{WRITE_ERROR} "{tmp_path / "f_0003.png"}"')
    assert last.endswith("(No space left on device)")
    assert not (tmp_path / "f_0004.png").exists()  # the render stopped there


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs Linux /dev/full")
def test_a_real_enospc_is_reported_the_same_way() -> None:
    """/dev/full fails every write with ENOSPC: a real full disk, no fault injection."""
    result = standin("-output", "/dev/full", "-s", "0", "-e", "1")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stdout.splitlines()[-1] == (
        f'{WRITE_ERROR} "/dev/full". An output module failed. The file may be damaged or '
        "corrupted. (No space left on device)"
    )


def test_the_worker_fails_the_task_with_the_disk_full_reason(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-9", "--concurrency=2"),
        base_env(scene, STANDIN_FAIL="disk_full@7"),
    )
    assert result.returncode == 1, result.stdout + result.stderr
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert "c2 f5-9" in fail
    assert "Rendering error while writing to file" in fail and "MAIN_00007.png" in fail
    assert "No space left on device" in fail
    assert "Traceback" not in result.stdout + result.stderr
