"""The time per frame an earlier job of the project measured, from worker to submitter.

The real worker (with the aerender stand-in) ends a task with a status line carrying
what it measured; the seeded jobs on the local Deadline server carry that very line as
their session actions' `progressMessage` (as the worker agent reports it), so the worker's
wording and the submitter's parser cannot drift apart. The lookup reads them through a
botocore client over the real wire protocol; nothing is patched.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from deadline_server import DeadlineServer
from gui_helpers import copy_sample, settings_of_tab
from stmpo._worker_scripts.stmpo_worker.progress import parse_measured
from stmpo.export import load_export
from stmpo.gui.measured import measured_time
from stmpo.gui.settings import save_sticky, sticky_path
from stmpo_worker_harness import base_env, make_scene, render_argv, run
from test_gui_submit_wire import farm_home as farm_home  # the fixture, shared

PROJECT = "C:\\shows\\spot\\spot.aep"
OTHER = "C:\\shows\\other\\other.aep"


@pytest.fixture(scope="module")
def worker_status(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The last `openjd_status` text of a real worker run (what Deadline Cloud keeps as
    the task's session action `progressMessage`): 8 frames over 2 processes, each
    stand-in frame burning 0.05 s of CPU."""
    scene = make_scene(tmp_path_factory.mktemp("measured"))
    argv = render_argv(scene, "0-7", "--concurrency", "2")
    result = run(argv, base_env(scene, STANDIN_FRAME_SEC="0.05"))
    assert result.returncode == 0, result.stdout
    statuses = [
        line.removeprefix("openjd_status: ")
        for line in result.stdout.splitlines()
        if line.startswith("openjd_status: ")
    ]
    return statuses[-1]


def scaled(status: str, factor: float) -> str:
    """The worker's own line with its figures multiplied (another job's timings)."""
    figure = parse_measured(status)
    assert figure is not None
    startup, frame = figure
    from stmpo._worker_scripts.stmpo_worker.progress import measured_text

    head = status.split(", ")[:2]
    return ", ".join([*head, measured_text(startup * factor, frame * factor)])


@pytest.fixture
def history(server: DeadlineServer) -> Iterator[Any]:
    """The module server's state with no jobs before and after the test."""
    server.state.jobs.clear()
    yield server.state
    server.state.jobs.clear()
    server.state.clear_faults()


def project_parameters(path: str) -> dict[str, dict[str, str]]:
    return {"ProjectFile": {"path": path}, "Concurrency": {"int": "0"}}


def test_the_worker_ends_a_task_with_the_time_per_frame_it_measured(worker_status: str) -> None:
    assert worker_status.startswith("8/8 frames, ")
    assert "0 processes" not in worker_status  # the last word: what was measured
    figure = parse_measured(worker_status)
    assert figure is not None, worker_status
    startup, frame = figure
    # each frame burns 0.05 s of CPU in the stand-in: never measured below that
    assert 0.05 <= frame < 5.0, worker_status
    assert 0.0 <= startup < 30.0, worker_status
    assert parse_measured("8/8 frames, 0 processes") is None  # an older worker's line
    # the line workers wrote before it left out "0 processes" still reads
    older = "8/8 frames, 0 processes, 3.2 s/frame per process, startup 12 s"
    assert parse_measured(older) == (12.0, 3.2)


def test_the_lookup_takes_this_projects_newest_succeeded_job(
    client: Any, server: DeadlineServer, history: Any, worker_status: str
) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    # older jobs of another project, more than a page of 100 (in creation order, this
    # project's jobs come after them)
    for n in range(105):
        history.seed_finished_job(
            f"other {n}",
            project_parameters(OTHER),
            [scaled(worker_status, 7.0)],
            created_at=now - dt.timedelta(days=30, minutes=n),
        )
    older = history.seed_finished_job(
        "spot v1",
        project_parameters(PROJECT),
        [scaled(worker_status, 3.0)] * 2,
        created_at=now - dt.timedelta(days=2),
    )
    mine = history.seed_finished_job(
        "spot v2",
        project_parameters(PROJECT),
        [worker_status, worker_status, None],  # a task of an older worker: no figure
        created_at=now - dt.timedelta(days=1),
    )
    history.seed_finished_job(  # newer, this project, but it failed
        "spot v3",
        project_parameters(PROJECT),
        [scaled(worker_status, 5.0)],
        status="FAILED",
        created_at=now - dt.timedelta(hours=1),
    )
    history.seed_finished_job(  # newest, another project
        "other new",
        project_parameters(OTHER),
        [scaled(worker_status, 9.0)],
        created_at=now,
    )
    farm, queue = history.farm.farm_id, history.queue.queue_id
    # the project path as another submitter wrote it: separators and case of a Windows path
    found = measured_time(client, farm, queue, PROJECT.lower().replace("\\", "/"))
    expected = parse_measured(worker_status)
    assert expected is not None
    assert found.found, found.reason
    assert (found.startup_s, found.seconds_per_frame) == expected
    assert (found.job_name, found.job_id, found.tasks) == ("spot v2", mine.job_id, 2)
    assert found.ended_at == mine.ended_at
    assert "measured on job \u201cspot v2\u201d" in found.text
    assert found.job_id != older.job_id
    # one SearchJobs: the service filtered SUCCEEDED jobs and sorted them newest first,
    # and the summaries carry the job parameters, so no job was opened one by one
    (search,) = server.calls("SearchJobs")
    assert search.params["sortExpressions"] == [
        {"fieldSort": {"name": "CREATED_AT", "sortOrder": "DESCENDING"}}
    ]
    assert server.calls("GetJob") == [] and server.calls("ListJobs") == []
    read = [c.params["jobId"] for c in server.calls("ListSteps")]
    assert read == [mine.job_id]


