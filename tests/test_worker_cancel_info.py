"""A cancel that openjd allows less time than `--child-grace-sec`: `cancel_info.json`.

openjd-sessions writes `{"NotifyEnd": "...Z"}` into the session working directory (the
action's working directory) before its notify signal, and kills the action at NotifyEnd
(stmpo_worker/cancelinfo.py). Each test runs the real worker with stand-ins that ignore
SIGTERM (only SIGKILL ends them) and a 30 s grace, writes the file as openjd does, and
sends SIGTERM, as openjd's notify.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from stmpo_worker_harness import (
    Scene,
    alive,
    base_env,
    cleanup,
    make_scene,
    protocol_values,
    render_argv,
    wait_for,
)
from worker_pythons import python_or_fail

FAULTS = "hang@1,hang@6,spawn_child,ignore_term"  # two children, each with a grandchild


def _stamp(when: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(when))


def _start(
    scene: Scene, session: Path, grace: str = "30", python: str = ""
) -> subprocess.Popen[str]:
    session.mkdir(exist_ok=True)
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--child-grace-sec", grace)
    argv[0] = python or argv[0]
    proc = subprocess.Popen(
        argv,
        env=base_env(scene, STANDIN_FAIL=FAULTS),
        cwd=session,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
    )
    wait_for(lambda: len(scene.events("grandchild")) == 2 and len(scene.events("frame")) >= 2)
    return proc


def _cancel(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[str, float]:
    """SIGTERM as openjd's notify; (stdout, wall time when the worker had exited)."""
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=timeout)
    ended = time.time()
    assert "Traceback" not in err, err
    return out, ended


@pytest.mark.parametrize("python", ["", "3.9"], ids=["this-python", "python-3.9"])
def test_notify_end_shortens_the_grace_so_every_tree_is_killed_before_it(
    tmp_path: Path, python: str
) -> None:
    """Also under Python 3.9, Amazon Linux 2023's python3 (the stand-ins run under it too)."""
    scene = make_scene(tmp_path)
    session = tmp_path / "session"
    proc = _start(scene, session, python=python_or_fail(python) if python else "")
    try:
        pids = scene.pids()
        assert len(pids) == 4 and all(alive(p) for p in pids)
        # Whole seconds, as openjd writes it: 3 to 4 s from now, far below the 30 s grace.
        notify_end = math.floor(time.time()) + 4
        (session / "cancel_info.json").write_text(json.dumps({"NotifyEnd": _stamp(notify_end)}))
        out, ended = _cancel(proc)
        assert proc.returncode == 143, out
        assert ended < notify_end, (
            f"worker still running {ended - notify_end:.1f} s after NotifyEnd"
        )
        assert [p for p in pids if alive(p)] == []  # every tree, grandchildren included
        assert f"STMPO: cancel: openjd ends this action at {_stamp(notify_end)} (" in out
        assert "grace shortened from 30 s to " in out
        assert "(the cancel's deadline) after SIGTERM, SIGKILL: " in out
        assert protocol_values(out, "openjd_fail") == [
            "STMPO cancelled: every aerender process was stopped"
        ]
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())


def test_the_session_directory_from_the_environment_is_read_too(tmp_path: Path) -> None:
    """openjd also names the session working directory in OPENJD_SESSION_WORKING_DIR."""
    scene = make_scene(tmp_path)
    session = tmp_path / "session"
    session.mkdir()
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--child-grace-sec", "30")
    env = base_env(scene, STANDIN_FAIL=FAULTS, OPENJD_SESSION_WORKING_DIR=str(session))
    proc = subprocess.Popen(
        argv, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: len(scene.events("grandchild")) == 2)
        notify_end = math.floor(time.time()) + 4
        (session / "cancel_info.json").write_text(json.dumps({"NotifyEnd": _stamp(notify_end)}))
        out, ended = _cancel(proc)
        assert proc.returncode == 143 and ended < notify_end, out
        assert [p for p in scene.pids() if alive(p)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())


