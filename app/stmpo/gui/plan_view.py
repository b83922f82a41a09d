"""The plan view: job summary, a fan-out timeline picture and the plan warnings.

It only shows what plan_summary computes from the preview's plans (the worker's own
planning per task); the tab hands it the previews each time a setting changes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QPoint, QPointF, QRectF, QSignalBlocker, Qt, Signal
from PySide6.QtGui import QColor, QHelpEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSizePolicy,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from stmpo.gui.background import BackgroundCall, Outcome, run_in_background
from stmpo.gui.fleet_shape import least_worker, queue_fleet_shapes
from stmpo.gui.measured import Measured
from stmpo.gui.measured_view import MeasuredLookup, default_queue, library_client
from stmpo.gui.plan_summary import (
    STARTUP_S,
    TaskTimeline,
    duration_text,
    job_summary,
    plan_warnings,
    task_timeline,
    tick_text,
    time_ticks,
)
from stmpo.gui.preview import ItemPreview
from stmpo.gui.settings import control_range

#: Colours by state: a process starting (launch + project open, lavender), rendering
#: its frames (blue).
STARTUP_COLOUR = QColor(185, 185, 215)
RENDER_COLOUR = QColor(60, 130, 200)
#: A process kept to one by the plan (movie / numbering), so the artist sees why.
SINGLE_COLOUR = QColor(220, 140, 40)
#: The expected finish line and the time axis.
FINISH_COLOUR = QColor(200, 40, 40)
AXIS_COLOUR = QColor(90, 90, 90)
ROW_HEIGHT = 14
ROW_GAP = 4
LABEL_WIDTH = 48
MARGIN = 4
#: The axis line with its tick marks, then a row of tick labels.
TICK_LENGTH = 4
AXIS_HEIGHT = TICK_LENGTH + ROW_HEIGHT
#: At most this many ticks (0 included); tick_step makes it at least 4.
MAX_TICKS = 8
#: Rows drawn per task; more processes than this are counted in the caption.
MAX_ROWS = 64
#: Plan warning lines shown without scrolling.
WARNING_ROWS_SHOWN = 4
ELLIPSIS = "\u2026"
#: Space kept around a bar's frame range text.
TEXT_PAD = 3


class FanoutPicture(QWidget):
    """One row per process of one task: a lavender startup segment, then a bar as long
    as its frames take, labelled with its frame range, over a time axis in nice steps
    with the task's expected finish marked. Hovering a row tells its process, frames,
    CPUs and times (the tooltip), since a narrow bar cannot hold them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.timeline: TaskTimeline | None = None
        self.single = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(320)
        self._resize_for(0)

    def _resize_for(self, rows: int) -> None:
        self.setFixedHeight(
            2 * MARGIN + max(1, rows) * (ROW_HEIGHT + ROW_GAP) + AXIS_HEIGHT + ROW_HEIGHT
        )

    def show_timeline(self, timeline: TaskTimeline | None, single: bool = False) -> None:
        self.timeline = timeline
        self.single = single
        self._resize_for(len(timeline.bars[:MAX_ROWS]) if timeline else 0)
        self.update()

    def _scale(self) -> float:
        finish = self.timeline.finish_s if self.timeline else 0.0
        return max(1.0, self.width() - LABEL_WIDTH - 2 * MARGIN) / (finish or 1.0)

    def _x(self, seconds: float) -> float:
        return LABEL_WIDTH + MARGIN + seconds * self._scale()

    def _rows(self) -> int:
        return len(self.timeline.bars[:MAX_ROWS]) if self.timeline else 0

    def bar_rects(self) -> list[tuple[QRectF, QRectF]]:
        """(startup, render) rectangles per drawn process, in widget pixels."""
        if self.timeline is None or not self.timeline.bars:
            return []
        rects = []
        for row, bar in enumerate(self.timeline.bars[:MAX_ROWS]):
            top = MARGIN + row * (ROW_HEIGHT + ROW_GAP)
            x0, x1, x2 = self._x(bar.launch_s), self._x(bar.render_start_s), self._x(bar.finish_s)
            rects.append(
                (QRectF(x0, top, x1 - x0, ROW_HEIGHT), QRectF(x1, top, x2 - x1, ROW_HEIGHT))
            )
        return rects

    def tooltip_at(self, pos: QPoint) -> str:
        """The tooltip of the process row under `pos` ("" between rows and below)."""
        if self.timeline is None:
            return ""
        for bar, (startup, _) in zip(self.timeline.bars[:MAX_ROWS], self.bar_rects(), strict=True):
            if startup.top() <= pos.y() < startup.bottom():
                return bar.tooltip
        return ""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = self.tooltip_at(event.pos())
            if text:
                QToolTip.showText(event.globalPos(), text, self)
            else:
                QToolTip.hideText()
                event.ignore()
            return True
        return super().event(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        try:
            self.paint(painter)
        finally:
            painter.end()

    def paint(self, painter: QPainter) -> None:
        """Everything drawn, on any painter (tests record what it writes)."""
        painter.fillRect(self.rect(), QColor(255, 255, 255))
        if self.timeline is None:
            return
        render = SINGLE_COLOUR if self.single else RENDER_COLOUR
        for row, (bar, (startup, frames)) in enumerate(
            zip(self.timeline.bars[:MAX_ROWS], self.bar_rects(), strict=True)
        ):
            painter.fillRect(startup, STARTUP_COLOUR)
            painter.fillRect(frames, render)
            painter.setPen(QColor(0, 0, 0))
            painter.drawText(
                QRectF(MARGIN, startup.top(), LABEL_WIDTH, ROW_HEIGHT),
                int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                f"c{row + 1}",
            )
            self._paint_range(painter, bar.range_text, startup, frames)
        rows = self._rows()
        axis_y = MARGIN + rows * (ROW_HEIGHT + ROW_GAP)
        self._paint_axis(painter, axis_y)
        finish_x = self._x(self.timeline.finish_s)
        pen = QPen(FINISH_COLOUR)
        pen.setStyle(Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawLine(QPointF(finish_x - 1, MARGIN), QPointF(finish_x - 1, axis_y))
        more = len(self.timeline.bars) - rows
        caption = f"expected finish {duration_text(self.timeline.finish_s)}"
        if more > 0:
            caption += f" ({more} more processes not drawn)"
        painter.setPen(QColor(0, 0, 0))
        painter.drawText(
            QRectF(
                LABEL_WIDTH,
                axis_y + AXIS_HEIGHT,
                self.width() - LABEL_WIDTH - MARGIN,
                ROW_HEIGHT,
            ),
            int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
            caption,
        )

    def _paint_range(self, painter: QPainter, text: str, startup: QRectF, frames: QRectF) -> None:
        """The frame range inside its bar when it fits, else beside it when the row
        has room, else at the end of the startup segment just before the bar, else
        elided inside the bar (the tooltip has it whole)."""
        metrics = painter.fontMetrics()
        wide = metrics.horizontalAdvance(text)
        centred = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if wide + 2 * TEXT_PAD <= frames.width():
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(frames.adjusted(TEXT_PAD, 0, 0, 0), centred, text)
            return
        room = self.width() - MARGIN - frames.right() - TEXT_PAD
        if wide <= room:
            painter.setPen(QColor(0, 0, 0))
            beside = QRectF(frames.right() + TEXT_PAD, frames.top(), room, frames.height())
            painter.drawText(beside, centred, text)
            return
        if wide + 2 * TEXT_PAD <= startup.width():  # at the end of its startup segment
            painter.setPen(QColor(0, 0, 0))
            before = startup.adjusted(0, 0, -TEXT_PAD, 0)
            painter.drawText(
                before, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), text
            )
            return
        fit = int(frames.width()) - 2 * TEXT_PAD
        short = metrics.elidedText(text, Qt.TextElideMode.ElideRight, fit) if fit > 0 else ""
        if short and short != ELLIPSIS:  # an ellipsis alone says nothing: hover instead
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(frames.adjusted(TEXT_PAD, 0, 0, 0), centred, short)

    def _paint_axis(self, painter: QPainter, axis_y: float) -> None:
        """A line under the bars with ticks at nice steps (plan_summary.time_ticks),
        labelled where a label does not run into the previous one."""
        assert self.timeline is not None
        painter.setPen(AXIS_COLOUR)
        left, right = self._x(0.0), self._x(self.timeline.finish_s)
        painter.drawLine(QPointF(left, axis_y), QPointF(right, axis_y))
        metrics = painter.fontMetrics()
        free_from = float(MARGIN)
        for value in time_ticks(self.timeline.finish_s, MAX_TICKS):
            x = self._x(value)
            painter.drawLine(QPointF(x, axis_y), QPointF(x, axis_y + TICK_LENGTH))
            label = tick_text(value)
            wide = metrics.horizontalAdvance(label) + 2 * TEXT_PAD
            at = min(max(x - wide / 2, float(MARGIN)), self.width() - MARGIN - wide)
            if at < free_from:
                continue
            painter.drawText(
                QRectF(at, axis_y + TICK_LENGTH, wide, ROW_HEIGHT),
                int(Qt.AlignmentFlag.AlignCenter),
                label,
            )
            free_from = at + wide


class PlanView(QWidget):
    """Summary line, estimate inputs, the picture of one item's task, and warnings."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        inputs = QHBoxLayout()
        self.seconds_per_frame = QDoubleSpinBox()
        self.seconds_per_frame.setRange(*control_range("seconds_per_frame"))
        self.seconds_per_frame.setDecimals(1)
        self.seconds_per_frame.setSuffix(" s per frame")
        self.seconds_per_frame.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.hourly_price = QDoubleSpinBox()
        self.hourly_price.setRange(*control_range("hourly_price"))
        self.hourly_price.setDecimals(2)
        self.hourly_price.setSpecialValueText("no price")
        self.hourly_price.setSuffix(" per worker-hour")
        self.hourly_price.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        inputs.addWidget(QLabel("Estimate"))
        inputs.addWidget(self.seconds_per_frame)
        inputs.addWidget(self.hourly_price)
        inputs.addStretch(1)
        layout.addLayout(inputs)
        # The time per frame an earlier job of this project measured on the queue
        # (measured.py): used while "Use the measured time" is checked, which it is as
        # soon as one is found; unchecked, the typed estimate counts.
        measured_row = QHBoxLayout()
        self.use_measured = QCheckBox("Use the measured time")
        self.use_measured.setEnabled(False)
        #: The artist's choice (sticky `prefer_measured_time`): tick the box when a
        #: measurement arrives?
        self.prefer_measured = True
        self.measured_label = QLabel("Measured time per frame: not looked up")
        self.measured_label.setWordWrap(True)
        self.lookup_button = QPushButton("Look up again")
        self.lookup_button.setEnabled(False)
        measured_row.addWidget(self.use_measured)
        measured_row.addWidget(self.measured_label, 1)
        measured_row.addWidget(self.lookup_button)
        layout.addLayout(measured_row)
        self.measured: Measured | None = None
        self.lookup: MeasuredLookup | None = None
        self.summary_label = QLabel()
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        pick = QHBoxLayout()
        pick.addWidget(QLabel("Picture of"))
        self.item_combo = QComboBox()
        self.task_combo = QComboBox()
        pick.addWidget(self.item_combo, 1)
        pick.addWidget(self.task_combo)
        layout.addLayout(pick)
        self.picture = FanoutPicture()
        layout.addWidget(self.picture)
        self.warnings_list = QListWidget()
        self.warnings_list.setWordWrap(True)
        layout.addWidget(self.warnings_list)
        self.previews: tuple[ItemPreview, ...] = ()
        #: The render queue index the artist picked for the picture (None: the first).
        self.chosen_item: int | None = None
        self.delay_s = 0.0
        self.ram_per_process_gb = 0.0
        self.worker_ram_gb = 0.0
        self._filling = False
        self.item_combo.currentIndexChanged.connect(self._on_item_chosen)
        self.task_combo.currentIndexChanged.connect(self._draw)
        for box in (self.seconds_per_frame, self.hourly_price):
            box.valueChanged.connect(self._refresh)
        self.use_measured.toggled.connect(self._on_use_measured)

    # ---- the measured time per frame --------------------------------------------

    def attach_lookup(self, project_path: str) -> MeasuredLookup:
        """The lookup of this project's measured time (started by the tab, and again
        by "Look up again"); its answer arrives on the UI thread via `finished`."""
        self.lookup = MeasuredLookup(project_path, self)
        self.lookup.finished.connect(self.show_measured)
        self.lookup_button.clicked.connect(self.start_lookup)
        self.lookup_button.setEnabled(True)
        return self.lookup

    def start_lookup(self) -> None:
        if self.lookup is None:
            return
        self.measured_label.setText("Measured time per frame: looking at the queue's jobs…")
        self.lookup_button.setEnabled(False)
        self.lookup.start()

    def show_measured(self, measured: Measured) -> None:
        """A lookup's answer. One that failed (throttled, no network) does not throw
        away a figure found before on the same queue: it says so and keeps it."""
        earlier = self.measured
        if (
            measured.failed
            and earlier is not None
            and earlier.found
            and earlier.queue_id == measured.queue_id
        ):
            self.lookup_button.setEnabled(self.lookup is not None)
            self.measured_label.setText(
                f"Measured: {earlier.text}. Looking up again failed "
                f"({measured.reason}): this figure stays"
            )
            return
        self.measured = measured
        self.lookup_button.setEnabled(self.lookup is not None)
        self.measured_label.setText(
            f"Measured: {measured.text}" if measured.found else measured.text
        )
        self.use_measured.setEnabled(measured.found)
        with QSignalBlocker(self.use_measured):  # not the artist's choice: keep theirs
            self.use_measured.setChecked(measured.found and self.prefer_measured)
        self._on_use_measured()

    def _on_use_measured(self, *_: object) -> None:
        if self.use_measured.isEnabled():  # the artist's choice, kept with the settings
            self.prefer_measured = self.use_measured.isChecked()
        self.seconds_per_frame.setEnabled(not self.using_measured())
        self._refresh()

    def using_measured(self) -> bool:
        return bool(self.measured and self.measured.found and self.use_measured.isChecked())

    def effective_seconds_per_frame(self) -> float:
        """The measured figure while it is in use, else the artist's typed estimate."""
        if self.using_measured() and self.measured and self.measured.seconds_per_frame:
            return self.measured.seconds_per_frame
        return self.seconds_per_frame.value()

    def effective_startup(self) -> float:
        if self.using_measured() and self.measured and self.measured.startup_s is not None:
            return self.measured.startup_s
        return STARTUP_S

    def basis_text(self) -> str:
        if self.using_measured() and self.measured:
            return f"Time per frame: {self.measured.text}."
        return f"Time per frame: your estimate, {self.seconds_per_frame.value():g} s."

    def show_plan(
        self,
        previews: Sequence[ItemPreview],
        delay_s: float,
        ram_per_process_gb: float,
        worker_ram_gb: float,
    ) -> None:
        """Called by the tab whenever the plans change; keeps the chosen item (by its
        render queue index, not its place in the list: checking or unchecking another item
        moves the places) and its task."""
        shown = self.selected_preview()
        task_at = self.task_combo.currentIndex()
        self.previews = tuple(previews)
        self.delay_s = delay_s
        self.ram_per_process_gb = ram_per_process_gb
        self.worker_ram_gb = worker_ram_gb
        indexes = [preview.rq_index for preview in self.previews]
        item_at = indexes.index(self.chosen_item) if self.chosen_item in indexes else 0
        same = shown is not None and item_at < len(indexes) and shown.rq_index == indexes[item_at]
        self._filling = True
        self.item_combo.clear()
        for preview in self.previews:
            self.item_combo.addItem(f"Item {preview.rq_index} \u201c{preview.comp}\u201d")
        self.item_combo.setCurrentIndex(min(item_at, len(self.previews) - 1))
        self._fill_tasks(task_at if same else 0)
        self._filling = False
        self._refresh()

    def _fill_tasks(self, keep: int = 0) -> None:
        self.task_combo.clear()
        preview = self.selected_preview()
        tasks = preview.tasks if preview else ()
        for number, task in enumerate(tasks, 1):
            self.task_combo.addItem(f"task {number}: {task.first}-{task.last}")
        self.task_combo.setCurrentIndex(min(max(keep, 0), len(tasks) - 1))
        self.task_combo.setVisible(len(tasks) > 1)

    def selected_preview(self) -> ItemPreview | None:
        at = self.item_combo.currentIndex()
        return self.previews[at] if 0 <= at < len(self.previews) else None

    def _on_item_chosen(self, *_: object) -> None:
        if self._filling:
            return
        chosen = self.selected_preview()
        self.chosen_item = chosen.rq_index if chosen else None
        self._filling = True
        self._fill_tasks()
        self._filling = False
        self._draw()

    def _refresh(self, *_: object) -> None:
        spf = self.effective_seconds_per_frame()
        summary = job_summary(
            self.previews,
            spf,
            self.delay_s,
            self.hourly_price.value(),
            startup_s=self.effective_startup(),
        )
        basis = f" {self.basis_text()}" if summary.items else ""
        self.summary_label.setText(summary.text + basis)
        self.warnings_list.clear()
        for line in plan_warnings(
            self.previews,
            spf,
            self.ram_per_process_gb,
            self.worker_ram_gb,
            startup_s=self.effective_startup(),
        ):
            self.warnings_list.addItem(line)
        self.warnings_list.setVisible(self.warnings_list.count() > 0)
        self._fit_warnings()
        self._draw()

    def _fit_warnings(self) -> None:
        """As tall as its lines, up to WARNING_ROWS_SHOWN of them; it scrolls beyond."""
        box = self.warnings_list
        shown = min(box.count(), WARNING_ROWS_SHOWN)
        rows = sum(max(box.sizeHintForRow(row), 1) for row in range(shown))
        box.setFixedHeight(rows + 2 * box.frameWidth())

    def _draw(self, *_: object) -> None:
        if self._filling:
            return
        preview = self.selected_preview()
        at = self.task_combo.currentIndex()
        if preview is None or not 0 <= at < len(preview.tasks):
            self.picture.show_timeline(None)
            return
        task = preview.tasks[at]
        self.picture.show_timeline(
            task_timeline(
                task, self.effective_seconds_per_frame(), self.delay_s, self.effective_startup()
            ),
            single=task.limited_by in ("movie", "numbering"),
        )


