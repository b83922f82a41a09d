"""Issue 8, section 2: stmpo never deletes or overwrites a folder it did not write.

Through the real CLIs (`stmpo bundle`, `stmpo submit --dry-run --bundles-dir`): `--force`
replaces only a bundle stmpo wrote (its `.stmpo-bundle` marker accounts for every file),
never the export's folder, an `.aep`'s folder or an artist's shot folder; a symbolic
link at `-o` is followed to a folder or refused naming `-o`; outputs get the umask's
modes; no temporary is ever left beside the target.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from stmpo.cli import main
from submit_samples import make_export

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX modes and symlinks")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def snapshot(folder: Path) -> dict[str, str]:
    """Every entry under `folder` (links not followed) with a digest of its content."""
    found = {}
    for path in sorted(folder.rglob("*")):
        key = str(path.relative_to(folder))
        if path.is_symlink():
            found[key] = "link:" + os.readlink(path)
        elif path.is_file():
            found[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            found[key] = "dir"
    return found


def temporaries(*folders: Path) -> list[str]:
    """Staging and trash names stmpo uses, anywhere in these folders."""
    return [
        p.name
        for folder in folders
        for p in folder.iterdir()
        if p.name.startswith(".") and p.name.endswith((".partial", ".old", ".tmp"))
    ]


def one_line_naming(err: str, argument: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and ".partial" not in err and ".old" not in err, err
    assert f": {argument}: " in lines[0], err
    return lines[0]


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    (tmp_path / "in").mkdir()
    return write_export(tmp_path / "in" / "export.json", export_dict([item(1, end=9)]))


def job_name(bundle: Path) -> str:
    return str(yaml.safe_load((bundle / "template.yaml").read_text(encoding="utf-8"))["name"])


# --- --force replaces only what stmpo wrote ----------------------------------------------


def _export_folder(tmp_path: Path, export_file: Path) -> Path:
    return export_file.parent


def _aep_folder(tmp_path: Path, export_file: Path) -> Path:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "spot_v012.aep").write_bytes(b"RIFX\x00\x00 not a real project")
    return folder


def _artist_shot(tmp_path: Path, export_file: Path) -> Path:
    folder = tmp_path / "sh010"
    (folder / "comp" / "v003").mkdir(parents=True)
    (folder / "comp" / "v003" / "sh010_comp_v003.0001.exr").write_bytes(b"\x76\x2f\x31\x01")
    (folder / "notes.txt").write_text("client wants it warmer\n", encoding="utf-8")
    return folder


def _bundle_plus_artist_file(tmp_path: Path, export_file: Path) -> Path:
    folder = tmp_path / "bundle"
    assert main(["bundle", str(export_file), "-o", str(folder)]) == 0
    (folder / "scripts" / "my_wrapper.sh").write_text("#!/bin/sh\n", encoding="utf-8")
    return folder


def _forged_marker(tmp_path: Path, export_file: Path) -> Path:
    folder = _artist_shot(tmp_path, export_file)
    (folder / ".stmpo-bundle").write_text("stmpo-job-bundle\n", encoding="utf-8")
    return folder


def _marker_not_listing_everything(tmp_path: Path, export_file: Path) -> Path:
    folder = _artist_shot(tmp_path, export_file)
    marker = {"format": "stmpo-job-bundle", "version": 1, "files": [".stmpo-bundle"]}
    (folder / ".stmpo-bundle").write_text(json.dumps(marker), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    "make_folder",
    [
        _export_folder,
        _aep_folder,
        _artist_shot,
        _bundle_plus_artist_file,
        _forged_marker,
        _marker_not_listing_everything,
    ],
    ids=[
        "the-export-itself",
        "an-aep",
        "an-artist-shot-folder",
        "a-bundle-with-an-artist-file",
        "a-forged-marker",
        "a-marker-not-listing-everything",
    ],
)
def test_force_never_replaces_a_folder_stmpo_did_not_write(
    make_folder, export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = make_folder(tmp_path, export_file)
    capsys.readouterr()
    before = snapshot(folder)
    code, out, err = run(["bundle", str(export_file), "-o", str(folder), "--force"], capsys)
    assert code == 2 and out == ""
    line = one_line_naming(err, "-o")
    assert str(folder) in line and "stmpo did not write" in line, line
    assert snapshot(folder) == before
    assert temporaries(folder.parent, folder) == []


def test_an_earlier_bundle_is_replaced_only_with_force(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    assert run(["bundle", str(export_file), "-o", str(out), "--job-name", "first"], capsys)[0] == 0
    assert json.loads((out / ".stmpo-bundle").read_text(encoding="utf-8"))["format"] == (
        "stmpo-job-bundle"
    )
    # A local run leaves Python's cache beside the worker scripts: still stmpo's.
    cache = out / "scripts" / "stmpo_worker" / "__pycache__"
    cache.mkdir()
    (cache / "frames.cpython-312.pyc").write_bytes(b"\x00")
    before = snapshot(out)

    code, _, err = run(["bundle", str(export_file), "-o", str(out), "--job-name", "2nd"], capsys)
    assert code == 2
    assert "--force" in one_line_naming(err, "-o")
    assert snapshot(out) == before

    code, _, _ = run(
        ["bundle", str(export_file), "-o", str(out), "--job-name", "2nd", "--force"], capsys
    )
    assert code == 0
    assert job_name(out) == "2nd"
    assert not cache.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle", "in"]


def test_an_empty_folder_is_filled_in_place(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The deadline dialog's job-history folder, a share's mount point: the folder the
    user made stays (same inode, same mode); only the bundle goes into it."""
    out = tmp_path / "history"
    out.mkdir()
    out.chmod(0o750)
    inode = out.stat().st_ino
    assert run(["bundle", str(export_file), "-o", str(out)], capsys)[0] == 0
    assert out.stat().st_ino == inode
    assert stat.S_IMODE(out.stat().st_mode) == 0o750
    assert (out / "template.yaml").is_file() and (out / ".stmpo-bundle").is_file()
    assert temporaries(tmp_path) == []


