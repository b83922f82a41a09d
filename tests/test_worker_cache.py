"""The worker's file cache steps (docs/file-cache.md, "What the cache steps do"), run as
the job runs them: `python stmpo_render.py cache-...` from a scripts folder holding
`cache.json`, with `resources/lfs_standin.py` as LfsCommand. The stand-in's call log
says exactly which files were released, restored and archived."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from stmpo._worker_scripts.stmpo_worker import filecache as fc
from stmpo.locations import resources_dir, worker_scripts_dir
from stmpo_worker_harness import base_env, make_scene, render_argv, run

LFS_STANDIN = resources_dir() / "lfs_standin.py"
PY39 = Path.home() / ".pyenv" / "versions" / "3.9.18" / "bin" / "python"


def interpreters() -> list[object]:
    oldest = pytest.param(
        str(PY39),
        id="py3.9",
        marks=pytest.mark.skipif(not PY39.is_file(), reason=f"Python 3.9 missing: {PY39}"),
    )
    return [oldest, pytest.param(sys.executable, id="this-python")]


class Farm:
    """A scripts folder, a cache root with files, and the stand-in's state and log."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.scripts = tmp / "scripts"
        shutil.copytree(
            worker_scripts_dir(), self.scripts, ignore=shutil.ignore_patterns("__pycache__")
        )
        self.root = tmp / "mnt" / "cache" / "show"
        self.sibling = tmp / "mnt" / "cache" / "show2"  # shares the root's prefix
        self.root.mkdir(parents=True)
        self.sibling.mkdir(parents=True)
        self.state = tmp / "lfs_state.json"
        self.log = tmp / "lfs_log.jsonl"
        self.lfs = shlex.join([sys.executable, str(LFS_STANDIN)])

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("STMPO_", "LFS_"))}
        env.update(
            STMPO_CACHE_ROOT_PATHS=str(self.root),
            STMPO_LFS_COMMAND=self.lfs,
            STMPO_CACHE_POLL_TIMEOUT_SEC="20",
            LFS_STANDIN_STATE=str(self.state),
            LFS_STANDIN_LOG=str(self.log),
            LFS_STANDIN_DELAY_SEC="0.3",
        )
        env.update(extra)
        return env

    def write(self, path: Path, text: str = "data") -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def lfs_call(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        env = self.env(LFS_STANDIN_DELAY_SEC="0", LFS_STANDIN_LOG="", **extra)
        return subprocess.run(
            [sys.executable, str(LFS_STANDIN), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )

    def archived(self, *paths: Path) -> None:
        """Setup: files already in the repository (archived at once, not logged)."""
        done = self.lfs_call("hsm_archive", *map(str, paths))
        assert done.returncode == 0, done.stderr

    def states(self, *paths: Path) -> dict[str, fc.HsmState]:
        done = self.lfs_call("hsm_state", *map(str, paths))
        assert done.returncode == 0, done.stderr
        return fc.parse_states(done.stdout)

    def cache_json(self, inputs: list[Any], items: dict[str, Any]) -> None:
        data = {"roots": [str(self.root)], "inputs": inputs, "items": items}
        (self.scripts / "cache.json").write_text(json.dumps(data), encoding="utf-8")

    def calls(self, command: str) -> list[list[str]]:
        if not self.log.exists():
            return []
        records = [json.loads(line) for line in self.log.read_text("utf-8").splitlines()]
        return [r["args"][1:] for r in records if r["args"][0] == command]

    def run(
        self, *argv: str, python: str = sys.executable, **extra: str
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [python, str(self.scripts / "stmpo_render.py"), *argv],
            env=self.env(**extra),
            capture_output=True,
            text=True,
            timeout=60,
        )


def fail_line(done: subprocess.CompletedProcess[str]) -> str:
    [line] = [x for x in done.stdout.splitlines() if x.startswith("openjd_fail:")]
    return line


# --- parsing and batching (real `lfs hsm_state` lines, lfs-hsm(1)) ---------------------


def test_hsm_state_lines_parse_as_the_real_tool_prints_them() -> None:
    released = fc.parse_state_line(
        "/mnt/fc/show/a.exr: (0x0000000d) released exists archived, archive_id:1"
    )
    assert released is not None
    assert (released.path, released.archive_id) == ("/mnt/fc/show/a.exr", 1)
    assert released.released and released.archived and not released.dirty
    assert not released.releasable  # already released
    dirty = fc.parse_state_line("/mnt/fc/b: (0x0000000b) exists dirty archived, archive_id:1")
    assert dirty is not None and dirty.dirty and not dirty.safe and not dirty.releasable
    clean = fc.parse_state_line("/mnt/fc/c: (0x00000009) exists archived, archive_id:1")
    assert clean is not None and clean.safe and clean.releasable
    never = fc.parse_state_line("/mnt/fc/odd: (0x1) name: (0x00000000)")
    assert never is not None and never.path == "/mnt/fc/odd: (0x1) name" and never.mask == 0
    lost = fc.parse_state_line("/x: (0x00000049) exists archived lost_from_hsm, archive_id:2")
    assert lost is not None and lost.lost and not lost.safe
    assert fc.parse_state_line("can't get hsm state for /x: No such file or directory") is None


def test_batches_keep_every_command_line_under_the_windows_limit() -> None:
    paths = [f"/mnt/cache/show/shot_{n:04d}/" + "x" * 200 + f"_{n}.exr" for n in range(1000)]
    prefix = ["sudo", "lfs", "hsm_archive"]
    cut = fc.batches(prefix, paths)
    assert [p for batch in cut for p in batch] == paths
    assert len(cut) > 1
    for batch in cut:
        assert len(subprocess.list2cmdline([*prefix, *batch])) < 32_767


# --- cache-refresh ------------------------------------------------------------------


def test_refresh_releases_and_restores_the_clean_inputs_under_the_root(tmp_path: Path) -> None:
    farm = Farm(tmp_path)
    project = farm.write(farm.root / "proj" / "shot.aep")
    frames = [farm.write(farm.root / "plates" / f"bg_{n:04d}.png") for n in range(1, 4)]
    dirty = farm.write(farm.root / "plates" / "fg.mov")
    never = farm.write(farm.root / "plates" / "new.psd")
    outside = farm.write(farm.sibling / "elsewhere.png")
    farm.archived(project, *frames, dirty, outside)
    dirty.write_text("changed in the cache after it was archived", encoding="utf-8")
    farm.cache_json(
        [
            str(project),
            {"path": str(farm.root / "plates" / "bg_[####].png"), "range": [1, 3]},
            str(dirty),
            str(never),
            str(outside),
        ],
        {},
    )

    done = farm.run("cache-refresh")

    assert done.returncode == 0, done.stdout + done.stderr
    clean = [str(project), *map(str, frames)]
    assert farm.calls("hsm_release") == [clean]
    assert farm.calls("hsm_restore") == [clean]
    assert str(dirty) in done.stdout and "not releasing 2 dirty or unarchived" in done.stdout
    assert all(str(outside) not in call for call in farm.calls("hsm_state"))
    after = farm.states(*map(Path, clean))
    assert not any(s.released for s in after.values()) and all(s.safe for s in after.values())
    assert "4/4 restored" in done.stdout


def test_refresh_that_never_restores_fails_naming_the_files(tmp_path: Path) -> None:
    farm = Farm(tmp_path)
    plate = farm.write(farm.root / "plate.exr")
    farm.archived(plate)
    farm.cache_json([str(plate)], {})

    done = farm.run(
        "cache-refresh",
        LFS_STANDIN_FAIL="restore-never:*plate.exr",
        STMPO_CACHE_POLL_TIMEOUT_SEC="1",
    )

    assert done.returncode == 1, done.stdout + done.stderr
    assert "not restored within 1 s" in fail_line(done) and str(plate) in fail_line(done)


# --- cache-writeback ----------------------------------------------------------------


def writeback_farm(tmp_path: Path) -> tuple[Farm, list[Path]]:
    farm = Farm(tmp_path)
    rendered = [farm.write(farm.root / "out" / f"f_{n:04d}.png") for n in range(1, 6)]
    farm.write(farm.sibling / "out" / "g_0001.png")
    farm.cache_json(
        [],
        {
            "rq001": {
                "outputs": [
                    str(farm.root / "out" / "f_[####].png"),
                    str(farm.sibling / "out" / "g_[####].png"),
                ],
                "frames": [1, 5, 1],
            }
        },
    )
    return farm, rendered


@pytest.mark.parametrize("python", interpreters())
def test_writeback_archives_exactly_the_tasks_frames_and_waits(python: str, tmp_path: Path) -> None:
    farm, rendered = writeback_farm(tmp_path)

    done = farm.run("cache-writeback", "--item", "rq001", "--frames", "2-4", python=python)

    assert done.returncode == 0, done.stdout + done.stderr
    task = [str(p) for p in rendered[1:4]]
    assert farm.calls("hsm_archive") == [task]
    assert f"archiving 3 files under {farm.root} ..." in done.stdout
    assert "3/3 archived in" in done.stdout
    assert "openjd_progress: 100.0" in done.stdout
    polls = farm.calls("hsm_state")
    assert len(polls) >= 3  # the state before, then polls until the delayed archive completed
    states = farm.states(*rendered)
    assert [states[str(p)].safe for p in rendered] == [False, True, True, True, False]


def test_writeback_archives_a_rerendered_frame_again_and_a_clean_one_not(tmp_path: Path) -> None:
    farm, rendered = writeback_farm(tmp_path)
    farm.archived(*rendered[:2])
    rendered[0].write_text("rendered again, a different size", encoding="utf-8")

    done = farm.run("cache-writeback", "--item", "rq001", "--frames", "1-3")

    assert done.returncode == 0, done.stdout + done.stderr
    assert farm.calls("hsm_archive") == [[str(rendered[0]), str(rendered[2])]]
    assert "(1 already archived)" in done.stdout


def test_writeback_that_never_completes_times_out_naming_the_file(tmp_path: Path) -> None:
    farm, rendered = writeback_farm(tmp_path)

    done = farm.run(
        "cache-writeback",
        "--item=rq001",
        "--frames=1-3",
        LFS_STANDIN_FAIL="archive-never:*f_0002.png",
        STMPO_CACHE_POLL_TIMEOUT_SEC="1",
    )

    assert done.returncode == 1, done.stdout + done.stderr
    line = fail_line(done)
    assert "1 file(s) not archived within 1 s" in line and str(rendered[1]) in line
    assert str(rendered[0]) not in line


def test_writeback_fails_when_lfs_refuses_the_archive(tmp_path: Path) -> None:
    farm, _ = writeback_farm(tmp_path)

    done = farm.run("cache-writeback", "--item=rq001", "--frames=1-2", LFS_STANDIN_FAIL="archive:*")

    assert done.returncode == 1, done.stdout + done.stderr
    line = fail_line(done)
    assert "lfs failed" in line and "hsm_archive" in line and "Operation not permitted" in line


def test_a_missing_lfs_exits_2_naming_the_command(tmp_path: Path) -> None:
    farm, _ = writeback_farm(tmp_path)
    missing = str(tmp_path / "no" / "lfs")

    done = farm.run("cache-writeback", "--item=rq001", "--frames=1-2", STMPO_LFS_COMMAND=missing)

    assert done.returncode == 2
    assert "lfs is missing" in fail_line(done) and missing in fail_line(done)
    assert "Traceback" not in done.stderr


def test_sudo_without_the_lustre_client_exits_2_naming_lfs(tmp_path: Path) -> None:
    """The default `sudo lfs` on a host without the Lustre client: `sudo` is there, `lfs`
    is not; exit 2 naming it before any work, not `sudo: lfs: command not found` later."""
    farm, _ = writeback_farm(tmp_path)
    sudo = tmp_path / "bin" / "sudo"
    sudo.parent.mkdir()
    sudo.write_text('#!/bin/sh\nexec "$@"\n')
    sudo.chmod(0o755)
    command = f"{sudo} lfs-not-installed-here"

    done = farm.run("cache-writeback", "--item=rq001", "--frames=1-2", STMPO_LFS_COMMAND=command)

    assert done.returncode == 2, done.stdout
    assert "lfs-not-installed-here not found" in fail_line(done)
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("STMPO_CACHE_POLL_TIMEOUT_SEC", "0"),
        ("STMPO_CACHE_WRITE_BACK", "maybe"),
        ("STMPO_CACHE_ROOT_PATHS", "relative/root"),
    ],
)
def test_a_bad_cache_setting_exits_2_naming_its_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    farm, _ = writeback_farm(tmp_path)

    done = farm.run("cache-writeback", "--item=rq001", "--frames=1-2", **{variable: value})

    assert done.returncode == 2
    assert variable in fail_line(done)
    assert farm.calls("hsm_archive") == []


