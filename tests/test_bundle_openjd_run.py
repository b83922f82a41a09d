"""Run generated templates with the reference `openjd run` against a fake Python.

`-p Python=<shim>` replaces the worker's interpreter with a script that records its
argv and the STMPO_* variables the job environment sets, which proves what the real
worker would receive: hostile comp names, output paths (in the bundle's item files) and
project paths arrive byte-exact, and nothing is run through a shell.
"""

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bundle_exports import HOSTILE_COMP, HOSTILE_OUTPUT, hostile_export
from stmpo.bundle import BundleSettings, build_bundle, write_bundle

OPENJD = Path(sys.executable).with_name("openjd")
HOSTILE_PROJECT = "/proj/{{Param.Python}} $(id) `x`; 'q' \"dq\" 日本/spot v1.aep"

pytestmark = pytest.mark.slow


def make_shim(folder: Path) -> tuple[Path, Path]:
    record = folder / "argv.jsonl"
    shim = folder / "fake-python"
    shim.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys\n"
        "env = {k: v for k, v in os.environ.items() if k.startswith('STMPO_')}\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(json.dumps([sys.argv[1:], env]) + '\\n')\n",
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return shim, record


def openjd_run(template: Path, step: str, params: dict[str, str], cwd: Path) -> None:
    args = [str(OPENJD), "run", str(template), "--step", step]
    for name, value in params.items():
        args += ["-p", f"{name}={value}"]
    done = subprocess.run(
        args, capture_output=True, text=True, timeout=300, cwd=cwd, env=dict(os.environ)
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def option(argv: list[str], name: str) -> str:
    [value] = [a.split("=", 1)[1] for a in argv if a.startswith(f"{name}=")]
    return value


def job_file(bundle: Path, relative: str) -> Any:
    return json.loads((bundle / "scripts" / relative).read_text(encoding="utf-8"))


def test_hostile_names_reach_the_worker_byte_exact(tmp_path: Path) -> None:
    export = hostile_export()
    built = build_bundle(export, BundleSettings(parameters={"ChunkSize": "5"}))
    bundle = write_bundle(built, tmp_path / "bundle")
    shim, record = make_shim(tmp_path)
    params = {"Python": str(shim), "ProjectFile": HOSTILE_PROJECT}
    steps = [s["name"] for s in built.template["steps"]]

    openjd_run(bundle / "template.yaml", steps[0], params, tmp_path)
    openjd_run(bundle / "template.yaml", steps[1], params, tmp_path)

    records = [json.loads(line) for line in record.read_text(encoding="utf-8").splitlines()]
    calls = [argv for argv, _env in records]
    for _argv, env in records:  # the job environment's variables reach every action
        assert env["STMPO_PROJECT"] == HOSTILE_PROJECT
        assert env["STMPO_CONCURRENCY"] == "0" and env["STMPO_DISABLE_MFR"] == "false"
        assert env.get("STMPO_AERENDER_PATH", "") == env.get("STMPO_NUMA_MAP", "") == ""
    commands = [c[1] for c in calls]
    # each session: enter the environment, run the tasks, exit the environment
    session_1 = ["prepare-outputs", "render", "remove-fonts"]
    session_2 = ["prepare-outputs", "render", "render", "remove-fonts"]
    assert commands == session_1 + session_2
    for call in calls:
        assert call[0] == str(bundle / "scripts" / "stmpo_render.py")
        rules = option(call, "--path-mapping-rules") if call[1] != "remove-fonts" else ""
        assert "{{" not in rules

    movie, first, second = calls[1], calls[4], calls[5]
    assert option(movie, "--item") == "rq001"
    item = job_file(bundle, "items/rq001.json")
    assert item["comp"] == HOSTILE_COMP
    assert [o["path"] for o in item["outputs"]] == [
        HOSTILE_OUTPUT,
        "/renders/movies/{{x}} $(id)/a.mov",
    ]
    assert option(movie, "--frames") == "0-47"  # a movie is one task whatever ChunkSize says
    assert item["rqindex"] == 1
    assert job_file(bundle, f"items/{option(first, '--item')}.json")["comp"] == "{{"
    assert [option(first, "--frames"), option(second, "--frames")] == ["0-4", "5-9"]

    dirs = job_file(bundle, option(calls[0], "--dirs-file"))
    assert dirs == [
        HOSTILE_OUTPUT.rsplit("/", 1)[0],
        "/renders/movies/{{x}} $(id)",
        "/renders/item2",
        "/renders/item3",
    ]
