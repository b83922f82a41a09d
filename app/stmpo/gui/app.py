"""`stmpo-submitter EXPORT.json|PROJECT.aep`: the artist's submitter window.

It is the deadline library's own `SubmitJobToDeadlineDialog` (shared job settings, farm
and queue, login status, job attachments, host requirements, Save bundle / Submit with
the library's progress dialog) with our After Effects tab plugged in, the way the
official Maya, Nuke and Blender submitters do it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from stmpo import __version__
from stmpo._worker_scripts.stmpo_worker.logtext import text_line
from stmpo.bundle.assets import AssetRefs
from stmpo.bundle.conda import conda_packages_for, exporting_version
from stmpo.errors import StmpoError
from stmpo.export.model import Export
from stmpo.gui.settings import (
    AfterEffectsSettings,
    initial_settings,
    sticky_path,
    to_bundle_settings,
    try_save_sticky,
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


def without_unchosen_items(dialog_refs: Any, auto_detected: Any, chosen: Any) -> AssetRefs:
    """The Job attachments tab's paths minus those auto-detected for items not in the job.

    That tab is filled once, when the dialog opens, with what every renderable item needs;
    the artist then picks items in our tab. Without this, the job would declare the
    outputs of items it does not render (and the upload prompt would warn about them).
    Paths the artist added by hand are kept.
    """
    current = AssetRefs.from_any(dialog_refs)
    auto = AssetRefs.from_any(auto_detected)
    needed = AssetRefs.from_any(chosen)

    Paths = tuple[str, ...]

    def keep(paths: Paths, detected: Paths, wanted: Paths) -> Paths:
        stale = set(detected) - set(wanted)
        return tuple(path for path in paths if path not in stale)

    return AssetRefs(
        keep(current.input_filenames, auto.input_filenames, needed.input_filenames),
        keep(current.input_directories, auto.input_directories, needed.input_directories),
        keep(current.output_directories, auto.output_directories, needed.output_directories),
        keep(current.referenced_paths, auto.referenced_paths, needed.referenced_paths),
    )


def make_bundle_callback(export: Export, export_path: str, auto_detected: Any = None) -> Any:
    """The dialog's bundle callback; `auto_detected` is what the Job attachments tab got."""
    from deadline.client.job_bundle.submission import AssetReferences

    from stmpo.bundle import build_bundle, write_bundle

    detected = AssetReferences() if auto_detected is None else auto_detected

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
            extra_asset_references=without_unchosen_items(
                asset_references, detected, built.asset_references
            ),
            host_requirements=host_requirements,
        )
        # A full or read-only folder, a file not ours, one pinned read-only: never blocks
        # the bundle or the job, and is said in the window (the tab's Warnings).
        notice = try_save_sticky(settings, sticky_path(export, export_path))
        if notice is not None:
            print(text_line(f"stmpo-submitter: warning: {notice}"), file=sys.stderr)
        tab = getattr(widget, "job_settings", None)
        if tab is not None and hasattr(tab, "settings_saved"):
            tab.settings_saved(notice)
        project = next(v["value"] for v in built.parameter_values if v["name"] == "ProjectFile")
        return {"known_asset_paths": known_asset_paths(str(project))}

    return on_create_job_bundle


def known_asset_paths(project_file: str) -> list[str]:
    """The project's folder only, as for `stmpo submit`: the library then asks the artist
    about every other folder it would upload from, in its own confirmation dialog (the
    artist answers it; we never do). A root or home folder is never known.
    """
    from stmpo.submit.deadline_submit import project_folder_known

    return project_folder_known(project_file)


def build_dialog(export: Export, export_path: str, parent: Any = None) -> Any:
    ensure_application()
    from deadline.client.dataclasses import SubmitterInfo
    from deadline.client.job_bundle.submission import AssetReferences

    from stmpo.gui.ae_widget import AfterEffectsSettingsWidget, hand_over
    from stmpo.gui.dialog import StmpoSubmitDialog

    hand_over(export_path, export)

    host = export.host
    detected = auto_detected_attachments(export)
    settings = initial_settings(export, export_path)
    conda = conda_packages_for(exporting_version(export))
    for notice in settings.notices:  # also in the tab's Warnings
        print(text_line(f"stmpo-submitter: warning: {notice}"), file=sys.stderr)
    dialog = StmpoSubmitDialog(
        job_setup_widget_type=AfterEffectsSettingsWidget,
        initial_job_settings=settings,
        # The queue's conda environment shows CondaPackages in the dialog's queue section:
        # prefilled here, the artist sees and may change what the job installs there
        # (stmpo.bundle.writer.QUEUE_SHOWN); a queue without one takes the bundle's value.
        initial_shared_parameter_values={"CondaPackages": conda.packages},
        auto_detected_attachments=detected,
        attachments=AssetReferences(),
        on_create_job_bundle_callback=make_bundle_callback(export, export_path, detected),
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
    return run_until_closed(app)


def run_until_closed(app: Any) -> int:
    """`app.exec()`, with Python given a moment to run a few times a second.

    Qt's event loop runs in C++, where Python's signal handlers run only when some
    Python code does: without this timer, Ctrl+C (handled by `stmpo.entry`) would wait
    for the next mouse move.
    """
    from PySide6.QtCore import QTimer

    wake = QTimer()
    wake.timeout.connect(lambda: None)
    wake.start(200)
    try:
        return int(app.exec())
    finally:
        wake.stop()


if __name__ == "__main__":
    sys.exit(main())
