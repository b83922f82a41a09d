import pytest
from hypothesis import given
from hypothesis import strategies as st
from stmpo.bundle.chunks import (
    MAX_CHUNKS_PER_STEP,
    effective_chunk_size,
    frame_chunks,
    parse_chunk,
)


def test_chunk_size_zero_is_one_task_for_the_whole_item() -> None:
    assert frame_chunks(0, 249, 1, 0) == ["0-249"]


def test_chunks_split_the_range_and_the_last_one_is_short() -> None:
    assert frame_chunks(1, 25, 1, 10) == ["1-10", "11-20", "21-25"]


def test_chunks_count_frames_on_the_step_grid() -> None:
    # frames 0,2,4,...,18: chunks of 3 rendered frames each
    assert frame_chunks(0, 19, 2, 3) == ["0-4", "6-10", "12-16", "18-18"]


def test_end_off_the_step_grid_is_pulled_back_to_the_last_rendered_frame() -> None:
    assert frame_chunks(0, 10, 4, 0) == ["0-8"]


def test_negative_frames_and_their_parse() -> None:
    chunks = frame_chunks(-10, 5, 1, 6)
    assert chunks == ["-10--5", "-4-1", "2-5"]
    assert [parse_chunk(c) for c in chunks] == [(-10, -5), (-4, 1), (2, 5)]


def test_chunk_size_larger_than_the_item_gives_one_chunk() -> None:
    assert frame_chunks(100, 104, 1, 50) == ["100-104"]


def test_more_than_1024_chunks_grow_the_chunk_size() -> None:
    chunks = frame_chunks(0, 9999, 1, 1)
    assert len(chunks) <= MAX_CHUNKS_PER_STEP
    assert effective_chunk_size(10000, 1) == 10
    assert chunks[0] == "0-9" and chunks[-1] == "9990-9999"


@pytest.mark.parametrize(
    ("start", "end", "step"), [(5, 4, 1), (0, 10, 0), (0, 10, -1)], ids=["reversed", "0", "-1"]
)
def test_bad_ranges_raise(start: int, end: int, step: int) -> None:
    with pytest.raises(ValueError):
        frame_chunks(start, end, step, 0)


def test_negative_chunk_size_raises() -> None:
    with pytest.raises(ValueError):
        frame_chunks(0, 10, 1, -1)


@given(
    start=st.integers(-5000, 5000),
    length=st.integers(0, 3000),
    step=st.integers(1, 7),
    chunk=st.integers(0, 400),
)
def test_chunks_cover_exactly_the_rendered_frames_in_order(
    start: int, length: int, step: int, chunk: int
) -> None:
    end = start + length
    chunks = [parse_chunk(c) for c in frame_chunks(start, end, step, chunk)]
    rendered = [f for first, last in chunks for f in range(first, last + 1, step)]
    assert rendered == list(range(start, end + 1, step))
    assert len(chunks) <= MAX_CHUNKS_PER_STEP
    if chunk == 0:
        assert len(chunks) == 1
