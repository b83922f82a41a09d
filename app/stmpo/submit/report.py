"""The batch report: what was submitted, as JSON a pipeline can read back.

One entry per export: its path, a sha256 over the export's bytes and the submission
settings (farm, queue, parameter values, items, job name), the job id, ok/error, a
one-line message and timestamps. `--skip-submitted` trusts an entry only when it is
ok, has a job id and the same hash, so an edited export or a changed parameter is
submitted again while an unchanged one is not.

An export is known by its resolved path (symlinks and `..` followed, case folded on
Windows) plus that hash, so `./a.json`, `dir/../a.json` and a link to it are one
export. An entry whose CreateJob was about to be sent carries the client token and
the request (`pending`): the next run asks the service what became of it instead of
submitting again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from stmpo.errors import ExportError, Problem, StmpoError
from stmpo.files import open_new_beside

REPORT_FORMAT = "stmpo-submit-report"
REPORT_VERSION = 1
#: A report is a line per export; far larger is not one we wrote (and is not read whole).
MAX_REPORT_BYTES = 64 * 1024 * 1024

#: "submitting" is only ever on disk: the intent written just before CreateJob.
Status = Literal["ok", "error", "submitting"]


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def file_sha256(path: Path) -> str:
    """The hash of an export's bytes, read no further than an export may be long: a
    size says nothing for /dev/zero or a FIFO that never ends."""
    from stmpo.export.loader import MAX_EXPORT_BYTES  # here: pydantic only when hashing

    digest = hashlib.sha256()
    read = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            read += len(block)
            if read > MAX_EXPORT_BYTES:
                message = f"the file is larger than {MAX_EXPORT_BYTES >> 20} MiB"
                raise ExportError([Problem("", message)], source=str(path))
            digest.update(block)
    return digest.hexdigest()


def submission_hash(content_sha256: str, settings: Mapping[str, object]) -> str:
    """sha256 over the export content's hash and the canonical JSON of the settings."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{content_sha256}\n{canonical}".encode()).hexdigest()


def export_key(path: str | Path) -> str:
    """One spelling per file: `os.path.realpath`, case-normalised where the OS ignores case."""
    return os.path.normcase(os.path.realpath(path))


def export_file_id(path: str | Path) -> str | None:
    """`device:inode` of the export: the same file through a hard link, which no spelling
    of its path reveals. None where the OS gives no inode (0 on some file systems)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return f"{info.st_dev}:{info.st_ino}" if info.st_ino else None


@dataclass
class ExportResult:
    path: str
    status: Status
    message: str
    sha256: str | None = None
    job_id: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    items: list[int] | None = None
    bundle_dir: str | None = None
    warnings: list[str] = field(default_factory=list)
    started_at: str = ""
    finished_at: str = ""
    submitted_at: str | None = None
    skipped: bool = False
    dry_run: bool = False
    error_kind: str | None = None
    resolved_path: str | None = None
    file_id: str | None = None
    client_token: str | None = None
    #: The CreateJob parameters (without the token) while its outcome is unknown.
    create_job_request: dict[str, Any] | None = None
    recovered: bool = False
    upload_files: int | None = None
    """Files job attachments upload from this machine (before deduplication)."""
    upload_bytes: int | None = None
    upload_complete: bool | None = None
    """False when a bounded walk stopped early: the counts are then lower bounds."""
    cached_files: int | None = None
    """Inputs under a file cache root (issue 12): read through the cache, not uploaded."""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def key(self) -> str:
        """The export this entry is about (entries written before `resolvedPath` existed
        are resolved now)."""
        return self.resolved_path or export_key(self.path)

    def is_export(self, key: str, file_id: str | None) -> bool:
        """Is this entry about that export, however its path was spelled: the same
        resolved path, or the same file (a hard link)?"""
        return self.key == key or (file_id is not None and self.file_id == file_id)

    @property
    def pending(self) -> bool:
        """CreateJob may have been sent for this entry without its answer being recorded."""
        return not self.ok and bool(self.client_token) and self.create_job_request is not None

    def to_json(self) -> dict[str, Any]:
        # Field by field, not asdict(): the report is rewritten several times per export
        # and asdict's deep copy of every entry dominated that (see docs/submit.md).
        return {camel: getattr(self, name) for name, camel in _CAMEL.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportResult:
        return cls(**{_SNAKE[k]: v for k, v in data.items() if k in _SNAKE})


@dataclass
class BatchReport:
    started_at: str
    farm_id: str | None
    queue_id: str | None
    dry_run: bool
    exports: list[ExportResult] = field(default_factory=list)
    finished_at: str | None = None

    @property
    def ok(self) -> bool:
        return all(entry.ok for entry in self.exports)

    @property
    def failures(self) -> list[ExportResult]:
        return [entry for entry in self.exports if not entry.ok]

    def exit_code(self) -> int:
        """0 all ok; 2 when only bad input failed; 1 when the service or upload failed."""
        failures = self.failures
        if not failures:
            return 0
        if all(entry.error_kind == "input" for entry in failures):
            return 2
        return 1

    def to_json(self) -> dict[str, Any]:
        return {
            "format": REPORT_FORMAT,
            "version": REPORT_VERSION,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "farmId": self.farm_id,
            "queueId": self.queue_id,
            "dryRun": self.dry_run,
            "exports": [entry.to_json() for entry in self.exports],
        }


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


_CAMEL = {f.name: _camel(f.name) for f in fields(ExportResult)}
_SNAKE = {camel: name for name, camel in _CAMEL.items()}


def read_report(path: Path) -> list[ExportResult]:
    """Entries of an earlier report; a missing file is an empty report, a broken one exit 2."""
    from stmpo.json_depth import too_deep

    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_REPORT_BYTES + 1)
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StmpoError([Problem("--report", f"cannot read {path}: {exc.strerror}")]) from None
    try:
        if len(raw) > MAX_REPORT_BYTES:
            raise ValueError(f"larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB")
        text = raw.decode("utf-8")
        if too_deep(text) is not None:
            raise ValueError("nested too deeply")
        data = json.loads(text)
        if data.get("format") != REPORT_FORMAT:
            raise ValueError(f"not a {REPORT_FORMAT} file")
        return [ExportResult.from_json(entry) for entry in data["exports"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StmpoError(
            [Problem("--report", f"{path} is not a readable submit report ({exc})")]
        ) from None


def already_submitted(
    previous: Iterable[ExportResult], key: str, sha256: str, file_id: str | None = None
) -> ExportResult | None:
    """The last successful real submission of this export with this hash, if any."""
    found = None
    for entry in previous:
        if (
            entry.is_export(key, file_id)
            and entry.sha256 == sha256
            and entry.ok
            and entry.job_id
            and not entry.dry_run
        ):
            found = entry
    return found


def pending_submission(
    previous: Iterable[ExportResult], key: str, sha256: str, file_id: str | None = None
) -> ExportResult | None:
    """The last entry of this export and hash whose CreateJob outcome is unknown, if any."""
    found = None
    for entry in previous:
        if entry.is_export(key, file_id) and entry.sha256 == sha256 and entry.pending:
            found = entry
    return found


def _continues(old: ExportResult, new: ExportResult) -> bool:
    """`new` is a later state of `old`'s submission (or `old` holds nothing worth keeping)."""
    if old.key != new.key or old.sha256 != new.sha256 or old.dry_run != new.dry_run:
        return False
    return old.client_token == new.client_token or not (old.job_id or old.pending)


