"""Pair an action's `openjd_progress:` with the `openjd_status:` that belongs to it.

openjd-sessions reports each of those lines on its own. A script that prints a report as
`openjd_progress: 12.5` then `openjd_status: 6/48 frames` (STMPO does) is therefore seen
for a moment with the new percentage and the previous status, and a display drawn at
that moment shows `12% 1/48 frames`, or `100% 47/48 frames` at the end. `ProgressPairing`
holds a percentage that changed alone until its status arrives, and lets it through
alone only after `hold` seconds (an action that stopped printing status lines). Until an
action prints its first status there is nothing to pair with: its percentages show at
once. Pure: the caller passes the time and calls `due` on its polls.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Shown:
    """A coherent (progress, status) pair to draw."""

    progress: float | None
    status: str | None


class ProgressPairing:
    def __init__(self, hold: float) -> None:
        self.hold = hold
        self._shown = Shown(None, None)
        self._held: Shown | None = None
        self._held_since = 0.0

    def reset(self) -> None:
        """A new action: nothing shown, nothing held."""
        self._shown = Shown(None, None)
        self._held = None

    def update(self, progress: float | None, status: str | None, now: float) -> Shown | None:
        """The action's latest values; returns the pair to draw now, or None."""
        latest = Shown(progress, status)
        if latest == self._shown:
            self._held = None
            return None
        if status is None or status != self._shown.status:
            # A new status completes the report; an action that has printed no status
            # has nothing to wait for.
            return self._show(latest)
        if self._held is None:
            self._held_since = now
        self._held = latest
        return self.due(now)

    def due(self, now: float) -> Shown | None:
        """A held percentage whose status never came, once `hold` has passed."""
        if self._held is not None and now - self._held_since >= self.hold:
            return self._show(self._held)
        return None

    def _show(self, pair: Shown) -> Shown:
        self._shown, self._held = pair, None
        return pair
