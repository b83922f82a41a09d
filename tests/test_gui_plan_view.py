"""The plan view (issue 13, "See the plan"): job summary, fan-out picture, plan warnings.

Through the real submitter dialog offscreen: the picture is rendered to an image and
measured in pixels (one band per process, bar lengths in proportion to frames), and the
summary and warnings are read as the artist sees them. The numbers they should show are
computed here from the worker's own plan (planning.plan_render) and the sample's frames.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import copy_sample, save_bundle_as
from stmpo.export import load_export
from stmpo.locations import examples_dir

pytestmark = pytest.mark.gui


def copy_export(name: str, tmp_path: Path) -> Path:
    return copy_sample(name, tmp_path)


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
        # one line per movie item, saying both: one process, and one task although
        # ChunkSize asked for more (it was two lines, one naming the item twice)
        mine = [line for line in warnings if line.startswith(f"Item {index} ")]
        assert len(mine) == 1, warnings
        assert f"keeps all {frames} frames on one process" in mine[0], warnings
        assert "ChunkSize cannot cut it into tasks" in mine[0], warnings
    tab.chunk_size.setValue(0)  # no chunks asked: no word about them
    warnings = [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]
    assert len(warnings) == 2 and not any("ChunkSize" in line for line in warnings), warnings


def test_an_unchunkable_item_is_named_once_in_its_warning(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """The bundle's warning names its item (`item 1: ...`, as the CLI prints it); the
    plan warning already starts with the item and its comp, so the prefix goes."""
    path = copy_export("image_sequence.json", tmp_path)
    data = json.loads(path.read_text(encoding="utf-8"))
    module = data["renderQueue"][0]["outputModules"][0]
    module.update(useCompFrameNumber=False, startingNumber=1)
    path.write_text(json.dumps(data), encoding="utf-8")
    tab = make_dialog(path).job_settings
    tab.chunk_size.setValue(10)
    view = tab.plan_view
    warnings = [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]
    chunk = [line for line in warnings if "cannot be chunked" in line]
    assert len(chunk) == 1, warnings
    assert chunk[0].startswith(
        "Item 1 \u201cMAIN comp\u201d cannot be chunked: an output module has"
    ), chunk
    assert "item 1:" not in chunk[0].lower().replace("item 1 \u201c", ""), chunk


def test_the_plan_warnings_are_as_tall_as_their_lines(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    shown = 4  # lines without scrolling (plan_view.WARNING_ROWS_SHOWN)
    tab = open_tab(make_dialog, tmp_path, "several_items.json")
    view = tab.plan_view
    box = view.warnings_list
    tab.preview_ram.setValue(16.0)  # 32 GB a process on a 16 GB worker: one line an item
    set_concurrency(tab, 0)
    tab.select_none_button.click()
    tab.queue_table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert box.count() == 1
    row = box.sizeHintForRow(0)
    assert box.height() == box.maximumHeight() == row + 2 * box.frameWidth() < 90
    tab.select_renderable_button.click()  # 3 items; many processes: short ones too
    set_concurrency(tab, 12)
    assert box.count() > shown
    tall = sum(box.sizeHintForRow(i) for i in range(shown))
    assert box.height() == tall + 2 * box.frameWidth()  # the rest scroll
    QApplication.processEvents()  # the list lays its items out
    assert box.verticalScrollBar().maximum() > 0


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

    out = tmp_path / "bundles"
    out.mkdir()
    set_setting("settings.job_bundle_default_directory", str(out))
    export_path = copy_export("image_sequence.json", tmp_path)
    dialog = make_dialog(export_path)
    view = dialog.job_settings.plan_view
    view.seconds_per_frame.setValue(42.5)
    view.hourly_price.setValue(3.25)
    assert len(save_bundle_as(qtbot, dialog, out, "plan")) == 1  # "Bundle saved to"
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


def test_the_bars_carry_the_frames_each_process_writes() -> None:
    """Pure: task_timeline's bars hold the worker's own split of each task (its
    ranges and frame counts), with a frame step and with ChunkSize."""
    from stmpo._worker_scripts.stmpo_worker import planning
    from stmpo.gui.plan_summary import task_timeline
    from stmpo.gui.preview import WorkerShape, preview_host, preview_item
    from stmpo.gui.settings import DEFAULT_PARAMETERS

    export = load_export(examples_dir() / "several_items.json")
    shape = WorkerShape(logical_cpus=64, ram_gb=256.0, numa_nodes=1)
    values = {**DEFAULT_PARAMETERS, "Concurrency": "3"}
    settings = planning.StmpoSettings(concurrency=3)
    for item, chunk in ((export.render_queue[4], 0), (export.render_queue[0], 20)):
        frames = (item.frames.start, item.frames.end, item.frames.step)
        preview = preview_item(item, frames, values, shape, chunk_size=chunk)
        assert len(preview.tasks) == (1 if not chunk else 3)
        for task in preview.tasks:
            plan = planning.plan_render(
                preview_host(shape), settings, task.first, task.last, frames[2], movie=False
            )
            timeline = task_timeline(task, 2.0, 1.0)
            written = [plan.child_frames(i) for i in range(plan.processes)]
            assert [(bar.first, bar.last, bar.frames) for bar in timeline.bars] == [
                (w[0], w[-1], len(w)) for w in written
            ]
            assert [bar.range_text for bar in timeline.bars] == [
                f"{w[0]}-{w[-1]} ({len(w)})" for w in written
            ]
    step = preview_item(export.render_queue[4], (0, 24, 2), values, shape)
    bars = task_timeline(step.first_task, 2.0, 1.0).bars
    assert [bar.range_text for bar in bars] == ["0-8 (5)", "10-16 (4)", "18-24 (4)"]


class RecordingPainter:
    """Paints on an image as FanoutPicture.paint does on screen, keeping every text
    it writes (QPainter's drawText, called from Python, is what the artist reads)."""

    def __new__(cls, image: Any) -> Any:
        from PySide6.QtGui import QPainter

        class Recorder(QPainter):
            def __init__(self) -> None:
                super().__init__(image)
                self.texts: list[str] = []
                self.boxes: dict[str, Any] = {}

            def drawText(self, *args: Any) -> None:  # Qt's name
                text = next(a for a in args if isinstance(a, str))
                self.texts.append(text)
                self.boxes[text] = args[0]
                super().drawText(*args)

        return Recorder()


def drawn_texts(picture: Any, boxes: dict[str, Any] | None = None) -> list[str]:
    """The texts the picture draws, in order; `boxes` gets each one's rectangle."""
    from PySide6.QtGui import QImage

    image = QImage(picture.size(), QImage.Format.Format_RGB32)
    painter = RecordingPainter(image)
    try:
        picture.paint(painter)
    finally:
        painter.end()
    if boxes is not None:
        boxes.update(painter.boxes)
    return list(painter.texts)


def test_the_picture_labels_each_bar_with_its_frames_and_tells_more_on_hover(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import QEvent, QPoint
    from PySide6.QtGui import QHelpEvent
    from PySide6.QtWidgets import QApplication, QToolTip

    tab = open_tab(make_dialog, tmp_path, "image_sequence.json")  # 48 frames
    set_concurrency(tab, 5)
    picture = tab.plan_view.picture
    plan = tab.previews[0].first_task
    ranges = [f"{a}-{b} ({a == b or b - a + 1})" for a, b in plan.ranges]
    assert ranges == ["0-9 (10)", "10-19 (10)", "20-29 (10)", "30-38 (9)", "39-47 (9)"]
    texts = drawn_texts(picture)
    for text in ranges:
        assert text in texts, texts  # whole: the wide dialog has room inside the bars
    # the time axis: 10 s a frame, 30 s launches 2 s apart (SpawnDelay): c3, the last
    # with 10 frames, ends at 4 + 30 + 100 = 134 s; ticks every 20 s up to it
    tab.plan_view.seconds_per_frame.setValue(10.0)
    assert float(tab.parameter_values()["SpawnDelay"]) == 2.0
    texts = drawn_texts(picture)
    assert "expected finish 2 min 14 s" in texts, repr(texts)
    axis = texts[texts.index(ranges[-1]) + 1 : texts.index("expected finish 2 min 14 s")]
    assert axis == ["0", "20 s", "40 s", "1 min", "1 min 20 s", "1 min 40 s", "2 min"], texts

    # hovering a bar: its process, frames, CPUs when pinned, and its times
    rects = picture.bar_rects()
    middle = rects[3][1].center().toPoint()
    QApplication.sendEvent(
        picture, QHelpEvent(QEvent.Type.ToolTip, middle, picture.mapToGlobal(middle))
    )
    cpus = plan.children[3].split("CPUs ")[1]  # pinned: the worker's own CPU list
    assert plan.pinned and cpus
    assert QToolTip.text() == (
        f"Process c4\nFrames 30-38 (9)\nCPUs {cpus}\nLaunch at 6 s\n"
        "Startup ends at 36 s\nExpected finish at 2 min 06 s"  # 36 s + 9 x 10 s
    )
    below = QPoint(middle.x(), picture.height() - 2)
    assert picture.tooltip_at(below) == ""

    # fast frames: the launches fill the picture and the bars are too short for their
    # ranges, which go beside them when the row has room, else just before them, in
    # the startup segment (never over another text or off the picture)
    tab.plan_view.seconds_per_frame.setValue(0.1)
    boxes: dict[str, Any] = {}
    narrow = drawn_texts(picture, boxes)
    rects = picture.bar_rects()
    for text, (startup, frames) in zip(ranges, rects, strict=True):
        assert frames.width() < 40
        assert text in narrow, narrow
        box = boxes[text]
        beside = box.left() > frames.right() and box.right() <= picture.width()
        before = box.right() <= frames.left() and box.left() >= startup.left()
        assert beside or before, (text, box, startup, frames)
    assert boxes[ranges[0]].left() > rects[0][1].right()  # c1 ends first: room beside it
    last = boxes[ranges[-1]]  # c5 ends at the finish: no room beside
    assert last.right() <= rects[-1][1].left()


@pytest.mark.parametrize(
    ("span", "step", "count"),
    [
        (0.35, 0.05, 8),  # 0 .. 0.35 s
        (0.4, 0.1, 5),
        (7.0, 1.0, 8),
        (8.0, 2.0, 5),
        (16.0, 5.0, 4),  # the fewest: 0, 5, 10, 15
        (45.0, 10.0, 5),
        (134.0, 20.0, 7),
        (1000.0, 200.0, 6),
        (3 * 3600.0, 2000.0, 6),
    ],
)
def test_the_time_axis_ticks_at_nice_steps(span: float, step: float, count: int) -> None:
    """Pure: 1, 2 or 5 times a power of ten seconds, 4 to 8 ticks from 0 to the finish."""
    from stmpo.gui.plan_summary import tick_step, time_ticks

    assert tick_step(span) == pytest.approx(step)
    ticks = time_ticks(span)
    assert len(ticks) == count
    assert ticks[0] == 0 and ticks[-1] <= span < ticks[-1] + step
    assert ticks == pytest.approx([i * step for i in range(count)])


def test_every_span_gets_four_to_eight_ticks_and_readable_labels() -> None:
    from stmpo.gui.plan_summary import tick_step, tick_text, time_ticks

    for tenth in range(1, 200_000, 37):
        span = tenth / 10
        step = tick_step(span)
        mantissa = step / 10 ** math.floor(math.log10(step) + 1e-9)
        assert round(mantissa, 6) in (1, 2, 5), (span, step)
        assert 4 <= len(time_ticks(span)) <= 8, span
    labels = [tick_text(s) for s in (0, 0.5, 20, 60, 120, 500, 3600, 10000)]
    assert labels == ["0", "500 ms", "20 s", "1 min", "2 min", "8 min 20 s", "1 h", "2 h 47 min"]


def test_the_text_preview_waits_behind_details(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """The summary, picture and warnings come first; the eleven-lines-an-item text
    shows on "Details", collapsed again the next time the submitter opens."""
    from PySide6.QtCore import Qt

    path = copy_export("forty_items.json", tmp_path)
    dialog = make_dialog(path)
    tab = dialog.job_settings
    assert tab.preview_list.count() > 40  # filled while hidden (tests read it)
    assert not tab.preview_list.isVisibleTo(dialog)
    assert tab.plan_view.picture.isVisibleTo(dialog)
    assert tab.details_button.isCheckable() and not tab.details_button.isChecked()
    tab.details_button.click()
    assert tab.preview_list.isVisibleTo(dialog)
    assert tab.details_button.arrowType() == Qt.ArrowType.DownArrow
    tab.details_button.click()
    assert not tab.preview_list.isVisibleTo(dialog)
    tab.details_button.click()
    dialog.close()
    again = make_dialog(path).job_settings  # not a sticky setting
    assert not again.details_button.isChecked()
    assert not again.preview_list.isVisibleTo(again)


def test_an_item_cut_coarser_than_asked_is_not_called_unchunkable() -> None:
    """Pure, on the bundle's own cutter: more chunks than a step may hold are made
    larger (selection.item_chunks); the plan warning says so, naming the item once."""
    from stmpo.bundle.chunks import MAX_CHUNKS_PER_STEP
    from stmpo.gui.plan_summary import plan_warnings
    from stmpo.gui.preview import WorkerShape, preview_item
    from stmpo.gui.settings import DEFAULT_PARAMETERS

    item = load_export(examples_dir() / "image_sequence.json").render_queue[0]
    last = MAX_CHUNKS_PER_STEP  # 1025 frames: chunks of 1 would be too many tasks
    shape = WorkerShape(logical_cpus=8, ram_gb=256.0, numa_nodes=1)
    preview = preview_item(item, (0, last, 1), DEFAULT_PARAMETERS, shape, chunk_size=1)
    assert 1 < len(preview.tasks) <= MAX_CHUNKS_PER_STEP
    lines = [line for line in plan_warnings([preview], 10.0, 1.0, 256.0) if "chunks" in line]
    assert lines == [
        f"Item 1 \u201cMAIN comp\u201d: {last + 1} frames in chunks of 1 would make more "
        f"than {MAX_CHUNKS_PER_STEP} tasks; using chunks of 2"
    ], lines


def test_tasks_cut_too_fine_for_their_launch_are_named(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """ChunkSize 1: every task runs one process for one frame and pays a whole launch
    (the worst launch overhead there is, and it was never warned about: the short
    process rule needs two processes). A remainder task shorter by nature is not."""
    tab = open_tab(make_dialog, tmp_path, "image_sequence.json")  # 48 frames
    view = tab.plan_view

    def warnings() -> list[str]:
        return [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]

    view.seconds_per_frame.setValue(10.0)  # a 30 s launch needs 5 frames at 10 s a frame
    tab.chunk_size.setValue(1)
    assert warnings() == [
        "Item 1 \u201cMAIN comp\u201d: 48 of its 48 tasks render 1 frame each on one process, "
        "fewer than the 5 that pay for a ~30 s launch at 10 s a frame: a ChunkSize of 5 or "
        "more costs less"
    ], warnings()
    tab.chunk_size.setValue(5)  # 9 tasks of 5 and a remainder of 3: worth their launch
    assert warnings() == []
    tab.chunk_size.setValue(0)
    assert warnings() == []


def test_many_items_with_one_kind_of_warning_share_a_line(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    tab = open_tab(make_dialog, tmp_path, "forty_items.json")
    view = tab.plan_view
    view.seconds_per_frame.setValue(10.0)
    tab.chunk_size.setValue(1)
    lines = [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]
    chosen = len(tab.selected_items())
    assert chosen > 3
    shared = [line for line in lines if "tasks render fewer frames each" in line]
    first = ", ".join(str(i) for i in tab.selected_items()[:3])
    assert shared == [
        f"{chosen} items ({first} and {chosen - 3} more): tasks render fewer frames each than "
        "the 5 that pay for a ~30 s launch at 10 s a frame: a ChunkSize of 5 or more costs less"
    ], lines
    assert len(lines) < 5, lines
    tab.chunk_size.setValue(0)
    tab.preview_ram.setValue(16.0)  # 32 GB a process on a 16 GB worker: every item
    lines = [view.warnings_list.item(i).text() for i in range(view.warnings_list.count())]
    busiest = max(p.processes for p in tab.previews)
    ram = [line for line in lines if "GB are above" in line]
    assert ram == [
        f"{chosen} items ({first} and {chosen - 3} more): up to {busiest} processes \u00d7 "
        "32 GB are above the 12.8 GB the worker's 16 GB allow (80 %)"
    ], lines
