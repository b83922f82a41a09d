"""Farm look-ups off the GUI thread, their answers back on it.

A look-up at the farm (fleets, earlier jobs) may take botocore's whole connect timeout
and retries when the farm is not reachable: run on the GUI thread, the window would
freeze for it. Here the call runs on a daemon thread (it never keeps the submitter's
process alive at exit) and its outcome, a value or the exception it raised, comes back
through a queued Qt signal, so the callback runs on the GUI thread as every widget
change must. A callback whose owner is gone by then is simply not called.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal


@dataclass(frozen=True)
class Outcome:
    """What a background call ended with: its value, or the exception it raised."""

    value: Any = None
    error: BaseException | None = None


class BackgroundCall(QObject):
    """One call of `work` on a thread; `done(outcome)` on the GUI thread afterwards."""

    _finished = Signal(object)

    def __init__(
        self, work: Callable[[], Any], done: Callable[[Outcome], None], parent: QObject
    ) -> None:
        super().__init__(parent)
        self._work = work
        self._done = done
        self._finished.connect(self._deliver, Qt.ConnectionType.QueuedConnection)
        #: The call's thread (a test may join it).
        self.worker = threading.Thread(target=self._run, name="stmpo-farm-lookup", daemon=True)
        #: What the call ended with, once its thread has (before `done` is called).
        self.outcome: Outcome | None = None

    def start(self) -> None:
        self.worker.start()

    def wait(self) -> Outcome | None:
        """Block until the call has ended; its outcome (`done` still follows, queued)."""
        self.worker.join()
        return self.outcome

    def _run(self) -> None:
        try:
            outcome = Outcome(value=self._work())
        except Exception as exc:  # any failure is an answer: the caller says why
            outcome = Outcome(error=exc)
        self.outcome = outcome
        try:
            self._finished.emit(outcome)
        except RuntimeError:  # the owner was deleted (window closed): nobody to tell
            return

    def _deliver(self, outcome: Outcome) -> None:
        done = self._done
        # Let go of the work and its owner here, on the GUI thread: a reference the call
        # kept would tie Qt wrappers into cycles only a later garbage collection breaks.
        self._work = self._done = _nothing
        done(outcome)
        self.deleteLater()


def _nothing(*_: Any) -> None:
    return None


def run_in_background(
    work: Callable[[], Any], done: Callable[[Outcome], None], parent: QObject
) -> BackgroundCall:
    call = BackgroundCall(work, done, parent)
    call.start()
    return call
