"""The STMPO controls are built from the job template's parameter definitions (issue 13,
"Simpler inside"): one source for names, ranges, defaults, choices, labels and help,
the one the bundle is checked against. Only the displays OpenJD cannot carry ("Auto"
for Concurrency's 0, the units) come from `controls.DISPLAY`. Checked on the real
submitter offscreen against the bundle the real `stmpo bundle` writes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from gui_helpers import copy_sample
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)
from stmpo.bundle import parameters as template_parameters
from stmpo.gui import controls

pytestmark = pytest.mark.gui

SAMPLE = "image_sequence.json"


def export_copy(tmp_path: Path) -> Path:
    return copy_sample(SAMPLE, tmp_path)


def form_label(control: QWidget) -> str:
    """The text the artist reads for a control: its form row's label, or a check box's own."""
    if isinstance(control, QCheckBox):
        return control.text()
    parent = control.parentWidget()
    assert parent is not None
    form = parent.layout()
    assert isinstance(form, QFormLayout)
    label = form.labelForField(control)
    assert label is not None
    return str(label.text())  # type: ignore[attr-defined]


def written_bundle(export_path: Path, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """`stmpo bundle EXPORT -o DIR`, as a user runs it: its parameter definitions, and
    the value each parameter has in the job (parameter_values.yaml holds the ones that
    differ from the template's default), by name."""
    out = tmp_path / "bundle"
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", "bundle", str(export_path), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    template = yaml.safe_load((out / "template.yaml").read_text("utf-8"))
    values = yaml.safe_load((out / "parameter_values.yaml").read_text("utf-8"))
    definitions = {d["name"]: d for d in template["parameterDefinitions"]}
    in_job = {name: d.get("default") for name, d in definitions.items()}
    in_job.update({v["name"]: v["value"] for v in values["parameterValues"]})
    return definitions, in_job


def test_every_stmpo_control_shows_the_definition_stmpo_bundle_writes(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    export_path = export_copy(tmp_path)
    definitions, values = written_bundle(export_path, tmp_path)
    tab = make_dialog(export_path).job_settings
    assert sorted(tab.stmpo_controls) == sorted(
        row.parameter for row in controls.GUI_ROWS if row.parameter
    )

    for name, control in tab.stmpo_controls.items():
        definition = definitions[name]
        ui = definition["userInterface"]
        assert control.toolTip() == definition["description"], name
        assert form_label(control) == ui["label"], name
        if isinstance(control, QCheckBox):
            assert definition["allowedValues"] == ["true", "false"], name
            assert ("true" if control.isChecked() else "false") == values[name], name
        elif isinstance(control, QComboBox):
            shown = [control.itemText(i) for i in range(control.count())]
            assert shown == definition["allowedValues"], name
            assert control.currentText() == values[name] == definition["default"], name
        elif isinstance(control, QSpinBox):
            assert definition["type"] == "INT", name
            assert (control.minimum(), control.maximum()) == (
                definition["minValue"],
                definition["maxValue"],
            ), name
            assert control.value() == int(values[name]) == definition["default"], name
        elif isinstance(control, QDoubleSpinBox):
            assert definition["type"] == "FLOAT", name
            assert (control.minimum(), control.maximum()) == (
                definition["minValue"],
                definition["maxValue"],
            ), name
            assert control.value() == float(values[name]) == definition["default"], name
            assert control.decimals() == ui["decimals"], name
            assert control.singleStep() == ui["singleStepDelta"], name
        else:
            assert isinstance(control, QLineEdit), name
            assert ui["control"] == "LINE_EDIT", name
            assert control.text() == values[name] == definition["default"], name

    # What the definitions cannot carry: "Auto" and the units.
    tab.concurrency.setValue(0)
    assert tab.concurrency.text() == "Auto"
    assert tab.ram_per_process.suffix() == " GB"
    assert tab.ram_per_process.text().endswith(" GB")
    assert tab.spawn_delay.suffix() == " s" and tab.child_grace.suffix() == " s"
    assert tab.stmpo_controls["CacheRootPaths"].placeholderText() == "empty: no file cache"


def test_the_controls_follow_a_definition_changed_at_runtime(
    make_dialog: Callable[[Path], Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A narrower range, another choice, a new label, step or help in the template's
    definition reaches the control with no edit to the GUI."""
    real = template_parameters.definitions_by_name

    def changed() -> dict[str, dict[str, Any]]:
        definitions = real()
        definitions["MaxConcurrency"]["maxValue"] = 12
        definitions["Concurrency"]["minValue"] = 1  # no 0: no "Auto" either
        definitions["SplitStrategy"]["allowedValues"].append("interleaved")
        ram = definitions["RamPerProcessGB"]
        ram["minValue"], ram["maxValue"] = 2.0, 512.0
        ram["userInterface"].update(label="RAM each", decimals=2, singleStepDelta=0.25)
        definitions["SpawnDelay"]["description"] = "Changed help."
        definitions["DisableMFR"]["userInterface"]["label"] = "No MFR"
        return definitions

    monkeypatch.setattr(controls, "definitions_by_name", changed, raising=False)
    tab = make_dialog(export_copy(tmp_path)).job_settings

    assert tab.max_concurrency.maximum() == 12
    assert tab.max_concurrency.value() == 12  # the default 24 no longer fits
    assert tab.concurrency.minimum() == 1 and tab.concurrency.text() == "1"
    split = tab.stmpo_controls["SplitStrategy"]
    assert [split.itemText(i) for i in range(split.count())] == ["dynamic", "static", "interleaved"]
    assert (tab.ram_per_process.minimum(), tab.ram_per_process.maximum()) == (2.0, 512.0)
    assert tab.ram_per_process.decimals() == 2 and tab.ram_per_process.singleStep() == 0.25
    assert form_label(tab.ram_per_process) == "RAM each"
    assert tab.ram_per_process.suffix() == " GB"  # the display extra stays
    assert tab.spawn_delay.toolTip() == "Changed help."
    assert tab.disable_mfr.text() == "No MFR"
    split.setCurrentText("interleaved")
    assert tab.parameter_values()["SplitStrategy"] == "interleaved"
    assert tab.parameter_values()["RamPerProcessGB"] == f"{tab.ram_per_process.value():.2f}"
