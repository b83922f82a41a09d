"""The one way outside text reaches the task log.

OpenJD reads every line an action prints: a line starting with `openjd_env:`,
`openjd_fail:`, `openjd_progress:`, `openjd_status:` or `openjd_unset_env:` is a
directive (OpenJD specification, "Action stdout/stderr handling"; openjd-sessions'
`_action_filter.py`), and lines over 64,000 characters are split, so the tail of a long
line becomes a line of its own. A comp name, a path, a font name or a child's output
that carried a newline, a carriage return, a Unicode line separator or simply enough
characters could therefore set environment variables for every later action of the
session. So no line the worker prints holds raw outside text:

- `escape()` makes any text one physical line: C0 and C1 controls, DEL, Unicode
  line/paragraph separators and bidi controls become visible `\\n`, `\\x1b`,
  `\\u202e` escapes;
- `text_line()` is every ordinary log line: escaped, bounded to `MAX_LINE` characters,
  and never starting with `openjd_`;
- `prefixed_lines()` cuts a long text (a child's line) into pieces that each carry the
  prefix (`[c2 f100-199] `), so even the pieces cannot be read as directives;
- `directive()` is the only place a line starting with `openjd_` is written.

Standard library only, Python 3.9+: these files run on the worker.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Far below OpenJD's 64,000-character split, and below what a task log viewer shows well.
MAX_LINE = 4000

DIRECTIVES = frozenset({"progress", "status", "fail", "env", "unset_env"})

# Characters that end a line for some reader (str.splitlines, Unicode) or reorder what
# a reader sees (bidi controls), besides every C0/C1 control and DEL; and lone
# surrogates (undecodable file names on POSIX), which cannot even be encoded.
_UNSAFE_BUT_NEWLINE = (
    "\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u061c\u200e\u200f"
    "\u202a-\u202e\u2066-\u2069\ud800-\udfff"
)
_UNSAFE = re.compile(f"[\n{_UNSAFE_BUT_NEWLINE}]")
_UNSAFE_IN_LINES = re.compile(f"[{_UNSAFE_BUT_NEWLINE}]")
#: The ASCII characters `escape` leaves alone, and the newline between lines.
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))
_SAFE_ASCII = _PRINTABLE_ASCII + b"\n"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def first_unsafe(text: str) -> int:
    """Index of the first character `escape` would change, or -1: what the export
    loader refuses in paths and font fields, with the same definition as the log."""
    match = _UNSAFE.search(text)
    return -1 if match is None else match.start()


def lines_need_escaping(text: str) -> bool:
    """Whether any line of `text` (lines joined by newlines) holds a character `escape`
    would change. ASCII text (aerender's lines, nearly always) is checked by deleting
    every safe byte in C (`bytes.translate`: about 1 ns a character, where the regex
    costs 20); anything else by the regex, the same class."""
    if text.isascii():
        return bool(text.encode("ascii").translate(None, _SAFE_ASCII))
    return _UNSAFE_IN_LINES.search(text) is not None


def escape(text: str) -> str:
    """`text` as one line whose every character is visible (a regex pass: a child's
    output goes through here at log speed, tens of MB/s, not per character in Python)."""
    if text.isascii():
        if not text.encode("ascii").translate(None, _PRINTABLE_ASCII):
            return text  # the usual case, found in C (see `lines_need_escaping`)
    elif _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(_escaped, text)


def shown(text: object, limit: int = 400) -> str:
    """A value to quote inside a message: escaped and shortened to `limit` characters,
    so a message stays one bounded line whatever it quotes."""
    value = escape(str(text))
    if len(value) <= limit:
        return value
    return value[: max(0, limit - 20)] + f"...(+{len(value) - limit + 20} chars)"


def _defused(line: str) -> str:
    """A line that OpenJD will not read as a directive (its regex is case-sensitive,
    but any spelling is defused to be safe)."""
    return " " + line if line[:7].lower() == "openjd_" else line


def text_line(text: str, limit: int = MAX_LINE) -> str:
    """One ordinary log line built from `text`: escaped, defused, at most `limit`."""
    line = _defused(escape(text))
    if len(line) > limit:
        line = line[: limit - 24] + f"...(+{len(line) - limit + 24} chars)"
    return line


def prefixed_lines(prefix: str, text: str, limit: int = MAX_LINE) -> Iterator[str]:
    """`prefix + text` as lines of at most `limit` characters, every piece carrying the
    prefix, so a child's over-long line stays attributed and harmless."""
    body = escape(text)
    width = max(1, limit - len(prefix))
    if not body:
        yield _defused(prefix)
        return
    for start in range(0, len(body), width):
        yield _defused(prefix + body[start : start + width])


def directive(kind: str, text: str = "", limit: int = MAX_LINE) -> str:
    """`openjd_<kind>: <text>`: the worker's own directive, its text escaped and bounded
    so nothing after it can become a second directive."""
    if kind not in DIRECTIVES:
        raise ValueError(f"not an OpenJD directive: {kind!r}")
    head = f"openjd_{kind}: "
    body = escape(text)
    room = limit - len(head)
    if len(body) > room:
        body = body[: room - 24] + f"...(+{len(body) - room + 24} chars)"
    return head + body
