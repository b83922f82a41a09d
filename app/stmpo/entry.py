"""The processes' entry points (`stmpo`, `stmpo-submitter`, `python -m stmpo`).

Two things only a process entry may do, kept here so library callers of
`stmpo.cli.main` are unaffected:

- set up the output streams once: a character the console or a redirected stdout
  cannot encode (cp1252 on Windows, `PYTHONIOENCODING=ascii`) is written as a
  backslash escape instead of raising `UnicodeEncodeError`;
- turn Ctrl+C at any moment, including while the command's modules are still being
  imported, into exit 130 with one line on stderr instead of a traceback.

Nothing is imported at module level but `sys`, so the guard covers every import.
"""

from __future__ import annotations

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


def _guarded(prog: str, load: Callable[[], Callable[[], int]]) -> int:
    try:
        setup_streams()
        return int(load()())
    except KeyboardInterrupt:
        return interrupted(prog)


def _stmpo_main() -> Callable[[], int]:
    from stmpo.cli import main

    return main


def _submitter_main() -> Callable[[], int]:
    from stmpo.gui.app import main

    return main


def stmpo() -> int:
    """`stmpo ...`"""
    return _guarded("stmpo", _stmpo_main)


def submitter() -> int:
    """`stmpo-submitter ...`"""
    return _guarded("stmpo-submitter", _submitter_main)
