"""Save a screenshot of the submitter's After Effects tab for the README (docs/submitter.png).

Usage: .venv/bin/python tools/screenshot_submitter.py [EXPORT] [OUT.png]

A picture of a real window: the tool starts its own Xvfb on a free display, opens the
submitter there with QT_QPA_PLATFORM=xcb, grabs the window from the X server and stops
Xvfb. Needs Xvfb and Qt's xcb libraries (Debian: `apt-get install xvfb libxcb-icccm4
libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0 libxcb-xinerama0 libxcb-randr0
libxcb-render-util0 libxcb-image0 libxcb-shape0`) and the dev install (moto).

The dialog talks to the tests' local Deadline Cloud (tests/deadline_server: the Deadline
server and moto for STS/S3, started here and stopped at the end) with fake keys and a
throwaway HOME whose deadline config names its farm and queue, so the login line shows
a working profile and none of your own AWS settings appear. The queue has one fleet
(64 vCPUs, 256 GB): the worker shape comes from it as the tab opens, and the plan picture
shows item 1 fanned out over 4 processes; an earlier job of the project ran on the queue,
so the job summary estimates with the time per frame it measured.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SCREEN = (1600, 2000)
WINDOW = (1000, 1940)
WAIT_S = 60.0


@contextmanager
def xvfb() -> Iterator[str]:
    """A fresh Xvfb on a display it picks itself (-displayfd); yields ":N"."""
    if shutil.which("Xvfb") is None:
        raise SystemExit("Xvfb not found: apt-get install xvfb (see this tool's docstring)")
    read_fd, write_fd = os.pipe()
    width, height = SCREEN
    process = subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{width}x{height}x24",
            "-nolisten",
            "tcp",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    try:
        with os.fdopen(read_fd, "rb") as pipe:
            number = pipe.readline().strip().decode()
        if not number.isdigit():
            raise SystemExit(f"Xvfb did not start (exit code {process.poll()})")
        yield f":{number}"
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def local_deadline(home: Path) -> Iterator[Any]:
    """The tests' local Deadline Cloud + moto; this process's environment points at it."""
    sys.path.insert(0, str(ROOT / "tests"))
    from deadline_server import LocalAws

    local = LocalAws.start()
    try:
        (home / ".aws").mkdir(parents=True, exist_ok=True)  # the library watches it
        env = local.client_env(home)  # also writes ~/.deadline/config with farm and queue
        for name in list(os.environ):
            if name not in env:
                del os.environ[name]
        os.environ.update(env)
        from deadline_server import Fleet

        fleet = Fleet("fleet-" + "5" * 32, "Render 64 vCPU", (64, 64), (256 * 1024, None), True)
        local.deadline.state.farm.fleets[fleet.fleet_id] = fleet
        local.deadline.state.queue.fleet_associations.append((fleet.fleet_id, "ACTIVE"))
        yield local
    finally:
        local.stop()


def wait_until(app: Any, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def settle(app: Any, seconds: float = 0.5) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def seed_earlier_job(local: Any, project: str) -> None:
    """A finished job of this project on the queue, its tasks' last status lines written
    by the worker's own `measured_text` (what Deadline Cloud keeps as progressMessage)."""
    sys.path.insert(0, str(ROOT / "worker_scripts"))
    from stmpo_worker.progress import measured_text

    lines = [
        f"{n}/{n} frames, {measured_text(startup, frame)}"
        for n, startup, frame in ((13, 21.0, 6.1), (12, 19.5, 6.4), (13, 22.0, 5.9))
    ]
    parameters = {"ProjectFile": {"path": project}, "Concurrency": {"int": "4"}}
    local.deadline.state.seed_finished_job("several_items v3", parameters, lines)


def shoot(export_source: Path, out: Path, display: str, home: Path, local: Any) -> bool:
    os.environ["DISPLAY"] = display
    os.environ["QT_QPA_PLATFORM"] = "xcb"
    export_path = home / export_source.name
    shutil.copy(export_source, export_path)
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog, ensure_application

    app = ensure_application()  # before the deadline dialog module builds its singletons
    from deadline.client.ui.deadline_authentication_status import DeadlineAuthenticationStatus
    from deadline.client.ui.widgets.deadline_authentication_status_widget import (
        AuthenticationState,
        DeadlineAuthenticationStatusWidget,
    )

    export = load_export(export_path)
    seed_earlier_job(local, export.project.path)
    dialog = build_dialog(export, str(export_path))
    answers: list[str] = []
    dialog.job_settings.fleet_shape.looked_up.connect(answers.append)
    dialog.move(0, 0)
    dialog.resize(*WINDOW)
    dialog.show()
    status = DeadlineAuthenticationStatus.getInstance()
    wait_until(app, lambda: status.api_availability is True, "the login probe (ListFarms)")
    wait_until(app, dialog.submit_button.isEnabled, "Submit to be enabled")
    login = dialog.findChild(DeadlineAuthenticationStatusWidget)
    state = login._get_current_auth_state_key() if login is not None else None
    if state != AuthenticationState.AUTHENTICATED_READY:
        raise SystemExit(f"the login line is not ready: {state}")

    tab = dialog.job_settings
    dialog.tabs.setCurrentIndex(dialog.tabs.indexOf(dialog.job_settings_tab))
    wait_until(app, lambda: bool(answers), "the worker shape from the queue's fleets")
    view = dialog.job_settings.plan_view
    wait_until(app, view.using_measured, "the time per frame measured by the earlier job")
    if (tab.preview_cpus.value(), tab.preview_ram.value()) != (64, 256.0):
        raise SystemExit(f"the worker shape did not come from the fleet: {answers}")
    tab.preview_numa.setValue(2)
    tab.stmpo_controls["Concurrency"].setValue(4)
    tab.plan_view.item_combo.setCurrentIndex(0)
    settle(app)
    picture = tab.plan_view.picture
    if picture.timeline is None or len(picture.timeline.bars) < 2:
        raise SystemExit("the plan picture shows fewer than 2 processes")
    dialog.job_settings_tab.ensureWidgetVisible(picture)
    handle = dialog.windowHandle()
    wait_until(app, lambda: handle is not None and handle.isExposed(), "the window to be exposed")
    settle(app, 1.0)
    screen = handle.screen()
    shot = screen.grabWindow(dialog.winId())
    ok = not shot.isNull() and shot.save(str(out))
    dialog.close()
    settle(app, 0.2)
    return ok


def main() -> int:
    source = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "resources/examples/several_items.json"
    )
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else ROOT / "docs/submitter.png"
    with tempfile.TemporaryDirectory(prefix="stmpo-screenshot-") as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        with xvfb() as display, local_deadline(home) as local:
            ok = shoot(source.resolve(), out.resolve(), display, home, local)
    print(f"wrote {out}" if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