# --- symbolic links at -o ----------------------------------------------------------------


def test_a_link_to_a_folder_is_followed_and_stays_a_link(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = tmp_path / "storage" / "bundles"
    real.mkdir(parents=True)
    link = tmp_path / "bundle"
    link.symlink_to(real, target_is_directory=True)
    code, out, err = run(["bundle", str(export_file), "-o", str(link)], capsys)
    assert code == 0, err
    assert str(link) in out
    assert link.is_symlink() and (real / "template.yaml").is_file()

    code, _, err = run(["bundle", str(export_file), "-o", str(link), "--force"], capsys)
    assert code == 0, err
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert (real / ".stmpo-bundle").is_file()
    assert temporaries(tmp_path, real.parent, real) == []


def _dangling(tmp_path: Path) -> Path:
    link = tmp_path / "bundle"
    link.symlink_to(tmp_path / "gone")
    return link


def _to_a_file(tmp_path: Path) -> Path:
    file = tmp_path / "notes.txt"
    file.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "bundle"
    link.symlink_to(file)
    return link


def _loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "bundle")
    link = tmp_path / "bundle"
    link.symlink_to(tmp_path / "a")
    return link


@pytest.mark.parametrize(
    ("make_link", "says"),
    [(_dangling, "does not exist"), (_to_a_file, "not a folder"), (_loop, "loop")],
    ids=["dangling", "to-a-file", "loop"],
)
@pytest.mark.parametrize("force", [False, True], ids=["plain", "force"])
def test_a_link_that_leads_to_no_folder_is_refused_naming_o(
    make_link, says: str, force: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "export.json", export_dict([item(1, end=9)]))
    link = make_link(tmp_path)
    before = snapshot(tmp_path)
    code, _, err = run(["bundle", str(export), "-o", str(link), *["--force"] * force], capsys)
    assert code == 2
    line = one_line_naming(err, "-o")
    assert str(link) in line and says in line, line
    assert snapshot(tmp_path) == before
    assert temporaries(tmp_path) == []


