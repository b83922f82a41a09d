"""Entry point the job template runs on the worker: `python stmpo_render.py COMMAND ...`.

First it checks the Python version: the worker package needs 3.9 (Amazon Linux 2023's
`python3`), and an older interpreter would die with a traceback from deep inside an
import (3.8: `'type' object is not subscriptable`; 3.6, 2.7: a SyntaxError before any
line runs). So this file is written in syntax Python 2.7 can parse (no annotations, no
f-strings: types are comments) and its first statement after `import sys` prints one
`openjd_fail:` line naming the version found and exits 2, before importing anything else.

Then it only puts its own folder on sys.path, so the `stmpo_worker` package shipped
beside it in the job bundle is importable with whatever Python the worker has.

Ctrl+C from here on exits 130 with one line, never a traceback. While the worker's
modules load, an interrupt is held until they have loaded (a KeyboardInterrupt raised
mid-import can come out wrapped in another exception, from a dataclass for one, and
leaves modules half-built); after that, `stmpo_worker.cli` handles it, and `render`
installs its own cancel handling (143). Only the interpreter's own start-up (site,
.pth files) comes before.
"""

import sys

MIN_PYTHON = (3, 9)
EXIT_USAGE = 2

if sys.version_info < MIN_PYTHON:
    _found = ".".join(str(part) for part in sys.version_info[:3])
    _needed = ".".join(str(part) for part in MIN_PYTHON)
    sys.stdout.write(
        "openjd_fail: STMPO worker needs Python " + _needed + " or newer; this worker ran "
        "Python " + _found + " (give the job a newer interpreter: its Python parameter)\n"
    )
    sys.stdout.flush()
    sys.stderr.write(
        "stmpo_render.py: error: Python " + _found + " is older than " + _needed + "\n"
    )
    sys.exit(EXIT_USAGE)

import os  # noqa: E402 - only once the version is known to be supported
import signal  # noqa: E402

_held = []  # type: list[int]
_holding = __name__ == "__main__" and signal.getsignal(signal.SIGINT) is signal.default_int_handler
if _holding:  # a parent that ignores Ctrl+C (SIG_IGN) keeps it ignored
    signal.signal(signal.SIGINT, lambda signum, frame: _held.append(signum))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


_received = []  # type: list[int]


def _raise_and_record(signum, frame):
    # type: (int, object) -> None
    """Python's own Ctrl+C handling, remembered: an interrupt that lands inside an
    import can come out as another exception, and is still the user's Ctrl+C."""
    _received.append(signum)
    raise KeyboardInterrupt


def _run():
    # type: () -> int
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