def test_no_job_of_this_project_means_nothing_measured(
    client: Any, history: Any, worker_status: str
) -> None:
    history.seed_finished_job("other", project_parameters(OTHER), [worker_status])
    found = measured_time(client, history.farm.farm_id, history.queue.queue_id, PROJECT)
    assert not found.found
    assert found.reason == "no finished job of this project on the queue"


def test_a_job_without_figures_is_not_a_measurement(client: Any, history: Any) -> None:
    history.seed_finished_job(
        "spot", project_parameters(PROJECT), [None, "4/4 frames, 0 processes"]
    )
    found = measured_time(client, history.farm.farm_id, history.queue.queue_id, PROJECT)
    assert not found.found and found.seconds_per_frame is None
    assert "reported no time per frame" in found.reason


def test_no_permission_means_nothing_measured_with_the_reason(
    client: Any, history: Any, worker_status: str
) -> None:
    history.seed_finished_job("spot", project_parameters(PROJECT), [worker_status])
    history.fail(
        "GetSessionAction", "AccessDeniedException", "not authorized: deadline:GetSessionAction"
    )
    found = measured_time(client, history.farm.farm_id, history.queue.queue_id, PROJECT)
    assert not found.found
    assert "AccessDeniedException on GetSessionAction" in found.reason, found.reason
    history.fail("SearchJobs", "AccessDeniedException", "not authorized: deadline:SearchJobs")
    found = measured_time(client, history.farm.farm_id, history.queue.queue_id, PROJECT)
    assert "AccessDeniedException on SearchJobs" in found.reason, found.reason


def test_the_server_answers_the_history_as_modelled(client: Any, history: Any) -> None:
    job = history.seed_finished_job("spot", project_parameters(PROJECT), ["1/1 frames"])
    ids = {"farmId": history.farm.farm_id, "queueId": history.queue.queue_id}
    got = client.get_job(**ids, jobId=job.job_id)
    assert got["parameters"]["ProjectFile"] == {"path": PROJECT}
    assert got["taskRunStatus"] == "SUCCEEDED"
    (step,) = client.list_steps(**ids, jobId=job.job_id)["steps"]
    (task,) = client.list_tasks(**ids, jobId=job.job_id, stepId=step["stepId"])["tasks"]
    action = client.get_session_action(
        **ids, jobId=job.job_id, sessionActionId=task["latestSessionActionId"]
    )
    assert action["progressMessage"] == "1/1 frames"
    assert action["definition"]["taskRun"]["taskId"] == task["taskId"]
    for call, extra in (
        (client.get_job, {"jobId": "job-" + "0" * 32}),
        (client.list_steps, {"jobId": "job-" + "0" * 32}),
        (client.list_tasks, {"jobId": job.job_id, "stepId": "step-" + "0" * 32}),
        (
            client.get_session_action,
            {"jobId": job.job_id, "sessionActionId": "sessionaction-" + "0" * 32 + "-0"},
        ),
    ):
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            call(**ids, **extra)
    with pytest.raises(client.exceptions.ValidationException):
        client.list_jobs(**ids, maxResults=101)


