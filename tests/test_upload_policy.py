"""Upload safety through the real CLI (`stmpo bundle`, `stmpo submit --dry-run`):
credentials locations and broad folders are refused with exit 2 naming the export's JSON
path and the opt-in flag, before any bundle is written; the opt-in lets them through; the
summary and the report say how many files and bytes a job uploads.

HOME points at a temporary folder holding a fake key, so nothing real is read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from stmpo.cli import main
from submit_samples import make_export

KEY = b"-----BEGIN OPENSSH PRIVATE KEY-----\nfake test key\n"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_ed25519").write_bytes(KEY)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("USERPROFILE", str(home))
    return home


def add_footage(export: Path, *entries: dict[str, Any]) -> Path:
    data = json.loads(export.read_text(encoding="utf-8"))
    data["footage"] += [{"sequence": False, "missing": False, **entry} for entry in entries]
    export.write_text(json.dumps(data), encoding="utf-8")
    return export


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def inputs_of(bundle: Path) -> dict[str, list[str]]:
    refs = yaml.safe_load((bundle / "asset_references.yaml").read_text(encoding="utf-8"))
    return dict(refs["assetReferences"]["inputs"])


def test_bundle_refuses_a_key_in_dot_ssh_unless_opted_in(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = home / ".ssh" / "id_ed25519"
    export = add_footage(make_export(tmp_path, "shot", font=False), {"path": str(key)})
    out = tmp_path / "bundle"
    code, _, err = run(capsys, "bundle", export, "-o", out)
    assert code == 2
    assert err.splitlines() == [
        f"stmpo bundle: footage[2].path: refusing to upload the file {key}: it is in a "
        "credentials location; pass --allow-secret-paths if uploading credentials is "
        "really meant"
    ]
    assert not out.exists()

    code, _, err = run(capsys, "bundle", export, "-o", out, "--allow-secret-paths")
    assert code == 0, err
    assert str(key) in inputs_of(out)["filenames"]


@pytest.mark.parametrize(
    "secret",
    [".aws/credentials", ".config/gcloud/credentials.db", ".netrc", ".kube/config"],
)
def test_other_credentials_locations_and_symlinks_to_them_are_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], secret: str
) -> None:
    target = home / secret
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"secret")
    innocent = tmp_path / "shot" / "looks_like_footage.png"
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    innocent.symlink_to(target)
    add_footage(export, {"path": str(target)}, {"path": str(innocent)})
    code, _, err = run(capsys, "bundle", export, "-o", tmp_path / "bundle")
    assert code == 2
    lines = err.splitlines()
    assert lines[0] == "stmpo bundle: 2 problems:"
    assert lines[1].startswith(f"  - footage[1].path: refusing to upload the file {target}:")
    assert lines[2].startswith(f"  - footage[2].path: refusing to upload the file {innocent}:")
    assert all("--allow-secret-paths" in line for line in lines[1:])


def test_a_sequence_whose_folder_is_the_home_folder_is_refused_as_broad(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "artist"
    home.mkdir()
    (home / "notes.txt").write_text("private", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    # No frame of this sequence exists, so the bundle would attach its whole folder: $HOME.
    add_footage(export, {"path": str(home / "render.[0000-0099].exr"), "sequence": True})
    out = tmp_path / "bundle"
    code, _, err = run(capsys, "bundle", export, "-o", out)
    assert code == 2
    assert err.splitlines() == [
        f"stmpo bundle: footage[1].path: refusing to upload the folder {home}: it is your "
        "home folder; pass --allow-broad-assets if uploading a folder far wider than the "
        "project is really meant"
    ]
    assert not out.exists()
    code, _, err = run(capsys, "bundle", export, "-o", out, "--allow-broad-assets")
    assert code == 0, err
    assert inputs_of(out)["directories"] == [str(home)]


def test_a_folder_far_larger_than_the_project_is_refused(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dump = tmp_path / "dump"
    dump.mkdir()
    for n in range(1_050):  # more than BROAD_MIN_FILES, and more than 10x the project's files
        (dump / f"f{n}").write_bytes(b"x")
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    add_footage(export, {"path": str(dump / "gone.[0000-0009].exr"), "sequence": True})
    code, _, err = run(capsys, "bundle", export, "-o", tmp_path / "bundle")
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith(f"stmpo bundle: footage[1].path: refusing to upload the folder {dump}")
    assert "more than 1000 files" in line and "--allow-broad-assets" in line

    for n in range(1_050):
        (dump / f"f{n}").unlink()
    for n in range(5):
        (dump / f"f{n}").write_bytes(b"x")
    code, _, err = run(capsys, "bundle", export, "-o", tmp_path / "bundle")
    assert code == 0, err


def test_dry_run_reports_files_and_bytes_to_upload(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = make_export(tmp_path, "plain", font=False, footage_frames=0)
    more = make_export(tmp_path, "more", font=False, footage_frames=3)
    frames = sorted((tmp_path / "more" / "plates").glob("plate.*.exr"))
    report = tmp_path / "report.json"
    bundles = tmp_path / "bundles"
    code, out, err = run(
        capsys, "submit", plain, more, "--dry-run", "--report", report, "--bundles-dir", bundles
    )
    assert code == 0, err
    entries = {Path(e["path"]).name: e for e in json.loads(report.read_text())["exports"]}
    a, b = entries["plain.json"], entries["more.json"]
    assert a["uploadComplete"] is True and b["uploadComplete"] is True
    assert b["uploadFiles"] - a["uploadFiles"] == len(frames) == 3
    # Each export's own files, and the files its bundle writes for the job (the items'
    # JSON, output_dirs.json: uploaded too, and longer for a longer comp name).
    own = {
        name: sum(p.stat().st_size for p in (tmp_path / name).rglob("*") if p.is_file())
        + sum(p.stat().st_size for p in (bundles / name / "scripts" / "items").glob("*.json"))
        + (bundles / name / "scripts" / "output_dirs.json").stat().st_size
        for name in ("plain", "more")
    }
    assert b["uploadBytes"] - a["uploadBytes"] == own["more"] - own["plain"]
    for name, entry in entries.items():
        files = entry["uploadFiles"]
        folder = bundles / name.removesuffix(".json")
        assert f"{name}: bundle validated, written to {folder}; uploads {files} files, " in err
        row = next(line for line in out.splitlines() if line.startswith(name))
        assert f"; uploads {files} files, " in row


def test_dry_run_refuses_a_secret_naming_the_json_path(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = home / ".ssh" / "id_ed25519"
    export = add_footage(make_export(tmp_path, "shot", font=False), {"path": str(key)})
    report = tmp_path / "report.json"
    code, _, err = run(capsys, "submit", export, "--dry-run", "--report", report)
    assert code == 2
    (failed,) = [line for line in err.splitlines() if "failed" in line]
    assert failed.startswith(
        f"[1/1] shot.json: failed: footage[2].path: refusing to upload the file {key}"
    )
    (entry,) = json.loads(report.read_text())["exports"]
    assert entry["status"] == "error" and entry["errorKind"] == "input"
    # Allowing the category is not enough: ~/.ssh is outside the known asset paths, and
    # the dry run refuses that as the real run does.
    code, _, err = run(capsys, "submit", export, "--dry-run", "--allow-secret-paths")
    assert code == 2 and f"To approve, add: --known-asset-path {key.parent}" in err, err
    code, _, err = run(
        capsys,
        "submit",
        export,
        "--dry-run",
        "--allow-secret-paths",
        "--known-asset-path",
        str(key.parent),
    )
    assert code == 0, err


def test_the_submitting_process_environment_is_never_an_input(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/proc/self/environ holds the submitter's AWS keys: as footage or --input-file."""
    export = add_footage(make_export(tmp_path, "shot", font=False), {"path": "/proc/self/environ"})
    code, _, err = run(capsys, "bundle", export, "-o", tmp_path / "b")
    assert code == 2 and "footage[2].path: refusing to upload" in err, err
    plain = make_export(tmp_path, "plain", font=False, footage_frames=0)
    code, _, err = run(
        capsys, "bundle", plain, "-o", tmp_path / "c", "--input-file", "/proc/self/environ"
    )
    assert code == 2 and "--input-file" in err and "refusing to upload" in err, err


