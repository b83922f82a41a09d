"""Open Job Description validation with openjd-model, before a bundle is written and after.

`decode_job_template` checks the template's shape and format strings; `create_job` with
the actual parameter values catches what only shows up at job creation (a value outside
its range, a task parameter range too long, a name too long once resolved). A bundle
directory is also read the way the deadline library reads it, so a bundle we accept is
one the submitter accepts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from stmpo.bundle.parameters import coerce_value
from stmpo.errors import BundleError, Problem
from stmpo.yaml_text import load_yaml

RENDER_SCRIPT = Path("scripts") / "stmpo_render.py"
#: CreateJob's `template` is at most 1,000,000 characters (botocore's Deadline model).
MAX_TEMPLATE_CHARS = 1_000_000
#: A bundle file read beyond this is not one we wrote (the template is capped above,
#: asset references of 100,000 files stay well below).
MAX_DOCUMENT_BYTES = 64 << 20


def _problems_from(exc: Exception, where: str) -> list[Problem]:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return [Problem(where, type(exc).__name__)]
    return [Problem(where, " ".join(lines))]


def job_parameter_inputs(
    template: Mapping[str, Any], parameter_values: Iterable[Mapping[str, Any]]
) -> dict[str, str]:
    """The values that belong to the template's own parameters, as OpenJD input strings.

    Queue parameters and `deadline:*` settings share parameter_values.yaml; they are not
    the template's business and are left out.
    """
    names = {d.get("name") for d in template.get("parameterDefinitions", []) or []}
    inputs: dict[str, str] = {}
    for entry in parameter_values:
        name, value = entry.get("name"), entry.get("value")
        if name in names and value is not None:
            inputs[str(name)] = value if isinstance(value, str) else json.dumps(value)
    return inputs


def _value_problems(template: Mapping[str, Any], inputs: Mapping[str, str]) -> list[Problem]:
    """Check values against their definitions ourselves: openjd-model 0.13 skips a
    `minValue`/`maxValue` of 0 (`if self.minValue and ...`), so Concurrency=-4 passes it."""
    definitions = {
        d.get("name"): d
        for d in template.get("parameterDefinitions", []) or []
        if isinstance(d, Mapping)
    }
    problems: list[Problem] = []
    for name, text in inputs.items():
        definition = definitions.get(name)
        if definition is None or definition.get("type") not in ("INT", "FLOAT", "STRING", "PATH"):
            continue
        try:
            coerce_value(definition, text)
        except (ValueError, KeyError, TypeError) as exc:
            problems.append(Problem(f"parameter {name}", str(exc)))
    return problems


def validate_template(
    template: Mapping[str, Any],
    parameter_values: Iterable[Mapping[str, Any]],
    template_dir: Path,
) -> None:
    """Raise BundleError unless the template decodes and a job can be created from it."""
    from openjd.model import (
        DecodeValidationError,
        create_job,
        decode_job_template,
        preprocess_job_parameters,
    )

    try:
        job_template = decode_job_template(template=dict(template))
    except DecodeValidationError as exc:
        raise BundleError(_problems_from(exc, "template")) from None
    inputs = job_parameter_inputs(template, parameter_values)
    problems = _value_problems(template, inputs)
    if problems:
        raise BundleError(problems)
    try:
        values = preprocess_job_parameters(
            job_template=job_template,
            job_parameter_values=inputs,
            job_template_dir=template_dir.absolute(),
            current_working_dir=template_dir.absolute(),
        )
        create_job(job_template=job_template, job_parameter_values=values)
    except (DecodeValidationError, ValueError) as exc:
        raise BundleError(_problems_from(exc, "job parameters")) from None


def read_bundle_text(path: Path) -> str:
    """The file as text, read with a cap: its size says nothing for a FIFO or a device."""
    with open(path, "rb") as fh:
        raw = fh.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise BundleError(
            [
                Problem(
                    path.name, f"larger than {MAX_DOCUMENT_BYTES >> 20} MiB: not a job bundle file"
                )
            ]
        )
    return raw.decode("utf-8")


def load_bundle_json(path: Path, text: str) -> Any:
    from stmpo.export.loader import json_path
    from stmpo.json_depth import MAX_JSON_DEPTH, too_deep

    deep = too_deep(text)
    if deep is not None:
        where = json_path(deep.loc)
        raise BundleError(
            [
                Problem(
                    f"{path.name}: {where}",
                    f"nested more than {MAX_JSON_DEPTH} levels deep "
                    f"(line {deep.line} column {deep.column})",
                )
            ]
        )
    return json.loads(text)


def _read_document(bundle: Path, stem: str, *, required: bool) -> Any:
    for suffix in (".yaml", ".json"):
        path = bundle / f"{stem}{suffix}"
        if not path.is_file():
            continue
        try:
            text = read_bundle_text(path)
            if suffix == ".json":
                return load_bundle_json(path, text)
            return load_yaml(text)
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            raise BundleError(_problems_from(exc, path.name)) from None
    if required:
        raise BundleError([Problem(f"{stem}.yaml", "missing from the bundle")])
    return None


def read_template(bundle: str | Path) -> dict[str, Any]:
    """The bundle's template as a dict (after `validate_bundle_dir` accepted it)."""
    template = _read_document(Path(bundle), "template", required=True)
    return template if isinstance(template, dict) else {}


