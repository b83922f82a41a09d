"""What job attachments' asset roots do to an export's paths, checked through `stmpo bundle`.

Job attachments (deadline library, `S3AssetManager._get_asset_groups`) group paths by
drive or share (`PurePath(path).parts[0]`), root each group at its members' common
path, and put that root about 107 characters deep on a Windows worker. The exports
here use Windows paths (an artist on Windows); none of the files exist on this machine,
which job attachments treats as referenced paths, grouped the same way.
"""

from __future__ import annotations

import ntpath
from pathlib import Path

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from stmpo.cli import main


def _bundle(
    tmp_path: Path, data: dict[str, object], capsys: pytest.CaptureFixture[str]
) -> tuple[dict[str, object], str]:
    data = {**data, "host": {"app": "After Effects", "version": "24.6.2", "os": "windows"}}
    export = write_export(tmp_path / "export.json", data)
    out = tmp_path / "bundle"
    code = main(["bundle", str(export), "-o", str(out)])
    _, err = capsys.readouterr()
    assert code == 0, err
    refs = yaml.safe_load((out / "asset_references.yaml").read_text(encoding="utf-8"))
    return refs["assetReferences"], err


def _seq(path: str) -> list[dict[str, object]]:
    return [{"index": 1, "path": path, "kind": "sequence"}]


def test_400_output_folders_become_a_covering_set_that_holds_no_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spot = "D:\\jobs\\spot"
    items = [
        item(
            i, outputs=_seq(f"{spot}\\{'renders' if i <= 200 else 'precomps'}\\i{i}\\f_[####].png")
        )
        for i in range(1, 381)
    ] + [item(i, outputs=_seq(f"E:\\out\\i{i}\\f_[####].png")) for i in range(381, 401)]
    data = export_dict(items, project={"path": f"{spot}\\spot_v012.aep"})
    refs, _ = _bundle(tmp_path, data, capsys)
    covering = refs["outputs"]["directories"]
    # D:\jobs\spot holds the project: one level down instead. E: has no input.
    assert sorted(covering) == [f"{spot}\\precomps", f"{spot}\\renders", "E:\\out"]
    for it in items:
        folder = ntpath.dirname(it["outputModules"][0]["path"])
        assert any(folder.startswith(c + "\\") for c in covering), folder


def test_footage_on_another_drive_or_share_than_the_project_is_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = export_dict(
        [item(1, outputs=_seq("D:\\p\\out\\f_[####].png"))],
        project={"path": "D:\\p\\spot.aep"},
        footage=[
            {"path": "D:\\p\\plates\\a.mov"},
            {"path": "d:/P/plates/b.mov"},
            {"path": "\\\\nas\\media\\stock\\c.mov"},
            {"path": "F:\\lib\\d.mov"},
        ],
    )
    _, err = _bundle(tmp_path, data, capsys)
    [line] = [w for w in err.splitlines() if "another drive or share" in w]
    assert "2 footage file(s)" in line and "\\\\nas\\media\\stock\\c.mov" in line
    assert "(and 1 more)" in line and "a.mov" not in line and "b.mov" not in line


def test_paths_too_long_for_a_windows_worker_are_warned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    deep = "D:\\p\\" + "\\".join(["shot_folder_" + "x" * 20] * 5)  # 5 * 33 characters
    fits = "D:\\p\\out\\f_[####].png"
    over = f"{deep}\\f_[####].png"
    data = export_dict(
        [item(1, outputs=_seq(fits)), item(2, outputs=_seq(over))],
        project={"path": "D:\\p\\spot.aep"},
    )
    _, err = _bundle(tmp_path, data, capsys)
    [line] = [w for w in err.splitlines() if "characters on a Windows worker" in w]
    # Rooted at D:\p, the worker path is len(over) - len("D:\\p") + 107 long.
    assert f"{over}, would be {len(over) - 4 + 107}" in line and "1 path(s)" in line
    assert fits not in line
