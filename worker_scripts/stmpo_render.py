"""Entry point the job template runs on the worker: `python stmpo_render.py COMMAND ...`.

It only puts its own folder on sys.path, so the `stmpo_worker` package shipped beside it
in the job bundle is importable with whatever Python the worker has.
"""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stmpo_worker.cli import main

if __name__ == "__main__":
    sys.exit(main())
