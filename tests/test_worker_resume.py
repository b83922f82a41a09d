"""Resume after a task retry (issue 11, docs/stmpo-worker.md "Resume"): the real worker
with the aerender stand-in renders a task, then runs it again as Deadline's retry would
(same job id, same frames). Frames the earlier attempt of this job verified are reused;
frames it did not (deleted, changed, left by another job or by nothing stmpo knows) are
rendered again. The stand-in's trace (STANDIN_TRACE) records every file it writes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.cli import build_parser
from stmpo._worker_scripts.stmpo_worker.journal import missing_runs
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo_worker_harness import Scene, base_env, make_scene, render_argv, run
from test_worker_job_files import bundle_for, interpreters, job_env, worker

FRAMES = "0-11"
ALL = set(range(12))


def journals(scene: Scene) -> list[Path]:
    folder = scene.out_dir / ".stmpo"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def written(scene: Scene) -> list[int]:
    """Frame numbers the stand-in wrote since the trace was last cleared, in order."""
    return sorted(int(Path(e["path"]).stem.split("_")[-1]) for e in scene.events("write"))


def render(
    scene: Scene, job: str | None, *extra: str, item: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = base_env(scene)
    env.pop("DEADLINE_JOB_ID", None)
    if job is not None:
        env["DEADLINE_JOB_ID"] = job
    # static: which frames a retry writes is under test; a dynamic hand-over of the
    # stand-in's instant frames may legitimately render one frame twice (the race rule)
    argv = render_argv(
        scene, FRAMES, "--concurrency", "2", "--disable-affinity", "true",
        "--split-strategy", "static", *extra,
    )  # fmt: skip
    if item is not None:
        argv[argv.index("--item-b64") + 1] = item
    result = run(argv, env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def retry(
    scene: Scene, job: str | None, *extra: str, item: str | None = None
) -> tuple[str, list[int]]:
    """Run the task again, as a retry; its log and the frames it wrote."""
    scene.trace.unlink(missing_ok=True)
    result = render(scene, job, *extra, item=item)
    return result.stdout, written(scene)


def mtimes(scene: Scene) -> dict[int, int]:
    return {f: scene.frame_file(f).stat().st_mtime_ns for f in scene.frames_on_disk()}


def test_a_retry_renders_only_the_frames_that_are_gone_or_changed(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    render(scene, "job-1a2b")
    assert written(scene) == sorted(ALL)
    assert len(journals(scene)) == 1
    scene.frame_file(4).unlink()
    scene.frame_file(5).unlink()
    damaged = scene.frame_file(9)
    damaged.write_bytes(damaged.read_bytes()[:20])  # a write cut short: still a file
    before = mtimes(scene)

    log, again = retry(scene, "job-1a2b")

    assert again == [4, 5, 9]
    assert (
        "STMPO: resume: 9 of 12 frames already rendered by an earlier attempt of this job; "
        "rendering 3 in 2 run(s)"
    ) in log
    starts = sorted((e["s"], e["e"]) for e in scene.events("start"))
    assert starts == [(4, 5), (9, 9)]  # one launch per run, no frame twice
    after = mtimes(scene)
    for frame in ALL - {4, 5, 9}:
        assert after[frame] == before[frame], frame  # untouched
    assert scene.frames_on_disk() == ALL
    assert log.splitlines()[-1].startswith("STMPO summary: 3/3 frames")

    # The retry journaled its frames too: a third attempt renders nothing at all.
    log, again = retry(scene, "job-1a2b")
    assert again == [] and scene.events("start") == []
    assert "resume: 12 of 12 frames already rendered" in log
    assert "openjd_progress: 100.0" in log


def test_frames_of_another_job_or_of_no_journal_are_rendered_again(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    for frame in ALL:  # an earlier version of the shot, rendered by something else
        scene.frame_file(frame).write_bytes(b"old version")
    log, again = retry(scene, "job-aaaa")
    assert again == sorted(ALL) and "resume: 0 of" not in log

    log, again = retry(scene, "job-bbbb")  # another job: its frames are not ours
    assert again == sorted(ALL)
    assert "already rendered" not in log

    log, again = retry(scene, "job-bbbb")  # its own retry reuses them all
    assert again == []
    assert len(journals(scene)) == 2


def test_damaged_journal_lines_are_skipped_with_one_warning(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    render(scene, "job-dmg")
    [journal] = journals(scene)
    lines = journal.read_text("ascii").splitlines()
    entries = {json.loads(line)["frame"]: n for n, line in enumerate(lines) if '"frame"' in line}
    lines[entries[2]] = lines[entries[2]][:25]  # cut mid-write
    lines[entries[7]] = '{"frame": 7, "files": "not a list"}'
    lines += ["\x00\xff garbage", "[1, 2]", '{"frame": true, "files": []}', "{" * 5000]
    journal.write_text("\n".join(lines) + "\n", "latin-1")

    log, again = retry(scene, "job-dmg")

    assert again == [2, 7]
    warnings = [line for line in log.splitlines() if "damaged line" in line]
    assert len(warnings) == 1 and warnings[0].startswith("STMPO: warning: resume: 6 damaged")
    assert "Traceback" not in log


def test_a_file_at_the_journal_path_that_is_not_ours_is_left_alone(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    render(scene, "job-own")
    [journal] = journals(scene)
    theirs = b"someone else's notes\n"
    journal.write_bytes(theirs)

    log, again = retry(scene, "job-own")

    assert again == sorted(ALL)  # not read: nothing is reused
    assert journal.read_bytes() == theirs  # nor appended to
    assert "not this task's journal" in log


def test_a_dot_stmpo_that_is_not_our_folder_is_left_alone(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    theirs = scene.out_dir / ".stmpo"
    theirs.write_bytes(b"a file of the artist's\n")
    log, again = retry(scene, "job-own")
    assert again == sorted(ALL)
    assert theirs.read_bytes() == b"a file of the artist's\n"
    [warning] = [line for line in log.splitlines() if line.startswith("STMPO: warning: resume")]
    assert "ignored (Not a directory): rendering every frame" in warning


def test_a_movie_output_is_always_rendered_whole(tmp_path: Path) -> None:
    scene = make_scene(tmp_path, sidecar=False)
    movie = str(scene.out_dir / "review.mov")
    Path(str(scene.project) + ".standin.json").write_text(
        json.dumps({"items": {"1": {"outputs": [movie]}}})
    )
    item = scene.item_b64("movie", movie)
    for _attempt in range(2):
        log, _ = retry(scene, "job-mov", item=item)
        assert [(e["s"], e["e"]) for e in scene.events("start")] == [(0, 11)]
        assert "STMPO: resume: off (a movie output is one file, always rendered whole)" in log
    assert journals(scene) == []


def test_skip_existing_off_renders_everything(tmp_path: Path) -> None:
    """SkipExisting false (section B's `--skip-existing` flag and job parameter)."""
    render_parser = build_parser()._subparsers._group_actions[0].choices["render"]  # type: ignore[union-attr]
    if "--skip-existing" not in render_parser._option_string_actions:
        pytest.skip("the --skip-existing flag comes with issue 11 section B")
    scene = make_scene(tmp_path)
    render(scene, "job-off", "--skip-existing=false")
    _log, again = retry(scene, "job-off", "--skip-existing=false")
    assert again == sorted(ALL)


def test_the_render_id_names_the_journal_without_a_deadline_job_id(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    data = {"comp": "MAIN", "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence"}]}
    mine = encode_b64_json({**data, "renderId": "0f3c9a11"})
    render(scene, None, item=mine)
    scene.frame_file(3).unlink()
    _log, again = retry(scene, None, item=mine)
    assert again == [3]
    other = encode_b64_json({**data, "renderId": "77aa"})
    _log, again = retry(scene, None, item=other)
    assert again == sorted(ALL)
    log, again = retry(scene, None, item=encode_b64_json(data))  # neither: no journal
    assert again == sorted(ALL)
    assert "STMPO: resume: off (no DEADLINE_JOB_ID and no renderId in the item file)" in log


