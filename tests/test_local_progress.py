"""`stmpo run-local`'s progress display shows a percentage with its own status line."""

from __future__ import annotations

import io
import re
import sys
from pathlib import Path

from stmpo.local.pairing import ProgressPairing, Shown
from stmpo.local.progress import Console
from stmpo.local.runner import ProgressEvent, run_bundle
from test_local_run import make_bundle


def test_a_percentage_waits_for_its_status() -> None:
    pairing = ProgressPairing(hold=0.5)
    assert pairing.update(0.0, None, 0.0) == Shown(0.0, None)  # no status to pair with yet
    assert pairing.update(0.0, "0/48 frames", 0.0) == Shown(0.0, "0/48 frames")
    assert pairing.update(12.5, "0/48 frames", 1.0) is None  # the old status: held
    assert pairing.update(12.5, "6/48 frames", 1.0) == Shown(12.5, "6/48 frames")
    assert pairing.due(9.0) is None  # nothing held any more
    assert pairing.update(12.5, "6/48 frames", 9.0) is None  # nothing new


def test_a_percentage_whose_status_never_comes_is_shown_after_the_hold() -> None:
    pairing = ProgressPairing(hold=0.5)
    assert pairing.update(10.0, "loading", 0.0) == Shown(10.0, "loading")
    assert pairing.update(20.0, "loading", 1.0) is None
    assert pairing.update(30.0, "loading", 1.2) is None  # the latest one wins
    assert pairing.due(1.4) is None
    assert pairing.due(1.5) == Shown(30.0, "loading")
    assert pairing.due(5.0) is None
    # a steady stream of lone percentages still shows one every `hold` seconds
    assert pairing.update(40.0, "loading", 6.0) is None
    assert pairing.update(50.0, "loading", 6.3) is None
    assert pairing.update(60.0, "loading", 6.5) == Shown(60.0, "loading")


def test_an_action_that_prints_no_status_shows_its_percentages_at_once() -> None:
    pairing = ProgressPairing(hold=0.5)
    assert pairing.update(0.0, None, 0.0) == Shown(0.0, None)
    assert pairing.update(50.0, None, 0.0) == Shown(50.0, None)
    assert pairing.update(100.0, None, 0.0) == Shown(100.0, None)


def test_back_to_what_is_shown_drops_the_held_one_and_reset_forgets() -> None:
    pairing = ProgressPairing(hold=0.5)
    pairing.update(10.0, "a", 0.0)
    assert pairing.update(20.0, "a", 0.1) is None
    assert pairing.update(10.0, "a", 0.2) is None
    assert pairing.due(10.0) is None
    pairing.reset()
    assert pairing.update(10.0, "a", 11.0) == Shown(10.0, "a")  # a new action shows it again


SLOW_PAIRS = """\
import time
for done in range(1, 6):
    print(f"openjd_progress: {done * 20}", flush=True)
    time.sleep(0.15)  # the status line comes a moment later, as over a busy pipe
    print(f"openjd_status: {done}/5 frames", flush=True)
"""


def test_the_bar_never_pairs_a_percentage_with_another_reports_status(tmp_path: Path) -> None:
    script = tmp_path / "reports.py"
    script.write_text(SLOW_PAIRS)
    run = {"command": sys.executable, "args": [str(script)]}
    template = {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Pairs",
        "steps": [{"name": "Render", "script": {"actions": {"onRun": run}}}],
    }
    bundle = make_bundle(tmp_path, template)
    events: list[ProgressEvent] = []
    err = io.StringIO()
    console = Console(io.StringIO(), err, live=True, shared_terminal=False)

    def on_progress(event: ProgressEvent) -> None:
        events.append(event)
        console.on_progress(event)

    result = run_bundle(bundle, on_progress=on_progress)
    assert result.succeeded
    running = [(e.progress, e.status) for e in events if e.state == "running"]
    # the first percentage has no status to pair with yet; after that, always its own
    assert running == [(20.0, None)] + [(20.0 * n, f"{n}/5 frames") for n in range(1, 6)]
    drawn = re.findall(r"\] +(\d+)% (\d)/5 frames", err.getvalue())
    assert drawn == [(str(20 * n), str(n)) for n in range(1, 6)]
