"""Job bundle builder: export + settings -> validated OpenJD job bundle.

Public API (used by the CLI, the GUI's bundle callback, `stmpo submit` and `run-local`):

    build_bundle(export, settings) -> BuiltBundle        # plan in memory, no writing
    write_bundle(built, out_dir, *, overwrite=False, queue_parameters=None,
                 extra_asset_references=None, host_requirements=None) -> Path
    validate_bundle_dir(path) -> None                    # raises BundleError

Importing the package loads pydantic, yaml and openjd-model: the `stmpo bundle` and
`stmpo validate` commands live in `stmpo.commands`, so `stmpo --help` never runs this.
"""

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
