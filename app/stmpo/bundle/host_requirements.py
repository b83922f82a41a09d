"""`--host-requirements FILE`: an OpenJD `hostRequirements` object, read and checked.

The file replaces the default requirement (Windows or macOS workers) on every step, so a
mistake in it would keep a job off every worker, or let it onto Linux ones; it is checked
with openjd-model exactly as the step it lands in will be, before anything is built, and
every problem names the flag. Reading is bounded like every other input (a regular file,
at most `MAX_FILE_BYTES`, no YAML aliases, JSON nesting capped).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from stmpo.errors import Problem, StmpoError
from stmpo.yaml_text import load_yaml

FLAG = "--host-requirements"
#: A host requirements object is a few hundred bytes; OpenJD allows at most 50
#: attributes/amounts of a few KB each. 1 MiB is generous and still bounded.
MAX_FILE_BYTES = 1 << 20
_STEP_PREFIX = "steps[0] -> hostRequirements -> "


def _refuse(message: str) -> StmpoError:
    return StmpoError([Problem(FLAG, message)])


def _read(path: Path) -> str:
    try:
        if not path.is_file():
            raise _refuse(f"{path}: not a file")
        with open(path, "rb") as fh:
            raw = fh.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise _refuse(f"{path}: {exc.strerror or exc}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise _refuse(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _refuse(f"{path}: not UTF-8 text") from None


def _parse(path: Path, text: str) -> Any:
    from stmpo.json_depth import MAX_JSON_DEPTH, too_deep

    if text.lstrip().startswith(("{", "[")):
        if too_deep(text) is not None:
            raise _refuse(f"{path}: nested more than {MAX_JSON_DEPTH} levels deep")
        try:
            return json.loads(text)
        except ValueError as exc:
            raise _refuse(f"{path}: not JSON: {exc}") from None
    try:
        return load_yaml(text)
    except yaml.YAMLError as exc:
        raise _refuse(f"{path}: not YAML: {' '.join(str(exc).split())}") from None


def check_host_requirements(data: Any, shown: str) -> dict[str, Any]:
    """`data` if it is a valid OpenJD 2023-09 `hostRequirements` object, else StmpoError
    naming the flag and each field at fault (`shown` names the file)."""
    from openjd.model import DecodeValidationError, decode_job_template

    if not isinstance(data, dict):
        raise _refuse(
            f"{shown}: expected an OpenJD hostRequirements object "
            "({attributes: [...], amounts: [...]})"
        )
    template = {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "host requirements check",
        "steps": [
            {
                "name": "check",
                "hostRequirements": data,
                "script": {"actions": {"onRun": {"command": "check"}}},
            }
        ],
    }
    try:
        decode_job_template(template=template)
    except DecodeValidationError as exc:
        lines = [line.strip() for line in str(exc).splitlines()[1:] if line.strip()]
        # openjd-model prints "where:" then the reason on the next line: pair them up.
        pairs = [
            f"{lines[i].removeprefix(_STEP_PREFIX).rstrip(':')}: {lines[i + 1]}"
            if i + 1 < len(lines)
            else lines[i]
            for i in range(0, len(lines), 2)
        ]
        raise StmpoError(
            [Problem(FLAG, f"{shown}: {pair}") for pair in pairs]
            or [Problem(FLAG, f"{shown}: not a valid hostRequirements object")]
        ) from None
    return data


def load_host_requirements(path: str | Path) -> dict[str, Any]:
    """The `hostRequirements` object in a YAML or JSON file; StmpoError naming the flag."""
    path = Path(path)
    return check_host_requirements(_parse(path, _read(path)), str(path))