def test_the_server_searches_jobs_as_the_library_asks(client: Any, history: Any) -> None:
    """SearchJobs with the filter and sort names the `deadline` library sends: pages by
    itemOffset, totals, newest first, summaries with their parameters; a filter the
    fake does not model is refused, not answered with a guess."""
    now = dt.datetime.now(dt.timezone.utc)
    made = [
        history.seed_finished_job(
            f"j{n}",
            project_parameters(PROJECT),
            ["1/1 frames"],
            status="FAILED" if n % 3 == 0 else "SUCCEEDED",
            created_at=now - dt.timedelta(minutes=n),
        )
        for n in range(7)
    ]
    succeeded = [job.job_id for job in made if job.task_run_status == "SUCCEEDED"]
    search = {
        "farmId": history.farm.farm_id,
        "queueIds": [history.queue.queue_id],
        "filterExpressions": {
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
        "sortExpressions": [{"fieldSort": {"name": "CREATED_AT", "sortOrder": "DESCENDING"}}],
        "pageSize": 3,
    }
    first = client.search_jobs(**search, itemOffset=0)
    second = client.search_jobs(**search, itemOffset=first["nextItemOffset"])
    assert first["totalResults"] == len(succeeded) == 4
    assert [j["jobId"] for j in first["jobs"] + second["jobs"]] == succeeded  # newest first
    assert "nextItemOffset" not in second
    assert first["jobs"][0]["jobParameters"]["ProjectFile"] == {"path": PROJECT}
    with pytest.raises(client.exceptions.ClientError, match="not modelled"):
        client.search_jobs(
            **{
                **search,
                "filterExpressions": {
                    "filters": [{"searchTermFilter": {"searchTerm": "j1"}}],
                    "operator": "AND",
                },
            },
            itemOffset=0,
        )
    with pytest.raises(client.exceptions.ValidationException):
        client.search_jobs(**search, itemOffset=10001)


@pytest.mark.gui
def test_the_tab_estimates_with_the_measured_time_found_on_a_thread(
    make_dialog: Callable[[Path], Any],
    tmp_path: Path,
    qtbot: Any,
    client: Any,
    history: Any,
    worker_status: str,
) -> None:
    target = copy_sample("image_sequence.json", tmp_path)
    project = load_export(target).project.path
    measured = parse_measured(worker_status)
    assert measured is not None
    # a slow farm: every history call takes a while, yet the tab keeps answering
    history.on_request = lambda _operation: time.sleep(0.3)
    job = history.seed_finished_job("spot v2", project_parameters(project), [worker_status])

    tab = make_dialog(target).job_settings
    view = tab.plan_view
    assert view.lookup is not None
    # gui_home names no farm: the lookup at open found nothing, and the typed estimate counts
    qtbot.waitUntil(lambda: view.measured is not None, timeout=10_000)
    assert not view.use_measured.isEnabled()
    assert "no default farm and queue" in view.measured_label.text()
    view.seconds_per_frame.setValue(100.0)
    typed = view.summary_label.text()
    assert "your estimate, 100 s" in typed

    view.lookup.client_factory = lambda: client
    view.lookup.queue_ids = lambda: (history.farm.farm_id, history.queue.queue_id)
    began = time.monotonic()
    with qtbot.waitSignal(view.lookup.finished, timeout=30_000):
        view.lookup_button.click()
        assert time.monotonic() - began < 0.25  # the calls run on a thread
        view.hourly_price.setValue(2.0)  # the tab answers while the lookup runs
        assert "cost ~" in view.summary_label.text()
    qtbot.waitUntil(lambda: view.using_measured(), timeout=5_000)
    text = view.summary_label.text()
    assert "measured on job \u201cspot v2\u201d" in text, text
    assert job.ended_at is not None and job.ended_at.date().isoformat() in text
    assert view.effective_seconds_per_frame() == measured[1]
    assert text != typed and not view.seconds_per_frame.isEnabled()
    # the artist's own estimate back with one click
    view.use_measured.setChecked(False)
    assert "your estimate, 100 s" in view.summary_label.text()
    assert view.effective_seconds_per_frame() == 100.0
    # the choice sticks with the settings, and a later lookup keeps it
    settings = settings_of_tab(tab)
    assert settings.prefer_measured_time is False
    with qtbot.waitSignal(view.lookup.finished, timeout=30_000):
        view.lookup_button.click()
    assert view.use_measured.isEnabled() and not view.use_measured.isChecked()
    assert view.effective_seconds_per_frame() == 100.0
    history.on_request = None
    save_sticky(settings, sticky_path(load_export(target), target))
    reopened = make_dialog(target).job_settings
    assert reopened.plan_view.prefer_measured is False


@pytest.mark.gui
def test_a_failed_lookup_keeps_the_figure_found_on_the_same_queue(
    make_dialog: Callable[[Path], Any],
    tmp_path: Path,
    qtbot: Any,
    client: Any,
    history: Any,
    worker_status: str,
) -> None:
    """Throttled on "Look up again": the figure found a moment ago still holds (it
    was thrown away, the estimate falling back to the typed one); another queue's
    failure says nothing of this one's figure."""
    target = copy_sample("image_sequence.json", tmp_path)
    history.seed_finished_job(
        "spot", project_parameters(load_export(target).project.path), [worker_status]
    )
    view = make_dialog(target).job_settings.plan_view
    assert view.lookup is not None
    qtbot.waitUntil(lambda: view.measured is not None, timeout=10_000)
    view.lookup.client_factory = lambda: client
    view.lookup.queue_ids = lambda: (history.farm.farm_id, history.queue.queue_id)
    with qtbot.waitSignal(view.lookup.finished, timeout=30_000):
        view.lookup_button.click()
    assert view.using_measured()
    figure = view.effective_seconds_per_frame()

    history.fail("SearchJobs", "ThrottlingException", "Rate exceeded")
    with qtbot.waitSignal(view.lookup.finished, timeout=60_000):
        view.lookup_button.click()
    assert view.using_measured() and view.effective_seconds_per_frame() == figure
    label = view.measured_label.text()
    assert "Looking up again failed" in label and "ThrottlingException" in label, label
    assert "this figure stays" in label and "measured on job \u201cspot\u201d" in label
    assert view.lookup_button.isEnabled()

    view.lookup.queue_ids = lambda: (history.farm.farm_id, "queue-" + "8" * 32)
    with qtbot.waitSignal(view.lookup.finished, timeout=60_000):
        view.lookup_button.click()
    assert not view.using_measured()  # another queue: its own answer, a failure
    assert view.measured_label.text().startswith("Nothing measured"), view.measured_label.text()


@pytest.mark.gui
@pytest.mark.slow
def test_the_submitter_finds_the_measured_time_with_the_librarys_own_client(
    farm_home: Path, aws: Any, qtbot: Any, tmp_path: Path, worker_status: str
) -> None:
    """Nothing replaced: the dialog opens logged in to the local Deadline server (the
    `deadline` library's config, credentials and endpoint), and the lookup it starts at
    open finds the job this project ran."""
    from submit_samples import make_export
    from test_gui_submit_wire import open_when_ready

    export_path = make_export(tmp_path, "spot", items=1, footage_frames=2, font=False)
    project = load_export(export_path).project.path
    state = aws.deadline.state
    job = state.seed_finished_job("spot", project_parameters(project), [worker_status] * 3)
    try:
        dialog = open_when_ready(qtbot, export_path)
        view = dialog.job_settings.plan_view
        qtbot.waitUntil(lambda: view.measured is not None and view.measured.found, timeout=30_000)
        assert view.using_measured()
        assert "measured on job \u201cspot\u201d" in view.summary_label.text()
        assert view.measured.job_id == job.job_id and view.measured.tasks == 3
        operations = [c.operation for c in aws.deadline.calls()]
        assert {"SearchJobs", "ListSteps", "ListTasks", "GetSessionAction"} <= set(operations)
    finally:
        state.jobs.pop(job.job_id, None)


@pytest.mark.gui
def test_closing_the_tab_during_a_lookup_is_quiet(
    gui_home: Path,
    tmp_path: Path,
    qtbot: Any,
    client: Any,
    history: Any,
    worker_status: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The answer of a lookup still running when the artist closes the dialog goes
    nowhere: no exception on the lookup's thread, no crash."""
    import threading

    errors: list[BaseException | None] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: errors.append(args.exc_value))
    target = copy_sample("image_sequence.json", tmp_path)
    history.seed_finished_job(
        "spot", project_parameters(load_export(target).project.path), [worker_status]
    )
    history.on_request = lambda _operation: time.sleep(0.3)
    from stmpo.gui.app import build_dialog

    dialog = build_dialog(load_export(target), str(target))  # deleted below, by the test
    dialog.show()
    lookup = dialog.job_settings.plan_view.lookup
    lookup.client_factory = lambda: client
    lookup.queue_ids = lambda: (history.farm.farm_id, history.queue.queue_id)
    lookup.start()
    thread = lookup.worker
    assert thread is not None and thread.is_alive()
    dialog.close()
    dialog.deleteLater()
    qtbot.wait(50)  # Qt deletes the dialog, and the tab with it
    thread.join(timeout=30)
    assert not thread.is_alive()
    qtbot.wait(50)  # a queued answer, if any, would arrive now
    assert errors == []


def test_a_busy_queue_is_read_page_by_page_newest_first(
    client: Any, server: DeadlineServer, history: Any, worker_status: str
) -> None:
    """This project's last job behind 105 newer jobs of others: the second page of the
    search finds it, and no third page is asked for."""
    now = dt.datetime.now(dt.timezone.utc)
    mine = history.seed_finished_job(
        "spot v7",
        project_parameters(PROJECT),
        [worker_status],
        created_at=now - dt.timedelta(days=3),
    )
    for n in range(105):
        history.seed_finished_job(
            f"other {n}",
            project_parameters(OTHER),
            [worker_status],
            created_at=now - dt.timedelta(minutes=n),
        )
    found = measured_time(client, history.farm.farm_id, history.queue.queue_id, PROJECT)
    assert found.found and found.job_id == mine.job_id, found.reason
    assert [c.params["itemOffset"] for c in server.calls("SearchJobs")] == [0, 100]
