"""Worker command line (contract in docs/architecture.md). Placeholder until issue 3."""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    print("openjd_fail: the STMPO worker is not built yet", flush=True)
    return 2
