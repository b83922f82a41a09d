"""A real render through the reference `openjd run` CLI: export -> `stmpo bundle` ->
the bundle's own template and scripts -> STMPO -> the aerender stand-in -> files on disk.

`test_bundle_openjd_run.py` proves what the worker's argv holds; this one proves the
worker, run by OpenJD's runtime from that argv, renders the right frames to hostile
paths, that the `STMPO Outputs` environment made the folders, and that a render error
fails the session.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from stmpo.locations import aerender_standin

PY = sys.executable
OPENJD = Path(PY).with_name("openjd")
# No "/" (these are folder names too) and no newline; everything else a shell,
# a format string or a quoting bug would trip over.
HOSTILE = "{{Param.Python}} {{ 'sq' \"dq\" $(id) `id`; a&b|c>d 日本 ünï 🎬"

pytestmark = pytest.mark.slow


@dataclass(frozen=True)
class Job:
    export: Path
    project: Path
    out_dirs: tuple[Path, Path]
    patterns: tuple[str, str]
    canary: Path  # what the comp name's `$(touch ...)` would create if a shell ran it


def write_job(root: Path, faults: dict[int, str] | None = None) -> Job:
    """Two items at hostile paths: rq 1 frames 0-4, rq 2 frames 2-11 step 3; the project
    placeholder and its stand-in sidecar. The output folders are not created here."""
    canary = root / "pwned"
    comp_extra = f" $(touch {canary}) `touch {canary}`; touch {canary}"
    project = root / f"proj {HOSTILE}" / "spot v1.aep"
    project.parent.mkdir(parents=True)
    project.write_bytes(b"stand-in project\n")
    out_dirs = (root / "out" / f"one {HOSTILE}", root / "out" / f"two {HOSTILE}")
    patterns = (str(out_dirs[0] / "a_[#####].png"), str(out_dirs[1] / "b_[####].png"))
    comps = (f"MAIN {HOSTILE}{comp_extra}", f"{{{{ {HOSTILE}")
    ranges = ((0, 4, 1), (2, 11, 3))
    items: list[dict[str, Any]] = [
        {
            "index": index,
            "render": True,
            "status": "QUEUED",
            "comp": {"name": comp, "frameRate": 25.0, "duration": 2.0, "displayStartTime": 0.0},
            "frames": {"start": start, "end": end, "step": step},
            "outputModules": [{"index": 1, "path": pattern, "kind": "sequence"}],
        }
        for index, comp, pattern, (start, end, step) in zip(
            (1, 2), comps, patterns, ranges, strict=True
        )
    ]
    export = {
        "format": "stmpo-ae-export",
        "version": 1,
        "host": {"app": "After Effects", "version": "24.6.2", "os": "linux"},
        "project": {"path": str(project), "displayStartFrame": 0},
        "renderQueue": items,
    }
    export_path = root / "export.json"
    export_path.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    sidecar: dict[str, Any] = {"frameRate": 25, "items": {}}
    for item in items:
        entry: dict[str, Any] = {
            "comp": item["comp"]["name"],
            "outputs": [item["outputModules"][0]["path"]],
        }
        if faults and item["index"] in faults:
            entry["faults"] = faults[item["index"]]
        sidecar["items"][str(item["index"])] = entry
    Path(f"{project}.standin.json").write_text(
        json.dumps(sidecar, ensure_ascii=False), encoding="utf-8"
    )
    return Job(export_path, project, out_dirs, patterns, canary)


def bundle(job: Job, root: Path) -> tuple[Path, list[str], str]:
    """`stmpo bundle` as an artist runs it; returns the folder, its step names and the
    ProjectFile value it recorded."""
    folder = root / "bundle"
    done = subprocess.run(
        [PY, "-m", "stmpo", "bundle", str(job.export), "-o", str(folder), "-p", "ChunkSize=3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    template = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
    values = yaml.safe_load((folder / "parameter_values.yaml").read_text(encoding="utf-8"))
    [project] = [v["value"] for v in values["parameterValues"] if v["name"] == "ProjectFile"]
    return folder, [s["name"] for s in template["steps"]], project


def openjd_run(
    folder: Path, step: str, project: str, cwd: Path, **overrides: str
) -> subprocess.CompletedProcess[str]:
    """`openjd run` with the values the bundle's parameter_values.yaml and the farm give."""
    params = {
        "ProjectFile": project,
        "StmpoScripts": str(folder / "scripts"),
        "AerenderPath": str(aerender_standin()),
        "Python": PY,
        "Concurrency": "2",
        "SpawnDelay": "0",
        "ChildGraceSec": "2",
        **overrides,
    }
    args = [str(OPENJD), "run", str(folder / "template.yaml"), "--step", step]
    for name, value in params.items():
        args += ["-p", f"{name}={value}"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STANDIN_")}
    return subprocess.run(args, capture_output=True, text=True, timeout=300, cwd=cwd, env=env)


def files_under(folder: Path) -> set[str]:
    """The rendered files: the worker's resume journals (`.stmpo/`) aside."""
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and ".stmpo" not in p.relative_to(folder).parts
    }


