"""Looks up the time per frame an earlier job measured (measured.py) off the UI thread.

The lookup is a handful of service calls, each up to a network timeout: on the UI thread
an unreachable farm would freeze the tab. So the client is made on the UI thread (where
the `deadline` library makes its own: botocore sessions are not thread-safe, its clients
are) and the calls run off it (background.py, as the fleet look-up does), the answer
coming back on the UI thread. A newer lookup supersedes an older one still running.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from stmpo.gui.background import Outcome, run_in_background
from stmpo.gui.measured import measured_time, nothing


def library_client() -> Any:
    """The `deadline` library's own client: its profile, credentials and endpoint."""
    from deadline.client import api

    return api.get_boto3_client("deadline")


def default_queue() -> tuple[str, str]:
    from deadline.client.config import get_setting

    return str(get_setting("defaults.farm_id") or ""), str(get_setting("defaults.queue_id") or "")


class MeasuredLookup(QObject):
    """`start()` returns at once; `finished` carries the `Measured` answer."""

    finished = Signal(object)

    def __init__(self, project_path: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.project_path = project_path
        #: Where the client and the farm/queue come from (tests point them elsewhere).
        self.client_factory: Callable[[], Any] = library_client
        self.queue_ids: Callable[[], tuple[str, str]] = default_queue
        #: The latest lookup's thread (a test waits for it).
        self.worker: threading.Thread | None = None
        self._generation = 0

    def start(self) -> None:
        self._generation += 1
        generation = self._generation
        try:
            farm_id, queue_id = self.queue_ids()
        except Exception as exc:  # a damaged deadline config: nothing to look in
            self.finished.emit(nothing(f"no farm and queue ({exc})"))
            return
        if not (farm_id and queue_id):
            self.finished.emit(nothing("no default farm and queue set"))
            return
        try:
            client = self.client_factory()
        except Exception as exc:  # no credentials, no profile: not reachable
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            self.finished.emit(
                nothing(f"the farm is not reachable ({reason})", queue_id, failed=True)
            )
            return
        call = run_in_background(
            lambda: measured_time(client, farm_id, queue_id, self.project_path),
            lambda outcome: self._answered(generation, queue_id, outcome),
            self,
        )
        self.worker = call.worker

    def _answered(self, generation: int, queue_id: str, outcome: Outcome) -> None:
        if generation != self._generation:
            return  # a newer lookup answers instead
        if outcome.error is not None:  # measured_time says why itself; this is a bug's
            self.finished.emit(
                nothing(f"the lookup failed ({outcome.error})", queue_id, failed=True)
            )
            return
        self.finished.emit(outcome.value)
