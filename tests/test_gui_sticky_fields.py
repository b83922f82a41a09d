"""Sticky settings are marked on `AfterEffectsSettings`' own fields (issue 13, "Simpler
inside"): `metadata=sticky(check)`, as the `deadline` library's Nuke and Blender
submitters mark theirs. What is saved, what is loaded and how each value is checked all
follow from that mark, so these tests walk `dataclasses.fields()` rather than a list of
names, and a new marked field needs no other edit. The last test opens the real
submitter offscreen on a file holding every sticky field."""

from __future__ import annotations

import json
import typing
from collections.abc import Callable
from dataclasses import field, fields, make_dataclass
from pathlib import Path
from typing import Any

import pytest
from gui_helpers import copy_sample
from stmpo.export import load_export
from stmpo.export.model import Export
from stmpo.gui.settings import (
    DEFAULT_PARAMETERS,
    AfterEffectsSettings,
    initial_settings,
    load_sticky,
    save_sticky,
    short_text,
    sticky,
    sticky_fields,
    sticky_path,
)

SAMPLE = "several_items.json"


def export_copy(tmp_path: Path) -> Path:
    return copy_sample(SAMPLE, tmp_path)


def sticky_names() -> list[str]:
    return [f.name for f in sticky_fields()]


def selectable(export: Export) -> list[int]:
    return [item.index for item in export.render_queue if item.selectable]


def non_default_values(export: Export) -> dict[str, Any]:
    """A value other than the default that each sticky field's control can show. Keyed
    by field: a new sticky field without an entry fails the test that uses it."""
    parameters = dict(DEFAULT_PARAMETERS)
    parameters.update(Concurrency="3", SplitStrategy="static", DisableMFR="true")
    parameters.update(RamPerProcessGB="48.0", AerenderPath="C:/AE/aerender.exe")
    first = next(i for i in export.render_queue if i.selectable)
    return {
        "name": "Spot v12",
        "description": "Client review",
        "priority": 71,
        "initial_status": "SUSPENDED",
        "max_failed_tasks_count": 7,
        "max_retries_per_task": 2,
        "max_worker_count": 12,
        "selected_items": selectable(export)[-1:],
        "frame_overrides": {first.index: f"{first.frames.start}-{first.frames.start + 3}"},
        "chunk_size": 25,
        "parameters": parameters,
        "profile": "Custom",
        "preview_cpus": 96,
        "preview_ram_gb": 384.0,
        "preview_numa_nodes": 4,
        "seconds_per_frame": 42.5,
        "hourly_price": 3.25,
        "prefer_measured_time": False,
    }


def test_every_sticky_field_round_trips_with_a_value_other_than_its_default(
    tmp_path: Path,
) -> None:
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    chosen = non_default_values(export)
    assert sorted(chosen) == sorted(sticky_names())
    fresh = initial_settings(export, export_path)
    assert all(getattr(fresh, name) != value for name, value in chosen.items())

    save_sticky(AfterEffectsSettings(**chosen), sticky_path(export, export_path))
    loaded = initial_settings(export, export_path)

    assert loaded.notices == []
    assert {name: getattr(loaded, name) for name in chosen} == chosen


#: One JSON value of each type; a field refuses every one its annotation does not allow.
SAMPLES: dict[str, object] = {
    "bool": True,
    "text": "ten",
    "int": 7,
    "float": 2.5,
    "list": [1],
    "dict": {"1": "x"},
    "null": None,
}
_ACCEPTS = {
    bool: {"bool"},
    int: {"int"},
    float: {"int", "float"},
    str: {"text"},
    list: {"list"},
    dict: {"dict"},
}


def wrong_samples() -> list[tuple[str, str]]:
    hints = typing.get_type_hints(AfterEffectsSettings)
    cases = []
    for name in sticky_names():
        hint = hints[name]
        accepted = _ACCEPTS[typing.get_origin(hint) or hint]
        cases += [(name, sample) for sample in SAMPLES if sample not in accepted]
    return cases


@pytest.mark.parametrize(("name", "sample"), wrong_samples())
def test_every_sticky_field_refuses_a_wrong_typed_value_with_a_notice_naming_it(
    tmp_path: Path, name: str, sample: str
) -> None:
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    expected = initial_settings(export, export_path)  # no file yet: the defaults
    where = sticky_path(export, export_path)
    where.write_text(json.dumps({"stmpoStickyVersion": 1, name: SAMPLES[sample]}), "utf-8")

    settings = initial_settings(export, export_path)

    expected.notices = [f"Saved settings {where}: damaged {name} ignored, defaults used"]
    assert settings == expected


