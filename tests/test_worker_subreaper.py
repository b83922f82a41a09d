"""No process of a task outlives it, not even a helper that double-forks and calls
setsid(): the worker is a child subreaper (Linux), so such orphans come back to it and
are ended, without waiting out the pipe timeout. Through the real worker."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
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

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="child subreaper: Linux"),
]

GRACE = "30"  # the default: a child's pipe held open used to cost EOF_WAIT + this


@pytest.mark.parametrize(
    "fault",
    ["detached_helper", "detached_helper_clean_env"],
    ids=["claimed-by-environment", "claimed-by-pipe"],
)
def test_a_detached_helper_holding_the_pipe_neither_delays_nor_outlives_the_task(
    tmp_path: Path, fault: str
) -> None:
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-5", "--concurrency", "2", "--child-grace-sec", GRACE)
    began = time.monotonic()
    try:
        result = run(argv, base_env(scene, STANDIN_FAIL=fault))
        took = time.monotonic() - began
        helpers = scene.helpers()
        assert len(helpers) == 2
        assert result.returncode == 0, result.stdout
        assert took < 10, f"took {took:.1f} s: waited for the pipe"
        for helper in helpers:
            assert f"process(es): pid {helper} (python" in result.stdout  # named, then ended
        assert survivors(helpers, settle=0) == []
        assert "SIGKILL" not in result.stdout  # they obeyed SIGTERM: no grace spent
    finally:
        cleanup(scene.pids())


@pytest.mark.parametrize("stubborn", [False, True], ids=["plain", "ignores-sigterm"])
def test_cancel_mid_render_leaves_no_detached_helper(tmp_path: Path, stubborn: bool) -> None:
    scene = make_scene(tmp_path)
    faults = "hang@1,hang@4,detached_helper" + (",ignore_term" if stubborn else "")
    grace = "1" if stubborn else GRACE
    argv = render_argv(scene, "0-5", "--concurrency", "2", "--child-grace-sec", grace)
    proc = subprocess.Popen(
        argv, env=base_env(scene, STANDIN_FAIL=faults), stdout=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: len(scene.events("frame")) >= 2 and len(scene.helpers()) == 2)
        proc.send_signal(signal.SIGTERM)
        began = time.monotonic()
        out, _ = proc.communicate(timeout=60)
        took = time.monotonic() - began
        assert proc.returncode == 143, out
        assert protocol_values(out, "openjd_fail") == [
            "STMPO cancelled: every aerender process was stopped"
        ]
        assert took < float(grace) + 5, f"cancel took {took:.1f} s"
        assert survivors(scene.pids(), settle=0) == []
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())


def test_a_daemon_no_child_claims_is_ended_when_the_task_ends(tmp_path: Path) -> None:
    """A proper daemon (stdio on /dev/null, empty environment) names no child, so it is
    not ended with one; it still does not outlive the task."""
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-3", "--concurrency", "1", "--child-grace-sec", GRACE)
    began = time.monotonic()
    try:
        result = run(argv, base_env(scene, STANDIN_FAIL="detached_daemon"))
        took = time.monotonic() - began
        [daemon] = scene.helpers()
        assert result.returncode == 0, result.stdout
        # Ended as an orphan no child claims; or, when the worker's tree refresh saw it
        # while its parent chain still led to the stand-in (a loaded host makes the
        # double fork slow), as the child's own leftover. Either way it is named and ended.
        ended = [
            line
            for line in result.stdout.splitlines()
            if re.search(rf"\bpid {daemon}\b", line)
            and ("no child claims" in line or "exited leaving" in line)
        ]
        assert len(ended) == 1, result.stdout
        assert survivors([daemon], settle=0) == []
        assert took < 10, f"took {took:.1f} s"
    finally:
        cleanup(scene.pids())
