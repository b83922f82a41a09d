"""In-memory Deadline Cloud farm: the operations the `deadline` library calls to submit.

State is plain data (farms, queues, queue environments, jobs) so tests can set it up
and read it back. CreateJob checks the template with openjd-model like the service
does, so a template the service would refuse is refused here too.

CreateJob is idempotent on its `clientToken` (the `X-Amz-Client-Token` header), as the
service model declares it (`idempotencyToken: true` in botocore's
`data/deadline/2023-10-12/service-2.json`; "The unique token which the server uses to
recognize retries of the same request"; botocore fills in a random uuid when the caller
gives none). The service documents no more than that, so the fake follows AWS's general
idempotency convention ("Ensuring idempotency in Amazon EC2 API requests",
https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-idempotency.html, and the
Builders' Library article "Making retries safe with idempotent APIs"): within the
token's window the same token with the same parameters returns the original job id and
creates nothing; the same token with different parameters is refused. EC2 calls that
error IdempotentParameterMismatch; CreateJob's model lists no such error, so the fake
answers the modeled ValidationException (reason OTHER). The window is not documented
for Deadline Cloud; `idempotency_window` defaults to 8 hours, the window other AWS
APIs document (e.g. Lookout for Vision CreateModel, Backup Search).

What else CreateJob refuses, as the service does (ValidationException):
- every field outside its model constraint (`protocol.check_constraints`, from botocore's
  `data/deadline/2023-10-12/service-2.json`): `template` 1 to 1,000,000 characters,
  `parameters` at most 200 entries, each value one of int/float/string/path/... with a
  string or path value at most 1,024 characters, `priority` 0-100,
  `maxFailedTasksCount` and `maxRetriesPerTask` 0-2147483647, `maxWorkerCount`
  -1-2147483647, `targetTaskRunStatus` READY or SUSPENDED, `templateType` JSON or YAML;
- a template openjd-model does not decode, or whose job cannot be created from the
  values given (the service runs the same checks);
- more than 50 job parameter definitions once the queue environments' definitions are
  merged with the template's (`merge_job_parameter_definitions`, which also refuses two
  incompatible definitions of one name): OpenJD 2023-09 caps a template's
  `parameterDefinitions` at 50 (200 with the FEATURE_BUNDLE_1 extension; openjd-model
  0.13 `v2023_09/_model.py`), and a job's parameters are those of its queue
  environments and its template together (issue 9: "OpenJD allows 50 definitions shared
  with queue environments").
The job keeps the `deadline:` properties it was created with (priority,
maxFailedTasksCount, maxRetriesPerTask, maxWorkerCount, targetTaskRunStatus) and GetJob
answers them, so a test reads back what the service would schedule with.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .protocol import ServiceError

USER = "arn:aws:iam::123456789012:user/stmpo-test"


def new_id(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(16)}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class QueueEnvironment:
    queue_environment_id: str
    name: str
    priority: int
    template: str
    template_type: str = "YAML"


@dataclass
class StorageProfile:
    storage_profile_id: str
    display_name: str
    os_family: str  # WINDOWS | LINUX | MACOS
    #: (name, path, SHARED | LOCAL)
    locations: list[tuple[str, str, str]] = field(default_factory=list)


@dataclass
class Fleet:
    """A fleet as GetFleet describes it: only what a submitter reads (its workers'
    capabilities). `service_managed` picks `serviceManagedEc2.instanceCapabilities`
    over `customerManaged.workerCapabilities` (service model `FleetConfiguration`)."""

    fleet_id: str
    display_name: str
    vcpus: tuple[int, int | None]  # VCpuCountRange min, max (None = no max)
    memory_mib: tuple[int, int | None]  # MemoryMiBRange min, max
    service_managed: bool = False
    os_family: str = "WINDOWS"
    status: str = "ACTIVE"


@dataclass
class Queue:
    queue_id: str
    display_name: str
    bucket: str | None
    root_prefix: str = "DeadlineCloud"
    environments: list[QueueEnvironment] = field(default_factory=list)
    storage_profiles: list[StorageProfile] = field(default_factory=list)
    #: (fleet id, QueueFleetAssociationStatus) of the fleets serving this queue.
    fleet_associations: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Farm:
    farm_id: str
    display_name: str
    queues: dict[str, Queue] = field(default_factory=dict)
    fleets: dict[str, Fleet] = field(default_factory=dict)


@dataclass
class SessionAction:
    """A finished task run as GetSessionAction answers it: `progress_message` is the
    action's last `openjd_status` text (the worker agent sends it as `progressMessage`
    in UpdateWorkerSchedule: deadline-cloud-worker-agent `scheduler/scheduler.py`)."""

    session_action_id: str
    session_id: str
    status: str  # SessionActionStatus
    progress_message: str | None
    started_at: dt.datetime
    ended_at: dt.datetime


@dataclass
class Task:
    task_id: str
    run_status: str  # TaskRunStatus
    frames: str
    action: SessionAction | None = None


@dataclass
class Step:
    step_id: str
    name: str
    tasks: list[Task] = field(default_factory=list)


@dataclass
class Job:
    job_id: str
    farm_id: str
    queue_id: str
    name: str
    request: dict[str, Any]
    created_at: dt.datetime
    #: None: as created (the target status); a seeded finished job says SUCCEEDED etc.
    task_run_status: str | None = None
    ended_at: dt.datetime | None = None
    steps: list[Step] = field(default_factory=list)


@dataclass(frozen=True)
class Fault:
    """Answer `operation` with an error `times` times (None = until cleared)."""

    code: str
    message: str
    times: int | None = None
    status: int | None = None


#: OpenJD 2023-09: at most 50 job parameter definitions, 200 with FEATURE_BUNDLE_1.
MAX_JOB_PARAMETERS = 50
MAX_JOB_PARAMETERS_EXTENDED = 200

CONDA_ENVIRONMENT = """\
specificationVersion: environment-2023-09
parameterDefinitions:
- name: CondaPackages
  type: STRING
  description: Conda packages to install for the job
  default: ""
