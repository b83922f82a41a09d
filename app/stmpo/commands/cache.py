"""`stmpo cache-status PATH` and `stmpo cache-archive PATH`: the reference post's manual
clean-up of a file cache (find what only the cache holds, archive it, check again) as
two commands with progress (docs/file-cache.md, "What the cache steps do").

They reuse the worker's `filecache.py` (the same `lfs` calls, parsing, batching and
polling as the job's cache steps), so a wrangler sees exactly what a job would.
Exit 0 all archived (cache-archive) / listed (cache-status); 1 something remains or
`lfs` failed; 2 a bad argument (a relative or missing PATH, a bad --timeout, no lfs).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from stmpo._worker_scripts.stmpo_worker import filecache as fc
from stmpo._worker_scripts.stmpo_worker.logtext import shown
from stmpo.errors import Problem, StmpoError

DEFAULT_LFS = "sudo lfs"
DEFAULT_TIMEOUT = 3600.0
MAX_TIMEOUT = 604800.0  # CachePollTimeoutSec's bound: a week
PLAIN_PROGRESS_EVERY_SEC = 2.0


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    status = subparsers.add_parser(
        "cache-status", help="list files under PATH that are dirty or not archived (lfs)"
    )
    status.add_argument("path", metavar="PATH", help="an absolute file or folder in the cache")
    status.add_argument("--json", action="store_true", help="print one JSON document")
    status.add_argument("--lfs", default=DEFAULT_LFS, metavar="CMD", help="default: sudo lfs")
    status.set_defaults(handler=run)
    archive = subparsers.add_parser(
        "cache-archive", help="archive what under PATH is dirty or not archived, and wait"
    )
    archive.add_argument("path", metavar="PATH", help="an absolute file or folder in the cache")
    archive.add_argument(
        "--timeout", default=str(DEFAULT_TIMEOUT), metavar="S", help="seconds to wait (3600)"
    )
    archive.add_argument("--lfs", default=DEFAULT_LFS, metavar="CMD", help="default: sudo lfs")
    archive.set_defaults(handler=run)


@dataclass
class Status:
    """What `hsm_state` said about every file under PATH."""

    files: int = 0
    archived: list[str] = field(default_factory=list)
    dirty: list[str] = field(default_factory=list)
    not_archived: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "files": self.files,
            "archived": len(self.archived),
            "dirty": len(self.dirty),
            "not_archived": len(self.not_archived),
            "released": len(self.released),
            "missing": len(self.missing),
        }


def classify(states: dict[str, fc.HsmState | None]) -> Status:
    """Pure: counts and lists from the states. A released file is archived too."""
    status = Status(files=len(states))
    for path, state in states.items():
        if state is None:
            status.missing.append(path)
            continue
        if state.released:
            status.released.append(path)
        if state.dirty:
            status.dirty.append(path)
        elif state.safe:
            status.archived.append(path)
        else:
            status.not_archived.append(path)
    return status


class Progress:
    """A bar on a terminal, a plain line every few seconds otherwise (a log file)."""

    def __init__(self, stream: TextIO, what: str, clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.what = what
        self.tty = stream.isatty()
        self.clock = clock
        self.last = -math.inf

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if self.tty:
            width = 30
            filled = width * done // total if total else width
            self.stream.write(
                f"\r{self.what} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            )
            if done >= total:
                self.stream.write("\n")
        elif done >= total or now - self.last >= PLAIN_PROGRESS_EVERY_SEC:
            self.stream.write(f"{self.what}: {done}/{total} files\n")
        else:
            return
        self.last = now
        self.stream.flush()


def _path(text: str) -> str:
    if not os.path.isabs(text):
        raise StmpoError([Problem(f"PATH {shown(text, 200)}", "not an absolute path")])
    if not os.path.lexists(text):
        raise StmpoError([Problem(f"PATH {shown(text, 200)}", "not found")])
    return os.path.normpath(text)


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 1.0 <= value <= MAX_TIMEOUT:  # NaN, inf and out of range alike
        raise StmpoError(
            [Problem(f"--timeout {shown(text, 40)}", f"expected seconds, 1 to {MAX_TIMEOUT:g}")]
        )
    return value


def _lfs(command: str) -> fc.Lfs:
    try:
        lfs = fc.Lfs(command)
        lfs.check()
    except fc.LfsMissing as exc:
        raise StmpoError([Problem(f"--lfs {shown(command, 200)}", exc.why)]) from None
    return lfs


def status_of(lfs: fc.Lfs, root: str, progress: Callable[[int, int], None]) -> Status:
    files = list(fc.walk_files(root))
    states: dict[str, fc.HsmState | None] = {}
    progress(0, len(files))
    for batch in fc.batches([*lfs.argv, "hsm_state"], files):
        states.update(lfs.states(batch))
        progress(len(states), len(files))
    return classify(states)


def _print_status(status: Status, root: str, out: TextIO) -> None:
    counts = status.counts()
    out.write(
        f"{shown(root)}: {counts['files']} files: {counts['archived']} archived, "
        f"{counts['dirty']} dirty, {counts['not_archived']} not archived, "
        f"{counts['released']} released"
        + (f", {counts['missing']} missing" if status.missing else "")
        + "\n"
    )
    for label, paths in (("dirty", status.dirty), ("not archived", status.not_archived)):
        for path in paths:
            out.write(f"{label}: {shown(path)}\n")


def run(args: argparse.Namespace) -> int:
    root = _path(args.path)
    timeout = _timeout(args.timeout) if args.command == "cache-archive" else 0.0
    lfs = _lfs(args.lfs)
    try:
        status = status_of(lfs, root, Progress(sys.stderr, "hsm_state"))
        if args.command == "cache-status":
            if args.json:
                document: dict[str, Any] = {
                    "path": root,
                    "counts": status.counts(),
                    "dirty": status.dirty,
                    "not_archived": status.not_archived,
                    "released": status.released,
                    "missing": status.missing,
                }
                sys.stdout.write(json.dumps(document, indent=1) + "\n")
            else:
                _print_status(status, root, sys.stdout)
            return 0
        return _archive(lfs, status, timeout)
    except fc.LfsFailed as exc:
        print(f"stmpo {args.command}: lfs failed: {shown(exc)}", file=sys.stderr)
        return 1


def _archive(lfs: fc.Lfs, status: Status, timeout: float) -> int:
    todo = status.dirty + status.not_archived
    progress = Progress(sys.stderr, "hsm_archive")
    sent = 0
    for batch in fc.batches([*lfs.argv, "hsm_archive"], todo):
        lfs.request("hsm_archive", batch)
        sent += len(batch)
        progress(sent, len(todo))
    waited = fc.wait_for(lfs, todo, fc.is_archived, timeout, Progress(sys.stderr, "archived"))
    remaining = waited.pending + sorted(waited.failed) + status.missing
    print(
        f"archived {len(waited.done)}/{len(todo)} in {waited.seconds:.1f} s "
        f"({len(status.archived)} already archived); {len(remaining)} remaining"
    )
    for path in remaining:
        why = waited.failed.get(path, "missing" if path in status.missing else "not archived")
        print(f"remaining ({why}): {shown(path)}")
    return 1 if remaining else 0
