"""Drive one openjd-sessions Session through a whole job on this machine.

The order follows the `openjd run` CLI (and the Deadline worker agent): job environments
entered in order, steps in dependency order with their step environments around their
tasks, every environment that was entered exited in reverse order, also after a failure
or a cancel. The first failed action stops the job. This module is the imperative shell:
what to run comes from `plan.py`, the parameter values from `parameters.py`.

Everything the GUI needs is here: `run_bundle()` blocks the calling thread, reports
through `on_progress` (called from openjd's I/O threads, keep it quick) and `log`, and
stops when `cancel_event` is set.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from openjd.model import RevisionExtensions
from openjd.sessions import (
    LOG,
    ActionState,
    ActionStatus,
    LogContent,
    Session,
    SessionState,
)

from stmpo.local.orphans import ActionProcesses
from stmpo.local.pairing import ProgressPairing, Shown
from stmpo.local.parameters import LocalRunError, PreparedJob, prepare_job, read_bundle
from stmpo.local.plan import JobPlan, describe_task, plan_job

ActionKind = Literal["enter", "exit", "task"]

_POLL_SECONDS = 0.1
"""How often the waiting thread looks at the cancel event (a signal handler only sets it)."""
_TRACK_EVERY = 3
"""Record the action's process tree every this many polls: a full process scan costs."""
_PAIR_HOLD_SECONDS = 0.5
"""How long a percentage may wait for its status line (see `pairing.py`)."""


@dataclass(frozen=True)
class ActionRef:
    """Which action an event or a failure is about, in the words the user sees."""

    kind: ActionKind
    name: str
    """Environment name for enter/exit, step name for a task."""
    step: str | None = None
    """The step a task or step environment belongs to; None for job environments."""
    task_number: int = 0
    """1-based position of a task among all tasks of the job; 0 for environments."""
    task_count: int = 0
    step_task_number: int = 0
    step_task_count: int = 0
    parameters: str = ""
    """Task parameters as `Name=value, ...`."""

    def describe(self) -> str:
        if self.kind == "task":
            params = f" ({self.parameters})" if self.parameters else ""
            return f"step '{self.name}' task {self.step_task_number}/{self.step_task_count}{params}"
        where = f" of step '{self.step}'" if self.step else ""
        verb = "entering" if self.kind == "enter" else "exiting"
        return f"{verb} environment '{self.name}'{where}"


EventState = Literal["started", "running", "success", "failed", "canceled", "timeout"]


@dataclass(frozen=True)
class ProgressEvent:
    """A change in the running action: it started, reported progress/status, or ended."""

    action: ActionRef
    state: EventState
    progress: float | None = None
    """Percent 0-100 from the action's last `openjd_progress:` line."""
    status: str | None = None
    """The action's `openjd_status:` line that goes with `progress` (a percentage is
    held back briefly until its status line arrives, so the two always match)."""
    fail_message: str | None = None
    elapsed: float = 0.0
    """Seconds since the action started."""


@dataclass(frozen=True)
class RunResult:
    """How a local run ended. `succeeded` only when every action succeeded."""

    succeeded: bool
    canceled: bool
    tasks_total: int
    tasks_succeeded: int
    failed_action: ActionRef | None
    fail_message: str | None
    exit_code: int | None
    session_dir: Path | None
    """The session's working directory when it was kept (`keep_session_dir`)."""
    duration_seconds: float
    orphans_stopped: tuple[int, ...] = ()
    """Pids of processes that outlived their action and were stopped by us."""


ProgressCallback = Callable[[ProgressEvent], None]
LogCallback = Callable[[str], None]


def run_bundle(
    bundle_dir: str | Path,
    parameters: Mapping[str, str] | None = None,
    *,
    on_progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
    cancel_event: threading.Event | None = None,
    force_cancel_event: threading.Event | None = None,
    keep_session_dir: bool = False,
    verbose: bool = False,
) -> RunResult:
    """Run every task of a job bundle here; blocks until the job ends.

    `parameters` override the bundle's parameter_values, which override template
    defaults. Bad values raise `LocalRunError` (a `StmpoError`) before anything runs.
    `log` gets each line of the actions' output (and openjd's own messages if `verbose`).
    Setting `cancel_event` cancels the running task (NOTIFY_THEN_TERMINATE) and runs the
    environment exits; setting `force_cancel_event` cancels those exits too.
    """
    bundle = read_bundle(Path(bundle_dir))
    prepared = prepare_job(bundle, parameters or {})
    return run_job(
        prepared,
        on_progress=on_progress,
        log=log,
        cancel_event=cancel_event,
        force_cancel_event=force_cancel_event,
        keep_session_dir=keep_session_dir,
        verbose=verbose,
    )