class FleetShapeButton(QWidget):
    """The preview's worker shape from the default queue's fleets (fleet_shape.py): looked
    up when the tab opens with a farm and queue set, and again on "From the queue's
    fleets". The look-up runs off the GUI thread (background.py), so an unreachable farm
    never freezes the tab; until it answers, and whenever it fails, the typed shape stays
    and the note says why."""

    shape_found = Signal(int, float)
    #: A look-up ended with no shape: a shape lent by an earlier one no longer holds.
    shape_gone = Signal()
    #: A look-up started (the tab notes what the artist types from here on).
    started = Signal()
    #: Emitted after every look-up, with the note shown (tests and the screenshot wait on it).
    looked_up = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton("From the queue's fleets")
        self.note = QLabel("Typed by hand")
        self.note.setWordWrap(True)
        layout.addWidget(self.button)
        layout.addWidget(self.note, 1)
        #: Where the client and the farm/queue come from (tests point them elsewhere).
        self.client_factory: Callable[[], Any] = library_client
        self.queue_ids: Callable[[], tuple[str, str]] = default_queue
        self.pending: BackgroundCall | None = None
        #: A look-up was asked for while one ran (another farm or queue chosen).
        self.again = False
        #: The queue whose fleets lent the shape shown, if any: a failed look-up of that
        #: same queue (throttled, no network) leaves it, as the measured time stays.
        self.lent_queue: str | None = None
        self.button.clicked.connect(self.fetch)

    def fetch(self, *, automatic: bool = False, renew: bool = False) -> None:
        """Start a look-up. `automatic` (not a click): without a farm and queue the typed
        shape stays and nothing is said, since nothing was asked. `renew`: another farm
        or queue was chosen, so a look-up already running answers for the old one."""
        farm_id, queue_id = self.queue_ids()
        if not (farm_id and queue_id):
            if renew:  # the dialog's farm changed and its queue was cleared
                self.again = self.pending is not None  # a look-up's answer is stale now
                self._no_shape("No queue chosen: the typed shape")
            elif not automatic:
                self._no_shape("No default farm and queue set: the typed shape stays")
            return
        if self.pending is not None:  # one look-up at a time: its answer is on its way
            self.again = self.again or renew  # ...or stale, then ask again
            return
        try:  # on this thread, as the library makes its own: sessions are not thread-safe
            client = self.client_factory()
        except Exception as exc:  # no credentials, no profile: not reachable
            self._answered(Outcome(error=exc), queue_id)
            return
        self.button.setEnabled(False)
        self.note.setText("Looking up the queue's fleets\u2026")
        self.started.emit()
        self.pending = run_in_background(
            lambda: queue_fleet_shapes(client, farm_id, queue_id),
            lambda outcome: self._answered(outcome, queue_id),
            self,
        )

    def _answered(self, outcome: Outcome, queue_id: str) -> None:
        self.pending = None
        self.button.setEnabled(True)
        if self.again:  # the farm or queue changed meanwhile: this answer is stale
            self.again = False
            self.fetch(automatic=True)
            return
        if outcome.error is not None:  # botocore/credentials errors of any kind
            exc = outcome.error
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            if self.lent_queue == queue_id:
                self._show(
                    f"Farm not reachable ({reason}): the shape this queue's fleets gave "
                    "before stays"
                )
            else:
                self._no_shape(f"Farm not reachable ({reason}): the typed shape stays")
            return
        queue = least_worker(outcome.value)
        if queue is None:
            self._no_shape(
                "The queue has no active Windows or macOS fleet with worker capabilities: "
                "the typed shape stays"
            )
            return
        self.note.setText(queue.note)
        self.lent_queue = queue_id
        self.shape_found.emit(queue.vcpus, queue.ram_gb)  # the tab may amend the note
        self.looked_up.emit(self.note.text())

    def _show(self, note: str) -> None:
        self.note.setText(note)
        self.looked_up.emit(note)

    def _no_shape(self, note: str) -> None:
        self.lent_queue = None
        self.shape_gone.emit()
        self._show(note)
