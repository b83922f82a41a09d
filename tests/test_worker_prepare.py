"""`prepare-outputs` and `remove-fonts`, including the hook into fonts.py."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.locations import worker_scripts_dir

FAKE_FONTS = """
import json


def install_fonts(fonts_dir, state_file, backend=None):
    with open(state_file, "w") as fh:
        json.dump({"installed_from": fonts_dir}, fh)
    print("font installed: Fake-Bold (Fake-Bold.ttf)", flush=True)
    return ["Fake-Bold"]


def remove_fonts(state_file, backend=None):
    import os
    os.remove(state_file)
    print("font removed: Fake-Bold", flush=True)
"""


def _bundle_scripts(tmp_path: Path, with_fonts: bool) -> Path:
    """A copy of the scripts the bundle ships, with or without a fonts.py."""
    scripts = tmp_path / "scripts"
    shutil.copytree(worker_scripts_dir(), scripts, ignore=shutil.ignore_patterns("__pycache__"))
    fonts = scripts / "stmpo_worker" / "fonts.py"
    fonts.unlink(missing_ok=True)
    if with_fonts:
        fonts.write_text(FAKE_FONTS)
    return scripts


def _run(scripts: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(scripts / "stmpo_render.py"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
    )


def test_creates_mapped_output_folders(tmp_path: Path) -> None:
    rules = tmp_path / "rules.json"
    rules.write_text(
        json.dumps(
            {
                "version": "pathmapping-1.0",
                "path_mapping_rules": [
                    {
                        "source_path_format": "WINDOWS",
                        "source_path": "C:\\renders",
                        "destination_path": str(tmp_path / "mnt"),
                    }
                ],
            }
        )
    )
    dirs = ["C:\\renders\\spot {{x}} $(y)", str(tmp_path / "local" / "é;`z`")]
    result = _run(
        worker_scripts_dir(),
        "prepare-outputs",
        "--dirs-b64",
        encode_b64_json(dirs),
        "--path-mapping-rules",
        str(rules),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "mnt" / "spot {{x}} $(y)").is_dir()
    assert (tmp_path / "local" / "é;`z`").is_dir()


def test_a_folder_that_is_not_a_worker_path_fails_clearly(tmp_path: Path) -> None:
    result = _run(
        worker_scripts_dir(), "prepare-outputs", "--dirs-b64", encode_b64_json(["Z:\\nowhere"])
    )
    assert result.returncode == 1
    assert "openjd_fail: cannot create output folder Z:\\nowhere" in result.stdout


def test_bad_dirs_argument_exits_2(tmp_path: Path) -> None:
    result = _run(worker_scripts_dir(), "prepare-outputs", "--dirs-b64", encode_b64_json({"a": 1}))
    assert result.returncode == 2 and "--dirs-b64" in result.stderr


def test_font_hook_calls_fonts_py(tmp_path: Path) -> None:
    scripts = _bundle_scripts(tmp_path, with_fonts=True)
    state = tmp_path / "session" / "fonts.json"
    state.parent.mkdir()
    out = tmp_path / "out"
    result = _run(
        scripts,
        "prepare-outputs",
        "--dirs-b64",
        encode_b64_json([str(out)]),
        "--fonts-dir",
        str(scripts / "fonts"),
        "--font-state",
        str(state),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "font installed: Fake-Bold" in result.stdout
    assert json.loads(state.read_text()) == {"installed_from": str(scripts / "fonts")}
    removed = _run(scripts, "remove-fonts", "--font-state", str(state))
    assert removed.returncode == 0 and "font removed" in removed.stdout
    assert not state.exists()


def test_without_fonts_py_folders_are_still_made(tmp_path: Path) -> None:
    scripts = _bundle_scripts(tmp_path, with_fonts=False)
    out = tmp_path / "out"
    result = _run(
        scripts,
        "prepare-outputs",
        "--dirs-b64",
        encode_b64_json([str(out)]),
        "--fonts-dir",
        str(tmp_path),
        "--font-state",
        str(tmp_path / "f.json"),
    )
    assert result.returncode == 0 and out.is_dir()
    assert "cannot install fonts" in result.stdout
    assert _run(scripts, "remove-fonts", "--font-state", str(tmp_path / "f.json")).returncode == 0


def test_fonts_dir_needs_font_state(tmp_path: Path) -> None:
    result = _run(
        worker_scripts_dir(),
        "prepare-outputs",
        "--dirs-b64",
        encode_b64_json([]),
        "--fonts-dir",
        str(tmp_path),
    )
    assert result.returncode == 2 and "--font-state" in result.stderr
