"""The render queue item's outputs: decoding, path mapping, frame file names, checks.

Values that may hold `{{`, quotes or shell characters reach the worker as URL-safe
base64 of UTF-8 JSON (docs/architecture.md), so they arrive byte-exact.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import ntpath
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from .pathmap import Rule, map_path

_HASHES = re.compile(r"\[(#+)\]")
#: Missing outputs a check lists before it stops looking.
MAX_MISSING_LISTED = 100


class ArgumentProblem(ValueError):
    """A command-line value is wrong; `where` names the argument (and JSON path)."""

    def __init__(self, where: str, message: str) -> None:
        self.where = where
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class Output:
    index: int
    path: str
    kind: str  # "sequence" or "movie"


@dataclass(frozen=True)
class Item:
    comp: str
    outputs: tuple[Output, ...]

    @property
    def movie(self) -> bool:
        return any(o.kind == "movie" for o in self.outputs)


def decode_b64_json(value: str, arg: str) -> Any:
    """JSON from URL-safe base64 (padding optional); ArgumentProblem naming `arg`."""
    text = value.strip()
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        return json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise ArgumentProblem(arg, "not JSON this worker can read (nested too deeply)") from None
    except (binascii.Error, ValueError) as exc:
        reason = "not URL-safe base64" if isinstance(exc, binascii.Error) else "not UTF-8 JSON"
        raise ArgumentProblem(arg, f"{reason} ({exc})") from None


def encode_b64_json(value: Any) -> str:
    """The inverse of `decode_b64_json`, and what the job template writes (one encoder for
    both sides): URL-safe base64 of compact JSON, ASCII-escaped so that even a lone
    surrogate in a comp name survives the round trip."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("ascii")).decode("ascii")


def parse_item(value: str, arg: str = "--item-b64") -> Item:
    data = decode_b64_json(value, arg)
    if not isinstance(data, dict):
        raise ArgumentProblem(arg, "must hold a JSON object with comp and outputs")
    comp = data.get("comp", "")
    if not isinstance(comp, str):
        raise ArgumentProblem(f"{arg}: comp", "must be a string")
    raw_outputs = data.get("outputs")
    if not isinstance(raw_outputs, list):
        raise ArgumentProblem(f"{arg}: outputs", "must be a list")
    outputs: list[Output] = []
    for i, raw in enumerate(raw_outputs):
        where = f"{arg}: outputs[{i}]"
        if not isinstance(raw, dict):
            raise ArgumentProblem(where, "must be an object with index, path and kind")
        index, path, kind = raw.get("index", i + 1), raw.get("path"), raw.get("kind")
        if not isinstance(index, int) or isinstance(index, bool) or index < 1:
            raise ArgumentProblem(f"{where}.index", "must be an integer >= 1")
        if not isinstance(path, str) or not path:
            raise ArgumentProblem(f"{where}.path", "must be a non-empty string")
        if kind is None:
            kind = "sequence" if _HASHES.search(path) else "movie"
        if kind not in ("sequence", "movie"):
            raise ArgumentProblem(f"{where}.kind", f"must be sequence or movie, got {kind!r}")
        outputs.append(Output(index=index, path=path, kind=kind))
    return Item(comp=comp, outputs=tuple(outputs))


def parse_dirs(value: str, arg: str = "--dirs-b64") -> list[str]:
    data = decode_b64_json(value, arg)
    if not isinstance(data, list) or not all(isinstance(d, str) and d for d in data):
        raise ArgumentProblem(arg, "must hold a JSON list of non-empty directory strings")
    return list(data)


def frame_path(pattern: str, frame: int) -> str:
    """AE's name for `frame`: every `[###]` becomes the zero-padded frame number."""
    return _HASHES.sub(lambda m: f"{frame:0{len(m.group(1))}d}", pattern)


def mapped_item(item: Item, rules: list[Rule]) -> Item:
    return Item(
        comp=item.comp,
        outputs=tuple(Output(o.index, map_path(rules, o.path), o.kind) for o in item.outputs),
    )


def output_override(original: Item, mapped: Item) -> str | None:
    """The `-output` to give aerender, or None to use the project's own paths.

    The project stores the submitter's output paths. When path mapping moves them,
    aerender must be told, and `-output` can only replace the first output module's
    path: so it is passed for a single-output item whose path changed, and never
    otherwise (a multi-output item's mapped paths cannot be expressed).
    """
    if len(original.outputs) != 1:
        return None
    before, after = original.outputs[0].path, mapped.outputs[0].path
    return after if after != before else None


def is_host_path(path: str) -> bool:
    """Whether `path` is an absolute path on this host (a `C:/...` path is not, on Linux)."""
    if os.name == "nt":
        return ntpath.isabs(path) and (
            ntpath.splitdrive(path)[0] != "" or path[:2] in ("\\\\", "//")
        )
    return path.startswith("/")


def expected_files(item: Item, frames: range) -> Iterator[str]:
    """Files a successful render of `frames` leaves: one per frame of each sequence
    output with a `[#]` pattern, plus each movie file. Lazy: a task may span 2 x 10^9
    frames, far more names than fit in memory."""
    for out in item.outputs:
        if out.kind == "movie":
            yield out.path
        elif _HASHES.search(out.path):
            for frame in frames:
                yield frame_path(out.path, frame)


def missing_files(item: Item, frames: range, limit: int = MAX_MISSING_LISTED) -> list[str]:
    """The first `limit` expected files that are not there: enough to report, and the
    check stops early when a child left (almost) nothing."""
    missing = (f for f in expected_files(item, frames) if not os.path.isfile(f))
    return list(itertools.islice(missing, limit))


def checkable(item: Item) -> bool:
    return all(is_host_path(o.path) for o in item.outputs)
