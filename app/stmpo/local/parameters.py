"""Job parameter values for a local run: template defaults < parameter_values < `-p`.

The same layering the `deadline` CLI applies when it submits a bundle, so a bundle that
runs here with no `-p` runs with the values the farm would get. Problems are reported
against the layer the bad value came from (`-p Name`, the parameter_values file), since
that is what the user has to edit.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from openjd.model import (
    DecodeValidationError,
    Job,
    JobParameterValues,
    JobTemplate,
    create_job_with_symbol_tables,
    decode_job_template,
    preprocess_job_parameters,
)
from openjd.model.v2023_09 import ExtensionName

from stmpo.errors import Problem, StmpoError
from stmpo.yaml_text import load_yaml

SUPPORTED_EXTENSIONS: tuple[str, ...] = tuple(e.value for e in ExtensionName)
"""Every extension openjd-model implements: a local run should accept any valid bundle."""

_TEMPLATE_NAMES = ("template.yaml", "template.yml", "template.json")
_VALUES_NAMES = ("parameter_values.yaml", "parameter_values.yml", "parameter_values.json")


class LocalRunError(StmpoError):
    """The bundle or the parameter values cannot be turned into a job to run."""


@dataclass(frozen=True)
class Bundle:
    """A job bundle as read from disk: the decoded template and its stored values."""

    directory: Path
    template: JobTemplate
    template_file: Path
    values_file: Path | None
    stored_values: dict[str, Any]
    """parameter_values entries for parameters the template defines (queue and
    `deadline:` values are the farm's business and are dropped here)."""


@dataclass(frozen=True)
class PreparedJob:
    """A job instantiated from a bundle with its final parameter values."""

    job: Job
    parameter_values: JobParameterValues
    step_symbol_tables: Mapping[str, Any]


def _find(directory: Path, names: Sequence[str]) -> Path | None:
    for name in names:
        if (directory / name).is_file():
            return directory / name
    return None


def _load_document(path: Path) -> Any:
    """Read with the same bounds as `stmpo validate` (a byte cap, JSON nesting, YAML
    without aliases), so a bundle that could hang or crash one cannot the other."""
    from stmpo.bundle.validate import load_bundle_json, read_bundle_text

    try:
        text = read_bundle_text(path)
    except UnicodeDecodeError as exc:
        raise LocalRunError([Problem(str(path), f"not UTF-8 text: {exc}")]) from exc
    try:
        return load_bundle_json(path, text) if path.suffix == ".json" else load_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        kind = path.suffix[1:].upper()
        raise LocalRunError([Problem(str(path), f"not valid {kind}: {exc}")]) from exc


def read_bundle(directory: Path) -> Bundle:
    """Read and decode a bundle's template and stored parameter values."""
    if not directory.is_dir():
        raise LocalRunError([Problem(str(directory), "not a job bundle directory")])
    template_file = _find(directory, _TEMPLATE_NAMES)
    if template_file is None:
        raise LocalRunError(
            [Problem(str(directory), "no template.yaml or template.json: not a job bundle")]
        )
    document = _load_document(template_file)
    if not isinstance(document, dict):
        raise LocalRunError([Problem(str(template_file), "the template is not a mapping")])
    try:
        template = decode_job_template(
            template=document, supported_extensions=list(SUPPORTED_EXTENSIONS)
        )
    except DecodeValidationError as exc:
        raise LocalRunError([Problem(str(template_file), str(exc))]) from exc
    values_file = _find(directory, _VALUES_NAMES)
    stored: dict[str, Any] = {}
    if values_file is not None:
        stored = stored_parameter_values(_load_document(values_file), values_file)
    defined = {p.name for p in template.parameterDefinitions or []}
    return Bundle(
        directory=directory,
        template=template,
        template_file=template_file,
        values_file=values_file,
        stored_values={k: v for k, v in stored.items() if k in defined},
    )


def stored_parameter_values(document: Any, source: Path) -> dict[str, Any]:
    """The `parameterValues: [{name, value}]` list of a parameter_values file as a dict."""
    if document is None:
        return {}
    entries = document.get("parameterValues") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise LocalRunError([Problem(f"{source}: parameterValues", "expected a list")])
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            problems.append(Problem(f"{source}: parameterValues[{i}]", "expected {name, value}"))
            continue
        values[entry["name"]] = entry.get("value")
    if problems:
        raise LocalRunError(problems)
    return values


def _path_parameters(template: JobTemplate) -> set[str]:
    return {p.name for p in template.parameterDefinitions or [] if str(p.type.value) == "PATH"}


def layered_values(
    template: JobTemplate,
    stored: Mapping[str, Any],
    overrides: Mapping[str, str],
    *,
    bundle_dir: Path,
) -> tuple[dict[str, str], dict[str, str]]:
    """Merge stored values and `-p` overrides; returns (values, origin of each value).

    Stored relative PATH values are made absolute against the bundle directory, because
    the file lives there; `-p` values are left for openjd-model to resolve against the
    current directory, where the user typed them. Template defaults are not filled in
    here: openjd-model does that and resolves relative PATH defaults against the bundle.
    """
    defined = {p.name for p in template.parameterDefinitions or []}
    unknown = [name for name in overrides if name not in defined]
    if unknown:
        known = ", ".join(sorted(defined)) or "(none)"
        raise LocalRunError(
            [
                Problem(f"-p {name}", f"no such job parameter; the template defines: {known}")
                for name in unknown
            ]
        )
    paths = _path_parameters(template)
    values: dict[str, str] = {}
    origin: dict[str, str] = {}
    for name, value in stored.items():
        if value is None:
            continue
        text = str(value)
        if name in paths and text and not os.path.isabs(text) and not _is_uri(text):
            text = os.path.normpath(os.path.join(bundle_dir.resolve(), text))
        values[name] = text
        origin[name] = "parameter_values"
    for name, value in overrides.items():
        values[name] = value
        origin[name] = "-p"
    return values, origin


def _is_uri(text: str) -> bool:
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]+://", text) is not None


