"""The committed JSON Schema is the one the model generates, and the samples follow it.

Exporters outside Python (the ExtendScript bridge, a studio's own tools) validate against
`resources/stmpo-ae-export.schema.json`, so it must not drift from the loader's model.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from stmpo.commands.schema import committed_schema_path, schema_text
from stmpo.locations import sample_exports

REGENERATE = "stmpo schema -o resources/stmpo-ae-export.schema.json"
SAMPLES = sample_exports()
MALFORMED = Path(__file__).parent / "data" / "malformed"


def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(committed_schema_path().read_text("utf-8"))
    return loaded


def test_committed_schema_is_current() -> None:
    committed = committed_schema_path().read_text("utf-8")
    assert committed == schema_text(), (
        "resources/stmpo-ae-export.schema.json is out of date with app/stmpo/export/model.py; "
        f"regenerate it with `{REGENERATE}` and commit it"
    )


def test_committed_schema_is_a_valid_2020_12_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_sample_follows_the_schema(path: Path) -> None:
    validator = jsonschema.Draft202012Validator(schema())
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(json.loads(path.read_text("utf-8")))
    ]
    assert errors == []


# Type and shape mistakes the schema itself catches (cross-field rules such as end before
# start or duplicate indexes are beyond JSON Schema and live in the loader only).
SCHEMA_CATCHES = [
    "other_format.json",
    "version_as_string.json",
    "missing_comp.json",
    "missing_frames.json",
    "index_as_string.json",
    "index_as_boolean.json",
    "index_fraction.json",
    "frame_rate_string.json",
    "frame_beyond_1e9.json",
    "step_zero.json",
    "wrong_status_name.json",
    "wrong_host_os.json",
    "output_module_without_path.json",
    "output_module_kind_unknown.json",
    "font_without_postscript_name.json",
    "snake_case_keys.json",
    "render_frame_rate_string.json",
    "skip_existing_files_string.json",
    "use_comp_frame_number_integer.json",
    "starting_number_negative.json",
    "starting_number_fraction.json",
    "starting_number_beyond_1e9.json",
    "footage_proxy_string.json",
]


@pytest.mark.parametrize("name", SCHEMA_CATCHES)
def test_schema_rejects_type_mistakes(name: str) -> None:
    document = json.loads((MALFORMED / name).read_text("utf-8"))
    assert not jsonschema.Draft202012Validator(schema()).is_valid(document)
