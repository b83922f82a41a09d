"""A bundle for every sample export is one the service accepts and a worker would run.

Each sample in resources/examples is bundled through the real `stmpo bundle`, sent to the
local Deadline Cloud server's CreateJob (which refuses what the service refuses), and
checked the way a Windows service-managed worker would take it (`worker_acceptance`):
an OS requirement on every step that matches Windows and not Linux, a timeout on every
action, and (hooks, wired by the other parts of issue 9) conda parameters and command
lines within budget.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from deadline_server import DeadlineServer
from stmpo.cli import main
from stmpo.export.sources import load_any
from stmpo.locations import examples_dir, sample_exports
from worker_acceptance import (
    os_problems,
    timeout_problems,
    typed_parameters,
    worker_refusals,
)

SAMPLES = sample_exports()
assert len(SAMPLES) >= 9, f"sample exports missing from {examples_dir()}"


def bundle(sample: Path, out: Path, *extra: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`stmpo bundle` for the sample; a sample with nothing preselected gets every item
    the artist could pick, as the submitter would offer them."""
    args = ["bundle", str(sample), "-o", str(out), *extra]
    export = load_any(sample)
    if not export.renderable_items:
        args += ["--items", ",".join(str(i.index) for i in export.render_queue if i.selectable)]
    assert main(args) == 0
    template = yaml.safe_load((out / "template.yaml").read_text(encoding="utf-8"))
    values = yaml.safe_load((out / "parameter_values.yaml").read_text(encoding="utf-8"))
    return template, values["parameterValues"]


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_sample_bundle_is_accepted_by_the_service_and_a_windows_worker(
    sample: Path,
    tmp_path: Path,
    server: DeadlineServer,
    client: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    template, values = bundle(sample, tmp_path / "bundle")
    capsys.readouterr()
    assert worker_refusals(template, values) == []
    ids = {"farmId": server.state.farm.farm_id, "queueId": server.state.queue.queue_id}
    job = client.create_job(
        **ids,
        template=(tmp_path / "bundle" / "template.yaml").read_text(encoding="utf-8"),
        templateType="YAML",
        priority=50,
        parameters=typed_parameters(template, values),
    )
    assert client.get_job(**ids, jobId=job["jobId"])["lifecycleStatus"] == "CREATE_COMPLETE"


def test_the_checks_refuse_a_linux_job_and_an_action_without_timeout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The acceptance checks can fail: a Linux-only requirement given to the real CLI, and
    a template that lost one timeout."""
    linux = tmp_path / "linux.yaml"
    linux.write_text("attributes:\n- name: attr.worker.os.family\n  anyOf: [linux]\n", "utf-8")
    sample = examples_dir() / "several_items.json"
    template, _ = bundle(sample, tmp_path / "b", "--host-requirements", str(linux))
    capsys.readouterr()
    refusals = os_problems(template)
    assert len(refusals) == 2 * len(template["steps"])
    assert "no Windows worker matches" in refusals[0] and "would run on Linux" in refusals[1]

    lost = copy.deepcopy(template)
    del lost["steps"][1]["script"]["actions"]["onRun"]["timeout"]
    del lost["jobEnvironments"][0]["script"]["actions"]["onExit"]["timeout"]
    assert timeout_problems(template) == []
    assert timeout_problems(lost) == [
        "STMPO Outputs.onExit: no timeout (a hung action holds the worker forever)",
        f"{template['steps'][1]['name']}.onRun: no timeout (a hung action holds the worker "
        "forever)",
    ]
