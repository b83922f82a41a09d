"""Bounded resources in the worker, through the real `stmpo_render.py` and the stand-in.

Each render runs under an address-space limit (RLIMIT_AS), so code that materialises a
frame range or a CPU list fails here at once with a MemoryError instead of eating the
machine, and each must finish well inside a time limit.
"""

from __future__ import annotations

import resource
import subprocess
import time
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.progress import TaskProgress
from stmpo_worker_harness import Scene, base_env, make_scene, protocol_values, render_argv

pytestmark = pytest.mark.slow

#: Enough for the worker, two stand-ins and their threads; far too little for a list of
#: 10^9 frames (8 GB of pointers alone) or a set of 4 x 10^9 CPU ids.
ADDRESS_SPACE = 1 << 30
QUICK = 30.0


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def run_bounded(
    argv: list[str], env: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], float]:
    """The worker under the memory limit; the result and its wall time."""
    began = time.monotonic()
    result = subprocess.run(
        argv,
        env=env,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        preexec_fn=_limited,
    )
    return result, time.monotonic() - began


def _with(argv: list[str], flag: str, value: str) -> list[str]:
    """`argv` with `flag` given as `--flag=value`, as the job template writes it (a value
    may start with `-`)."""
    argv = list(argv)
    if flag in argv:
        at = argv.index(flag)
        del argv[at : at + 2]
    return [*argv, f"{flag}={value}"]


@pytest.mark.parametrize(
    ("flag", "value"),
    [
        ("--frames", "0-1000000001"),
        ("--frames", "-1000000001--1000000000"),
        ("--frames", "0-" + "9" * 5000),
        ("--concurrency", "257"),
        ("--max-concurrency", "100000000"),
        ("--step", "1" + "0" * 40),
        ("--rqindex", "1" + "0" * 40),
        ("--spawn-delay", "1e308"),
        ("--child-grace-sec", "241"),
    ],
)
def test_out_of_range_arguments_exit_2_naming_the_argument(
    tmp_path: Path, flag: str, value: str
) -> None:
    scene: Scene = make_scene(tmp_path)
    argv = _with(render_argv(scene, "0-1", "--concurrency", "2"), flag, value)
    result, took = run_bounded(argv, base_env(scene))
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = [x for x in result.stderr.splitlines() if "error:" in x]
    assert flag in line and "Traceback" not in result.stderr
    assert len(line) < 400  # the 5000-digit value is shortened, not echoed
    assert protocol_values(result.stdout, "openjd_fail")
    assert scene.events() == []  # nothing started
    assert took < QUICK


def test_two_billion_frames_that_exit_early_fail_quickly_on_missing_outputs(
    tmp_path: Path,
) -> None:
    """The widest task the contract allows (every frame from -10^9 to 10^9), whose
    children stop at their first frame and exit 0: the output check must stop looking
    after the first missing files, not build 2 x 10^9 file names."""
    scene = make_scene(tmp_path)
    argv = _with(
        render_argv(scene, "0-1", "--concurrency", "2"), "--frames", "-1000000000-1000000000"
    )
    result, took = run_bounded(argv, base_env(scene, STANDIN_FAIL="quiet_exit0"))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 1, result.stdout
    assert "exited 0 but 3 or more expected output file(s) are missing" in result.stdout
    assert "2000000001 frames in 2 process(es)" in result.stdout
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert "missing" in fail
    assert took < QUICK


@pytest.mark.parametrize(
    ("numa_map", "reason"),
    [
        ('{"g0": "0-4000000000"}', "8192 CPUs a host can have"),
        ('{"g0": [0, 1, 99999999999]}', "integers 0 to 8191"),
        ("/dev/zero", "larger than 1024 KiB"),
    ],
)
def test_a_numa_map_beyond_any_host_is_a_warning_not_a_hang(
    tmp_path: Path, numa_map: str, reason: str
) -> None:
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-3", "--concurrency", "2", "--numa-map", numa_map)
    result, took = run_bounded(argv, base_env(scene))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 0, result.stdout
    [warning] = [x for x in result.stdout.splitlines() if "warning: NUMA map" in x]
    assert reason in warning and "not pinned" in warning
    assert scene.frames_on_disk() == {0, 1, 2, 3}
    assert took < QUICK


def test_progress_keeps_no_more_markers_than_the_child_has_frames() -> None:
    """A child repeating distinct `(N)` markers (relative and absolute counts mixed, or a
    chatty plug-in) cannot grow the tracker beyond its frame count."""
    progress = TaskProgress([3])
    for n in range(1, 10_001):
        progress.feed(0, f"PROGRESS:  0:00:00:{n % 25:02d} ({n}): 0 Seconds")
    assert progress.done == 3
    assert len(progress.children[0].seen) == 3
