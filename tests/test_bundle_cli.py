"""`stmpo bundle` and `stmpo validate` through the real CLI entry point."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from stmpo.cli import main
from stmpo.locations import examples_dir

STMPO = Path(sys.executable).with_name("stmpo")


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def export_file(tmp_path: Path) -> Path:
    items = [item(1, end=99), item(2, end=9), item(3, render=False)]
    return write_export(tmp_path / "export.json", export_dict(items))


def test_bundle_with_every_option(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bundle"
    code, stdout, _ = run_cli(
        [
            "bundle",
            str(export_file),
            "-o",
            str(out),
            "-p",
            "ChunkSize=30",
            "-p",
            "DisableMFR=true",
            "--items",
            "1,3",
            "--frames",
            "3=10-40:3",
            "--job-name",
            "Spot {{final}}",
        ],
        capsys,
    )
    assert code == 0
    assert str(out) in stdout and "2 steps" in stdout
    template = yaml.safe_load((out / "template.yaml").read_text(encoding="utf-8"))
    assert template["name"] == "Spot ((final))"
    ranges = [
        s["parameterSpace"]["taskParameterDefinitions"][0]["range"] for s in template["steps"]
    ]
    assert ranges == [["0-29", "30-59", "60-89", "90-99"], ["10-40"]]
    values = yaml.safe_load((out / "parameter_values.yaml").read_text(encoding="utf-8"))
    assert {"name": "DisableMFR", "value": "true"} in values["parameterValues"]
    assert run_cli(["validate", str(out)], capsys)[0] == 0


def test_bundle_writes_continue_on_missing_footage(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 10 point 12: an After Effects checkbox, off by default, that the job
    environment hands every action as STMPO_CONTINUE_ON_MISSING_FOOTAGE."""
    out = tmp_path / "bundle"
    args = ["bundle", str(export_file), "-o", str(out), "--items", "1"]
    assert run_cli([*args, "-p", "ContinueOnMissingFootage=on"], capsys)[0] == 0
    template = yaml.safe_load((out / "template.yaml").read_text(encoding="utf-8"))
    [definition] = [
        d for d in template["parameterDefinitions"] if d["name"] == "ContinueOnMissingFootage"
    ]
    assert definition["default"] == "false"
    assert definition["allowedValues"] == ["true", "false"]
    assert definition["userInterface"]["control"] == "CHECK_BOX"
    assert definition["userInterface"]["groupLabel"] == "After Effects"
    [env] = template["jobEnvironments"]
    assert env["variables"]["STMPO_CONTINUE_ON_MISSING_FOOTAGE"] == (
        "{{Param.ContinueOnMissingFootage}}"
    )
    values = yaml.safe_load((out / "parameter_values.yaml").read_text(encoding="utf-8"))
    assert {"name": "ContinueOnMissingFootage", "value": "true"} in values["parameterValues"]
    assert run_cli(["validate", str(out)], capsys)[0] == 0

    code, _, err = run_cli(
        [*args[:3], str(tmp_path / "b2"), *args[4:], "-p", "ContinueOnMissingFootage=maybe"],
        capsys,
    )
    assert code == 2
    assert "-p ContinueOnMissingFootage" in err
    assert not (tmp_path / "b2").exists()


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        (["-p", "Nope=1"], "-p Nope"),
        (["-p", "Concurrency=lots"], "-p Concurrency"),
        (["-p", "Concurrency=1_0"], "-p Concurrency"),  # Python's int() reads 10
        (["-p", "Concurrency"], "-p Concurrency"),
        (["--items", "7"], "--items 7"),
        (["--items", "1,x"], "--items x"),
        (["--frames", "1=20-10"], "--frames 1"),
        (["--frames", "1:0-10"], "--frames 1:0-10"),
        (["--frames", "2=0-5"], "--frames 2"),  # item 2 is not selected with --items 1
        # isdigit() but not int(): superscripts, and more digits than int() converts
        (["--items", "\u00b2"], "--items \u00b2"),
        (["--items", "9" * 5000], "--items 999"),
        (["--frames", "\u00b2=0-5"], "--frames \u00b2=0-5"),
        (["--frames", "1=0-" + "9" * 5000], "--frames 1=0-999"),
    ],
)
def test_bad_arguments_exit_2_naming_the_argument(
    extra: list[str],
    needle: str,
    export_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    items = [] if "--items" in extra else ["--items", "1"]
    code, _, err = run_cli(
        ["bundle", str(export_file), "-o", str(tmp_path / "b"), *items, *extra], capsys
    )
    assert code == 2
    assert needle in err
    assert "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_bad_export_reports_the_loader_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = export_dict([item(1, end=-5)])
    data["renderQueue"][0]["comp"]["frameRate"] = 0
    bad = write_export(tmp_path / "bad.json", data)
    code, _, err = run_cli(["bundle", str(bad), "-o", str(tmp_path / "b")], capsys)
    assert code == 2
    assert "renderQueue[0] (item 1).frames.end" in err
    assert "renderQueue[0] (item 1).comp.frameRate" in err
    assert not (tmp_path / "b").exists()


def test_an_earlier_bundle_needs_force_other_folders_are_never_replaced(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b"
    out.mkdir()
    (out / "notes.txt").write_text("x", encoding="utf-8")
    for force in ([], ["--force"]):
        code, _, err = run_cli(["bundle", str(export_file), "-o", str(out), *force], capsys)
        assert code == 2 and ": -o: " in err and "stmpo did not write" in err
        assert (out / "notes.txt").exists()
    (out / "notes.txt").unlink()
    assert run_cli(["bundle", str(export_file), "-o", str(out)], capsys)[0] == 0
    code, _, err = run_cli(["bundle", str(export_file), "-o", str(out)], capsys)
    assert code == 2 and "--force" in err
    code, _, _ = run_cli(["bundle", str(export_file), "-o", str(out), "--force"], capsys)
    assert code == 0


def test_warnings_go_to_stderr(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(["bundle", str(export_file), "-o", str(tmp_path / "b")], capsys)
    assert code == 0
    assert "warning: project file not found" in err


def test_validate_a_tampered_bundle_exits_2(
    export_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "b"
    assert run_cli(["bundle", str(export_file), "-o", str(out)], capsys)[0] == 0
    template = out / "template.yaml"
    data = yaml.safe_load(template.read_text(encoding="utf-8"))
    data["steps"][0]["name"] = data["steps"][1]["name"]
    template.write_text(yaml.safe_dump(data), encoding="utf-8")
    code, _, err = run_cli(["validate", str(out)], capsys)
    assert code == 2
    assert "duplicate values for name" in err.lower() and "Traceback" not in err
    code, _, err = run_cli(["validate", str(tmp_path / "missing")], capsys)
    assert code == 2 and "is not a folder" in err


def test_installed_command_end_to_end(tmp_path: Path) -> None:
    sample = examples_dir() / "image_sequence.json"
    out = tmp_path / "b"
    done = subprocess.run(
        [str(STMPO), "bundle", str(sample), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    check = subprocess.run(
        [str(STMPO), "validate", str(out)], capture_output=True, text=True, timeout=120
    )
    assert check.returncode == 0, check.stderr
    assert json.loads(json.dumps(yaml.safe_load((out / "template.yaml").read_text("utf-8"))))


@pytest.mark.parametrize(
    ("step", "frames", "needle"),
    [(2, [], "--items 1"), (1, ["--frames", "1=0-47:2"], "--frames 1")],
)
def test_skip_frames_at_another_render_rate_is_refused_before_the_farm(
    step: int, frames: list[str], needle: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker cannot tell which files AE writes for a step above 1 at a render rate
    other than the comp's and refuses it (exit 2 on the farm): so the bundle refuses it
    here, naming the item, instead of a job that fails on every worker."""
    data = export_dict([item(1, step=step, renderFrameRate=12.5)])
    export = write_export(tmp_path / "e.json", data)
    code, _, err = run_cli(
        ["bundle", str(export), "-o", str(tmp_path / "b"), "--items", "1", *frames], capsys
    )
    assert code == 2
    assert needle in err and "12.5 fps" in err
    assert not (tmp_path / "b").exists()
    data = export_dict([item(1, step=step, renderFrameRate=25.0)])
    write_export(tmp_path / "e.json", data)
    code, _, err = run_cli(
        ["bundle", str(export), "-o", str(tmp_path / "b"), "--items", "1", *frames], capsys
    )
    assert code == 0, err
