"""Submit always ends in one visible outcome, launch after launch, also under CPU load.

Issue 13: in 3 of 6 launches against a farm with a conda queue environment, Submit did
nothing visible; stderr had `RuntimeError: Internal C++ object (PySide6.QtWidgets.
QLineEdit) already deleted`. The deadline dialog rebuilds its queue-parameter widgets
each time the queue environments (re)load; a rebuild that runs before Qt has deleted
the previous one's group box found that doomed box by its group label and put the new
controls into it, so they died with it, and Submit's `get_parameters()` raised outside
the dialog's own error handling. The queue environment here groups its parameters
(`userInterface.groupLabel`, as an administrator's template may), which is what puts
the controls in such a box. Each launch opens the real submitter against the local
Deadline Cloud server and moto, clicks Submit and waits for the job id or an error.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from deadline_server import LocalAws
from submit_samples import make_export
from test_gui_submit_wire import (  # noqa: F401 (farm_home is a fixture used below)
    WAIT_MS,
    click_submit,
    farm_home,
)

pytestmark = [pytest.mark.gui, pytest.mark.slow]

LAUNCHES = 20

#: The Conda queue environment of the local server, its parameters in a group.
GROUPED_CONDA = """\
specificationVersion: environment-2023-09
parameterDefinitions:
- name: CondaPackages
  type: STRING
  description: Conda packages to install for the job
  default: ""
  userInterface:
    control: LINE_EDIT
    label: Conda Packages
    groupLabel: Software Environment
- name: CondaChannels
  type: STRING
  default: "deadline-cloud"
  userInterface:
    control: LINE_EDIT
    label: Conda Channels
    groupLabel: Software Environment
environment:
  name: Conda
  script:
    actions:
      onEnter:
        command: "true"
"""

BUSY = "import time\nend = time.monotonic() + 120\nwhile time.monotonic() < end:\n    pass\n"


def launch(qtbot: Any, export_path: Path) -> Any:
    """The submitter as an artist launches it: the library's login probe still running.

    In a fresh process the status probe answers after the dialog has started loading the
    queue environments, and its answer makes the dialog reload them: two loads overlap,
    as they did on the farm. Here the probe is restarted the moment the dialog shows.
    """
    from deadline.client.ui.deadline_authentication_status import DeadlineAuthenticationStatus
    from stmpo.export import load_export
    from stmpo.gui.app import build_dialog

    dialog = build_dialog(load_export(export_path), str(export_path))
    qtbot.addWidget(dialog)
    dialog.show()
    status = DeadlineAuthenticationStatus.getInstance()
    status.refresh_status()
    qtbot.waitUntil(lambda: status.api_availability is True, timeout=WAIT_MS)
    qtbot.waitUntil(dialog.submit_button.isEnabled, timeout=WAIT_MS)
    return dialog


@pytest.fixture
def grouped_conda(aws: LocalAws) -> Iterator[None]:
    (environment,) = aws.deadline.state.queue.environments
    before = environment.template
    environment.template = GROUPED_CONDA
    yield
    environment.template = before


def busy_loops() -> list[subprocess.Popen[bytes]]:
    """One busy-looping process per core: the submitter now competes for every core."""
    import os

    return [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(os.cpu_count() or 1)]


def test_submit_ends_in_a_job_id_twenty_launches_in_a_row_the_last_ten_under_cpu_load(
    farm_home: Path,  # noqa: F811
    aws: LocalAws,
    grouped_conda: None,
    qtbot: Any,
    tmp_path: Path,
) -> None:
    export_path = make_export(tmp_path, "again", footage_frames=1, font=False)
    started = time.monotonic()
    busy: list[subprocess.Popen[bytes]] = []
    try:
        for attempt in range(LAUNCHES):
            if attempt == LAUNCHES // 2:
                busy = busy_loops()
            dialog = launch(qtbot, export_path)
            progress, seen = click_submit(qtbot, dialog)
            boxes = [text for text in seen if text.startswith("message box:")]
            assert dialog.job_id, (attempt, seen, progress.submission_log.toPlainText())
            assert boxes == [], (attempt, boxes)
            log = progress.submission_log.toPlainText()
            assert f"Submitted job {dialog.job_id} to farm {aws.farm_id}" in log, log
            assert f"deadline job get --job-id {dialog.job_id}" in log, log
            dialog.close()
            qtbot.waitUntil(dialog.isHidden, timeout=WAIT_MS)
    finally:
        for process in busy:
            process.kill()
            process.wait()
    creates = aws.deadline.calls("CreateJob")
    assert len(creates) == LAUNCHES
    # every job carries the queue environment's conda packages the dialog showed
    for create in creates:
        assert create.body["parameters"]["CondaPackages"] == {"string": "aftereffects=24.6"}
    print(f"{LAUNCHES} launches in {time.monotonic() - started:.1f} s")
