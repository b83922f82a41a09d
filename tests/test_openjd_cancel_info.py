"""A real openjd-sessions cancel with a time limit, as the Deadline worker agent sends when
it shuts down: openjd writes `cancel_info.json` with a NotifyEnd 4 s away (far below the
step's 120 s notify period and the worker's 30 s grace), sends SIGTERM, and kills the
action at NotifyEnd. STMPO must have stopped every aerender tree itself before then.

Runs the real worker (`stmpo_render.py render`) in a session of the library the worker
agent uses, with stand-ins that ignore SIGTERM (only SIGKILL ends them).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from openjd.model import create_job, decode_job_template
from openjd.sessions import LOG, ActionState, ActionStatus, Session
from stmpo_worker_harness import SCRIPT, STANDIN, alive, cleanup, make_scene, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

CANCEL_LIMIT = 4  # seconds: what the worker agent allows when it shuts down


class _Lines(logging.Handler):
    """The action's output, as openjd logs it."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def test_agent_shutdown_cancel_ends_every_tree_before_openjd_kills_the_worker(
    tmp_path: Path,
) -> None:
    scene = make_scene(tmp_path)
    sidecar = Path(f"{scene.project}.standin.json")
    data = json.loads(sidecar.read_text("utf-8"))
    data["items"]["1"]["faults"] = "hang@1,hang@6,spawn_child,ignore_term"
    sidecar.write_text(json.dumps(data), "utf-8")
    args = [
        str(SCRIPT), "render", f"--project={scene.project}", "--rqindex=1", "--frames=0-9",
        f"--item-b64={scene.item_b64()}", "--concurrency=2", "--spawn-delay=0",
        "--child-grace-sec=30", f"--aerender-path={STANDIN}",
    ]  # fmt: skip
    template = decode_job_template(
        template={
            "specificationVersion": "jobtemplate-2023-09",
            "name": "Cancel",
            "steps": [
                {
                    "name": "Render",
                    "script": {
                        "actions": {
                            "onRun": {
                                "command": sys.executable,
                                "args": args,
                                "cancelation": {
                                    "mode": "NOTIFY_THEN_TERMINATE",
                                    "notifyPeriodInSeconds": 120,
                                },
                            }
                        }
                    },
                }
            ],
        }
    )
    job = create_job(job_template=template, job_parameter_values={})
    ended = threading.Event()
    statuses: list[ActionStatus] = []

    def on_status(_session_id: str, status: ActionStatus) -> None:
        statuses.append(status)
        if status.state not in (ActionState.RUNNING,):
            ended.set()

    log = _Lines()
    LOG.addHandler(log)
    try:
        with Session(
            session_id="cancel-info",
            job_parameter_values={},
            callback=on_status,
            os_env_vars={"STANDIN_TRACE": str(scene.trace), "PYTHONUTF8": "1"},
            session_root_directory=tmp_path,
        ) as session:
            session.run_task(step_script=job.steps[0].script, task_parameter_values={})
            wait_for(lambda: len(scene.events("grandchild")) == 2, timeout=60)
            pids = scene.pids()
            assert len(pids) == 4 and all(alive(p) for p in pids)
            asked = time.monotonic()
            session.cancel_action(time_limit=timedelta(seconds=CANCEL_LIMIT))
            assert ended.wait(60)
            took = time.monotonic() - asked
            info = json.loads((session.working_directory / "cancel_info.json").read_text())
    finally:
        LOG.removeHandler(log)
        cleanup(scene.pids())
    text = "\n".join(log.lines)
    assert statuses[-1].state == ActionState.CANCELED, text[-3000:]
    assert "NotifyEnd" in info
    # STMPO finished on its own (its last words), before openjd's kill at NotifyEnd.
    assert "openjd_fail: STMPO cancelled: every aerender process was stopped" in text, text[-3000:]
    assert "grace shortened from 30 s to " in text
    assert took < CANCEL_LIMIT, f"the worker took {took:.1f} s; openjd kills it at {CANCEL_LIMIT}"
    assert [p for p in pids if alive(p)] == []
