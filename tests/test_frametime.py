"""Property tests of the render-frame-rate model (worker_scripts/stmpo_worker/frametime.py):
comp `-s/-e` ranges against the output frames After Effects writes at the render rate."""

from __future__ import annotations

import itertools
from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st
from stmpo._worker_scripts.stmpo_worker.frametime import Timebase, exact_rate

RATES = [23.976, 24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0, 12.0, 15.0]
HOUR = 3600


@st.composite
def timebases(draw: st.DrawFn) -> Timebase:
    comp, render = draw(st.sampled_from(RATES)), draw(st.sampled_from(RATES))
    start_time = draw(st.sampled_from([0.0, 0.0, 10.0, 3600.0]))
    return Timebase.of(comp, render, start_time, draw(st.sampled_from([0, 1])))


@st.composite
def tasks(draw: st.DrawFn) -> tuple[Timebase, int, int, int]:
    tb = draw(timebases())
    hour_in = draw(st.booleans())
    offset = round(float(tb.comp_rate) * HOUR) if hour_in else 0
    start = tb.comp_origin + offset + draw(st.integers(0, 300))
    return tb, start, start + draw(st.integers(0, 400)), draw(st.integers(1, 16))


def test_ntsc_rates_are_exact_ratios() -> None:
    assert exact_rate(29.970001220703125) == Fraction(30000, 1001)
    assert exact_rate(23.976) == Fraction(24000, 1001)
    assert exact_rate(59.94) == Fraction(60000, 1001)
    assert exact_rate(12.5) == Fraction(25, 2)
    assert exact_rate(23.98) != Fraction(24000, 1001)


def test_2997_at_23976_far_from_zero_uses_exact_ratios() -> None:
    tb = Timebase.of(29.97, 23.976)
    hour_comp = tb.render_range(0, 107892 - 1)  # 3600 s x 30000/1001, rounded up
    assert len(hour_comp) == 86314  # ceil(107892 x 4/5): 0..86313 start before 3600.0 s
    assert tb.render_range(107892, 107892 + 4) == range(86314, 86318)


@settings(max_examples=400, deadline=None)
@given(tasks())
def test_parts_cover_the_task_exactly_once(task: tuple[Timebase, int, int, int]) -> None:
    tb, start, end, parts = task
    whole = tb.render_range(start, end)
    ranges = tb.split(start, end, parts)
    if not len(whole):
        assert ranges == []
        return
    assert 1 <= len(ranges) <= parts
    assert ranges[0][0] == start and ranges[-1][1] == end
    for (_, e), (s, _) in itertools.pairwise(ranges):
        assert s == e + 1  # contiguous in comp frames
    frames: list[int] = []
    for s, e in ranges:
        part = tb.render_range(s, e)
        assert len(part) > 0
        frames.extend(part)
    assert frames == list(whole)  # disjoint, in order, exactly the task's output frames


@settings(max_examples=400, deadline=None)
@given(tasks(), st.data())
def test_comp_range_renders_exactly_a_sub_range(
    task: tuple[Timebase, int, int, int], data: st.DataObject
) -> None:
    tb, start, end, _ = task
    whole = tb.render_range(start, end)
    if not len(whole):
        return
    first = data.draw(st.integers(whole.start, whole.stop - 1))
    last = data.draw(st.integers(first, whole.stop - 1))
    s, e = tb.comp_range(first, last)
    rendered = tb.render_range(s, e)
    assert first in rendered and last in rendered
    if tb.render_rate <= tb.comp_rate:
        assert rendered == range(first, last + 1)
    for part_s, part_e in tb.split(start, end, 4):  # comp-frame parts map back exactly
        part = tb.render_range(part_s, part_e)
        assert tb.render_range(*tb.comp_range(part.start, part.stop - 1)) == part


def test_same_rate_is_the_identity() -> None:
    tb = Timebase.of(25, 25, 10.0, 1)
    assert tb.same
    assert tb.render_range(251, 300) == range(251, 301)
    assert tb.split(251, 300, 4) == [(251, 263), (264, 276), (277, 288), (289, 300)]