# --- umask ---------------------------------------------------------------------------------


def modes(folder: Path) -> tuple[set[int], set[int]]:
    dirs = {stat.S_IMODE(folder.stat().st_mode)}
    files = set()
    for path in folder.rglob("*"):
        (dirs if path.is_dir() else files).add(stat.S_IMODE(path.stat().st_mode))
    return dirs, files


@pytest.mark.parametrize("umask", [0o022, 0o077], ids=["022", "077"])
def test_bundles_and_reports_follow_the_umask(umask: int, tmp_path: Path) -> None:
    """A farm reads bundles from a shared folder: 0700/0600 broke that."""
    export = make_export(tmp_path, "shot", font=True)
    (tmp_path / "shot" / "fonts").chmod(0o700)
    for font in (tmp_path / "shot" / "fonts").iterdir():
        font.chmod(0o400)  # a read-only font must not make a read-only bundle
    bundles, report = tmp_path / "out" / "bundles", tmp_path / "out" / "report.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stmpo",
            "submit",
            str(export),
            "--dry-run",
            "--bundles-dir",
            str(bundles),
            "--report",
            str(report),
        ],
        capture_output=True,
        text=True,
        umask=umask,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    dirs, files = modes(bundles / "shot")
    assert dirs == {0o777 & ~umask}
    assert files == {0o666 & ~umask}
    assert stat.S_IMODE(report.stat().st_mode) == 0o666 & ~umask
    assert (bundles / "shot" / "scripts" / "fonts").is_dir()


# --- stmpo submit --bundles-dir --------------------------------------------------------------