def _deadline_reads(bundle: Path) -> list[Problem]:
    """The deadline library's own reading of the bundle (parameter UI, PATH defaults)."""
    from deadline.client.exceptions import DeadlineOperationError
    from deadline.client.job_bundle.parameters import read_job_bundle_parameters

    try:
        read_job_bundle_parameters(str(bundle))
    except (DeadlineOperationError, ValueError, TypeError, KeyError) as exc:
        return _problems_from(exc, "deadline")
    return []


def _template_size_problems(bundle: Path, limit: int) -> list[Problem]:
    for name in ("template.yaml", "template.json"):
        path = bundle / name
        if path.is_file():
            try:
                size = len(read_bundle_text(path))
            except (OSError, UnicodeDecodeError):
                return []  # reading it again for the template says what is wrong
            if size > limit:
                return [
                    Problem(
                        name,
                        f"{size:,} characters; Deadline Cloud accepts at most {limit:,}: "
                        "use a larger ChunkSize or fewer items per job",
                    )
                ]
    return []


def validate_bundle_dir(path: str | Path, *, max_template_chars: int = MAX_TEMPLATE_CHARS) -> None:
    """Re-check a written bundle: files present, template valid with its values, small
    enough for CreateJob, and readable by the deadline library."""
    bundle = Path(path)
    if not bundle.is_dir():
        raise BundleError([Problem(str(bundle), "is not a folder")])
    # Too large for CreateJob: say so before the slow part (openjd-model's checks take
    # seconds for thousands of steps) and before parsing what cannot be submitted anyway.
    problems: list[Problem] = _template_size_problems(bundle, max_template_chars)
    if problems:
        raise BundleError(problems, source=str(bundle))
    template = _read_document(bundle, "template", required=True)
    if not isinstance(template, dict):
        raise BundleError([Problem("template.yaml", "must hold a mapping")])
    values_doc = _read_document(bundle, "parameter_values", required=False) or {}
    values = values_doc.get("parameterValues", []) if isinstance(values_doc, dict) else None
    if not isinstance(values, list) or not all(
        isinstance(v, dict) and "name" in v and "value" in v for v in values
    ):
        problems.append(
            Problem("parameter_values.yaml", "parameterValues must be a list of {name, value}")
        )
        values = []
    assets = _read_document(bundle, "asset_references", required=False)
    if assets is not None and not (
        isinstance(assets, dict) and isinstance(assets.get("assetReferences"), dict)
    ):
        problems.append(Problem("asset_references.yaml", "must hold assetReferences"))
    if not (bundle / RENDER_SCRIPT).is_file():
        problems.append(Problem(str(RENDER_SCRIPT), "the worker entry point is missing"))
    if not (bundle / "scripts" / "stmpo_worker" / "__init__.py").is_file():
        problems.append(Problem("scripts/stmpo_worker", "the worker package is missing"))
    try:
        validate_template(template, values, bundle)
    except BundleError as exc:
        problems += exc.problems
    if not problems:
        problems += _deadline_reads(bundle)
    if problems:
        raise BundleError(problems, source=str(bundle))
