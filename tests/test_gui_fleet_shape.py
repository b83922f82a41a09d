"""The preview's worker shape from the queue's fleets, over the real wire protocol.

The local Deadline server answers ListQueueFleetAssociations and GetFleet as the service
model describes them; the submitter's "From the queue's fleets" button reads them with a
botocore client and fills the worker shape, or says why not and keeps the typed one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deadline_server import DeadlineServer, Fleet, LocalAws
from gui_helpers import copy_sample, settings_of_tab
from test_gui_submit_wire import farm_home  # noqa: F401 (a fixture used below)

pytestmark = pytest.mark.gui

GIB = 1024


@pytest.fixture
def fleets(server: DeadlineServer) -> Iterator[list[Fleet]]:
    """Two active fleets and a stopped one (its workers take nothing new) on the queue."""
    state = server.state
    made = [
        Fleet("fleet-" + "a" * 32, "Render big", (32, 64), (128 * GIB, None)),
        Fleet("fleet-" + "b" * 32, "Render spot", (16, None), (64 * GIB, 128 * GIB), True),
        Fleet("fleet-" + "c" * 32, "Old tiny", (2, 2), (4 * GIB, 4 * GIB)),
    ]
    for fleet, status in zip(made, ("ACTIVE", "ACTIVE", "STOPPED"), strict=True):
        state.farm.fleets[fleet.fleet_id] = fleet
        state.queue.fleet_associations.append((fleet.fleet_id, status))
    yield made
    state.farm.fleets.clear()
    state.queue.fleet_associations.clear()


def test_the_server_answers_fleet_associations_and_fleets_as_modelled(
    server: DeadlineServer, client: Any, fleets: list[Fleet]
) -> None:
    farm, queue = server.state.farm.farm_id, server.state.queue.queue_id
    listed = client.list_queue_fleet_associations(farmId=farm, queueId=queue)
    assert [(a["fleetId"], a["status"]) for a in listed["queueFleetAssociations"]] == [
        (fleet.fleet_id, status)
        for fleet, status in zip(fleets, ("ACTIVE", "ACTIVE", "STOPPED"), strict=True)
    ]
    spot = client.get_fleet(farmId=farm, fleetId=fleets[1].fleet_id)
    capabilities = spot["configuration"]["serviceManagedEc2"]["instanceCapabilities"]
    assert capabilities["vCpuCount"] == {"min": 16}
    assert capabilities["memoryMiB"] == {"min": 64 * GIB, "max": 128 * GIB}
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.get_fleet(farmId=farm, fleetId="fleet-" + "0" * 32)


def open_tab(make_dialog: Callable[[Path], Any], tmp_path: Path) -> Any:
    target = copy_sample("image_sequence.json", tmp_path)
    tab = make_dialog(target).job_settings
    tab.preview_cpus.setValue(256)
    tab.preview_ram.setValue(1024.0)
    return tab


def test_the_button_fills_the_worker_shape_with_the_least_active_fleet_worker(
    qtbot: Any,
    make_dialog: Callable[[Path], Any],
    tmp_path: Path,
    server: DeadlineServer,
    client: Any,
    fleets: list[Fleet],
) -> None:
    from deadline.client.config import set_setting

    tab = open_tab(make_dialog, tmp_path)
    # named after the dialog opened: the button reads the config at the click, and the
    # dialog itself must not go looking for that farm's queue parameters without a login
    set_setting("defaults.farm_id", server.state.farm.farm_id)
    set_setting("defaults.queue_id", server.state.queue.queue_id)
    before = tab.previews[0].processes
    tab.fleet_shape.client_factory = lambda: client
    with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=30_000):
        tab.fleet_shape.button.click()
    # the least of the ACTIVE fleets: 16 vCPUs (spot), 64 GB (spot); the stopped 2-vCPU
    # fleet schedules nothing new and is ignored
    assert tab.preview_cpus.value() == 16
    assert tab.preview_ram.value() == 64.0
    note = tab.fleet_shape.note.text()
    assert "least of 2 fleets" in note and "16 vCPUs, 64 GB" in note, note
    assert tab.previews[0].processes != before  # the plan follows the shape
    assert [c.operation for c in server.calls()].count("GetFleet") == 2


def test_an_unreachable_farm_keeps_the_typed_shape_and_says_why(
    qtbot: Any, make_dialog: Callable[[Path], Any], tmp_path: Path, server: DeadlineServer
) -> None:
    import boto3
    from botocore.config import Config
    from deadline.client.config import set_setting

    tab = open_tab(make_dialog, tmp_path)
    tab.fleet_shape.button.click()  # a fresh HOME names no farm
    assert "No default farm and queue set" in tab.fleet_shape.note.text()
    set_setting("defaults.farm_id", server.state.farm.farm_id)
    set_setting("defaults.queue_id", server.state.queue.queue_id)
    closed = boto3.client(
        "deadline",
        endpoint_url="http://127.0.0.1:9",
        region_name="us-west-2",
        aws_access_key_id="k",
        aws_secret_access_key="s",
        config=Config(retries={"max_attempts": 1}, connect_timeout=2, proxies={}),
    )
    tab.fleet_shape.client_factory = lambda: closed
    with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=30_000):
        tab.fleet_shape.button.click()
        # the look-up runs off the GUI thread: the window answers while it waits
        assert tab.fleet_shape.note.text().startswith("Looking up")
        assert not tab.fleet_shape.button.isEnabled()
    assert tab.fleet_shape.note.text().startswith("Farm not reachable (")
    assert tab.fleet_shape.button.isEnabled()
    assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (256, 1024.0)


@pytest.mark.usefixtures("farm_home")
def test_the_shape_comes_from_the_fleets_when_the_tab_opens(
    qtbot: Any, aws: LocalAws, tmp_path: Path
) -> None:
    """No click: a farm and queue set in the deadline config (as an artist's are) and the
    library's own client, pointed at the local Deadline server; the typed shape shows until
    the fleets answer, then the least active fleet's."""
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog

    state = aws.deadline.state
    big = Fleet("fleet-" + "d" * 32, "Render big", (48, 96), (192 * GIB, None), True)
    state.farm.fleets[big.fleet_id] = big
    state.queue.fleet_associations.append((big.fleet_id, "ACTIVE"))
    try:
        target = copy_sample("image_sequence.json", tmp_path)
        dialog = build_dialog(load_export(target), str(target))
        qtbot.addWidget(dialog)
        tab = dialog.job_settings
        typed = (tab.preview_cpus.value(), tab.preview_ram.value())
        assert typed != (48, 192.0)
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000) as answered:
            dialog.show()
        assert answered.args == [tab.fleet_shape.note.text()]
        assert "fleet \u201cRender big\u201d: 48 vCPUs, 192 GB" in tab.fleet_shape.note.text()
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (48, 192.0)
        assert "GetFleet" in [call.operation for call in aws.deadline.calls()]
        dialog.close()
    finally:
        state.farm.fleets.pop(big.fleet_id)
        state.queue.fleet_associations.remove((big.fleet_id, "ACTIVE"))


