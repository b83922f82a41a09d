"""The worker reads what the short command line names (docs/architecture.md, "The worker
command line"): its item from the bundle's `scripts/items/rqNNN.json`, the output folders
from `scripts/output_dirs.json`, the job settings from the STMPO_* variables the job
environment sets; a flag overrides its variable. Bundles are made by the real
`stmpo bundle`, the worker runs from the bundle (as on a farm) with the aerender
stand-in, under Python 3.9 (the oldest the worker supports) and this interpreter.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from bundle_exports import export_dict, item, write_export
from stmpo_worker_harness import STANDIN, Scene, base_env, make_scene

PY39 = Path.home() / ".pyenv" / "versions" / "3.9.18" / "bin" / "python"
COMP = '広告 {{Param.Python}} "dq" $(id) `x` ünï'


def interpreters() -> list[object]:
    oldest = pytest.param(
        str(PY39),
        id="py3.9",
        marks=pytest.mark.skipif(not PY39.is_file(), reason=f"Python 3.9 missing: {PY39}"),
    )
    return [oldest, pytest.param(sys.executable, id="this-python")]


def bundle_for(scene: Scene, tmp_path: Path) -> Path:
    outputs = [{"index": 1, "path": scene.pattern, "kind": "sequence"}]
    data = export_dict(
        [item(1, comp=COMP, end=3, outputs=outputs)],
        project={"path": str(scene.project), "displayStartFrame": 0},
    )
    export = write_export(tmp_path / "export.json", data)
    bundle = tmp_path / "bundle"
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "bundle", str(export), "-o", str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return bundle


def job_env(scene: Scene, **settings: str) -> dict[str, str]:
    """What the job environment's `variables` give every action, plus the test's."""
    env = {k: v for k, v in base_env(scene).items() if not k.startswith("STMPO_")}
    env.update(
        STMPO_PROJECT=str(scene.project),
        STMPO_AERENDER_PATH=str(STANDIN),
        STMPO_SPAWN_DELAY="0",
        STMPO_CHILD_GRACE_SEC="2",
    )
    env.update(settings)
    return env


def worker(
    python: str, bundle: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    script = bundle / "scripts" / "stmpo_render.py"
    return subprocess.run(
        [python, str(script), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
        cwd=bundle.parent,
    )


@pytest.mark.parametrize("python", interpreters())
def test_render_takes_its_item_from_the_bundle_and_settings_from_the_environment(
    python: str, tmp_path: Path
) -> None:
    scene = make_scene(tmp_path, comp=COMP)
    bundle = bundle_for(scene, tmp_path)
    # Static split: under load a dynamic hand-over of the stand-in's instant frames may
    # add a launch, which is not what this test is about.
    env = job_env(
        scene,
        STMPO_CONCURRENCY="2",
        STMPO_DISABLE_AFFINITY="true",
        STMPO_SPLIT_STRATEGY="static",
    )

    done = worker(python, bundle, env, "render", "--item=rq001", "--frames=0-3")

    assert done.returncode == 0, done.stdout + done.stderr
    assert scene.frames_on_disk() == {0, 1, 2, 3}
    assert len(scene.events("start")) == 2  # STMPO_CONCURRENCY
    assert {e["rqindex"] for e in scene.events("start")} == {"1"}  # from the item file
    assert repr(COMP) in done.stdout  # the comp name arrived byte-exact
    for event in scene.events("start"):
        assert event["argv"][event["argv"].index("-project") + 1] == str(scene.project)


def test_a_flag_overrides_its_environment_variable(tmp_path: Path) -> None:
    scene = make_scene(tmp_path, comp=COMP)
    bundle = bundle_for(scene, tmp_path)
    env = job_env(scene, STMPO_CONCURRENCY="2", STMPO_DISABLE_AFFINITY="true")

    done = worker(
        sys.executable, bundle, env, "render", "--item=rq001", "--frames=0-3", "--concurrency=1"
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert len(scene.events("start")) == 1


@pytest.mark.parametrize(
    ("settings", "args", "named"),
    [
        ({"STMPO_CONCURRENCY": "lots"}, [], "STMPO_CONCURRENCY (for --concurrency)"),
        ({"STMPO_MAX_CONCURRENCY": "999"}, [], "STMPO_MAX_CONCURRENCY (for --max-concurrency)"),
        ({"STMPO_DISABLE_MFR": "maybe"}, [], "STMPO_DISABLE_MFR (for --disable-mfr)"),
        ({"STMPO_PROJECT": ""}, [], "--project: required (or STMPO_PROJECT)"),
        ({}, ["--item=../../etc/passwd"], "--item: expected a name such as rq003"),
        ({}, ["--item=rq999"], "--item: cannot read"),
        ({}, ["--item=rq001", "--item-b64=e30"], "--item: give --item or --item-b64"),
    ],
)
def test_bad_settings_and_item_names_exit_2_naming_them(
    settings: dict[str, str], args: list[str], named: str, tmp_path: Path
) -> None:
    scene = make_scene(tmp_path)
    bundle = bundle_for(scene, tmp_path)
    argv = ["render", "--frames=0-1", *(args or ["--item=rq001"])]

    done = worker(sys.executable, bundle, job_env(scene, **settings), *argv)

    assert done.returncode == 2, done.stdout + done.stderr
    [fail] = [line for line in done.stdout.splitlines() if line.startswith("openjd_fail:")]
    assert named in fail
    assert "Traceback" not in done.stderr
    assert scene.events("start") == []


def test_a_damaged_item_file_exits_2_naming_it(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    bundle = bundle_for(scene, tmp_path)
    (bundle / "scripts" / "items" / "rq001.json").write_text('{"comp": 1', encoding="utf-8")

    done = worker(sys.executable, bundle, job_env(scene), "render", "--item=rq001", "--frames=0-1")

    assert done.returncode == 2
    assert "openjd_fail: --item: " in done.stdout and "not UTF-8 JSON" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("python", interpreters())
def test_prepare_outputs_creates_the_folders_the_bundle_lists(python: str, tmp_path: Path) -> None:
    scene = make_scene(tmp_path, out_parts=("renders", "sh 010"))
    scene.out_dir.rmdir()
    bundle = bundle_for(scene, tmp_path)
    listed = json.loads((bundle / "scripts" / "output_dirs.json").read_text("utf-8"))
    assert listed == [str(scene.out_dir)]

    done = worker(python, bundle, job_env(scene), "prepare-outputs", "--dirs-file=output_dirs.json")

    assert done.returncode == 0, done.stdout + done.stderr
    assert scene.out_dir.is_dir()
    assert os.listdir(scene.out_dir) == []


@pytest.mark.parametrize("python", interpreters())
def test_paths_in_job_files_go_through_the_session_path_mapping(
    python: str, tmp_path: Path
) -> None:
    """An export made on Windows: the item file and output_dirs.json hold `C:\\...` paths,
    which the worker maps with the session's WINDOWS rule (as openjd maps PATH values)."""
    scene = make_scene(tmp_path, out_parts=("mapped", "sh 010"))
    scene.out_dir.rmdir()
    windows = "C:\\Renders\\sh 010\\MAIN_[#####].png"
    data = export_dict(
        [item(1, comp=COMP, end=3, outputs=[{"index": 1, "path": windows}])],
        host={"app": "After Effects", "version": "24.6.2", "os": "windows"},
        project={"path": "C:\\Projects\\shot.aep", "displayStartFrame": 0},
    )
    export = write_export(tmp_path / "export.json", data)
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "bundle", str(export), "-o", str(tmp_path / "bundle")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    rules = tmp_path / "rules.json"
    rule = {
        "source_path_format": "WINDOWS",
        "source_path": "c:\\renders",  # WINDOWS rules match case-insensitively
        "destination_path": str(tmp_path / "mapped"),
    }
    rules.write_text(
        json.dumps({"version": "pathmapping-1.0", "path_mapping_rules": [rule]}), "utf-8"
    )
    env = job_env(scene, STMPO_DISABLE_AFFINITY="true", STMPO_CONCURRENCY="2")
    mapping = f"--path-mapping-rules={rules}"
    bundle = tmp_path / "bundle"

    prepared = worker(
        python, bundle, env, "prepare-outputs", "--dirs-file=output_dirs.json", mapping
    )
    rendered = worker(python, bundle, env, "render", "--item=rq001", "--frames=0-3", mapping)

    assert prepared.returncode == 0, prepared.stdout + prepared.stderr
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert scene.frames_on_disk() == {0, 1, 2, 3}  # written where the rule maps C:\Renders
