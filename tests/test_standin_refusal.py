"""An item that already ran: aerender cannot set its Render flag, and the worker fails
the task with aerender's reason (docs/aerender-standin.md, "Render queue item status")."""

from __future__ import annotations

import json
from pathlib import Path

from stmpo_worker_harness import base_env, make_scene, protocol_values, render_argv, run


def test_the_worker_fails_the_task_when_aerender_refuses_a_done_item(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    sidecar = Path(f"{scene.project}.standin.json")
    data = json.loads(sidecar.read_text(encoding="utf-8"))
    data["items"]["1"]["status"] = "DONE"
    sidecar.write_text(json.dumps(data), encoding="utf-8")
    result = run(render_argv(scene, "0-9", "--concurrency=2"), base_env(scene))
    assert result.returncode == 1, result.stdout + result.stderr
    assert not protocol_values(result.stdout, "openjd_progress") or all(
        float(v) < 100 for v in protocol_values(result.stdout, "openjd_progress")
    )
    [fail] = protocol_values(result.stdout, "openjd_fail")
    assert 'Can not set "render" when RenderQueueItem status is RENDERING, STOPPED, or DONE' in fail
    assert not list(scene.out_dir.iterdir())
    assert "Traceback" not in result.stdout + result.stderr
