"""aerender log lines -> frames done, error detection, rate-limited OpenJD reports."""

from __future__ import annotations

import pytest
from stmpo._worker_scripts.stmpo_worker.progress import (
    RateLimiter,
    TaskProgress,
    frame_marker,
    is_error_line,
    progress_lines,
)


@pytest.mark.parametrize(
    ("line", "marker"),
    [
        ("PROGRESS:  0:00:01:05 (31): 0 Seconds", 31),
        ("PROGRESS:  0;00;01;05 (31): 0 Seconds", 31),  # drop-frame
        ("PROGRESS:  0:00:00:05 (6): 0 Sekunden", 6),  # German
        ("PROGRÈS :  0:00:00:05 (6) : 1 secondes", 6),  # French, other spacing
        ("PROGRESS:  1:02:03:29 (112345): 12 Seconds", 112345),
    ],
)
def test_frame_lines(line: str, marker: int) -> None:
    assert frame_marker(line) == marker


@pytest.mark.parametrize(
    "line",
    [
        "PROGRESS:  11/21/2026 10:00:00 AM: Starting composition “MAIN”.",
        "PROGRESS:  Total Time Elapsed: 3 Seconds",
        "PROGRESS:  Output To: C:/out/MAIN_[#####].png (1)",
        "aerender version 24.6",
        "",
    ],
)
def test_other_lines_are_not_frames(line: str) -> None:
    assert frame_marker(line) is None


def test_error_lines() -> None:
    assert is_error_line("aerender ERROR: No comp was found with the given name.")
    assert is_error_line("PROGRESS:  After Effects error: Unable to allocate RAM.")
    assert not is_error_line("PROGRESS:  0:00:00:05 (6): 0 Seconds")


def test_distinct_markers_per_child_capped_and_finished() -> None:
    progress = TaskProgress([3, 5])
    assert progress.feed(0, "PROGRESS:  0:00:00:01 (2): 0 Seconds")
    assert not progress.feed(0, "PROGRESS:  0:00:00:01 (2): 0 Seconds")  # repeated frame
    assert progress.feed(1, "PROGRESS:  0:00:00:01 (2): 0 Seconds")  # other child counts
    for n in range(3, 9):
        progress.feed(0, f"PROGRESS:  0:00:00:0{n} ({n}): 0 Seconds")
    assert progress.done == 3 + 1  # child 0 capped at its 3 frames
    progress.child_finished(1)  # an output module that printed no frame lines
    assert progress.done == 8 and progress.percent == 100.0


def test_rate_limiter_with_a_fake_clock() -> None:
    now = [0.0]
    limiter = RateLimiter(0.5, lambda: now[0])
    assert limiter.ready()
    now[0] = 0.2
    assert not limiter.ready()
    assert limiter.ready(force=True)
    now[0] = 0.69
    assert not limiter.ready()
    now[0] = 0.71
    assert limiter.ready()


def test_progress_lines() -> None:
    progress = TaskProgress([240, 240])
    for n in range(1, 213):
        progress.feed(0, f"PROGRESS:  0:00:00:00 ({n}): 0 Seconds")
    assert progress_lines(progress, 8) == [
        "openjd_progress: 44.2",
        "openjd_status: 212/480 frames, 8 processes",
    ]
