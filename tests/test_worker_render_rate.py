"""Render settings at another frame rate than the comp (issue 10 point 2), through the
real worker and the aerender stand-in, which writes the output frames at the render
rate as After Effects does (docs/stmpo-worker.md "Render frame rate")."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo_worker_harness import (
    Scene,
    base_env,
    make_scene,
    protocol_values,
    render_argv,
    run,
    standin,
)

pytestmark = pytest.mark.slow


#: The render-rate split is under test, not the dynamic hand-overs: the stand-in's frames
#: take no time, so a hand-over may reach frames already written but not yet reported,
#: and the taker writes them again (harmless, one after the other, but not "once").
STATIC = ("--split-strategy", "static")


def _scene(tmp_path: Path, comp_rate: float, render_rate: float, start_time: float = 0) -> Scene:
    """A scene whose stand-in sidecar renders item 1 at `render_rate`, as the project
    would tell AE."""
    scene = make_scene(tmp_path)
    sidecar = Path(str(scene.project) + ".standin.json")
    item = {
        "comp": scene.comp,
        "outputs": [scene.pattern],
        "frameRate": comp_rate,
        "renderFrameRate": render_rate,
        "displayStartTime": start_time,
    }
    sidecar.write_text(json.dumps({"items": {"1": item}}), encoding="utf-8")
    return scene


def _item(scene: Scene, comp_rate: float, render_rate: float, **extra: object) -> str:
    return encode_b64_json(
        {
            "comp": scene.comp,
            "renderFrameRate": render_rate,
            "compFrameRate": comp_rate,
            "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence"}],
            **extra,
        }
    )


def _written_once(scene: Scene) -> Counter[str]:
    writes = Counter(r["path"] for r in scene.events("write"))
    assert writes, "the stand-in recorded no write"
    assert max(writes.values()) == 1, [p for p, n in writes.items() if n > 1]
    return writes


@pytest.mark.parametrize(
    ("render_rate", "expected"),
    [(12.5, range(0, 50)), (50.0, range(0, 200))],
    ids=["half-rate", "double-rate"],
)
def test_four_processes_write_the_render_rate_frames_once(
    tmp_path: Path, render_rate: float, expected: range
) -> None:
    """A 25 fps comp, comp frames 0-99, rendered at 12.5 fps writes output frames 0-49
    and at 50 fps 0-199: every one exactly once across 4 processes, and the counts,
    progress and the check are in output frames."""
    scene = _scene(tmp_path, 25.0, render_rate)
    argv = render_argv(
        scene, "0-99", "--concurrency", "4", *STATIC, item=_item(scene, 25.0, render_rate)
    )

    result = run(argv, base_env(scene))

    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == set(expected)
    assert len(_written_once(scene)) == len(expected)
    starts = scene.events("start")
    assert len(starts) == 4
    spans = sorted((int(r["s"]), int(r["e"])) for r in starts)  # comp -s/-e, no overlap
    assert spans[0][0] == 0 and spans[-1][1] == 99
    assert all(b[0] == a[1] + 1 for a, b in itertools.pairwise(spans))
    n = len(expected)
    assert f"STMPO summary: {n}/{n} frames, 4/4 processes" in result.stdout
    assert protocol_values(result.stdout, "openjd_progress")[-1] == "100.0"
    assert f"at 25 fps -> {render_rate:g} fps)" in result.stdout


def test_2997_comp_at_23976_an_hour_in(tmp_path: Path) -> None:
    """Comp frames 107892-107991 of a 29.97 comp (an hour in) at 23.976 fps are the
    output frames whose times k x 1001/24000 lie in [107892, 107992) x 1001/30000:
    k = 86314..86393 (x 4/5, exactly, in n/1001 ratios)."""
    scene = _scene(tmp_path, 29.97, 23.976)
    item = _item(scene, 29.970001220703125, 23.976)
    argv = render_argv(scene, "107892-107991", "--concurrency", "3", *STATIC, item=item)

    result = run(argv, base_env(scene))

    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == set(range(86314, 86394))
    assert len(_written_once(scene)) == 80
    assert "STMPO summary: 80/80 frames, 3/3 processes" in result.stdout


def test_a_display_start_moves_both_numberings(tmp_path: Path) -> None:
    """A comp that starts at 10 s shows comp frame 250 at time 0 (25 fps); at 12.5 fps
    its output frames are numbered from 125."""
    scene = _scene(tmp_path, 25.0, 12.5, start_time=10.0)
    item = _item(scene, 25.0, 12.5, compDisplayStartTime=10.0)
    result = run(
        render_argv(scene, "250-269", "--concurrency", "2", *STATIC, item=item), base_env(scene)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == set(range(125, 135))


def test_the_check_expects_render_rate_names(tmp_path: Path) -> None:
    """A render that writes comp-rate files while the item says 12.5 fps (a project
    whose render settings do not match the export): comp frames 250-349 of a comp that
    starts at 10 s are output frames 125-174, which it never wrote, so the task fails
    naming frame 125 instead of passing on the comp-frame files 250-349."""
    scene = make_scene(tmp_path)  # the stand-in renders at the comp's 25 fps
    item = _item(scene, 25.0, 12.5, compDisplayStartTime=10.0)
    argv = render_argv(
        scene, "250-349", "--concurrency", "2", "--no-kill-on-fail", "true", *STATIC, item=item
    )

    result = run(argv, base_env(scene))

    assert result.returncode == 1, result.stdout
    assert scene.frames_on_disk() == set(range(250, 350))
    [failure] = protocol_values(result.stdout, "openjd_fail")
    assert f"{scene.frame_file(125)} (missing)" in failure


def test_missing_comp_rate_exits_2_naming_the_json_path(tmp_path: Path) -> None:
    scene = _scene(tmp_path, 25.0, 12.5)
    item = encode_b64_json(
        {
            "comp": scene.comp,
            "renderFrameRate": 12.5,
            "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence"}],
        }
    )
    result = run(render_argv(scene, "0-9", item=item), base_env(scene))
    assert result.returncode == 2, result.stdout
    assert "--item-b64: compFrameRate" in result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def test_bad_render_rate_exits_2_naming_the_json_path(tmp_path: Path) -> None:
    scene = _scene(tmp_path, 25.0, 12.5)
    item = _item(scene, 25.0, -3)
    result = run(render_argv(scene, "0-9", item=item), base_env(scene))
    assert result.returncode == 2, result.stdout
    assert "--item-b64: renderFrameRate" in result.stderr


def test_a_chunk_without_an_output_frame_starts_nothing(tmp_path: Path) -> None:
    """At 12.5 fps comp frame 1 of a 25 fps comp holds no output frame (frame 0 at
    0 s, frame 1 at 0.08 s): AE writes nothing, so no aerender starts."""
    scene = _scene(tmp_path, 25.0, 12.5)
    result = run(render_argv(scene, "1-1", item=_item(scene, 25.0, 12.5)), base_env(scene))
    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.events("start") == []
    assert protocol_values(result.stdout, "openjd_progress")[-1] == "100.0"


def test_run_local_renders_an_export_at_its_render_rate(tmp_path: Path) -> None:
    """The whole product path: an export whose item renders its 25 fps comp at 12.5 fps,
    bundled (the item file carries compFrameRate) and run by `stmpo run-local` in
    chunks of 20 comp frames, 2 processes each: output frames 0-23 of comp frames
    0-47, each written once, and the run succeeds."""
    from stmpo.export.loader import load_export
    from stmpo.local.demo import expected_frames, standin_sidecar, write_demo_inputs
    from stmpo.locations import aerender_standin, examples_dir

    export_path, _ = write_demo_inputs(examples_dir() / "image_sequence.json", tmp_path / "d")
    data = json.loads(export_path.read_text("utf-8"))
    data["renderQueue"][0]["renderFrameRate"] = 12.5
    export_path.write_text(json.dumps(data), encoding="utf-8")
    export = load_export(export_path)
    project = Path(export.project.path)
    Path(str(project) + ".standin.json").write_text(json.dumps(standin_sidecar(export)))
    trace = tmp_path / "trace.jsonl"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "stmpo", "run-local", str(export_path)),
            *("-p", "ChunkSize=20", "-p", "Concurrency=2", "-p", "SplitStrategy=static"),
            *("-p", f"AerenderPath={aerender_standin()}", "-p", f"Python={sys.executable}"),
            *("-p", "SpawnDelay=0"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "STANDIN_TRACE": str(trace)},
    )
    assert done.returncode == 0, done.stderr + done.stdout
    frames_dir = Path(export.render_queue[0].output_modules[0].path).parent
    expected = {Path(p).name for p in expected_frames(export)}
    assert expected == {f"MAIN_{i:05d}.png" for i in range(24)}
    assert {p.name for p in frames_dir.iterdir()} == expected
    writes = Counter(
        json.loads(line)["path"]
        for line in trace.read_text("utf-8").splitlines()
        if json.loads(line)["event"] == "write"
    )
    assert len(writes) == 24 and max(writes.values()) == 1


def test_the_standin_writes_and_reports_output_frames(tmp_path: Path) -> None:
    """The stand-in alone: comp frames 10-29 of a 25 fps comp at 50 fps are output
    frames 20-59, 40 files and 40 frame lines counted (1)..(40); `-i 2` at another
    rate is refused the way aerender refuses bad arguments."""
    scene = _scene(tmp_path, 25.0, 50.0)
    args = ("-project", str(scene.project), "-rqindex", "1", "-s", "10", "-e", "29")

    result = standin(*args)

    assert result.returncode == 0, result.stdout
    assert scene.frames_on_disk() == set(range(20, 60))
    counted = [line for line in result.stdout.splitlines() if " Seconds" in line and "(" in line]
    assert len(counted) == 40 and counted[-1].endswith("(40): 0 Seconds")
    refused = standin(*args, "-i", "2")
    assert refused.returncode == 1
    assert "aerender ERROR: -i 2 with a render frame rate" in refused.stdout
