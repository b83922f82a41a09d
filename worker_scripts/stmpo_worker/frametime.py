"""Comp frames and render frames when render settings use another frame rate.

Render settings "Frame Rate: Use this frame rate" (Adobe, After Effects Help "Render
settings") makes AE render at rate R while the comp runs at rate C. aerender's `-s/-e`
are comp frames (its commandLineRenderer.jsx turns them into a time span with the
comp's frame duration), but the files AE writes are frames of the output timebase.
This module is STMPO's model of which output frames a comp range yields (see
docs/stmpo-worker.md, "Render frame rate"), in exact rational arithmetic: a task an
hour into a 29.97 fps comp must not gain or lose a frame to float rounding.

Pure and standard library only (Python 3.9): the worker and the submitter's preview
share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

#: NTSC rates are n/1001; AE stores them as floats (29.97 as 29.970001220703125), and
#: exporters round them to 3 decimals (23.976 is 1.0e-6 relative from 24000/1001).
NTSC_NUMERATORS = (24000, 30000, 48000, 60000, 120000)
NTSC_TOLERANCE = 1e-5
#: Other rates: the nearest fraction with a denominator up to this (12.5 -> 25/2).
MAX_DENOMINATOR = 1001 * 1000


def exact_rate(rate: float) -> Fraction:
    """`rate` as the ratio AE means: n/1001 for an NTSC rate, else the simplest
    fraction within float precision."""
    for numerator in NTSC_NUMERATORS:
        ntsc = numerator / 1001
        if abs(rate - ntsc) <= NTSC_TOLERANCE * ntsc:
            return Fraction(numerator, 1001)
    return Fraction(rate).limit_denominator(MAX_DENOMINATOR)


def _ceil(value: Fraction) -> int:
    return -((-value.numerator) // value.denominator)


def _floor(value: Fraction) -> int:
    return value.numerator // value.denominator


@dataclass(frozen=True)
class Timebase:
    """One item's two rates and where displayed numbering starts.

    `comp_origin` (O) is the displayed comp frame number of comp time 0 and
    `render_origin` the displayed output frame number of that time (how files are
    numbered with "Use Comp Frame Number" on). Comp frame n lies at time (n - O) / C;
    output frame k (displayed k + render_origin) at time k / R."""

    comp_rate: Fraction
    render_rate: Fraction
    comp_origin: int = 0
    render_origin: int = 0

    @classmethod
    def of(
        cls,
        comp_rate: float,
        render_rate: float,
        display_start_time: float = 0.0,
        display_start_frame: int = 0,
    ) -> Timebase:
        """From the export's fields: the comp's displayStartTime (seconds) and the
        project's displayStartFrame (0 or 1), as the loader numbers comp frames."""
        c, r = exact_rate(comp_rate), exact_rate(render_rate)
        start = Fraction(display_start_time).limit_denominator(MAX_DENOMINATOR)
        return cls(
            c,
            r,
            comp_origin=_floor(start * c) + display_start_frame,
            render_origin=_floor(start * r) + display_start_frame,
        )

    @property
    def same(self) -> bool:
        return self.comp_rate == self.render_rate

    def first_render_at(self, comp_frame: int) -> int:
        """The first output frame (0-based k) at or after the start of `comp_frame`."""
        return _ceil((comp_frame - self.comp_origin) * self.render_rate / self.comp_rate)

    def render_range(self, start: int, end: int) -> range:
        """Displayed output frame numbers that `-s start -e end` writes: those whose
        time lies in [(start - O) / C, (end + 1 - O) / C)."""
        lo, hi = self.first_render_at(start), self.first_render_at(end + 1)
        return range(lo + self.render_origin, hi + self.render_origin)

    def comp_range(self, first: int, last: int) -> tuple[int, int]:
        """The comp `-s/-e` whose span holds displayed output frames first..last, from
        the comp frame holding the first's time to the one holding the last's. It
        renders exactly first..last when R <= C; when R > C a comp frame holds several
        output frames, so it may render more (cut in comp frames: `split`)."""
        k_first, k_last = first - self.render_origin, last - self.render_origin
        s = _floor(k_first * self.comp_rate / self.render_rate) + self.comp_origin
        e = _floor(k_last * self.comp_rate / self.render_rate) + self.comp_origin
        return s, e

    def split(self, start: int, end: int, parts: int) -> list[tuple[int, int]]:
        """Comp ranges, at most `parts`, cutting `start..end` on comp-frame boundaries
        so that their output frames are disjoint, together exactly those of the whole
        range, each non-empty and as even in output frames as the boundaries allow."""
        if end < start or parts < 1:
            raise ValueError(f"bad range {start}-{end} in {parts} parts")
        total = self.render_range(start, end)
        count = len(total)
        if count == 0:
            return []
        parts = min(parts, count)
        k0 = total.start - self.render_origin
        base, extra = divmod(count, parts)
        cuts = [start]
        for i in range(1, parts):
            target = k0 + i * base + min(i, extra)  # first output frame of part i
            # The comp frame holding that output frame's time: with R <= C its start is
            # the first of them after it (a comp frame is no longer than an output frame).
            cut = _floor(target * self.comp_rate / self.render_rate) + self.comp_origin
            cuts.append(min(max(cut, cuts[-1]), end + 1))
        cuts.append(end + 1)
        ranges: list[tuple[int, int]] = []
        empty_front: int | None = None  # comp frames before the first output frame
        for s, stop in zip(cuts, cuts[1:]):  # no strict= on Python 3.9
            if stop == s:
                continue
            if len(self.render_range(s, stop - 1)):
                first = s if empty_front is None else empty_front
                ranges.append((first, stop - 1))
                empty_front = None
            elif ranges:  # comp frames that hold no output frame join the part before
                ranges[-1] = (ranges[-1][0], stop - 1)
            elif empty_front is None:
                empty_front = s
        return ranges


def rate_text(rate: Fraction) -> str:
    """`25`, `12.5`, `29.97`: a rate as people write it."""
    value = float(rate)
    return f"{value:.3f}".rstrip("0").rstrip(".")
