"""Job properties that are not job parameters: priority, retries, failure budget.

`deadline bundle submit` takes them as `--priority`, `--max-failed-tasks-count`,
`--max-retries-per-task`, `--max-worker-count` and `--target-task-run-status`, and the
`deadline` library reads the same settings from a bundle's parameter_values as
`deadline:<name>` entries, which it moves out of the job parameters into CreateJob's own
fields (`deadline.client.job_bundle.submission.split_parameter_args`,
DEFAULT_SUPPORTED_APP_PARAMETER_NAMES). stmpo writes them there, so a bundle carries them
to `stmpo submit`, `deadline bundle submit` and the submitter dialog alike.

Bounds are CreateJob's (botocore's Deadline Cloud model, 2023-10-12): priority 0-100,
the counts 0-2147483647, maxWorkerCount -1 (no limit) or 1-2147483647 (0 is refused).

Defaults suit a render rather than the library's (5 retries per task, from
`settings.max_retries_per_task`): a task that fails because the worker cannot render at
all (no After Effects, a project it cannot open, a missing plug-in) fails the same way
every time, so retrying it five times costs five sessions of setup for nothing. One retry
covers a worker lost mid-task; ten failed tasks stop a job whose failures are systematic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_INT32 = 2_147_483_647
TARGET_STATUSES = ("READY", "SUSPENDED")


@dataclass(frozen=True)
class JobProperties:
    priority: int = 50
    max_failed_tasks_count: int = 10
    max_retries_per_task: int = 1
    max_worker_count: int | None = None
    """None: not sent, the service does not throttle the job."""
    target_task_run_status: str = "READY"

    def parameter_values(self) -> list[dict[str, Any]]:
        """The `deadline:` entries of parameter_values.yaml."""
        values: list[dict[str, Any]] = [
            {"name": "deadline:targetTaskRunStatus", "value": self.target_task_run_status},
            {"name": "deadline:priority", "value": self.priority},
            {"name": "deadline:maxFailedTasksCount", "value": self.max_failed_tasks_count},
            {"name": "deadline:maxRetriesPerTask", "value": self.max_retries_per_task},
        ]
        if self.max_worker_count is not None:
            values.append({"name": "deadline:maxWorkerCount", "value": self.max_worker_count})
        return values


#: flag -> (lowest, highest, also refused) for the integer properties.
INT_BOUNDS: dict[str, tuple[int, int, int | None]] = {
    "--priority": (0, 100, None),
    "--max-failed-tasks-count": (0, MAX_INT32, None),
    "--max-retries-per-task": (0, MAX_INT32, None),
    "--max-worker-count": (-1, MAX_INT32, 0),
}


def check_int(flag: str, text: str) -> int:
    """`text` as the flag's whole number within CreateJob's bounds; ValueError says why."""
    low, high, refused = INT_BOUNDS[flag]
    stripped = text.strip()
    digits = stripped[1:] if stripped.startswith("-") else stripped
    if not digits.isdecimal() or not digits.isascii() or len(digits) > 12:
        raise ValueError(f'must be a whole number, got "{text}"')
    value = int(stripped)
    if value < low or value > high:
        raise ValueError(f"must be between {low} and {high}, got {value}")
    if value == refused:
        raise ValueError(f"cannot be {value} (use -1 for no limit)")
    return value


def check_status(text: str) -> str:
    status = text.strip().upper()
    if status not in TARGET_STATUSES:
        raise ValueError(f'must be ready or suspended, got "{text}"')
    return status
