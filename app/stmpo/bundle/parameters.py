"""Job parameter definitions, and parsing of `-p Name=Value` against them.

The STMPO settings' definitions come from the worker's command-line table
(`stmpo_worker.contract.SETTINGS`), the others from `job_bundle/parameter_definitions.yaml`;
this module checks user values with the same constraints OpenJD will apply, so a bad
value is reported against the argument the user typed rather than as a template error.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from stmpo._worker_scripts.stmpo_worker.contract import SETTINGS, Setting
from stmpo.errors import BundleError, Problem
from stmpo.locations import job_bundle_dir
from stmpo.yaml_text import load_yaml

DEFINITIONS_FILE = "parameter_definitions.yaml"

#: Spellings accepted for the `true|false` check-box parameters.
_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


#: The project file dialog's filters (ProjectFile, the table's one "file" row).
_PROJECT_FILTERS = [
    {"label": "After Effects projects", "patterns": ["*.aep", "*.aepx"]},
    {"label": "All files", "patterns": ["*"]},
]


def definition_for(row: Setting) -> dict[str, Any]:
    """The OpenJD parameter definition of one row of the worker's table: its type,
    default, bounds and help are the row's, so the template cannot disagree with the
    worker's parser."""
    assert row.parameter is not None
    ui: dict[str, Any] = {"label": row.label, "groupLabel": row.group}
    definition: dict[str, Any] = {"name": row.parameter}
    if row.kind == "file":
        definition.update(type="PATH", objectType="FILE", dataFlow="IN")
        ui.update(control="CHOOSE_INPUT_FILE", fileFilters=copy.deepcopy(_PROJECT_FILTERS))
    elif row.kind == "bool":
        definition.update(type="STRING", default=str(row.default).lower())
        definition["allowedValues"] = ["true", "false"]
        ui["control"] = "CHECK_BOX"
    elif row.kind == "choice":
        definition.update(type="STRING", default=row.default, allowedValues=list(row.choices))
        ui["control"] = "DROPDOWN_LIST"
    elif row.kind == "int":
        definition.update(type="INT", default=row.default)
        definition.update(minValue=int(row.low or 0), maxValue=int(row.high or 0))
        ui["control"] = "SPIN_BOX"
    elif row.kind == "float":
        definition.update(type="FLOAT", default=float(row.default))
        definition.update(minValue=float(row.low or 0.0), maxValue=float(row.high or 0.0))
        ui.update(control="SPIN_BOX", decimals=row.decimals, singleStepDelta=row.step)
    else:
        definition.update(type="STRING", default=row.default, maxLength=1024)
        ui["control"] = "LINE_EDIT"
    definition["description"] = row.help
    definition["userInterface"] = ui
    return definition


@lru_cache(maxsize=1)
def _load_definitions() -> tuple[dict[str, Any], ...]:
    """The worker table's After Effects rows, the file's own parameters, then the
    table's STMPO rows: the order the submitter's dialog shows them in."""
    data = load_yaml((job_bundle_dir() / DEFINITIONS_FILE).read_text(encoding="utf-8"))
    rows = [row for row in SETTINGS if row.parameter is not None]
    first = [definition_for(row) for row in rows if row.group != "STMPO"]
    last = [definition_for(row) for row in rows if row.group == "STMPO"]
    return (*first, *data, *last)


def parameter_definitions() -> list[dict[str, Any]]:
    """A fresh copy of the template's `parameterDefinitions` (callers may mutate it)."""
    return copy.deepcopy(list(_load_definitions()))


def definitions_by_name() -> dict[str, dict[str, Any]]:
    return {d["name"]: d for d in parameter_definitions()}


def default_value(name: str) -> Any:
    return definitions_by_name()[name].get("default")


def _check_range(definition: Mapping[str, Any], value: float) -> str | None:
    low, high = definition.get("minValue"), definition.get("maxValue")
    if low is not None and value < low:
        return f"must be at least {low}, got {value:g}"
    if high is not None and value > high:
        return f"must be at most {high}, got {value:g}"
    return None


#: Numbers as people type them, in ASCII digits (a cap on length keeps int() cheap).
_INT_TEXT = re.compile(r"[-+]?[0-9]{1,18}")
_FLOAT_TEXT = re.compile(r"[-+]?([0-9]{1,18}(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]{1,3})?")


def coerce_value(definition: Mapping[str, Any], text: str) -> Any:
    """Convert a typed string to the parameter's type; raise ValueError with a plain reason."""
    kind = definition["type"]
    if kind == "INT":
        # ASCII digits only: Python's int() also reads `1_0` as 10 and `٢٠` as 20, which
        # nobody who typed them meant and the worker's parser would refuse.
        if not _INT_TEXT.fullmatch(text.strip()):
            raise ValueError(f'must be a whole number, got "{text}"')
        value: Any = int(text.strip(), 10)
        problem = _check_range(definition, value)
        if problem:
            raise ValueError(problem)
        return value
    if kind == "FLOAT":
        stripped = text.strip()
        if stripped.lower().lstrip("+-") in ("nan", "inf", "infinity"):
            raise ValueError(f'must be a finite number, got "{text}"')
        if not _FLOAT_TEXT.fullmatch(stripped):
            raise ValueError(f'must be a number, got "{text}"')
        number = float(stripped)
        if not math.isfinite(number):
            raise ValueError(f'must be a finite number, got "{text}"')
        problem = _check_range(definition, number)
        if problem:
            raise ValueError(problem)
        return number
    if kind in ("STRING", "PATH"):
        allowed = definition.get("allowedValues")
        if allowed is not None and set(allowed) == {"true", "false"}:
            lowered = text.strip().lower()
            if lowered in _TRUE:
                return "true"
            if lowered in _FALSE:
                return "false"
            raise ValueError(f'must be true or false, got "{text}"')
        if allowed is not None and text not in allowed:
            raise ValueError(f'must be one of {", ".join(allowed)}, got "{text}"')
        low = definition.get("minLength", 1 if kind == "PATH" else 0)
        high = definition.get("maxLength", 1024)
        if len(text) < low:
            raise ValueError("must not be empty")
        if len(text) > high:
            raise ValueError(f"must be at most {high} characters, got {len(text)}")
        if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in text):
            raise ValueError("must not contain control characters (line breaks, tabs...)")
        return text
    raise ValueError(f"has unsupported type {kind}")


def parse_parameter_values(values: Mapping[str, str]) -> dict[str, Any]:
    """Check user values against the definitions; every problem names `-p Name`."""
    definitions = definitions_by_name()
    parsed: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, text in values.items():
        where = f"-p {name}"
        definition = definitions.get(name)
        if definition is None:
            known = ", ".join(sorted(definitions))
            problems.append(Problem(where, f"unknown job parameter (known: {known})"))
            continue
        try:
            parsed[name] = coerce_value(definition, text)
        except ValueError as exc:
            problems.append(Problem(where, str(exc)))
            continue
        if name == "CacheRootPaths":  # what OpenJD cannot check: absolute, at most 8
            from stmpo.bundle.cache import roots_problem

            wrong = roots_problem(text)
            if wrong is not None:
                problems.append(wrong)
    if problems:
        raise BundleError(problems)
    return parsed
