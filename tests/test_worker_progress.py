"""aerender log lines -> frames done, error detection, rate-limited OpenJD reports."""

from __future__ import annotations

import pytest
from stmpo._worker_scripts.stmpo_worker.progress import (
    ReportThrottle,
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
        # Project Settings > Time Display Style > Frames
        ("PROGRESS:  31 (32): 0 Seconds", 32),
        ("PROGRESS:  0 (1): 0 Seconds", 1),
        ("PROGRESS:  -3 (2): 1 Seconds", 2),  # a comp that starts before frame 0
        ("PROGRESS:  1047 (48): 0 Sekunden", 48),
        ("PROGRÈS :  31 (32) : 0 secondes", 32),
        ("進行状況:  31 (32): 0 秒", 32),
        # Feet + Frames, 35 mm (16 frames a foot) and 16 mm (40)
        ("PROGRESS:  1+15 (32): 0 Seconds", 32),
        ("PROGRESS:  0+00 (1): 0 Seconds", 1),
        ("PROGRESS:  12+39 (520): 2 Seconds", 520),
        ("FORTSCHRITT:  1+15 (32): 0 Sekunden", 32),
        # field renders name the field
        ("PROGRESS:  0:00:00:05 (6U): 0 Seconds", 6),
        ("PROGRESS:  31 (32L): 0 Seconds", 32),
        ("  PROGRESS:  31 (32): 0 Seconds\r", 32),
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
        "PROGRESS:  Duration: 48",  # the frames display style's duration
        "PROGRESS:  Start: 1+00",
        "PROGRESS:  Frame Rate: 24,00 (comp)",
        "PROGRESS:  Output To: C:/out/v2 (3): take.mov",
        "PROGRESS:  Rendering 12 (3): layers",
        "12 (3): a number and a count without the leading word",
        "PROGRESS:  31 (32) 0 Seconds",  # a bare number needs the colon after (N)
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


def test_a_report_held_by_the_window_goes_out_when_it_expires() -> None:
    """Slow frames: the report blocked at 0.2 s is not lost; offered again at the next
    polls it goes out once the window ends, with nothing new having happened."""
    throttle = ReportThrottle(0.5)
    first, second = ("p: 10", "s: 1/10"), ("p: 20", "s: 2/10")
    assert throttle.offer(first, 0.0) == first
    assert throttle.offer(second, 0.2) is None
    assert throttle.pending == second
    assert throttle.offer(second, 0.3) is None  # a poll inside the window
    assert throttle.offer(second, 0.5) == second  # the window has expired
    assert throttle.pending is None
    assert throttle.offer(second, 5.0) is None  # sent once, not repeated


def test_the_latest_report_wins_and_force_ignores_the_window() -> None:
    throttle = ReportThrottle(0.5)
    reports = [(f"p: {n}",) for n in range(4)]
    assert throttle.offer(reports[0], 10.0) == reports[0]
    assert throttle.offer(reports[1], 10.1) is None
    assert throttle.offer(reports[2], 10.2) is None
    assert throttle.pending == reports[2]
    assert throttle.offer(reports[3], 10.3, force=True) == reports[3]  # the final report
    assert throttle.pending is None
    assert throttle.offer(reports[3], 10.4, force=True) == reports[3]  # forced: even again
    assert throttle.offer(reports[3], 20.0) is None
    # back to what was last sent: the held report is dropped, nothing to say
    assert throttle.offer(reports[1], 20.0) == reports[1]
    assert throttle.offer(reports[2], 20.1) is None
    assert throttle.offer(reports[1], 20.2) is None and throttle.pending is None


def test_progress_lines() -> None:
    progress = TaskProgress([240, 240])
    for n in range(1, 213):
        progress.feed(0, f"PROGRESS:  0:00:00:00 ({n}): 0 Seconds")
    assert progress_lines(progress, 8) == (
        "openjd_progress: 44.2",
        "openjd_status: 212/480 frames, 8 processes",
    )
