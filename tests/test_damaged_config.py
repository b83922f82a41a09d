"""A damaged AWS or Deadline Cloud configuration file is the user's to fix: every command
says which file in one line and exits 2, never a traceback (the `deadline` library reads
them while importing, so even offline commands such as `stmpo bundle` meet them)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from stmpo.locations import examples_dir

DAMAGE = {
    "aws credentials without a section": (".aws/credentials", b"k\n"),
    "aws config with a broken header": (".aws/config", b"[default\n"),
    "deadline config without a section": (".deadline/config", b"garbage\n"),
    "deadline config that is not UTF-8": (".deadline/config", b"\x00\xff"),
}


def stmpo(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "DEADLINE_")) or k == "DEADLINE_CLOUD_TELEMETRY_OPT_OUT"
    }
    env.update(HOME=str(home), AWS_EC2_METADATA_DISABLED="true")
    return subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_configuration_is_one_line_naming_the_file(tmp_path: Path, damage: str) -> None:
    relative, content = DAMAGE[damage]
    home = tmp_path / "home"
    damaged = home / relative
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(content)
    export = tmp_path / "shot.json"
    shutil.copy(examples_dir() / "several_items.json", export)

    commands = [["submit", str(export)]]
    if relative.startswith(".aws"):  # the Deadline config is only read to submit
        commands.append(["bundle", str(export), "-o", str(tmp_path / "bundle")])
    for command in commands:
        done = stmpo(home, *command)
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode == 2, (command, done.stderr)
        (line,) = done.stderr.strip().splitlines()
        assert str(damaged) in line and "damaged" in line
    assert damaged.read_bytes() == content  # reported, never rewritten
