"""The job runs only where it can, and never forever: host requirements and timeouts
through the real `stmpo bundle`, `stmpo validate` and `stmpo submit` (issue 9)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from deadline_server import LocalAws
from stmpo.cli import main
from submit_samples import make_export

OS_REQUIREMENT = {"attributes": [{"name": "attr.worker.os.family", "anyOf": ["windows", "macos"]}]}
BIG_WINDOWS = {
    "attributes": [{"name": "attr.worker.os.family", "anyOf": ["windows"]}],
    "amounts": [{"name": "amount.worker.vcpu", "min": 32}],
}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    items = [item(1, end=99), item(2, end=9)]
    return write_export(tmp_path / "export.json", export_dict(items))


def template_of(bundle: Path) -> dict[str, Any]:
    return yaml.safe_load((bundle / "template.yaml").read_text(encoding="utf-8"))


def actions_of(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every action of the template by where it is, environments and steps."""
    found = {}
    for env in template.get("jobEnvironments", []):
        for name, action in env["script"]["actions"].items():
            found[f"{env['name']}.{name}"] = action
    for step in template["steps"]:
        for name, action in step["script"]["actions"].items():
            found[f"{step['name']}.{name}"] = action
    return found


def test_default_bundle_keeps_off_linux_and_bounds_every_action(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    assert run_cli(["bundle", str(export_file), "-o", str(out)], capsys)[0] == 0
    template = template_of(out)
    assert [s["hostRequirements"] for s in template["steps"]] == [OS_REQUIREMENT] * 2
    timeouts = {where: action.get("timeout") for where, action in actions_of(template).items()}
    assert timeouts == {
        "STMPO Outputs.onEnter": 600,
        "STMPO Outputs.onExit": 600,
        "RQ 001 MAIN comp.onRun": 172_800,
        "RQ 002 MAIN comp.onRun": 172_800,
    }
    assert run_cli(["validate", str(out)], capsys)[0] == 0


@pytest.mark.parametrize("kind", ["yaml", "json"])
def test_host_requirements_file_replaces_the_default_and_task_timeout_applies(
    kind: str, export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / f"hosts.{kind}"
    spec.write_text(
        yaml.safe_dump(BIG_WINDOWS) if kind == "yaml" else json.dumps(BIG_WINDOWS),
        encoding="utf-8",
    )
    out = tmp_path / "bundle"
    args = ["bundle", str(export_file), "-o", str(out), "--host-requirements", str(spec)]
    code, _, err = run_cli([*args, "--task-timeout", "3600"], capsys)
    assert code == 0, err
    template = template_of(out)
    # replaces, not adds: exactly the file's requirements, Windows only
    assert [s["hostRequirements"] for s in template["steps"]] == [BIG_WINDOWS] * 2
    runs = [s["script"]["actions"]["onRun"]["timeout"] for s in template["steps"]]
    assert runs == [3600, 3600]
    assert template["jobEnvironments"][0]["script"]["actions"]["onEnter"]["timeout"] == 600
    assert run_cli(["validate", str(out)], capsys)[0] == 0


@pytest.mark.parametrize(
    ("flag", "content", "needle"),
    [
        (
            "--host-requirements",
            "attributes:\n- name: attr.worker.os.family\n  anyOf: [dos]\n",
            "attributes[0] -> anyOf",
        ),
        (
            "--host-requirements",
            "amounts:\n- name: amount.worker.vcpu\n  min: -4\n",
            "amounts[0] -> min",
        ),
        ("--host-requirements", "- windows\n", "expected an OpenJD hostRequirements object"),
        ("--host-requirements", "a: &x [1]\nb: *x\n", "anchors and aliases"),
        ("--host-requirements", '{"attributes": [', "not JSON"),
        ("--host-requirements", "colour: blue\n", "colour"),
        ("--task-timeout", "5", "from 60 to 2592000"),
        ("--task-timeout", "two days", "from 60 to 2592000"),
        ("--task-timeout", "9" * 5000, "from 60 to 2592000"),
        ("--task-timeout", "2592001", "from 60 to 2592000"),
    ],
)
def test_bad_requirements_or_timeout_exit_2_naming_the_flag_and_write_nothing(
    flag: str,
    content: str,
    needle: str,
    export_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    value = content
    if flag == "--host-requirements":
        value = str(tmp_path / "hosts.yaml")
        Path(value).write_text(content, encoding="utf-8")
    out = tmp_path / "bundle"
    code, _, err = run_cli(["bundle", str(export_file), "-o", str(out), flag, value], capsys)
    assert code == 2
    [line] = err.strip().splitlines()
    assert line.startswith(f"stmpo bundle: {flag}") and needle in line, line
    assert "Traceback" not in err
    assert not out.exists()


@pytest.mark.parametrize("what", ["missing", "folder", "device"])
def test_a_host_requirements_path_that_is_no_file_is_exit_2(
    what: str, export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = {"missing": tmp_path / "nope.yaml", "folder": tmp_path, "device": Path("/dev/zero")}
    out = tmp_path / "bundle"
    args = ["bundle", str(export_file), "-o", str(out), "--host-requirements", str(path[what])]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.startswith("stmpo bundle: --host-requirements: ") and "not a file" in err, err
    assert not out.exists()


@pytest.mark.slow
def test_submit_sends_the_requirements_and_timeouts_to_create_job(
    aws: LocalAws, tmp_path: Path
) -> None:
    """The real `stmpo submit` subprocess, the real deadline library, the local service."""
    export = make_export(tmp_path, "shot020", items=2, footage_frames=1)
    spec = tmp_path / "hosts.json"
    spec.write_text(json.dumps(BIG_WINDOWS), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    args = ["submit", str(export), "--host-requirements", str(spec), "--task-timeout", "7200"]
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        env=aws.client_env(home),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (create,) = aws.deadline.calls("CreateJob")
    template = yaml.safe_load(create.body["template"])
    assert [s["hostRequirements"] for s in template["steps"]] == [BIG_WINDOWS] * 2
    timeouts = sorted(a.get("timeout") for a in actions_of(template).values())
    assert timeouts == [600, 600, 7200, 7200]


@pytest.mark.slow
def test_submit_refuses_a_bad_host_requirements_file_before_any_call(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = make_export(tmp_path, "shot030", items=1, footage_frames=1)
    spec = tmp_path / "hosts.yaml"
    spec.write_text("attributes:\n- name: attr.worker.os.family\n  anyOf: [beos]\n", "utf-8")
    home = tmp_path / "home"
    home.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", "submit", str(export), "--host-requirements", str(spec)],
        env=aws.client_env(home),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("stmpo submit: --host-requirements: "), result.stderr
    assert "anyOf" in result.stderr and "Traceback" not in result.stderr
    assert aws.deadline.calls("CreateJob") == []


@pytest.mark.slow
def test_skip_submitted_knows_a_different_timeout_or_host_requirement_is_a_new_job(
    aws: LocalAws, tmp_path: Path
) -> None:
    """The same export with the default settings is skipped; with another task timeout or
    host requirements it is a different job and goes through."""
    export = make_export(tmp_path, "shot040", items=1, footage_frames=1)
    spec = tmp_path / "hosts.json"
    spec.write_text(json.dumps(BIG_WINDOWS), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    report = tmp_path / "report.json"

    def submit(*extra: str) -> subprocess.CompletedProcess[str]:
        args = ["submit", str(export), "--report", str(report), "--skip-submitted", *extra]
        return subprocess.run(
            [sys.executable, "-m", "stmpo", *args],
            env=aws.client_env(home),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )

    for extra, creates in [
        ((), 1),
        (("--task-timeout", "172800"), 1),  # the default, spelt out: the same job
        (("--task-timeout", "3600"), 2),
        (("--task-timeout", "3600"), 2),
        (("--task-timeout", "3600", "--host-requirements", str(spec)), 3),
    ]:
        result = submit(*extra)
        assert result.returncode == 0, result.stderr
        assert len(aws.deadline.calls("CreateJob")) == creates, (extra, result.stderr)
