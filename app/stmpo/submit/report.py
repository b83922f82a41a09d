"""The batch report: what was submitted, as JSON a pipeline can read back.

One entry per export: its path, a sha256 over the export's bytes and the submission
settings (farm, queue, parameter values, items, job name), the job id, ok/error, a
one-line message and timestamps. `--skip-submitted` trusts an entry only when it is
ok, has a job id and the same hash, so an edited export or a changed parameter is
submitted again while an unchanged one is not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from stmpo.errors import ExportError, Problem, StmpoError

REPORT_FORMAT = "stmpo-submit-report"
REPORT_VERSION = 1

Status = Literal["ok", "error"]


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

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {_camel(k): v for k, v in data.items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ExportResult:
        known = {f for f in cls.__dataclass_fields__}
        values = {_snake(k): v for k, v in data.items() if _snake(k) in known}
        return cls(**values)


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


def read_report(path: Path) -> list[ExportResult]:
    """Entries of an earlier report; a missing file is an empty report, a broken one exit 2."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise StmpoError([Problem("--report", f"cannot read {path}: {exc.strerror}")]) from None
    try:
        data = json.loads(raw)
        if data.get("format") != REPORT_FORMAT:
            raise ValueError(f"not a {REPORT_FORMAT} file")
        return [ExportResult.from_json(entry) for entry in data["exports"]]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise StmpoError(
            [Problem("--report", f"{path} is not a readable submit report ({exc})")]
        ) from None


def already_submitted(
    previous: Iterable[ExportResult], path: str, sha256: str
) -> ExportResult | None:
    """The last successful real submission of this export with this hash, if any."""
    found = None
    for entry in previous:
        if (
            entry.path == path
            and entry.sha256 == sha256
            and entry.ok
            and entry.job_id
            and not entry.dry_run
        ):
            found = entry
    return found


def merged(previous: Iterable[ExportResult], report: BatchReport) -> BatchReport:
    """This run's entries, plus earlier entries for exports this run did not touch."""
    current = {entry.path for entry in report.exports}
    kept = [entry for entry in previous if entry.path not in current]
    out = BatchReport(
        report.started_at, report.farm_id, report.queue_id, report.dry_run, kept, report.finished_at
    )
    out.exports += report.exports
    return out


def write_report(report: BatchReport, path: Path) -> None:
    """Atomic: a crash mid-write leaves the previous report, never half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(report.to_json(), indent=2, ensure_ascii=False) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
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
            detail = entry.job_id or entry.message
        else:
            status, detail = "error", entry.message.splitlines()[0] if entry.message else ""
        rows.append((Path(entry.path).name, status, detail))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    lines = [f"{r[0].ljust(widths[0])}  {r[1].ljust(widths[1])}  {r[2]}".rstrip() for r in rows]
    done = sum(1 for e in report.exports if e.ok)
    lines.append(f"{done} of {len(report.exports)} exports succeeded")
    return "\n".join(lines)
