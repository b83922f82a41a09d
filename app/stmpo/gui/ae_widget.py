"""The "After Effects" tab inside the deadline library's submitter dialog.

The dialog constructs it as `AfterEffectsSettingsWidget(initial_settings=..., parent=...)`
and calls `update_settings(settings)` before building a bundle, like the Maya, Nuke and
Blender submitters' job-specific widgets. Everything the artist sees here is computed by
the same code the CLI and the worker run: the export model, the fan-out planner, the font
resolver.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from stmpo._worker_scripts.stmpo_worker.contract import CACHE_GROUP
from stmpo.bundle import BundleSettings
from stmpo.bundle.conda import conda_packages_for, exporting_version
from stmpo.bundle.selection import nothing_to_render
from stmpo.bundle.upload_policy import UploadSummary
from stmpo.errors import Problem
from stmpo.export.model import Export, RenderQueueItem
from stmpo.export.sources import load_any
from stmpo.frame_text import format_frame_range, parse_frame_range
from stmpo.gui import profiles
from stmpo.gui.background import BackgroundCall, Outcome, run_in_background
from stmpo.gui.controls import (
    GUI_ROWS,
    Control,
    control_value,
    form_label,
    make_control,
    set_control,
)
from stmpo.gui.fonts_view import FontRow, font_rows
from stmpo.gui.plan_summary import spawn_delay
from stmpo.gui.plan_view import FleetShapeButton, PlanView
from stmpo.gui.preview import WorkerShape, preview_item
from stmpo.gui.settings import (
    DEFAULT_PARAMETERS,
    AfterEffectsSettings,
    control_range,
    parameter_number,
    to_bundle_settings,
)
from stmpo.gui.warnings_view import (
    BundleCheck,
    check_bundle,
    in_tab_words,
    refused_item,
    settings_key,
)
from stmpo.gui.wheel_guard import guard_wheel

COL_CHECK, COL_COMP, COL_FRAMES, COL_OUTPUTS, COL_STATUS = range(5)
#: The render queue table shows at least this many rows (fewer only when the queue has
#: fewer): issue 13 found five rows of a forty-item project.
QUEUE_ROWS_SHOWN = 20
#: Inputs listed by name in the uploads box (cached first); the rest are counted.
SPLIT_SHOWN = 200
GREY = QBrush(QColor(140, 140, 140))
#: How long the Warnings list waits for edits to settle before it rebuilds.
WARNINGS_DELAY_MS = 150
#: Bundle checks remembered by their settings (going back and forth costs nothing).
KEPT_CHECKS = 8


#: Exports the dialog builder already loaded, by path. The deadline dialog constructs this
#: widget from settings alone; without this hand-over a large .aep would be parsed twice.
_LOADED: dict[str, Export] = {}


def hand_over(export_path: str, export: Export) -> None:
    _LOADED[export_path] = export


def _tick(indexes: list[int]) -> str:
    """How the tab picks an item the export did not preselect."""
    them = "it" if len(indexes) == 1 else "them"
    return f"tick {them} in the list ({', '.join(map(str, indexes))})"


class AfterEffectsSettingsWidget(QWidget):
    #: The dialog re-checks Submit on this (and only then asks `invalid_parameter_names`):
    #: without it, Submit stayed enabled after the artist unchecked every item.
    valid_parameters = Signal(bool)
    #: How many render queue items are chosen, after every change of the choice.
    items_chosen = Signal(int)

    def __init__(
        self, initial_settings: AfterEffectsSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent=parent)
        self.export_path = initial_settings.export_path
        handed = _LOADED.pop(self.export_path) if self.export_path in _LOADED else None
        self.export: Export = handed or load_any(self.export_path)
        self._loading = False
        self.upload_problems: list[Problem] = []
        #: What `stmpo bundle` refuses of the current settings (warnings_view.check_bundle).
        self.bundle_refusals: list[Problem] = []
        #: The latest few checks' answers, by the settings they answer (settings_key);
        #: the key of the check running on a thread, if one is, and that call.
        self._checked: dict[str, BundleCheck] = {}
        self._checking: str | None = None
        self.check_call: BackgroundCall | None = None
        #: The export's warnings with the CLI's defaults, shown beside a refusal: one
        #: build per export, not one per refused change.
        self._default_warnings: list[str] | None = None
        #: The worker shape the artist typed (sticky); the one shown may be a fleet's.
        self.typed_shape = (initial_settings.preview_cpus, initial_settings.preview_ram_gb)
        self.shape_from_fleet = False
        self._applying_fleet = False
        self._shape_edits = 0
        self._edits_at_lookup = 0
        self.cache_roots_problem: Problem | None = None
        self.upload_summary = UploadSummary()
        self.notices = list(initial_settings.notices)  # what loading the saved settings ignored
        #: Why the last Save bundle as / Submit could not save the settings beside the
        #: project (settings.try_save_sticky), shown first in Warnings until one can.
        self.save_notice: str | None = None
        self._warnings_timer = QTimer(self)
        self._warnings_timer.setSingleShot(True)
        self._warnings_timer.setInterval(WARNINGS_DELAY_MS)
        self._warnings_timer.timeout.connect(self._fill_warnings)
        self._build_ui()
        # Scrolling the tab never changes a control the artist did not focus (issue 13).
        self._wheel_guard = guard_wheel(self)
        self.refresh_ui(initial_settings)
        self._check_now()
        # The worker shape from the queue's fleets when a farm and queue are set: once the
        # window is up (the look-up runs off the GUI thread), the typed shape until then.
        QTimer.singleShot(0, self.fleet_shape, lambda: self.fleet_shape.fetch(automatic=True))
        # What an earlier job of this project measured per frame, looked up on a thread
        # once the tab is up (measured_view.py); until then the typed estimate counts.
        self.plan_view.attach_lookup(self.export.project.path)
        QTimer.singleShot(0, self.plan_view, self.plan_view.start_lookup)

    # ---- the preview's worker shape: typed, or lent by the queue's fleets -------------

    def _on_shape_edited(self, *_: object) -> None:
        if self._applying_fleet or self._loading:
            return
        self.typed_shape = (self.preview_cpus.value(), self.preview_ram.value())
        self.shape_from_fleet = False
        self.fleet_shape.lent_queue = None  # no fleet's shape is shown now
        self._shape_edits += 1

    def _on_fleet_lookup_started(self) -> None:
        self._edits_at_lookup = self._shape_edits

    def _apply_fleet_shape(self, cpus: int, ram_gb: float) -> None:
        """The fleets' shape, unless the artist typed one while the look-up ran."""
        if self._shape_edits != self._edits_at_lookup:
            self.fleet_shape.note.setText(
                f"{self.fleet_shape.note.text()} (not applied: you typed a shape meanwhile)"
            )
            return
        self._applying_fleet = True
        try:
            self.preview_cpus.setValue(cpus)
            self.preview_ram.setValue(ram_gb)
        finally:
            self._applying_fleet = False
        self.shape_from_fleet = True

    def _withdraw_fleet_shape(self) -> None:
        """A look-up gave no shape (another queue without a Windows or macOS fleet, no
        queue chosen, the farm not reachable): a shape an earlier queue's fleets lent is
        not this queue's, so the typed one comes back, as the note says."""
        if not self.shape_from_fleet:
            return
        self._applying_fleet = True
        try:
            self.preview_cpus.setValue(self.typed_shape[0])
            self.preview_ram.setValue(self.typed_shape[1])
        finally:
            self._applying_fleet = False
        self.shape_from_fleet = False

    def farm_selection_changed(self) -> None:
        """Another farm or queue chosen in the dialog: its fleets and its history."""
        self.fleet_shape.fetch(automatic=True, renew=True)
        self.plan_view.start_lookup()

    # ---- construction -------------------------------------------------------------

    def _build_ui(self) -> None:
        layout = QVBoxLayout(self)

        project_box = QGroupBox("Project")
        project_form = QFormLayout(project_box)
        self.project_label = QLabel(self.export.project.path)
        self.project_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        project_form.addRow("Project file", self.project_label)
        host = self.export.host
        host_text = f"{host.app} {host.version or ''} ({host.os or 'unknown OS'})" if host else "-"
        project_form.addRow("Exported from", QLabel(host_text))
        self.conda = conda_packages_for(exporting_version(self.export))
        self.conda_label = QLabel(
            f"{self.conda.packages or '(none)'}: what a service-managed fleet installs; "
            "change it under Queue environment \u203a Conda packages (empty when the "
            "workers have After Effects installed)"
        )
        self.conda_label.setWordWrap(True)
        project_form.addRow("Conda packages", self.conda_label)
        layout.addWidget(project_box)

        queue_box = QGroupBox("Render queue")
        queue_layout = QVBoxLayout(queue_box)
        self.queue_table = QTableWidget(len(self.export.render_queue), 5)
        self.queue_table.setHorizontalHeaderLabels(["#", "Comp", "Frames", "Outputs", "Status"])
        header = self.queue_table.horizontalHeader()
        header.setSectionResizeMode(COL_COMP, QHeaderView.ResizeMode.Stretch)
        self.queue_table.verticalHeader().setVisible(False)
        self.queue_table.itemChanged.connect(self._on_queue_item_changed)
        queue_layout.addWidget(self.queue_table, 1)
        buttons = QHBoxLayout()
        self.select_renderable_button = QPushButton("Select renderable")
        self.select_renderable_button.clicked.connect(self._select_renderable)
        self.select_none_button = QPushButton("Select none")
        self.select_none_button.clicked.connect(lambda: self._set_all_checked(False))
        buttons.addWidget(self.select_renderable_button)
        buttons.addWidget(self.select_none_button)
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Frames per task (0 = whole item)"))
        self.chunk_size = QSpinBox()
        self.chunk_size.setRange(*map(int, control_range("chunk_size")))
        self.chunk_size.valueChanged.connect(self._update_preview)
        self.chunk_size.valueChanged.connect(self._schedule_warnings)
        buttons.addWidget(self.chunk_size)
        queue_layout.addLayout(buttons)
        layout.addWidget(queue_box, 1)  # the one part that grows with the window

        stmpo_box = QGroupBox("STMPO: processes per task")
        form = QFormLayout(stmpo_box)
        self.profile_combo = QComboBox()
        self.profile_combo.addItems([profiles.HERO, profiles.FARM, profiles.CUSTOM])
        self.profile_combo.currentTextChanged.connect(self._on_profile_chosen)
        self.profile_help = QLabel()
        self.profile_help.setWordWrap(True)
        form.addRow("Profile", self.profile_combo)
        form.addRow("", self.profile_help)
        # One control per row of the worker's command-line table (gui/controls.py); the
        # file cache rows (issue 12) in a box of their own below.
        cache_box = QGroupBox("File cache (docs/file-cache.md)")
        cache_form = QFormLayout(cache_box)
        self.stmpo_controls: dict[str, Control] = {}
        for row in GUI_ROWS:
            control = make_control(row)
            self.stmpo_controls[row.parameter or ""] = control
            setattr(self, row.dest, control)
            (cache_form if row.group == CACHE_GROUP else form).addRow(form_label(row), control)
            if row.parameter == "CacheRootPaths" and isinstance(control, QLineEdit):
                control.textChanged.connect(self._update_uploads)
                continue
            signal = getattr(control, "valueChanged", None) or getattr(control, "toggled", None)
            if signal is None and isinstance(control, QComboBox):
                signal = control.currentTextChanged
            if signal is not None:
                signal.connect(self._on_stmpo_control_changed)
        # The names the tab had before the table built it.
        self.ram_per_process = self.stmpo_controls["RamPerProcessGB"]
        self.child_grace = self.stmpo_controls["ChildGraceSec"]
        self.continue_on_missing = self.stmpo_controls["ContinueOnMissingFootage"]
        layout.addWidget(stmpo_box)
        layout.addWidget(cache_box)

        preview_box = QGroupBox("Fan-out preview")
        preview_layout = QVBoxLayout(preview_box)
        shape_row = QHBoxLayout()
        self.preview_cpus = QSpinBox()
        self.preview_cpus.setRange(*map(int, control_range("preview_cpus")))
        self.preview_cpus.setSuffix(" threads")
        self.preview_ram = QDoubleSpinBox()
        self.preview_ram.setRange(*control_range("preview_ram_gb"))
        self.preview_ram.setSuffix(" GB")
        self.preview_numa = QSpinBox()
        self.preview_numa.setRange(*map(int, control_range("preview_numa_nodes")))
        self.preview_numa.setSuffix(" NUMA nodes")
        for widget in (self.preview_cpus, self.preview_numa):
            widget.valueChanged.connect(self._update_preview)
        self.preview_ram.valueChanged.connect(self._update_preview)
        shape_row.addWidget(QLabel("Worker"))
        shape_row.addWidget(self.preview_cpus)
        shape_row.addWidget(self.preview_ram)
        shape_row.addWidget(self.preview_numa)
        self.fleet_shape = FleetShapeButton()  # the shape from the queue's fleets
        self.fleet_shape.started.connect(self._on_fleet_lookup_started)
        self.fleet_shape.shape_found.connect(self._apply_fleet_shape)
        self.fleet_shape.shape_gone.connect(self._withdraw_fleet_shape)
        for shape in (self.preview_cpus, self.preview_ram):
            shape.valueChanged.connect(self._on_shape_edited)
        shape_row.addWidget(self.fleet_shape, 1)
        preview_layout.addLayout(shape_row)
        self.plan_view = PlanView()  # summary, picture, plan warnings (plan_view.py)
        preview_layout.addWidget(self.plan_view)
        # The worker's plan as text (reasons, per-process lines: many per item) steps
        # aside for the summary, picture and warnings: shown on "Details", collapsed
        # each time the tab opens (not a sticky setting).
        self.details_button = QToolButton()
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.details_button.setArrowType(Qt.ArrowType.RightArrow)
        self.details_button.setAutoRaise(True)
        preview_layout.addWidget(self.details_button)
        self.preview_list = QListWidget()
        self.preview_list.setMinimumHeight(220)
        self.preview_list.setVisible(False)
        preview_layout.addWidget(self.preview_list)
        self.details_button.toggled.connect(self._show_details)
        layout.addWidget(preview_box)

        fonts_box = QGroupBox("Fonts")
        fonts_layout = QVBoxLayout(fonts_box)
        self.fonts_table = QTableWidget(0, 3)
        self.fonts_table.setHorizontalHeaderLabels(["Font", "State", "File"])
        self.fonts_table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.fonts_table.verticalHeader().setVisible(False)
        self.fonts_table.setMaximumHeight(140)
        fonts_layout.addWidget(self.fonts_table)
        layout.addWidget(fonts_box)

        uploads_box = QGroupBox("Uploads (job attachments)")
        uploads_layout = QVBoxLayout(uploads_box)
        self.uploads_label = QLabel()
        self.uploads_label.setWordWrap(True)
        uploads_layout.addWidget(self.uploads_label)
        self.uploads_refused = QListWidget()
        self.uploads_refused.setMaximumHeight(90)
        uploads_layout.addWidget(self.uploads_refused)
        # Issue 12: which inputs are uploaded and which reach the workers through the cache.
        self.uploads_split = QListWidget()
        self.uploads_split.setMaximumHeight(120)
        uploads_layout.addWidget(self.uploads_split)
        self.allow_secret_paths = QCheckBox(
            "Upload files in credentials locations (~/.ssh, ~/.aws, /etc, ...)"
        )
        self.allow_broad_assets = QCheckBox(
            "Upload folders far wider than the project (a home folder, a drive root)"
        )
        for box in (self.allow_secret_paths, self.allow_broad_assets):
            box.toggled.connect(self._update_uploads)
            uploads_layout.addWidget(box)
        layout.addWidget(uploads_box)

        warnings_box = QGroupBox("Warnings")
        warnings_layout = QVBoxLayout(warnings_box)
        self.warnings_list = QListWidget()
        self.warnings_list.setMaximumHeight(120)
        warnings_layout.addWidget(self.warnings_list)
        layout.addWidget(warnings_box)

        self._fill_queue_table()
        self._fill_fonts()

    def _fill_queue_table(self) -> None:
        self._loading = True
        for row, item in enumerate(self.export.render_queue):
            check = QTableWidgetItem(str(item.index))
            check.setData(Qt.ItemDataRole.UserRole, item.index)
            comp = QTableWidgetItem(item.comp.name)
            frames = QTableWidgetItem(
                format_frame_range(item.frames.start, item.frames.end, item.frames.step)
            )
            outputs = QTableWidgetItem(
                ", ".join(
                    f"[{om.resolved_kind}] {om.path.replace(chr(92), '/').rsplit('/', 1)[-1]}"
                    for om in item.output_modules
                )
                or "(none)"
            )
            outputs.setToolTip("\n".join(om.path for om in item.output_modules))
            status = QTableWidgetItem(item.status or "QUEUED")
            for cell in (comp, outputs, status):
                cell.setFlags(cell.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if item.selectable:
                check.setFlags(
                    Qt.ItemFlag.ItemIsUserCheckable
                    | Qt.ItemFlag.ItemIsEnabled
                    | Qt.ItemFlag.ItemIsSelectable
                )
                frames.setToolTip("Edit to override, as start-end or start-end:step")
            else:
                reason = item.not_selectable_reason
                check.setFlags(Qt.ItemFlag.ItemIsUserCheckable)  # shown, not enabled
                frames.setFlags(frames.flags() & ~Qt.ItemFlag.ItemIsEditable)
                for cell in (check, comp, frames, outputs, status):
                    cell.setForeground(GREY)
                    cell.setToolTip(f"Cannot render: {reason}")
                shown = item.status or "QUEUED"
                said = reason.endswith(shown) or reason.startswith(f"status {shown}:")
                status.setText(shown if said else f"{shown} ({reason})")
            check.setCheckState(Qt.CheckState.Unchecked)
            self.queue_table.setItem(row, COL_CHECK, check)
            self.queue_table.setItem(row, COL_COMP, comp)
            self.queue_table.setItem(row, COL_FRAMES, frames)
            self.queue_table.setItem(row, COL_OUTPUTS, outputs)
            self.queue_table.setItem(row, COL_STATUS, status)
        self.queue_table.resizeColumnsToContents()
        self.queue_table.setMinimumHeight(self._queue_table_height())
        self._loading = False

    def _queue_table_height(self) -> int:
        """Tall enough for `QUEUE_ROWS_SHOWN` rows (or all of a shorter queue)."""
        rows = max(1, min(self.queue_table.rowCount(), QUEUE_ROWS_SHOWN))
        row_height = self.queue_table.verticalHeader().defaultSectionSize()
        header = self.queue_table.horizontalHeader().sizeHint().height()
        frame = 2 * self.queue_table.frameWidth()
        scrollbar = self.queue_table.horizontalScrollBar().sizeHint().height()
        return rows * row_height + header + frame + scrollbar

    def _fill_fonts(self) -> None:
        rows: list[FontRow] = font_rows(self.export)
        self.fonts_table.setRowCount(len(rows))
        for row, font in enumerate(rows):
            self.fonts_table.setItem(row, 0, QTableWidgetItem(font.name))
            state = QTableWidgetItem(font.state)
            state.setToolTip(font.reason)
            self.fonts_table.setItem(row, 1, state)
            self.fonts_table.setItem(row, 2, QTableWidgetItem(font.path or font.reason))
        self.fonts_table.resizeColumnsToContents()
        self._font_rows = rows

    def _cell(self, row: int, column: int) -> QTableWidgetItem:
        cell = self.queue_table.item(row, column)
        assert cell is not None, "every render queue cell is filled at construction"
        return cell

    # ---- the dialog's protocol ------------------------------------------------------

    def refresh_ui(self, settings: AfterEffectsSettings) -> None:
        self._loading = True
        selected = set(settings.selected_items)
        for row, item in enumerate(self.export.render_queue):
            cell = self._cell(row, COL_CHECK)
            checked = item.selectable and item.index in selected
            cell.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
            override = settings.frame_overrides.get(item.index)
            if override and parse_frame_range(override):
                self._cell(row, COL_FRAMES).setText(override)
        self.chunk_size.setValue(settings.chunk_size)
        values = dict(DEFAULT_PARAMETERS)
        values.update(settings.parameters)
        self._set_stmpo_controls(values)
        self.preview_cpus.setValue(settings.preview_cpus)
        self.preview_ram.setValue(settings.preview_ram_gb)
        self.typed_shape = (settings.preview_cpus, settings.preview_ram_gb)
        self.shape_from_fleet = False
        self.preview_numa.setValue(settings.preview_numa_nodes)
        self.plan_view.seconds_per_frame.setValue(settings.seconds_per_frame)
        self.plan_view.hourly_price.setValue(settings.hourly_price)
        self.plan_view.prefer_measured = settings.prefer_measured_time
        self.profile_combo.setCurrentText(profiles.profile_for(values))
        self.allow_secret_paths.setChecked(settings.allow_secret_paths)
        self.allow_broad_assets.setChecked(settings.allow_broad_assets)
        self._loading = False
        self._update_profile_help()
        self._update_preview()
        self._update_uploads()

    def update_settings(self, settings: AfterEffectsSettings) -> None:
        settings.export_path = self.export_path
        settings.selected_items = self.selected_items()
        settings.frame_overrides = self.frame_overrides()
        settings.chunk_size = self.chunk_size.value()
        settings.parameters = self.parameter_values()
        settings.profile = self.profile_combo.currentText()
        # The shape the artist typed sticks, not one a fleet lent for this session.
        settings.preview_cpus, settings.preview_ram_gb = self.typed_shape
        settings.preview_numa_nodes = self.preview_numa.value()
        settings.seconds_per_frame = self.plan_view.seconds_per_frame.value()
        settings.hourly_price = self.plan_view.hourly_price.value()
        settings.prefer_measured_time = self.plan_view.prefer_measured
        settings.allow_secret_paths = self.allow_secret_paths.isChecked()
        settings.allow_broad_assets = self.allow_broad_assets.isChecked()

    def invalid_parameter_names(self) -> list[str]:
        """The dialog asks this before enabling Submit."""
        selected = set(self.selected_items())
        bad = [
            f"frames of item {item.index}"
            for row, item in enumerate(self.export.render_queue)
            if item.index in selected and not parse_frame_range(self._cell(row, COL_FRAMES).text())
        ]
        if not selected and not self.export.renderable_items:
            # The CLI's words (`select_items`): why no item could be preselected, and the fix.
            bad.append(f"render queue selection: {nothing_to_render(self.export, _tick)}")
        elif not selected:
            bad.append("render queue selection (nothing selected)")
        bad += [f"upload refused: {problem.where}" for problem in self.upload_problems]
        if self.cache_roots_problem is not None:  # as `stmpo bundle` would refuse it
            bad.append(f"File cache root paths: {self.cache_roots_problem.message}")
        if not bad:  # what only the bundle builder finds (its words, the tab's names)
            bad += [in_tab_words(problem) for problem in self.bundle_refusals]
        return bad

    def current_blockers(self) -> list[str]:
        """`invalid_parameter_names` for the settings shown now: a click may come before
        the debounced check has run, or while it runs on its thread."""
        self._warnings_timer.stop()
        self._check_now()
        return self.invalid_parameter_names()

    # ---- reading the controls -------------------------------------------------------

    def selected_items(self) -> list[int]:
        result = []
        for row in range(self.queue_table.rowCount()):
            cell = self._cell(row, COL_CHECK)
            if cell.checkState() == Qt.CheckState.Checked:
                result.append(int(cell.data(Qt.ItemDataRole.UserRole)))
        return result

    def frame_overrides(self) -> dict[int, str]:
        overrides: dict[int, str] = {}
        for row, item in enumerate(self.export.render_queue):
            text = self._cell(row, COL_FRAMES).text().strip()
            parsed = parse_frame_range(text)
            own = (item.frames.start, item.frames.end, item.frames.step)
            if parsed and parsed != own:
                overrides[item.index] = format_frame_range(*parsed)
        return overrides

    def frames_for(self, item: RenderQueueItem) -> tuple[int, int, int]:
        return self._frames_at(self.export.render_queue.index(item), item)

    def _frames_at(self, row: int, item: RenderQueueItem) -> tuple[int, int, int]:
        """The frames typed in the item's row, or its own when the text does not parse."""
        parsed = parse_frame_range(self._cell(row, COL_FRAMES).text())
        return parsed or (item.frames.start, item.frames.end, item.frames.step)

    def parameter_values(self) -> dict[str, str]:
        return {
            row.parameter or "": control_value(row, self.stmpo_controls[row.parameter or ""])
            for row in GUI_ROWS
        }

    # ---- reactions ------------------------------------------------------------------

    def _set_stmpo_controls(self, values: dict[str, str]) -> None:
        was_loading = self._loading
        self._loading = True
        for row in GUI_ROWS:
            set_control(row, self.stmpo_controls[row.parameter or ""], values)
        self._loading = was_loading

    def _on_profile_chosen(self, name: str) -> None:
        if self._loading:
            return
        if name != profiles.CUSTOM:
            self._set_stmpo_controls(profiles.apply_profile(self.parameter_values(), name))
        self._update_profile_help()
        self._update_preview()

    def _on_stmpo_control_changed(self, *_: object) -> None:
        if self._loading:
            return
        current = profiles.profile_for(self.parameter_values())
        self._loading = True
        self.profile_combo.setCurrentText(current)
        self._loading = False
        self._update_profile_help()
        self._update_preview()
        self._schedule_warnings()

    def _update_profile_help(self) -> None:
        profile = profiles.PROFILES.get(self.profile_combo.currentText())
        self.profile_help.setText(
            profile.description if profile else "Your own settings: every control as you set it."
        )

    def _on_queue_item_changed(self, cell: QTableWidgetItem) -> None:
        if self._loading:
            return
        if cell.column() == COL_FRAMES:
            ok = parse_frame_range(cell.text()) is not None
            cell.setBackground(QBrush() if ok else QBrush(QColor(255, 200, 200)))
            cell.setToolTip("" if ok else "Use start-end or start-end:step, end not before start")
        self._update_preview()
        self._report_validity()

    def _report_validity(self) -> None:
        self.valid_parameters.emit(not self.invalid_parameter_names())
        self._schedule_warnings()

    def _set_all_checked(self, checked: bool) -> None:
        self._apply_to_rows(lambda item: checked and item.selectable)

    def _select_renderable(self) -> None:
        self._apply_to_rows(lambda item: item.renderable)

    def _apply_to_rows(self, rule: Callable[[RenderQueueItem], bool]) -> None:
        self._loading = True
        for row, item in enumerate(self.export.render_queue):
            state = Qt.CheckState.Checked if rule(item) else Qt.CheckState.Unchecked
            self._cell(row, COL_CHECK).setCheckState(state)
        self._loading = False
        self._update_preview()
        self._report_validity()

    def _show_details(self, shown: bool) -> None:
        self.preview_list.setVisible(shown)
        self.details_button.setArrowType(
            Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow
        )

    def _update_preview(self, *_: object) -> None:
        if self._loading:
            return
        self.preview_list.clear()
        shape = WorkerShape(
            logical_cpus=self.preview_cpus.value(),
            ram_gb=self.preview_ram.value(),
            numa_nodes=self.preview_numa.value(),
        )
        values = self.parameter_values()
        selected = set(self.selected_items())
        self.previews = []
        for row, item in enumerate(self.export.render_queue):
            if item.index not in selected:
                continue
            preview = preview_item(
                item,
                self._frames_at(row, item),
                values,
                shape,
                self.export.project.display_start_frame,
                self.chunk_size.value(),
            )
            self.previews.append(preview)
            self.preview_list.addItem(preview.summary)
            for line in (*preview.task_lines, *preview.reasons, *preview.children):
                self.preview_list.addItem(f"    {line}")
        if not selected:
            self.preview_list.addItem("Select render queue items to see the plan.")
        self.items_chosen.emit(len(selected))
        self.plan_view.show_plan(
            self.previews,
            spawn_delay(values),
            parameter_number(values, "RamPerProcessGB"),
            shape.ram_gb,
        )

    def _update_uploads(self, *_: object) -> None:
        """Count what the job uploads and list what is refused; a refusal disables Submit
        until the artist ticks the opt-in for its category."""
        if self._loading:
            return
        from stmpo.bundle.build import scan_export_uploads
        from stmpo.bundle.cache import roots_problem

        roots_control = self.stmpo_controls["CacheRootPaths"]
        assert isinstance(roots_control, QLineEdit)
        roots_text = roots_control.text().strip()
        self.cache_roots_problem = roots_problem(roots_text)
        scan, check = scan_export_uploads(
            self.export,
            BundleSettings(
                parameters={"CacheRootPaths": roots_text} if roots_text else {},
                allow_secret_paths=self.allow_secret_paths.isChecked(),
                allow_broad_assets=self.allow_broad_assets.isChecked(),
            ),
        )
        self.upload_problems = list(check.problems)
        self.upload_summary = check.summary
        self.uploads_label.setText(
            f"Uploads {check.summary.text()} before deduplication (files already in the "
            "queue's bucket are skipped)"
        )
        self.uploads_refused.clear()
        for problem in self.upload_problems:
            self.uploads_refused.addItem(str(problem))
        if self.cache_roots_problem is not None:
            self.uploads_refused.addItem(str(self.cache_roots_problem))
        self.uploads_refused.setVisible(
            bool(self.upload_problems) or self.cache_roots_problem is not None
        )
        self.uploads_split.clear()
        shown = [f"file cache: {path}" for path in scan.cached]
        shown += [f"uploaded: {path}" for path in scan.refs.input_filenames]
        shown += [f"uploaded (folder): {path}" for path in scan.refs.input_directories]
        for line in shown[:SPLIT_SHOWN]:
            self.uploads_split.addItem(line)
        if len(shown) > SPLIT_SHOWN:
            self.uploads_split.addItem(f"... and {len(shown) - SPLIT_SHOWN} more")
        self.uploads_split.setVisible(bool(scan.cached))
        self._report_validity()

    def _schedule_warnings(self, *_: object) -> None:
        """Rebuild the Warnings list once the artist's edits settle (one build, not one
        per keystroke)."""
        if not self._loading:
            self._warnings_timer.start()

    def _bundle_settings_now(self) -> tuple[BundleSettings, str]:
        settings = AfterEffectsSettings()
        self.update_settings(settings)
        bundle_settings = to_bundle_settings(settings)
        return bundle_settings, settings_key(bundle_settings)

    def _check_now(self) -> None:
        """Check the settings shown now on this thread, unless a check of them has
        answered or is running (then its answer is awaited: building again would only
        compete with it for the interpreter)."""
        bundle_settings, key = self._bundle_settings_now()
        running = self.check_call
        if key not in self._checked and self._checking == key and running is not None:
            outcome = running.wait()
            if outcome is not None and outcome.error is None:
                self._record_check(*outcome.value)
        if key not in self._checked:
            self._record_check(
                key, check_bundle(self.export, bundle_settings, self._default_warnings)
            )
        self._apply_check(self._checked[key])

    def _fill_warnings(self) -> None:
        """Once edits settle: check the bundle on a thread (a job of 200,000 tasks takes
        seconds to build; the window answers meanwhile), one check at a time; the
        answer is shown if the settings are still those it checked, else the next
        check starts."""
        bundle_settings, key = self._bundle_settings_now()
        if key in self._checked:
            self._apply_check(self._checked[key])
            return
        if self._checking is not None:
            return  # its answer starts the next check if the settings moved on
        self._checking = key
        export, defaults = self.export, self._default_warnings

        def work() -> tuple[str, BundleCheck]:  # holds no widget: a thread must not
            return key, check_bundle(export, bundle_settings, defaults)

        self.check_call = run_in_background(work, self._on_checked, self)

    def settings_saved(self, notice: str | None) -> None:
        """What saving the settings beside the project came to (None: saved). An artist
        launching from After Effects never sees stderr: a failure stays in Warnings, one
        line however often it recurs, until a save succeeds."""
        if notice != self.save_notice:
            self.save_notice = notice
            self._fill_warnings()

    def _on_checked(self, outcome: Outcome) -> None:
        key, self._checking = self._checking, None
        if outcome.error is not None:  # not a refusal (check_bundle turns those into one)
            why = Problem("", f"the bundle could not be checked: {outcome.error}")
            self._record_check(key or "", BundleCheck([], [why]))
        elif outcome.value[0] not in self._checked:  # a click may have recorded it
            self._record_check(*outcome.value)
        self._fill_warnings()  # shows it, or checks the settings shown now

    def _record_check(self, key: str, check: BundleCheck) -> None:
        self._checked[key] = check
        while len(self._checked) > KEPT_CHECKS:
            del self._checked[next(iter(self._checked))]
        if check.from_defaults and self._default_warnings is None:
            self._default_warnings = list(check.warnings)

    def _apply_check(self, check: BundleCheck) -> None:
        """The notices from loading saved settings, then what `stmpo bundle` would warn;
        what it would refuse blocks Save bundle as and Submit (`invalid_parameter_names`)
        and marks the frames it names."""
        self.warnings_list.clear()
        saving = [self.save_notice] if self.save_notice else []
        self.warnings_list.addItems([*saving, *self.notices, *check.warnings])
        changed = check.refusals != self.bundle_refusals
        self.bundle_refusals = check.refusals
        self._mark_refused_frames()
        if changed:
            self.valid_parameters.emit(not self.invalid_parameter_names())

    def _mark_refused_frames(self) -> None:
        refused: dict[int, list[str]] = {}
        for problem in self.bundle_refusals:
            index = refused_item(problem)
            if index is not None and problem.where.startswith("--frames"):
                refused.setdefault(index, []).append(problem.message)
        self._loading, was_loading = True, self._loading
        try:
            for row, item in enumerate(self.export.render_queue):
                cell = self._cell(row, COL_FRAMES)
                if parse_frame_range(cell.text()) is None:
                    continue  # the parse check's own mark stays
                reasons = refused.get(item.index)
                cell.setBackground(QBrush(QColor(255, 200, 200)) if reasons else QBrush())
                cell.setToolTip("\n".join(reasons or []))
        finally:
            self._loading = was_loading
