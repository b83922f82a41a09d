"""Test-wide safety: nothing here may reach the internet or a real AWS account.

Set before any test imports boto3 or the deadline library (both read the environment
at import or first use): no instance-metadata lookups, no telemetry, Qt offscreen.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, settings

if TYPE_CHECKING:
    from deadline_server import DeadlineServer, LocalAws

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["DEADLINE_CLOUD_TELEMETRY_OPT_OUT"] = "true"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# The suite shares 2 cores with whatever else runs: how fast Hypothesis can draw
# examples is not what these tests check (its deadline and slow-draw checks flaked).
settings.register_profile("stmpo", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("stmpo")

# The worker's memory guard (stmpo_worker/memory.py) reads this test hook instead of the
# host's available RAM: the stand-in uses none, and this host has less free RAM than the
# default RamPerProcessGB (32), so every second process would wait for the first to end.
# The guard's own tests set their value (tests/test_worker_watchdogs.py).
os.environ["STMPO_FAKE_MEM_AVAILABLE_GB"] = "1024"

os.environ["NO_PROXY"] = ",".join(
    filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])
)


@pytest.fixture(scope="session", autouse=True)
def every_written_bundle_fits_windows_command_lines(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Issue 9: after the session, every bundle stmpo wrote under this session's temp
    folder (its `.stmpo-bundle` marker) has every action's worst-case command line within
    what any Windows worker agent can start (test_command_lines.py says how it is
    measured). A failure shows as an error in the last test's teardown."""
    yield
    import yaml
    from stmpo.bundle.command_lines import MAX_COMMAND_LINE, worst_command_lines
    from stmpo.bundle.marker import listed_files

    over: list[str] = []
    for marker in tmp_path_factory.getbasetemp().rglob(".stmpo-bundle"):
        try:
            listed = listed_files(marker.read_text("utf-8"))
            if listed is None or "template.yaml" not in listed:
                continue  # a test's hand-made marker: not a bundle stmpo wrote
            template = yaml.safe_load((marker.parent / "template.yaml").read_text("utf-8"))
        except (OSError, ValueError, yaml.YAMLError):
            continue  # a test's hand-made or damaged bundle: not one stmpo built
        if not isinstance(template, dict) or not isinstance(template.get("steps"), list):
            continue
        over += [
            f"{marker.parent}: {where}: {len(line)} characters"
            for where, line in worst_command_lines(template)
            if len(line) > MAX_COMMAND_LINE
        ]
    shown = "\n".join(over[:20]) + (f"\n... and {len(over) - 20} more" if len(over) > 20 else "")
    assert over == [], f"command lines too long for a Windows worker:\n{shown}"


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """One local Deadline Cloud + moto per test process, shared by the wire tests."""
    from deadline_server import LocalAws

    local = LocalAws.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def aws(local_aws: LocalAws) -> Iterator[LocalAws]:
    """The shared servers with a clean request log; fails a test that hit a missing op."""
    local_aws.deadline.reset()
    yield local_aws
    unhandled = list(local_aws.deadline.unhandled)
    local_aws.deadline.reset()
    assert unhandled == [], f"the client called operations the server lacks: {unhandled}"


@pytest.fixture
def gui_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A HOME of its own for the deadline library: no real config, profile or keys."""
    home = tmp_path / "home"
    (home / ".deadline").mkdir(parents=True)
    (home / ".aws").mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("DEADLINE_CONFIG_FILE_PATH", str(home / ".deadline" / "config"))
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return home


@pytest.fixture
def make_dialog(qtbot: Any, gui_home: Path) -> Iterator[Callable[[Path], Any]]:
    """Opens the real submitter on an export, closed when the test ends."""
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog

    dialogs: list[Any] = []

    def factory(export_path: Path) -> Any:
        dialog = build_dialog(load_export(export_path), str(export_path))
        qtbot.addWidget(dialog)
        dialog.show()
        dialogs.append(dialog)
        return dialog

    yield factory
    for dialog in dialogs:
        dialog.close()


@pytest.fixture(scope="module")
def server() -> Iterator[DeadlineServer]:
    """A local Deadline Cloud server of the module's own (no moto, no S3)."""
    from deadline_server import DeadlineServer

    with DeadlineServer("bucket") as running:
        yield running


@pytest.fixture
def client(server: DeadlineServer) -> Iterator[Any]:
    """A botocore Deadline client on `server`, with the server's records reset."""
    import boto3
    from botocore.config import Config

    server.reset()
    yield boto3.client(
        "deadline",
        endpoint_url=server.endpoint_url,
        region_name="us-west-2",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(inject_host_prefix=False, retries={"max_attempts": 1}, proxies={}),
    )
    server.reset()
