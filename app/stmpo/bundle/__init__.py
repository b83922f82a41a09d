"""Job bundle builder: export + settings -> validated OpenJD job bundle.

Public API (used by the CLI, the GUI's bundle callback, `stmpo submit` and `run-local`):

    build_bundle(export, settings) -> BuiltBundle        # plan in memory, no writing
    write_bundle(built, out_dir, *, overwrite=False, queue_parameters=None,
                 extra_asset_references=None, host_requirements=None) -> Path
    validate_bundle_dir(path) -> None                    # raises BundleError

The names are imported on first use (`stmpo.lazy_exports`), so the `stmpo bundle` and
`stmpo validate` command modules in this package cost `stmpo --help` nothing.
"""

from typing import TYPE_CHECKING

from stmpo.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from stmpo.bundle.assets import AssetRefs
    from stmpo.bundle.build import BuiltBundle, FontFile, build_bundle
    from stmpo.bundle.selection import ItemPlan
    from stmpo.bundle.settings import BundleSettings
    from stmpo.bundle.validate import validate_bundle_dir
    from stmpo.bundle.writer import write_bundle

__all__ = [
    "AssetRefs",
    "BuiltBundle",
    "BundleSettings",
    "FontFile",
    "ItemPlan",
    "build_bundle",
    "validate_bundle_dir",
    "write_bundle",
]

if not TYPE_CHECKING:  # type checkers see the imports above, so a misspelt name stays an error
    __getattr__ = lazy_exports(
        __name__,
        {
            "AssetRefs": "stmpo.bundle.assets",
            "BuiltBundle": "stmpo.bundle.build",
            "FontFile": "stmpo.bundle.build",
            "build_bundle": "stmpo.bundle.build",
            "ItemPlan": "stmpo.bundle.selection",
            "BundleSettings": "stmpo.bundle.settings",
            "validate_bundle_dir": "stmpo.bundle.validate",
            "write_bundle": "stmpo.bundle.writer",
        },
    )
