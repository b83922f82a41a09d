"""`stmpo submit` and the folders outside the known asset paths, through the real CLI and
the real `deadline` library against the local Deadline Cloud server.

The dry run refuses what the real run refuses (one check, `stmpo.submit.asset_paths`),
and the refusal names every folder as a `--known-asset-path` argument ready to paste.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from deadline_server import LocalAws, StorageProfile
from deadline_server.environment import write_deadline_config
from submit_samples import make_export

pytestmark = pytest.mark.slow

HOSTILE = [
    "  spaced  ",
    'it\'s "q" `id` $(id); x|y&z',
    "pct %PATH% ${HOME} * ? [abc]",
    "{{Param.Out}}",
    "Ünïcødé 日本語 🎬",
    "long",
]


def run(
    aws: LocalAws, home: Path, *args: str | Path, extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    env = aws.client_env(home)
    if extra:
        write_deadline_config(home, aws.farm_id, aws.queue_id, extra)
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", "submit", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    return result


def export_writing_to(tmp_path: Path, name: str, folders: list[Path]) -> Path:
    """An export whose items render into `folders` (outside the project's folder) and
    whose footage lies in `<tmp>/plates-<name>` (outside it too)."""
    export = make_export(tmp_path, name, items=len(folders), font=False, footage_frames=2)
    data = json.loads(export.read_text(encoding="utf-8"))
    for item, folder in zip(data["renderQueue"], folders, strict=True):
        item["outputModules"][0]["path"] = str(folder / "out_[#####].png")
    plates = tmp_path / f"plates-{name}"
    plates.mkdir()
    for frame in range(2):
        (plates / f"plate.{frame:04d}.exr").write_bytes(f"{name} {frame}".encode())
    data["footage"][1]["path"] = str(plates / "plate.[0000-0001].exr")
    export.write_text(json.dumps(data), encoding="utf-8")
    return export


def refusal(result: subprocess.CompletedProcess[str], name: str) -> str:
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith(f"[1/1] {name}: failed")]
    return line.split(": failed: ", 1)[1]


def suggested(message: str) -> list[str]:
    """The `--known-asset-path` arguments after "To approve, add:", as a shell reads them."""
    words = shlex.split(message.split("To approve, add: ", 1)[1].split(" (or, for all", 1)[0])
    assert words[::2] == ["--known-asset-path"] * (len(words) // 2)
    return words[1::2]


def test_dry_run_refuses_what_the_real_run_refuses_and_the_fix_is_every_folder(
    aws: LocalAws, tmp_path: Path
) -> None:
    outputs = [tmp_path / "farm-out" / "A", tmp_path / "farm-out" / "B"]
    export = export_writing_to(tmp_path, "shot", outputs)
    home = tmp_path / "home"

    dry = run(aws, home, export, "--dry-run")
    assert dry.returncode == 2, dry.stdout + dry.stderr
    assert "0 of 1 exports succeeded" in dry.stdout
    message = refusal(dry, "shot.json")
    assert message.startswith("--known-asset-path: 1 input folder (its files are uploaded) and 2 ")
    assert "(output)" not in message
    assert "the job renders into them" in message
    plates = tmp_path / "plates-shot"
    assert sorted(suggested(message)) == sorted([str(plates), *map(str, outputs)])

    real = run(aws, home, export)
    assert real.returncode == 2
    assert refusal(real, "shot.json") == message  # the same check, the same words
    assert aws.deadline.calls("CreateJob") == []
    assert "hashing" not in real.stderr and "uploading" not in real.stderr

    approve = [arg for folder in suggested(message) for arg in ("--known-asset-path", folder)]
    dry_ok = run(aws, home, export, "--dry-run", *approve)
    assert dry_ok.returncode == 0, dry_ok.stderr
    real_ok = run(aws, home, export, *approve)
    assert real_ok.returncode == 0, real_ok.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1


def test_the_deadline_setting_known_asset_paths_approves_in_both_runs(
    aws: LocalAws, tmp_path: Path
) -> None:
    export = export_writing_to(tmp_path, "cfg", [tmp_path / "cfg-out"])
    home = tmp_path / "home"
    refused = run(aws, home, export, "--dry-run", "--known-asset-path", tmp_path / "plates-cfg")
    assert refused.returncode == 2
    assert suggested(refusal(refused, "cfg.json")) == [str(tmp_path / "cfg-out")]

    setting = {"settings.known_asset_paths": f"{tmp_path / 'cfg-out'}:{tmp_path / 'plates-cfg'}"}
    dry = run(aws, home, export, "--dry-run", extra=setting)
    assert dry.returncode == 0, dry.stderr
    real = run(aws, home, export, extra=setting)
    assert real.returncode == 0, real.stderr
    assert len(aws.deadline.calls("CreateJob")) == 1


def test_every_hostile_folder_is_named_and_pasting_the_fix_submits(
    aws: LocalAws, tmp_path: Path
) -> None:
    out = tmp_path / "farm-out"
    folders = [out / name for name in HOSTILE]
    export = export_writing_to(tmp_path, "hostile", folders)
    home = tmp_path / "home"
    plates = ["--known-asset-path", str(tmp_path / "plates-hostile")]

    real = run(aws, home, export, *plates)
    assert real.returncode == 2
    message = refusal(real, "hostile.json")
    assert "more" not in message
    assert message.startswith("--known-asset-path: 6 output folders (")
    assert sorted(suggested(message)) == sorted(map(str, folders))
    assert message.endswith(f"(or, for all of them, --known-asset-path {shlex.quote(str(out))})")
    assert aws.deadline.calls("CreateJob") == []

    # The line is a shell's: pasted as it is, it approves exactly those folders.
    fix = message.split("To approve, add: ", 1)[1].split(" (or, for all", 1)[0]
    dry = run(aws, home, export, "--dry-run", *plates, *shlex.split(fix))
    assert dry.returncode == 0, dry.stderr
    real_ok = run(aws, home, export, *plates, *shlex.split(fix))
    assert real_ok.returncode == 0, real_ok.stderr


def test_a_storage_profile_is_checked_by_the_real_run_and_named_unchecked_by_the_dry_run(
    aws: LocalAws, tmp_path: Path
) -> None:
    from deadline_server.service import new_id

    export = export_writing_to(tmp_path, "sp", [tmp_path / "studio" / "renders"])
    plates = ["--known-asset-path", str(tmp_path / "plates-sp")]
    profile = StorageProfile(
        new_id("sp"), "Workstations", "LINUX", [("Studio", str(tmp_path / "studio"), "LOCAL")]
    )
    setting = {"settings.storage_profile_id": profile.storage_profile_id}
    aws.deadline.state.queue.storage_profiles.append(profile)
    try:
        home = tmp_path / "home"
        dry = run(aws, home, export, "--dry-run", *plates, extra=setting)
        assert dry.returncode == 2
        assert (
            f"the storage profile {profile.storage_profile_id} was not checked (a dry run "
            "makes no AWS call): if it lists these folders, the real run accepts them"
        ) in refusal(dry, "sp.json")
        assert aws.deadline.calls() == []
        real = run(aws, home, export, *plates, extra=setting)
        assert real.returncode == 0, real.stderr
        assert len(aws.deadline.calls("CreateJob")) == 1
    finally:
        aws.deadline.state.queue.storage_profiles.remove(profile)


def test_many_folders_under_one_offer_that_one(aws: LocalAws, tmp_path: Path) -> None:
    shots = tmp_path / "farm-out"
    export = export_writing_to(tmp_path, "many", [shots / f"shot{i:03d}" for i in range(13)])
    plates = ["--known-asset-path", str(tmp_path / "plates-many")]
    dry = run(aws, tmp_path / "home", export, "--dry-run", *plates)
    assert dry.returncode == 2
    message = refusal(dry, "many.json")
    assert message.startswith("--known-asset-path: 13 output folders (")
    assert message.endswith(
        f"To approve, add the folder holding all 13: --known-asset-path {shots} "
        "(or one --known-asset-path per folder)"
    )
    approved = run(
        aws, tmp_path / "home", export, "--dry-run", *plates, "--known-asset-path", shots
    )
    assert approved.returncode == 0, approved.stderr
