"""`stmpo_render.py render` end to end: real processes, the aerender stand-in, real files."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.logtext import MAX_LINE
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo._worker_scripts.stmpo_worker.progress import parse_measured
from stmpo_worker_harness import (
    STANDIN,
    Scene,
    base_env,
    cleanup,
    make_scene,
    protocol_values,
    render_argv,
    run,
    survivors,
    under_subreaper,
    wait_for,
    write_windows_rules,
)

pytestmark = pytest.mark.slow

LOG_LINE = re.compile(r"^(\[c\d+ f-?\d+--?\d+\] |STMPO|openjd_(progress|status|fail): )")


def _png_ok(data: bytes) -> bool:
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return False
    at, idat = 8, b""
    while at < len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        crc = int.from_bytes(data[at + 8 + length : at + 12 + length], "big")
        if zlib.crc32(kind + body) != crc:
            return False
        if kind == b"IDAT":
            idat += body
        at += 12 + length
    return len(zlib.decompress(idat)) > 0


def test_renders_exactly_the_requested_frames_split_across_children(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    # Static split: the test checks the fixed cut (a dynamic hand-over under load would
    # add a launch whose range overlaps the shortened one's -s/-e).
    argv = render_argv(scene, "3-40", "--step", "3", "--concurrency", "3")
    result = run([*argv, "--split-strategy", "static"], base_env(scene))
    assert result.returncode == 0, result.stdout + result.stderr
    wanted = set(range(3, 41, 3))
    assert scene.frames_on_disk() == wanted
    for frame in wanted:
        assert _png_ok(Path(scene.pattern.replace("[#####]", f"{frame:05d}")).read_bytes())

    starts = sorted(scene.events("start"), key=lambda r: r["s"])
    assert len(starts) == 3
    rendered = [f for r in starts for f in range(r["s"], r["e"] + 1, r["i"])]
    assert rendered == sorted(wanted)  # contiguous sub-ranges: no gap, no overlap
    for record in starts:
        argv = record["argv"]
        assert argv[argv.index("-i") + 1] == "3"
        assert argv[argv.index("-mfr") + 1 : argv.index("-mfr") + 3] == ["ON", "100"]
        assert "-output" not in argv  # the project's own output paths

    progress = [float(v) for v in protocol_values(result.stdout, "openjd_progress")]
    assert progress and progress[-1] == 100.0
    assert progress == sorted(progress)
    assert protocol_values(result.stdout, "openjd_status")[-1].startswith("13/13 frames")
    lines = result.stdout.splitlines()
    assert all(LOG_LINE.match(line) for line in lines), [
        line for line in lines if not LOG_LINE.match(line)
    ]
    frame_lines = [line for line in lines if re.search(r"\d:\d\d:\d\d:\d\d \(\d+\)", line)]
    assert len(frame_lines) == len(wanted)
    assert "failed: none" in lines[-1] and lines[-1].startswith("STMPO summary: 13/13 frames")


def test_concurrency_two_really_runs_two_at_once(tmp_path: Path) -> None:
    """Each stand-in waits at a barrier until two have started: one at a time would fail."""
    scene = make_scene(tmp_path)
    env = base_env(
        scene,
        STANDIN_BARRIER_DIR=str(tmp_path / "barrier"),
        STANDIN_BARRIER_COUNT="2",
        STANDIN_BARRIER_TIMEOUT="30",
    )
    result = run(render_argv(scene, "0-7", "--concurrency", "2", "--split-strategy", "static"), env)
    assert result.returncode == 0, result.stdout
    starts, ends = scene.events("start"), scene.events("end")
    assert len(starts) == 2 and len(ends) == 2
    assert max(r["t"] for r in starts) < min(r["t"] for r in ends)  # the lifetimes overlap
    assert scene.frames_on_disk() == set(range(8))


@pytest.mark.parametrize("with_psutil", [True, False], ids=["psutil", "stdlib-only"])
def test_a_crash_fails_the_task_and_fail_fast_kills_every_tree(
    tmp_path: Path, with_psutil: bool
) -> None:
    """c1 crashes, c2 hangs ignoring SIGTERM; both started grandchildren: none survive,
    with psutil or, as on a bare worker Python, without it."""
    scene = make_scene(tmp_path)
    env = base_env(
        scene,
        STANDIN_FAIL="crash@2,hang@7,spawn_child,ignore_term",
        STANDIN_BARRIER_DIR=str(tmp_path / "barrier"),
        STANDIN_BARRIER_COUNT="2",
    )
    if not with_psutil:
        hide = tmp_path / "no-psutil"
        hide.mkdir()
        (hide / "psutil.py").write_text("raise ImportError('psutil hidden by the test')\n")
        env["PYTHONPATH"] = str(hide)
    try:
        result = run(render_argv(scene, "0-9", "--concurrency", "2", "--child-grace-sec", "1"), env)
        assert result.returncode == 1
        fail = protocol_values(result.stdout, "openjd_fail")
        # c1's frames 2-4 were retried once (RetryFailedRanges, default 1) and crashed again
        assert fail == [
            "aerender failed for frames c1 f0-4: exit code 3; then c3 f2-4: exit code 3; "
            "frames 2-4 not rendered after 2 attempt(s) (no retry left)"
        ]
        summary = result.stdout.splitlines()[-2]
        assert summary.startswith("STMPO summary:") and "stopped: c2 f5-9" in summary
        assert len(scene.events("grandchild")) == 3  # c1, c2 and c1's retry c3
        assert survivors(scene.pids()) == []
    finally:
        cleanup(scene.pids())


def _crash_with_grandchildren(tmp_path: Path, faults: str, grace: str) -> tuple[Scene, str]:
    """c1 crashes at frame 2 leaving its grandchild; c2 hangs at frame 7; both started a
    grandchild. Run under a subreaper that leaves adopted orphans as zombies (the
    `stmpo run-local` case that used to cost two whole graces)."""
    scene = make_scene(tmp_path)
    env = base_env(
        scene,
        STANDIN_FAIL=faults,
        STANDIN_BARRIER_DIR=str(tmp_path / "barrier"),
        STANDIN_BARRIER_COUNT="2",
    )
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--child-grace-sec", grace)
    result = run(under_subreaper(argv), env)
    assert result.returncode == 1, result.stdout
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert fail.startswith("aerender failed for frames c1 f0-4: exit code 3; then c3 f2-4: ")
    assert len(scene.events("grandchild")) == 3  # c1, c2 and c1's retry c3
    assert survivors(scene.pids()) == []
    return scene, result.stdout


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreaper is Linux only")
def test_processes_that_obey_sigterm_never_cost_the_grace(tmp_path: Path) -> None:
    """With a 30 s grace, a crash whose grandchild (and the stopped sibling's tree) end
    on SIGTERM: nothing waits for the grace, nothing gets SIGKILL, no second round."""
    scene, stdout = _crash_with_grandchildren(tmp_path, "crash@2,hang@7,spawn_child", "30")
    try:
        [orphan] = [r["child_pid"] for r in scene.events("grandchild") if r["pid"] in _c1(scene)]
        assert f"STMPO: [c1 f0-4] exited leaving 1 process(es): pid {orphan} (" in stdout
        stop_lines = [line for line in stdout.splitlines() if "SIGTERM" in line]
        assert stop_lines[-1] in (
            "STMPO: all processes stopped after SIGTERM",
            "STMPO: [c1 f0-4] leftover processes stopped after SIGTERM",
            "STMPO: [c3 f2-4] leftover processes stopped after SIGTERM",  # c1's retry
        )
        assert "STMPO: all processes stopped after SIGTERM" in stdout  # c2's tree
        assert "SIGKILL" not in stdout
        assert "leftover process tree" not in stdout  # no last sweep, so no second grace
    finally:
        cleanup(scene.pids())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreaper is Linux only")
def test_only_processes_that_ignore_sigterm_get_sigkill_once(tmp_path: Path) -> None:
    scene, stdout = _crash_with_grandchildren(
        tmp_path, "crash@2,hang@7,spawn_child,ignore_term", "1"
    )
    try:
        kill_lines = [line for line in stdout.splitlines() if "SIGKILL" in line]
        killed = [int(pid) for line in kill_lines for pid in re.findall(r"pid (\d+)", line)]
        c1, c3 = _c1(scene), _c1(scene, first=2)  # c3: the retry of c1's frames 2-4
        orphans = [r["child_pid"] for r in scene.events("grandchild") if r["pid"] in c1 | c3]
        c2_tree = set(scene.pids()) - c1 - c3
        # c1's and c3's crashed stand-ins are gone; their grandchildren and c2's whole
        # tree ignored SIGTERM
        assert sorted(killed) == sorted([*orphans, *c2_tree])  # each named once
        assert all("still running 1 s after SIGTERM" in line for line in kill_lines)
        assert "all processes stopped after SIGTERM" not in stdout
        assert "leftover process tree" not in stdout
    finally:
        cleanup(scene.pids())


def _c1(scene: Scene, first: int = 0) -> set[int]:
    """Pids of the first child's (or the one starting at `first`) stand-in and of its
    grandchild."""
    starts = {r["pid"] for r in scene.events("start") if r["s"] == first}
    return starts | {r["child_pid"] for r in scene.events("grandchild") if r["pid"] in starts}


def test_error_text_with_exit_zero_fails_the_task(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-9", "--concurrency", "2"),
        base_env(scene, STANDIN_FAIL="error_exit0@6"),
    )
    assert result.returncode == 1
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert "c2 f5-9" in fail and "simulated render error at frame 6" in fail
    assert "openjd_progress: 100.0" not in result.stdout


def test_a_missing_frame_fails_even_when_aerender_exits_zero(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-5", "--concurrency", "1"),
        base_env(scene, STANDIN_FAIL="missing_frame@4"),
    )
    assert result.returncode == 1
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert (
        "1 expected output file(s) are missing, empty or stale: "
        f"{scene.pattern.replace('[#####]', '00004')} (missing)"
    ) in fail
    assert fail.endswith("frames 4-4 not rendered after 2 attempt(s) (no retry left)")


def test_no_kill_on_fail_lets_the_others_finish(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--no-kill-on-fail", "true")
    result = run(argv, base_env(scene, STANDIN_FAIL="crash@1"))
    assert result.returncode == 1
    assert set(range(5, 10)) <= scene.frames_on_disk()
    assert "1 more" not in result.stdout and "stopped:" not in result.stdout


@pytest.mark.parametrize("stubborn", [False, True], ids=["plain", "ignores-sigterm"])
def test_sigterm_mid_render_stops_everything(tmp_path: Path, stubborn: bool) -> None:
    scene = make_scene(tmp_path)
    faults = "hang@2,hang@7,spawn_child" + (",ignore_term" if stubborn else "")
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--child-grace-sec", "1")
    proc = subprocess.Popen(
        argv, env=base_env(scene, STANDIN_FAIL=faults), stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: len(scene.events("frame")) >= 4)  # both children mid-render
        assert len(scene.events("grandchild")) == 2
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 143
        assert protocol_values(out, "openjd_fail") == [
            "STMPO cancelled: every aerender process was stopped"
        ]
        assert survivors(scene.pids()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())


def test_missing_aerender_names_every_place(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-1")
    argv[argv.index(str(STANDIN))] = ""
    env = base_env(scene, PATH=str(tmp_path / "empty-bin"))
    result = run(argv, env)
    assert result.returncode == 2
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert "aerender not found" in fail
    for place in ("--aerender-path (empty)", "AERENDER_PATH (not set)", "aerender on PATH"):
        assert place in fail
    assert scene.events() == []

    argv[argv.index("")] = str(tmp_path / "AE 2099" / "aerender")
    result = run(argv, env)
    assert result.returncode == 2 and "AE 2099" in protocol_values(result.stdout, "openjd_fail")[0]


HOSTILE = "{{Param.X}} \"dq\" 'sq' $(touch pwned) `id`; & | é 漢字 🎬"


def test_hostile_names_and_long_paths_render_to_the_right_files(tmp_path: Path) -> None:
    deep = tuple(f"{HOSTILE} {i} {'x' * 40}" for i in range(4))
    scene = make_scene(
        tmp_path,
        project_name=f"{HOSTILE}/proj {HOSTILE}.aep",
        out_parts=deep,
        file_stem=f"{HOSTILE}_",
        comp=HOSTILE,
    )
    assert len(scene.pattern) > 300
    result = run(render_argv(scene, "0-3", "--concurrency", "2"), base_env(scene))
    assert result.returncode == 0, result.stdout + result.stderr
    assert scene.frames_on_disk() == {0, 1, 2, 3}
    assert not list(tmp_path.rglob("pwned")) and not (Path.cwd() / "pwned").exists()
    assert HOSTILE in result.stdout  # the comp name reached the log intact


def test_path_mapping_moves_the_output_with_dash_output(tmp_path: Path) -> None:
    scene = make_scene(tmp_path, sidecar=False)
    mapped_root = tmp_path / "mapped"
    (mapped_root / "shot").mkdir(parents=True)
    rules = write_windows_rules(tmp_path / "rules.json", mapped_root)
    item = scene.item_b64(path="C:\\renders\\shot\\MAIN_[####].png")
    argv = render_argv(scene, "0-3", "--concurrency", "2", item=item)
    argv[argv.index("--path-mapping-rules") + 1] = str(rules)
    result = run(argv, base_env(scene))
    assert result.returncode == 0, result.stdout
    assert sorted(p.name for p in (mapped_root / "shot").iterdir()) == [
        f"MAIN_{n:04d}.png" for n in range(4)
    ]
    for record in scene.events("start"):
        assert record["argv"][-2:] == ["-output", str(mapped_root / "shot" / "MAIN_[####].png")]


def test_a_movie_is_one_process(tmp_path: Path) -> None:
    scene = make_scene(tmp_path, sidecar=False)
    movie = str(scene.out_dir / "review.mov")
    argv = render_argv(scene, "0-9", "--concurrency", "4", item=scene.item_b64("movie", movie))
    argv[argv.index("--path-mapping-rules") + 1] = ""
    argv += ["--verify-outputs", "true"]
    # No sidecar: give the stand-in the movie path the way a mapped item would.
    env = base_env(scene)
    Path(str(scene.project) + ".standin.json").write_text(
        json.dumps({"items": {"1": {"outputs": [movie]}}})
    )
    result = run(argv, env)
    assert result.returncode == 0, result.stdout
    [start] = scene.events("start")
    assert (start["s"], start["e"]) == (0, 9)
    assert Path(movie).read_bytes().startswith(b"STMPO-STANDIN-MOVIE")
    assert "Movie output: one process" in result.stdout


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--frames", "abc"], "--frames"),
        (["--frames", "9-3"], "--frames"),
        (["--concurrency", "-1"], "--concurrency"),
        (["--max-concurrency", "0"], "--max-concurrency"),
        (["--disable-mfr", "maybe"], "--disable-mfr"),
        (["--spawn-delay", "nan"], "--spawn-delay"),
        (["--ram-per-process-gb", "0"], "--ram-per-process-gb"),
        (["--item-b64", "!!!"], "--item-b64"),
        (["--path-mapping-rules", "/nonexistent/rules.json"], "--path-mapping-rules"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(
    tmp_path: Path, args: list[str], named: str
) -> None:
    scene: Scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-1")
    flag, value = args
    if flag in argv:
        argv[argv.index(flag) + 1] = value
    else:
        argv += [flag, value]
    result = run(argv, base_env(scene))
    assert result.returncode == 2
    assert named in result.stderr and "Traceback" not in result.stderr
    assert protocol_values(result.stdout, "openjd_fail")
    assert scene.events() == []


def test_a_child_killed_by_a_signal_is_named(tmp_path: Path) -> None:
    """A crash by signal (SIGSEGV in real life) is reported by its name."""
    scene = make_scene(tmp_path)
    wrapper = tmp_path / "aerender"
    wrapper.write_text("#!/bin/sh\nkill -SEGV $$\n")
    wrapper.chmod(0o755)
    argv = render_argv(scene, "0-1", "--concurrency", "1")
    argv[argv.index(str(STANDIN))] = str(wrapper)
    result = run(argv, base_env(scene))
    assert result.returncode == 1
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert fail.startswith("aerender failed for frames c1 f0-1: killed by SIGSEGV; then c2 f0-1:")


FAKE_AERENDER = r"""
import sys, time
args = sys.argv[1:]
s = int(args[args.index("-s") + 1])
letter = "AB"[s % 2]
for n in range(200):
    half = letter * 2500
    sys.stdout.write(half)
    sys.stdout.flush()
    time.sleep(0)
    sys.stdout.write(half + "\n")
    sys.stdout.flush()
sys.stdout.buffer.write(b"bad bytes \xff\xfe here\n")
sys.stdout.buffer.write(b"last line without newline")
sys.stdout.flush()
"""


def test_merged_log_has_whole_lines_and_survives_bad_bytes(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    fake = tmp_path / "fake_aerender.py"
    fake.write_text(FAKE_AERENDER)
    argv = render_argv(
        scene, "0-1", "--concurrency", "2", item=encode_b64_json({"comp": "x", "outputs": []})
    )
    argv[argv.index(str(STANDIN))] = str(fake)
    result = run(argv, base_env(scene))
    assert result.returncode == 0, result.stdout[-2000:]
    body = [line for line in result.stdout.splitlines() if line.startswith("[c")]
    assert max(map(len, body)) <= MAX_LINE
    # A 5,000-character line is longer than a log line may be: it comes in pieces, each
    # with its child's prefix, in order, never mixed with the other child's.
    pieces: dict[str, list[str]] = {"A": [], "B": []}
    for line in body:
        prefix, text = line.split("] ", 1)
        letter = "A" if prefix == "[c1 f0-0" else "B"
        if set(text) <= {"A", "B"} and text:
            assert set(text) == {letter}, "a piece mixed with another child's output"
            pieces[letter].append(text)
    for letter, texts in pieces.items():
        assert "".join(texts) == letter * 5000 * 200
    assert "[c1 f0-0] bad bytes \ufffd\ufffd here" in body
    assert "[c2 f1-1] last line without newline" in body


def _between(lines: list[str], start: str, end: str) -> list[str]:
    """The lines after the first one starting with `start`, up to the first one that
    contains `end` after it."""
    first = next(i for i, line in enumerate(lines) if line.startswith(start))
    last = next(i for i, line in enumerate(lines) if i > first and end in line)
    return lines[first + 1 : last]


def test_a_report_held_by_the_rate_limit_is_sent_before_the_next_frame(tmp_path: Path) -> None:
    """Frames 0 and 1 come at once (the limit holds the second report), then frame 2
    takes 2 s: the monitor hears `2/4 frames` during that wait, not after it."""
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-3", "--concurrency", "1")
    result = run(argv, base_env(scene, STANDIN_FAIL="slow@2:2"))
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    waiting = _between(lines, "[c1 f0-3] PROGRESS:  0:00:00:01 (2)", "(3): ")
    assert "openjd_status: 2/4 frames, 1 process" in waiting
    assert "openjd_progress: 50.0" in waiting
    # every report is a pair, progress first
    for at, line in enumerate(lines):
        if line.startswith("openjd_progress: "):
            assert lines[at + 1].startswith("openjd_status: ")
    assert lines[-3] == "openjd_progress: 100.0"
    # the last word adds what the task measured (progress.measured_text)
    assert lines[-2].startswith("openjd_status: 4/4 frames, "), lines[-2]
    assert "processes" not in lines[-2].split("s/frame per process")[0], lines[-2]
    assert parse_measured(lines[-2]) is not None


def test_log_lines_keep_flowing_while_a_stop_waits_for_the_grace(tmp_path: Path) -> None:
    """A child that ignores SIGTERM renders on through the grace: its frame lines and
    the progress they make are merged as they come, before the SIGKILL line."""
    scene = make_scene(tmp_path)
    slow = ",".join(f"slow@{frame}:0.2" for frame in range(1, 100))
    argv = render_argv(scene, "0-99", "--concurrency", "1", "--child-grace-sec", "2")
    proc = subprocess.Popen(
        argv,
        env=base_env(scene, STANDIN_FAIL=f"ignore_term,{slow}"),
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: len(scene.events("frame")) >= 2)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=60)
        assert proc.returncode == 143
        during = _between(out.splitlines(), "STMPO: cancel: stopping 1 process tree", "SIGKILL")
        assert any(line.startswith("[c1 f0-99] PROGRESS:  ") for line in during), out
        assert any(line.startswith("openjd_status: ") for line in during), out
        lines = out.splitlines()
        assert lines[-4].startswith("openjd_progress: ")  # the final pair, on a cancel too
        assert lines[-3].startswith("openjd_status: ") and lines[-3].endswith("0 processes")
        assert survivors(scene.pids()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())


FRAMES_DISPLAY_AERENDER = """\
import sys, time
# a project whose Time Display Style is Frames (first frame 1001), then Feet + Frames
print("PROGRESS:  Duration: 4", flush=True)
print("PROGRESS:  1001 (1): 0 Seconds", flush=True)
print("PROGRESS:  1002 (2): 0 Seconds", flush=True)
print("PROGRESS:  62+09 (3): 0 Seconds", flush=True)
time.sleep(1.5)
print("PROGRESS:  62+10 (4): 0 Seconds", flush=True)
"""


def test_frame_number_and_feet_display_styles_count_as_frames(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    fake = tmp_path / "frames_display_aerender.py"
    fake.write_text(FRAMES_DISPLAY_AERENDER)
    argv = render_argv(
        scene, "0-3", "--concurrency", "1", item=encode_b64_json({"comp": "x", "outputs": []})
    )
    argv[argv.index(str(STANDIN))] = str(fake)
    result = run(argv, base_env(scene))
    assert result.returncode == 0, result.stdout
    waiting = _between(result.stdout.splitlines(), "[c1 f0-3] PROGRESS:  62+09 (3)", "(4): ")
    assert "openjd_status: 3/4 frames, 1 process" in waiting
