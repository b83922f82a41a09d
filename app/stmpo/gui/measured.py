"""The time per frame an earlier job of this project measured on the queue.

Every task the worker finishes ends with a status line carrying what it measured
(`progress.measured_text`: seconds per frame per process and the startup), and Deadline
Cloud keeps an action's last status as the session action's `progressMessage` (worker
agent `scheduler/scheduler.py`). So the job history answers "how long does a frame of
this project take on this farm": SearchJobs (SUCCEEDED jobs, newest first, a few
pages), whose `jobParameters.ProjectFile` equals this export's project (the job name is
only a hint: artists rename jobs), ListSteps, ListTasks (SUCCEEDED tasks with a
`latestSessionActionId`), GetSessionAction `progressMessage`; the median over the
tasks of the newest job that has figures.

The number of calls is bounded (pages, jobs, tasks below), so a busy queue cannot slow
the tab. Any service error (no permission, throttling, a bad endpoint) or a history
without figures is "nothing measured" with the reason, never a crash: the artist's
typed estimate is always there to fall back on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import statistics
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from stmpo._worker_scripts.stmpo_worker.cachepaths import same_path
from stmpo._worker_scripts.stmpo_worker.progress import parse_measured

#: SearchJobs pages read (100 jobs each), jobs asked for their parameters (GetJob, only
#: when a search summary lacks them), matching SUCCEEDED jobs examined, tasks read.
MAX_JOB_PAGES = 3
MAX_GET_JOBS = 20
MAX_JOBS = 3
MAX_TASKS = 20
PAGE_SIZE = 100


@dataclass(frozen=True)
class Measured:
    """What the queue's history says; `seconds_per_frame` None = nothing measured."""

    seconds_per_frame: float | None
    startup_s: float | None = None
    job_name: str = ""
    job_id: str = ""
    ended_at: dt.datetime | None = None
    tasks: int = 0
    reason: str = ""
    #: The queue whose history answered; and whether the lookup failed (a service
    #: error, throttling, no network) rather than found nothing: a figure found before
    #: on the same queue still holds then.
    queue_id: str = ""
    failed: bool = False

    @property
    def found(self) -> bool:
        return self.seconds_per_frame is not None

    @property
    def text(self) -> str:
        """`10.0 s per frame (measured on job “spot”, 2026-12-01)` or why nothing was."""
        if self.seconds_per_frame is None:
            return f"Nothing measured: {self.reason}"
        when = f", {self.ended_at.date().isoformat()}" if self.ended_at else ""
        return (
            f"{_seconds(self.seconds_per_frame)} s per frame (measured on job "
            f"\u201c{self.job_name}\u201d{when}, median of {self.tasks} "
            f"task{'s' if self.tasks != 1 else ''})"
        )


def _seconds(value: float) -> str:
    """`10.0`, `3.2`, `0.16`: a tenth of a second, two figures below one second."""
    return f"{value:.1f}" if value >= 1 else f"{value:.2g}"


def nothing(reason: str, queue_id: str = "", *, failed: bool = False) -> Measured:
    return Measured(None, reason=reason, queue_id=queue_id, failed=failed)


def same_project(a: str, b: str) -> bool:
    """Paths as the submitter wrote them: separators and, for Windows paths (drive
    letters, UNC), letter case do not make another project (the file cache's one
    definition of path equality, cachepaths.same_path)."""
    return same_path(a.strip(), b.strip())


def _parameter_path(parameters: Mapping[str, Any], name: str) -> str | None:
    value = parameters.get(name)
    if not isinstance(value, Mapping):
        return None
    text = value.get("path", value.get("string"))
    return text if isinstance(text, str) else None


def _error_reason(exc: Exception) -> str:
    """`AccessDeniedException on SearchJobs: ...`, one line, for the tab."""
    response = getattr(exc, "response", None)
    if isinstance(response, Mapping):
        error = response.get("Error") or {}
        code, message = error.get("Code", ""), error.get("Message", "")
        operation = getattr(exc, "operation_name", "")
        if code:
            text = f"{code} on {operation}: {message}" if operation else f"{code}: {message}"
            return " ".join(text.split())[:200]
    return (" ".join(str(exc).split()) or type(exc).__name__)[:200]


