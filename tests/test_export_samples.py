"""The sample exports in resources/examples/ load, and each is what its README line says.

Other parts' tests and the demo use these samples as inputs; if a sample drifted (say,
`hostile_names.json` lost its `{{`), their tests would pass without testing anything.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stmpo.export import Export, load_export
from stmpo.locations import examples_dir, sample_exports

#: The samples that go through as shipped, then `edge_cases/` (those that need an argument).
SAMPLES = sample_exports()
NAMES = [p.relative_to(examples_dir()).as_posix() for p in SAMPLES]


def load(name: str) -> Export:
    return load_export(examples_dir() / name)


@pytest.mark.parametrize("path", SAMPLES, ids=NAMES)
def test_every_sample_export_loads(path: Path) -> None:
    export = load_export(path)
    assert export.format == "stmpo-ae-export"
    assert export.render_queue, "a sample should have render queue items"


def test_every_sample_is_described_in_the_readme() -> None:
    readme = (examples_dir() / "README.md").read_text("utf-8")
    assert [name for name in NAMES if f"`{name}`" not in readme] == []
    assert {
        "image_sequence.json",
        "several_items.json",
        "movie_output.json",
        "several_output_modules.json",
        "fonts.json",
        "edge_cases/unrenderable_items.json",
        "windows_paths.json",
        "hostile_names.json",
        "forty_items.json",
    } <= set(NAMES)


def test_several_items() -> None:
    export = load("several_items.json")
    by_index = {item.index: item for item in export.render_queue}
    assert len(by_index) >= 4
    assert [item.index for item in export.renderable_items] == [1, 2, 5]
    unchecked, done = by_index[3], by_index[4]
    assert not unchecked.render and not unchecked.renderable and unchecked.selectable
    # aerender -rqindex cannot set a DONE item's Render flag: never offered.
    assert done.status == "DONE" and not done.renderable and not done.selectable
    assert by_index[5].frames.step == 2 and by_index[5].frames.count == 13


def test_movie_output() -> None:
    items = load("movie_output.json").render_queue
    assert all(item.has_movie_output for item in items)
    assert [om.path.endswith(".mov") for item in items for om in item.output_modules] == [
        True,
        True,
    ]
    # The second one has no "kind": the loader decides "movie" from the extension.
    assert items[1].output_modules[0].kind is None
    assert items[1].output_modules[0].resolved_kind == "movie"


def test_several_output_modules() -> None:
    (item,) = load("several_output_modules.json").render_queue
    assert [om.resolved_kind for om in item.output_modules] == ["sequence", "movie", "sequence"]
    assert item.output_modules[2].kind is None  # a .jpg path means a sequence
    assert item.has_movie_output


def test_fonts() -> None:
    export = load("fonts.json")
    assert len(export.fonts) >= 3
    assert any(font.is_substitute for font in export.fonts)
    assert any(not font.location for font in export.fonts)
    assert any(font.location and not font.is_substitute for font in export.fonts)


def test_unrenderable_items() -> None:
    export = load("edge_cases/unrenderable_items.json")
    assert export.renderable_items == []
    statuses = {item.status for item in export.render_queue}
    assert "NEEDS_OUTPUT" in statuses
    assert any(not item.output_modules for item in export.render_queue)
    assert any(not item.render for item in export.render_queue)
    reasons = {item.index: item.not_selectable_reason for item in export.render_queue}
    assert reasons[1] == "no output module"
    assert reasons[6] == "status RENDERING"


def test_windows_paths() -> None:
    export = load("windows_paths.json")
    assert export.host is not None and export.host.os == "windows"
    paths = [export.project.path] + [
        om.path for item in export.render_queue for om in item.output_modules
    ]
    assert any(p.startswith("C:/") for p in paths)
    assert any(p.startswith("C:\\") for p in paths)
    assert any(p.startswith("\\\\") for p in paths)
    assert export.project_name == "spot_v012.aep"


def test_hostile_names() -> None:
    export = load("hostile_names.json")
    names = [item.comp.name for item in export.render_queue]
    paths = [om.path for item in export.render_queue for om in item.output_modules]
    text = json.dumps(names + paths, ensure_ascii=False)
    for hostile in ("{{", "}}", '\\"', "'", "$(", "`", ";", "日本語", "%PATH%", "${HOME}"):
        assert hostile in text, hostile
    assert max(len(name) for name in names) >= 300
    assert all(item.renderable for item in export.render_queue)
    assert all(p.startswith("/tmp/stmpo-demo/") for p in paths)


def test_forty_items() -> None:
    export = load("forty_items.json")
    assert len(export.renderable_items) == 40
    assert len({item.index for item in export.render_queue}) == 40