def test_without_a_farm_the_tab_opens_on_the_typed_shape_and_asks_nothing(
    qtbot: Any, make_dialog: Callable[[Path], Any], tmp_path: Path
) -> None:
    tab = open_tab(make_dialog, tmp_path)
    qtbot.wait(200)  # the look-up at open would have started by now
    assert tab.fleet_shape.note.text() == "Typed by hand"
    assert tab.fleet_shape.pending is None
    assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (256, 1024.0)


@pytest.mark.usefixtures("farm_home")
def test_the_shape_follows_the_queue_chosen_in_the_dialog(
    qtbot: Any, aws: LocalAws, tmp_path: Path
) -> None:
    """The library persists a queue picked in the dialog and emits `selection_changed`
    (DeadlineUIController.select_queue): the preview reads that queue's fleets."""
    from deadline.client.ui.controllers import DeadlineUIController
    from deadline_server import Queue
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog

    state = aws.deadline.state
    first = Fleet("fleet-" + "e" * 32, "Render big", (48, 96), (192 * GIB, None), True)
    small = Fleet("fleet-" + "f" * 32, "Render small", (8, 8), (32 * GIB, None), True)
    other = Queue("queue-" + "9" * 32, "Previz", state.queue.bucket)
    other.fleet_associations.append((small.fleet_id, "ACTIVE"))
    state.farm.fleets.update({first.fleet_id: first, small.fleet_id: small})
    state.queue.fleet_associations.append((first.fleet_id, "ACTIVE"))
    state.farm.queues[other.queue_id] = other
    try:
        target = copy_sample("image_sequence.json", tmp_path)
        dialog = build_dialog(load_export(target), str(target))
        qtbot.addWidget(dialog)
        tab = dialog.job_settings
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000):
            dialog.show()
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (48, 192.0)
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000):
            DeadlineUIController.getInstance().select_queue(other.queue_id)
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (8, 32.0)
        assert "Render small" in tab.fleet_shape.note.text()
        typed = tab.typed_shape
        # another farm chosen: the library clears the queue; no fleet lends a shape now
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000) as said:
            DeadlineUIController.getInstance().select_farm("farm-" + "7" * 32)
        assert said.args == ["No queue chosen: the typed shape"]
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == typed
        assert not tab.shape_from_fleet
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000):
            DeadlineUIController.getInstance().select_farm(state.farm.farm_id)
            DeadlineUIController.getInstance().select_queue(other.queue_id)
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (8, 32.0)
        # throttled on "From the queue's fleets": the shape this queue gave stays (as the
        # measured time does), and the note says so
        state.fail("ListQueueFleetAssociations", "ThrottlingException", "Rate exceeded")
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000) as said:
            tab.fleet_shape.button.click()
        assert "the shape this queue's fleets gave before stays" in said.args[0], said.args
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (8, 32.0)
        state.clear_faults()
        # a farm chosen while a look-up of the old queue runs: its late answer is stale
        state.on_request = lambda _operation: time.sleep(0.5)
        tab.fleet_shape.button.click()
        assert tab.fleet_shape.pending is not None
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000) as said:
            DeadlineUIController.getInstance().select_farm("farm-" + "7" * 32)
        assert said.args == ["No queue chosen: the typed shape"]
        qtbot.waitUntil(lambda: tab.fleet_shape.pending is None, timeout=60_000)
        qtbot.wait(50)
        state.on_request = None
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == typed
        assert tab.fleet_shape.note.text() == "No queue chosen: the typed shape"
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=60_000):
            DeadlineUIController.getInstance().select_farm(state.farm.farm_id)
            DeadlineUIController.getInstance().select_queue(other.queue_id)
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (8, 32.0)
        # the measured time per frame is looked up in that queue's history too
        qtbot.waitUntil(
            lambda: any(
                call.params.get("queueIds") == [other.queue_id]
                for call in aws.deadline.calls("SearchJobs")
            ),
            timeout=30_000,
        )
        dialog.close()
    finally:
        state.farm.fleets.pop(first.fleet_id)
        state.farm.fleets.pop(small.fleet_id)
        state.queue.fleet_associations.remove((first.fleet_id, "ACTIVE"))
        state.farm.queues.pop(other.queue_id)
        state.on_request = None
        state.clear_faults()


