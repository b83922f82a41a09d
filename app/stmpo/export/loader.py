"""Load an export file and report every problem at once with its JSON path.

pydantic finds type and range errors; the checks that span fields (end before start,
duplicate indexes, relative paths, a renderable item with no output module) run on the
raw JSON so they are reported together with the type errors rather than after them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from stmpo.errors import ExportError, Problem
from stmpo.export.model import FORMAT_NAME, FORMAT_VERSION, Export, is_absolute_path

MAX_EXPORT_BYTES = 64 * 1024 * 1024


def json_path(loc: Sequence[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def _item_label(data: Any, loc: Sequence[str | int]) -> str:
    """`renderQueue[3] (item 4)`: readers think in render queue indexes, not array slots."""
    text = json_path(loc)
    if len(loc) >= 2 and loc[0] == "renderQueue" and isinstance(loc[1], int):
        try:
            index = data["renderQueue"][loc[1]]["index"]
        except (KeyError, IndexError, TypeError):
            return text
        if isinstance(index, int) and not isinstance(index, bool):
            prefix = f"renderQueue[{loc[1]}]"
            return f"{prefix} (item {index}){text[len(prefix) :]}"
    return text


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a number JSON allows")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f'duplicate key "{key}"')
        result[key] = value
    return result


def decode_json(raw: bytes, source: str) -> Any:
    if not raw.strip():
        raise ExportError([Problem("", "the file is empty")], source=source)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            [Problem("", f"not UTF-8 text (byte {exc.start} is 0x{raw[exc.start]:02x})")],
            source=source,
        ) from None
    try:
        return json.loads(
            text, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise ExportError(
            [Problem("", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")],
            source=source,
        ) from None
    except ValueError as exc:
        raise ExportError([Problem("", f"not valid JSON: {exc}")], source=source) from None


def _pydantic_message(error: Mapping[str, Any]) -> str:
    kind = error.get("type", "")
    value = error.get("input")
    shown = json.dumps(value, ensure_ascii=False)[:80] if value is not None else "null"
    if kind == "missing":
        return "is required but missing"
    if kind in ("int_type", "int_from_float", "int_parsing"):
        return f"must be a whole number (JSON integer), got {shown}"
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, got {shown}"
    if kind in ("string_type",):
        return f"must be a string, got {shown}"
    if kind in ("bool_type", "bool_parsing"):
        return f"must be true or false, got {shown}"
    if kind in ("list_type",):
        return f"must be a list, got {shown}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be an object, got {shown}"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"must be one of {expected}, got {shown}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        ctx = error.get("ctx", {})
        bound = next(iter(ctx.values()), "")
        word = {
            "greater_than_equal": "at least",
            "less_than_equal": "at most",
            "greater_than": "above",
            "less_than": "below",
        }[kind]
        return f"must be {word} {bound}, got {shown}"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error.get("msg", "")))
    return str(error.get("msg", "is not valid"))


def _cross_field_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Checks that need more than one field; tolerant of wrong types (pydantic reports those)."""
    problems: list[Problem] = []
    host = data.get("host")
    os_name = host.get("os") if isinstance(host, Mapping) else None
    os_name = os_name if os_name in ("windows", "macos", "linux") else None

    project = data.get("project")
    if isinstance(project, Mapping):
        path = project.get("path")
        if isinstance(path, str) and path and not is_absolute_path(path, os_name):
            where = f" on {os_name}" if os_name else ""
            problems.append(Problem("project.path", f'"{path}" is not an absolute path{where}'))

    queue = data.get("renderQueue")
    if not isinstance(queue, list):
        return problems
    seen: dict[int, int] = {}
    for pos, item in enumerate(queue):
        if not isinstance(item, Mapping):
            continue
        where = _item_label(data, ["renderQueue", pos])
        index = item.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            if index in seen:
                problems.append(
                    Problem(
                        f"{where}.index",
                        f"render queue index {index} is used twice "
                        f"(also at renderQueue[{seen[index]}])",
                    )
                )
            else:
                seen[index] = pos
        frames = item.get("frames")
        if isinstance(frames, Mapping):
            start, end = frames.get("start"), frames.get("end")
            if (
                isinstance(start, int)
                and isinstance(end, int)
                and not isinstance(start, bool)
                and not isinstance(end, bool)
                and end < start
            ):
                problems.append(Problem(f"{where}.frames.end", f"{end} is before start {start}"))
        modules = item.get("outputModules")
        render = item.get("render", True)
        status = item.get("status")
        if (
            render is True
            and status in (None, "QUEUED")
            and (modules is None or (isinstance(modules, list) and not modules))
        ):
            problems.append(
                Problem(
                    f"{where}.outputModules",
                    "the item is set to render but has no output module",
                )
            )
        if isinstance(modules, list):
            om_seen: set[int] = set()
            for om_pos, module in enumerate(modules):
                if not isinstance(module, Mapping):
                    continue
                om_where = f"{where}.outputModules[{om_pos}]"
                om_index = module.get("index")
                if isinstance(om_index, int) and not isinstance(om_index, bool):
                    if om_index in om_seen:
                        problems.append(
                            Problem(
                                f"{om_where}.index", f"output module index {om_index} is used twice"
                            )
                        )
                    om_seen.add(om_index)
                om_path = module.get("path")
                if isinstance(om_path, str) and not is_absolute_path(om_path, os_name):
                    problems.append(
                        Problem(f"{om_where}.path", f'"{om_path}" is not an absolute path')
                    )
    return problems


def parse_export(data: Any, source: str = "") -> Export:
    """Validate decoded JSON; raise ExportError listing every problem."""
    if not isinstance(data, Mapping):
        kind = type(data).__name__ if data is not None else "null"
        raise ExportError(
            [Problem("", f"the top level must be a JSON object, got {kind}")], source=source
        )
    fmt = data.get("format")
    if fmt != FORMAT_NAME:
        shown = json.dumps(fmt) if fmt is not None else "missing"
        raise ExportError(
            [Problem("format", f"this is not a {FORMAT_NAME} file (format is {shown})")],
            source=source,
        )
    version = data.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise ExportError(
            [
                Problem(
                    "version",
                    f"version {version} is newer than this submitter reads "
                    f"(up to {FORMAT_VERSION}); update stmpo-ae",
                )
            ],
            source=source,
        )

    problems: list[Problem] = []
    model: Export | None = None
    try:
        model = Export.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [
                part
                for part in error["loc"]
                if not isinstance(part, str) or not part.startswith("function-")
            ]
            problems.append(Problem(_item_label(data, loc), _pydantic_message(error)))
    problems += _cross_field_problems(data)
    if problems:
        unique = list(dict.fromkeys(problems))
        raise ExportError(unique, source=source)
    assert model is not None
    return model


def load_export(path: str | Path) -> Export:
    """Read and validate an export file. Raises ExportError (never a bare traceback)."""
    file = Path(path)
    source = str(path)
    try:
        if file.stat().st_size > MAX_EXPORT_BYTES:
            raise ExportError([Problem("", "the file is larger than 64 MiB")], source=source)
        raw = file.read_bytes()
    except FileNotFoundError:
        raise ExportError([Problem("", "no such file")], source=source) from None
    except IsADirectoryError:
        raise ExportError([Problem("", "is a folder, not an export file")], source=source) from None
    except OSError as exc:
        raise ExportError([Problem("", f"cannot read: {exc.strerror}")], source=source) from None
    return parse_export(decode_json(raw, source), source=source)
