"""`DEADLINE_JUNCTIONS` through the real worker command line and the aerender stand-in.

The workaround Deadline Cloud ships for Windows' 260-character paths: a queue
environment makes a short junction per job attachments asset root and points
`DEADLINE_JUNCTIONS` at a pathmapping-1.0 compatible file (asset root -> junction);
the official After Effects integration (aws-deadline/deadline-cloud-for-after-effects,
its render script and CHANGELOG #324) then renders the project and output paths
through the junctions and fails the task when the file cannot be read. Here a
symlink stands in for the junction: both make one folder reachable by a shorter path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.locations import aerender_standin, worker_scripts_dir
from stmpo_worker_harness import base_env, make_scene, protocol_values, render_argv, run

LONG = ("assetroot-" + "x" * 60, "session-" + "y" * 40)


def _junction_file(path: Path, rules: list[dict[str, str]], version: bool = True) -> Path:
    document: dict[str, object] = {"path_mapping_rules": rules}
    if version:
        document["version"] = "pathmapping-1.0"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def _long_root_and_junction(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path.joinpath(*LONG)
    root.mkdir(parents=True)
    junction = tmp_path / "j0"
    junction.symlink_to(root, target_is_directory=True)
    return root, junction


def test_render_goes_through_the_junctions_of_deadline_junctions(tmp_path: Path) -> None:
    root, junction = _long_root_and_junction(tmp_path)
    scene = make_scene(root)
    # As the official integration accepts: no version, no source_path_format.
    rules = _junction_file(
        tmp_path / "junctions.json",
        [{"source_path": str(root), "destination_path": str(junction)}],
        version=False,
    )
    env = base_env(scene, DEADLINE_JUNCTIONS=str(rules))
    result = run(render_argv(scene, "0-3", "--concurrency", "1"), env)
    assert result.returncode == 0, result.stdout + result.stderr
    [start] = scene.events("start")
    argv = start["argv"]
    assert argv[argv.index("-project") + 1] == str(junction / "shot.aep")
    assert argv[argv.index("-output") + 1] == str(junction / "out" / "MAIN_[#####].png")
    assert scene.frames_on_disk() == {0, 1, 2, 3}  # the same folder, by the short path


def test_prepare_outputs_creates_folders_through_the_junctions(tmp_path: Path) -> None:
    root, junction = _long_root_and_junction(tmp_path)
    rules = _junction_file(
        tmp_path / "junctions.json",
        [
            {
                "source_path_format": "POSIX",
                "source_path": str(root),
                "destination_path": str(junction),
            }
        ],
    )
    result = subprocess.run(
        [
            sys.executable,
            str(worker_scripts_dir() / "stmpo_render.py"),
            "prepare-outputs",
            "--dirs-b64",
            encode_b64_json([str(root / "renders" / "a"), str(tmp_path / "elsewhere")]),
            f"--aerender-path={aerender_standin()}",  # for the preflight
        ],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        env={**os.environ, "DEADLINE_JUNCTIONS": str(rules)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"-> {junction / 'renders' / 'a'}" in result.stdout
    assert (root / "renders" / "a").is_dir() and (tmp_path / "elsewhere").is_dir()


def test_a_malformed_junctions_file_fails_naming_the_variable(tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "p")
    bad = tmp_path / "junctions.json"
    bad.write_text('{"path_mapping_rules": [{"source_path": 3}]}', encoding="utf-8")
    result = run(render_argv(scene, "0-1"), base_env(scene, DEADLINE_JUNCTIONS=str(bad)))
    assert result.returncode == 2
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert fail.startswith("DEADLINE_JUNCTIONS: path_mapping_rules[0]")
    assert scene.events("start") == []  # nothing rendered the long paths instead


def test_a_rule_whose_junction_is_missing_is_dropped_with_a_warning(tmp_path: Path) -> None:
    scene = make_scene(tmp_path / "p")
    rules = _junction_file(
        tmp_path / "junctions.json",
        [{"source_path": str(scene.root), "destination_path": str(tmp_path / "gone")}],
    )
    result = run(render_argv(scene, "0-1"), base_env(scene, DEADLINE_JUNCTIONS=str(rules)))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "STMPO: warning: DEADLINE_JUNCTIONS: ignoring the rule for" in result.stdout
    [start] = scene.events("start")
    assert start["argv"][start["argv"].index("-project") + 1] == str(scene.project)


def test_on_windows_a_rule_without_format_matches_like_windows() -> None:
    """The file a Windows queue environment writes: host paths, any case, any slash."""
    from stmpo._worker_scripts.stmpo_worker.pathmap import map_path, parse_rules

    text = json.dumps(
        {
            "path_mapping_rules": [
                {"source_path": "C:\\S\\assetroot-0a1b", "destination_path": "C:\\J\\0"}
            ]
        }
    )
    rules = parse_rules(text, default_format="WINDOWS")
    assert map_path(rules, "c:/s/ASSETROOT-0a1b/shots/a.aep", host_posix=False) == (
        "C:\\J\\0\\shots\\a.aep"
    )
    assert map_path(rules, "C:\\S\\assetroot-0a1bc\\a.aep", host_posix=False) == (
        "C:\\S\\assetroot-0a1bc\\a.aep"  # whole components only
    )
