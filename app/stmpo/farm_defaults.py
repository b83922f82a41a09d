"""Where and for how long a job may run on the farm: the template's defaults and bounds.

A module of constants only, so the CLI can show them in `--help` without importing the
template builder (and pydantic behind it).
"""

from __future__ import annotations

from typing import Any

#: A render action's default `timeout`: two days, the Task Run default of the official
#: Deadline Cloud integrations (deadline-cloud-for-maya issue #387 / PR #422, after
#: Cinema 4D's). Without one a hung aerender holds a worker until someone notices.
DEFAULT_TASK_TIMEOUT_SECONDS = 172_800
#: `--task-timeout` bounds: one minute (less cannot even start After Effects) to 30 days.
MIN_TASK_TIMEOUT_SECONDS = 60
MAX_TASK_TIMEOUT_SECONDS = 30 * 86_400
#: Environment actions make folders and install fonts (or remove them): seconds of work;
#: 10 minutes, as the official Nuke integration's environment enter/exit (PR #201).
ENVIRONMENT_TIMEOUT_SECONDS = 600
#: After Effects runs on Windows and macOS only: without this a job is also offered to
#: Linux workers, where every task fails. The official After Effects templates carry the
#: same requirement on every step.
DEFAULT_HOST_REQUIREMENTS: dict[str, Any] = {
    "attributes": [{"name": "attr.worker.os.family", "anyOf": ["windows", "macos"]}]
}
