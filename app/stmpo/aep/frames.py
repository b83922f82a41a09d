"""Frame arithmetic and footage patterns for the .aep reader (pure functions).

A saved project stores frame rates as 16.16 fixed point (29.97 reads back as
29.970001220703125) and times as ratios, so `seconds * rate` lands a hair off a whole
number: 10.01001 s at that rate is 300.0000122 frames, and a plain `ceil` would render
one frame too many. Values within a small tolerance of a whole frame snap to it.
"""

from __future__ import annotations

import math
import re

#: Slack for values that should be whole frames. The 16.16 rate is off by at most
#: ~1e-7 relative, so the error grows with the frame count; 1e-4 covers short comps.
_ABS_TOLERANCE = 1e-4
_REL_TOLERANCE = 2e-7


#: One step of the 16.16 fixed point AE stores frame rates in.
_FIXED_16_16_STEP = 1 / 65536


def clean_rate(rate: float) -> float:
    """The rate AE was given (29.97) from its 16.16 copy (29.970001220703125).

    After Effects itself runs a comp on the exact grid of the decimal rate (23976/800
    for 29.97), so the three-decimal value is the truer one for frame arithmetic; a
    rate that is no such decimal within one 16.16 step is kept as stored.
    """
    rounded = round(rate, 3)
    return rounded if abs(rate - rounded) <= _FIXED_16_16_STEP else rate


def skip_frames_hint(render_rate: float, output_rates: list[float]) -> int | None:
    """The Skip Frames value the output modules were last prepared for, or None.

    After Effects does not save an item's Skip Frames (it reads 0 on open and renders
    every frame), but once an item is prepared for output it stores each output module's
    frame rate as the render rate / (skip + 1) (py-aep 0.18, `RenderQueueItem.skip_frames`
    and `OutputModule._set_frame_rate`, measured on AE 2026). A stored rate that is a
    whole fraction 1/k (k >= 2) of the render rate is that trace; anything else is none.
    """
    skips: set[int] = set()
    for rate in output_rates:
        if not (rate > 0 and math.isfinite(rate) and render_rate > 0):
            continue
        ratio = render_rate / rate
        whole = round(ratio)
        # Both rates are 16.16 values: a few 1/65536 steps of slack, relative.
        if whole >= 2 and abs(ratio - whole) <= whole * 1e-4:
            skips.add(whole - 1)
    return max(skips) if skips else None


def _near_whole(value: float) -> int | None:
    nearest = round(value)
    if abs(value - nearest) <= _ABS_TOLERANCE + abs(value) * _REL_TOLERANCE:
        return int(nearest)
    return None


def snap_floor(value: float) -> int:
    """`floor`, except that a value a rounding error below a whole frame is that frame."""
    whole = _near_whole(value)
    return whole if whole is not None else math.floor(value)


def snap_ceil(value: float) -> int:
    """`ceil`, except that a value a rounding error above a whole frame is that frame."""
    whole = _near_whole(value)
    return whole if whole is not None else math.ceil(value)


def frame_range(
    *,
    comp_display_start_frame: int,
    span_start: float,
    span_duration: float,
    frame_rate: float,
    project_display_start_frame: int,
) -> tuple[int, int]:
    """First and last frame of a render queue item in the numbers `aerender -s/-e` take.

    `start = floor((displayStartTime + timeSpanStart) * rate) + project.displayStartFrame`
    and `end = start + ceil(timeSpanDuration * rate) - 1`. The comp's start is passed as
    the frame After Effects itself shows for it (`comp.displayStartFrame`), which equals
    `floor(displayStartTime * rate)` for every start the AE UI can set (a whole frame)
    and follows AE's own rounding for a start a script put between two frames.
    Raises ValueError when the span holds no frame or the rate is not positive.
    """
    if not (frame_rate > 0 and math.isfinite(frame_rate)):
        raise ValueError(f"the comp frame rate {frame_rate!r} is not a positive number")
    count = snap_ceil(span_duration * frame_rate)
    if count < 1:
        raise ValueError(f"the time span ({span_duration:g} s) holds no frame")
    start = (
        comp_display_start_frame + snap_floor(span_start * frame_rate) + project_display_start_frame
    )
    return start, start + count - 1


_NUMBERED_NAME = re.compile(r"^(.*?)(\d+)(\D*)$")


def sequence_pattern(first_file: str, frame_count: int) -> str:
    """`plate.0000.exr` + 48 frames -> `plate.[0000-0047].exr`, as AE's Project panel shows.

    The same pattern the After Effects bridge writes, so the bundle builder expands
    both alike. A name without digits, or a count below one, is returned unchanged.
    """
    slash = max(first_file.rfind("/"), first_file.rfind("\\"))
    folder, name = first_file[: slash + 1], first_file[slash + 1 :]
    match = _NUMBERED_NAME.match(name)
    if match is None or frame_count < 1:
        return first_file
    prefix, digits, suffix = match.groups()
    last = str(int(digits) + frame_count - 1).zfill(len(digits))
    return f"{folder}{prefix}[{digits}-{last}]{suffix}"


_WINDOWS_PATH = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\|//)")


def path_style(path: str) -> str | None:
    """`windows`, `posix`, or None for a path that is neither absolute kind."""
    if _WINDOWS_PATH.match(path):
        return "windows"
    if path.startswith("/"):
        return "posix"
    return None