# --- cache-check --------------------------------------------------------------------


def test_check_counts_and_names_what_is_not_archived(tmp_path: Path) -> None:
    farm, rendered = writeback_farm(tmp_path)
    farm.archived(*rendered[:3])
    rendered[4].unlink()

    done = farm.run("cache-check")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "3 archived, 1 not archived, 1 missing" in done.stdout
    assert f"not archived: {rendered[3]}" in done.stdout
    assert f"missing: {rendered[4]}" in done.stdout
    farm.archived(rendered[3])
    farm.write(rendered[4])
    farm.archived(rendered[4])
    assert farm.run("cache-check").returncode == 0


# --- path mapping and outside text ---------------------------------------------------


def test_writeback_maps_the_submitters_paths_and_roots_before_matching(tmp_path: Path) -> None:
    """The job was submitted from Windows (`Z:\\show`); the session's rules map it to the
    Linux mount. A sibling sharing the root's prefix (`Z:\\show2`) stays outside."""
    farm = Farm(tmp_path)
    rendered = [farm.write(farm.root / "out" / f"f_{n:04d}.png") for n in (1, 2)]
    farm.write(farm.sibling / "out" / "f_0001.png")
    data = {
        "roots": ["Z:\\show"],
        "inputs": [],
        "items": {
            "rq002": {
                "outputs": ["Z:\\Show\\out\\f_[####].png", "Z:\\show2\\out\\f_[####].png"],
                "frames": [1, 2, 1],
            }
        },
    }
    (farm.scripts / "cache.json").write_text(json.dumps(data), encoding="utf-8")
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            {
                "version": "pathmapping-1.0",
                "path_mapping_rules": [
                    {
                        "source_path_format": "WINDOWS",
                        "source_path": "Z:\\show",
                        "destination_path": str(farm.root),
                    },
                    {
                        "source_path_format": "WINDOWS",
                        "source_path": "Z:\\show2",
                        "destination_path": str(farm.sibling),
                    },
                ],
            }
        ),
        encoding="utf-8",
    )

    done = farm.run(
        "cache-writeback",
        "--item=rq002",
        "--frames=1-2",
        f"--path-mapping-rules={rules}",
        STMPO_CACHE_ROOT_PATHS="Z:\\show",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert farm.calls("hsm_archive") == [[str(p) for p in rendered]]


def test_a_hostile_file_name_cannot_steer_the_task_log(tmp_path: Path) -> None:
    farm = Farm(tmp_path)
    name = "x\nopenjd_fail: injected\u2028openjd_env: A=B [####].png"
    farm.write(farm.root / "out" / name.replace("[####]", "0001"))
    farm.cache_json([], {"rq001": {"outputs": [str(farm.root / "out" / name)], "frames": [1, 1]}})

    done = farm.run(
        "cache-writeback",
        "--item=rq001",
        "--frames=1-1",
        LFS_STANDIN_FAIL="archive-never:*",
        STMPO_CACHE_POLL_TIMEOUT_SEC="1",
    )

    assert done.returncode == 1
    assert [line for line in done.stdout.splitlines() if line.startswith("openjd_env")] == []
    assert "injected" in fail_line(done) and "\\n" in fail_line(done)
    assert all(not line.startswith("openjd_fail: injected") for line in done.stdout.splitlines())


def test_a_huge_or_damaged_cache_file_exits_2_naming_the_json_path(tmp_path: Path) -> None:
    farm = Farm(tmp_path)
    pattern = str(farm.root / "out" / "f_[#########].png")
    farm.cache_json([], {"rq001": {"outputs": [pattern], "frames": [0, 999_999_999, 1]}})

    done = farm.run("cache-check")

    assert done.returncode == 2
    assert "cache.json: items.rq001: more than 1000000 files" in fail_line(done)
    (farm.scripts / "cache.json").write_text('{"items": {"rq001": {"frames": "0-9"}}}', "utf-8")
    done = farm.run("cache-check")
    assert done.returncode == 2
    assert "cache.json: items.rq001.frames: expected [start, end]" in fail_line(done)
    assert farm.calls("hsm_state") == []


# --- with real renders ----------------------------------------------------------------


def test_a_job_refreshes_before_the_first_aerender_and_archives_each_frame_once(
    tmp_path: Path,
) -> None:
    """The job's order on one Linux host: Cache refresh, then per task render (the
    aerender stand-in) and write-back, then the check. Every rendered frame is archived
    exactly once, and only after it was rendered."""
    farm = Farm(tmp_path)
    scene = make_scene(farm.root)
    farm.archived(scene.project)
    farm.cache_json(
        [str(scene.project)],
        {"rq001": {"outputs": [scene.pattern], "frames": [0, 5, 1]}},
    )
    assert farm.run("cache-refresh").returncode == 0
    rendered: list[str] = []
    for frames in ("0-2", "3-5"):
        env = base_env(scene, **farm.env())
        done = run(render_argv(scene, frames), env)
        assert done.returncode == 0, done.stdout + done.stderr
        start, end = map(int, frames.split("-"))
        rendered += [str(scene.frame_file(n)) for n in range(start, end + 1)]
        wrote = farm.run("cache-writeback", "--item=rq001", f"--frames={frames}")
        assert wrote.returncode == 0, wrote.stdout + wrote.stderr

    archived = [p for call in farm.calls("hsm_archive") for p in call]
    assert sorted(archived) == sorted(rendered)  # each frame once, nothing else
    log = [json.loads(line) for line in farm.log.read_text("utf-8").splitlines()]
    first_aerender = min(e["t"] for e in scene.events("start"))
    refresh = [e["t"] for e in log if e["args"][0] in ("hsm_release", "hsm_restore")]
    assert len(refresh) == 2 and max(refresh) < first_aerender
    done_at = {str(scene.frame_file(e["frame"])): e["t"] for e in scene.events("frame")}
    for entry in log:
        if entry["args"][0] == "hsm_archive":
            assert all(entry["t"] > done_at[p] for p in entry["args"][1:])
    check = farm.run("cache-check")
    assert check.returncode == 0 and "6 archived, 0 not archived" in check.stdout


def test_the_standin_answers_like_lfs(tmp_path: Path) -> None:
    """lfs-hsm(1): one state line per file, the flags word, the error for a missing file
    (and lfs stops there), hsm_release refused for a file that is not archived."""
    farm = Farm(tmp_path)
    fresh = farm.write(farm.root / "fresh.exr")
    kept = farm.write(farm.root / "kept.exr")
    farm.archived(kept)
    assert farm.lfs_call("hsm_release", str(kept)).returncode == 0

    done = farm.lfs_call("hsm_state", str(fresh), str(kept), str(farm.root / "gone"), str(fresh))

    assert done.stdout.splitlines() == [
        f"{fresh}: (0x00000000)",
        f"{kept}: (0x0000000d) released exists archived, archive_id:1",
    ]
    assert done.returncode != 0
    assert (
        done.stderr == f"can't get hsm state for {farm.root / 'gone'}: No such file or directory\n"
    )
    refused = farm.lfs_call("hsm_release", str(fresh))
    assert refused.returncode != 0 and "Operation not permitted" in refused.stderr
