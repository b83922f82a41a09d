"""The tab's Warnings list: the very warnings `stmpo bundle` prints for the same export.

Issue 13: the tab used to compose its own list (export, footage, fonts, conda) and so
missed what only the bundle builder finds: a project file missing on this computer,
footage in another attachments root, an over-long command line. Now both come from
`build_bundle(...).warnings`, the CLI's one source.
"""

from __future__ import annotations

from stmpo.bundle import BundleSettings, build_bundle
from stmpo.errors import StmpoError
from stmpo.export.model import Export


def bundle_warnings(export: Export, settings: BundleSettings) -> list[str]:
    """What `stmpo bundle` would warn about for these settings.

    While the settings cannot be built (nothing selected, a refused upload: the tab says
    why elsewhere), the export's own warnings for the CLI's defaults (every renderable
    item) are shown, and failing those, the export's warnings alone.
    """
    for candidate in (settings, BundleSettings()):
        try:
            return list(build_bundle(export, candidate).warnings)
        except StmpoError:
            continue
    return [f"export: {warning}" for warning in export.warnings]