- name: CondaChannels
  type: STRING
  default: "deadline-cloud"
environment:
  name: Conda
  script:
    actions:
      onEnter:
        command: "true"
"""


@dataclass(frozen=True)
class IdempotentCreate:
    """A CreateJob remembered by its client token: what was asked, what was answered."""

    request: str  # canonical JSON of every parameter but the token
    job_id: str
    at: dt.datetime


#: MaxResults: the service model's range; its default page size is not documented.
MAX_RESULTS = 100


def _page(items: list[Any], p: dict[str, Any]) -> tuple[list[Any], dict[str, str]]:
    """One page of `items` from `nextToken` (an opaque offset here), `maxResults` long."""
    token = p.get("nextToken")
    try:
        start = int(token) if token else 0
    except ValueError:
        raise ServiceError(
            "ValidationException", f"invalid nextToken {token!r}", reason="OTHER"
        ) from None
    size = int(p.get("maxResults") or MAX_RESULTS)
    page = items[start : start + size]
    more = start + size < len(items)
    return page, ({"nextToken": str(start + size)} if more else {})


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
#: The job fields SearchJobs filters and sorts on here (names as the library sends them).
_SEARCH_FIELDS: dict[str, Callable[[Job], Any]] = {
    "TASK_RUN_STATUS": lambda job: (
        job.task_run_status or job.request.get("targetTaskRunStatus", "READY")
    ),
    "CREATED_AT": lambda job: job.created_at,
    "ENDED_AT": lambda job: job.ended_at,
}
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "EQUAL": lambda a, b: a == b,
    "NOT_EQUAL": lambda a, b: a != b,
    "GREATER_THAN_EQUAL_TO": lambda a, b: a is not None and a >= b,
    "GREATER_THAN": lambda a, b: a is not None and a > b,
    "LESS_THAN_EQUAL_TO": lambda a, b: a is not None and a <= b,
    "LESS_THAN": lambda a, b: a is not None and a < b,
}


def _not_modelled(what: str) -> ServiceError:
    return ServiceError(
        "NotImplementedByTestServer", f"SearchJobs {what} is not modelled", status=501
    )


def _search_group(group: dict[str, Any], job: Job) -> bool:
    results = [_search_filter(one, job) for one in group["filters"]]
    return all(results) if group["operator"] == "AND" else any(results)


def _search_filter(expression: dict[str, Any], job: Job) -> bool:
    if "groupFilter" in expression:
        return _search_group(expression["groupFilter"], job)
    for kind, value_key in (("stringFilter", "value"), ("dateTimeFilter", "dateTime")):
        one = expression.get(kind)
        if one is None:
            continue
        field_value = _SEARCH_FIELDS.get(one["name"])
        compare = _COMPARE.get(one["operator"])
        string_field = one["name"] == "TASK_RUN_STATUS"
        if field_value is None or compare is None or string_field != (kind == "stringFilter"):
            raise _not_modelled(f"{kind} {one['name']} {one['operator']}")
        return compare(field_value(job), one[value_key])
    raise _not_modelled(f"filter {sorted(expression)}")


class DeadlineState:
    """The farm plus the handlers, one method per operation name."""

    def __init__(self, bucket: str | None, *, validate_templates: bool = True) -> None:
        self.lock = threading.Lock()
        self.create_lock = threading.Lock()
        self.validate_templates = validate_templates
        self.farm = Farm(new_id("farm"), "STMPO Test Farm")
        queue = Queue(new_id("queue"), "STMPO Test Queue", bucket)
        queue.environments.append(
            QueueEnvironment(new_id("queueenv"), "Conda", 5, CONDA_ENVIRONMENT)
        )
        self.farm.queues[queue.queue_id] = queue
        self.queue = queue
        self.jobs: dict[str, Job] = {}
        self.faults: dict[str, Fault] = {}
        #: Operations whose answers are lost after the work is done (see `lose_answers`).
        self.lost_answers: dict[str, int | None] = {}
        self.credentials_lifetime = dt.timedelta(hours=2)
        self.idempotency_window = dt.timedelta(hours=8)
        self.client_tokens: dict[tuple[str, str, str], IdempotentCreate] = {}
        #: Test hook, called with each new job before CreateJob answers (e.g. to signal
        #: the client process, as a Ctrl-C that lands before the response would).
        self.on_job_created: Callable[[Job], None] | None = None
        #: Test hook, called with the operation name of every request before it is handled.
        self.on_request: Callable[[str], None] | None = None

    # -- test controls -----------------------------------------------------------------

    def fail(self, operation: str, code: str, message: str, times: int | None = None) -> None:
        with self.lock:
            self.faults[operation] = Fault(code, message, times)

    def lose_answers(self, operation: str, times: int | None = None) -> None:
        """Do `operation`, then answer 500 InternalServerErrorException, `times` times
        (None = until cleared): the request took effect but its answer never reached the
        client, as when a connection drops after the service committed. botocore retries
        a 5xx with the same request (and so the same client token); once its attempts
        are spent the caller sees an error although the job exists: the case a client
        token must cover when the artist tries again."""
        with self.lock:
            self.lost_answers[operation] = times

    def answer_lost(self, operation: str) -> bool:
        with self.lock:
            if operation not in self.lost_answers:
                return False
            times = self.lost_answers[operation]
            if times is not None:
                if times <= 1:
                    del self.lost_answers[operation]
                else:
                    self.lost_answers[operation] = times - 1
            return True

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()
            self.lost_answers.clear()
        self.on_job_created = None
        self.on_request = None

    def check_fault(self, operation: str) -> None:
        with self.lock:
            fault = self.faults.get(operation)
            if fault is None:
                return
            if fault.times is not None:
                if fault.times <= 1:
                    del self.faults[operation]
                else:
                    self.faults[operation] = Fault(
                        fault.code, fault.message, fault.times - 1, fault.status
                    )
        raise ServiceError(fault.code, fault.message, fault.status)

    def handler(self, operation: str) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        return getattr(self, f"op_{operation}", None)

    def seed_finished_job(
        self,
        name: str,
        parameters: dict[str, dict[str, str]],
        messages: list[str | None],
        *,
        status: str = "SUCCEEDED",
        created_at: dt.datetime | None = None,
    ) -> Job:
        """A job that ran on the queue: one step with a task per entry of `messages`
        (each task's session action's `progressMessage`; None: the action sent none),
        every task and action ending in `status` (TaskRunStatus; the action takes the
        matching SessionActionStatus)."""
        created = created_at or _now()
        ended = created + dt.timedelta(minutes=30)
        hexid = secrets.token_hex(16)
        step = Step(f"step-{hexid}", "rq001")
        for number, message in enumerate(messages):
            action = SessionAction(
                f"sessionaction-{hexid}-{number}",
                f"session-{secrets.token_hex(16)}",
                status if status in ("SUCCEEDED", "FAILED", "CANCELED") else "SUCCEEDED",
                message,
                created + dt.timedelta(minutes=1),
                ended,
            )
            step.tasks.append(
                Task(f"task-{hexid}-{number}", status, f"{number * 10}-{number * 10 + 9}", action)
            )
        job = Job(
            f"job-{hexid}",
            self.farm.farm_id,
            self.queue.queue_id,
            name,
            {"parameters": parameters, "priority": 50},
            created,
            task_run_status=status,
            ended_at=ended,
            steps=[step],
        )
        with self.lock:
            self.jobs[job.job_id] = job
        return job

    # -- lookups -----------------------------------------------------------------------

    def _job(self, p: dict[str, Any]) -> Job:
        self._queue(p["farmId"], p["queueId"])
        job = self.jobs.get(p["jobId"])
        if job is None or job.queue_id != p["queueId"]:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Job {p['jobId']} not found",
                resourceId=p["jobId"],
                resourceType="job",
            )
        return job

    def _step(self, p: dict[str, Any]) -> Step:
        for step in self._job(p).steps:
            if step.step_id == p["stepId"]:
                return step
        raise ServiceError(
            "ResourceNotFoundException",
            f"Step {p['stepId']} not found",
            resourceId=p["stepId"],
            resourceType="step",
        )

    def _farm(self, farm_id: str) -> Farm:
        if farm_id != self.farm.farm_id:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Farm {farm_id} not found",
                resourceId=farm_id,
                resourceType="farm",
            )
        return self.farm

    def _queue(self, farm_id: str, queue_id: str) -> Queue:
        queue = self._farm(farm_id).queues.get(queue_id)
        if queue is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Queue {queue_id} not found",
                resourceId=queue_id,
                resourceType="queue",
            )
        return queue

    # -- operations --------------------------------------------------------------------
    # List operations answer in one page (no nextToken): the fake farm is small. The
    # job history ones (ListJobs, ListSteps, ListTasks) page as the service model
    # declares (`maxResults` 1-100, `nextToken`), so a client's paging is exercised.

    def op_ListFarms(self, p: dict[str, Any]) -> dict[str, Any]:
        farm = self.farm
        return {
            "farms": [
                {
                    "farmId": farm.farm_id,
                    "displayName": farm.display_name,
                    "createdAt": _now(),
                    "createdBy": USER,
                }
            ]
        }

    def op_ListQueues(self, p: dict[str, Any]) -> dict[str, Any]:
        farm = self._farm(p["farmId"])
        return {
            "queues": [
                {
                    "farmId": farm.farm_id,
                    "queueId": queue.queue_id,
                    "displayName": queue.display_name,
                    "status": "IDLE",
                    "defaultBudgetAction": "NONE",
                    "createdAt": _now(),
                    "createdBy": USER,
                }
                for queue in farm.queues.values()
                if p.get("status") in (None, "IDLE")
            ]
        }

    def op_ListStorageProfilesForQueue(self, p: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(p["farmId"], p["queueId"])
        return {
            "storageProfiles": [
                {
                    "storageProfileId": sp.storage_profile_id,
                    "displayName": sp.display_name,
                    "osFamily": sp.os_family,
                }
                for sp in queue.storage_profiles
            ]
        }

    def op_GetStorageProfileForQueue(self, p: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(p["farmId"], p["queueId"])
        for sp in queue.storage_profiles:
            if sp.storage_profile_id == p["storageProfileId"]:
                return {
                    "storageProfileId": sp.storage_profile_id,
                    "displayName": sp.display_name,
                    "osFamily": sp.os_family,
                    "fileSystemLocations": [
                        {"name": name, "path": path, "type": kind}
                        for name, path, kind in sp.locations
                    ],
                }
        raise ServiceError(
            "ResourceNotFoundException",
            f"Storage profile {p['storageProfileId']} not found",
            resourceId=p["storageProfileId"],
            resourceType="storage-profile",
        )

    def op_GetFarm(self, p: dict[str, Any]) -> dict[str, Any]:
        farm = self._farm(p["farmId"])
        return {
            "farmId": farm.farm_id,
            "displayName": farm.display_name,
            "createdAt": _now(),
            "createdBy": USER,
            "costScaleFactor": 1.0,
        }

    def op_GetQueue(self, p: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(p["farmId"], p["queueId"])
        out: dict[str, Any] = {
            "farmId": p["farmId"],
            "queueId": queue.queue_id,
            "displayName": queue.display_name,
            "status": "IDLE",
            "defaultBudgetAction": "NONE",
            "createdAt": _now(),
            "createdBy": USER,
            "roleArn": "arn:aws:iam::123456789012:role/stmpo-queue-role",
        }
        if queue.bucket:
            out["jobAttachmentSettings"] = {
                "s3BucketName": queue.bucket,
                "rootPrefix": queue.root_prefix,
            }
        return out

    def op_AssumeQueueRoleForUser(self, p: dict[str, Any]) -> dict[str, Any]:
        self._queue(p["farmId"], p["queueId"])
        return {
            "credentials": {
                "accessKeyId": "ASIAQUEUEROLETEST",
                "secretAccessKey": "queue-role-secret",
                "sessionToken": "queue-role-session-token",
                "expiration": _now() + self.credentials_lifetime,
            }
        }

    def op_ListQueueEnvironments(self, p: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(p["farmId"], p["queueId"])
        return {
            "environments": [
                {
                    "queueEnvironmentId": e.queue_environment_id,
                    "name": e.name,
                    "priority": e.priority,
                }
                for e in queue.environments
            ]
        }

    def op_GetQueueEnvironment(self, p: dict[str, Any]) -> dict[str, Any]:
        queue = self._queue(p["farmId"], p["queueId"])
        for env in queue.environments:
            if env.queue_environment_id == p["queueEnvironmentId"]:
                return {
                    "queueEnvironmentId": env.queue_environment_id,
                    "name": env.name,
                    "priority": env.priority,
                    "templateType": env.template_type,
                    "template": env.template,
                    "createdAt": _now(),
                    "createdBy": USER,
                }
        raise ServiceError(
            "ResourceNotFoundException",
            f"Queue environment {p['queueEnvironmentId']} not found",
            resourceId=p["queueEnvironmentId"],
            resourceType="queue-environment",
        )

    def op_ListQueueFleetAssociations(self, p: dict[str, Any]) -> dict[str, Any]:
        """Filtered by queueId and/or fleetId when given, as the service model's query."""
        farm = self._farm(p["farmId"])
        return {
            "queueFleetAssociations": [
                {
                    "queueId": queue.queue_id,
                    "fleetId": fleet_id,
                    "status": status,
                    "createdAt": _now(),
                    "createdBy": USER,
                }
                for queue in farm.queues.values()
                if p.get("queueId") in (None, queue.queue_id)
                for fleet_id, status in queue.fleet_associations
                if p.get("fleetId") in (None, fleet_id)
            ]
        }

    def op_GetFleet(self, p: dict[str, Any]) -> dict[str, Any]:
        fleet = self._farm(p["farmId"]).fleets.get(p["fleetId"])
        if fleet is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"Fleet {p['fleetId']} not found",
                resourceId=p["fleetId"],
                resourceType="fleet",
            )

        def span(pair: tuple[int, int | None]) -> dict[str, int]:
            return {"min": pair[0]} if pair[1] is None else {"min": pair[0], "max": pair[1]}

        capabilities = {
            "vCpuCount": span(fleet.vcpus),
            "memoryMiB": span(fleet.memory_mib),
            "osFamily": fleet.os_family,
            "cpuArchitectureType": "x86_64",
        }
        configuration = (
            {
                "serviceManagedEc2": {
                    "instanceCapabilities": capabilities,
                    "instanceMarketOptions": {"type": "on-demand"},
                }
            }
            if fleet.service_managed
            else {"customerManaged": {"mode": "NO_SCALING", "workerCapabilities": capabilities}}
        )
        return {
            "fleetId": fleet.fleet_id,
            "farmId": p["farmId"],
            "displayName": fleet.display_name,
            "status": fleet.status,
            "workerCount": 0,
            "minWorkerCount": 0,
            "maxWorkerCount": 10,
            "configuration": configuration,
            "createdAt": _now(),
            "createdBy": USER,
            "roleArn": "arn:aws:iam::123456789012:role/stmpo-fleet-role",
        }

    def op_CreateJob(self, p: dict[str, Any]) -> dict[str, Any]:
        # One CreateJob at a time, so two retries racing with one token make one job.
        with self.create_lock:
            return self._create_job(p)

    def _create_job(self, p: dict[str, Any]) -> dict[str, Any]:
        self._queue(p["farmId"], p["queueId"])
        token = p.get("clientToken")
        request = json.dumps(
            {k: v for k, v in p.items() if k != "clientToken"}, sort_keys=True, default=str
        )
        key = (p["farmId"], p["queueId"], str(token))
        if token:
            with self.lock:
                earlier = self.client_tokens.get(key)
            if earlier is not None and _now() - earlier.at < self.idempotency_window:
                if earlier.request != request:
                    raise ServiceError(
                        "ValidationException",
                        f"clientToken {token} was already used with different parameters",
                        reason="OTHER",
                    )
                return {"jobId": earlier.job_id}
        template = p.get("template")
        if not template:
            raise ServiceError("ValidationException", "template is required", reason="OTHER")
        name = self._check_template(template, p.get("templateType", "YAML"), p)
        job = Job(new_id("job"), p["farmId"], p["queueId"], name, dict(p), _now())
        with self.lock:
            self.jobs[job.job_id] = job
            if token:
                self.client_tokens[key] = IdempotentCreate(request, job.job_id, job.created_at)
        hook = self.on_job_created
        if hook is not None:
            hook(job)
        return {"jobId": job.job_id}

    def _job_summary(self, job: Job) -> dict[str, Any]:
        """The members JobSummary (ListJobs) and GetJob share."""
        out: dict[str, Any] = {
            "jobId": job.job_id,
            "name": job.name,
            "lifecycleStatus": "CREATE_COMPLETE",
            "lifecycleStatusMessage": "Job creation completed successfully",
            "priority": job.request.get("priority", 50),
            "createdAt": job.created_at,
            "createdBy": USER,
            "taskRunStatus": job.task_run_status or job.request.get("targetTaskRunStatus", "READY"),
        }
        if job.ended_at is not None:
            out["endedAt"] = job.ended_at
        for name in ("maxFailedTasksCount", "maxRetriesPerTask", "maxWorkerCount"):
            if name in job.request:
                out[name] = job.request[name]
        if "targetTaskRunStatus" in job.request:
            out["targetTaskRunStatus"] = job.request["targetTaskRunStatus"]
        return out

    def op_GetJob(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._job(p)
        out = self._job_summary(job)
        if job.request.get("parameters"):
            out["parameters"] = job.request["parameters"]
        return out

    def op_ListJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        """The queue's jobs in creation order: the service documents no order, so a
        client that wants the newest must sort what it read."""
        self._queue(p["farmId"], p["queueId"])
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.queue_id == p["queueId"]]
        jobs.sort(key=lambda j: j.created_at)
        page, token = _page(jobs, p)
        return {"jobs": [self._job_summary(j) for j in page], **token}

    def op_SearchJobs(self, p: dict[str, Any]) -> dict[str, Any]:
        """SearchJobs as the service model shapes it (`POST /farms/{farmId}/search/jobs`:
        `queueIds` 1-10, `itemOffset` 0-10000, `pageSize` 1-100, at most 3 filters per
        group and 5 sorts; `JobSearchSummary` carries `jobParameters`; `nextItemOffset`
        and `totalResults`). Filters and sorts follow the names the `deadline` library
        itself sends (deadline.client.api `search_jobs` and
        `_list_jobs_by_filter_expression`): string filters on TASK_RUN_STATUS, date-time
        filters and field sorts on CREATED_AT / ENDED_AT. Anything else (parameter and
        search-term filters, other names) is refused as not modelled, loudly, rather than
        answered with a guess. Without a sort the order is creation order (the service
        documents none)."""
        self._farm(p["farmId"])
        for queue_id in p["queueIds"]:
            self._queue(p["farmId"], queue_id)
        with self.lock:
            jobs = [j for j in self.jobs.values() if j.queue_id in p["queueIds"]]
        jobs.sort(key=lambda j: j.created_at)
        group = p.get("filterExpressions")
        if group:
            jobs = [j for j in jobs if _search_group(group, j)]
        for sort in reversed(p.get("sortExpressions") or []):  # the first sort decides
            field_sort = sort.get("fieldSort")
            if field_sort is None:
                raise _not_modelled(f"sort {sorted(sort)}")
            value = _SEARCH_FIELDS.get(field_sort["name"])
            if value is None or field_sort["name"] == "TASK_RUN_STATUS":
                raise _not_modelled(f"sort on {field_sort['name']}")
            jobs.sort(
                key=lambda j, v=value: v(j) or _EPOCH,
                reverse=field_sort["sortOrder"] == "DESCENDING",
            )
        start, size = int(p["itemOffset"]), int(p.get("pageSize") or 100)
        page = jobs[start : start + size]
        out: dict[str, Any] = {"jobs": [], "totalResults": len(jobs)}
        for job in page:
            summary = self._job_summary(job)
            summary["queueId"] = job.queue_id
            if job.request.get("parameters"):
                summary["jobParameters"] = job.request["parameters"]
            out["jobs"].append(summary)
        if start + size < len(jobs):
            out["nextItemOffset"] = start + size
        return out

    def op_ListSteps(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._job(p)
        page, token = _page(job.steps, p)
        steps = []
        for step in page:
            counts: dict[str, int] = {}
            for task in step.tasks:
                counts[task.run_status] = counts.get(task.run_status, 0) + 1
            statuses = set(counts)
            steps.append(
                {
                    "stepId": step.step_id,
                    "name": step.name,
                    "lifecycleStatus": "CREATE_COMPLETE",
                    "taskRunStatus": statuses.pop() if len(statuses) == 1 else "FAILED",
                    "taskRunStatusCounts": counts,
                    "createdAt": job.created_at,
                    "createdBy": USER,
                }
            )
        return {"steps": steps, **token}

    def op_ListTasks(self, p: dict[str, Any]) -> dict[str, Any]:
        step = self._step(p)
        page, token = _page(step.tasks, p)
        tasks = []
        for task in page:
            out: dict[str, Any] = {
                "taskId": task.task_id,
                "createdAt": self._job(p).created_at,
                "createdBy": USER,
                "runStatus": task.run_status,
                "parameters": {"Frames": {"string": task.frames}},
            }
            if task.action is not None:
                out["latestSessionActionId"] = task.action.session_action_id
                out["startedAt"] = task.action.started_at
                out["endedAt"] = task.action.ended_at
            tasks.append(out)
        return {"tasks": tasks, **token}

    def op_GetSessionAction(self, p: dict[str, Any]) -> dict[str, Any]:
        job = self._job(p)
        for step in job.steps:
            for task in step.tasks:
                action = task.action
                if action is None or action.session_action_id != p["sessionActionId"]:
                    continue
                out: dict[str, Any] = {
                    "sessionActionId": action.session_action_id,
                    "status": action.status,
                    "sessionId": action.session_id,
                    "startedAt": action.started_at,
                    "endedAt": action.ended_at,
                    "progressPercent": 100.0 if action.status == "SUCCEEDED" else 0.0,
                    "processExitCode": 0 if action.status == "SUCCEEDED" else 1,
                    "definition": {
                        "taskRun": {
                            "taskId": task.task_id,
                            "stepId": step.step_id,
                            "parameters": {"Frames": {"string": task.frames}},
                        }
                    },
                }
                if action.progress_message is not None:
                    out["progressMessage"] = action.progress_message
                return out
        raise ServiceError(
            "ResourceNotFoundException",
            f"Session action {p['sessionActionId']} not found",
            resourceId=p["sessionActionId"],
            resourceType="session-action",
        )

    # -- helpers -----------------------------------------------------------------------

    def _check_parameter_count(
        self, job_template: Any, data: dict[str, Any], p: dict[str, Any]
    ) -> None:
        """The queue environments' parameter definitions merged with the template's, as
        the job will see them: incompatible twins and more than the OpenJD limit refused."""
        from openjd.model import decode_environment_template, merge_job_parameter_definitions

        queue = self._queue(p["farmId"], p["queueId"])
        environments = [
            decode_environment_template(template=yaml.safe_load(env.template))
            for env in sorted(queue.environments, key=lambda env: env.priority)
        ]
        merged = merge_job_parameter_definitions(
            job_template=job_template, environment_templates=environments
        )
        extended = "FEATURE_BUNDLE_1" in (data.get("extensions") or [])
        limit = MAX_JOB_PARAMETERS_EXTENDED if extended else MAX_JOB_PARAMETERS
        if len(merged) > limit:
            raise ServiceError(
                "ValidationException",
                f"the job has {len(merged)} parameter definitions with those of the queue "
                f"environments ({', '.join(env.name for env in queue.environments)}); "
                f"at most {limit} are allowed",
                reason="OTHER",
            )

    def _check_template(self, template: str, template_type: str, p: dict[str, Any]) -> str:
        """Decode the template and instantiate the job, as the service does before accepting."""
        try:
            data = json.loads(template) if template_type == "JSON" else yaml.safe_load(template)
        except (ValueError, yaml.YAMLError) as exc:
            raise ServiceError(
                "ValidationException", f"template is not {template_type}: {exc}", reason="OTHER"
            ) from None
        if not isinstance(data, dict):
            raise ServiceError("ValidationException", "template is not an object", reason="OTHER")
        if not self.validate_templates:
            return str(data.get("name", "job"))
        from openjd.model import (
            CompatibilityError,
            DecodeValidationError,
            create_job,
            decode_job_template,
            preprocess_job_parameters,
        )

        try:
            job_template = decode_job_template(template=data)
            self._check_parameter_count(job_template, data, p)
            values = {}
            for param_name, typed in (p.get("parameters") or {}).items():
                (value,) = typed.values()
                values[param_name] = value
            known = {d.name for d in job_template.parameterDefinitions or []}
            values = {k: v for k, v in values.items() if k in known}
            resolved = preprocess_job_parameters(
                job_template=job_template,
                job_parameter_values=values,
                job_template_dir=Path(),
                current_working_dir=Path(),
                allow_job_template_dir_walk_up=True,
            )
            job = create_job(job_template=job_template, job_parameter_values=resolved)
        except (DecodeValidationError, CompatibilityError, ValueError) as exc:
            message = " ".join(str(exc).split())
            raise ServiceError("ValidationException", message, reason="OTHER") from None
        return str(job.name)
