"""Exactly one job per export and batch: CreateJob's client token, and the intent record.

CreateJob takes an idempotency token (`clientToken`, the `X-Amz-Client-Token` header;
`idempotencyToken: true` in botocore's Deadline Cloud service model). The `deadline`
library builds the CreateJob call itself and has no parameter for it, so botocore's
documented event system carries it: a `before-parameter-build.deadline.CreateJob`
handler on the very client the library uses sets the token (botocore's own handler
only fills in a random one when none is set) and hands the request to the caller,
which records it in the report before the request leaves; an `after-call` handler
reports the service's answer. A later run re-sends that recorded request with the
same token: the service answers with the job it already made, or makes it now.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("stmpo.submit")

_TOKEN_PREFIX = "stmpo-"
_TOKEN_LENGTH = 64  # the service model's ClientToken max


def new_batch_id() -> str:
    return uuid.uuid4().hex


def client_token(submission_sha256: str, batch_id: str) -> str:
    """Deterministic in (export fingerprint, batch): the same export in the same batch is
    one job however often CreateJob is sent; a new batch is a deliberate new job."""
    digest = hashlib.sha256(f"{submission_sha256}\n{batch_id}".encode()).hexdigest()
    return (_TOKEN_PREFIX + digest)[:_TOKEN_LENGTH]


@dataclass
class CreateJobHooks:
    """What one submission does around its CreateJob call, and what it learned.

    `before_send(request)` gets the parameters (without the token) just before the
    request is built; it must persist them, and raising stops CreateJob from being sent.
    `created(job_id)` is told the job id as soon as CreateJob answers.
    """

    token: str
    before_send: Callable[[dict[str, Any]], None]
    created: Callable[[str], None] = lambda _job_id: None
    sent: bool = False
    #: HTTP status of CreateJob's final answer; None when no answer arrived.
    answer_status: int | None = None

    @property
    def refused(self) -> bool:
        """The service answered CreateJob with a client error: it made no job."""
        return self.answer_status is not None and 400 <= self.answer_status < 500


def json_request(params: dict[str, Any]) -> dict[str, Any]:
    """The CreateJob parameters as JSON data, without the token."""
    data = {k: v for k, v in params.items() if k != "clientToken"}
    return dict(json.loads(json.dumps(data, default=str)))


@contextmanager
def create_job_hooks(client: Any, hooks: CreateJobHooks) -> Iterator[CreateJobHooks]:
    """Attach `hooks` to CreateJob calls this thread makes on `client` while inside."""
    thread = threading.get_ident()
    uid = f"stmpo-create-job-{id(hooks)}"

    def before(params: dict[str, Any], **_: Any) -> None:
        if threading.get_ident() != thread:
            return
        params["clientToken"] = hooks.token
        hooks.before_send(json_request(copy.deepcopy(params)))
        hooks.sent = True

    def after(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        if threading.get_ident() != thread or not hooks.sent:
            return
        hooks.answer_status = int(http_response.status_code)
        job_id = parsed.get("jobId") if hooks.answer_status < 300 else None
        if job_id:
            try:
                hooks.created(str(job_id))
            except Exception:  # the final record is written again after the call returns
                log.debug("recording job %s failed", job_id, exc_info=True)

    events = client.meta.events
    events.register("before-parameter-build.deadline.CreateJob", before, unique_id=uid + "-b")
    events.register("after-call.deadline.CreateJob", after, unique_id=uid + "-a")
    try:
        yield hooks
    finally:
        events.unregister("before-parameter-build.deadline.CreateJob", unique_id=uid + "-b")
        events.unregister("after-call.deadline.CreateJob", unique_id=uid + "-a")
