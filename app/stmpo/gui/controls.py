"""The submitter's STMPO controls, each built from the job template's parameter definition.

The template's definition (`stmpo.bundle.parameters.definitions_by_name()`) is what the
bundle is checked against, so building the control from it - type, range, default,
choices, label, decimals, step and help - means a control can never offer a value the
template refuses, and a changed definition changes its control without a GUI edit (the
`deadline` library's submitters build their job parameter controls the same way).

What OpenJD cannot carry stays here, in one small table (`DISPLAY`): a number's unit
(" GB", " s", the worker table's `suffix`), Concurrency's 0 shown as "Auto", and a text
control's placeholder. `GUI_ROWS` only says which parameters get a control, in which
order and box, and the tab's attribute name for each (the worker table's `gui` rows).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QLineEdit, QSpinBox, QWidget

from stmpo._worker_scripts.stmpo_worker.contract import SETTINGS, Setting
from stmpo.bundle.parameters import definitions_by_name
from stmpo.gui.settings import (
    DEFAULT_PARAMETERS,
    STMPO_CONTROLS,
    parameter_flag,
    parameter_number,
)

Control = QCheckBox | QComboBox | QDoubleSpinBox | QLineEdit | QSpinBox

_ROWS = {row.parameter: row for row in SETTINGS if row.parameter is not None}
#: The rows the tab shows, in `STMPO_CONTROLS` order: a row names its parameter, the
#: tab's attribute for the control (`row.dest`) and its box (`row.group`); what the
#: control shows comes from the parameter's definition.
GUI_ROWS: tuple[Setting, ...] = tuple(_ROWS[name] for name in STMPO_CONTROLS)


@dataclass(frozen=True)
class Display:
    """How a value is shown beyond what its parameter definition says."""

    suffix: str = ""
    #: The text a spin box shows for 0 instead of the number (when 0 is its minimum).
    at_zero: str = ""
    placeholder: str = ""


#: Concurrency's 0 is "choose for me" (the worker's auto concurrency).
_AT_ZERO = {"Concurrency": "Auto"}

DISPLAY: Mapping[str, Display] = {
    row.parameter or "": Display(
        suffix=row.suffix,
        at_zero=_AT_ZERO.get(row.parameter or "", ""),
        placeholder=row.placeholder if row.kind == "text" else "",
    )
    for row in GUI_ROWS
}


def _definition(row: Setting) -> dict[str, Any]:
    return definitions_by_name()[row.parameter or ""]


def make_control(row: Setting) -> Control:
    """The widget for one parameter, from its template definition and `DISPLAY`."""
    definition = _definition(row)
    ui = definition.get("userInterface", {})
    kind = ui.get("control")
    display = DISPLAY.get(row.parameter or "", Display())
    control: Control
    if kind == "CHECK_BOX":
        control = QCheckBox(ui.get("label", row.parameter))
    elif kind == "DROPDOWN_LIST":
        control = QComboBox()
        control.addItems([str(value) for value in definition.get("allowedValues", ())])
    elif kind == "SPIN_BOX" and definition["type"] == "INT":
        control = QSpinBox()
        control.setRange(int(definition["minValue"]), int(definition["maxValue"]))
        control.setSingleStep(int(ui.get("singleStepDelta", 1)))
        control.setSpecialValueText(display.at_zero if control.minimum() == 0 else "")
        control.setSuffix(display.suffix)
    elif kind == "SPIN_BOX":
        control = QDoubleSpinBox()
        control.setDecimals(int(ui.get("decimals", 1)))
        control.setRange(float(definition["minValue"]), float(definition["maxValue"]))
        control.setSingleStep(float(ui.get("singleStepDelta", 1.0)))
        control.setSpecialValueText(display.at_zero if control.minimum() == 0 else "")
        control.setSuffix(display.suffix)
    else:
        control = QLineEdit()
        control.setPlaceholderText(display.placeholder)
    control.setToolTip(str(definition.get("description", "")))
    return control


def form_label(row: Setting) -> str:
    """The form row's label: check boxes carry their own text."""
    ui = _definition(row).get("userInterface", {})
    return "" if ui.get("control") == "CHECK_BOX" else str(ui.get("label", row.parameter))


def control_value(row: Setting, control: QWidget) -> str:
    """The control's value as the job parameter's text."""
    if isinstance(control, QCheckBox):
        return "true" if control.isChecked() else "false"
    if isinstance(control, QComboBox):
        return control.currentText()
    if isinstance(control, QSpinBox):
        return str(control.value())
    if isinstance(control, QDoubleSpinBox):
        return f"{control.value():.{max(1, control.decimals())}f}"
    assert isinstance(control, QLineEdit)
    return control.text().strip()


def set_control(row: Setting, control: QWidget, values: Mapping[str, str]) -> None:
    """Show `values[row.parameter]` (the template default when missing or unusable)."""
    name = row.parameter or ""
    if isinstance(control, QCheckBox):
        control.setChecked(parameter_flag(values, name))
    elif isinstance(control, QComboBox):
        wanted = values.get(name, "")
        known = control.findText(wanted) >= 0
        control.setCurrentText(wanted if known else DEFAULT_PARAMETERS[name])
    elif isinstance(control, QSpinBox):
        control.setValue(int(parameter_number(values, name)))
    elif isinstance(control, QDoubleSpinBox):
        control.setValue(parameter_number(values, name))
    elif isinstance(control, QLineEdit):
        control.setText(values.get(name, ""))
