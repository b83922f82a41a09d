"""Submitter launch to interactive with a 100-item export (target: under 2 s).

Each run is a fresh process, as when an artist clicks the menu item: interpreter start,
imports (Qt, the deadline library), loading the export, building the dialog with the
After Effects tab (table, fan-out preview for every item, font resolution), showing it
and the first turn of the event loop. Run: `python bench/bench_gui.py [runs]`.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import os, sys, time
t0 = time.perf_counter()
from stmpo.gui.app import build_dialog, ensure_application
from stmpo.export.sources import load_any
app = ensure_application()
t_import = time.perf_counter()
dialog = build_dialog(load_any(sys.argv[1]), sys.argv[1])
dialog.show()
from PySide6.QtCore import QTimer
def done():
    t_end = time.perf_counter()
    print(f"{t_import - t0:.3f} {t_end - t0:.3f} {dialog.job_settings.queue_table.rowCount()}")
    app.quit()
QTimer.singleShot(0, done)
app.exec()
"""


def write_export(path: Path, items: int, frames: int = 250) -> None:
    queue = [
        {
            "index": i,
            "comp": {"name": f"Shot {i:03d} comp", "frameRate": 25.0, "duration": frames / 25.0},
            "frames": {"start": 0, "end": frames - 1},
            "outputModules": [
                {"index": 1, "path": f"/tmp/stmpo-bench/out/shot{i:03d}/f_[#####].png"}
            ],
        }
        for i in range(1, items + 1)
    ]
    export = {
        "format": "stmpo-ae-export",
        "version": 1,
        "project": {"path": "/tmp/stmpo-bench/project.aep"},
        "renderQueue": queue,
    }
    path.write_text(json.dumps(export), encoding="utf-8")


def main() -> int:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        export = Path(tmp) / "hundred.json"
        write_export(export, 100)
        env = dict(os.environ)
        env.update(
            QT_QPA_PLATFORM="offscreen",
            HOME=tmp,
            DEADLINE_CONFIG_FILE_PATH=str(Path(tmp) / "deadline-config"),
            AWS_EC2_METADATA_DISABLED="true",
            DEADLINE_CLOUD_TELEMETRY_OPT_OUT="true",
        )
        walls, interactive, imports = [], [], []
        for _ in range(runs):
            start = time.perf_counter()
            out = subprocess.run(
                [sys.executable, "-c", CHILD, str(export)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            )
            walls.append(time.perf_counter() - start)
            t_import, t_ready, rows = out.stdout.split()
            assert int(rows) == 100
            imports.append(float(t_import))
            interactive.append(float(t_ready))
    print("submitter launch -> interactive, 100-item export, fresh process each run")
    print(f"  runs: {runs}")
    print(f"  imports (Qt + deadline + stmpo): median {statistics.median(imports):.2f} s")
    print(f"  in-process to interactive:       median {statistics.median(interactive):.2f} s")
    print(
        f"  whole process (incl. interpreter): median {statistics.median(walls):.2f} s,"
        f" max {max(walls):.2f} s  (target < 2 s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
