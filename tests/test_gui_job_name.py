"""The job's name: the submitter gives the name `stmpo bundle` gives (one definition,
bundle.template.default_job_name), follows the items chosen while the artist has not
typed one, and keeps a typed one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from gui_helpers import copy_sample

pytestmark = pytest.mark.gui


def cli_job_name(export_path: Path, out: Path, *options: str) -> str:
    command = [sys.executable, "-m", "stmpo", "bundle", str(export_path), "-o", str(out)]
    done = subprocess.run([*command, *options], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return str(yaml.safe_load((out / "template.yaml").read_text("utf-8"))["name"])


def test_the_submitter_names_the_job_as_the_cli_does_and_follows_the_items(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import Qt

    export_path = copy_sample("several_items.json", tmp_path)  # items 1, 2, 5 renderable
    dialog = make_dialog(export_path)
    edit = dialog.job_name_edit()
    assert edit.text() == cli_job_name(export_path, tmp_path / "all") == "several_items (3 items)"

    dialog.job_settings.queue_table.item(0, 0).setCheckState(Qt.CheckState.Unchecked)
    assert edit.text() == cli_job_name(export_path, tmp_path / "two", "--items", "2,5")
    assert edit.text() == "several_items (2 items)"

    edit.setText("Spot v12 for review")  # typed: kept whatever is chosen
    dialog.job_settings.queue_table.item(0, 0).setCheckState(Qt.CheckState.Checked)
    assert edit.text() == "Spot v12 for review"


def test_a_saved_choice_of_items_names_the_job_for_it_and_a_saved_name_is_kept(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from stmpo.export import load_export
    from stmpo.gui.settings import sticky_path

    export_path = copy_sample("several_items.json", tmp_path)
    where = sticky_path(load_export(export_path), export_path)
    where.write_text(json.dumps({"stmpoStickyVersion": 1, "selected_items": [5]}), "utf-8")
    dialog = make_dialog(export_path)
    assert dialog.job_name_edit().text() == "several_items (1 item)"
    dialog.close()

    saved = {"stmpoStickyVersion": 1, "selected_items": [5], "name": "Titles only"}
    where.write_text(json.dumps(saved), "utf-8")
    assert make_dialog(export_path).job_name_edit().text() == "Titles only"
