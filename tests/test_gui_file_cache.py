"""Issue 12 in the submitter: the File cache controls, the uploads box saying which
inputs are uploaded and which reach the workers through the cache, and a bad
CacheRootPaths keeping Submit disabled with the reason `stmpo bundle` gives."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from submit_samples import make_export


def _split(tab: Any) -> list[str]:
    return [tab.uploads_split.item(i).text() for i in range(tab.uploads_split.count())]


def test_the_uploads_box_lists_cached_and_uploaded_inputs(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    export_path = make_export(tmp_path, "spot", font=False, footage_frames=2)
    tab = make_dialog(export_path).job_settings
    before = tab.upload_summary
    assert before.cached_files == 0

    plates = tmp_path / "spot" / "plates"
    tab.stmpo_controls["CacheRootPaths"].setText(str(plates))
    after = tab.upload_summary
    assert after.cached_files == 2 and after.files == before.files - 2
    assert "2 files through the file cache, not uploaded" in tab.uploads_label.text()
    split = _split(tab)
    assert split[:2] == [
        f"file cache: {plates / 'plate.0000.exr'}",
        f"file cache: {plates / 'plate.0001.exr'}",
    ]
    assert f"uploaded: {tmp_path / 'spot' / 'spot.aep'}" in split
    assert not tab.invalid_parameter_names()
    assert tab.parameter_values()["CacheRootPaths"] == str(plates)


def test_a_bad_root_blocks_submit_with_the_reason(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    export_path = make_export(tmp_path, "spot", font=False, footage_frames=2)
    tab = make_dialog(export_path).job_settings
    tab.stmpo_controls["CacheRootPaths"].setText("plates/relative")
    assert "File cache root paths: 'plates/relative' is not an absolute path" in (
        tab.invalid_parameter_names()
    )
    tab.stmpo_controls["CacheRootPaths"].setText(";".join(f"/mnt/c{i}" for i in range(9)))
    [reason] = [n for n in tab.invalid_parameter_names() if n.startswith("File cache")]
    assert "9 roots given; a file cache links at most 8" in reason
    tab.stmpo_controls["CacheRootPaths"].setText("")
    assert not tab.invalid_parameter_names()


def test_the_roots_stick_beside_the_project_and_apply_on_open(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from stmpo.export import load_export
    from stmpo.gui.settings import AfterEffectsSettings, save_sticky, sticky_path

    export_path = make_export(tmp_path, "spot", font=False, footage_frames=2)
    tab = make_dialog(export_path).job_settings
    plates = tmp_path / "spot" / "plates"
    tab.stmpo_controls["CacheRootPaths"].setText(str(plates))
    tab.stmpo_controls["LfsCommand"].setText("/usr/bin/lfs")
    settings = AfterEffectsSettings()
    tab.update_settings(settings)
    save_sticky(settings, sticky_path(load_export(export_path), str(export_path)))

    again = make_dialog(export_path).job_settings
    assert again.stmpo_controls["CacheRootPaths"].text() == str(plates)
    assert again.parameter_values()["LfsCommand"] == "/usr/bin/lfs"
    assert again.upload_summary.cached_files == 2
    assert _split(again)[0] == f"file cache: {plates / 'plate.0000.exr'}"
