"""Frames from aerender's progress timecodes (worker_scripts/stmpo_worker/timecode.py),
right for drop-frame 29.97/59.94 comps hours long: the worker needs WHICH frame a
process finished (issue 10 point 4; the balanced scheduler hands out the rest of a
range from it), and the `(N)` count beside the timecode may be relative."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stmpo._worker_scripts.stmpo_worker.timecode import (
    frame_of_timecode,
    timecode_frame,
    timecode_of_frame,
)

ROOT = Path(__file__).resolve().parents[1]
STANDIN = ROOT / "resources" / "aerender_standin.py"
HOURS = 4


def _standin():
    spec = importlib.util.spec_from_file_location("aerender_standin", STANDIN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# SMPTE ST 12-1 drop-frame labels: minute 1 starts at ;02 (;04 at 59.94), minute 10
# drops nothing, and an hour of 29.97 is 107,892 frames.
KNOWN = [
    (29.97, 1799, "0;00;59;29"),
    (29.97, 1800, "0;01;00;02"),
    (29.97, 17981, "0;09;59;29"),
    (29.97, 17982, "0;10;00;00"),
    (29.97, 107892, "1;00;00;00"),
    (29.97, 3 * 107892 + 1801, "3;01;00;03"),
    (59.94, 3600, "0;01;00;04"),
    (59.94, 215784, "1;00;00;00"),
    (25.0, 90000, "1:00:00:00"),
    (23.976, 86400, "1:00:00:00"),
]


@pytest.mark.parametrize(("rate", "frame", "label"), KNOWN)
def test_known_drop_frame_labels(rate: float, frame: int, label: str) -> None:
    assert timecode_frame(f"PROGRESS:  {label} (7): 0 Seconds", rate) == frame
    assert _standin().timecode(frame, rate) == label


@given(st.integers(0, HOURS * 3600 * 60), st.sampled_from([30, 60]))
def test_drop_frame_round_trip(frame: int, nominal: int) -> None:
    label = timecode_of_frame(frame, nominal, True)
    assert frame_of_timecode(*label, nominal, True) == frame
    # a dropped label never appears: minute starts other than every tenth skip them
    _hours, minutes, seconds, frames = label
    assert not (seconds == 0 and minutes % 10 and frames < nominal // 15)


@pytest.mark.parametrize("rate", [29.97, 59.94, 23.976, 25.0, 30.0])
def test_standin_and_worker_agree_for_hours(rate: float) -> None:
    """The stand-in prints what AE prints (its own arithmetic); the worker reads it back
    to the same frame, every 997th frame over four hours and around each ten minutes."""
    standin = _standin()
    fps = round(rate)
    frames = list(range(0, HOURS * 3600 * fps, 997))
    for ten in range(1, HOURS * 6):
        edge = ten * (fps * 600 - (9 * fps // 15 if fps in (30, 60) and rate % 1 else 0))
        frames += range(edge - 3, edge + 3)
    for frame in frames:
        label = standin.timecode(frame, rate)
        assert timecode_frame(f"PROGRESS:  {label} (1): 0 Seconds", rate) == frame, label


def test_standin_prints_drop_frame_labels_an_hour_in(tmp_path: Path) -> None:
    """Through the real stand-in: a 29.97 comp rendered an hour in reports the frames it
    rendered, and the worker's reading of its lines names exactly those frames."""
    sidecar = tmp_path / "p.aep.standin.json"
    (tmp_path / "p.aep").write_bytes(b"")
    out = tmp_path / "out"
    out.mkdir()
    item = {"comp": "C", "frameRate": 29.97, "outputs": [f"{out.as_posix()}/f_[######].png"]}
    sidecar.write_text(json.dumps({"frameRate": 29.97, "items": {"1": item}}))
    start = 107892 + 1798
    done = subprocess.run(
        [
            *(sys.executable, str(STANDIN), "-project", str(tmp_path / "p.aep")),
            *("-rqindex", "1", "-s", str(start), "-e", str(start + 4)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = [timecode_frame(line, 29.97) for line in done.stdout.splitlines()]
    assert [f for f in seen if f is not None] == list(range(start, start + 5))
    assert "1;01;00;02" in done.stdout  # minute 61 starts at ;02
