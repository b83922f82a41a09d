"""Frame ranges as artists type them: `S-E` or `S-E:step`."""

from __future__ import annotations

import re

_RANGE = re.compile(r"^\s*(-?\d+)\s*-\s*(-?\d+)\s*(?::\s*(\d+))?\s*$")


def parse_frame_range(text: str) -> tuple[int, int, int] | None:
    """(start, end, step), or None when the text is not a valid range."""
    match = _RANGE.match(text)
    if not match:
        return None
    try:
        start, end = int(match.group(1)), int(match.group(2))
        step = int(match.group(3) or 1)
    except ValueError:  # more than 4300 digits: Python's int() refuses them
        return None
    if end < start or step < 1:
        return None
    return start, end, step


def format_frame_range(start: int, end: int, step: int) -> str:
    return f"{start}-{end}" + (f":{step}" if step != 1 else "")