def test_a_linux_fleet_on_the_queue_does_not_shape_the_preview(
    qtbot: Any,
    make_dialog: Callable[[Path], Any],
    tmp_path: Path,
    server: DeadlineServer,
    client: Any,
) -> None:
    """After Effects jobs run on Windows and macOS workers only (the default host
    requirement): a small Linux fleet serving the same queue (a file cache's steps) never
    renders them, so it must not shrink the plan."""
    from deadline.client.config import set_setting

    state = server.state
    windows = Fleet("fleet-" + "1" * 32, "Render win", (64, 64), (256 * GIB, None), True)
    linux = Fleet("fleet-" + "2" * 32, "Cache linux", (4, 4), (8 * GIB, None), True, "LINUX")
    for fleet in (windows, linux):
        state.farm.fleets[fleet.fleet_id] = fleet
        state.queue.fleet_associations.append((fleet.fleet_id, "ACTIVE"))
    try:
        tab = open_tab(make_dialog, tmp_path)
        set_setting("defaults.farm_id", state.farm.farm_id)
        set_setting("defaults.queue_id", state.queue.queue_id)
        tab.fleet_shape.client_factory = lambda: client
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=30_000):
            tab.fleet_shape.button.click()
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (64, 256.0)
        note = tab.fleet_shape.note.text()
        assert "fleet \u201cRender win\u201d: 64 vCPUs" in note, note
        assert "not \u201cCache linux\u201d (Linux)" in note, note
        # a queue served by the Linux fleet alone has no shape to give
        state.queue.fleet_associations.remove((windows.fleet_id, "ACTIVE"))
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=30_000):
            tab.fleet_shape.button.click()
        assert "no active Windows or macOS fleet" in tab.fleet_shape.note.text()
        # ... so the shape the other fleet lent is withdrawn: the typed one, as said
        assert "the typed shape stays" in tab.fleet_shape.note.text()
        assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (256, 1024.0)
    finally:
        for fleet in (windows, linux):
            state.farm.fleets.pop(fleet.fleet_id)
        state.queue.fleet_associations.clear()


def test_a_fleet_lends_its_shape_but_the_typed_one_sticks(
    qtbot: Any,
    make_dialog: Callable[[Path], Any],
    tmp_path: Path,
    server: DeadlineServer,
    client: Any,
    fleets: list[Fleet],
) -> None:
    """The fleets' shape is this session's preview; what sticks beside the project is the
    shape the artist typed (the next open without a farm must not pass a fleet's shape
    off as typed), and a shape typed while the look-up runs is not overwritten."""
    import time

    from deadline.client.config import set_setting

    tab = open_tab(make_dialog, tmp_path)  # typed: 256 threads, 1024 GB
    set_setting("defaults.farm_id", server.state.farm.farm_id)
    set_setting("defaults.queue_id", server.state.queue.queue_id)
    tab.fleet_shape.client_factory = lambda: client
    with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=30_000):
        tab.fleet_shape.button.click()
    assert (tab.preview_cpus.value(), tab.preview_ram.value()) == (16, 64.0)
    saved = settings_of_tab(tab)
    assert (saved.preview_cpus, saved.preview_ram_gb) == (256, 1024.0)
    tab.preview_cpus.setValue(24)  # typed after the fleet answered: now it is the artist's
    saved = settings_of_tab(tab)
    assert (saved.preview_cpus, saved.preview_ram_gb) == (24, 64.0)

    server.state.on_request = lambda _operation: time.sleep(0.3)  # a slow farm
    try:
        with qtbot.waitSignal(tab.fleet_shape.looked_up, timeout=30_000):
            tab.fleet_shape.button.click()
            tab.preview_cpus.setValue(40)  # typed while the look-up runs
    finally:
        server.state.on_request = None
    assert tab.preview_cpus.value() == 40
    assert "not applied: you typed a shape meanwhile" in tab.fleet_shape.note.text()
    assert settings_of_tab(tab).preview_cpus == 40
