"""Output-module numbering and "Skip Existing Files" (issue 10 points 3, 6), through the
real worker and the aerender stand-in modelling After Effects."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo_worker_harness import Scene, base_env, make_scene, protocol_values, render_argv, run

pytestmark = pytest.mark.slow


def _item(scene: Scene, **output: object) -> str:
    return encode_b64_json(
        {
            "comp": scene.comp,
            "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence", **output}],
        }
    )


def test_starting_number_renders_in_one_process_and_checks_the_real_names(
    tmp_path: Path,
) -> None:
    """With "Use Comp Frame Number" off, AE names the first frame of each launch
    `Starting #`: two processes would both write 100..102; the worker runs one process
    and expects 100..105 for frames 10-15."""
    scene = make_scene(tmp_path)
    item = _item(scene, useCompFrameNumber=False, startingNumber=100)
    argv = render_argv(scene, "10-15", "--concurrency", "2", item=item)

    result = run(argv, base_env(scene, STANDIN_START_NUMBER="100"))

    assert result.returncode == 0, result.stdout
    assert 'Output numbering: "Use Comp Frame Number" is off' in result.stdout
    assert len(scene.events("start")) == 1
    assert scene.frames_on_disk() == set(range(100, 106))


def test_starting_number_fails_when_the_files_do_not_follow_it(tmp_path: Path) -> None:
    """The check looks for Starting # names: a render numbered by comp frame (files
    10..15) leaves none of 100..105, and the task fails naming the first."""
    scene = make_scene(tmp_path)
    item = _item(scene, useCompFrameNumber=False, startingNumber=100)

    result = run(render_argv(scene, "10-15", item=item), base_env(scene))

    assert result.returncode == 1, result.stdout
    [failure] = protocol_values(result.stdout, "openjd_fail")
    assert f"{scene.frame_file(100)} (missing)" in failure


def test_bad_starting_number_exits_2_naming_the_json_path(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    item = _item(scene, useCompFrameNumber=False, startingNumber="7")
    result = run(render_argv(scene, "0-3", item=item), base_env(scene))
    assert result.returncode == 2, result.stdout
    assert "--item-b64: outputs[0].startingNumber" in result.stderr + result.stdout


def test_skip_existing_files_keeps_an_older_frame_as_rendered(tmp_path: Path) -> None:
    """With "Skip Existing Files" AE leaves an existing frame untouched: the artist
    asked for it, so the old non-empty file counts; without the setting it is stale."""
    scene = make_scene(tmp_path)
    old = scene.frame_file(2)
    old.write_bytes(b"kept frame")
    then = time.time() - 3600
    os.utime(old, (then, then))
    env = base_env(scene, STANDIN_SKIP_EXISTING="1")
    skip_item = encode_b64_json(
        {
            "comp": scene.comp,
            "skipExistingFiles": True,
            "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence"}],
        }
    )

    kept = run(render_argv(scene, "0-4", item=skip_item), env)
    plain = run(render_argv(scene, "0-4"), env)

    assert kept.returncode == 0, kept.stdout
    assert old.read_bytes() == b"kept frame"
    assert scene.frames_on_disk() == set(range(5))
    assert plain.returncode == 1, plain.stdout
    assert "stale" in protocol_values(plain.stdout, "openjd_fail")[0]


def test_starting_number_under_a_step_counts_rendered_frames(tmp_path: Path) -> None:
    """Under `-i 2` AE numbers the rendered frames 10, 12, 14 as Starting # + 0, 1, 2:
    file numbers follow the position in the launch, not the comp frame."""
    scene = make_scene(tmp_path)
    item = _item(scene, useCompFrameNumber=False, startingNumber=7)
    argv = render_argv(scene, "10-15", "--step", "2", item=item)

    result = run(argv, base_env(scene, STANDIN_START_NUMBER="7"))

    assert result.returncode == 0, result.stdout
    assert scene.frames_on_disk() == {7, 8, 9}
