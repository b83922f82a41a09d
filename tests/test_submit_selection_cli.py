"""`stmpo submit` takes `--frames` and `--input-file` as `stmpo bundle` does (one parsing
path, `stmpo.cli_args`), checked through the real CLI with `--dry-run --bundles-dir`."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from stmpo.cli import main
from submit_samples import make_export


def _frames_of(bundle: Path) -> dict[str, list[str]]:
    """Each render step's `Frames` task values, by step name."""
    template = yaml.safe_load((bundle / "template.yaml").read_text(encoding="utf-8"))
    frames: dict[str, list[str]] = {}
    for step in template["steps"]:
        for parameter in step.get("parameterSpace", {}).get("taskParameterDefinitions", []):
            if parameter["name"] == "Frames":
                frames[step["name"]] = [str(v) for v in parameter["range"]]
    return frames


def test_submit_dry_run_carries_frames_and_input_files_into_the_bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = make_export(tmp_path, "shot", items=2, font=False, footage_frames=0)
    extra = tmp_path / "shot" / "expression_data.csv"
    extra.write_text("frame,value\n0,1\n", encoding="utf-8")
    bundles = tmp_path / "bundles"
    code = main(
        [
            "submit",
            str(export),
            "--dry-run",
            "--bundles-dir",
            str(bundles),
            "--frames",
            "2=10-19",
            "--input-file",
            str(extra),
        ]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    frames = _frames_of(bundles / "shot")
    assert len(frames) == 2
    first, second = (frames[name] for name in sorted(frames))
    assert first == ["0-99"]
    assert second == ["10-19"]
    refs = yaml.safe_load((bundles / "shot" / "asset_references.yaml").read_text())
    assert str(extra) in refs["assetReferences"]["inputs"]["filenames"]


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--frames", "2=ten-19"], "--frames 2=ten-19: expected RQ=START-END"),
        (["--frames", "7=0-9"], "--frames 7: item 7 is not among the selected items"),
        (["--frames", "1=0-500"], "--frames 1: frames 0-500 go outside the comp"),
        (["--input-file", "bad\nname.csv"], "--input-file"),
    ],
)
def test_submit_refuses_a_bad_frames_or_input_file_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
) -> None:
    export = make_export(tmp_path, "shot", items=2, font=False, footage_frames=0)
    bundles = tmp_path / "bundles"
    code = main(["submit", str(export), "--dry-run", "--bundles-dir", str(bundles), *args])
    err = capsys.readouterr().err
    assert code == 2
    assert named in err
    assert "Traceback" not in err
    assert not (bundles / "shot" / "template.yaml").exists()


def test_submit_and_bundle_share_one_frames_parser(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = make_export(tmp_path, "shot", items=1, font=False, footage_frames=0)
    bad = ["--frames", "1=5-x"]
    assert main(["bundle", str(export), "-o", str(tmp_path / "b"), *bad]) == 2
    bundle_err = capsys.readouterr().err.split(": ", 1)[1]
    assert main(["submit", str(export), "--dry-run", *bad]) == 2
    submit_err = capsys.readouterr().err.split(": ", 1)[1]
    assert bundle_err == submit_err
