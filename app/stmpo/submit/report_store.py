"""The `--report` file on disk: refused before anything is submitted unless it is ours,
then updated one entry at a time, atomically, under a lock.

Two batches may name the same report (a wrangler resuming one half while a script runs
the other). Each write reads the file as it is now, writes this batch's entries in
(`report.upsert`) and replaces the file, all while holding `<report>.lock`, so neither
batch loses the other's entries and a reader never sees half a file.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from stmpo.errors import Problem, StmpoError, writing
from stmpo.submit.file_lock import exclusive_lock
from stmpo.submit.report import (
    BatchReport,
    ExportResult,
    export_key,
    merged,
    read_report,
    write_report,
)


class ReportStore:
    """One report file; every method raises StmpoError naming `--report` on failure."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")

    def check(self, exports: Sequence[str | Path]) -> list[ExportResult]:
        """Refuse a report that would overwrite an input of this command or a file that is
        not a stmpo report; return the entries it holds (none for a new file)."""
        mine = export_key(self.path)
        for export in exports:
            if export_key(export) == mine:
                raise StmpoError(
                    [Problem("--report", f"{self.path} is also an export of this command")]
                )
        if self.path.exists() and not self.path.is_file():
            raise StmpoError([Problem("--report", f"{self.path} is not a file")])
        return self.entries()

    def entries(self) -> list[ExportResult]:
        """What the file holds now (a missing file holds nothing)."""
        return read_report(self.path)

    def save(self, header: BatchReport, entries: Iterable[ExportResult] = ()) -> None:
        """Write `header` and `entries` into the report as it is on disk now."""
        with writing("--report"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with exclusive_lock(self.lock_path):
                current = read_report(self.path)
                batch = BatchReport(
                    header.started_at,
                    header.farm_id,
                    header.queue_id,
                    header.dry_run,
                    list(entries),
                    header.finished_at,
                )
                write_report(merged(current, batch), self.path)
