"""Entry point the job template runs on the worker: `python stmpo_render.py COMMAND ...`.

It only puts its own folder on sys.path, so the `stmpo_worker` package shipped beside it
in the job bundle is importable with whatever Python the worker has.

Ctrl+C from the first line of this file on exits 130 with one line, never a traceback.
While the worker's modules load, an interrupt is held until they have loaded (a
KeyboardInterrupt raised mid-import can come out wrapped in another exception, from
a dataclass for one, and leaves modules half-built); after that, `stmpo_worker.cli`
handles it, and `render` installs its own cancel handling (143). Only the
interpreter's own start-up (site, .pth files) comes before.
"""

from __future__ import annotations

import os
import signal
import sys

_held: list[int] = []
_holding = __name__ == "__main__" and signal.getsignal(signal.SIGINT) is signal.default_int_handler
if _holding:  # a parent that ignores Ctrl+C (SIG_IGN) keeps it ignored
    signal.signal(signal.SIGINT, lambda signum, frame: _held.append(signum))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


_received: list[int] = []


def _raise_and_record(signum: int, frame: object) -> None:
    """Python's own Ctrl+C handling, remembered: an interrupt that lands inside an
    import can come out as another exception, and is still the user's Ctrl+C."""
    _received.append(signum)
    raise KeyboardInterrupt


def _run() -> int:
    try:
        from stmpo_worker.cli import interrupted, main
    finally:
        if _holding:
            signal.signal(signal.SIGINT, _raise_and_record)
    if _held:
        return interrupted()
    try:
        return main()
    except (SystemExit, GeneratorExit):
        raise
    except BaseException:
        if _received:
            return interrupted()
        raise
    finally:
        if _holding:  # done: a late Ctrl+C, during interpreter shutdown, changes nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(_run())