def test_a_notify_end_already_past_kills_at_once(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    session = tmp_path / "session"
    proc = _start(scene, session)
    try:
        (session / "cancel_info.json").write_text(
            json.dumps({"NotifyEnd": _stamp(time.time() - 5)})
        )
        started = time.monotonic()
        out, _ = _cancel(proc)
        assert proc.returncode == 143, out
        assert time.monotonic() - started < 10  # not the 30 s grace
        assert "grace shortened from 30 s to 0.0 s" in out
        assert [p for p in scene.pids() if alive(p)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())


def test_a_stale_or_malformed_cancel_info_keeps_the_grace(tmp_path: Path) -> None:
    """A file from an earlier action (older than this render) or one that is not openjd's
    is named in a warning and changes nothing: the configured grace (1 s) applies."""
    for name, write in (
        ("stale", lambda p: _write_old(p, json.dumps({"NotifyEnd": _stamp(time.time())}))),
        ("malformed", lambda p: p.write_text('{"NotifyEnd": "soon\\u001b[2J"}')),
    ):
        scene = make_scene(tmp_path / name)
        session = tmp_path / name / "session"
        proc = _start(scene, session, grace="1")
        try:
            write(session / "cancel_info.json")
            out, _ = _cancel(proc)
            assert proc.returncode == 143, out
            [warning] = [line for line in out.splitlines() if "cancel_info.json ignored" in line]
            assert warning.endswith("; grace 1 s"), warning
            assert "\x1b" not in out
            assert "grace shortened" not in out
            assert "still running 1 s after SIGTERM, SIGKILL" in out
            assert [p for p in scene.pids() if alive(p)] == []
        finally:
            if proc.poll() is None:
                proc.kill()
            cleanup(scene.pids())


def _write_old(path: Path, text: str) -> None:
    path.write_text(text)
    old = time.time() - 3600
    os.utime(path, (old, old))


def test_a_cancel_during_a_fail_fast_stop_shortens_that_stop(tmp_path: Path) -> None:
    """c1 crashes, so fail-fast stops c2 (which ignores SIGTERM) with a 30 s grace; a
    cancel that comes in meanwhile must not wait those 30 s out."""
    scene = make_scene(tmp_path)
    session = tmp_path / "session"
    session.mkdir()
    argv = render_argv(scene, "0-9", "--concurrency", "2", "--child-grace-sec", "30")
    # The barrier: c1 crashes only once c2 runs and ignores SIGTERM (else, on a busy
    # host, fail-fast could end c2 before it even started).
    env = base_env(
        scene,
        STANDIN_FAIL="crash@2,hang@7,ignore_term",
        STANDIN_BARRIER_DIR=str(tmp_path / "barrier"),
        STANDIN_BARRIER_COUNT="2",
    )
    proc = subprocess.Popen(
        argv, env=env, cwd=session, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for(lambda: len(scene.events("start")) == 2)
        [c1] = [r["pid"] for r in scene.events("start") if r["s"] == 0]
        wait_for(lambda: not alive(c1))  # crashed: fail-fast is stopping c2 now
        time.sleep(0.5)
        assert proc.poll() is None
        notify_end = math.floor(time.time()) + 4
        (session / "cancel_info.json").write_text(json.dumps({"NotifyEnd": _stamp(notify_end)}))
        out, ended = _cancel(proc)
        assert proc.returncode == 143, out
        assert ended < notify_end, (
            f"worker still running {ended - notify_end:.1f} s after NotifyEnd"
        )
        assert "STMPO: fail-fast: stopping 1 process tree(s) (grace 30 s)" in out
        assert "grace shortened from 30 s to " in out
        assert [p for p in scene.pids() if alive(p)] == []
    finally:
        if proc.poll() is None:
            proc.kill()
        cleanup(scene.pids())
