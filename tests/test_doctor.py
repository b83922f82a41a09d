"""`stmpo doctor` through the real CLI (`stmpo.cli.main`) with a controlled environment:
its own HOME, deadline config and AWS keys, Deadline Cloud at the local server
(tests/deadline_server), and the dynamic loader's cache played by a fake `ldconfig`."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from deadline_server import DeadlineServer
from deadline_server.environment import write_deadline_config
from stmpo.cli import main
from stmpo.doctor_checks import QT_XCB_LIBRARIES
from stmpo.locations import aerender_standin

SECRET = "doctor-test-secret-never-shown"


def fake_ldconfig(folder: Path, sonames: list[str]) -> Path:
    """A stand-in for glibc's `ldconfig -p` (ldconfig(8)): a count line, then one
    `\\tSONAME (libc6,x86-64) => PATH` line per library in the loader's cache."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [f"{len(sonames)} libs found in cache `/etc/ld.so.cache'"]
    lines += [f"\t{so} (libc6,x86-64) => /lib/x86_64-linux-gnu/{so}" for so in sonames]
    script = folder / "ldconfig"
    body = "\n".join(lines)
    script.write_text(f"#!/bin/sh\ncat <<'EOF'\n{body}\nEOF\n", encoding="utf-8")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


ALL_QT = [so for so, _ in QT_XCB_LIBRARIES]


@pytest.fixture
def doctor_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: DeadlineServer
) -> DeadlineServer:
    """A newcomer's machine with everything in place; each test takes one thing away."""
    server.reset()
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("DEADLINE_CONFIG_FILE_PATH", str(home / ".deadline" / "config"))
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "LD_LIBRARY_PATH", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIADOCTORTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL_DEADLINE", server.endpoint_url)
    monkeypatch.setenv("AWS_DISABLE_HOST_PREFIX_INJECTION", "true")
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setenv("AERENDER_PATH", str(aerender_standin()))
    bin_dir = tmp_path / "bin"
    fake_ldconfig(bin_dir, ALL_QT)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    write_deadline_config(home, server.state.farm.farm_id, server.state.queue.queue_id)
    return server


def doctor(
    capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, dict[str, dict[str, str]], str]:
    code = main(["doctor", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    assert SECRET not in out + err
    by_name: dict[str, dict[str, str]] = {}
    if "--json" in args:
        for check in json.loads(out)["checks"]:
            by_name[check["check"]] = check
    else:
        for line in out.splitlines():
            status, _, rest = line.partition(" ")
            name, _, detail = rest.strip().partition(": ")
            by_name[name] = {"status": status, "detail": detail}
    return code, by_name, out + err


def test_everything_in_place_is_ok_and_reaches_the_farm(
    doctor_env: DeadlineServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code, checks, out = doctor(capsys)
    assert code == 0, out
    for name in ("python", "qt", "deadline-config", "credentials", "farm", "queue", "aerender"):
        assert checks[name]["status"] == "ok", out
    farm, queue = doctor_env.state.farm, doctor_env.state.queue
    assert (
        farm.farm_id in checks["farm"]["detail"] and farm.display_name in checks["farm"]["detail"]
    )
    assert queue.queue_id in checks["queue"]["detail"]
    assert "credentials from env" in checks["credentials"]["detail"]
    assert str(aerender_standin()) in checks["aerender"]["detail"]
    assert checks["fonts"]["status"] in ("ok", "WARN")
    assert len(doctor_env.calls("GetFarm")) == 1 and len(doctor_env.calls("GetQueue")) == 1


def test_a_missing_xcb_cursor_blocks_and_names_the_debian_package(
    doctor_env: DeadlineServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_ldconfig(tmp_path / "bin", [so for so in ALL_QT if so != "libxcb-cursor.so.0"])
    code, checks, out = doctor(capsys, "--json")
    assert code == 1
    assert json.loads(out)["ok"] is False
    assert checks["qt"]["status"] == "MISSING"
    assert "libxcb-cursor.so.0" in checks["qt"]["detail"]
    assert "apt-get install libxcb-cursor0" in checks["qt"]["fix"]
    assert "libxcb-icccm4" not in checks["qt"]["fix"]


def test_offscreen_qt_needs_no_x11_libraries(
    doctor_env: DeadlineServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake_ldconfig(tmp_path / "bin", [])
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    code, checks, _ = doctor(capsys)
    assert checks["qt"]["status"] == "ok" and "offscreen" in checks["qt"]["detail"]
    assert code == 0


def test_no_farm_configured_blocks_with_the_config_command(
    doctor_env: DeadlineServer, capsys: pytest.CaptureFixture[str]
) -> None:
    write_deadline_config(Path.home(), None, None)
    code, checks, out = doctor(capsys)
    assert code == 1
    assert "MISSING deadline-config: no farm chosen" in out
    assert "deadline config set defaults.farm_id" in out
    assert checks["farm"]["status"] == "WARN"  # not checked: the miss is the config's
    assert doctor_env.calls("GetFarm") == []


def test_no_credentials_blocks_without_calling_the_farm(
    doctor_env: DeadlineServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    code, checks, out = doctor(capsys)
    assert code == 1
    assert checks["credentials"]["status"] == "MISSING"
    assert "deadline auth login" in out
    # one miss, one fix: the farm is "not checked", not a second MISSING
    assert checks["farm"]["status"] == "WARN" and "not checked" in checks["farm"]["detail"]
    assert [name for name, c in checks.items() if c["status"] == "MISSING"] == ["credentials"]
    assert doctor_env.calls("GetFarm") == []


def test_a_farm_the_service_does_not_know_blocks(
    doctor_env: DeadlineServer, capsys: pytest.CaptureFixture[str]
) -> None:
    unknown = "farm-" + "0" * 32
    code, checks, _ = doctor(capsys, "--farm-id", unknown, "--json")
    assert code == 1
    assert checks["farm"]["status"] == "MISSING"
    assert "ResourceNotFoundException" in checks["farm"]["detail"]
    # the id came from the argument: the config line and the fix say so
    assert f"farm {unknown} (from --farm-id)" in checks["deadline-config"]["detail"]
    assert checks["farm"]["fix"].startswith("check --farm-id"), checks["farm"]


def test_missing_aerender_only_warns(
    doctor_env: DeadlineServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AERENDER_PATH")
    code, checks, out = doctor(capsys)
    assert checks["aerender"]["status"] == "WARN"
    assert "AERENDER_PATH" in out
    assert code == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--farm-id", "my-farm"], "--farm-id"),
        (["--queue-id", "q1"], "--queue-id"),
        (["--profile", "nobody-has-this"], "--profile"),
    ],
)
def test_bad_arguments_exit_2_naming_them(
    doctor_env: DeadlineServer,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    named: str,
) -> None:
    assert main(["doctor", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"stmpo doctor: {named}") and len(err.strip().splitlines()) == 1


def test_the_readme_names_every_debian_package_doctor_asks_for() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert [p for _, p in QT_XCB_LIBRARIES if f" {p}" not in readme] == []


def test_a_damaged_deadline_config_is_named_and_nothing_else_is_guessed(
    doctor_env: DeadlineServer, capsys: pytest.CaptureFixture[str]
) -> None:
    config = Path.home() / ".deadline" / "config"
    config.write_text("[defaults\nfarm_id = x\n", encoding="utf-8")
    code, checks, _ = doctor(capsys)
    assert code == 1
    assert checks["deadline-config"]["status"] == "MISSING"
    assert str(config) in checks["deadline-config"]["detail"]
    assert checks["credentials"]["detail"].startswith("not checked")
    assert doctor_env.calls("GetFarm") == []
