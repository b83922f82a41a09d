"""Entry point the job template runs on the worker: `python stmpo_render.py COMMAND ...`.

It only puts its own folder on sys.path, so the `stmpo_worker` package shipped beside it
in the job bundle is importable with whatever Python the worker has. The import itself
is inside the Ctrl+C guard: an interrupt at any moment after this file starts running
exits 130 with one line, never a traceback.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def _run() -> int:
    try:
        from stmpo_worker.cli import main

        return main()
    except KeyboardInterrupt:
        # Written here, not imported: the interrupt may have stopped that very import.
        # The same two lines as `stmpo_worker.cli.interrupted`; all ASCII, so no
        # stream setup is needed for them.
        try:
            print("openjd_fail: interrupted (Ctrl+C)", flush=True)
            print("stmpo_render.py: interrupted", file=sys.stderr, flush=True)
        except Exception:
            pass
        return 130


if __name__ == "__main__":
    sys.exit(_run())
