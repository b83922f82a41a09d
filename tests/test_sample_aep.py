"""The shipped sample project (`resources/examples/sample_project.aep`, written by
`tools/make_sample_aep.py` with py-aep) goes through `stmpo export-aep` to a valid export,
and straight into `stmpo submit --dry-run`, through the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from stmpo.cli import main
from stmpo.export import load_export
from stmpo.locations import examples_dir

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = examples_dir() / "sample_project.aep"


def test_the_sample_aep_is_small_and_exports_to_a_valid_export(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert SAMPLE.is_file() and SAMPLE.stat().st_size < 256 * 1024
    out = tmp_path / "sample.json"
    assert main(["export-aep", str(SAMPLE), "-o", str(out)]) == 0, capsys.readouterr().err
    assert main(["validate-export", str(out)]) == 0, capsys.readouterr()
    export = load_export(out)
    assert export.project.path == str(SAMPLE)
    assert [(i.comp.name, i.frames.count) for i in export.renderable_items] == [
        ("MAIN comp", 50),
        ("Titles", 25),
    ]
    # It renders under /tmp/stmpo-demo/out, outside its folder: approved as a real
    # submission needs it (the dry run refuses what the real run would).
    approve = ["--known-asset-path", "/tmp/stmpo-demo/out"]
    assert main(["submit", str(SAMPLE), "--dry-run", *approve]) == 0, capsys.readouterr()
    assert main(["submit", str(out), "--dry-run", *approve]) == 0, capsys.readouterr()


def test_the_tool_rebuilds_the_committed_sample_and_never_overwrites_unasked(
    tmp_path: Path,
) -> None:
    rebuilt = tmp_path / "sample_project.aep"
    tool = [sys.executable, str(ROOT / "tools" / "make_sample_aep.py"), str(rebuilt)]
    done = subprocess.run(tool, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    again = subprocess.run(tool, capture_output=True, text=True, timeout=120, check=False)
    assert again.returncode == 1 and "--replace" in again.stderr
    exports = []
    for project in (SAMPLE, rebuilt):
        out = tmp_path / f"{project.parent.name}.json"
        assert main(["export-aep", str(project), "-o", str(out), "-q"]) == 0
        data = json.loads(out.read_text(encoding="utf-8"))
        data["project"].pop("path")
        data.pop("exportedAt", None)
        exports.append(data)
    assert exports[0] == exports[1]
