"""`prepare-outputs` and `remove-fonts` through the worker command line, with the
real fonts.py installing real font files into a temporary home."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from fontgen import write_font
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.locations import worker_scripts_dir
from stmpo_worker_harness import STANDIN, write_windows_rules


def _run(
    scripts: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    named = any(a.startswith("--aerender") for a in args) or "STMPO_AERENDER_PATH" in (env or {})
    if args[:1] == ("prepare-outputs",) and not named:
        args = (*args, f"--aerender-path={STANDIN}")  # the preflight needs an aerender
    return subprocess.run(
        [sys.executable, str(scripts / "stmpo_render.py"), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
    )


def _font_env(home: Path) -> dict[str, str]:
    """A worker user whose font folder is `home` (fc-cache's cache goes there too)."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DEADLINE_"))}
    env.update(HOME=str(home), DEADLINE_SESSION_ID="session-prep")
    return env


def test_creates_mapped_output_folders(tmp_path: Path) -> None:
    rules = write_windows_rules(tmp_path / "rules.json", tmp_path / "mnt")
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


def test_fonts_are_installed_for_the_session_and_removed(tmp_path: Path) -> None:
    fonts = tmp_path / "scripts" / "fonts"
    write_font(fonts / "Prep-Bold.ttf", "Prep-Bold", family="Prep", style="Bold")
    home = tmp_path / "home"
    env = _font_env(home)
    state = tmp_path / "session" / "fonts.json"
    out = tmp_path / "out"
    result = _run(
        worker_scripts_dir(),
        "prepare-outputs",
        "--dirs-b64",
        encode_b64_json([str(out)]),
        "--fonts-dir",
        str(fonts),
        "--font-state",
        str(state),
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.is_dir()
    assert "font installed: Prep-Bold (Prep-Bold.ttf)" in result.stdout
    (folder,) = (home / ".local/share/fonts").glob("stmpo-session-prep-*")
    installed = folder / "Prep-Bold.ttf"
    assert installed.read_bytes() == (fonts / "Prep-Bold.ttf").read_bytes()
    assert [r["path"] for r in json.loads(state.read_text())["installed"]] == [str(installed)]

    removed = _run(worker_scripts_dir(), "remove-fonts", "--font-state", str(state), env=env)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert "font removed: Prep-Bold (Prep-Bold.ttf)" in removed.stdout
    assert not installed.exists() and not state.exists()


@pytest.mark.parametrize("strict", [True, False])
def test_a_font_that_cannot_be_installed_fails_the_step_only_when_strict(
    tmp_path: Path, strict: bool
) -> None:
    fonts = tmp_path / "scripts" / "fonts"
    write_font(fonts / "Good-Regular.ttf", "Good-Regular")
    (fonts / "Broken.ttf").write_bytes(b"not a font at all")
    home = tmp_path / "home"
    state = tmp_path / "session" / "fonts.json"
    result = _run(
        worker_scripts_dir(),
        "prepare-outputs",
        "--dirs-b64",
        encode_b64_json([str(tmp_path / "out")]),
        "--fonts-dir",
        str(fonts),
        "--font-state",
        str(state),
        "--strict-fonts",
        str(strict).lower(),
        env=_font_env(home),
    )
    assert "font not installed: Broken.ttf" in result.stdout
    owned = list((home / ".local/share/fonts").glob("stmpo-session-prep-*/Good-Regular.ttf"))
    if strict:
        assert owned == []
        assert result.returncode == 1, result.stdout + result.stderr
        assert "openjd_fail: installing fonts failed: 1 attached font(s)" in result.stdout
        assert not state.exists()  # rolled back
    else:
        assert result.returncode == 0, result.stdout + result.stderr
        assert "openjd_fail" not in result.stdout
        assert len(owned) == 1 and owned[0].is_file()


def test_remove_fonts_without_a_state_file_is_a_quiet_success(tmp_path: Path) -> None:
    result = _run(worker_scripts_dir(), "remove-fonts", "--font-state", str(tmp_path / "none.json"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in result.stdout.lower()


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


# --- preflight: prepare-outputs runs once per session, before any task -------------------


@pytest.mark.parametrize(
    "given", ["", "flag", "variable"], ids=["not-set", "wrong-flag", "wrong-job-variable"]
)
def test_preflight_without_aerender_fails_once_before_any_folder_or_font(
    tmp_path: Path, given: str
) -> None:
    """A worker without aerender fails the session's first action with the reason, exit
    2, and leaves nothing behind: no output folder, no font, no state file."""
    fonts = tmp_path / "scripts" / "fonts"
    write_font(fonts / "Prep-Bold.ttf", "Prep-Bold")
    home = tmp_path / "home"
    env = {**_font_env(home), "PATH": str(tmp_path / "empty-bin")}
    env.pop("AERENDER_PATH", None)
    env.pop("AERENDER_EXECUTABLE", None)
    wrong = tmp_path / "Adobe After Effects 2099" / "aerender"
    if given == "variable":  # the job environment's STMPO_AERENDER_PATH, and no flag
        env["STMPO_AERENDER_PATH"] = str(wrong)
    state = tmp_path / "session" / "fonts.json"
    out = tmp_path / "out"
    result = _run(
        worker_scripts_dir(),
        "prepare-outputs",
        f"--dirs-b64={encode_b64_json([str(out)])}",
        *([f"--aerender-path={wrong if given == 'flag' else ''}"] if given != "variable" else []),
        f"--fonts-dir={fonts}",
        f"--font-state={state}",
        env=env,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    [line] = result.stdout.splitlines()  # the reason, once, and nothing else
    assert line.startswith("openjd_fail: preflight: aerender not found. Looked in: ")
    if given:  # the flag, or the job environment's variable standing in for it
        assert f"{wrong} (--aerender-path): does not exist" in line
    else:
        assert (
            "--aerender-path (empty); AERENDER_PATH (not set); "
            "AERENDER_EXECUTABLE (not set); aerender on PATH" in line
        )
    assert "Traceback" not in result.stderr
    assert not out.exists() and not state.exists() and not home.joinpath(".local").exists()


def test_preflight_names_the_python_and_the_aerender_it_found(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("AERENDER_EXECUTABLE",)}
    env["AERENDER_PATH"] = str(STANDIN)  # as a customer-managed worker may set it
    result = _run(
        worker_scripts_dir(),
        "prepare-outputs",
        f"--dirs-b64={encode_b64_json([str(tmp_path / 'out')])}",
        "--aerender-path=",
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    version = ".".join(map(str, sys.version_info[:3]))
    assert result.stdout.splitlines()[0] == (
        f"STMPO: preflight: Python {version} ({sys.executable}); aerender: {STANDIN}"
    )
