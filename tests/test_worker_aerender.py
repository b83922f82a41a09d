"""Finding aerender, building child command lines, and the item's outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker import outputs as out
from stmpo._worker_scripts.stmpo_worker.aerender import (
    AerenderNotFound,
    Finder,
    child_command,
    resolve_aerender,
)
from stmpo._worker_scripts.stmpo_worker.pathmap import parse_rules

WIN_INSTALLS = [
    r"C:\Program Files\Adobe\Adobe After Effects CC 2019\Support Files\aerender.exe",
    r"C:\Program Files\Adobe\Adobe After Effects 2024\Support Files\aerender.exe",
    r"C:\Program Files\Adobe\Adobe After Effects (Beta)\Support Files\aerender.exe",
    r"C:\Program Files\Adobe\Adobe After Effects 2025\Support Files\aerender.exe",
]


def _fake(files: list[str], on_path: str | None = None) -> Finder:
    def glob(pattern: str) -> list[str]:
        prefix = pattern.split("*")[0]
        return [f for f in files if f.startswith(prefix)]

    return Finder(
        is_file=lambda p: p in files,
        is_dir=lambda p: any(f.startswith(p.rstrip("\\/") + "\\") for f in files),
        which=lambda _name: on_path,
        glob=glob,
    )


def test_windows_default_installs_newest_first() -> None:
    found = resolve_aerender("", {}, "windows", _fake(WIN_INSTALLS))
    assert "2025" in found


def test_macos_default_install() -> None:
    files = [
        "/Applications/Adobe After Effects 2023/aerender",
        "/Applications/Adobe After Effects 2024/aerender",
    ]
    assert resolve_aerender("", {}, "macos", _fake(files)) == files[1]


def test_order_explicit_env_path_defaults() -> None:
    files = [*WIN_INSTALLS, r"D:\AE\aerender.exe", r"E:\env\aerender.exe"]
    finder = _fake(files, on_path=r"F:\bin\aerender.exe")
    env = {"AERENDER_PATH": r"E:\env\aerender.exe"}
    assert resolve_aerender(r"D:\AE\aerender.exe", env, "windows", finder) == r"D:\AE\aerender.exe"
    assert resolve_aerender("", env, "windows", finder) == r"E:\env\aerender.exe"
    assert resolve_aerender("", {}, "windows", finder) == r"F:\bin\aerender.exe"


def test_a_folder_is_searched_for_aerender() -> None:
    folder = r"C:\Program Files\Adobe\Adobe After Effects 2024\Support Files"
    assert resolve_aerender(folder, {}, "windows", _fake(WIN_INSTALLS)) == WIN_INSTALLS[1]


def test_explicit_path_that_does_not_exist_is_an_error_not_a_fallback() -> None:
    with pytest.raises(AerenderNotFound, match=r"D:\\nope.exe \(--aerender-path\)"):
        resolve_aerender(r"D:\nope.exe", {}, "windows", _fake(WIN_INSTALLS))


def test_nothing_found_names_every_place() -> None:
    with pytest.raises(AerenderNotFound) as caught:
        resolve_aerender("", {"ProgramFiles": r"C:\PF"}, "windows", _fake([]))
    looked = caught.value.looked
    assert "aerender on PATH" in looked
    assert "AERENDER_PATH (not set)" in looked
    assert any(p.startswith(r"C:\PF\Adobe") for p in looked)
    assert any(p.startswith(r"C:\Program Files\Adobe") for p in looked)


def test_real_linux_lookup_on_path(tmp_path: Path) -> None:
    exe = tmp_path / "aerender"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    import shutil

    finder = Finder(which=lambda name: shutil.which(name, path=str(tmp_path)))
    assert resolve_aerender("", {}, "linux", finder) == str(exe)


def test_child_command_is_an_argument_list() -> None:
    argv = child_command("/x/aerender", "/p/a b.aep", 3, 10, 19, 2, mfr=True)
    assert argv == [
        "/x/aerender", "-project", "/p/a b.aep", "-rqindex", "3", "-s", "10", "-e", "19",
        "-i", "2", "-mfr", "ON", "100", "-v", "ERRORS_AND_PROGRESS",
        "-close", "DO_NOT_SAVE_CHANGES", "-sound", "OFF",
    ]  # fmt: skip
    standin = child_command("/r/aerender_standin.py", "p", 1, 0, 0, 1, False, output="/o.png")
    assert standin[:2] == [sys.executable, "/r/aerender_standin.py"]
    assert standin[-2:] == ["-output", "/o.png"] and "OFF" in standin


# -- outputs -----------------------------------------------------------------------------


def test_item_round_trip_keeps_hostile_text_exact() -> None:
    name = "MAIN {{Param.X}} \"q\" 'q' $(rm -rf) `id`; é 漢字"
    encoded = out.encode_b64_json(
        {
            "comp": name,
            "outputs": [{"index": 1, "path": f"/o/{name}_[###].png", "kind": "sequence"}],
        }
    )
    assert all(c.isalnum() or c in "-_=" for c in encoded)
    item = out.parse_item(encoded.rstrip("="))  # padding is optional
    assert item.comp == name and item.outputs[0].path == f"/o/{name}_[###].png"
    assert not item.movie


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ("!!!", "--item-b64"),
        (out.encode_b64_json([1]), "--item-b64"),
        (out.encode_b64_json({"comp": 1, "outputs": []}), "--item-b64: comp"),
        (out.encode_b64_json({"comp": "c", "outputs": [{"path": ""}]}), "outputs[0].path"),
        (out.encode_b64_json({"comp": "c", "outputs": [{"path": "/a", "kind": "gif"}]}), "kind"),
    ],
)
def test_bad_items_name_the_argument_and_path(payload: str, where: str) -> None:
    with pytest.raises(out.ArgumentProblem) as caught:
        out.parse_item(payload)
    assert where in str(caught.value)


def test_frame_path_and_expected_files() -> None:
    assert out.frame_path("/o/A_[#####].png", 42) == "/o/A_00042.png"
    assert out.frame_path("/o/[##]/A_[####].exr", 7) == "/o/07/A_0007.exr"
    item = out.Item(
        "c", (out.Output(1, "/o/A_[##].png", "sequence"), out.Output(2, "/o/m.mov", "movie"))
    )
    assert list(out.expected_files(item, range(0, 5, 2))) == [
        "/o/A_00.png",
        "/o/A_02.png",
        "/o/A_04.png",
        "/o/m.mov",
    ]


def test_output_override_only_for_one_mapped_output() -> None:
    rules = parse_rules(
        '{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "WINDOWS",'
        ' "source_path": "C:\\\\r", "destination_path": "/mnt/r"}]}'
    )
    one = out.Item("c", (out.Output(1, "C:/r/A_[####].png", "sequence"),))
    assert out.output_override(one, out.mapped_item(one, rules)) == "/mnt/r/A_[####].png"
    unmapped = out.Item("c", (out.Output(1, "/already/A_[####].png", "sequence"),))
    assert out.output_override(unmapped, out.mapped_item(unmapped, rules)) is None
    two = out.Item("c", (*one.outputs, out.Output(2, "C:/r/b.mov", "movie")))
    assert out.output_override(two, out.mapped_item(two, rules)) is None


def test_deeply_nested_json_in_any_worker_input_is_a_plain_error() -> None:
    """Hand-made inputs nested past Python's recursion limit must not end in a traceback."""
    import base64

    from stmpo._worker_scripts.stmpo_worker import pathmap, topology

    deep = "[" * 100_000 + "]" * 100_000
    encoded = base64.urlsafe_b64encode(deep.encode()).decode()
    with pytest.raises(out.ArgumentProblem, match="nested too deeply"):
        out.decode_b64_json(encoded, "--item-b64")
    with pytest.raises(pathmap.PathMappingError, match="nested too deeply"):
        pathmap.parse_rules(deep)
    with pytest.raises(ValueError, match="nested too deeply"):
        topology.parse_numa_map(deep)
