"""The bundle check runs off the GUI thread (ae_widget._fill_warnings): a job of
100,000 one-frame tasks takes seconds to build and measure, and the window must keep
answering meanwhile; a late answer never shows for settings the artist has left."""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from submit_samples import make_export

WAIT_MS = 120_000


def big_export(tmp_path: Path, items: int = 100, frames: int = 1000) -> Path:
    path = make_export(tmp_path, "big", items=items)
    data = json.loads(path.read_text("utf-8"))
    for item in data["renderQueue"]:
        item["frames"]["end"] = frames - 1
        item["comp"]["duration"] = frames / 25.0
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_the_window_answers_while_a_huge_job_is_checked(
    qtbot: Any, make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import QTimer

    dialog = make_dialog(big_export(tmp_path))
    tab = dialog.job_settings
    assert dialog.export_bundle_button.isEnabled()  # ChunkSize 0: 100 tasks, accepted

    ticks: list[float] = []
    heartbeat = QTimer(dialog)
    heartbeat.setInterval(20)
    heartbeat.timeout.connect(lambda: ticks.append(time.perf_counter()))
    heartbeat.start()
    started = time.perf_counter()
    tab.chunk_size.setValue(1)  # 100,000 tasks: a template over CreateJob's limit
    changed_in = time.perf_counter() - started
    qtbot.waitUntil(lambda: tab.check_call is not None, timeout=WAIT_MS)
    call = tab.check_call
    qtbot.waitUntil(lambda: not call.worker.is_alive(), timeout=WAIT_MS)
    checked_in = time.perf_counter() - started
    qtbot.waitUntil(lambda: not dialog.export_bundle_button.isEnabled(), timeout=WAIT_MS)
    heartbeat.stop()

    during = [t for t in ticks if started < t < started + checked_in]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    # The event loop kept turning while the bundle was checked on its thread.
    assert len(during) >= 3, (changed_in, checked_in, len(during))
    assert max(gaps, default=0.0) < checked_in / 2, (gaps, checked_in)
    blockers = dialog.tab_blockers()
    assert any("make a job template of" in b and "ChunkSize" in b for b in blockers), blockers
    warnings = [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]
    assert warnings == [w for w in warnings if "template" not in w]  # the refusal blocks
    print(f"change {changed_in:.2f} s on the GUI thread, check {checked_in:.2f} s on its own")


def test_an_answer_for_settings_left_behind_is_not_shown(
    qtbot: Any, make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """ChunkSize 1 (refused) then back to 0 (accepted) while the first check runs: the
    refusal's answer comes back for settings no longer shown; the tab checks again and
    ends unblocked."""
    dialog = make_dialog(big_export(tmp_path))
    tab = dialog.job_settings
    tab.chunk_size.setValue(1)
    qtbot.waitUntil(lambda: tab.check_call is not None, timeout=WAIT_MS)
    first = tab.check_call
    tab.chunk_size.setValue(0)
    qtbot.waitUntil(lambda: not first.worker.is_alive(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab._checking is None, timeout=WAIT_MS)  # delivered
    qtbot.wait(50)
    # ChunkSize 0 was checked at open: its answer is shown with no second build
    assert tab.check_call is first
    assert tab.bundle_refusals == []
    assert dialog.export_bundle_button.isEnabled()
    assert dialog.tab_blockers(now=True) == []
    # and a click right after a change answers for what is shown, check or no check
    tab.chunk_size.setValue(1)
    assert any("make a job template of" in b for b in dialog.tab_blockers(now=True))


def test_a_refused_override_leaves_the_warnings_of_the_artists_other_settings(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """ChunkSize 4 on two movie items: the CLI warns each cannot be split. An override
    outside item 1's comp is refused; the list still warns for the settings shown (the
    chunking), not for the CLI's defaults (no ChunkSize: no such warning)."""
    from gui_helpers import copy_sample

    dialog = make_dialog(copy_sample("movie_output.json", tmp_path))
    tab = dialog.job_settings
    tab.chunk_size.setValue(4)
    assert dialog.tab_blockers(now=True) == []

    def listed() -> list[str]:
        return [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]

    movie = [w for w in listed() if "writes a movie, which cannot be split" in w]
    assert len(movie) == 2, listed()
    tab.queue_table.item(0, 2).setText("0-99")  # comp frames 0-49
    blockers = dialog.tab_blockers(now=True)
    assert any("frames of item 1" in b and "outside the comp" in b for b in blockers), blockers
    assert [w for w in listed() if "writes a movie, which cannot be split" in w] == movie


def test_the_warnings_after_a_refused_override_are_never_taken_for_the_defaults(
    make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """The warnings of a refused override's own settings (ChunkSize 4: movies cannot be
    split) were kept as "the CLI defaults' warnings" and shown for later refusals of
    other settings (no item chosen)."""
    from gui_helpers import copy_sample

    def listed(tab: Any) -> list[str]:
        return [tab.warnings_list.item(i).text() for i in range(tab.warnings_list.count())]

    fresh = make_dialog(copy_sample("movie_output.json", tmp_path / "fresh"))
    fresh.job_settings.select_none_button.click()
    fresh.tab_blockers(now=True)
    expected = listed(fresh.job_settings)

    dialog = make_dialog(copy_sample("movie_output.json", tmp_path / "used"))
    tab = dialog.job_settings
    tab.chunk_size.setValue(4)
    tab.queue_table.item(0, 2).setText("0-99")  # refused: outside the comp
    assert dialog.tab_blockers(now=True)
    tab.queue_table.item(0, 2).setText("0-49")
    tab.chunk_size.setValue(0)
    assert dialog.tab_blockers(now=True) == []
    tab.select_none_button.click()
    dialog.tab_blockers(now=True)
    assert [line.replace("/used/", "/fresh/") for line in listed(tab)] == expected
    assert not any("cannot be split" in line for line in listed(tab)), listed(tab)


def test_a_click_during_a_check_of_the_same_settings_takes_that_check_s_answer(
    qtbot: Any, make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    """Building the bundle again beside the running check would only compete with it
    for the interpreter (1.75 s on the GUI thread for a 100,000-task job): the click
    waits for the running check and shows its very answer."""
    dialog = make_dialog(big_export(tmp_path))
    tab = dialog.job_settings
    tab.chunk_size.setValue(1)
    qtbot.waitUntil(lambda: tab.check_call is not None, timeout=WAIT_MS)
    call = tab.check_call
    assert call.worker.is_alive()  # a 100,000-task check takes about a second
    blockers = dialog.tab_blockers(now=True)
    assert any("make a job template of" in b for b in blockers), blockers
    assert call.outcome is not None and tab.check_call is call
    shown = [p.message for p in tab.bundle_refusals]
    assert shown == [p.message for p in call.outcome.value[1].refusals]
    assert any(check is call.outcome.value[1] for check in tab._checked.values())
