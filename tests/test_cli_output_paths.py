"""Outputs the user names that the OS refuses are bad input: exit 2 naming the argument.

Each case runs the real CLI in a subprocess, as a wrangler would, and checks that no
traceback escapes and nothing is half-written.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from stmpo.locations import examples_dir

SAMPLE = str(examples_dir() / "image_sequence.json")


def stmpo(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        timeout=120,
    )


@pytest.fixture
def a_file(tmp_path: Path) -> Path:
    path = tmp_path / "afile"
    path.write_text("not a folder", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("args", "argument"),
    [
        (["bundle", SAMPLE, "-o", "{afile}/sub"], "-o"),
        (["schema", "-o", "{afile}/schema.json"], "-o"),
        (["schema", "-o", "{tmp}"], "-o"),
        (["demo", "--out", "{afile}", "--no-baseline"], "--out"),
        (["submit", SAMPLE, "--dry-run", "--report", "{afile}/report.json"], "--report"),
        (["submit", SAMPLE, "--dry-run", "--report", "{tmp}"], "--report"),
    ],
)
def test_an_unwritable_output_is_exit_2_naming_the_argument(
    args: list[str], argument: str, a_file: Path, tmp_path: Path
) -> None:
    filled = [a.format(afile=a_file, tmp=tmp_path) for a in args]
    done = stmpo(*filled, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert f": {argument}: " in done.stderr, done.stderr
    assert a_file.read_text(encoding="utf-8") == "not a folder"


def test_an_unwritable_report_stops_the_batch_before_anything_is_built(
    a_file: Path, tmp_path: Path
) -> None:
    bundles = tmp_path / "bundles"
    done = stmpo(
        "submit", SAMPLE, "--dry-run", "--bundles-dir", str(bundles),
        "--report", str(a_file / "r.json"), cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2
    assert not bundles.exists() or not any(bundles.iterdir())


def test_export_aep_to_an_unwritable_place_is_exit_2_naming_output(
    a_file: Path, tmp_path: Path
) -> None:
    import py_aep  # the aep extra is installed by make test

    path = tmp_path / "empty.aep"
    py_aep.new().project.save(path)
    done = stmpo("export-aep", str(path), "-o", str(a_file / "x.json"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "--output" in done.stderr