def _attribute(message: str, origin: Mapping[str, str], values_file: Path | None) -> list[Problem]:
    """Split openjd-model's multi-line error and tie each line to the value's source."""
    problems: list[Problem] = []
    for line in filter(None, (part.strip() for part in message.splitlines())):
        where = ""
        for name, source in origin.items():
            if re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", line):
                where = (
                    f"-p {name}"
                    if source == "-p"
                    else f"{values_file.name if values_file else 'parameter_values'}: {name}"
                )
                break
        problems.append(Problem(where or "job parameters", line))
    return problems


def bound_problems(
    template: JobTemplate,
    values: Mapping[str, str],
    origin: Mapping[str, str],
    values_file: Path | None,
) -> list[Problem]:
    """minValue/maxValue of INT and FLOAT parameters.

    openjd-model 0.13 tests `if self.minValue and ...`, so a bound of 0 is never
    enforced: `-p Concurrency=-3` would pass although the template says minValue 0.
    """
    problems: list[Problem] = []
    for definition in template.parameterDefinitions or []:
        kind = str(definition.type.value)
        if kind not in ("INT", "FLOAT") or definition.name not in values:
            continue
        try:
            number = float(values[definition.name])
        except ValueError:
            continue  # openjd-model reports values that are not numbers
        low = getattr(definition, "minValue", None)
        high = getattr(definition, "maxValue", None)
        message = ""
        if low is not None and number < float(low):
            message = f"must be at least {low}, got {values[definition.name]}"
        elif high is not None and number > float(high):
            message = f"must be at most {high}, got {values[definition.name]}"
        if message:
            problems += _attribute(
                f"{definition.name} {message}",
                {definition.name: origin[definition.name]},
                values_file,
            )
    return problems


def prepare_job(
    bundle: Bundle, overrides: Mapping[str, str], *, cwd: Path | None = None
) -> PreparedJob:
    """Instantiate the bundle's job with openjd-model, exactly as validation would."""
    values, origin = layered_values(
        bundle.template, bundle.stored_values, overrides, bundle_dir=bundle.directory
    )
    problems = bound_problems(bundle.template, values, origin, bundle.values_file)
    if problems:
        raise LocalRunError(problems)
    try:
        parameter_values = preprocess_job_parameters(
            job_template=bundle.template,
            job_parameter_values=values,
            job_template_dir=bundle.directory.resolve(),
            current_working_dir=(cwd or Path.cwd()).resolve(),
        )
    except ValueError as exc:
        raise LocalRunError(_attribute(str(exc), origin, bundle.values_file)) from exc
    try:
        created = create_job_with_symbol_tables(
            job_template=bundle.template, job_parameter_values=parameter_values
        )
    except (DecodeValidationError, ValueError) as exc:
        raise LocalRunError(_attribute(str(exc), origin, bundle.values_file)) from exc
    return PreparedJob(
        job=created.job,
        parameter_values=parameter_values,
        step_symbol_tables=dict(created.step_symbol_tables),
    )
