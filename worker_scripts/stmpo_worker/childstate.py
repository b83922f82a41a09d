"""One aerender launch's lifecycle as an explicit state, with the moves allowed.

In the spirit of openjd-sessions' `ActionState` (RUNNING, CANCELING, then SUCCESS,
FAILED, CANCELED or TIMEOUT): the orchestrator's decisions (is it rendering yet, may it
be stopped, has it been accounted for) read one value instead of a handful of flags that
could contradict each other. A move not in `TRANSITIONS` is a bug in the orchestrator,
so it raises at once instead of leaving a child half-accounted.

    LAUNCHING -> STARTING   spawned, nothing printed yet (After Effects loading)
              -> FAILED     could not be started at all (aerender missing)
    STARTING  -> RUNNING    its first output line
    STARTING/RUNNING -> STOPPING  shortened (its tail went to another launch), fail-fast,
                                  cancel, or a watchdog: its process tree was asked to end
    STARTING/RUNNING/STOPPING -> EXITED   its process is gone (and its pipe closed)
    EXITED    -> SUCCEEDED  its (possibly shortened) range verified
              -> FAILED     an exit code, an error line or a missing file
              -> STOPPED    ended by fail-fast or cancel, not by itself

Standard library only; Python 3.9.
"""

from __future__ import annotations

from enum import Enum


class ChildState(Enum):
    LAUNCHING = "launching"
    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    EXITED = "exited"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    STOPPED = "stopped"

    @property
    def terminal(self) -> bool:
        return self in (ChildState.SUCCEEDED, ChildState.FAILED, ChildState.STOPPED)

    @property
    def alive(self) -> bool:
        """Its process may still be running (it holds a slot)."""
        return self in (ChildState.STARTING, ChildState.RUNNING, ChildState.STOPPING)


TRANSITIONS: dict[ChildState, frozenset[ChildState]] = {
    ChildState.LAUNCHING: frozenset({ChildState.STARTING, ChildState.FAILED}),
    ChildState.STARTING: frozenset({ChildState.RUNNING, ChildState.STOPPING, ChildState.EXITED}),
    ChildState.RUNNING: frozenset({ChildState.STOPPING, ChildState.EXITED}),
    ChildState.STOPPING: frozenset({ChildState.EXITED}),
    ChildState.EXITED: frozenset({ChildState.SUCCEEDED, ChildState.FAILED, ChildState.STOPPED}),
    ChildState.SUCCEEDED: frozenset(),
    ChildState.FAILED: frozenset(),
    ChildState.STOPPED: frozenset(),
}


class IllegalTransition(RuntimeError):
    """The orchestrator moved a child along a path the lifecycle does not have."""


class Lifecycle:
    """A child's current state; `move` is the only way to change it."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.state = ChildState.LAUNCHING

    def move(self, to: ChildState) -> None:
        if to not in TRANSITIONS[self.state]:
            raise IllegalTransition(
                f"child {self.label}: {self.state.value} -> {to.value} is not a lifecycle step"
            )
        self.state = to

    def __repr__(self) -> str:
        return f"Lifecycle({self.label!r}, {self.state.value})"