def run_job(
    prepared: PreparedJob,
    *,
    on_progress: ProgressCallback | None = None,
    log: LogCallback | None = None,
    cancel_event: threading.Event | None = None,
    force_cancel_event: threading.Event | None = None,
    keep_session_dir: bool = False,
    verbose: bool = False,
) -> RunResult:
    """Run an already-instantiated job (see `run_bundle`)."""
    runner = _JobRunner(
        prepared,
        on_progress=on_progress,
        log=log,
        cancel_event=cancel_event or threading.Event(),
        force_cancel_event=force_cancel_event or threading.Event(),
        keep_session_dir=keep_session_dir,
        verbose=verbose,
    )
    return runner.run()


class _SessionLogHandler(logging.Handler):
    """Forwards one session's log records: action output always, the rest if verbose."""

    def __init__(self, session_id: str, runner: _JobRunner) -> None:
        super().__init__(level=logging.DEBUG)
        self._session_id = session_id
        self._runner = runner

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, "session_id", None) != self._session_id:
            return
        try:
            self._runner.on_log_record(record)
        except Exception:  # a consumer's bug must not break openjd's I/O thread
            self.handleError(record)


@dataclass
class _Entered:
    identifier: str
    ref: ActionRef
    symtab: Any


class _JobRunner:
    def __init__(
        self,
        prepared: PreparedJob,
        *,
        on_progress: ProgressCallback | None,
        log: LogCallback | None,
        cancel_event: threading.Event,
        force_cancel_event: threading.Event,
        keep_session_dir: bool,
        verbose: bool,
    ) -> None:
        self._prepared = prepared
        self._plan: JobPlan = plan_job(prepared.job)
        self._on_progress = on_progress
        self._log = log
        self._cancel = cancel_event
        self._force = force_cancel_event
        self._keep = keep_session_dir
        self._verbose = verbose
        self._done = threading.Event()
        self._current: ActionRef | None = None
        self._started_at = 0.0
        self._procs = ActionProcesses()
        self._procs_lock = threading.Lock()
        self._all_procs: list[ActionProcesses] = []
        self._failed: ActionRef | None = None
        self._fail_message: str | None = None
        self._exit_code: int | None = None
        self._canceled = False
        self._tasks_succeeded = 0
        self._orphans: list[int] = []
        self._pairing = ProgressPairing(_PAIR_HOLD_SECONDS)
        self._pairing_lock = threading.Lock()  # openjd's I/O thread and the waiting one
        self._fail_message_seen: str | None = None

    # ---- openjd callbacks (called from openjd's threads) --------------------------

    def on_log_record(self, record: logging.LogRecord) -> None:
        content = getattr(record, "openjd_log_content", None)
        message = record.getMessage()
        if (
            isinstance(content, LogContent)
            and LogContent.PROCESS_CONTROL in content
            and message.startswith("Command started as pid:")
        ):
            with contextlib.suppress(ValueError), self._procs_lock:
                self._procs.set_leader(int(message.rsplit(":", 1)[1]))
        is_output = (
            isinstance(content, LogContent)
            and LogContent.COMMAND_OUTPUT in content
            and LogContent.BANNER not in content
        )
        if is_output:
            if message.startswith(("openjd_progress:", "openjd_status:")):
                return  # shown by the progress display, noise in a log
        elif not self._verbose and record.levelno < logging.WARNING:
            return
        self._emit_log(message)

    def _on_status(self, _session_id: str, status: ActionStatus) -> None:
        if status.state == ActionState.RUNNING:
            with self._pairing_lock:
                self._fail_message_seen = status.fail_message
                now = time.monotonic()
                self._show(self._pairing.update(status.progress, status.status_message, now))
        else:
            self._done.set()

    def _show(self, shown: Shown | None) -> None:
        """Report a coherent progress/status pair (call with `_pairing_lock` held, so
        the two threads that show pairs keep their order)."""
        if shown is not None and self._current is not None:
            self._emit(
                ProgressEvent(
                    action=self._current,
                    state="running",
                    progress=shown.progress,
                    status=shown.status,
                    fail_message=self._fail_message_seen,
                    elapsed=time.monotonic() - self._started_at,
                )
            )

    # ---- helpers -------------------------------------------------------------------

    def _emit(self, event: ProgressEvent) -> None:
        if self._on_progress is not None:
            try:
                self._on_progress(event)
            except Exception:
                LOG.exception("stmpo run-local: the progress callback failed")

    def _emit_log(self, line: str) -> None:
        if self._log is not None:
            self._log(line)

    def _should_cancel(self, ref: ActionRef) -> bool:
        return (self._force if ref.kind == "exit" else self._cancel).is_set()

    def _run_action(self, session: Session, ref: ActionRef, start: Callable[[], None]) -> bool:
        """Start one action, wait for it (canceling on request), report its end."""
        self._done.clear()
        with self._pairing_lock:
            self._pairing.reset()
            self._fail_message_seen = None
        self._current = ref
        with self._procs_lock:
            self._procs = ActionProcesses()
            self._all_procs.append(self._procs)
        self._started_at = time.monotonic()
        self._emit_log(f"=== stmpo run-local: {ref.describe()} ===")
        self._emit(ProgressEvent(action=ref, state="started"))
        try:
            start()
        except (RuntimeError, ValueError) as exc:
            # The session rejected the action before starting it.
            return self._finish(ref, ActionState.FAILED, str(exc), None, None)
        polls = 0
        cancel_sent = swept = False
        while not self._done.wait(_POLL_SECONDS):
            polls += 1
            with self._pairing_lock:
                self._show(self._pairing.due(time.monotonic()))
            if polls % _TRACK_EVERY == 0:
                with self._procs_lock:
                    self._procs.track()
            if not cancel_sent and self._should_cancel(ref):
                cancel_sent = True
                with self._procs_lock:
                    self._procs.track()  # children it started since the last look
                self._emit_log(f"=== stmpo run-local: canceling {ref.describe()} ===")
                with contextlib.suppress(RuntimeError):  # it ended meanwhile
                    session.cancel_action()
            elif cancel_sent and not swept:
                with self._procs_lock:
                    if self._procs.leader_exited():
                        # Its children may hold the output pipe open, which keeps
                        # openjd waiting: stop them now rather than after its grace.
                        swept = True
                        self._orphans += self._procs.stop_survivors()
        status = session.action_status
        state = status.state if status else ActionState.FAILED
        return self._finish(
            ref,
            state,
            status.fail_message if status else None,
            status.exit_code if status else None,
            status.progress if status else None,
        )

    def _finish(
        self,
        ref: ActionRef,
        state: ActionState,
        fail_message: str | None,
        exit_code: int | None,
        progress: float | None,
    ) -> bool:
        succeeded = state == ActionState.SUCCESS
        if ref.kind != "enter" or not succeeded:
            # An environment may start a service that lives until its exit; anything
            # else still running when its action is over is an orphan.
            with self._procs_lock:
                self._orphans += self._procs.stop_survivors()
        if not succeeded and self._failed is None:
            self._failed = ref
            self._fail_message = fail_message
            self._exit_code = exit_code
        if not succeeded and self._cancel.is_set() and ref.kind != "exit":
            self._canceled = True
        if succeeded and ref.kind == "task":
            self._tasks_succeeded += 1
        with self._pairing_lock:
            self._pairing.reset()  # the end event below carries the final values
        self._emit(
            ProgressEvent(
                action=ref,
                state=_EVENT_STATE[state],
                progress=progress,
                fail_message=fail_message,
                elapsed=time.monotonic() - self._started_at,
            )
        )
        self._current = None
        return succeeded

    def _ok_to_start(self) -> bool:
        if self._cancel.is_set():
            self._canceled = True
            return False
        return self._failed is None

    # ---- the job -------------------------------------------------------------------

    def run(self) -> RunResult:
        job = self._prepared.job
        started = time.monotonic()
        root = Path(tempfile.mkdtemp(prefix="stmpo-run-local-"))
        session_id = f"stmpo-local-{uuid.uuid4().hex[:12]}"
        handler = _SessionLogHandler(session_id, self)
        LOG.addHandler(handler)
        kept: Path | None = None
        session: Session | None = None
        try:
            session = _new_session(
                session_id=session_id,
                job_parameter_values=self._prepared.parameter_values,
                job_name=str(job.name),
                callback=self._on_status,
                retain_working_dir=self._keep,
                session_root_directory=root,
                revision_extensions=RevisionExtensions(
                    spec_rev=job.revision, supported_extensions=list(job.extensions or [])
                ),
            )
            self._emit_log(f"=== stmpo run-local: session directory {session.working_directory}")
            entered: list[_Entered] = []
            try:
                for env in self._plan.job_environments:
                    if not self._ok_to_start():
                        break
                    self._enter(session, env, None, None, entered)
                if self._failed is None:
                    self._run_steps(session)
            finally:
                self._exit_all(session, entered, keep_running=False)
            if self._keep:
                kept = session.working_directory
        finally:
            try:
                with self._procs_lock:
                    for procs in self._all_procs:
                        self._orphans += procs.stop_survivors()
                if session is not None:
                    session.cleanup()
            finally:
                LOG.removeHandler(handler)
                if not self._keep:
                    shutil.rmtree(root, ignore_errors=True)
        succeeded = self._failed is None and not self._canceled
        return RunResult(
            succeeded=succeeded,
            canceled=self._canceled,
            tasks_total=self._plan.task_count,
            tasks_succeeded=self._tasks_succeeded,
            failed_action=self._failed,
            fail_message=self._fail_message,
            exit_code=self._exit_code,
            session_dir=kept,
            duration_seconds=time.monotonic() - started,
            orphans_stopped=tuple(self._orphans),
        )

    def _run_steps(self, session: Session) -> None:
        number = 0
        total = self._plan.task_count
        for step_plan in self._plan.steps:
            step = step_plan.step
            symtab = self._prepared.step_symbol_tables.get(step_plan.name)
            step_entered: list[_Entered] = []
            try:
                for env in step.stepEnvironments or []:
                    if not self._ok_to_start():
                        break
                    self._enter(session, env, step_plan.name, symtab, step_entered)
                for index, task in enumerate(step_plan.tasks, start=1):
                    number += 1
                    if not self._ok_to_start():
                        break
                    ref = ActionRef(
                        kind="task",
                        name=step_plan.name,
                        step=step_plan.name,
                        task_number=number,
                        task_count=total,
                        step_task_number=index,
                        step_task_count=len(step_plan.tasks),
                        parameters=describe_task(task),
                    )
                    self._run_action(
                        session,
                        ref,
                        functools.partial(
                            session.run_task,
                            step_script=step.script,
                            task_parameter_values=dict(task),
                            step_name=str(step.name),
                            resolved_symtab=symtab,
                        ),
                    )
            finally:
                self._exit_all(session, step_entered, keep_running=True)
            if self._failed is not None or self._canceled:
                return

    def _enter(
        self,
        session: Session,
        env: Any,
        step_name: str | None,
        symtab: Any,
        entered: list[_Entered],
    ) -> None:
        scope = f"STEP {step_name}" if step_name else "JOB"
        identifier = f"{scope} - {env.name}"
        ref = ActionRef(kind="enter", name=str(env.name), step=step_name)
        kwargs: dict[str, Any] = {"step_name": step_name} if step_name else {}

        def start() -> None:
            session.enter_environment(
                environment=env, identifier=identifier, resolved_symtab=symtab, **kwargs
            )

        self._run_action(session, ref, start)
        if identifier in session.environments_entered:
            entered.append(_Entered(identifier, ref, symtab))

    def _exit_all(self, session: Session, entered: list[_Entered], *, keep_running: bool) -> None:
        while entered:
            env = entered.pop()
            if session.state not in (SessionState.READY, SessionState.READY_ENDING):
                state = session.state.value
                self._emit_log(f"stmpo run-local: cannot exit '{env.ref.name}': session {state}")
                continue
            ref = ActionRef(kind="exit", name=env.ref.name, step=env.ref.step)
            self._run_action(
                session,
                ref,
                functools.partial(
                    session.exit_environment,
                    identifier=env.identifier,
                    keep_session_running=keep_running or bool(entered),
                    resolved_symtab=env.symtab,
                ),
            )


def _new_session(**kwargs: Any) -> Session:
    try:
        return Session(**kwargs)
    except RuntimeError as exc:
        raise LocalRunError(f"cannot start an Open Job Description session: {exc}") from exc


_EVENT_STATE: dict[ActionState, EventState] = {
    ActionState.RUNNING: "running",
    ActionState.SUCCESS: "success",
    ActionState.FAILED: "failed",
    ActionState.CANCELED: "canceled",
    ActionState.TIMEOUT: "timeout",
}
