"""The plan view (issue 13, "See the plan"): job summary, fan-out picture, plan warnings.

Through the real submitter dialog offscreen: the picture is rendered to an image and
measured in pixels (one band per process, bar lengths in proportion to frames), and the
summary and warnings are read as the artist sees them. The numbers they should show are
computed here from the worker's own plan (planning.plan_render) and the sample's frames.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from stmpo.export import load_export
from stmpo.locations import examples_dir

pytestmark = pytest.mark.gui


def copy_export(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copy(examples_dir() / name, target)
    return target


def open_tab(make_dialog: Callable[[Path], Any], tmp_path: Path, name: str) -> Any:
    dialog = make_dialog(copy_export(name, tmp_path))
    dialog.resize(1000, 1600)
    tab = dialog.job_settings
    tab.preview_cpus.setValue(64)
    tab.preview_ram.setValue(256.0)
    tab.preview_numa.setValue(1)
    return tab


def bands(picture: Any, colour: Any) -> list[int]:
    """Per horizontal band of `colour` in the rendered picture: its widest run of pixels."""
    image = picture.grab().toImage()
    rgb = colour.rgb()
    widths: list[int] = []
    inside = False
    for y in range(image.height()):
        count = sum(1 for x in range(image.width()) if image.pixel(x, y) == rgb)
        if count and not inside:
            widths.append(count)
        elif count:
            widths[-1] = max(widths[-1], count)
        inside = bool(count)
    return widths


def set_concurrency(tab: Any, value: int) -> None:
    tab.stmpo_controls["Concurrency"].setValue(value)


def test_the_picture_has_one_bar_per_process_as_long_as_its_frames(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from stmpo.gui.plan_view import RENDER_COLOUR, STARTUP_COLOUR

    tab = open_tab(make_dialog, tmp_path, "image_sequence.json")  # 48 frames
    set_concurrency(tab, 5)
    picture = tab.plan_view.picture
    widths = bands(picture, RENDER_COLOUR)
    assert len(widths) == 5 == tab.previews[0].processes
    assert len(bands(picture, STARTUP_COLOUR)) == 5
    frames = [10, 10, 10, 9, 9]  # 48 frames cut by the worker's split_frames
    per_frame = widths[0] / frames[0]
    for width, count in zip(widths, frames, strict=True):
        assert abs(width - count * per_frame) <= 2, (widths, frames)
    assert widths[3] < widths[0]

    set_concurrency(tab, 3)  # the picture follows the settings
    widths = bands(picture, RENDER_COLOUR)
    assert len(widths) == 3 == tab.previews[0].processes
    assert max(widths) - min(widths) <= 1  # 16 frames each (pixel rounding)

    tab.preview_ram.setValue(16.0)  # auto: RAM-bound, one process
    set_concurrency(tab, 0)
    assert len(bands(picture, RENDER_COLOUR)) == 1


def test_the_picture_draws_the_chosen_task_when_chunk_size_cuts_the_item(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from stmpo.gui.plan_view import RENDER_COLOUR

    tab = open_tab(make_dialog, tmp_path, "image_sequence.json")
    set_concurrency(tab, 4)
    tab.chunk_size.setValue(20)  # tasks 0-19, 20-39, 40-47
    view = tab.plan_view
    assert view.task_combo.count() == 3
    assert view.task_combo.isVisibleTo(view)
    view.task_combo.setCurrentIndex(2)
    task = tab.previews[0].tasks[2]
    assert (task.first, task.last, task.frames) == (40, 47, 8)
    widths = bands(view.picture, RENDER_COLOUR)
    assert len(widths) == task.processes == 4
    # 8 frames on 4 processes is 2 each: shorter bars than task 1's 5 each, same scale
    # only within a task, so compare the share of the picture instead.
    view.task_combo.setCurrentIndex(0)
    assert len(bands(view.picture, RENDER_COLOUR)) == 4
    tab.chunk_size.setValue(0)
    assert view.task_combo.count() == 1
    assert not view.task_combo.isVisibleTo(view)


def test_a_movie_item_is_drawn_as_one_process_in_its_own_colour_and_warned(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from stmpo.gui.plan_view import RENDER_COLOUR, SINGLE_COLOUR

    tab = open_tab(make_dialog, tmp_path, "movie_output.json")
    tab.chunk_size.setValue(10)
    view = tab.plan_view
    assert len(bands(view.picture, SINGLE_COLOUR)) == 1
    assert bands(view.picture, RENDER_COLOUR) == []
    warnings = [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]
    for index, frames in ((1, 50), (2, 25)):
        assert any(
            line.startswith(f"Item {index} ") and "cannot be chunked" in line for line in warnings
        ), warnings
        assert any(
            line.startswith(f"Item {index} ")
            and f"keeps all {frames} frames on one process" in line
            for line in warnings
        ), warnings


def test_warnings_name_short_processes_and_ram_above_the_worker(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    tab = open_tab(make_dialog, tmp_path, "image_sequence.json")
    view = tab.plan_view

    def warnings() -> list[str]:
        return [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]

    view.seconds_per_frame.setValue(10.0)
    assert warnings() == []  # auto plan on 64 threads / 256 GB: 4 processes of 12 frames
    assert not view.warnings_list.isVisibleTo(view)
    set_concurrency(tab, 12)  # 4 frames each; a 30 s launch needs 5 at 10 s a frame
    assert any("a process gets 4 frames, fewer than the 5" in line for line in warnings())
    view.seconds_per_frame.setValue(30.0)  # slower frames: 4 frames pay for the launch
    assert not any("fewer than" in line for line in warnings())
    # a measured launch counts as the summary counts it: 60 s at 10 s a frame needs 9
    from stmpo.gui.measured import Measured

    view.show_measured(Measured(10.0, startup_s=60.0, job_name="earlier", tasks=3))
    assert view.using_measured()
    assert any("fewer than the 9 that pay for its ~60 s launch" in line for line in warnings())
    view.use_measured.setChecked(False)  # the typed 30 s a frame and the assumed launch
    assert not any("fewer than" in line for line in warnings())
    set_concurrency(tab, 0)
    tab.preview_ram.setValue(16.0)  # 32 GB a process on a 16 GB worker
    assert any("32 GB is above the 12.8 GB the worker's 16 GB allow" in line for line in warnings())
    assert view.warnings_list.isVisibleTo(view)


def test_the_summary_counts_the_job_and_estimates_time_worker_hours_and_cost(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    tab = open_tab(make_dialog, tmp_path, "several_items.json")  # items 1, 2, 5 renderable
    set_concurrency(tab, 2)
    view = tab.plan_view
    view.seconds_per_frame.setValue(4.0)
    view.hourly_price.setValue(0.0)
    # 50, 25 and 13 frames (0-24 step 2), on 2 processes each, launched 2 s apart
    # (SpawnDelay), 30 s startup: the slowest process of each task decides its time.
    splits = ([25, 25], [13, 12], [7, 6])
    walls = [max(2 * i + 30 + f * 4 for i, f in enumerate(split)) for split in splits]
    text = view.summary_label.text()
    assert text.startswith("3 items, 88 frames, 3 tasks, 2 processes per task."), text
    assert "2 min 12 s with a worker per task" in text  # 132 s
    assert f"{sum(walls) // 60} min {sum(walls) % 60:02d} s on one worker" in text
    assert f"{sum(walls) / 3600:.2f} worker-hours" in text
    assert "cost" not in text
    view.hourly_price.setValue(12.5)
    assert f"cost ~{sum(walls) / 3600 * 12.5:.2f}" in view.summary_label.text()
    tab.chunk_size.setValue(10)  # 5 + 3 + 2 tasks
    assert "10 tasks, 2 processes per task" in view.summary_label.text()
    tab.select_none_button.click()
    assert view.summary_label.text() == "Nothing selected."


def test_the_estimate_and_price_stick_with_the_project(
    make_dialog: Callable[[Path], Any], qtbot: Any, tmp_path: Path, gui_home: Path
) -> None:
    from deadline.client.config import set_setting
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    out = tmp_path / "bundles"
    out.mkdir()
    set_setting("settings.job_bundle_default_directory", str(out))
    export_path = copy_export("image_sequence.json", tmp_path)
    dialog = make_dialog(export_path)
    view = dialog.job_settings.plan_view
    view.seconds_per_frame.setValue(42.5)
    view.hourly_price.setValue(3.25)
    steps = ["save", "result"]

    def poll() -> None:
        modal = QApplication.activeModalWidget()
        if modal is not None and steps:
            if steps[0] == "save" and hasattr(modal, "_name_edit"):
                modal._radio_local.setChecked(True)
                modal._name_edit.setText("plan")
                modal._location_edit.setText(str(out))
                modal._export_button.click()
                steps.pop(0)
            elif steps[0] == "result" and not hasattr(modal, "_name_edit"):
                modal.accept()
                steps.pop(0)
        if steps:
            QTimer.singleShot(50, poll)

    QTimer.singleShot(50, poll)
    dialog.on_export_bundle()
    sticky = json.loads((tmp_path / "image_sequence.stmpo.json").read_text(encoding="utf-8"))
    assert (sticky["seconds_per_frame"], sticky["hourly_price"]) == (42.5, 3.25)

    reopened = make_dialog(export_path).job_settings.plan_view
    assert reopened.seconds_per_frame.value() == 42.5
    assert reopened.hourly_price.value() == 3.25

    sticky.update(seconds_per_frame=True, hourly_price=-1)  # damaged: defaults, one notice
    (tmp_path / "image_sequence.stmpo.json").write_text(json.dumps(sticky), encoding="utf-8")
    tab = make_dialog(export_path).job_settings
    assert tab.plan_view.seconds_per_frame.value() == 10.0
    assert tab.plan_view.hourly_price.value() == 0.0
    notices = [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]
    assert any("damaged seconds_per_frame, hourly_price ignored" in n for n in notices), notices


def test_the_summary_is_the_previews_own_plan(tmp_path: Path) -> None:
    """Pure: job_summary over the preview of a real export, on the worker's planning."""
    from stmpo._worker_scripts.stmpo_worker import planning
    from stmpo.gui.plan_summary import job_summary, task_timeline
    from stmpo.gui.preview import WorkerShape, preview_host, preview_item
    from stmpo.gui.settings import DEFAULT_PARAMETERS

    export = load_export(examples_dir() / "image_sequence.json")
    item = export.render_queue[0]
    shape = WorkerShape(logical_cpus=64, ram_gb=256.0, numa_nodes=1)
    values = dict(DEFAULT_PARAMETERS)
    preview = preview_item(item, (0, 47, 1), values, shape)
    plan = planning.plan_render(
        preview_host(shape), planning.StmpoSettings(), 0, 47, 1, movie=False
    )
    assert preview.first_task.child_frames == tuple(
        len(plan.child_frames(i)) for i in range(plan.processes)
    )
    assert preview.first_task.limited_by == plan.limited_by
    timeline = task_timeline(preview.first_task, 3.0, 2.0)
    assert [bar.launch_s for bar in timeline.bars] == [2.0 * i for i in range(plan.processes)]
    most = max(len(plan.child_frames(i)) for i in range(plan.processes))
    summary = job_summary([preview], 3.0, 2.0)
    assert summary.parallel_s == timeline.finish_s == 2.0 * (plan.processes - 1) + 30 + most * 3


def test_the_picture_stays_on_the_chosen_item_when_others_are_checked_or_unchecked(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    tab = open_tab(make_dialog, tmp_path, "several_items.json")  # items 1, 2, 5
    view = tab.plan_view

    def shown() -> int:
        preview = view.selected_preview()
        assert preview is not None
        return int(preview.rq_index)

    view.item_combo.setCurrentIndex(1)
    assert shown() == 2
    tab.queue_table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)  # item 1 out
    assert shown() == 2  # not item 5, which moved into the second place
    tab.queue_table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert shown() == 2
    tab.queue_table.item(1, 0).setCheckState(Qt.CheckState.Unchecked)  # the chosen one out
    assert shown() == 1  # the first, until item 2 is back
    tab.queue_table.item(1, 0).setCheckState(Qt.CheckState.Checked)
    assert shown() == 2