def environment_log(stdout: str) -> str:
    """What the `STMPO Outputs` enter action printed (before the first task ran)."""
    start = stdout.index("Entering Environment: STMPO Outputs")
    return stdout[start : stdout.index("Running Task", start)]


def test_openjd_run_renders_exactly_the_requested_frames_at_hostile_paths(
    tmp_path: Path,
) -> None:
    job = write_job(tmp_path)
    folder, steps, project = bundle(job, tmp_path)
    assert project == str(job.project)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    assert not (tmp_path / "out").exists()

    runs = [openjd_run(folder, step, project, cwd) for step in steps]

    for done in runs:
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
        assert "STMPO summary:" in done.stdout and "failed: none" in done.stdout
    # ChunkSize=3 made two tasks per step, each fanned out over the stand-in.
    assert re.search(r"Chunks run: 2\b", runs[0].stdout), runs[0].stdout[-1500:]
    # The environment (run in each session) made both folders before any task ran.
    for done in runs:
        made = environment_log(done.stdout)
        for out_dir in job.out_dirs:
            assert f"output folder ready: {out_dir}\n" in made
    out = tmp_path / "out"
    assert files_under(out) == {
        *(f"one {HOSTILE}/a_{f:05d}.png" for f in range(0, 5)),
        *(f"two {HOSTILE}/b_{f:04d}.png" for f in (2, 5, 8, 11)),
    }
    # Nothing was read by a shell: not the comp name, not a folder name.
    assert not job.canary.exists()
    assert sorted(p.name for p in cwd.iterdir()) == []


def test_openjd_run_fails_when_aerender_reports_an_error_and_exits_0(tmp_path: Path) -> None:
    job = write_job(tmp_path, faults={2: "error_exit0@8"})
    folder, steps, project = bundle(job, tmp_path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()

    done = openjd_run(folder, steps[1], project, cwd)

    assert done.returncode != 0, done.stdout[-4000:]
    assert re.search(
        r"openjd_fail: aerender failed for frames c\d f8-8: aerender reported an error: "
        r"aerender ERROR: .*frame 8",
        done.stdout,
    )
    assert "ERROR executing action" in done.stdout
    assert "All actions completed successfully" not in done.stdout
    assert not Path(job.patterns[1].replace("[####]", "0008")).exists()


def test_a_worker_without_aerender_fails_the_session_once_in_the_preflight(tmp_path: Path) -> None:
    """`prepare-outputs` (the job environment's enter, once per session) finds aerender
    as `render` would: a misconfigured worker fails there with the reason, and no task
    of the step runs (before, each task failed on its own, after the folders were made)."""
    job = write_job(tmp_path)
    folder, steps, project = bundle(job, tmp_path)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    wrong = tmp_path / "Adobe After Effects 2099" / "aerender"

    done = openjd_run(folder, steps[0], project, cwd, AerenderPath=str(wrong))

    assert done.returncode != 0, done.stdout[-4000:]
    fails = re.findall(r"openjd_fail: .*", done.stdout)
    assert len(fails) == 1, done.stdout[-4000:]
    assert fails[0].startswith(
        f"openjd_fail: preflight: aerender not found. Looked in: {wrong} (--aerender-path): "
        "does not exist."
    )
    assert "Running Task" not in done.stdout  # not one task started
    assert not (tmp_path / "out").exists()  # nor was any folder made
