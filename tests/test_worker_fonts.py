"""Worker-side font install/remove: Linux and macOS for real (temp folders), Windows
through a fake `WindowsFontApi`, and a real install in a subprocess seen by fontconfig."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fontgen import write_collection, write_font
from stmpo._worker_scripts.stmpo_worker.font_backends import LinuxBackend, MacBackend
from stmpo._worker_scripts.stmpo_worker.font_windows import WindowsBackend
from stmpo._worker_scripts.stmpo_worker.fonts import (
    FontInstallError,
    install_fonts,
    remove_fonts,
    session_tag,
)
from stmpo.locations import worker_scripts_dir


@pytest.fixture
def attached(tmp_path: Path) -> Path:
    """The bundle's fonts folder: a TTF, an OTF (CFF) and a TTC."""
    folder = tmp_path / "bundle" / "fonts"
    write_font(folder / "Instmpo-Bold.ttf", "Instmpo-Bold", family="Instmpo", style="Bold")
    write_font(folder / "Minion-It.otf", "Minion-It", family="Minion", style="Italic", cff=True)
    write_collection(folder / "Pair.ttc", ["Pair-One", "Pair-Two"], family="Pair")
    return folder


def linux(tmp_path: Path, system: list[Path] | None = None) -> LinuxBackend:
    # fc-cache runs for real in the subprocess test only (it would write to the real ~/.cache).
    return LinuxBackend(
        data_home=tmp_path / "home" / "share", system_dirs=system or [], fc_cache=None
    )


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_linux_install_then_remove(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = linux(tmp_path)
    state = tmp_path / "session" / "fonts.json"
    installed = install_fonts(attached, state, backend, tag="s1")
    assert installed == ["Instmpo-Bold", "Minion-It", "Pair-One, Pair-Two"]
    assert capsys.readouterr().out.splitlines() == [
        "font installed: Instmpo-Bold (Instmpo-Bold.ttf)",
        "font installed: Minion-It (Minion-It.otf)",
        "font installed: Pair-One, Pair-Two (Pair.ttc)",
    ]
    assert files_under(backend.fonts_root) == [
        "stmpo-s1/Instmpo-Bold.ttf",
        "stmpo-s1/Minion-It.otf",
        "stmpo-s1/Pair.ttc",
    ]
    for name in ("Instmpo-Bold.ttf", "Pair.ttc"):
        assert (backend.fonts_root / "stmpo-s1" / name).read_bytes() == (
            attached / name
        ).read_bytes()
    recorded = json.loads(state.read_text())
    assert [r["file"] for r in recorded["installed"]] == [
        "Instmpo-Bold.ttf",
        "Minion-It.otf",
        "Pair.ttc",
    ]

    assert remove_fonts(state, backend) == ["Pair-One, Pair-Two", "Minion-It", "Instmpo-Bold"]
    assert "font removed: Instmpo-Bold (Instmpo-Bold.ttf)" in capsys.readouterr().out
    assert files_under(backend.fonts_root) == []
    assert not (backend.fonts_root / "stmpo-s1").exists()
    assert not state.exists()


def test_already_installed_font_is_left_alone(tmp_path: Path, attached: Path) -> None:
    system = tmp_path / "usr-share-fonts"
    (system / "truetype").mkdir(parents=True)
    shutil.copy(attached / "Instmpo-Bold.ttf", system / "truetype" / "instmpo.ttf")
    backend = linux(tmp_path, [system])
    users_own = backend.fonts_root / "Minion-It.otf"
    users_own.parent.mkdir(parents=True)
    shutil.copy(attached / "Minion-It.otf", users_own)
    state = tmp_path / "fonts.json"

    assert install_fonts(attached, state, backend, tag="s1") == ["Pair-One, Pair-Two"]
    assert files_under(backend.fonts_root) == ["Minion-It.otf", "stmpo-s1/Pair.ttc"]
    assert [p["file"] for p in json.loads(state.read_text())["present"]] == [
        "Instmpo-Bold.ttf",
        "Minion-It.otf",
    ]
    assert remove_fonts(state, backend) == ["Pair-One, Pair-Two"]
    assert users_own.is_file() and (system / "truetype" / "instmpo.ttf").is_file()


def test_same_name_different_content_is_installed_beside(tmp_path: Path, attached: Path) -> None:
    backend = linux(tmp_path)
    older = write_font(backend.fonts_root / "Instmpo-Bold.ttf", "Instmpo-Bold", size=200)
    before = older.read_bytes()
    state = tmp_path / "fonts.json"
    assert "Instmpo-Bold" in install_fonts(attached, state, backend, tag="s1")
    remove_fonts(state, backend)
    assert older.read_bytes() == before


def test_install_twice_is_idempotent(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = linux(tmp_path)
    state = tmp_path / "fonts.json"
    install_fonts(attached, state, backend, tag="first")
    capsys.readouterr()
    # A rerun keeps the first run's tag (from the state) and copies nothing.
    assert install_fonts(attached, state, backend, tag="second") == []
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "font already installed: Instmpo-Bold (Instmpo-Bold.ttf) by this session"
    assert len(json.loads(state.read_text())["installed"]) == 3
    assert {p.parent.name for p in backend.fonts_root.rglob("*.*")} == {"stmpo-first"}
    assert len(remove_fonts(state, backend)) == 3
    assert remove_fonts(state, backend) == []


def test_remove_without_state_file_is_a_noop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert remove_fonts(tmp_path / "never-written.json", linux(tmp_path)) == []
    assert capsys.readouterr().out == ""


def test_no_fonts_attached(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    state = tmp_path / "fonts.json"
    assert install_fonts(tmp_path / "no-such-dir", state, linux(tmp_path), tag="s") == []
    assert "none attached" in capsys.readouterr().out
    assert remove_fonts(state, linux(tmp_path)) == []


def test_two_sessions_do_not_pull_fonts_from_each_other(tmp_path: Path, attached: Path) -> None:
    backend = linux(tmp_path)
    state_a, state_b = tmp_path / "a.json", tmp_path / "b.json"
    install_fonts(attached, state_a, backend, tag="session-a")
    assert len(install_fonts(attached, state_b, backend, tag="session-b")) == 3
    remove_fonts(state_a, backend)
    assert files_under(backend.fonts_root) == [
        "stmpo-session-b/Instmpo-Bold.ttf",
        "stmpo-session-b/Minion-It.otf",
        "stmpo-session-b/Pair.ttc",
    ]


def test_broken_font_warns_and_the_others_install(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (attached / "Broken.ttf").write_bytes(b"\x00\x01\x00\x00\x00\x09garbage")
    (attached / "readme.txt").write_text("not a font")
    backend = linux(tmp_path)
    installed = install_fonts(attached, tmp_path / "fonts.json", backend, tag="s")
    assert installed == ["Instmpo-Bold", "Minion-It", "Pair-One, Pair-Two"]
    out = capsys.readouterr().out
    assert "WARNING: font not installed: Broken.ttf: cannot read it: truncated" in out
    assert "WARNING: font skipped: readme.txt is not a .ttf/.otf/.ttc/.otc file" in out


def test_strict_fonts_rolls_back_and_raises(tmp_path: Path, attached: Path) -> None:
    (attached / "Broken.otf").write_bytes(b"OTTO")
    backend = linux(tmp_path)
    state = tmp_path / "fonts.json"
    with pytest.raises(FontInstallError, match=r"1 attached font\(s\).*Broken\.otf"):
        install_fonts(attached, state, backend, strict=True, tag="s")
    assert files_under(backend.fonts_root) == []
    assert not state.exists()


def test_changed_installed_file_is_kept_and_stays_in_state(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = linux(tmp_path)
    state = tmp_path / "fonts.json"
    install_fonts(attached, state, backend, tag="s")
    tampered = backend.fonts_root / "stmpo-s" / "Minion-It.otf"
    tampered.write_bytes(b"someone else's bytes")
    assert remove_fonts(state, backend) == ["Pair-One, Pair-Two", "Instmpo-Bold"]
    assert "WARNING: font not removed: Minion-It (Minion-It.otf)" in capsys.readouterr().out
    assert tampered.is_file()
    assert [r["file"] for r in json.loads(state.read_text())["installed"]] == ["Minion-It.otf"]


def test_macos_backend_is_a_flat_folder(tmp_path: Path, attached: Path) -> None:
    fonts_dir = tmp_path / "Library" / "Fonts"
    users = write_font(fonts_dir / "Instmpo-Bold.ttf", "Instmpo-Bold", size=111)
    backend = MacBackend(fonts_dir=fonts_dir, system_dirs=[])
    state = tmp_path / "fonts.json"
    assert len(install_fonts(attached, state, backend, tag="s9")) == 3
    assert files_under(fonts_dir) == [
        "Instmpo-Bold.ttf",
        "stmpo-s9-Instmpo-Bold.ttf",
        "stmpo-s9-Minion-It.otf",
        "stmpo-s9-Pair.ttc",
    ]
    remove_fonts(state, backend)
    assert files_under(fonts_dir) == ["Instmpo-Bold.ttf"] and users.is_file()


def test_session_tag_is_the_deadline_session_plus_a_random_token() -> None:
    env = {"DEADLINE_SESSION_ID": "session-1a2b", "DEADLINE_JOB_ID": "job-9"}
    assert session_tag(env, token="t0") == "session-1a2b-t0"
    assert session_tag({"DEADLINE_JOB_ID": "job-9"}, token="t0") == "job-9-t0"
    assert session_tag({"DEADLINE_SESSION_ID": "a/b\\c:d"}, token="t0") == "a_b_c_d-t0"
    assert session_tag({}, token="t0") == "local-t0"
    assert session_tag(env) != session_tag(env)


# --- Windows, through a fake of the registry / gdi32 / user32 calls -------------------


class FakeWindowsFontApi:
    def __init__(self, registry: dict[str, str] | None = None) -> None:
        self.registry: dict[str, str] = dict(registry or {})
        self.loaded: list[str] = []
        self.broadcasts = 0
        self.refuse: set[str] = set()  # file names AddFontResourceW "fails" on

    def list_font_values(self) -> dict[str, str]:
        return dict(self.registry)

    def set_font_value(self, name: str, data: str) -> None:
        self.registry[name] = data

    def delete_font_value(self, name: str) -> None:
        self.registry.pop(name, None)

    def add_font_resource(self, path: str) -> int:
        if Path(path).name.split("-", 2)[-1] in self.refuse:
            return 0
        self.loaded.append(path)
        return 1

    def remove_font_resource(self, path: str) -> bool:
        if path in self.loaded:
            self.loaded.remove(path)
            return True
        return False

    def broadcast_font_change(self) -> None:
        self.broadcasts += 1


def windows(tmp_path: Path, api: FakeWindowsFontApi) -> WindowsBackend:
    return WindowsBackend(
        api, user_fonts_dir=tmp_path / "LocalAppData" / "Fonts", system_fonts_dir=tmp_path / "Win"
    )


def test_windows_install_registers_loads_and_broadcasts(tmp_path: Path, attached: Path) -> None:
    api = FakeWindowsFontApi({"Arial (TrueType)": "arial.ttf"})
    backend = windows(tmp_path, api)
    state = tmp_path / "fonts.json"
    install_fonts(attached, state, backend, tag="s")
    user_dir = backend.user_fonts_dir
    assert api.registry == {
        "Arial (TrueType)": "arial.ttf",
        "Instmpo Bold (TrueType)": str(user_dir / "stmpo-s-Instmpo-Bold.ttf"),
        "Minion Italic (OpenType)": str(user_dir / "stmpo-s-Minion-It.otf"),
        "Pair W0 & Pair W1 (TrueType)": str(user_dir / "stmpo-s-Pair.ttc"),
    }
    assert sorted(api.loaded) == sorted(
        api.registry[k] for k in api.registry if k != "Arial (TrueType)"
    )
    assert api.broadcasts == 1

    assert len(remove_fonts(state, backend)) == 3
    assert api.registry == {"Arial (TrueType)": "arial.ttf"}
    assert api.loaded == [] and api.broadcasts == 2
    assert files_under(user_dir) == []


def test_windows_failed_load_is_rolled_back(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = FakeWindowsFontApi()
    api.refuse.add("Minion-It.otf")
    backend = windows(tmp_path, api)
    state = tmp_path / "fonts.json"
    assert install_fonts(attached, state, backend, tag="s") == [
        "Instmpo-Bold",
        "Pair-One, Pair-Two",
    ]
    assert "WARNING: font not installed: Minion-It (Minion-It.otf): AddFontResourceW" in (
        capsys.readouterr().out
    )
    assert "Minion Italic (OpenType)" not in api.registry
    assert not (backend.user_fonts_dir / "stmpo-s-Minion-It.otf").exists()
    assert [r["file"] for r in json.loads(state.read_text())["installed"]] == [
        "Instmpo-Bold.ttf",
        "Pair.ttc",
    ]


def test_windows_keeps_the_users_other_version(tmp_path: Path, attached: Path) -> None:
    """The plain value name belongs to an older Instmpo the user installed: ours gets its own."""
    older = write_font(tmp_path / "elsewhere" / "instmpo-old.ttf", "Instmpo-Bold", size=90)
    api = FakeWindowsFontApi({"Instmpo Bold (TrueType)": str(older)})
    backend = windows(tmp_path, api)
    state = tmp_path / "fonts.json"
    install_fonts(attached, state, backend, tag="s")
    assert api.registry["Instmpo Bold [stmpo-s] (TrueType)"].endswith("stmpo-s-Instmpo-Bold.ttf")
    remove_fonts(state, backend)
    assert api.registry == {"Instmpo Bold (TrueType)": str(older)}


def test_windows_registered_identical_font_counts_as_installed(
    tmp_path: Path, attached: Path
) -> None:
    elsewhere = tmp_path / "D" / "fonts" / "Instmpo-Bold.ttf"
    elsewhere.parent.mkdir(parents=True)
    shutil.copy(attached / "Instmpo-Bold.ttf", elsewhere)
    system_copy = tmp_path / "Win" / "minion.otf"
    system_copy.parent.mkdir(parents=True)
    shutil.copy(attached / "Minion-It.otf", system_copy)
    api = FakeWindowsFontApi({"Instmpo Bold (TrueType)": str(elsewhere)})
    backend = windows(tmp_path, api)
    state = tmp_path / "fonts.json"
    assert install_fonts(attached, state, backend, tag="s") == ["Pair-One, Pair-Two"]
    present = json.loads(state.read_text())["present"]
    assert [(p["file"], p["path"]) for p in present] == [
        ("Instmpo-Bold.ttf", str(elsewhere)),
        ("Minion-It.otf", str(system_copy)),
    ]
    remove_fonts(state, backend)
    assert api.registry == {"Instmpo Bold (TrueType)": str(elsewhere)}
    assert elsewhere.is_file() and system_copy.is_file()


# --- a real install in a separate process, seen by fontconfig ------------------------

_RUN = """
import sys
sys.path.insert(0, sys.argv[1])
from stmpo_worker.fonts import install_fonts, remove_fonts
if sys.argv[2] == "install":
    install_fonts(sys.argv[3], sys.argv[4])
else:
    remove_fonts(sys.argv[4])
"""


def _fc_families(env: dict[str, str]) -> set[str]:
    listed = subprocess.run(
        ["fc-list", ":", "postscriptname"], env=env, capture_output=True, text=True, check=True
    )
    return {line.split("=", 1)[-1].strip() for line in listed.stdout.splitlines()}


@pytest.mark.skipif(shutil.which("fc-list") is None, reason="fontconfig tools not installed")
def test_subprocess_install_is_seen_by_fontconfig_and_removed(
    tmp_path: Path, attached: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DEADLINE_"))}
    env.update(HOME=str(home), DEADLINE_SESSION_ID="session-0123abcd")
    state = tmp_path / "session" / "fonts.json"

    def run(action: str) -> list[str]:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _RUN,
                str(worker_scripts_dir()),
                action,
                str(attached),
                str(state),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    assert "Instmpo-Bold" not in _fc_families(env)
    assert run("install") == [
        "font installed: Instmpo-Bold (Instmpo-Bold.ttf)",
        "font installed: Minion-It (Minion-It.otf)",
        "font installed: Pair-One, Pair-Two (Pair.ttc)",
    ]
    (folder,) = (home / ".local/share/fonts").glob("stmpo-session-0123abcd-*")
    assert (folder / "Instmpo-Bold.ttf").is_file()
    assert {"Instmpo-Bold", "Minion-It", "Pair-One", "Pair-Two"} <= _fc_families(env)

    assert len(run("remove")) == 3
    assert not folder.exists()
    assert not state.exists()
    assert {"Instmpo-Bold", "Minion-It", "Pair-One"}.isdisjoint(_fc_families(env))


def test_install_killed_midway_is_still_cleaned_up(tmp_path: Path, attached: Path) -> None:
    """The record is written before the copy, so remove_fonts finds a half-done install."""

    class DiesInAddFontResource(FakeWindowsFontApi):
        def add_font_resource(self, path: str) -> int:
            if path.endswith("Minion-It.otf"):
                raise KeyboardInterrupt  # stands in for the process being killed here
            return super().add_font_resource(path)

    api = DiesInAddFontResource()
    backend = windows(tmp_path, api)
    state = tmp_path / "fonts.json"
    with pytest.raises(KeyboardInterrupt):
        install_fonts(attached, state, backend, tag="s")
    assert "Minion Italic (OpenType)" in api.registry
    assert (backend.user_fonts_dir / "stmpo-s-Minion-It.otf").is_file()

    assert remove_fonts(state, backend) == ["Minion-It", "Instmpo-Bold"]
    assert api.registry == {} and api.loaded == []
    assert files_under(backend.user_fonts_dir) == []


@pytest.mark.parametrize(
    "content",
    [
        "{broken json",
        '{"format": "something-else"}',
        '{"format": "stmpo-font-state"}',
        "[]",
        "[" * 100_000,
    ],
)
def test_unreadable_state_file_is_ignored_with_a_warning(
    tmp_path: Path, attached: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "fonts.json"
    state.write_text(content)
    backend = linux(tmp_path)
    assert remove_fonts(state, backend) == []
    assert "WARNING:" in capsys.readouterr().out
    assert len(install_fonts(attached, state, backend, tag="s")) == 3
    assert len(remove_fonts(state, backend)) == 3


def test_damaged_record_is_skipped_the_rest_removed(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    backend = linux(tmp_path)
    state = tmp_path / "fonts.json"
    install_fonts(attached, state, backend, tag="s")
    data = json.loads(state.read_text())
    data["installed"].append({"file": 3})
    state.write_text(json.dumps(data))
    assert len(remove_fonts(state, backend)) == 3
    assert "damaged entries" in capsys.readouterr().out
    assert files_under(backend.fonts_root) == []


def test_windows_tampered_record_cannot_remove_the_users_font_or_its_registry_value(
    tmp_path: Path, attached: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flat folders (Windows, macOS): only `stmpo-<tag>-*` files are ever ours."""
    users = write_font(tmp_path / "LocalAppData" / "Fonts" / "Arial.ttf", "ArialMT", size=120)
    api = FakeWindowsFontApi({"Arial (TrueType)": str(users)})
    backend = windows(tmp_path, api)
    state = tmp_path / "fonts.json"
    install_fonts(attached, state, backend, tag="s")
    data = json.loads(state.read_text())
    digest = hashlib.sha256(users.read_bytes()).hexdigest()
    data["installed"].append(
        {
            "file": "Arial.ttf",
            "label": "ArialMT",
            "sha256": digest,
            "path": str(users),
            "registry_value": "Arial (TrueType)",
        }
    )
    state.write_text(json.dumps(data))

    assert len(remove_fonts(state, backend)) == 3
    assert users.is_file() and api.registry == {"Arial (TrueType)": str(users)}
    assert "WARNING: font not removed: ArialMT (Arial.ttf)" in capsys.readouterr().out
    assert not state.exists()


def test_macos_tampered_record_cannot_remove_another_sessions_font(
    tmp_path: Path, attached: Path
) -> None:
    fonts_dir = tmp_path / "Library" / "Fonts"
    backend = MacBackend(fonts_dir=fonts_dir, system_dirs=[])
    state_a, state_b = tmp_path / "a.json", tmp_path / "b.json"
    install_fonts(attached, state_a, backend, tag="a")
    install_fonts(attached, state_b, backend, tag="b")
    data = json.loads(state_a.read_text())
    data["installed"] += json.loads(state_b.read_text())["installed"]
    state_a.write_text(json.dumps(data))

    assert len(remove_fonts(state_a, backend)) == 3
    assert files_under(fonts_dir) == [
        "stmpo-b-Instmpo-Bold.ttf",
        "stmpo-b-Minion-It.otf",
        "stmpo-b-Pair.ttc",
    ]
