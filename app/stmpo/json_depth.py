"""How deep a JSON text nests, found before anything recursive reads it.

Python's `json` parser, our own tree walks and pydantic all recurse once per level, so
a few hundred levels end in a RecursionError (a traceback) somewhere, and which place
fails depends on the stack already in use. Files we read never nest more than a handful
of levels, so the text is measured first and anything deeper than `MAX_JSON_DEPTH` is
refused with the JSON path where it happens.

Measuring is linear and mostly C: escapes, strings and everything but brackets are
stripped by regular expressions, then the innermost `[]`/`{}` pairs are removed one
level per pass. Only a text that is really too deep is tokenized in Python, to name
the place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

#: Far beyond any export or bundle (they nest 5-7 levels), far below the recursion limit.
MAX_JSON_DEPTH = 64

_ESCAPE = re.compile(r"\\.", re.S)
_STRING = re.compile(r'"[^"]*"')
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{},:]', re.S)


@dataclass(frozen=True)
class TooDeep:
    """Where a text first nests deeper than the limit."""

    loc: tuple[str | int, ...]
    line: int
    column: int


def _brackets_nest_deeper(text: str, limit: int) -> bool:
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", _ESCAPE.sub("", text)))
    too_many = re.compile(r"[\[{]{%d}" % (limit + 1))  # noqa: UP031 (a regex quantifier)
    while brackets:
        if too_many.search(brackets):
            return True
        reduced = _INNERMOST.sub("", brackets)
        if reduced == brackets:
            return False  # unbalanced: the JSON parser reports where
        brackets = reduced
    return False


def _locate(text: str, limit: int) -> TooDeep | None:
    """The JSON path of the first container opened deeper than `limit`."""
    stack: list[list[str | int]] = []  # per open container: ["[", index] or ["{", key]
    last_string = ""
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token[0] == '"':
            last_string = token
        elif token in "[{":
            if len(stack) >= limit:
                offset = match.start()
                line = text.count("\n", 0, offset) + 1
                column = offset - (text.rfind("\n", 0, offset) + 1) + 1
                return TooDeep(tuple(entry[1] for entry in stack), line, column)
            stack.append(["[", 0] if token == "[" else ["{", ""])
        elif token in "]}":
            if stack:
                stack.pop()
        elif token == "," and stack and stack[-1][0] == "[":
            index = stack[-1][1]
            stack[-1][1] = index + 1 if isinstance(index, int) else index
        elif token == ":" and stack and stack[-1][0] == "{":
            try:
                stack[-1][1] = str(json.loads(last_string))
            except ValueError:
                stack[-1][1] = last_string.strip('"')
    return None


def too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> TooDeep | None:
    """None when `text` nests at most `limit` levels (or is not JSON enough to say),
    else where it goes deeper."""
    if not _brackets_nest_deeper(text, limit):
        return None
    return _locate(text, limit) or TooDeep((), 1, 1)
