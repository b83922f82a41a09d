"""The export loader refuses bad input with every problem and its JSON path, never a traceback.

`tests/data/malformed/` holds one broken export per file; `expected.json` maps each file to
the substrings (JSON paths, offending values) its message must contain. Each is checked
through the real `stmpo validate-export` command in a subprocess, as an artist would run it.
"""

from __future__ import annotations

import copy
import json
import math
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stmpo.commands.validate_export import summary
from stmpo.errors import ExportError
from stmpo.export import load_export, parse_export
from stmpo.locations import examples_dir

MALFORMED = Path(__file__).parent / "data" / "malformed"
EXPECTED: dict[str, list[str]] = json.loads((MALFORMED / "expected.json").read_text("utf-8"))
SAMPLE = examples_dir() / "image_sequence.json"


def validate_export(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stmpo", "validate-export", str(path)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def sample() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(SAMPLE.read_text("utf-8"))
    return data


def test_the_corpus_is_complete() -> None:
    """Every file has expectations and every expectation has a file, so none is silently skipped."""
    files = {p.name for p in MALFORMED.iterdir() if p.name != "expected.json"}
    assert files == set(EXPECTED)
    assert len(files) >= 30
    assert all(EXPECTED.values()), "each file must name at least one expected substring"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_malformed_export_is_refused_with_its_path(name: str) -> None:
    result = validate_export(MALFORMED / name)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith(f"stmpo validate-export: {MALFORMED / name}: ")
    missing = [text for text in EXPECTED[name] if text not in result.stderr]
    assert not missing, f"{missing} not in:\n{result.stderr}"


def test_good_export_prints_a_summary_and_exits_0() -> None:
    result = validate_export(SAMPLE)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == (
        f"{SAMPLE}: OK, spot_v012.aep: 1 render queue item (1 renderable, 48 frames), "
        "1 output module, 0 fonts\n"
    )


@pytest.mark.parametrize("make", ["missing", "folder"])
def test_unreadable_path_is_refused(tmp_path: Path, make: str) -> None:
    target = tmp_path / "export.json"
    if make == "folder":
        target.mkdir()
    result = validate_export(target)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert ("no such file" if make == "missing" else "is a folder") in result.stderr


def test_all_problems_are_reported_at_once_in_document_order() -> None:
    with pytest.raises(ExportError) as caught:
        load_export(MALFORMED / "several_errors.json")
    assert [p.where for p in caught.value.problems] == [
        "host.os",
        "project.path",
        "renderQueue[0] (item 1).comp.frameRate",
        "renderQueue[1] (item 2).frames.end",
        "renderQueue[1] (item 2).outputModules",
        "fonts[0].postScriptName",
        "warnings[0]",
    ]


def test_type_errors_and_cross_field_errors_come_together() -> None:
    """A broken type in one item does not hide end-before-start in another."""
    data = sample()
    second = copy.deepcopy(data["renderQueue"][0])
    second["index"] = 2
    second["frames"] = {"start": 9, "end": 3}
    data["renderQueue"][0]["comp"]["frameRate"] = "fast"
    data["renderQueue"].append(second)
    with pytest.raises(ExportError) as caught:
        parse_export(data, "two.json")
    assert [str(p) for p in caught.value.problems] == [
        'renderQueue[0] (item 1).comp.frameRate: must be a number, got "fast"',
        "renderQueue[1] (item 2).frames.end: 3 is before start 9",
    ]
    assert caught.value.render().startswith("two.json: 2 problems:\n  - ")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    with_bom = tmp_path / "bom.json"
    with_bom.write_bytes(b"\xef\xbb\xbf" + SAMPLE.read_bytes())
    assert load_export(with_bom) == load_export(SAMPLE)
    assert validate_export(with_bom).returncode == 0


def test_unknown_fields_are_kept_and_ignored(tmp_path: Path) -> None:
    data = sample()
    data["futureTopLevel"] = {"anything": [1, 2]}
    data["renderQueue"][0]["priority"] = 50
    data["renderQueue"][0]["comp"]["motionBlur"] = True
    data["renderQueue"][0]["outputModules"][0]["colorProfile"] = "sRGB"
    path = tmp_path / "newer_exporter.json"
    path.write_text(json.dumps(data), "utf-8")

    export = load_export(path)
    plain = load_export(SAMPLE)
    item = export.render_queue[0]
    assert export.model_extra == {"futureTopLevel": {"anything": [1, 2]}}
    assert item.model_extra == {"priority": 50}
    assert item.comp.model_extra == {"motionBlur": True}
    assert item.output_modules[0].model_extra == {"colorProfile": "sRGB"}
    # Ignored: everything the model knows is the same as without them.
    assert item.frames == plain.render_queue[0].frames
    assert item.comp.name == plain.render_queue[0].comp.name
    assert export.renderable_items[0].index == plain.renderable_items[0].index
    assert validate_export(path).returncode == 0


def test_snake_case_names_are_not_read_as_fields() -> None:
    """The contract is camelCase; a snake_case key must not silently stand in for one."""
    data = sample()
    data["renderQueue"][0]["output_modules"] = data["renderQueue"][0].pop("outputModules")
    with pytest.raises(ExportError) as caught:
        parse_export(data)
    assert [str(p) for p in caught.value.problems] == [
        "renderQueue[0] (item 1).outputModules: the item is set to render but has no output "
        "module (add one in After Effects, or uncheck the item)"
    ]


def test_non_finite_floats_from_python_callers_are_reported_by_path() -> None:
    """The GUI or the .aep reader may hand parse_export a dict holding float('nan')."""
    data = sample()
    data["renderQueue"][0]["comp"]["frameRate"] = math.nan
    data["renderQueue"][0]["comp"]["duration"] = math.inf
    with pytest.raises(ExportError) as caught:
        parse_export(data)
    assert [p.where for p in caught.value.problems] == [
        "renderQueue[0] (item 1).comp.frameRate",
        "renderQueue[0] (item 1).comp.duration",
    ]
    assert all("finite" in p.message for p in caught.value.problems)


def test_duplicate_key_does_not_hide_other_problems(tmp_path: Path) -> None:
    text = SAMPLE.read_text("utf-8").replace('"step": 1}', '"step": 0, "step": 1}')
    text = text.replace('"os": "linux"', '"os": "beos"')
    path = tmp_path / "dup.json"
    path.write_text(text, "utf-8")
    with pytest.raises(ExportError) as caught:
        load_export(path)
    assert [str(p) for p in caught.value.problems] == [
        "host.os: must be one of 'windows', 'macos' or 'linux', got \"beos\"",
        'renderQueue[0] (item 1).frames.step: the key "step" appears more than once in this object',
    ]


def test_summary_counts_what_would_be_rendered() -> None:
    data = sample()
    unchecked = copy.deepcopy(data["renderQueue"][0])
    unchecked.update(index=2, render=False)
    data["renderQueue"].append(unchecked)
    data["warnings"] = ["a font is missing"]
    assert summary(parse_export(data)) == (
        "spot_v012.aep: 2 render queue items (1 renderable, 48 frames), 2 output modules, "
        "0 fonts, 1 warning"
    )


# --- robustness: whatever a broken exporter writes, the answer is an Export or ExportError --

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**12), max_value=10**12)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for pos, value in enumerate(node):
            found += _paths(value, (*here, pos))
    return found


BASE = sample()
PATHS = _paths(BASE)[1:]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(where=st.lists(st.sampled_from(PATHS), min_size=1, max_size=3), values=st.data())
def test_any_replaced_value_gives_an_export_or_an_export_error(
    where: list[tuple[Any, ...]], values: st.DataObject
) -> None:
    data = copy.deepcopy(BASE)
    for path in where:
        node: Any = data
        try:
            for part in path[:-1]:
                node = node[part]
            node[path[-1]] = values.draw(JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier replacement removed this path
    try:
        parse_export(data, "fuzz.json")
    except ExportError as exc:
        assert exc.problems
        assert all(p.message for p in exc.problems)


def test_several_exports_are_all_checked_and_any_bad_one_fails_the_run(tmp_path: Path) -> None:
    good = examples_dir() / "image_sequence.json"
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "stmpo-ae-export", "version": 1}', encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", "validate-export", str(bad), str(good)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert f"{good}: OK" in result.stdout
    assert "renderQueue" in result.stderr and "1 of 2 exports have problems" in result.stderr
    assert "Traceback" not in result.stderr