def _newest_jobs(client: Any, farm_id: str, queue_id: str) -> Iterator[Mapping[str, Any]]:
    """The queue's SUCCEEDED jobs, newest first, from SearchJobs (the service filters and
    sorts, so a busy queue's newest jobs come first whatever its size; the filter and
    sort names are the ones the `deadline` library itself sends). A page is asked for
    only when the caller reads past the previous one."""
    offset: int | None = 0
    for _page in range(MAX_JOB_PAGES):
        if offset is None:
            break
        answer = client.search_jobs(
            farmId=farm_id,
            queueIds=[queue_id],
            itemOffset=offset,
            pageSize=PAGE_SIZE,
            filterExpressions={
                "filters": [
                    {
                        "stringFilter": {
                            "name": "TASK_RUN_STATUS",
                            "operator": "EQUAL",
                            "value": "SUCCEEDED",
                        }
                    }
                ],
                "operator": "AND",
            },
            sortExpressions=[{"fieldSort": {"name": "CREATED_AT", "sortOrder": "DESCENDING"}}],
        )
        yield from answer.get("jobs", [])
        offset = answer.get("nextItemOffset")


def _task_actions(client: Any, ids: Mapping[str, str]) -> Iterator[str]:
    """Session action ids of the job's SUCCEEDED tasks, at most MAX_TASKS."""
    count = 0
    for step in client.list_steps(**ids, maxResults=PAGE_SIZE).get("steps", []):
        answer = client.list_tasks(**ids, stepId=step["stepId"], maxResults=PAGE_SIZE)
        for task in answer.get("tasks", []):
            action = task.get("latestSessionActionId")
            if task.get("runStatus") == "SUCCEEDED" and action:
                yield action
                count += 1
                if count >= MAX_TASKS:
                    return


def _job_figures(client: Any, ids: Mapping[str, str]) -> list[tuple[float, float]]:
    figures = []
    for action_id in _task_actions(client, ids):
        action = client.get_session_action(**ids, sessionActionId=action_id)
        figure = parse_measured(str(action.get("progressMessage") or ""))
        if figure is not None:
            figures.append(figure)
    return figures


def measured_time(client: Any, farm_id: str, queue_id: str, project_path: str) -> Measured:
    """The newest SUCCEEDED job of `project_path` on the queue that carries the worker's
    figures, and their median; or nothing measured, with why."""
    try:
        found = _measured_time(client, farm_id, queue_id, project_path)
    except Exception as exc:  # botocore, credentials, endpoint: nothing measured
        reason = f"the queue's jobs could not be read ({_error_reason(exc)})"
        return nothing(reason, queue_id, failed=True)
    return dataclasses.replace(found, queue_id=queue_id)


def _measured_time(client: Any, farm_id: str, queue_id: str, project_path: str) -> Measured:
    examined = 0
    opened = 0
    for summary in _newest_jobs(client, farm_id, queue_id):
        ids = {"farmId": farm_id, "queueId": queue_id, "jobId": summary["jobId"]}
        job = summary
        if "jobParameters" not in summary:  # the summary should carry them; else ask
            if opened >= MAX_GET_JOBS:
                continue
            opened += 1
            job = dict(client.get_job(**ids))
            job["jobParameters"] = job.get("parameters") or {}
        project = _parameter_path(job.get("jobParameters") or {}, "ProjectFile")
        if project is None or not same_project(project, project_path):
            continue
        examined += 1
        figures = _job_figures(client, ids)
        if figures:
            return Measured(
                seconds_per_frame=statistics.median(frame for _startup, frame in figures),
                startup_s=statistics.median(startup for startup, _frame in figures),
                job_name=str(job.get("name", "")),
                job_id=str(job.get("jobId", "")),
                ended_at=job.get("endedAt"),
                tasks=len(figures),
            )
        if examined >= MAX_JOBS:
            break
    if not examined:
        return nothing("no finished job of this project on the queue")
    return nothing(
        f"the last {examined} finished job{'s' if examined != 1 else ''} of this project "
        "reported no time per frame"
    )
