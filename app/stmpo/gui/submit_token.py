"""One job per submission from the submitter window, however often Submit is pressed.

The `deadline` library's dialog sends CreateJob with a random client token per call
(botocore fills one in). botocore's retries of that call reuse it, but once they are
spent (the job made, every answer lost) the library shows an error and the window stays
open; the artist presses Submit again and the library uploads and sends a new request
with a new token: a second job.

So the window watches its CreateJob calls on the library's own client, through
botocore's documented events (as `stmpo submit` does, stmpo.submit.idempotency): it
records the request it sends, with a token of its own, and how it was answered. When the
answer was lost (a 5xx after botocore's retries, or none at all) and the artist submits
the same thing again, the new CreateJob is replaced by the recorded request, token
included: the service, idempotent on the token, answers with the job it already made
(or makes it now). A refused request (4xx) made no job, and a change of settings is a new
submission: both get a new token and their own request.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

_logger = logging.getLogger(__name__)

BEFORE = "before-parameter-build.deadline.CreateJob"
AFTER = "after-call.deadline.CreateJob"
PREFIX = "stmpo-gui-"


def content_key(content: Any) -> str:
    """What a Submit sends, as one comparable value (JSON, sorted keys: order is moot)."""
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class Attempt:
    """One submission of one content, over the clicks it takes to get an answer."""

    key: str
    token: str
    #: The CreateJob parameters as sent (token included); None until sent.
    request: dict[str, Any] | None = None
    #: HTTP status of CreateJob's final answer; None when none arrived.
    status: int | None = None

    @property
    def answer_lost(self) -> bool:
        """Sent, and the service may have made the job without our hearing of it."""
        return self.request is not None and (self.status is None or self.status >= 500)


class SubmitToken:
    """The window's CreateJob bookkeeping: the token and request of its current attempt."""

    def __init__(self) -> None:
        self.attempt: Attempt | None = None
        #: True from a Submit of this window until its submission ended: only then is a
        #: CreateJob on the library's client this window's.
        self.armed = False
        #: True while the current Submit re-sends the recorded request.
        self.resending = False
        self._unique_id = f"stmpo-gui-createjob-{id(self)}"
        self._clients: list[Any] = []

    def arm(self, content: Any) -> None:
        """Before the library's Submit: the same content after a lost answer re-sends the
        recorded request; anything else is a new attempt with a new token."""
        key = content_key(content)
        previous = self.attempt
        self.resending = previous is not None and previous.key == key and previous.answer_lost
        if not self.resending:
            self.attempt = Attempt(key, PREFIX + uuid.uuid4().hex)
        self.armed = True
        self._watch_library_client()

    def disarm(self, *_: Any) -> None:
        """The submission ended (its progress window closed): what the window learnt
        stays for the next Submit, but other CreateJob calls are not its own."""
        self.armed = False

    def _watch_library_client(self) -> None:
        try:
            from deadline.client import api
            from deadline.client.config import config_file

            # The call the library makes for CreateJob (api._submit_job_bundle): the same
            # cached client, so the handlers below see the library's request.
            client = api.get_boto3_client("deadline", config=config_file.read_config())
        except Exception:  # no client: the library cannot submit either, and says why
            _logger.debug("no deadline client to watch CreateJob on", exc_info=True)
            return
        if any(known is client for known in self._clients):
            return
        events = client.meta.events
        events.register(BEFORE, self._before_send, unique_id=self._unique_id + "-b")
        events.register(AFTER, self._after_call, unique_id=self._unique_id + "-a")
        self._clients.append(client)

    def _before_send(self, params: dict[str, Any], **_: Any) -> None:
        attempt = self.attempt
        if attempt is None or not self.armed:
            return
        if self.resending and attempt.request is not None:
            params.clear()
            params.update(copy.deepcopy(attempt.request))
        else:
            params["clientToken"] = attempt.token
            attempt.request = copy.deepcopy(params)
        attempt.status = None

    def _after_call(self, http_response: Any, **_: Any) -> None:
        attempt = self.attempt
        if attempt is None or attempt.request is None or not self.armed:
            return
        attempt.status = int(http_response.status_code)
        if attempt.status < 500:  # made or refused: either way, the next Submit is new
            self.attempt = None
            self.resending = False

    def release(self, *_: Any) -> None:
        """The window is gone: stop watching the library's client."""
        self.attempt = None
        self.armed = False
        for client in self._clients:
            client.meta.events.unregister(BEFORE, unique_id=self._unique_id + "-b")
            client.meta.events.unregister(AFTER, unique_id=self._unique_id + "-a")
        self._clients.clear()
