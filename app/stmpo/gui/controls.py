"""The submitter's STMPO controls, one per row of the worker's command-line table.

Built from `stmpo_worker.contract.SETTINGS` (the rows with a job parameter and `gui`), so
a new job parameter gets its control, range, default and tooltip without a GUI edit, and
a control can never offer a value the worker or the template refuses.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from stmpo._worker_scripts.stmpo_worker.contract import SETTINGS, Setting
from stmpo.gui.settings import parameter_flag, parameter_number

Control = QCheckBox | QComboBox | QDoubleSpinBox | QLineEdit | QSpinBox

#: The rows the tab shows, STMPO's own first (as the template groups them).
GUI_ROWS: tuple[Setting, ...] = tuple(
    sorted(
        (row for row in SETTINGS if row.parameter is not None and row.gui),
        key=lambda row: row.group != "STMPO",
    )
)


def make_control(row: Setting) -> Control:
    """The widget for one row, with the row's range, step and help."""
    control: Control
    if row.kind == "bool":
        control = QCheckBox(row.label)
    elif row.kind == "choice":
        control = QComboBox()
        control.addItems(list(row.choices))
    elif row.kind == "int":
        control = QSpinBox()
        control.setRange(int(row.low or 0), int(row.high or 0))
        if row.low == 0 and row.parameter == "Concurrency":
            control.setSpecialValueText("Auto")
    elif row.kind == "float":
        control = QDoubleSpinBox()
        control.setDecimals(row.decimals)
        control.setRange(float(row.low or 0.0), float(row.high or 0.0))
        control.setSingleStep(row.step)
        control.setSuffix(row.suffix)
    else:
        control = QLineEdit()
        control.setPlaceholderText(row.placeholder)
    control.setToolTip(row.help)
    return control


def form_label(row: Setting) -> str:
    """The form row's label: check boxes carry their own text."""
    return "" if row.kind == "bool" else row.label


def control_value(row: Setting, control: QWidget) -> str:
    """The control's value as the job parameter's text."""
    if isinstance(control, QCheckBox):
        return "true" if control.isChecked() else "false"
    if isinstance(control, QComboBox):
        return control.currentText()
    if isinstance(control, QSpinBox):
        return str(control.value())
    if isinstance(control, QDoubleSpinBox):
        return f"{control.value():.{max(1, row.decimals)}f}"
    assert isinstance(control, QLineEdit)
    return control.text().strip()


def set_control(row: Setting, control: QWidget, values: Mapping[str, str]) -> None:
    """Show `values[row.parameter]` (the template default when missing or unusable)."""
    name = row.parameter or ""
    if isinstance(control, QCheckBox):
        control.setChecked(parameter_flag(values, name))
    elif isinstance(control, QComboBox):
        text = values.get(name, "")
        control.setCurrentText(text if text in row.choices else str(row.default))
    elif isinstance(control, QSpinBox):
        control.setValue(int(parameter_number(values, name)))
    elif isinstance(control, QDoubleSpinBox):
        control.setValue(parameter_number(values, name))
    elif isinstance(control, QLineEdit):
        control.setText(values.get(name, ""))
