"""`stmpo submit` never uploads what the artist did not mean to, through the real wire path:
a subprocess with the real `deadline` library, the local Deadline Cloud server and moto S3.

HOME is a temporary folder holding a fake SSH key. Each refusal is checked where it
matters: no CreateJob, and the refused file's bytes are nowhere in the bucket.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import xxhash
from deadline_server import LocalAws
from deadline_server.environment import write_deadline_config
from submit_samples import make_export

pytestmark = pytest.mark.slow


def submit(
    aws: LocalAws,
    home: Path,
    *args: str | Path,
    settings: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    environment = aws.client_env(home)
    if settings:
        write_deadline_config(home, aws.farm_id, aws.queue_id, settings)
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", "submit", *map(str, args)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def in_bucket(aws: LocalAws, content: bytes) -> bool:
    digest = xxhash.xxh3_128_hexdigest(content)
    return f"{aws.root_prefix}/Data/{digest}.xxh128" in aws.objects(aws.root_prefix + "/")


def failed_line(result: subprocess.CompletedProcess[str]) -> str:
    (line,) = [line for line in result.stderr.splitlines() if ": failed: " in line]
    return line


def add_footage(export: Path, path: Path) -> None:
    data = json.loads(export.read_text(encoding="utf-8"))
    data["footage"].append({"path": str(path), "sequence": False, "missing": False})
    export.write_text(json.dumps(data), encoding="utf-8")


def test_a_key_in_dot_ssh_never_reaches_the_bucket_without_both_opt_ins(
    aws: LocalAws, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    key = home / ".ssh" / "id_ed25519"
    key.parent.mkdir(parents=True)
    content = b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + os.urandom(48)
    key.write_bytes(content)
    export = make_export(tmp_path, "shot", font=False, footage_frames=1)
    add_footage(export, key)

    refused = submit(aws, home, export)
    assert refused.returncode == 2, refused.stderr
    assert failed_line(refused) == (
        f"[1/1] shot.json: failed: footage[2].path: refusing to upload the file {key}: it is "
        "in a credentials location; pass --allow-secret-paths if uploading credentials is "
        "really meant"
    )
    assert aws.deadline.calls("CreateJob") == [] and not in_bucket(aws, content)

    # Allowing the category is not enough: ~/.ssh is still outside the known asset paths.
    unknown = submit(aws, home, export, "--allow-secret-paths")
    assert unknown.returncode == 2, unknown.stderr
    line = failed_line(unknown)
    assert line.startswith(
        "[1/1] shot.json: failed: --known-asset-path: 1 input folder (its files are "
        "uploaded) outside the known asset paths"
    )
    assert line.endswith(f"To approve, add: --known-asset-path {key.parent}")
    assert aws.deadline.calls("CreateJob") == [] and not in_bucket(aws, content)

    allowed = submit(aws, home, export, "--allow-secret-paths", "--known-asset-path", key.parent)
    assert allowed.returncode == 0, allowed.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1 and in_bucket(aws, content)


def test_footage_outside_the_project_folder_needs_a_known_asset_path(
    aws: LocalAws, tmp_path: Path
) -> None:
    stock = tmp_path / "stock library" / "clouds.mov"
    stock.parent.mkdir()
    content = b"MOV " + os.urandom(64)
    stock.write_bytes(content)
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    add_footage(export, stock)
    home = tmp_path / "home"

    refused = submit(aws, home, export)
    assert refused.returncode == 2, refused.stderr
    assert failed_line(refused).endswith(f"To approve, add: --known-asset-path '{stock.parent}'")
    assert aws.deadline.calls("CreateJob") == [] and not in_bucket(aws, content)

    # The deadline setting counts as known, exactly as for `deadline bundle submit`.
    configured = submit(
        aws, home, export, settings={"settings.known_asset_paths": str(stock.parent)}
    )
    assert configured.returncode == 0, configured.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1 and in_bucket(aws, content)


def test_submission_hooks_run_only_with_yes(aws: LocalAws, tmp_path: Path) -> None:
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    marker = tmp_path / "hook-ran"
    script = f"open({str(marker)!r}, 'w').write('ran')"
    (hooks / "hooks.json").write_text(
        json.dumps(
            {
                "version": "1.0",
                "postSubmission": [{"command": sys.executable, "args": ["-c", script]}],
            }
        ),
        encoding="utf-8",
    )
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    home = tmp_path / "home"
    settings = {"settings.allow_environment_hooks": "true"}
    env = {"DEADLINE_HOOKS_DIR": str(hooks)}

    refused = submit(aws, home, export, settings=settings, env=env)
    assert refused.returncode == 2, refused.stderr
    assert failed_line(refused) == (
        "[1/1] shot.json: failed: --yes: the job would run submission hooks, which need your "
        "confirmation; nothing was uploaded: pass --yes to run them"
    )
    assert aws.deadline.calls("CreateJob") == [] and not marker.exists()

    accepted = submit(aws, home, export, "--yes", settings=settings, env=env)
    assert accepted.returncode == 0, accepted.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1 and marker.read_text() == "ran"