def test_fields_not_marked_sticky_are_neither_loaded_nor_saved(tmp_path: Path) -> None:
    """The upload opt-ins are per submission, the notices are what loading found."""
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    where = sticky_path(export, export_path)
    unmarked = {
        "allow_secret_paths": True,
        "allow_broad_assets": True,
        "notices": ["planted"],
        "export_path": "/elsewhere/export.json",
        "submitter_name": "Planted",
    }
    assert not set(unmarked) & set(sticky_names())
    where.write_text(json.dumps({"stmpoStickyVersion": 1, **unmarked}), "utf-8")

    loaded = initial_settings(export, export_path)
    assert not loaded.allow_secret_paths and not loaded.allow_broad_assets
    assert loaded.notices == [] and loaded.export_path == str(export_path)
    assert loaded.submitter_name == AfterEffectsSettings().submitter_name

    loaded.allow_secret_paths = loaded.allow_broad_assets = True
    loaded.notices = ["shown, never saved"]
    save_sticky(loaded, where)
    saved = json.loads(where.read_text("utf-8"))
    assert sorted(saved) == sorted([*sticky_names(), "stmpoStickyVersion"])


def test_a_field_marked_sticky_is_saved_and_checked_with_no_other_edit(tmp_path: Path) -> None:
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    where = sticky_path(export, export_path)
    with_notes = make_dataclass(
        "WithNotes",
        [("render_notes", str, field(default="", metadata=sticky(short_text)))],
        bases=(AfterEffectsSettings,),
    )

    save_sticky(with_notes(render_notes="grade v3", chunk_size=9), where)
    saved = json.loads(where.read_text("utf-8"))
    assert saved["render_notes"] == "grade v3" and saved["chunk_size"] == 9

    loaded = with_notes()
    assert load_sticky(loaded, where, export) == []
    assert loaded.render_notes == "grade v3" and loaded.chunk_size == 9

    where.write_text(json.dumps({**saved, "render_notes": 5}), "utf-8")
    refused = with_notes()
    assert load_sticky(refused, where, export) == [
        f"Saved settings {where}: damaged render_notes ignored, defaults used"
    ]
    assert refused.render_notes == "" and refused.chunk_size == 9


def test_a_field_marked_sticky_by_hand_without_a_check_is_refused(tmp_path: Path) -> None:
    """The file is outside input: a sticky field that says nothing about what it accepts
    would load anything, so it is a programming error before any file is read."""
    unchecked = make_dataclass(
        "Unchecked",
        [("render_notes", str, field(default="", metadata={"sticky": True}))],
        bases=(AfterEffectsSettings,),
    )
    with pytest.raises(TypeError, match="render_notes"):
        save_sticky(unchecked(), tmp_path / "x.stmpo.json")
    assert not (tmp_path / "x.stmpo.json").exists()


def test_every_field_is_either_sticky_with_a_check_or_deliberately_not() -> None:
    """What is not sticky, and why: a field added later must choose."""
    per_submission = {"submitter_name", "export_path", "allow_secret_paths"}
    per_submission |= {"allow_broad_assets", "notices"}
    every = {f.name for f in fields(AfterEffectsSettings)}
    assert every - set(sticky_names()) == per_submission
    assert all(callable(f.metadata["check"]) for f in sticky_fields())


# --- the real submitter, offscreen ------------------------------------------------------


@pytest.mark.gui
def test_the_submitter_shows_every_sticky_value_and_hands_it_back(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """Every sticky field saved beside the project reaches the real dialog's tab and
    shared job settings, and comes back out of the dialog unchanged, so Submit saves
    what the artist saw."""
    export_path = export_copy(tmp_path)
    export = load_export(export_path)
    chosen = non_default_values(export)
    save_sticky(AfterEffectsSettings(**chosen), sticky_path(export, export_path))

    dialog = make_dialog(export_path)
    assert dialog.job_settings.warnings_list.count() >= 0
    settings = AfterEffectsSettings()
    dialog.shared_job_settings.update_settings(settings)
    dialog.job_settings.update_settings(settings)

    assert {name: getattr(settings, name) for name in chosen} == chosen


def test_each_sticky_number_s_control_has_its_check_s_range(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """A saved value the check accepts can be shown, and a control value saved can be
    loaded back: control and check take one range (settings.control_range)."""
    from stmpo.gui.settings import Bounded, control_range

    tab = make_dialog(export_copy(tmp_path)).job_settings
    controls = {
        "chunk_size": tab.chunk_size,
        "preview_cpus": tab.preview_cpus,
        "preview_ram_gb": tab.preview_ram,
        "preview_numa_nodes": tab.preview_numa,
        "seconds_per_frame": tab.plan_view.seconds_per_frame,
        "hourly_price": tab.plan_view.hourly_price,
    }
    for name, control in controls.items():
        assert (control.minimum(), control.maximum()) == control_range(name), name
    bounded = {f.name for f in sticky_fields() if isinstance(f.metadata["check"], Bounded)}
    shown_by_the_library = {"priority", "max_failed_tasks_count", "max_retries_per_task"}
    assert bounded - shown_by_the_library - {"max_worker_count"} == set(controls)
