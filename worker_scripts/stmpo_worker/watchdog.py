"""When a child has hung, and whether a launch must wait for memory: pure decisions.

aerender gives no heartbeat: the only sign of life is a finished frame (its `PROGRESS:
... (N)` line). A child that finishes none for a long time is stuck (a plug-in dead
lock, a network share that stopped answering), and one that never finishes its first
frame is usually After Effects sitting at a dialog nobody will click: a licence or
sign-in prompt, a splash screen, a missing plug-in question. Both cost the farm the
whole task timeout unless the worker notices, so the orchestrator asks `verdict` once
per loop turn and ends the child's tree when it answers.

Times are the orchestrator's monotonic clock; no process, file or clock is touched here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STALLED = "stalled"
STARTUP = "startup"

#: What After Effects prints or shows when it will not render for want of a licence.
#: Real wordings: the trial-expired dialog "Renew your subscription at adobe.com today"
#: (inlife/nexrender issue 197; issue 538: the trial pop-up blocks aerender until
#: closed); "After Effects can only be activated on 2 devices simultaneously" with its
#: "Sign in"/"Sign out" prompt (LilyStilson/AErender-Launcher issue 13; the same
#: prompt after a trial ends, nexrender issue 1047); aerender's own line when AE is
#: stuck "waiting for response from a modal dialog" (nexrender issue 542); Adobe's
#: "Adobe Genuine Software" integrity notice; and the licence-free render-only mode
#: needs `ae_render_only_node.txt` (Adobe, "Automated rendering and network rendering").
#: Lower case; a line matching any of these makes the startup report name the licence.
LICENCE_MARKERS = (
    "renew your subscription",
    "can only be activated on",
    "sign in",
    "signed in",
    "trial has expired",
    "trial expired",
    "license",
    "licence",
    "activation",
    "adobe genuine",
    "waiting for response from a modal dialog",
    "ae_render_only_node",
)
#: Only a child's first lines are searched: AE prompts at startup, and a child that
#: prints a flood and no frame must not cost the log merger a search per line.
LICENCE_SCAN_LINES = 200
_LICENCE = re.compile("|".join(re.escape(m) for m in LICENCE_MARKERS))


@dataclass(frozen=True)
class Verdict:
    kind: str  # STALLED or STARTUP
    seconds: float  # the timeout that ran out


def verdict(
    launched: float,
    first_output: float | None,
    last_frame: float | None,
    now: float,
    stall_timeout: float,
    startup_timeout: float,
) -> Verdict | None:
    """Whether a running child must be ended now; None while it may go on.

    Before its first frame, `startup_timeout` (from the launch) is the one that speaks
    for a child that has to get past AE's start at all; `stall_timeout` also runs from
    its first output line, so with only the stall watchdog on a child that printed and
    then froze before frame 1 is still caught. After a frame, only the stall watchdog
    applies, from the last finished frame. 0 turns either off."""
    if last_frame is None and startup_timeout > 0 and now - launched >= startup_timeout:
        return Verdict(STARTUP, startup_timeout)
    since = last_frame if last_frame is not None else first_output
    if since is not None and stall_timeout > 0 and now - since >= stall_timeout:
        return Verdict(STALLED, stall_timeout)
    return None


def is_licence_line(text: str) -> bool:
    """A line of a child's output that shows After Effects at a licence or sign-in
    prompt (LICENCE_MARKERS)."""
    return _LICENCE.search(text.lower()) is not None


def startup_message(seconds: float, licence_line: str) -> str:
    """Why a child with no first frame is ended: the licence line it printed, if any."""
    head = f"no frame {seconds:g} s after launch"
    if licence_line:
        return (
            f"{head}: After Effects is waiting on a licence or sign-in prompt "
            f"(it printed: {licence_line})"
        )
    return (
        f"{head}: After Effects may be waiting on a licence or splash dialog, "
        "or a missing plug-in prompt"
    )


def stall_message(seconds: float) -> str:
    return f"stalled: no frame finished for {seconds:g} s"


def must_wait_for_memory(available_gb: float | None, per_process_gb: float, running: int) -> bool:
    """A launch waits while less than one process's RAM is free, but never when nothing
    runs: the memory a lone process cannot have will not come back by waiting, and a
    host smaller than RamPerProcessGB would otherwise wait forever. Unknown memory
    (None: no reader on this platform) never waits."""
    return running > 0 and available_gb is not None and available_gb < per_process_gb
