"""The Qt submitter, offscreen, on the real deadline dialog.

The dialog reads ~/.deadline/config and AWS settings at import time, so every test runs
with a temporary HOME and no credentials: Submit must be disabled with the library's own
reason, while Save bundle works.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from gui_helpers import copy_sample, save_bundle_as
from stmpo.export import load_export
from stmpo.locations import examples_dir, sample_exports

pytestmark = pytest.mark.gui

SAMPLES = sample_exports()


def copy_export(name: str, tmp_path: Path) -> Path:
    """Sticky settings are written beside the export: keep the repo's samples untouched."""
    return copy_sample(name, tmp_path)


def ae_tab(dialog: Any) -> Any:
    return dialog.job_settings


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_opens_with_renderable_items_preselected(
    make_dialog: Callable[[Path], Any], sample: Path, tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    export = load_export(sample)
    dialog = make_dialog(copy_export(str(sample.relative_to(examples_dir())), tmp_path))
    tab = ae_tab(dialog)
    assert tab.queue_table.rowCount() == len(export.render_queue)
    assert tab.selected_items() == [item.index for item in export.renderable_items]
    for row, item in enumerate(export.render_queue):
        cell = tab.queue_table.item(row, 0)
        enabled = bool(cell.flags() & Qt.ItemFlag.ItemIsEnabled)
        assert enabled == item.selectable, item.index
        if not item.selectable:
            status = tab.queue_table.item(row, 4)
            assert item.not_selectable_reason in status.toolTip()
            assert (item.status or "QUEUED") in status.text()
    assert tab.fonts_table.rowCount() == len(export.fonts)


def test_a_done_item_is_greyed_out_with_the_reason(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """aerender -rqindex cannot set a DONE item's Render flag: shown, never pickable."""
    from PySide6.QtCore import Qt

    export = load_export(examples_dir() / "several_items.json")
    tab = ae_tab(make_dialog(copy_export("several_items.json", tmp_path)))
    row = [item.index for item in export.render_queue].index(4)
    assert export.item(4).status == "DONE"
    check = tab.queue_table.item(row, 0)
    assert not check.flags() & Qt.ItemFlag.ItemIsEnabled
    assert tab.queue_table.item(row, 4).text() == "DONE"
    assert "duplicate it in After Effects" in tab.queue_table.item(row, 4).toolTip()
    # UNQUEUED with an output module can still be picked.
    unqueued = tab.queue_table.item([i.index for i in export.render_queue].index(3), 0)
    assert unqueued.flags() & Qt.ItemFlag.ItemIsEnabled


def test_submit_is_disabled_with_the_library_reason_when_not_logged_in(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    dialog = make_dialog(copy_export("image_sequence.json", tmp_path))
    assert not dialog.submit_button.isEnabled()
    tooltip = dialog.submit_button.toolTip()
    assert "Cannot submit job" in tooltip
    assert "farm" in tooltip.lower() or "not accessible" in tooltip


def test_profiles_drive_the_stmpo_controls_and_hand_edits_make_custom(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    tab = ae_tab(make_dialog(copy_export("image_sequence.json", tmp_path)))
    assert tab.profile_combo.currentText() == "Hero"
    assert not tab.disable_mfr.isChecked()

    tab.profile_combo.setCurrentText("Farm")
    values = tab.parameter_values()
    assert values["DisableMFR"] == "true"
    assert values["MaxConcurrency"] == "32"
    assert float(values["RamPerProcessGB"]) == 24.0

    tab.ram_per_process.setValue(40.0)
    assert tab.profile_combo.currentText() == "Custom"
    tab.profile_combo.setCurrentText("Hero")
    assert tab.parameter_values()["DisableMFR"] == "false"


def test_every_value_the_stmpo_controls_allow_builds_a_bundle(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """The controls stop where the template's minValue/maxValue do: an artist cannot
    pick a value that Save bundle or Submit would then refuse."""
    from stmpo.bundle import build_bundle
    from stmpo.gui.settings import AfterEffectsSettings, to_bundle_settings

    tab = ae_tab(make_dialog(copy_export("image_sequence.json", tmp_path)))
    spins = (tab.concurrency, tab.max_concurrency, tab.ram_per_process)
    spins += (tab.spawn_delay, tab.child_grace, tab.chunk_size)
    for end in ("minimum", "maximum"):
        for spin in spins:
            spin.setValue(getattr(spin, end)())
        settings = AfterEffectsSettings()
        tab.update_settings(settings)
        built = build_bundle(tab.export, to_bundle_settings(settings))
        values = {v["name"]: v["value"] for v in built.parameter_values}
        assert float(values["Concurrency"]) == tab.concurrency.value(), end
        assert float(values["ChildGraceSec"]) == tab.child_grace.value(), end


def test_preview_follows_the_worker_shape_and_the_settings(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    tab = ae_tab(make_dialog(copy_export("image_sequence.json", tmp_path)))
    tab.preview_cpus.setValue(256)
    tab.preview_ram.setValue(1024.0)
    tab.preview_numa.setValue(2)
    # enough frames that the launch-worth bound (5 frames a process) is not what binds
    tab.queue_table.item(0, 2).setText("0-999")
    tab.profile_combo.setCurrentText("Hero")
    hero = tab.previews[0].processes
    tab.profile_combo.setCurrentText("Farm")
    farm = tab.previews[0].processes
    assert farm > hero >= 1
    # the seed's figure for a 256-thread, 1 TB host with MFR on, if there are enough frames
    assert hero == min(16, tab.previews[0].frames)
    # the preview is the worker's own plan for that host
    from stmpo._worker_scripts.stmpo_worker import planning

    host = planning.HostFacts(256, 1024.0, planning.even_pools(256, 2), "windows")
    item = tab.export.render_queue[0]
    start, end, step = tab.frames_for(item)
    worker_plan = planning.plan_render(
        host,
        planning.StmpoSettings(max_concurrency=32, ram_per_process_gb=24.0, disable_mfr=True),
        start,
        end,
        step,
        movie=item.has_movie_output,
    )
    assert farm == worker_plan.processes
    assert list(tab.previews[0].ranges) == worker_plan.ranges
    tab.preview_ram.setValue(64.0)
    assert tab.previews[0].processes < farm
    assert tab.preview_list.count() >= 1
    assert "processes" in tab.preview_list.item(0).text()


def test_preview_counts_output_frames_at_the_render_rate(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """A 25 fps comp's 48 frames rendered at 12.5 fps are 24 files: the preview shows the
    worker's plan in output frames, with the comp range each process gets."""
    target = copy_export("image_sequence.json", tmp_path)
    data = json.loads(target.read_text("utf-8"))
    data["renderQueue"][0]["renderFrameRate"] = 12.5
    target.write_text(json.dumps(data), encoding="utf-8")
    tab = ae_tab(make_dialog(target))
    tab.preview_cpus.setValue(8)
    tab.preview_ram.setValue(1024.0)
    tab.concurrency.setValue(4)
    preview = tab.previews[0]
    assert preview.frames == 24
    assert preview.processes == 4
    assert preview.children[0].startswith("c1: frames 0-5 (comp 0-11 at 25 fps -> 12.5 fps) (6)")
    assert "24 frames" in preview.summary


def test_toggling_items_changes_the_selection_and_validity(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    export = load_export(examples_dir() / "several_items.json")
    tab = ae_tab(make_dialog(copy_export("several_items.json", tmp_path)))
    tab.select_none_button.click()
    assert tab.selected_items() == []
    assert tab.invalid_parameter_names()
    first_selectable = next(r for r, i in enumerate(export.render_queue) if i.selectable)
    tab.queue_table.item(first_selectable, 0).setCheckState(Qt.CheckState.Checked)
    assert tab.selected_items() == [export.render_queue[first_selectable].index]
    tab.queue_table.item(first_selectable, 2).setText("nonsense")
    assert any("frames" in name for name in tab.invalid_parameter_names())
    tab.select_renderable_button.click()
    assert tab.selected_items() == [item.index for item in export.renderable_items]


def test_save_bundle_writes_a_valid_bundle_with_the_chosen_settings_and_sticks(
    make_dialog: Callable[[Path], Any], qtbot: Any, tmp_path: Path, gui_home: Path
) -> None:
    from deadline.client.config import set_setting
    from PySide6.QtCore import Qt
    from stmpo.bundle import validate_bundle_dir

    out = tmp_path / "bundles"
    out.mkdir()
    set_setting("settings.job_bundle_default_directory", str(out))
    export_path = copy_export("several_items.json", tmp_path)
    export = load_export(export_path)
    dialog = make_dialog(export_path)
    tab = ae_tab(dialog)
    tab.select_none_button.click()
    chosen = [item for item in export.render_queue if item.selectable][:2]
    for item in chosen:
        row = export.render_queue.index(item)
        tab.queue_table.item(row, 0).setCheckState(Qt.CheckState.Checked)
    first = chosen[0]
    row = export.render_queue.index(first)
    tab.queue_table.item(row, 2).setText(f"{first.frames.start}-{first.frames.start + 4}")
    tab.profile_combo.setCurrentText("Farm")
    # The After Effects tab's ContinueOnMissingFootage checkbox: off by default.
    assert not tab.continue_on_missing.isChecked()
    tab.continue_on_missing.setChecked(True)

    [box] = save_bundle_as(qtbot, dialog, out)
    assert "Bundle saved" in box, box

    bundle = out / "ae_bundle"
    validate_bundle_dir(bundle)
    template = yaml.safe_load((bundle / "template.yaml").read_text(encoding="utf-8"))
    assert len(template["steps"]) == len(chosen)
    values = yaml.safe_load((bundle / "parameter_values.yaml").read_text(encoding="utf-8"))
    by_name = {v["name"]: v["value"] for v in values["parameterValues"]}
    assert str(by_name["DisableMFR"]).lower() == "true"
    assert str(by_name["ContinueOnMissingFootage"]).lower() == "true"
    assert "deadline:priority" in by_name

    sticky = json.loads((tmp_path / "several_items.stmpo.json").read_text(encoding="utf-8"))
    assert sticky["selected_items"] == [item.index for item in chosen]
    assert sticky["profile"] == "Farm"
    assert sticky["parameters"]["ContinueOnMissingFootage"] == "true"

    reopened = ae_tab(make_dialog(export_path))
    assert reopened.selected_items() == [item.index for item in chosen]
    assert reopened.profile_combo.currentText() == "Farm"
    assert reopened.frame_overrides() == {
        first.index: f"{first.frames.start}-{first.frames.start + 4}"
    }


def test_submitter_entry_point_refuses_a_bad_export_with_exit_2(
    tmp_path: Path, gui_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from stmpo.gui.app import main

    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "stmpo-ae-export", "version": 1}', encoding="utf-8")
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "renderQueue" in err and "Traceback" not in err


def test_dialog_screenshot_renders(make_dialog: Callable[[Path], Any], tmp_path: Path) -> None:
    dialog = make_dialog(copy_export("several_items.json", tmp_path))
    dialog.tabs.setCurrentIndex(1)
    dialog.resize(900, 1000)
    image = dialog.grab().toImage()
    assert image.width() >= 900 and image.height() >= 900
    assert len({image.pixel(x, 300) for x in range(0, 900, 7)}) > 3  # not a blank window


def test_known_asset_paths_are_the_project_folder_never_a_root_or_home(gui_home: Path) -> None:
    """Only the project's folder passes unasked; the library's own dialog asks the artist
    about footage anywhere else (it used to list every footage folder as known)."""
    from stmpo.gui.app import known_asset_paths

    assert known_asset_paths("/projects/spot/spot.aep") == ["/projects/spot"]
    assert known_asset_paths("/spot.aep") == []
    assert known_asset_paths(str(gui_home / "spot.aep")) == []


def test_the_tab_counts_uploads_and_a_secret_blocks_submit_until_allowed(
    make_dialog: Callable[[Path], Any], gui_home: Path, tmp_path: Path
) -> None:
    from submit_samples import make_export

    key = gui_home / ".ssh" / "id_ed25519"
    key.parent.mkdir()
    key.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY-----\nfake\n")
    export_path = make_export(tmp_path, "spot", font=False, footage_frames=2)
    data = json.loads(export_path.read_text(encoding="utf-8"))
    data["footage"].append({"path": str(key), "sequence": False, "missing": False})
    export_path.write_text(json.dumps(data), encoding="utf-8")

    dialog = make_dialog(export_path)
    tab = ae_tab(dialog)
    refused = [tab.uploads_refused.item(i).text() for i in range(tab.uploads_refused.count())]
    assert len(refused) == 1 and refused[0].startswith(
        f"footage[2].path: refusing to upload the file {key}"
    )
    assert "upload refused: footage[2].path" in tab.invalid_parameter_names()
    before = tab.upload_summary
    assert f"Uploads {before.files} files, " in tab.uploads_label.text()

    tab.allow_secret_paths.setChecked(True)
    assert tab.uploads_refused.count() == 0
    assert not any(name.startswith("upload refused") for name in tab.invalid_parameter_names())
    after = tab.upload_summary
    assert (after.files, after.bytes) == (before.files + 1, before.bytes + key.stat().st_size)
    assert f"Uploads {after.files} files, " in tab.uploads_label.text()


def test_settings_stick_beside_the_project_when_its_folder_exists(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """The artist's choices follow the project, not the temporary export file AE wrote."""
    from stmpo.gui.settings import AfterEffectsSettings, save_sticky, sticky_path

    project = tmp_path / "shots" / "spot_v012.aep"
    project.parent.mkdir()
    project.write_bytes(b"RIFX")
    data = json.loads((examples_dir() / "several_items.json").read_text(encoding="utf-8"))
    data["project"]["path"] = str(project)
    export_path = tmp_path / "exports" / "tmp_export.json"
    export_path.parent.mkdir()
    export_path.write_text(json.dumps(data), encoding="utf-8")
    export = load_export(export_path)

    where = sticky_path(export, export_path)
    assert where == project.with_name("spot_v012.aep.stmpo.json")
    chosen = AfterEffectsSettings(selected_items=[2], chunk_size=7)
    chosen.parameters.update(
        {"DisableMFR": "true", "MaxConcurrency": "32", "RamPerProcessGB": "24.0"}
    )
    save_sticky(chosen, where)

    tab = ae_tab(make_dialog(export_path))
    assert tab.selected_items() == [2]
    assert tab.chunk_size.value() == 7
    assert tab.profile_combo.currentText() == "Farm"
    assert not (export_path.parent / "tmp_export.stmpo.json").exists()


@pytest.mark.parametrize(
    ("version", "package", "warned"),
    [("24.6.2", "aftereffects=24.6", False), ("23.0.1", "aftereffects=23", True)],
)
def test_the_tab_shows_the_conda_package_and_warns_when_the_channel_lacks_it(
    make_dialog: Callable[[Path], Any], tmp_path: Path, version: str, package: str, warned: bool
) -> None:
    data = json.loads((examples_dir() / "image_sequence.json").read_text(encoding="utf-8"))
    data["host"]["version"] = version
    export_path = tmp_path / "spot.json"
    export_path.write_text(json.dumps(data), encoding="utf-8")
    dialog = make_dialog(export_path)
    tab = ae_tab(dialog)
    assert tab.conda_label.text().startswith(f"{package}: ")
    lines = [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]
    conda = [line for line in lines if "CondaPackages" in line]
    assert bool(conda) == warned
    if warned:
        assert conda[0].startswith("After Effects 23.0 is not a version the deadline-cloud")
    assert dialog.shared_job_settings.initial_shared_parameter_values == {"CondaPackages": package}


def test_the_dialog_starts_with_the_render_job_properties(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """One retry and ten failed tasks, as `stmpo bundle`/`submit`, not the library's five
    retries per task."""
    dialog = make_dialog(copy_export("image_sequence.json", tmp_path))
    box = dialog.shared_job_settings.shared_job_properties_box
    assert box.max_retries_per_task_box.value() == 1
    assert box.max_failed_tasks_count_box.value() == 10
    assert box.priority_box.value() == 50
    values = {p["name"]: p["value"] for p in box.get_parameters()}
    assert values["deadline:maxRetriesPerTask"] == 1


def test_preview_keeps_a_renumbered_item_on_one_process(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """ "Use Comp Frame Number" off: the worker renders the item in one process (every
    launch would number its files from the Starting #); the preview shows that plan,
    not four processes that would overwrite each other's files."""
    target = copy_export("image_sequence.json", tmp_path)
    data = json.loads(target.read_text("utf-8"))
    data["renderQueue"][0]["outputModules"][0]["useCompFrameNumber"] = False
    data["renderQueue"][0]["outputModules"][0]["startingNumber"] = 1
    target.write_text(json.dumps(data), encoding="utf-8")
    tab = ae_tab(make_dialog(target))
    tab.preview_cpus.setValue(8)
    tab.preview_ram.setValue(1024.0)
    tab.concurrency.setValue(4)
    preview = tab.previews[0]
    assert preview.processes == 1
    assert any("Use Comp Frame Number" in reason for reason in preview.reasons)
