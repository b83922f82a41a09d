"""The processes' entry points (`stmpo`, `stmpo-submitter`, `python -m stmpo`).

Two things only a process entry may do, kept here so library callers of
`stmpo.cli.main` are unaffected:

- set up the output streams once: a character the console or a redirected stdout
  cannot encode (cp1252 on Windows, `PYTHONIOENCODING=ascii`) is written as a
  backslash escape instead of raising `UnicodeEncodeError`;
- turn Ctrl+C at any moment, including while the command's modules are still being
  imported, into exit 130 with one line on stderr instead of a traceback. Only the
  interpreter's own start-up (site, .pth files) and the two lines of the generated
  script that import this module come before.

Nothing is imported at module level but `os`, `signal` and `sys` (loaded with the
interpreter), so the guard covers every import.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable

EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell shows for Ctrl+C


def setup_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is None:
            continue
        try:
            reconfigure(errors="backslashreplace")
        except (ValueError, OSError):  # a detached or closed stream: nothing to set up
            continue


def interrupted(prog: str) -> int:
    try:
        print(f"{prog}: interrupted", file=sys.stderr, flush=True)
    except (ValueError, OSError):
        return EXIT_INTERRUPTED  # stderr closed: the exit status still says it
    return EXIT_INTERRUPTED


def _caused_by_interrupt(exc: BaseException) -> bool:
    """A KeyboardInterrupt that came out wrapped (Python 3.11 wraps one raised while a
    class is created, `__set_name__`, in a RuntimeError)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _guarded(prog: str, load: Callable[[], Callable[[], int]]) -> int:
    """Run the command `load()` returns, Ctrl+C giving 130 and one line at any moment.

    While the command loads, an interrupt is held until the imports are done (no
    half-imported modules). While it runs, an interrupt raises KeyboardInterrupt as
    usual, but is also recorded: one that lands inside a C extension's import can come
    out as another exception (pydantic-core's PanicException, seen once in 40 random
    interrupts), and it is still the user's Ctrl+C.
    """
    held: list[int] = []
    ours = signal.getsignal(signal.SIGINT) is signal.default_int_handler
    if ours:
        signal.signal(signal.SIGINT, lambda signum, frame: held.append(signum))
    try:
        setup_streams()
        main = load()
    finally:
        if ours:
            signal.signal(signal.SIGINT, _raise_and_record)
    if held:
        return interrupted(prog)
    try:
        return int(main())
    except KeyboardInterrupt:
        return interrupted(prog)
    except (SystemExit, GeneratorExit):
        raise
    except BaseException as exc:
        if _received or _caused_by_interrupt(exc):
            return interrupted(prog)
        raise
    finally:
        if ours:  # done: a late Ctrl+C, during interpreter shutdown, changes nothing
            signal.signal(signal.SIGINT, signal.SIG_IGN)


_received: list[int] = []


def _raise_and_record(signum: int, frame: object) -> None:
    _received.append(signum)
    raise KeyboardInterrupt


def _stmpo_main() -> Callable[[], int]:
    from stmpo.cli import main

    return main


def _submitter_main() -> Callable[[], int]:
    from stmpo.gui.app import main

    return main


def stmpo() -> int:
    """`stmpo ...`"""
    return _guarded("stmpo", _stmpo_main)


def _end_submitter_now(signum: int, frame: object) -> None:
    """Ctrl+C in the submitter ends it at once, at any moment.

    Not a KeyboardInterrupt: one unwinding through Qt's C++ frames (a slot, a widget
    half-built) crashed the process with SIGSEGV in 1 of 4 runs. Nothing is lost:
    settings stick only when a bundle is written, and without this exit the deadline
    library's background look-ups kept the process alive ~20 s after the window went.
    """
    interrupted("stmpo-submitter")
    os._exit(EXIT_INTERRUPTED)


def submitter() -> int:
    """`stmpo-submitter ...`"""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:  # a parent may ignore it
        signal.signal(signal.SIGINT, _end_submitter_now)
    return _guarded("stmpo-submitter", _submitter_main)
