"""`remove-fonts` deletes only what its own install made, whatever the state file says;
two sessions never share font files. All through the real worker command line."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from fontgen import write_font
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.locations import worker_scripts_dir
from stmpo_worker_harness import STANDIN

SCRIPT = worker_scripts_dir() / "stmpo_render.py"


def worker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
        check=False,
    )


def user_env(home: Path, **extra: str) -> dict[str, str]:
    """A worker user whose font folder is under `home`; no Deadline ids unless given."""
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DEADLINE_"))}
    env.update(HOME=str(home), **extra)
    return env


def prepare(fonts: Path, state: Path, env: dict[str, str]) -> None:
    done = worker(
        "prepare-outputs",
        f"--dirs-b64={encode_b64_json([])}",
        f"--aerender-path={STANDIN}",  # the preflight needs an aerender
        f"--fonts-dir={fonts}",
        f"--font-state={state}",
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def remove(state: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    done = worker("remove-fonts", f"--font-state={state}", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_tampered_state_file_cannot_delete_or_rmdir_anything_else(tmp_path: Path) -> None:
    fonts = tmp_path / "bundle" / "fonts"
    write_font(fonts / "Safe-Bold.ttf", "Safe-Bold")
    home = tmp_path / "home"
    env = user_env(home, DEADLINE_SESSION_ID="session-safe")
    state = tmp_path / "session" / "fonts.json"
    prepare(fonts, state, env)
    data = json.loads(state.read_text(encoding="utf-8"))
    ours = Path(data["installed"][0]["path"])
    assert ours.is_file()

    canary = tmp_path / "precious" / "thesis.ttf"
    canary.parent.mkdir()
    canary.write_bytes(b"years of work")
    empty_canary = tmp_path / "precious" / "empty-folder"
    empty_canary.mkdir()
    linked = tmp_path / "precious" / "linked.ttf"
    linked.write_bytes(b"reached through a link")
    (ours.parent / "sneaky.ttf").symlink_to(linked)
    sibling = home / ".local/share/fonts/users-own.ttf"
    sibling.write_bytes(b"the user's font")

    def record(path: Path | str, digest: str, **more: str) -> dict[str, str]:
        return {"file": "x.ttf", "label": "X\nopenjd_fail: pwned", "sha256": digest,
                "path": str(path), **more}  # fmt: skip

    data["installed"] += [
        record(canary, sha256(canary), folder=str(empty_canary)),
        record(f"{ours.parent}/../../../../../precious/thesis.ttf", sha256(canary)),
        record(ours.parent / "sneaky.ttf", sha256(linked)),
        record(sibling, sha256(sibling), folder=str(sibling.parent)),
    ]
    state.write_text(json.dumps(data), encoding="utf-8")

    done = remove(state, env)

    assert canary.read_bytes() == b"years of work"
    assert empty_canary.is_dir()
    assert linked.read_bytes() == b"reached through a link"
    assert sibling.read_bytes() == b"the user's font"
    assert not ours.exists()  # its own font still goes
    lines = done.stdout.splitlines()
    assert "font removed: Safe-Bold (Safe-Bold.ttf)" in lines
    refused = [line for line in lines if line.startswith("WARNING: font not removed: X\\n")]
    assert len(refused) == 4, done.stdout
    for line in refused:
        reason = "symbolic link" if "sneaky.ttf" in line else "where this session installs"
        assert reason in line, line
    assert not any(line.startswith("openjd_fail") for line in lines)


def test_a_tampered_tag_is_not_a_folder_to_remove(tmp_path: Path) -> None:
    """The tag names the session's folder, so one that is a path is refused outright."""
    fonts = tmp_path / "bundle" / "fonts"
    write_font(fonts / "Tag-Bold.ttf", "Tag-Bold")
    home = tmp_path / "home"
    env = user_env(home, DEADLINE_SESSION_ID="session-tag")
    state = tmp_path / "session" / "fonts.json"
    prepare(fonts, state, env)
    data = json.loads(state.read_text(encoding="utf-8"))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "data.ttf").write_bytes(b"keep me")
    data["tag"] = "../../../../victim"
    data["installed"].append(
        {
            "file": "data.ttf",
            "label": "D",
            "sha256": sha256(victim / "data.ttf"),
            "path": str(victim / "data.ttf"),
            "folder": str(victim),
        }
    )
    state.write_text(json.dumps(data), encoding="utf-8")

    done = remove(state, env)
    assert (victim / "data.ttf").read_bytes() == b"keep me"
    assert "is not an STMPO font state file" in done.stdout


def test_two_sessions_of_one_job_without_a_session_id_never_share_fonts(tmp_path: Path) -> None:
    fonts = tmp_path / "bundle" / "fonts"
    write_font(fonts / "Shared-Bold.ttf", "Shared-Bold")
    home = tmp_path / "home"
    env = user_env(home, DEADLINE_JOB_ID="job-0123")
    state_a, state_b = tmp_path / "a" / "fonts.json", tmp_path / "b" / "fonts.json"
    prepare(fonts, state_a, env)
    prepare(fonts, state_b, env)
    path_a = Path(json.loads(state_a.read_text(encoding="utf-8"))["installed"][0]["path"])
    path_b = Path(json.loads(state_b.read_text(encoding="utf-8"))["installed"][0]["path"])
    assert path_a.parent != path_b.parent
    assert path_a.parent.name.startswith("stmpo-job-0123-")

    remove(state_a, env)
    assert not path_a.parent.exists()
    assert path_b.read_bytes() == (fonts / "Shared-Bold.ttf").read_bytes()
    remove(state_b, env)
    assert not path_b.parent.exists()


def test_an_endless_state_file_is_read_with_a_cap(tmp_path: Path) -> None:
    """A state 'file' that never ends (a link to /dev/zero) is one warning, not a worker
    growing until the host runs out of memory (RLIMIT_AS makes the old way fail fast)."""
    state = tmp_path / "fonts.json"
    state.symlink_to("/dev/zero")
    env = user_env(tmp_path / "home")
    argv = [
        sys.executable,
        "-c",
        "import resource, runpy, sys; "
        "resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)); "
        f"sys.argv = [{str(SCRIPT)!r}, 'remove-fonts', '--font-state={state}']; "
        f"runpy.run_path({str(SCRIPT)!r}, run_name='__main__')",
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "larger than 16 MiB" in done.stdout and "Traceback" not in done.stderr
