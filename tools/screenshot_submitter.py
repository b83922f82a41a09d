"""Save a screenshot of the submitter's After Effects tab for the README.

Usage: QT_QPA_PLATFORM=offscreen python tools/screenshot_submitter.py [EXPORT] [OUT.png]
Runs with a throwaway HOME so no AWS settings of yours show up in the picture.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["DEADLINE_CLOUD_TELEMETRY_OPT_OUT"] = "true"


def main() -> int:
    root = Path(__file__).resolve().parents[1]
    source = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else root / "resources/examples/several_items.json"
    )
    out = Path(sys.argv[2]) if len(sys.argv) > 2 else root / "docs/submitter.png"
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp
        os.environ["DEADLINE_CONFIG_FILE_PATH"] = str(Path(tmp) / "deadline-config")
        export_path = Path(tmp) / source.name
        shutil.copy(source, export_path)
        from stmpo.export import load_export
        from stmpo.gui.app import build_dialog, ensure_application

        app = ensure_application()
        dialog = build_dialog(load_export(export_path), str(export_path))
        dialog.resize(980, 1500)
        dialog.tabs.setCurrentIndex(1)
        dialog.show()
        for _ in range(20):
            app.processEvents()
        inner = dialog.job_settings
        inner.resize(inner.sizeHint())
        ok = dialog.grab().save(str(out))
        dialog.close()
    print(f"wrote {out}" if ok else f"could not write {out}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
