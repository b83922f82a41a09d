"""Process trees: what counts as alive, and what a stop reports. Real processes."""

from __future__ import annotations

import os
import signal
import sys

import psutil
import pytest
from stmpo._worker_scripts.stmpo_worker.procs import Tree, end_trees, process_table, spawn
from stmpo_worker_harness import wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")

STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(120)\n"
)


def test_a_zombie_answers_killpg_but_is_not_a_member() -> None:
    """The root of the old 2 × grace stop: killpg(pgid, 0) succeeds for a zombie."""
    proc = spawn([sys.executable, "-c", "pass"], dict(os.environ))
    try:
        wait_for(lambda: psutil.Process(proc.pid).status() == psutil.STATUS_ZOMBIE)
        os.killpg(proc.pid, 0)  # no ProcessLookupError: the zombie still "exists"
        table = process_table()
        if table is not None:  # Linux /proc, or psutil elsewhere
            assert proc.pid not in [m.pid for m in table.get(proc.pid, [])]
        tree = Tree(proc, "c1 f0-0")
        assert tree.members() == [] and not tree.group_alive()
        assert proc.returncode == 0  # members() reaped the leader
    finally:
        proc.wait()


def test_a_stop_names_only_the_processes_that_ignored_sigterm() -> None:
    obedient = spawn([sys.executable, "-c", "import time; time.sleep(120)"], dict(os.environ))
    stubborn = spawn([sys.executable, "-c", STUBBORN], dict(os.environ))
    assert stubborn.stdout is not None
    assert stubborn.stdout.readline() == b"ready\n"  # its SIGTERM handler is in place
    trees = [Tree(obedient, "c1 f0-4"), Tree(stubborn, "c2 f5-9")]
    try:
        report = end_trees(trees, grace=0.5)
        assert report.asked == 2
        assert [(t.label, [m.pid for m in members]) for t, members in report.killed] == [
            ("c2 f5-9", [stubborn.pid])
        ]
        assert report.unkillable == []
        assert obedient.returncode == -signal.SIGTERM
        assert stubborn.returncode == -signal.SIGKILL
        assert not any(t.group_alive() for t in trees)
        # Stopping them again asks nobody: nothing is left.
        assert end_trees(trees, grace=0.5).asked == 0
    finally:
        for proc in (obedient, stubborn):
            if proc.poll() is None:
                proc.kill()
            proc.wait()
