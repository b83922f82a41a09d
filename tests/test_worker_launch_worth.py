"""A process is never planned for fewer frames than its launch is worth (issue 11), and the
submitter's preview plans each task as the worker does.

Through the real programs: the worker's `render --dry-run` (with and without the
session's observed timings), the submitter's preview on a big host, and the two
compared task by task for an item that ChunkSize cuts into tasks.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from stmpo._worker_scripts.stmpo_worker import cli
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo._worker_scripts.stmpo_worker.planning import HostFacts, StmpoSettings, plan_render
from stmpo._worker_scripts.stmpo_worker.timings import read_timings, record_timings
from stmpo.locations import resources_dir

EXAMPLE = resources_dir() / "examples" / "image_sequence.json"
#: A 256-thread, 1 TB worker in two NUMA nodes.
EPYC = HostFacts(256, 1024.0, (tuple(range(128)), tuple(range(128, 256))), "linux")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    import os

    for name in list(os.environ):
        if name.startswith("STMPO_"):
            monkeypatch.delenv(name)
    return monkeypatch


def dry_run(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    """The worker's plan lines for `render --dry-run argv`."""
    code = cli.main(["render", "--rqindex=1", "--project=p.aep", "--dry-run", *argv])
    out = capsys.readouterr().out
    assert code == 0, out
    return [line.removeprefix("STMPO: ") for line in out.splitlines()]


def test_ten_frames_on_a_big_host_get_two_processes_not_four() -> None:
    for mfr_off in (False, True):
        plan = plan_render(EPYC, StmpoSettings(disable_mfr=mfr_off), 0, 9, 1, movie=False)
        assert plan.processes == 2
        assert plan.limited_by == "launch"
        assert plan.ranges == [(0, 4), (5, 9)]
        assert any(
            r.startswith("10 frames: 2 processes, a launch costs ~30 s") for r in plan.reasons
        )
    # a process gets at least 5 frames: 9 frames are one process, 1000 are not bound by it
    assert plan_render(EPYC, StmpoSettings(), 0, 8, 1, movie=False).processes == 1
    assert plan_render(EPYC, StmpoSettings(), 0, 999, 1, movie=False).processes == 16


def test_the_submitter_preview_of_ten_frames_on_a_big_host(
    make_dialog: Any, tmp_path: Path
) -> None:
    target = tmp_path / "image_sequence.json"
    shutil.copyfile(EXAMPLE, target)
    tab = make_dialog(target).job_settings
    tab.preview_cpus.setValue(64)
    tab.preview_ram.setValue(256.0)
    tab.profile_combo.setCurrentText("Farm")  # MFR off: 8 processes by CPU and RAM
    tab.queue_table.item(0, 2).setText("0-9")
    [preview] = tab.previews
    assert preview.processes == 2
    assert any("a launch costs ~30 s" in line for line in preview.reasons)