def test_a_bad_render_id_is_exit_2_naming_it(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    data = {"comp": "MAIN", "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence"}]}
    argv = render_argv(scene, FRAMES, item=encode_b64_json({**data, "renderId": "../x"}))
    result = run(argv, base_env(scene))
    assert result.returncode == 2
    [fail] = [line for line in result.stdout.splitlines() if line.startswith("openjd_fail:")]
    assert "--item-b64: renderId" in fail
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("python", interpreters())
def test_a_bundle_run_twice_without_deadline_resumes_by_its_render_id(
    python: str, tmp_path: Path
) -> None:
    """`openjd run` / run-local: no DEADLINE_JOB_ID; the bundle's item file carries a
    random render id, a new one per bundle."""
    scene = make_scene(tmp_path)
    bundle = bundle_for(scene, tmp_path)
    item_file = json.loads((bundle / "scripts" / "items" / "rq001.json").read_text())
    env = job_env(scene, STMPO_CONCURRENCY="2", STMPO_DISABLE_AFFINITY="true")
    env.pop("DEADLINE_JOB_ID", None)
    args = ("render", "--item=rq001", "--frames=0-3")
    first = worker(python, bundle, env, *args)
    assert first.returncode == 0, first.stdout + first.stderr
    scene.frame_file(2).unlink()
    scene.trace.unlink()
    second = worker(python, bundle, env, *args)
    assert second.returncode == 0, second.stdout + second.stderr
    assert written(scene) == [2]
    assert [p.name.split(".")[0] for p in journals(scene)] == ["render-" + item_file["renderId"]]
    (tmp_path / "again").mkdir()
    again = bundle_for(scene, tmp_path / "again")
    other = json.loads((again / "scripts" / "items" / "rq001.json").read_text())
    assert other["renderId"] != item_file["renderId"]


def test_missing_runs_never_skip_or_repeat_a_frame() -> None:
    """The runs a resumed task renders (the Scheduler hands them out without ever
    spanning a gap: tests/test_worker_schedule.py)."""
    assert missing_runs(0, 20, 2, [4, 6, 12, 20, 3, 99]) == [(0, 2), (8, 10), (14, 18)]
    assert missing_runs(-5, 5, 1, range(-5, 6)) == []
    assert missing_runs(0, 10**9, 1, [5]) == [(0, 4), (6, 10**9)]  # never materialised