def test_project_file_in_dot_ssh_via_parameter_names_the_argument(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = make_export(tmp_path, "shot", font=False, footage_frames=0)
    key = home / ".ssh" / "id_ed25519"
    code, _, err = run(capsys, "bundle", export, "-o", tmp_path / "b", "-p", f"ProjectFile={key}")
    assert code == 2
    assert err.startswith("stmpo bundle: -p ProjectFile: refusing to upload the file")
    assert os.path.exists(key)


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/", "a filesystem or drive root"),
        ("C:\\", "a filesystem or drive root"),
        ("\\\\server\\share", "a filesystem or drive root"),
        ("/home", "the folder holding the home folders"),
        ("/Users/ana", "a home folder"),
        ("D:\\Users\\ana", "a home folder"),
        ("/projects/spot/plates", None),
        ("C:\\Users\\ana\\Documents\\spot", None),
    ],
)
def test_broad_folders_in_either_os_convention(path: str, reason: str | None) -> None:
    """Exports follow the artist's OS, so a Windows path is judged on Linux too."""
    from stmpo.bundle.upload_policy import broad_folder_reason

    assert broad_folder_reason(path) == reason


@pytest.mark.parametrize(
    ("path", "secret"),
    [
        ("C:\\Users\\ana\\AppData\\Roaming\\Microsoft\\Credentials\\AB12", True),
        ("C:\\Users\\ana\\.aws\\credentials", True),
        ("/Users/ana/Library/Keychains/login.keychain-db", True),
        ("/etc/shadow", True),
        ("/proc/self/environ", True),
        ("/proc/1/root/home/ana/.aws", True),
        ("/dev/shm/frame.png", True),
        ("/mnt/backup/bob/.gnupg/secring.gpg", True),
        ("/projects/spot/.sshots/frame.png", False),
        ("C:\\Users\\ana\\Documents\\spot.aep", False),
    ],
)
def test_credentials_locations_in_either_os_convention(path: str, secret: bool) -> None:
    from stmpo.bundle.upload_policy import UploadRules, UploadSource, check_uploads

    check = check_uploads([UploadSource(path, "footage[0].path")], UploadRules(), environ={})
    assert bool(check.problems) is secret


def test_a_folder_named_as_footage_is_not_uploaded_and_says_so(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder given where a file belongs is never walked and uploaded; the warning says
    what it is instead of claiming it is missing."""
    folder = tmp_path / "plates"
    folder.mkdir()
    (folder / "frame.exr").write_bytes(b"x")
    export = add_footage(make_export(tmp_path, "shot", font=False), {"path": str(folder)})
    code, _, err = run(capsys, "bundle", export, "-o", tmp_path / "b")
    assert code == 0, err
    assert f"footage is a folder, not a file; not uploaded: {folder}" in err
    inputs = inputs_of(tmp_path / "b")
    assert str(folder) not in inputs.get("filenames", []) + inputs.get("directories", [])
