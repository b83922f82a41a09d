"""Which frame an aerender progress line names, from the time it prints.

aerender reports a finished frame as `PROGRESS:  0:00:01:05 (31): 0 Seconds`: the
frame's time in the project's time display style, then a count `(N)` that may be
absolute or relative to the render (docs/stmpo-worker.md). The count is enough for a
progress bar; knowing WHICH frame finished (to hand the rest of a range to another
process) needs the time itself:

- frames style (`PROGRESS:  1030 (31)`): the displayed frame number itself;
- feet + frames (`62+09`): feet x frames-per-foot + frames (35 mm: 16, 16 mm: 40);
- timecode `H:MM:SS:FF`, the displayed frame in SMPTE timecode at the comp's nominal
  rate (the rate rounded: 30 for 29.97). Drop-frame timecode (`;` separators, SMPTE
  ST 12-1) skips the labels `;00` and `;01` (`;00` to `;03` at 59.94) at the start of
  every minute except every tenth, so that the labels keep up with the clock: a
  29.97 comp shows 01:00:00;00 at frame 107,892, not 108,000. Over hours the
  difference is minutes of frames, so the drop must be undone exactly.
"""

from __future__ import annotations

import re

_TIMECODE = re.compile(r"(?<![\d:;])(\d{1,3})([:;])(\d{2})([:;])(\d{2})([:;])(\d{2,3})\s*\(")


def nominal_rate(rate: float) -> int:
    """The timecode base of a frame rate: 30 for 29.97, 60 for 59.94, 24 for 23.976."""
    return max(1, round(rate))


def drops_frames(rate: float) -> bool:
    """Whether AE's default for the rate is drop-frame timecode: the NTSC rates 29.97
    and 59.94 (AE offers drop-frame only for those; a comp may choose non-drop)."""
    nominal = nominal_rate(rate)
    return nominal in (30, 60) and abs(rate - nominal * 1000 / 1001) < 0.01


def _dropped_per_minute(nominal: int) -> int:
    return 2 * nominal // 30


def frame_of_timecode(
    hours: int, minutes: int, seconds: int, frames: int, nominal: int, drop: bool
) -> int:
    """The frame a timecode label names (SMPTE ST 12-1 drop-frame when `drop`)."""
    total_minutes = hours * 60 + minutes
    frame = (total_minutes * 60 + seconds) * nominal + frames
    if drop:
        frame -= _dropped_per_minute(nominal) * (total_minutes - total_minutes // 10)
    return frame


def timecode_of_frame(frame: int, nominal: int, drop: bool) -> tuple[int, int, int, int]:
    """(hours, minutes, seconds, frames) of a frame: the inverse of `frame_of_timecode`
    for frames >= 0."""
    if drop:
        dropped = _dropped_per_minute(nominal)
        per_minute = nominal * 60 - dropped
        per_ten = per_minute * 10 + dropped
        tens, rest = divmod(frame, per_ten)
        frame += dropped * 9 * tens
        if rest > dropped:
            frame += dropped * ((rest - dropped) // per_minute)
    frames = frame % nominal
    seconds = frame // nominal % 60
    minutes = frame // (nominal * 60) % 60
    hours = frame // (nominal * 3600)
    return hours, minutes, seconds, frames


def timecode_frame(line: str, rate: float) -> int | None:
    """The frame a progress line's timecode names, or None if it has none. `;`
    separators mean drop-frame, `:` non-drop (AE prints what the comp uses)."""
    match = _TIMECODE.search(line)
    if match is None:
        return None
    hours, minutes, seconds, frames = (int(match.group(i)) for i in (1, 3, 5, 7))
    drop = ";" in (match.group(2), match.group(4), match.group(6))
    nominal = nominal_rate(rate)
    if minutes > 59 or seconds > 59 or frames >= nominal:
        return None
    return frame_of_timecode(hours, minutes, seconds, frames, nominal, drop)
