"""Sticky settings (`<project>.stmpo.json`) are outside input: a damaged file is
ignored with a warning, never a crash, and a file that is not STMPO's own is never
replaced. Checked at the settings layer and by opening the real submitter offscreen."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import copy_sample
from stmpo.export import load_export
from stmpo.gui.settings import (
    DEFAULT_PARAMETERS,
    AfterEffectsSettings,
    initial_settings,
    save_sticky,
    sticky_path,
)

SAMPLE = "several_items.json"

WRONG_TYPES = {
    "stmpoStickyVersion": 1,
    "priority": True,
    "preview_cpus": 10**30,
    "preview_ram_gb": "lots",
    "preview_numa_nodes": 1e400,
    "chunk_size": -4,
    "initial_status": "NOPE",
    "selected_items": "all",
    "frame_overrides": {"1": 5},
    "parameters": {"Concurrency": "1e999", "MaxConcurrency": "NaN", "DisableMFR": "maybe"},
}

DAMAGED: dict[str, Callable[[Path], None]] = {
    "truncated JSON": lambda p: p.write_text('{"stmpoStickyVersion": 1, "prio', "utf-8"),
    "binary": lambda p: p.write_bytes(b"\xff\xfe\x00\x89PNG\r\n\x1a\n\x00"),
    "a folder in its place": lambda p: p.mkdir(),
    "nested too deep": lambda p: p.write_text("[" * 100_000, "utf-8"),
    "wrong types and ranges": lambda p: p.write_text(json.dumps(WRONG_TYPES), "utf-8"),
    "not ours": lambda p: p.write_text('{"theme": "dark"}', "utf-8"),
    "a link to an endless device": lambda p: p.symlink_to("/dev/zero"),
}


def export_copy(tmp_path: Path) -> Path:
    return copy_sample(SAMPLE, tmp_path)


def assert_defaults(settings: AfterEffectsSettings, renderable: list[int]) -> None:
    fresh = AfterEffectsSettings()
    assert settings.priority == fresh.priority
    assert settings.preview_cpus == fresh.preview_cpus
    assert settings.preview_ram_gb == fresh.preview_ram_gb
    assert settings.preview_numa_nodes == fresh.preview_numa_nodes
    assert settings.chunk_size == fresh.chunk_size
    assert settings.initial_status == fresh.initial_status
    assert settings.frame_overrides == {}
    assert settings.parameters == DEFAULT_PARAMETERS
    assert settings.selected_items == renderable


@pytest.mark.parametrize("damage", list(DAMAGED))
def test_a_damaged_sticky_file_gives_defaults_and_one_warning(tmp_path: Path, damage: str) -> None:
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    where = sticky_path(export, export_path)
    DAMAGED[damage](where)

    settings = initial_settings(export, export_path)

    assert_defaults(settings, [item.index for item in export.renderable_items])
    assert len(settings.notices) == 1 and str(where) in settings.notices[0]
    assert "ignored" in settings.notices[0]


def test_good_values_beside_damaged_ones_are_kept(tmp_path: Path) -> None:
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    data = {**WRONG_TYPES, "chunk_size": 12, "parameters": {"Concurrency": "3"}}
    sticky_path(export, export_path).write_text(json.dumps(data), encoding="utf-8")
    settings = initial_settings(export, export_path)
    assert settings.chunk_size == 12 and settings.parameters["Concurrency"] == "3"
    assert settings.preview_cpus == AfterEffectsSettings().preview_cpus
    assert "preview_cpus" in settings.notices[0] and "chunk_size" not in settings.notices[0]


@pytest.mark.parametrize("damage", ["not ours", "a folder in its place"])
def test_saving_never_replaces_what_is_not_stmpo_settings(tmp_path: Path, damage: str) -> None:
    export_path = export_copy(tmp_path)
    where = sticky_path(load_export(export_path), export_path)
    DAMAGED[damage](where)
    before = sorted(p.name for p in tmp_path.iterdir())
    content = where.read_bytes() if where.is_file() else None

    with pytest.raises(OSError):
        save_sticky(AfterEffectsSettings(chunk_size=9), where)

    assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temp file left
    assert (where.read_bytes() if where.is_file() else None) == content


# --- the real submitter, offscreen ------------------------------------------------------


@pytest.mark.gui
@pytest.mark.parametrize("damage", ["wrong types and ranges", "nested too deep", "binary"])
def test_the_submitter_opens_on_a_damaged_sticky_file_and_says_so(
    make_dialog: Callable[[Path], Any],
    tmp_path: Path,
    damage: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    export_path = export_copy(tmp_path)
    where = sticky_path(load_export(export_path), export_path)
    DAMAGED[damage](where)

    tab = make_dialog(export_path).job_settings

    warnings = [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]
    assert any(str(where) in line and "ignored" in line for line in warnings), warnings
    assert tab.preview_cpus.value() == AfterEffectsSettings().preview_cpus
    assert tab.parameter_values()["Concurrency"] == DEFAULT_PARAMETERS["Concurrency"]
    assert f"stmpo-submitter: warning: Saved settings {where}" in capsys.readouterr().err
