"""`stmpo-submitter EXPORT.json`: the artist's Qt submitter (placeholder until issue 4)."""

from __future__ import annotations

import sys


def main() -> int:
    print("stmpo-submitter is not built yet", file=sys.stderr)
    return 2
