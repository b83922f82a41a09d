"""Load an export file and report every problem at once with its JSON path.

Three passes, all reported together and sorted in document order so the list reads
top to bottom like the file:

1. JSON-level: duplicate keys, `NaN`/`Infinity` literals, numbers too large to be real.
   Python's `json` accepts all of these silently; here each is a problem at its path
   rather than a file-level refusal without a location.
2. pydantic: types and ranges.
3. Cross-field checks on the raw JSON (end before start, duplicate indexes, relative
   paths, a renderable item with no output module, control characters in paths and
   font fields), tolerant of wrong types so they run even when pass 2 failed.

JSON names are camelCase only: `render_queue` is an unknown (kept, ignored) field and
`renderQueue` is then reported missing, with a hint.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from pydantic import ValidationError

from stmpo._worker_scripts.stmpo_worker.logtext import escape, first_unsafe
from stmpo.errors import ExportError, Problem
from stmpo.export.model import (
    FORMAT_NAME,
    FORMAT_VERSION,
    Export,
    comp_frame_range,
    frames_far_outside,
    is_absolute_path,
)
from stmpo.json_depth import MAX_JSON_DEPTH, too_deep

MAX_EXPORT_BYTES = 64 * 1024 * 1024
#: Longer integer literals are out of any sane range (and Python refuses over 4300 digits).
MAX_INT_DIGITS = 20

Loc = tuple[str | int, ...]


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


# --- pass 1: decoding ------------------------------------------------------------------


@dataclass(frozen=True)
class _BadNumber:
    """A number JSON does not allow, or none could mean: stands in the tree for pass 1."""

    text: str
    why: str


class _JsonObject(dict):  # type: ignore[type-arg]
    """A decoded object that remembers keys it saw twice (the last value wins, as in JSON)."""

    duplicates: list[str]


def _object(pairs: list[tuple[str, Any]]) -> _JsonObject:
    result = _JsonObject()
    result.duplicates = []
    for key, value in pairs:
        if key in result and key not in result.duplicates:
            result.duplicates.append(key)
        result[key] = value
    return result


def _constant(name: str) -> _BadNumber:
    return _BadNumber(name, f"{name} is not a number JSON allows; use a finite number")


def _float(text: str) -> float | _BadNumber:
    value = float(text)
    if math.isfinite(value):
        return value
    return _BadNumber(text, f"{text[:40]} is too large to be a number here")


def _int(text: str) -> int | _BadNumber:
    digits = text.lstrip("-")
    if len(digits) > MAX_INT_DIGITS:
        return _BadNumber(text, f"a {len(digits)}-digit integer is out of any sane range")
    return int(text)


def _utf16_or_32(raw: bytes) -> str | None:
    """Name the encoding when the file is plainly UTF-16/32 (Notepad, PowerShell `>`)."""
    if raw.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        return "UTF-32"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "UTF-16"
    head = raw[:64]
    if len(head) >= 4 and head.count(0) * 4 >= len(head):
        # ASCII text in UTF-16 has a NUL beside every character; in UTF-32 three of four.
        return "UTF-32" if head.count(0) * 4 >= len(head) * 3 else "UTF-16"
    return None


def _line_col(raw: bytes, offset: int) -> str:
    line = raw.count(b"\n", 0, offset) + 1
    column = offset - (raw.rfind(b"\n", 0, offset) + 1) + 1
    return f"line {line} column {column}"


def decode_json(raw: bytes, source: str) -> Any:
    """Bytes to a JSON tree; file-level problems (not text, not JSON) raise here."""
    encoding = _utf16_or_32(raw)
    if encoding:
        raise ExportError(
            [Problem("", f"the file is {encoding} text; an export must be saved as UTF-8")],
            source=source,
        )
    if b"\x00" in raw[:4096]:
        raise ExportError(
            [Problem("", "the file is binary (it holds NUL bytes), not JSON text")], source=source
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ExportError(
            [
                Problem(
                    "",
                    f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at {_line_col(raw, exc.start)} "
                    "is not valid UTF-8 (was the file saved as Latin-1 or Windows-1252?); "
                    "an export must be saved as UTF-8",
                )
            ],
            source=source,
        ) from None
    if not text.strip():
        what = "empty" if not text else "empty (only whitespace)"
        raise ExportError([Problem("", f"the file is {what}")], source=source)
    deep = too_deep(text)
    if deep is not None:
        raise ExportError(
            [
                Problem(
                    json_path(deep.loc),
                    f"nested too deeply: more than {MAX_JSON_DEPTH} levels (at line "
                    f"{deep.line} column {deep.column}); an export nests a few levels",
                )
            ],
            source=source,
        )
    try:
        return json.loads(
            text,
            object_pairs_hook=_object,
            parse_constant=_constant,
            parse_float=_float,
            parse_int=_int,
        )
    except json.JSONDecodeError as exc:
        raise ExportError(
            [
                Problem(
                    "",
                    # Python's messages end in " at" ("Invalid control character at").
                    f"not valid JSON: {exc.msg.removesuffix(' at')} "
                    f"at line {exc.lineno} column {exc.colno}",
                )
            ],
            source=source,
        ) from None
    except RecursionError:
        raise ExportError(
            [Problem("", "not a usable JSON file: it is nested too deeply")], source=source
        ) from None


def _json_level(node: Any, loc: Loc, found: list[tuple[Loc, str]]) -> Any:
    """Report duplicate keys and bad numbers; return the tree with plain dicts."""
    if isinstance(node, _BadNumber):
        found.append((loc, node.why))
        return node
    if isinstance(node, Mapping):
        for key in getattr(node, "duplicates", ()):
            found.append(((*loc, key), f'the key "{key}" appears more than once in this object'))
        return {key: _json_level(value, (*loc, key), found) for key, value in node.items()}
    if isinstance(node, list):
        return [_json_level(value, (*loc, pos), found) for pos, value in enumerate(node)]
    return node


# --- pass 2: pydantic -------------------------------------------------------------------


def _show(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, _BadNumber):
        return value.text[:40]
    text = escape(json.dumps(value, ensure_ascii=False, default=str))
    return text if len(text) <= 80 else text[:77] + "..."


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _pydantic_message(error: Mapping[str, Any], parent: Any = None) -> str:
    kind = error.get("type", "")
    value = error.get("input")
    shown = _show(value)
    if kind == "missing":
        loc = error.get("loc", ())
        key = loc[-1] if loc else ""
        snake = _snake(key) if isinstance(key, str) else ""
        if isinstance(parent, Mapping) and snake != key and snake in parent:
            return f'is required but missing (found "{snake}"; export field names are camelCase)'
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


def _node(data: Any, loc: Sequence[str | int]) -> Any:
    node = data
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _pydantic_problems(data: Mapping[str, Any]) -> tuple[Export | None, list[tuple[Loc, str]]]:
    try:
        # by_name=False: the JSON contract is camelCase; snake_case keys are unknown fields.
        return Export.model_validate(data, by_alias=True, by_name=False), []
    except ValidationError as exc:
        found: list[tuple[Loc, str]] = []
        for error in exc.errors():
            loc = tuple(
                part
                for part in error["loc"]
                if not isinstance(part, str) or not part.startswith("function-")
            )
            found.append((loc, _pydantic_message(error, _node(data, loc[:-1]))))
        return None, found


# --- pass 3: checks across fields -------------------------------------------------------

_ABSOLUTE_HINT = {
    "windows": "on windows (expected C:\\… or \\\\server\\share\\…)",
    "macos": "on macos (expected /…)",
    "linux": "on linux (expected /…)",
}


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _not_absolute(path: str, os_name: str | None) -> str:
    where = f" {_ABSOLUTE_HINT[os_name]}" if os_name else ""
    return f'"{escape(path)}" is not an absolute path{where}'


def control_problem(text: str) -> str | None:
    """Why `text` cannot be a path or a font field: it holds a character that ends a
    line or reorders text (C0/C1 controls, line separators, bidi controls, a lone
    surrogate). Such a value printed by the worker could be read by Open Job
    Description as a directive, and shown to a person it lies about what it says.
    The definition is the worker log's own (`logtext`), so what the loader lets
    through the worker prints as it is."""
    at = first_unsafe(text)
    if at < 0:
        return None
    char = text[at]
    name = unicodedata.name(char, "")
    if not name:
        name = "a lone surrogate" if 0xD800 <= ord(char) <= 0xDFFF else "a control character"
    return (
        f"holds U+{ord(char):04X} ({name}) at character {at + 1}; paths and font names "
        "may not contain control, line-separator or bidirectional-override characters"
    )


def _text_fields(data: Mapping[str, Any]) -> Iterator[tuple[Loc, Any]]:
    """Every path and font field of the export and where it stands (any JSON type)."""
    project = data.get("project")
    if isinstance(project, Mapping):
        yield ("project", "path"), project.get("path")
    queue = data.get("renderQueue")
    for pos, item in enumerate(queue if isinstance(queue, list) else []):
        modules = item.get("outputModules") if isinstance(item, Mapping) else None
        for om_pos, module in enumerate(modules if isinstance(modules, list) else []):
            if isinstance(module, Mapping):
                yield ("renderQueue", pos, "outputModules", om_pos, "path"), module.get("path")
    footage = data.get("footage")
    for pos, entry in enumerate(footage if isinstance(footage, list) else []):
        if isinstance(entry, Mapping):
            yield ("footage", pos, "path"), entry.get("path")
    fonts = data.get("fonts")
    for pos, font in enumerate(fonts if isinstance(fonts, list) else []):
        if isinstance(font, Mapping):
            for key in ("postScriptName", "familyName", "styleName", "location"):
                yield ("fonts", pos, key), font.get(key)


def _control_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    for loc, value in _text_fields(data):
        problem = control_problem(value) if isinstance(value, str) else None
        if problem:
            found.append((loc, problem))
    return found


def _cross_field_problems(data: Mapping[str, Any]) -> list[tuple[Loc, str]]:
    """Checks that need more than one field; tolerant of wrong types (pydantic reports those)."""
    found = _control_problems(data)
    refused = {loc for loc, _ in found}  # said once: not also "not an absolute path"
    host = data.get("host")
    os_name = host.get("os") if isinstance(host, Mapping) else None
    os_name = os_name if os_name in ("windows", "macos", "linux") else None

    project = data.get("project")
    if isinstance(project, Mapping):
        path = project.get("path")
        if (
            isinstance(path, str)
            and path
            and ("project", "path") not in refused
            and not is_absolute_path(path, os_name)
        ):
            found.append((("project", "path"), _not_absolute(path, os_name)))

    queue = data.get("renderQueue")
    if not isinstance(queue, list):
        return found
    seen: dict[int, int] = {}
    for pos, item in enumerate(queue):
        if not isinstance(item, Mapping):
            continue
        here: Loc = ("renderQueue", pos)
        index = item.get("index")
        if _is_int(index):
            if index in seen:
                found.append(
                    (
                        (*here, "index"),
                        f"render queue index {index} is used twice "
                        f"(also at renderQueue[{seen[index]}])",
                    )
                )
            else:
                seen[index] = pos
        frames = item.get("frames")
        if isinstance(frames, Mapping):
            start, end = frames.get("start"), frames.get("end")
            if _is_int(start) and _is_int(end) and end < start:
                found.append(((*here, "frames", "end"), f"{end} is before start {start}"))
        modules = item.get("outputModules")
        if (
            item.get("render", True) is True
            and item.get("status") in (None, "QUEUED")
            and (modules is None or (isinstance(modules, list) and not modules))
        ):
            found.append(
                (
                    (*here, "outputModules"),
                    "the item is set to render but has no output module "
                    "(add one in After Effects, or uncheck the item)",
                )
            )
        if isinstance(modules, list):
            om_seen: dict[int, int] = {}
            for om_pos, module in enumerate(modules):
                if not isinstance(module, Mapping):
                    continue
                om_here: Loc = (*here, "outputModules", om_pos)
                om_index = module.get("index")
                if _is_int(om_index):
                    if om_index in om_seen:
                        found.append(
                            (
                                (*om_here, "index"),
                                f"output module index {om_index} is used twice "
                                f"(also at outputModules[{om_seen[om_index]}])",
                            )
                        )
                    else:
                        om_seen[om_index] = om_pos
                om_path = module.get("path")
                if (
                    isinstance(om_path, str)
                    and (*om_here, "path") not in refused
                    and not is_absolute_path(om_path, os_name)
                ):
                    message = (
                        "must not be empty" if not om_path else _not_absolute(om_path, os_name)
                    )
                    found.append(((*om_here, "path"), message))
    return found


def _frames_vs_comp(export: Export) -> list[tuple[Loc, str]]:
    """Frame ranges reaching further beyond their comp than the comp is long."""
    found: list[tuple[Loc, str]] = []
    for pos, item in enumerate(export.render_queue):
        first, last = comp_frame_range(item.comp, export.project.display_start_frame)
        hint = (
            "; the comp has no displayStartTime, so it is taken to start at 0"
            if item.comp.display_start_time is None
            else ""
        )
        for field, frame in frames_far_outside(item.frames, first, last):
            found.append(
                (
                    ("renderQueue", pos, "frames", field),
                    f"frame {frame} is further from the comp's frames {first}-{last} than "
                    f"the comp is long ({last - first + 1} frames){hint}",
                )
            )
    return found


# --- putting it together ----------------------------------------------------------------


def _document_order(data: Any, loc: Loc) -> tuple[int, ...]:
    """Sort key: position of each step in its object or array; missing keys sort last."""
    key: list[int] = []
    node = data
    for part in loc:
        if isinstance(node, Mapping):
            keys = list(node)
            key.append(keys.index(part) if part in node else len(keys))
            node = node.get(part) if isinstance(part, str) else None
        elif isinstance(node, list) and isinstance(part, int):
            key.append(part)
            node = node[part] if 0 <= part < len(node) else None
        else:
            key.append(0)
            node = None
    return tuple(key)


def _under(loc: Loc, prefixes: Sequence[Loc]) -> bool:
    return any(loc[: len(prefix)] == prefix for prefix in prefixes)


def _version_problem(version: Any) -> tuple[Loc, str] | None:
    if isinstance(version, _BadNumber):
        return None  # already reported where it stands
    if version is None:
        return (("version",), f"is required but missing (this reads version {FORMAT_VERSION})")
    if not _is_int(version):
        return (("version",), f"must be the JSON integer {FORMAT_VERSION}, got {_show(version)}")
    if version < 1:
        return (("version",), f"{version} is not a version of {FORMAT_NAME}")
    return None


def parse_export(data: Any, source: str = "") -> Export:
    """Validate decoded JSON; raise ExportError listing every problem in document order."""
    if not isinstance(data, Mapping):
        kind = {
            type(None): "null",
            list: "an array",
            str: "a string",
            bool: "true/false",
            int: "a number",
            float: "a number",
        }.get(type(data), type(data).__name__)
        raise ExportError(
            [Problem("", f"the top level must be a JSON object, got {kind}")], source=source
        )
    fmt = data.get("format")
    if fmt != FORMAT_NAME:
        shown = _show(fmt) if "format" in data else "missing"
        hint = ""
        if "specificationVersion" in data:
            hint = "; it looks like an Open Job Description template"
        elif "renderQueue" in data:
            hint = f'; an export starts with "format": "{FORMAT_NAME}", "version": 1'
        raise ExportError(
            [Problem("format", f"this is not a {FORMAT_NAME} file (format is {shown}){hint}")],
            source=source,
        )
    version = data.get("version")
    if _is_int(version) and version > FORMAT_VERSION:
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

    found: list[tuple[Loc, str]] = []
    plain = _json_level(data, (), found)
    version_found = _version_problem(version)
    if version_found:
        found.append(version_found)
    already = [loc for loc, _ in found]
    model, typed = _pydantic_problems(plain)
    found += [(loc, msg) for loc, msg in typed if not _under(loc, already)]
    found += [(loc, msg) for loc, msg in _cross_field_problems(plain) if not _under(loc, already)]
    if model is not None:
        found += _frames_vs_comp(model)
    if found:
        found.sort(key=lambda pair: _document_order(plain, pair[0]))
        problems = [Problem(_item_label(plain, loc), message) for loc, message in found]
        raise ExportError(list(dict.fromkeys(problems)), source=source)
    assert model is not None
    return model


@contextmanager
def reading_export(source: str) -> Iterator[None]:
    """A failed read of an export file as an ExportError, in the same words wherever the
    file is read (loaded here, hashed by `stmpo submit`)."""
    try:
        yield
    except FileNotFoundError:
        raise ExportError([Problem("", "no such file")], source=source) from None
    except IsADirectoryError:
        raise ExportError([Problem("", "is a folder, not an export file")], source=source) from None
    except OSError as exc:
        raise ExportError([Problem("", f"cannot read: {exc.strerror}")], source=source) from None


def read_export_bytes(path: str | Path) -> bytes:
    """The file's bytes, at most MAX_EXPORT_BYTES: read with a cap rather than trusting
    its size, which is 0 for /dev/zero, a pipe or a FIFO that never ends."""
    source = str(path)
    with reading_export(source), open(path, "rb") as fh:
        raw = fh.read(MAX_EXPORT_BYTES + 1)
    if len(raw) > MAX_EXPORT_BYTES:
        raise ExportError(
            [Problem("", f"the file is larger than {MAX_EXPORT_BYTES >> 20} MiB")], source=source
        )
    return raw


def load_export(path: str | Path) -> Export:
    """Read and validate an export file. Raises ExportError (never a bare traceback)."""
    source = str(path)
    return parse_export(decode_json(read_export_bytes(path), source), source=source)
