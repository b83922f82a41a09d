"""A frame counts as rendered only if this task wrote it: non-empty and modified since
its process started. Through the real worker and the aerender stand-in."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker import outputs as out
from stmpo_worker_harness import base_env, make_scene, protocol_values, render_argv, run

pytestmark = pytest.mark.slow

AN_HOUR = 3600.0


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def test_a_stale_frame_left_by_an_earlier_render_fails_and_is_kept(tmp_path: Path) -> None:
    """AE with "Skip existing files" exits 0 without touching a frame that exists: a
    frame from yesterday's render must not pass for today's."""
    scene = make_scene(tmp_path)
    old = scene.frame_file(4)
    old.write_bytes(b"yesterday's frame")
    _age(old, AN_HOUR)
    # No fail-fast: c1's verdict must not depend on whether c2 failed first.
    argv = render_argv(scene, "0-5", "--concurrency", "2", "--no-kill-on-fail", "true")

    result = run(argv, base_env(scene, STANDIN_FAIL="skip_existing"))

    assert result.returncode == 1, result.stdout
    first = (
        "aerender failed for frames c2 f3-5: exited 0 but 1 expected output file(s) are "
        f"missing, empty or stale: {old} (stale: modified 60 min before its process started)"
    )
    [fail] = protocol_values(result.stdout, "openjd_fail")
    # Only the stale frame is retried (RetryFailedRanges, default 1), and stays stale.
    assert fail.startswith(first + "; then c3 f4-4: ")
    assert fail.endswith("frames 4-4 not rendered after 2 attempt(s) (no retry left)")
    assert "STMPO: [c1 f0-2] done" in result.stdout  # its frames are new
    assert old.read_bytes() == b"yesterday's frame"  # reported, never deleted

    rerender = run(argv, base_env(scene))  # a render that writes the frame passes
    assert rerender.returncode == 0, rerender.stdout
    assert old.read_bytes().startswith(b"\x89PNG")


def test_an_old_frame_dated_in_the_future_is_stale_too(tmp_path: Path) -> None:
    """A frame copied from a machine with a wrong clock, or touched into the future,
    must not pass for one this render wrote."""
    scene = make_scene(tmp_path)
    old = scene.frame_file(4)
    old.write_bytes(b"a frame from elsewhere")
    _age(old, -AN_HOUR)
    result = run(
        render_argv(scene, "0-5", "--concurrency", "1"),
        base_env(scene, STANDIN_FAIL="skip_existing"),
    )
    assert result.returncode == 1, result.stdout
    (fail,) = protocol_values(result.stdout, "openjd_fail")
    assert f"{old} (stale: dated 60 min in the future)" in fail
    assert old.read_bytes() == b"a frame from elsewhere"


def test_a_zero_byte_placeholder_fails_and_is_kept(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    result = run(
        render_argv(scene, "0-5", "--concurrency", "1"),
        base_env(scene, STANDIN_FAIL="empty_frame@3"),
    )
    assert result.returncode == 1, result.stdout
    placeholder = scene.frame_file(3)
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert f"1 expected output file(s) are missing, empty or stale: {placeholder} (empty)" in fail
    assert fail.endswith("frames 3-3 not rendered after 2 attempt(s) (no retry left)")
    assert placeholder.exists() and placeholder.stat().st_size == 0


def test_a_child_that_writes_nothing_is_named_with_its_first_files_only(tmp_path: Path) -> None:
    """Every frame stale: the check stops at the first few (no stat per frame of a
    render that plainly failed) and the line says there may be more."""
    scene = make_scene(tmp_path)
    for frame in range(10):
        scene.frame_file(frame).write_bytes(b"old")
        _age(scene.frame_file(frame), 3 * 86400)
    result = run(
        render_argv(scene, "0-9", "--concurrency", "1"),
        base_env(scene, STANDIN_FAIL="skip_existing"),
    )
    assert result.returncode == 1
    [fail] = protocol_values(result.stdout, "openjd_fail")
    stale = "(stale: modified 3 days before its process started)"
    assert fail.startswith(
        "aerender failed for frames c1 f0-9: exited 0 but 3 or more expected output file(s) "
        "are missing, empty or stale: "
        + "; ".join(f"{scene.frame_file(f)} {stale}" for f in range(3))
        + "; then c2 f0-9: "  # the retry wrote nothing either
    )


def test_the_clock_tolerance_and_the_laziness_of_the_check(tmp_path: Path) -> None:
    """Within MTIME_TOLERANCE (file systems with 2 s timestamps, a file server's clock)
    a frame is new; beyond it, stale. A billion-frame range is not listed to be checked."""
    frame = tmp_path / "A_0001.png"
    frame.write_bytes(b"png")
    started = time.time()
    tolerance = out.MTIME_TOLERANCE
    os.utime(frame, (started - tolerance + 0.5,) * 2)
    assert out.file_problem(str(frame), started) is None
    os.utime(frame, (started - tolerance - 0.5,) * 2)
    problem = out.file_problem(str(frame), started)
    assert problem is not None and problem.why == "stale: modified 2 s before its process started"

    item = out.Item("c", (out.Output(1, str(tmp_path / "none" / "A_[####].png"), "sequence"),))
    began = time.monotonic()
    problems = out.output_problems(item, range(0, 10**9), started)
    assert time.monotonic() - began < 1.0
    assert [p.why for p in problems] == ["missing"] * out.REPORTED_PROBLEMS
