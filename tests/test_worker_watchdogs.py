"""Issue 11, watchdogs: a hung child and one stuck before its first frame are ended and
reported, and a launch waits while memory is short. End to end through the real worker
(`stmpo_render.py render`) with the aerender stand-in's `hang@F` and `licence` modes
and the memory reader's test hook; plus the pure decisions of `watchdog.py`."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from stmpo._worker_scripts.stmpo_worker import memory
from stmpo._worker_scripts.stmpo_worker import watchdog as wd
from stmpo_worker_harness import (
    base_env,
    cleanup,
    make_scene,
    protocol_values,
    render_argv,
    run,
    survivors,
    wait_for,
)

# Without the watchdogs these renders never end: the harness' timeout says so.
HUNG_RENDER_TIMEOUT = 40.0


def summary_line(stdout: str) -> str:
    [line] = [x for x in stdout.splitlines() if x.startswith("STMPO summary:")]
    return line


# -- end to end -------------------------------------------------------------------------
@pytest.mark.parametrize("stubborn", [False, True], ids=["obeys-sigterm", "ignores-sigterm"])
def test_a_stalled_child_is_ended_and_fails_the_task(tmp_path: Path, stubborn: bool) -> None:
    """c2 renders frames 5 and 6, then hangs: no frame for 1.5 s ends its tree (SIGKILL
    after the 1 s grace for one that ignores SIGTERM); a stall is retryable, so frames
    7-9 are launched again (c3), hang again and the task fails with both named; c1's
    frames and c2's first two are on disk; no process is left behind. (Static split:
    the watchdog is under test, not the dynamic hand-overs.)"""
    scene = make_scene(tmp_path)
    faults = "hang@7,ignore_term" if stubborn else "hang@7"
    env = base_env(scene, STANDIN_FAIL=faults, STMPO_STALL_TIMEOUT_SEC="1.5")
    argv = render_argv(
        scene, "0-9", "--concurrency", "2", "--child-grace-sec", "1", "--split-strategy", "static"
    )
    began = time.monotonic()
    try:
        result = run(argv, env, timeout=HUNG_RENDER_TIMEOUT)
        took = time.monotonic() - began
        assert result.returncode == 1, result.stdout
        lines = result.stdout.splitlines()
        assert "STMPO: [c2 f5-9] stalled: no frame finished for 1.5 s; ending it" in lines
        if stubborn:
            assert any(
                x.startswith("STMPO: [c2 f5-9] still running 1 s after SIGTERM, SIGKILL")
                for x in lines
            )
        else:
            assert "STMPO: all processes stopped after SIGTERM" in lines
        assert "STMPO: [c3 f7-9] retry 1 of 1: frames 7-9 (c2: stalled: no frame finished " in (
            result.stdout
        ) or any(x.startswith("STMPO: [c3 f7-9] retry 1 of 1: frames 7-9") for x in lines)
        assert "STMPO: [c3 f7-9] stalled: no frame finished for 1.5 s; ending it" in lines
        assert protocol_values(result.stdout, "openjd_fail") == [
            "aerender failed for frames c2 f5-9: stalled: no frame finished for 1.5 s; then "
            "c3 f7-9: stalled: no frame finished for 1.5 s; frames 7-9 not rendered after "
            "2 attempt(s) (no retry left)"
        ]
        summary = summary_line(result.stdout)
        assert "stalled: c2 f5-9, c3 f7-9, startup timeouts: none, memory waits: 0 (0 s)" in summary
        assert "stopped:" not in summary  # the watchdog ended it, not fail-fast
        assert scene.frames_on_disk() == {0, 1, 2, 3, 4, 5, 6}
        assert took < 2 * (1.5 + 1) + 10  # two stalls: timeout + grace each, and starts
        assert survivors(scene.pids()) == []
    finally:
        cleanup(scene.pids())


def test_a_steady_child_is_not_stalled_however_long_it_renders(tmp_path: Path) -> None:
    """Frames of 0.4 s for 3.2 s, stall timeout 1 s: the clock runs from the last
    finished frame, not from the launch."""
    scene = make_scene(tmp_path)
    env = base_env(
        scene,
        STANDIN_FAIL=",".join(f"slow@{f}:0.4" for f in range(8)),
        STMPO_STALL_TIMEOUT_SEC="1",
        STMPO_STARTUP_TIMEOUT_SEC="2",
    )
    result = run(render_argv(scene, "0-7", "--concurrency", "1"), env)
    assert result.returncode == 0, result.stdout
    assert "stalled: none, startup timeouts: none" in summary_line(result.stdout)
    assert scene.frames_on_disk() == set(range(8))


def test_a_licence_prompt_is_named_when_no_frame_comes(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    env = base_env(scene, STANDIN_FAIL="licence", STMPO_STARTUP_TIMEOUT_SEC="1.5")
    try:
        result = run(render_argv(scene, "0-3", "--concurrency", "1"), env, HUNG_RENDER_TIMEOUT)
        assert result.returncode == 1, result.stdout
        why = (
            "no frame 1.5 s after launch: After Effects is waiting on a licence or sign-in "
            "prompt (it printed: Renew your subscription at adobe.com today)"
        )
        assert f"STMPO: [c1 f0-3] {why}; ending it" in result.stdout.splitlines()
        assert protocol_values(result.stdout, "openjd_fail") == [
            f"aerender failed for frames c1 f0-3: {why}; frames 0-3 not rendered after "
            "1 attempt(s) (not retryable)"  # the prompt would come back at every launch
        ]
        assert "stalled: none, startup timeouts: c1 f0-3" in summary_line(result.stdout)
        assert "fail-fast: stopping" not in result.stdout  # already ended, not twice
        assert scene.frames_on_disk() == set()
        assert len(scene.events("licence")) == 1
        assert survivors(scene.pids()) == []
    finally:
        cleanup(scene.pids())


def test_a_silent_start_is_reported_as_a_possible_dialog(tmp_path: Path) -> None:
    """Nothing after aerender's own "Launching After Effects..." (AE at a splash
    screen): the startup watchdog ends it, and the report lists what may be in the way."""
    scene = make_scene(tmp_path)
    env = base_env(
        scene,
        STANDIN_STARTUP_SLEEP_SEC="120",
        STMPO_STARTUP_TIMEOUT_SEC="1",
        STMPO_STALL_TIMEOUT_SEC="30",
    )
    try:
        result = run(render_argv(scene, "0-3", "--concurrency", "1"), env, HUNG_RENDER_TIMEOUT)
        assert result.returncode == 1, result.stdout
        assert (
            "STMPO: [c1 f0-3] no frame 1 s after launch: After Effects may be waiting on a "
            "licence or splash dialog, or a missing plug-in prompt; ending it"
        ) in result.stdout.splitlines()
        assert "stalled: none, startup timeouts: c1 f0-3" in summary_line(result.stdout)
        assert survivors(scene.pids()) == []
    finally:
        cleanup(scene.pids())


def test_memory_guard_holds_the_second_launch_until_memory_is_free(tmp_path: Path) -> None:
    """4 GB free, 8 GB per process: c1 starts anyway (nothing runs yet) and waits at
    the stand-in's barrier for a second process; c2 is held until the fake reader
    reports 16 GB, then starts, and both render."""
    scene = make_scene(tmp_path)
    fake = tmp_path / "mem_available_gb"
    fake.write_text("4\n")
    env = base_env(
        scene,
        STMPO_FAKE_MEM_AVAILABLE_GB=str(fake),
        STANDIN_BARRIER_DIR=str(tmp_path / "barrier"),
        STANDIN_BARRIER_COUNT="2",
    )
    argv = render_argv(
        scene,
        "0-9",
        "--concurrency",
        "2",
        "--ram-per-process-gb",
        "8",
        "--split-strategy",
        "static",
    )
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: len(scene.events("start")) == 1)
        time.sleep(1.5)  # 15 loop turns at least
        assert len(scene.events("start")) == 1, "c2 started while 4 GB < 8 GB"
        assert proc.poll() is None
        rewritten = tmp_path / "mem.tmp"
        rewritten.write_text("16\n")
        os.replace(rewritten, fake)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        cleanup(scene.pids())
    assert proc.returncode == 0, out + err
    lines = out.splitlines()
    waiting = [x for x in lines if x.startswith("STMPO: waiting to start")]
    assert waiting == ["STMPO: waiting to start c2: 4.0 GB available, 8 GB per process"]
    assert not any(x.startswith("STMPO: waiting to start c1") for x in lines)
    summary = summary_line(out)
    waited = int(summary.split("memory waits: 1 (")[1].split(" s)")[0])
    assert waited >= 1
    assert scene.frames_on_disk() == set(range(10))


def test_memory_guard_starts_a_held_launch_once_nothing_runs(tmp_path: Path) -> None:
    """Memory stays short (4 GB free, 8 GB per process): c2 waits while c1 renders, and
    starts once c1 has ended, since waiting with nothing running would never end."""
    scene = make_scene(tmp_path)
    env = base_env(
        scene,
        STMPO_FAKE_MEM_AVAILABLE_GB="4",
        STANDIN_FAIL=",".join(f"slow@{f}:0.2" for f in range(5)),
    )
    argv = render_argv(
        scene,
        "0-9",
        "--concurrency",
        "2",
        "--ram-per-process-gb",
        "8",
        "--split-strategy",
        "static",
    )
    result = run(argv, env)
    assert result.returncode == 0, result.stdout
    starts = {r["s"]: r["t"] for r in scene.events("start")}
    ends = {r["s"]: r["t"] for r in scene.events("end")}
    assert starts[5] >= ends[0], "c2 ran alongside c1 with 4 GB free"
    waiting = [x for x in result.stdout.splitlines() if x.startswith("STMPO: waiting")]
    assert waiting == ["STMPO: waiting to start c2: 4.0 GB available, 8 GB per process"]
    assert "memory waits: 1 (" in summary_line(result.stdout)
    assert scene.frames_on_disk() == set(range(10))


@pytest.mark.parametrize(
    ("variable", "value"),
    [("STMPO_STALL_TIMEOUT_SEC", "soon"), ("STMPO_STARTUP_TIMEOUT_SEC", "-1")],
)
def test_bad_watchdog_settings_exit_2_naming_the_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    scene = make_scene(tmp_path)
    result = run(render_argv(scene, "0-1"), base_env(scene, **{variable: value}))
    assert result.returncode == 2
    assert result.stderr.startswith(f"stmpo_render.py render: error: {variable}")
    assert "Traceback" not in result.stderr
    assert scene.events("start") == []


# -- the pure decisions ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("first_output", "last_frame", "now", "expected"),
    [
        (None, None, 9.9, None),  # silent, startup 10 s not reached; no stall clock yet
        (None, None, 10.0, wd.Verdict(wd.STARTUP, 10.0)),
        (1.0, None, 5.9, None),
        (1.0, None, 6.0, wd.Verdict(wd.STALLED, 5.0)),  # printed, then froze
        (1.0, 8.0, 12.9, None),  # a frame: startup no longer applies
        (1.0, 8.0, 13.0, wd.Verdict(wd.STALLED, 5.0)),
    ],
)
def test_verdict(
    first_output: float | None, last_frame: float | None, now: float, expected: object
) -> None:
    assert wd.verdict(0.0, first_output, last_frame, now, 5.0, 10.0) == expected


def test_verdict_zero_turns_a_watchdog_off() -> None:
    assert wd.verdict(0.0, None, None, 1e6, 5.0, 0.0) is None
    assert wd.verdict(0.0, 1.0, 2.0, 1e6, 0.0, 10.0) is None
    assert wd.verdict(0.0, 1.0, None, 1e6, 0.0, 10.0) == wd.Verdict(wd.STARTUP, 10.0)


@pytest.mark.parametrize(
    "line",
    [
        "Renew your subscription at adobe.com today",
        "After Effects can only be activated on 2 devices simultaneously",
        "aerender ERROR: After Effects can not render for aerender. ... AE may be waiting "
        "for response from a modal dialog, or for a render to complete.",
        "Please Sign In to continue",
    ],
)
def test_licence_lines(line: str) -> None:
    assert wd.is_licence_line(line)


@pytest.mark.parametrize(
    "line", ["PROGRESS:  Launching After Effects...", "PROGRESS:  0:00:00:01 (2): 0 Seconds"]
)
def test_not_licence_lines(line: str) -> None:
    assert not wd.is_licence_line(line)


@pytest.mark.parametrize(
    ("available", "running", "waits"),
    [(4.0, 1, True), (8.0, 1, False), (4.0, 0, False), (None, 3, False)],
)
def test_memory_guard_decision(available: float | None, running: int, waits: bool) -> None:
    assert wd.must_wait_for_memory(available, 8.0, running) is waits


def test_meminfo_and_vm_stat_parsing() -> None:
    meminfo = "MemTotal:       32768000 kB\nMemFree: 1 kB\nMemAvailable:   12582912 kB\n"
    assert memory.meminfo_available(meminfo) == 12.0
    assert memory.meminfo_available("MemTotal: 1 kB\n") is None
    vm_stat = (
        "Mach Virtual Memory Statistics: (page size of 16384 bytes)\n"
        "Pages free:                               65536.\n"
        "Pages active:                            999999.\n"
        "Pages inactive:                          131072.\n"
        "Pages speculative:                        65536.\n"
    )
    assert memory.vm_stat_available(vm_stat, 16384) == 4.0


def test_fake_reader_number_file_and_unreadable(tmp_path: Path) -> None:
    assert memory.available_gb({memory.FAKE_VAR: "12.5"}) == 12.5
    fake = tmp_path / "gb"
    fake.write_text("3\n")
    assert memory.available_gb({memory.FAKE_VAR: str(fake)}) == 3.0
    assert memory.available_gb({memory.FAKE_VAR: str(tmp_path / "gone")}) is None
    if hasattr(os, "mkfifo"):  # a FIFO nobody writes would block a plain open()
        fifo = tmp_path / "fifo"
        os.mkfifo(fifo)
        assert memory.available_gb({memory.FAKE_VAR: str(fifo)}) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/meminfo")
def test_real_reader_agrees_with_the_kernel_without_psutil() -> None:
    """The stdlib path (no psutil) reads the same MemAvailable psutil reports."""
    code = (
        "import sys; sys.modules['psutil'] = None\n"
        "from stmpo._worker_scripts.stmpo_worker import memory\n"
        "print(memory.available_gb({}))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != memory.FAKE_VAR}
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    measured = psutil.virtual_memory().available / memory.GIB
    assert abs(float(out) - measured) < 1.0