def upsert(previous: Iterable[ExportResult], updates: Iterable[ExportResult]) -> list[ExportResult]:
    """Earlier entries with `updates` written in. An entry replaces, in place, the entry of
    the same submission (same export, hash, mode and client token); a job or a pending
    intent of another submission is never replaced, so a deliberate second job of an
    export is a second entry; an older plain failure of that export is dropped."""
    entries = list(previous)
    for new in updates:
        key, kept, placed = new.key, [], False
        for old in entries:
            if old.key != key:
                kept.append(old)
            elif _continues(old, new):
                if not placed:
                    kept.append(new)
                    placed = True
            elif old.ok or old.pending or old.job_id:
                kept.append(old)
        if not placed:
            kept.append(new)
        entries = kept
    return entries


def merged(previous: Iterable[ExportResult], report: BatchReport) -> BatchReport:
    """`report`'s header with every earlier entry kept and this run's written in."""
    return BatchReport(
        report.started_at,
        report.farm_id,
        report.queue_id,
        report.dry_run,
        upsert(previous, report.exports),
        report.finished_at,
    )


def report_text(report: BatchReport) -> str:
    """The header indented, then one export per line: readable, diffable, and written
    with json's C encoder (`indent` would switch to the pure-Python one, which made a
    1000-entry report cost ~65 ms per write)."""
    data = report.to_json()
    exports = data.pop("exports")
    head = json.dumps(data, indent=2, ensure_ascii=False)[:-2]
    lines = [json.dumps(entry, ensure_ascii=False) for entry in exports]
    body = ",\n    ".join(lines)
    return (
        f'{head},\n  "exports": [\n    {body}\n  ]\n}}\n'
        if lines
        else f'{head},\n  "exports": []\n}}\n'
    )


def write_report(report: BatchReport, path: Path) -> None:
    """Atomic: a crash mid-write leaves the previous report, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = report_text(report)
    fd, tmp = open_new_beside(path)  # mkstemp would make the report 0600, not the umask's
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def summary_table(report: BatchReport) -> str:
    """Export | status | job id or error, aligned, for the end of a CLI run."""
    rows = [("EXPORT", "STATUS", "JOB / MESSAGE")]
    for entry in report.exports:
        if entry.ok:
            status = "skipped" if entry.skipped else ("dry-run" if entry.dry_run else "ok")
            status = "recovered" if entry.recovered else status
            detail = _ok_detail(entry)
        else:
            status, detail = "error", entry.message.splitlines()[0] if entry.message else ""
        rows.append((Path(entry.path).name, status, detail))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}".rstrip() for r in rows]
    done = sum(1 for e in report.exports if e.ok)
    lines.append(f"{done} of {len(report.exports)} exports succeeded")
    return "\n".join(lines)


def _ok_detail(entry: ExportResult) -> str:
    """What an ok row says: a skipped or recovered export uploaded nothing in this run
    (its files went with the run that submitted it), so it names that, not "uploads -"."""
    if entry.skipped:
        return f"{entry.message}; nothing uploaded"
    if entry.recovered:
        return f"{entry.job_id}; nothing uploaded (the interrupted run uploaded its files)"
    return f"{entry.job_id or entry.message}; uploads {upload_text(entry)}"


def upload_text(entry: ExportResult) -> str:
    """ "12 files, 3.4 MB" (what the export uploads), or "-" when it was not counted."""
    from stmpo.bundle.upload_policy import UploadSummary

    if entry.upload_files is None or entry.upload_bytes is None:
        return "-"
    complete = entry.upload_complete is not False
    cached = entry.cached_files or 0
    return UploadSummary(entry.upload_files, entry.upload_bytes, complete, cached).text()
