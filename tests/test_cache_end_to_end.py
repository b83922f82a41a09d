"""Issue 12 end to end: a generated job with the project and outputs under a file cache
root, run by the real `stmpo run-local` (openjd-sessions, steps in dependency order).

- With a recording Python shim: which worker subcommands run, in which order, with
  which settings (runs here, needs nothing of section A).
- With the aerender stand-in and the `lfs` stand-in (resources/lfs_standin.py, section
  A; skipped with the reason when it or the worker's cache subcommands are missing):
  what was released and restored before the first aerender start, every rendered frame
  archived exactly once after the render, and a failed archive fails the job.
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stmpo.locations import aerender_standin, resources_dir, worker_scripts_dir

PY = sys.executable
LFS_STANDIN = resources_dir() / "lfs_standin.py"

pytestmark = pytest.mark.slow


def write_scene(root: Path) -> tuple[Path, Path, Path]:
    """(export, cache root, project): one item, frames 0-5, project and outputs under
    the cache root `<root>/cache/show`, with the aerender stand-in's sidecar."""
    cache = root / "cache" / "show"
    project = cache / "spot.aep"
    project.parent.mkdir(parents=True)
    project.write_bytes(b"stand-in project\n")
    pattern = str(cache / "out" / "a_[#####].png")
    export = {
        "format": "stmpo-ae-export",
        "version": 1,
        "host": {"app": "After Effects", "version": "24.6.2", "os": "linux"},
        "project": {"path": str(project), "displayStartFrame": 0},
        "renderQueue": [
            {
                "index": 1,
                "render": True,
                "status": "QUEUED",
                "comp": {"name": "MAIN", "frameRate": 25.0, "duration": 2.0},
                "frames": {"start": 0, "end": 5, "step": 1},
                "outputModules": [{"index": 1, "path": pattern, "kind": "sequence"}],
            }
        ],
    }
    sidecar = {"frameRate": 25, "items": {"1": {"comp": "MAIN", "outputs": [pattern]}}}
    Path(f"{project}.standin.json").write_text(json.dumps(sidecar), encoding="utf-8")
    path = root / "export.json"
    path.write_text(json.dumps(export), encoding="utf-8")
    return path, cache, project


def stmpo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def make_bundle(tmp_path: Path, cache: Path) -> Path:
    export = tmp_path / "export.json"
    out = tmp_path / "bundle"
    done = stmpo(
        "bundle", str(export), "-o", str(out), "-p", f"CacheRootPaths={cache}", "-p", "ChunkSize=3"
    )
    assert done.returncode == 0, done.stderr
    return out


def test_run_local_runs_the_cache_steps_around_the_render(tmp_path: Path) -> None:
    """Cache refresh before the render step's environment and tasks, one write-back per
    render task with the same frames after the whole render step, the check last; every
    action sees the cache settings."""
    _, cache, _ = write_scene(tmp_path)
    bundle = make_bundle(tmp_path, cache)
    record = tmp_path / "argv.jsonl"
    shim = tmp_path / "fake-python"
    shim.write_text(
        f"#!{PY}\n"
        "import json, os, sys\n"
        "env = {k: v for k, v in os.environ.items() if k[:9] in ('STMPO_CAC', 'STMPO_LFS')}\n"
        f"with open({str(record)!r}, 'a', encoding='utf-8') as f:\n"
        "    f.write(json.dumps([sys.argv[2:], env]) + '\\n')\n",
        encoding="utf-8",
    )
    shim.chmod(0o755)
    done = stmpo("run-local", str(bundle), "-p", f"Python={shim}", "-p", "LfsCommand=/opt/lfs x")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    calls = [json.loads(line) for line in record.read_text("utf-8").splitlines()]
    commands = [
        argv[0] + "".join(f" {a}" for a in argv if a.startswith("--frames=")) for argv, _ in calls
    ]
    assert commands == [
        "cache-refresh",
        "prepare-outputs",
        "render --frames=0-2",
        "render --frames=3-5",
        "remove-fonts",
        "cache-writeback --frames=0-2",
        "cache-writeback --frames=3-5",
        "cache-check",
    ]
    for argv, env in calls:
        assert env["STMPO_CACHE_ROOT_PATHS"] == str(cache), argv
        assert env["STMPO_LFS_COMMAND"] == "/opt/lfs x"
        assert env["STMPO_CACHE_POLL_TIMEOUT_SEC"] in ("3600", "3600.0")
    writebacks = [argv for argv, _ in calls if argv[0] == "cache-writeback"]
    assert all("--item=rq001" in argv for argv in writebacks)


