"""Submitter-side font resolution, against real font files built with fontTools."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fontgen import write_collection, write_font
from stmpo.export.model import Font
from stmpo.fonts import (
    FontIndex,
    FontNameCache,
    copy_font_files,
    default_cache_file,
    read_font_names,
    resolve_fonts,
    system_font_dirs,
)


def font(ps: str, location: str | None = None, substitute: bool = False) -> Font:
    return Font(post_script_name=ps, location=location, is_substitute=substitute)


@pytest.fixture
def library(tmp_path: Path) -> dict[str, Path]:
    """Two font folders: a TTF, an OTF (CFF), a TTC, a variable font and a broken file."""
    user, system = tmp_path / "user", tmp_path / "system"
    return {
        "user": user,
        "system": system,
        "ttf": write_font(user / "Alpha-Bold.ttf", "Alpha-Bold", family="Alpha", style="Bold"),
        "otf": write_font(system / "sub" / "Beta-Italic.otf", "Beta-Italic", cff=True),
        "ttc": write_collection(system / "Gamma.ttc", ["Gamma-Light", "Gamma-Heavy"]),
        "var": write_font(
            system / "Delta[wght].ttf", "Delta-Regular", variable_instances={"Delta-Black": 900}
        ),
    }


def test_read_font_names_of_each_kind(library: dict[str, Path]) -> None:
    assert [n.postscript for n in read_font_names(library["ttf"])] == ["Alpha-Bold"]
    assert [n.postscript for n in read_font_names(library["otf"])] == ["Beta-Italic"]
    ttc = read_font_names(library["ttc"])
    assert [(n.postscript, n.font_number) for n in ttc] == [("Gamma-Light", 0), ("Gamma-Heavy", 1)]
    var = read_font_names(library["var"])
    assert [(n.postscript, n.instance) for n in var] == [
        ("Delta-Regular", False),
        ("Delta-Black", True),
    ]


def test_resolved_by_reported_location_without_scanning(library: dict[str, Path]) -> None:
    index_dirs = [library["user"], library["system"]]
    [res] = resolve_fonts([font("Alpha-Bold", str(library["ttf"]))], index_dirs)
    assert (res.state, res.path, res.font_number) == ("resolved", library["ttf"], 0)
    assert "location After Effects reported" in res.reason


def test_location_inside_a_collection_gives_its_font_number(library: dict[str, Path]) -> None:
    [res] = resolve_fonts([font("Gamma-Heavy", str(library["ttc"]))], [])
    assert (res.state, res.path, res.font_number) == ("resolved", library["ttc"], 1)


def test_resolved_by_search_when_location_is_absent(library: dict[str, Path]) -> None:
    dirs = [library["user"], library["system"]]
    results = resolve_fonts(
        [font("Beta-Italic"), font("Gamma-Light"), font("Alpha-Bold", "/nowhere/Alpha.ttf")],
        dirs,
    )
    assert [(r.state, r.path) for r in results] == [
        ("resolved", library["otf"]),
        ("resolved", library["ttc"]),
        ("resolved", library["ttf"]),
    ]
    assert "gave no file location" in results[0].reason
    assert "/nowhere/Alpha.ttf" in results[2].reason


def test_wrong_file_at_location_is_not_trusted(library: dict[str, Path]) -> None:
    """The location holds another font: search finds the real one and says why."""
    [res] = resolve_fonts([font("Beta-Italic", str(library["ttf"]))], [library["system"]])
    assert (res.state, res.path) == ("resolved", library["otf"])
    assert "holds Alpha-Bold, not Beta-Italic" in res.reason


def test_wrong_file_at_location_and_nowhere_else_is_missing(library: dict[str, Path]) -> None:
    [res] = resolve_fonts([font("Beta-Italic", str(library["ttf"]))], [library["user"]])
    assert (res.state, res.path) == ("missing", None)
    assert "holds Alpha-Bold" in res.reason and str(library["user"]) in res.reason


def test_missing_font(library: dict[str, Path]) -> None:
    [res] = resolve_fonts([font("Nope-Regular")], [library["user"], library["system"]])
    assert (res.state, res.path, res.attached) == ("missing", None, False)
    assert "no font in" in res.reason


def test_substitute_is_reported_not_attached(library: dict[str, Path]) -> None:
    [res] = resolve_fonts(
        [font("Alpha-Bold", str(library["ttf"]), substitute=True)], [library["user"]]
    )
    assert (res.state, res.path, res.attached) == ("substitute", None, False)
    assert "substitute" in res.reason


def test_variable_font_instance_resolves_to_the_variable_file(library: dict[str, Path]) -> None:
    [res] = resolve_fonts([font("Delta-Black")], [library["system"]])
    assert (res.state, res.path) == ("resolved", library["var"])
    assert "named instance" in res.reason


def test_corrupt_files_are_ignored(library: dict[str, Path]) -> None:
    bad = library["user"] / "Broken.ttf"
    bad.write_bytes(b"\x00\x01\x00\x00" + b"\xff" * 40)
    truncated = library["user"] / "Truncated.otf"
    truncated.write_bytes(library["otf"].read_bytes()[:200])
    results = resolve_fonts(
        [font("Alpha-Bold"), font("Broken", str(bad))], [library["user"], library["system"]]
    )
    assert [r.state for r in results] == ["resolved", "missing"]
    assert "not a readable font file" in results[1].reason


def test_earlier_folder_wins_on_duplicates(tmp_path: Path) -> None:
    first = write_font(tmp_path / "a" / "Dup.ttf", "Dup-Regular", size=400)
    write_font(tmp_path / "b" / "Dup.ttf", "Dup-Regular", size=600)
    [res] = resolve_fonts([font("Dup-Regular")], [tmp_path / "a", tmp_path / "b"])
    assert res.path == first


def test_cache_file_reused_and_refreshed_on_change(
    library: dict[str, Path], tmp_path: Path
) -> None:
    cache_file = tmp_path / "cache" / "index.json"
    dirs = [library["user"], library["system"]]
    assert FontIndex(dirs, FontNameCache(cache_file)).lookup("Alpha-Bold") is not None
    stored = json.loads(cache_file.read_text())
    assert str(library["ttf"]) in stored["files"]

    # A second process trusts the cache for unchanged files (the entry below is a
    # deliberate lie that only the cache can tell), and rereads a changed file.
    stored["files"][str(library["ttf"])][2] = [["From-Cache", 0, False]]
    cache_file.write_text(json.dumps(stored))
    index = FontIndex(dirs, FontNameCache(cache_file))
    assert index.lookup("From-Cache") is not None
    write_font(library["otf"], "Beta-Renamed", cff=True)
    os.utime(library["otf"], ns=(1, 1))
    assert index.lookup("Beta-Italic") is not None, "an index is a snapshot"
    fresh = FontIndex(dirs, FontNameCache(cache_file))
    assert fresh.lookup("Beta-Renamed") is not None
    assert fresh.lookup("Beta-Italic") is None


def test_damaged_cache_file_is_rebuilt(library: dict[str, Path], tmp_path: Path) -> None:
    cache_file = tmp_path / "index.json"
    cache_file.write_text("{not json")
    index = FontIndex([library["user"]], FontNameCache(cache_file))
    assert index.lookup("Alpha-Bold") is not None
    assert json.loads(cache_file.read_text())["format"] == "stmpo-font-index"


def test_copy_font_files_once_each_without_name_clash(tmp_path: Path) -> None:
    a = write_font(tmp_path / "a" / "Same.ttf", "Same-A")
    b = write_font(tmp_path / "b" / "Same.ttf", "Same-B", size=700)
    coll = write_collection(tmp_path / "c" / "Coll.ttc", ["Coll-One", "Coll-Two"])
    results = resolve_fonts(
        [font("Same-A"), font("Coll-One"), font("Same-B"), font("Coll-Two"), font("Gone")],
        [tmp_path / "a", tmp_path / "b", tmp_path / "c"],
    )
    written = copy_font_files(results, tmp_path / "bundle" / "fonts")
    assert [p.name for p in written] == ["Same.ttf", "Coll.ttc", "Same-2.ttf"]
    assert [p.read_bytes() for p in written] == [b.read_bytes() for b in (a, coll, b)]


def test_system_font_dirs_per_os(tmp_path: Path) -> None:
    home = tmp_path / "home"
    windows = system_font_dirs(
        "win32", {"LOCALAPPDATA": r"C:\Users\a\AppData\Local", "WINDIR": r"C:\Windows"}, home
    )
    assert [str(p).replace("\\", "/") for p in windows] == [
        "C:/Users/a/AppData/Local/Microsoft/Windows/Fonts",
        "C:/Windows/Fonts",
    ]
    assert system_font_dirs("darwin", {}, home) == [
        home / "Library/Fonts",
        Path("/Library/Fonts"),
        Path("/System/Library/Fonts"),
    ]
    assert system_font_dirs("linux", {}, home)[:2] == [home / ".local/share/fonts", home / ".fonts"]
    assert system_font_dirs("linux", {"XDG_DATA_HOME": "/x"}, home)[0] == Path("/x/fonts")
    assert default_cache_file("linux", {}, home) == home / ".cache/stmpo/font-index.json"


def _export_with_fonts(tmp_path: Path, fonts: list[dict[str, object]]) -> Path:
    from stmpo.locations import examples_dir

    data = json.loads((examples_dir() / "image_sequence.json").read_text())
    data["fonts"] = fonts
    path = tmp_path / "export.json"
    path.write_text(json.dumps(data))
    return path


def test_stmpo_fonts_command(
    library: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmpo.cli import main

    export = _export_with_fonts(
        tmp_path,
        [
            {"postScriptName": "Gamma-Heavy"},
            {"postScriptName": "Nope-Regular"},
            {"postScriptName": "Alpha-Bold", "isSubstitute": True},
        ],
    )
    dirs = ["--search-dir", str(library["user"]), "--search-dir", str(library["system"])]
    assert main(["fonts", str(export), *dirs, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["postScriptName"], r["state"], r["path"], r["fontNumber"]) for r in rows] == [
        ("Gamma-Heavy", "resolved", str(library["ttc"]), 1),
        ("Nope-Regular", "missing", None, None),
        ("Alpha-Bold", "substitute", None, None),
    ]
    assert main(["fonts", str(export), *dirs, "--strict"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["resolved", "Gamma-Heavy", str(library["ttc"])]
    assert lines[1].startswith("missing     Nope-Regular")


def test_stmpo_fonts_command_bad_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmpo.cli import main

    export = _export_with_fonts(tmp_path, [{"postScriptName": ""}])
    assert main(["fonts", str(export), "--search-dir", str(tmp_path)]) == 2
    assert "fonts[0].postScriptName" in capsys.readouterr().err
    good = _export_with_fonts(tmp_path, [])
    assert main(["fonts", str(good), "--search-dir", str(tmp_path / "nope")]) == 2
    assert "--search-dir[0]" in capsys.readouterr().err


def test_the_fonts_command_module_loads_without_fonttools() -> None:
    """`stmpo --help` imports every command module; fontTools loads only with `stmpo.fonts`."""
    import subprocess
    import sys

    probe = (
        "import sys, stmpo.commands.fonts\n"
        "assert 'fontTools' not in sys.modules, 'loaded by the command module'\n"
        "import stmpo.fonts\n"
        "assert 'fontTools' in sys.modules, 'not loaded with the package'\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