def test_observed_timings_weigh_the_launch(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    """What the session saw (timings.py) replaces the assumption: a 120 s startup and
    2 s frames make a launch worth 90 frames."""
    timings = tmp_path / "stmpo_timings.json"
    assert record_timings(str(timings), 120.0, 2.0)
    observed = read_timings(str(timings))
    assert observed is not None and (observed.startup, observed.frame) == (120.0, 2.0)
    plan = plan_render(EPYC, StmpoSettings(), 0, 199, 1, movie=False, timings=observed)
    assert plan.processes == 2
    lines = dry_run(capsys, "--frames=0-99", "--concurrency=2", f"--timings={timings}")
    assert any(
        "launch costs ~120 s" in line and "observed in this session" in line and "90 frames" in line
        for line in lines
    ), lines
    # nothing known: the conservative assumption
    lines = dry_run(capsys, "--frames=0-99", "--concurrency=2", f"--timings={tmp_path / 'none'}")
    assert not any("observed in this session" in line for line in lines)


def test_timings_never_replace_a_file_stmpo_did_not_write(tmp_path: Path) -> None:
    theirs = tmp_path / "stmpo_timings.json"
    theirs.write_text('{"startup": 1, "frame": 1}', encoding="utf-8")
    assert not record_timings(str(theirs), 30.0, 5.0)
    assert theirs.read_text(encoding="utf-8") == '{"startup": 1, "frame": 1}'
    assert read_timings(str(theirs)) is None  # not ours: nothing known
    for bad in ("nan", "-1", "1e300", '"10"'):
        damaged = tmp_path / f"damaged{len(bad)}.json"
        damaged.write_text(f'{{"stmpoTimings": 1, "startup": {bad}, "frame": 2}}', "utf-8")
        assert read_timings(str(damaged)) is None
    assert not record_timings(str(tmp_path / "new.json"), float("inf"), 2.0)
    assert not (tmp_path / "new.json").exists()


def test_the_preview_plans_each_task_as_the_worker_does(
    make_dialog: Any,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    clean_env: pytest.MonkeyPatch,
) -> None:
    """ChunkSize 10 cuts 0-47 into 5 tasks; for each, the preview and the worker's
    `render --frames=S-E --dry-run` plan the same processes and ranges."""
    target = tmp_path / "image_sequence.json"
    shutil.copyfile(EXAMPLE, target)
    tab = make_dialog(target).job_settings
    tab.chunk_size.setValue(10)
    tab.stmpo_controls["Concurrency"].setValue(4)
    tab.stmpo_controls["DisableAffinity"].setChecked(True)
    tab.stmpo_controls["SplitStrategy"].setCurrentText("static")
    [preview] = tab.previews
    assert [(t.first, t.last) for t in preview.tasks] == [
        (0, 9),
        (10, 19),
        (20, 29),
        (30, 39),
        (40, 47),
    ]
    assert preview.frames == 48
    assert "split static" in preview.summary
    item = tab.export.render_queue[0]
    payload = {
        "comp": item.comp.name,
        "outputs": [
            {"index": om.index, "path": om.path, "kind": om.resolved_kind}
            for om in item.output_modules
        ],
    }
    for task in preview.tasks:
        lines = dry_run(
            capsys,
            f"--frames={task.first}-{task.last}",
            f"--item-b64={encode_b64_json(payload)}",
            "--concurrency=4",
            "--disable-affinity=true",
            "--split-strategy=static",
        )
        head = f"plan: {task.frames} frames in {task.processes} processes, split strategy static"
        assert lines[0] == head
        children = [line for line in lines if line.startswith("c") and ": frames " in line]
        assert children == list(task.children)
    assert json.dumps(preview.task_lines) == json.dumps(
        ["tasks 1-4: 10 frames \u2192 4 processes each", "task 5: 8 frames \u2192 4 processes each"]
    )


def test_a_real_render_records_what_the_next_task_plans_with(tmp_path: Path) -> None:
    """A task measures its launch and frame times (the Scheduler, from the stand-in's
    progress lines) and leaves them in the session's timings file; the session's next
    task plans with them: 'observed in this session', not the assumed 30 s / 10 s."""
    from stmpo_worker_harness import base_env, make_scene, render_argv, run

    scene = make_scene(tmp_path)
    timings = tmp_path / "session" / "stmpo_timings.json"
    timings.parent.mkdir()
    env = base_env(scene, STANDIN_STARTUP_SLEEP_SEC="0.3", STANDIN_FRAME_SEC="0.05")
    result = run(render_argv(scene, "0-9", "--concurrency", "2", f"--timings={timings}"), env)
    assert result.returncode == 0, result.stdout
    seen = read_timings(str(timings))
    assert seen is not None and seen.observed
    assert 0.0 < seen.frame < 5.0 and 0.0 < seen.startup < 30.0
    # the next task's plan (a big host, where the launch bound decides) uses them
    plan = plan_render(EPYC, StmpoSettings(), 0, 9, 1, movie=False, timings=seen)
    assert any("observed in this session" in reason for reason in plan.reasons), plan.reasons
