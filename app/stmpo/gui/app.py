"""`stmpo-submitter EXPORT.json|PROJECT.aep`: the artist's submitter window.

It is the deadline library's own `SubmitJobToDeadlineDialog` (shared job settings, farm
and queue, login status, job attachments, host requirements, Save bundle / Submit with
the library's progress dialog) with our After Effects tab plugged in, the way the
official Maya, Nuke and Blender submitters do it.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stmpo import __version__
from stmpo.errors import StmpoError
from stmpo.export.model import Export
from stmpo.gui.settings import (
    AfterEffectsSettings,
    initial_settings,
    save_sticky,
    sticky_path,
    to_bundle_settings,
)

SUBMITTER_NAME = "After Effects"


def ensure_application() -> Any:
    """The QApplication must exist before the deadline dialog module is imported."""
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    return app


def auto_detected_attachments(export: Export) -> Any:
    """What the Job attachments tab shows as detected: the project, footage, fonts, outputs."""
    from deadline.client.job_bundle.submission import AssetReferences

    from stmpo.bundle import BundleSettings, build_bundle

    try:
        refs = build_bundle(export, BundleSettings()).asset_references
    except StmpoError:
        return AssetReferences()  # nothing renderable yet: the tab says why
    return AssetReferences(
        input_filenames=set(refs.input_filenames),
        input_directories=set(refs.input_directories),
        output_directories=set(refs.output_directories),
    )


def make_bundle_callback(export: Export, export_path: str) -> Any:
    from stmpo.bundle import build_bundle, write_bundle

    def on_create_job_bundle(
        widget: Any,
        job_bundle_dir: str,
        settings: AfterEffectsSettings,
        queue_parameters: list[dict[str, Any]],
        asset_references: Any,
        host_requirements: dict[str, Any] | None = None,
        *,
        purpose: Any,
    ) -> dict[str, Any]:
        built = build_bundle(export, to_bundle_settings(settings))
        write_bundle(
            built,
            Path(job_bundle_dir),
            overwrite=True,
            queue_parameters=queue_parameters,
            extra_asset_references=asset_references,
            host_requirements=host_requirements,
        )
        with contextlib.suppress(OSError):  # a read-only project folder must not block
            save_sticky(settings, sticky_path(export, export_path))
        refs = built.asset_references
        known = {*refs.input_filenames, *refs.input_directories, *refs.output_directories}
        return {"known_asset_paths": sorted(known)}

    return on_create_job_bundle


def build_dialog(export: Export, export_path: str, parent: Any = None) -> Any:
    ensure_application()
    from deadline.client.dataclasses import SubmitterInfo
    from deadline.client.job_bundle.submission import AssetReferences
    from deadline.client.ui.dialogs.submit_job_to_deadline_dialog import (
        SubmitJobToDeadlineDialog,
    )

    from stmpo.gui.ae_widget import AfterEffectsSettingsWidget

    host = export.host
    dialog = SubmitJobToDeadlineDialog(
        job_setup_widget_type=AfterEffectsSettingsWidget,
        initial_job_settings=initial_settings(export, export_path),
        initial_shared_parameter_values={},
        auto_detected_attachments=auto_detected_attachments(export),
        attachments=AssetReferences(),
        on_create_job_bundle_callback=make_bundle_callback(export, export_path),
        parent=parent,
        show_host_requirements_tab=True,
        submitter_info=SubmitterInfo(
            submitter_name=SUBMITTER_NAME,
            submitter_package_name="stmpo-ae",
            submitter_package_version=__version__,
            host_application_name=host.app if host else "After Effects",
            host_application_version=(host.version or "") if host else "",
        ),
    )
    dialog.setWindowTitle(f"STMPO for After Effects {__version__}: {export.project_name}")
    return dialog


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="stmpo-submitter", description="Submit an After Effects project to Deadline Cloud."
    )
    parser.add_argument("export", help="an stmpo-ae-export JSON file or a saved .aep project")
    args = parser.parse_args(argv)
    app = ensure_application()
    from stmpo.export.sources import load_any

    try:
        export = load_any(args.export)
    except StmpoError as exc:
        print(f"stmpo-submitter: {exc.render()}", file=sys.stderr)
        if app.platformName() not in ("offscreen", "minimal"):
            from PySide6.QtWidgets import QMessageBox

            QMessageBox.critical(None, "STMPO for After Effects", exc.render())
        return 2
    dialog = build_dialog(export, str(Path(args.export).resolve()))
    dialog.show()
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main())
