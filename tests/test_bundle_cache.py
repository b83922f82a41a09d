"""Issue 12, submitter side: the file cache steps, `scripts/cache.json` and the attachment
split, through the real `stmpo bundle` and `stmpo submit --dry-run` (docs/file-cache.md).

A job whose project, footage or outputs lie under a CacheRootPaths root gains a Linux
"Cache refresh" step that every render step depends on, a "Cache write-back rqNNN" step
per render step with outputs under a root (same Frames tasks), and a last "Cache
write-back check"; files under a root are not job attachments, everything else still is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from stmpo.cli import main

LINUX = {"attributes": [{"name": "attr.worker.os.family", "anyOf": ["linux"]}]}


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def cache_scene(tmp_path: Path) -> tuple[Path, Path, Path]:
    """An export whose project, a footage sequence and item 1's outputs lie under the
    cache root `<tmp>/cache/show`; item 2 renders and a second footage file lies outside
    it (`<tmp>/local`). Returns (export file, cache root, local folder)."""
    root = tmp_path / "cache" / "show"
    local = tmp_path / "local"
    (root / "plates").mkdir(parents=True)
    local.mkdir()
    project = root / "spot.aep"
    project.write_bytes(b"aep")
    for frame in (1, 2, 3, 5):
        (root / "plates" / f"plate.{frame:04d}.exr").write_bytes(b"exr")
    (local / "logo.png").write_bytes(b"png")
    # A sibling sharing the root's prefix is not under it.
    sibling = tmp_path / "cache" / "show2"
    sibling.mkdir()
    (sibling / "music.wav").write_bytes(b"wav")
    items = [
        item(
            1,
            end=29,
            outputs=[
                {"index": 1, "path": str(root / "out" / "main_[#####].png"), "kind": "sequence"}
            ],
        ),
        item(
            2,
            end=9,
            outputs=[
                {"index": 1, "path": str(local / "out" / "b_[#####].png"), "kind": "sequence"}
            ],
        ),
    ]
    data = export_dict(
        items,
        footage=[
            {"path": str(root / "plates" / "plate.[####].exr"), "sequence": True},
            {"path": str(local / "logo.png")},
            {"path": str(sibling / "music.wav")},
        ],
    )
    data["project"]["path"] = str(project)
    return write_export(tmp_path / "export.json", data), root, local


def read_bundle(out: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    template = yaml.safe_load((out / "template.yaml").read_text("utf-8"))
    refs = yaml.safe_load((out / "asset_references.yaml").read_text("utf-8"))["assetReferences"]
    return template, refs


def test_the_bundle_gains_the_cache_steps_and_cache_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, root, _ = cache_scene(tmp_path)
    out = tmp_path / "bundle"
    code, stdout, err = run_cli(
        [
            "bundle",
            str(export),
            "-o",
            str(out),
            "-p",
            f"CacheRootPaths={root}",
            "-p",
            "ChunkSize=10",
        ],
        capsys,
    )
    assert code == 0, err
    template, _ = read_bundle(out)
    steps = {step["name"]: step for step in template["steps"]}
    names = [step["name"] for step in template["steps"]]
    assert names == [
        "Cache refresh",
        "RQ 001 MAIN comp",
        "RQ 002 MAIN comp",
        "Cache write-back rq001",
        "Cache write-back check",
    ]
    for name in ("Cache refresh", "Cache write-back rq001", "Cache write-back check"):
        assert steps[name]["hostRequirements"] == LINUX, name
    for name in ("RQ 001 MAIN comp", "RQ 002 MAIN comp"):  # their own requirement stays
        assert steps[name]["hostRequirements"]["attributes"][0]["anyOf"] == ["windows", "macos"]
        assert steps[name]["dependencies"] == [{"dependsOn": "Cache refresh"}]
        # the aerender preflight and fonts run on render hosts only, not on cache hosts
        [env] = steps[name]["stepEnvironments"]
        assert "prepare-outputs" in env["script"]["actions"]["onEnter"]["args"]
    [job_env] = template["jobEnvironments"]
    assert "script" not in job_env and job_env["variables"]["STMPO_CACHE_ROOT_PATHS"] == (
        "{{Param.CacheRootPaths}}"
    )
    writeback = steps["Cache write-back rq001"]
    assert writeback["dependencies"] == [{"dependsOn": "RQ 001 MAIN comp"}]
    assert writeback["parameterSpace"] == steps["RQ 001 MAIN comp"]["parameterSpace"]
    assert writeback["parameterSpace"]["taskParameterDefinitions"][0]["range"] == [
        "0-9",
        "10-19",
        "20-29",
    ]
    args = writeback["script"]["actions"]["onRun"]["args"]
    assert args[1:4] == ["cache-writeback", "--item=rq001", "--frames={{Task.Param.Frames}}"]
    assert steps["Cache refresh"]["script"]["actions"]["onRun"]["args"][1] == "cache-refresh"
    check = steps["Cache write-back check"]
    assert check["dependencies"] == [{"dependsOn": "Cache write-back rq001"}]
    assert check["script"]["actions"]["onRun"]["args"][1] == "cache-check"
    assert "Cache refresh" not in steps["RQ 001 MAIN comp"]["script"]["actions"]["onRun"]["args"]

    cache = json.loads((out / "scripts" / "cache.json").read_text("utf-8"))
    assert cache == {
        "roots": [str(root)],
        "inputs": [
            str(root / "spot.aep"),
            {"path": str(root / "plates" / "plate.[####].exr"), "frames": [1, 2, 3, 5]},
        ],
        "items": {
            "rq001": {"outputs": [str(root / "out" / "main_[#####].png")], "frames": [0, 29, 1]}
        },
    }
    # the summary says what is uploaded and what reaches the workers through the cache
    assert "5 files through the file cache, not uploaded" in stdout
    assert "2 steps (+ 3 file cache steps), 4 tasks" in stdout


def test_files_under_a_root_are_not_job_attachments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, root, local = cache_scene(tmp_path)
    out = tmp_path / "bundle"
    code, _, err = run_cli(
        ["bundle", str(export), "-o", str(out), "-p", f"CacheRootPaths={root}"], capsys
    )
    assert code == 0, err
    _, refs = read_bundle(out)
    everything = json.dumps(refs)
    # neither uploaded, referenced nor downloaded
    assert str(root) + "/" not in everything and f'"{root}"' not in everything
    assert refs["inputs"]["filenames"] == sorted(
        [str(local / "logo.png"), str(tmp_path / "cache" / "show2" / "music.wav")]
    )
    assert refs["outputs"]["directories"] == [str(local / "out")]
    # the deadline library attaches a PATH parameter with a data flow: the project in
    # the cache has none (OpenJD still path-maps it)
    template, _ = read_bundle(out)
    [project] = [d for d in template["parameterDefinitions"] if d["name"] == "ProjectFile"]
    assert project["type"] == "PATH" and project["dataFlow"] == "NONE"


def test_the_dry_run_summary_counts_cached_and_uploaded_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, root, _ = cache_scene(tmp_path)
    report = tmp_path / "report.json"
    code, stdout, err = run_cli(
        [
            "submit",
            str(export),
            "--dry-run",
            "--report",
            str(report),
            "-p",
            f"CacheRootPaths={root}",
            # the footage and the render outside the cache root and the project's folder
            "--known-asset-path",
            str(tmp_path / "local"),
            "--known-asset-path",
            str(tmp_path / "cache" / "show2"),
        ],
        capsys,
    )
    assert code == 0, stdout + err
    assert "5 files through the file cache, not uploaded" in stdout + err
    [entry] = json.loads(report.read_text("utf-8"))["exports"]
    assert entry["cachedFiles"] == 5
    table = stdout.split("EXPORT", 1)[1]  # the summary table at the end says it too
    assert re.search(r"uploads \d+ files, [^;]+; 5 files through the file cache", table)


@pytest.mark.parametrize(
    ("roots", "reason"),
    [
        ("relative/cache", "'relative/cache' is not an absolute path"),
        (";".join(f"/mnt/c{i}" for i in range(9)), "9 roots given; a file cache links at most 8"),
    ],
)
@pytest.mark.parametrize("command", ["bundle", "submit"])
def test_bad_roots_are_exit_2_naming_the_argument(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], roots: str, reason: str, command: str
) -> None:
    export, _, _ = cache_scene(tmp_path)
    out = tmp_path / "out"
    args = ["bundle", str(export), "-o", str(out)] if command == "bundle" else []
    if command == "submit":
        args = ["submit", str(export), "--dry-run", "--bundles-dir", str(out)]
    code, _, err = run_cli([*args, "-p", f"CacheRootPaths={roots}"], capsys)
    assert code == 2
    [line] = [x for x in err.splitlines() if "CacheRootPaths" in x]
    assert f"-p CacheRootPaths: {reason}" in line
    assert "Traceback" not in err
    assert not out.exists()


def test_a_root_inside_another_is_fine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export, root, _ = cache_scene(tmp_path)
    out = tmp_path / "bundle"
    roots = f"{root.parent};{root};{root / 'out'}"
    code, _, err = run_cli(
        ["bundle", str(export), "-o", str(out), "-p", f"CacheRootPaths={roots}"], capsys
    )
    assert code == 0, err
    cache = json.loads((out / "scripts" / "cache.json").read_text("utf-8"))
    assert cache["roots"] == [str(root.parent), str(root), str(root / "out")]


def test_roots_with_nothing_under_them_warn_and_add_no_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, _, _ = cache_scene(tmp_path)
    out = tmp_path / "bundle"
    # `/cache/sh` shares a prefix with `<tmp>/cache/show`, but holds nothing of the job
    elsewhere = tmp_path / "cache" / "sh"
    code, _, err = run_cli(
        ["bundle", str(export), "-o", str(out), "-p", f"CacheRootPaths={elsewhere}"], capsys
    )
    assert code == 0, err
    assert "CacheRootPaths is set, but neither the project, its footage nor an output" in err
    template, refs = read_bundle(out)
    assert [s["name"] for s in template["steps"]] == ["RQ 001 MAIN comp", "RQ 002 MAIN comp"]
    assert not (out / "scripts" / "cache.json").exists()
    assert str(tmp_path / "cache" / "show" / "spot.aep") in refs["inputs"]["filenames"]
    [project] = [d for d in template["parameterDefinitions"] if d["name"] == "ProjectFile"]
    assert project["dataFlow"] == "IN"


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        (
            ["CacheEviction=false", "CacheHydration=false"],
            ["RQ 001", "RQ 002", "Cache write-back rq001", "Cache write-back check"],
        ),
        (
            ["CacheEviction=false"],
            [
                "Cache refresh",
                "RQ 001",
                "RQ 002",
                "Cache write-back rq001",
                "Cache write-back check",
            ],
        ),
        (["CacheWriteBack=false"], ["Cache refresh", "RQ 001", "RQ 002"]),
    ],
)
def test_the_switches_decide_which_steps_exist(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: list[str], expected: list[str]
) -> None:
    export, root, _ = cache_scene(tmp_path)
    out = tmp_path / "bundle"
    args = ["bundle", str(export), "-o", str(out), "-p", f"CacheRootPaths={root}"]
    for value in settings:
        args += ["-p", value]
    code, _, err = run_cli(args, capsys)
    assert code == 0, err
    template, _ = read_bundle(out)
    names = [s["name"].replace(" MAIN comp", "") for s in template["steps"]]
    assert names == expected
    if "Cache refresh" not in expected:
        assert all("dependencies" not in s for s in template["steps"] if s["name"].startswith("RQ"))


def test_the_host_requirements_given_replace_only_the_render_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export, root, _ = cache_scene(tmp_path)
    requirements = tmp_path / "hosts.yaml"
    windows = {"attributes": [{"name": "attr.worker.os.family", "anyOf": ["windows"]}]}
    requirements.write_text(yaml.safe_dump(windows), encoding="utf-8")
    out = tmp_path / "bundle"
    code, _, err = run_cli(
        [
            "bundle",
            str(export),
            "-o",
            str(out),
            "-p",
            f"CacheRootPaths={root}",
            "--host-requirements",
            str(requirements),
        ],
        capsys,
    )
    assert code == 0, err
    template, _ = read_bundle(out)
    for step in template["steps"]:
        wanted = windows if step["name"].startswith("RQ ") else LINUX
        assert step["hostRequirements"] == wanted, step["name"]


def test_the_dialogs_host_requirements_leave_the_cache_steps_on_linux(tmp_path: Path) -> None:
    """The submitter dialog hands its host requirements to write_bundle, which puts them
    on every render step (as the deadline library does); the cache steps keep Linux."""
    from stmpo.bundle import BundleSettings, build_bundle, write_bundle
    from stmpo.export import load_export

    export, root, _ = cache_scene(tmp_path)
    built = build_bundle(
        load_export(export), BundleSettings(parameters={"CacheRootPaths": str(root)})
    )
    windows = {"attributes": [{"name": "attr.worker.os.family", "anyOf": ["windows"]}]}
    out = write_bundle(built, tmp_path / "bundle", host_requirements=windows)
    template, _ = read_bundle(out)
    wanted = {
        s["name"]: (windows if s["name"].startswith("RQ ") else LINUX) for s in template["steps"]
    }
    assert {s["name"]: s["hostRequirements"] for s in template["steps"]} == wanted
    assert len(wanted) == 5


def test_windows_paths_match_case_insensitively_and_never_across_drives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sample Windows export: `//FILESERVER/Plates` holds the footage (other case and
    separators), `c:/RENDERS/spot` holds item 1's sequence and item 2's frames; the movie
    on the share and `D:\\renders` (another drive) do not match."""
    from stmpo.locations import examples_dir

    out = tmp_path / "bundle"
    roots = "//FILESERVER/Plates;c:/RENDERS/spot;D:\\renders"
    code, stdout, err = run_cli(
        [
            "bundle",
            str(examples_dir() / "windows_paths.json"),
            "-o",
            str(out),
            "-p",
            f"CacheRootPaths={roots}",
        ],
        capsys,
    )
    assert code == 0, err
    cache = json.loads((out / "scripts" / "cache.json").read_text("utf-8"))
    assert cache["inputs"] == [
        {"path": "\\\\fileserver\\plates\\sh010\\plate.[####].exr", "range": [0, 249]}
    ]
    assert cache["items"] == {
        "rq001": {"outputs": ["C:/renders/spot/MAIN_[#####].png"], "frames": [0, 49, 1]},
        "rq002": {
            "outputs": ["C:\\renders\\spot\\Titles\\Titles_[#####].tif"],
            "frames": [0, 24, 1],
        },
    }
    template, _ = read_bundle(out)
    assert next(s["name"] for s in template["steps"]) == "Cache refresh"
    assert "(+ 4 file cache steps)" in stdout