def submit(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    return run(["submit", "--dry-run", *args], capsys)


def test_bundles_dir_never_replaces_an_artist_folder_and_stops_before_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make_export` puts `shot.json` beside the shot's own folder `shot/` (the .aep, the
    plates, the fonts): `--bundles-dir` at that level would be `shot/` itself."""
    first = make_export(tmp_path / "new", "first", font=False)
    shot = make_export(tmp_path, "shot", font=False)
    before = snapshot(tmp_path / "shot")
    report = tmp_path / "report.json"
    for force in ([], ["--force"]):
        code, _, err = submit(
            [
                str(first),
                str(shot),
                "--bundles-dir",
                str(tmp_path),
                "--report",
                str(report),
                *force,
            ],
            capsys,
        )
        assert code == 2
        line = one_line_naming(err, "--bundles-dir")
        assert str(tmp_path / "shot") in line and "stmpo did not write" in line
        assert snapshot(tmp_path / "shot") == before
        assert not (tmp_path / "first").exists()  # checked before the first export
        assert not report.exists()
        assert temporaries(tmp_path) == []


def test_bundles_dir_replaces_an_earlier_bundle_only_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shot = make_export(tmp_path / "in", "shot", font=False)
    bundles = tmp_path / "bundles"
    code, _, err = submit([str(shot), "--bundles-dir", str(bundles), "--job-name", "one"], capsys)
    assert code == 0, err
    before = snapshot(bundles)

    code, _, err = submit([str(shot), "--bundles-dir", str(bundles), "--job-name", "two"], capsys)
    assert code == 2
    line = one_line_naming(err, "--bundles-dir")
    assert str(bundles / "shot") in line and "--force" in line
    assert snapshot(bundles) == before

    args = [str(shot), "--bundles-dir", str(bundles), "--job-name", "two", "--force"]
    code, _, err = submit(args, capsys)
    assert code == 0, err
    assert job_name(bundles / "shot") == "two"
    assert temporaries(bundles) == []


@pytest.mark.parametrize("kind", ["file", "dangling-link"])
def test_bundles_dir_that_is_no_folder_is_refused_naming_it(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shot = make_export(tmp_path / "in", "shot", font=False)
    bundles = tmp_path / "bundles"
    if kind == "file":
        bundles.write_text("a file\n", encoding="utf-8")
    else:
        bundles.symlink_to(tmp_path / "nowhere")
    code, _, err = submit([str(shot), "--bundles-dir", str(bundles)], capsys)
    assert code == 2
    assert str(bundles) in one_line_naming(err, "--bundles-dir")
    assert not (tmp_path / "nowhere").exists()


def test_force_without_bundles_dir_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shot = make_export(tmp_path, "shot", font=False)
    code, _, err = submit([str(shot), "--force"], capsys)
    assert code == 2
    one_line_naming(err, "--force")


# --- files named with -o / --output, and the demo folder ------------------------------------


def stmpo_cli(*args: str, umask: int = 0o022) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        umask=umask,
        timeout=120,
        check=False,
    )


def test_schema_o_replaces_only_an_earlier_schema_and_follows_links(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    notes = tmp_path / "notes.json"
    notes.write_text('{"mine": true}\n', encoding="utf-8")
    code, _, err = run(["schema", "-o", str(notes)], capsys)
    assert code == 2
    assert str(notes) in one_line_naming(err, "-o")
    assert notes.read_text(encoding="utf-8") == '{"mine": true}\n'

    real = tmp_path / "schemas" / "export.schema.json"
    real.parent.mkdir()
    link = tmp_path / "schema.json"
    link.symlink_to(real)
    assert run(["schema", "-o", str(real)], capsys)[0] == 0
    real.write_text(real.read_text(encoding="utf-8").replace('"title"', '"old_title"', 1))
    assert run(["schema", "-o", str(link)], capsys)[0] == 0  # through the link: ours, replaced
    assert link.is_symlink() and '"old_title"' not in real.read_text(encoding="utf-8")

    dangling = tmp_path / "dangling.json"
    dangling.symlink_to(tmp_path / "elsewhere.json")
    code, _, err = run(["schema", "-o", str(dangling)], capsys)
    assert code == 2 and "does not exist" in one_line_naming(err, "-o")
    assert not (tmp_path / "elsewhere.json").exists()
    assert temporaries(tmp_path, real.parent) == []


def test_export_aep_output_replaces_only_an_earlier_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import py_aep  # the aep extra is installed by make test

    project = tmp_path / "shot.aep"
    py_aep.new().project.save(project)
    theirs = tmp_path / "shot.json"
    theirs.write_text('{"client": "notes"}\n', encoding="utf-8")
    code, _, err = run(["export-aep", str(project), "-o", str(theirs)], capsys)
    assert code == 2
    assert str(theirs) in one_line_naming(err, "--output")
    assert theirs.read_text(encoding="utf-8") == '{"client": "notes"}\n'

    ours = tmp_path / "export.json"
    for _ in range(2):  # new, then an earlier export replaced
        done = stmpo_cli("export-aep", str(project), "-o", str(ours), "-q", umask=0o022)
        assert done.returncode == 0, done.stderr
        assert stat.S_IMODE(ours.stat().st_mode) == 0o644
    assert json.loads(ours.read_text(encoding="utf-8"))["format"] == "stmpo-ae-export"
    assert temporaries(tmp_path) == []


def _earlier_demo(tmp_path: Path) -> Path:
    out = tmp_path / "demo-out"
    (out / "frames").mkdir(parents=True)
    (out / ".stmpo-demo").write_text("made by stmpo demo; safe to delete\n", encoding="utf-8")
    (out / "export.json").write_text("{}", encoding="utf-8")
    return out


def test_demo_never_clears_a_folder_holding_other_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _earlier_demo(tmp_path)
    (out / "my_comp_notes.txt").write_text("keep\n", encoding="utf-8")
    before = snapshot(out)
    code, _, err = run(["demo", "--out", str(out), "--no-baseline"], capsys)
    assert code == 2
    assert "my_comp_notes.txt" in one_line_naming(err, "--out")
    assert snapshot(out) == before

    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    code, _, err = run(["demo", "--out", str(loop), "--no-baseline"], capsys)
    assert code == 2
    assert "loops" in one_line_naming(err, "--out")