def _needs_section_a() -> None:
    if not LFS_STANDIN.is_file():
        pytest.skip("resources/lfs_standin.py (issue 12 section A) is not on this branch yet")
    help_text = subprocess.run(
        [PY, str(worker_scripts_dir() / "stmpo_render.py"), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    if "cache-refresh" not in help_text:
        pytest.skip("the worker's cache-* subcommands (issue 12 section A) are not here yet")


def _lfs_calls(log: Path) -> list[tuple[float, str, list[str]]]:
    """(time, hsm subcommand, paths) per call in the stand-in's log (one JSON line per
    call with its time and args)."""
    calls = []
    for line in log.read_text("utf-8").splitlines():
        record: dict[str, Any] = json.loads(line)
        args = [str(a) for a in record["args"]]
        at = float(record.get("time", record.get("t", 0.0)))
        [index] = [i for i, a in enumerate(args) if a.startswith("hsm_")][:1] or [-1]
        if index < 0:
            continue
        paths = [a for a in args[index + 1 :] if not a.startswith("-")]
        calls.append((at, args[index], paths))
    return calls


def _run_with_standins(
    tmp_path: Path, extra_env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], Path, Path, Path]:
    _, cache, project = write_scene(tmp_path)
    bundle = make_bundle(tmp_path, cache)
    state, log, trace = (
        tmp_path / "lfs_state.json",
        tmp_path / "lfs.jsonl",
        tmp_path / "trace.jsonl",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STANDIN_", "LFS_STANDIN"))}
    env.update(LFS_STANDIN_STATE=str(state), LFS_STANDIN_LOG=str(log), LFS_STANDIN_DELAY_SEC="0")
    lfs = shlex.join([PY, str(LFS_STANDIN)])
    # The project was archived to the origin long ago: the refresh may release it.
    seeded = subprocess.run(
        [*shlex.split(lfs), "hsm_archive", str(project)], env=env, capture_output=True, text=True
    )
    assert seeded.returncode == 0, seeded.stderr
    log.unlink(missing_ok=True)
    env.update(LFS_STANDIN_DELAY_SEC="0.2", STANDIN_TRACE=str(trace), **extra_env)
    done = stmpo(
        "run-local",
        str(bundle),
        "-p",
        f"Python={PY}",
        "-p",
        f"AerenderPath={aerender_standin()}",
        "-p",
        f"LfsCommand={lfs}",
        "-p",
        "Concurrency=2",
        "-p",
        "SpawnDelay=0",
        "-p",
        "CachePollTimeoutSec=60",
        env=env,
    )
    return done, cache, log, trace


def test_the_job_refreshes_inputs_first_and_archives_each_frame_once(tmp_path: Path) -> None:
    _needs_section_a()
    done, cache, log, trace = _run_with_standins(tmp_path, {})
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    calls = _lfs_calls(log)
    starts = [
        json.loads(line)["t"]
        for line in trace.read_text("utf-8").splitlines()
        if json.loads(line)["event"] == "start"
    ]
    first_start, last_start = min(starts), max(starts)
    project = str(cache / "spot.aep")
    released = [p for at, sub, paths in calls if sub == "hsm_release" for p in paths]
    restored = [p for at, sub, paths in calls if sub == "hsm_restore" for p in paths]
    assert released == [project] and restored == [project]
    assert all(at < first_start for at, sub, _ in calls if sub in ("hsm_release", "hsm_restore"))
    archived = [p for _, sub, paths in calls if sub == "hsm_archive" for p in paths]
    frames = sorted(str(cache / "out" / f"a_{n:05d}.png") for n in range(6))
    assert sorted(archived) == frames  # each rendered frame exactly once, nothing else
    assert all(at > last_start for at, sub, _ in calls if sub == "hsm_archive")
    assert calls[-1][1] == "hsm_state"  # the check comes last


def test_a_failed_archive_fails_the_job_naming_the_file(tmp_path: Path) -> None:
    _needs_section_a()
    done, _, _, _ = _run_with_standins(tmp_path, {"LFS_STANDIN_FAIL": "archive:*a_00004.png"})
    assert done.returncode != 0
    assert "a_00004.png" in done.stdout + done.stderr
