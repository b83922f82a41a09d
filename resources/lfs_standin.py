"""A stand-in for Lustre's `lfs` HSM commands, for tests and studios without a cache.

Models what the Lustre manual documents (lfs-hsm(1); Lustre Operations Manual,
"Hierarchical Storage Management (HSM)"; the messages as lustre/utils/lfs.c prints them):

- `lfs hsm_state FILE...` prints one line per file, `/path: (0x0000000d) released exists
  archived, archive_id:1` (flag words in lfs.c's order: released, exists, dirty,
  archived, never_release, never_archive, lost_from_hsm), a never-archived file as
  `/path: (0x00000000)`. A missing file: `can't get hsm state for PATH: No such file or
  directory` on stderr, and lfs stops there with a non-zero exit (lfs.c returns on the
  first error).
- `lfs hsm_archive FILE...`, `hsm_restore` are asynchronous: the request is queued and
  the copytool completes it later (after LFS_STANDIN_DELAY_SEC, default 0); `hsm_state`
  shows the result once it has.
- `lfs hsm_release FILE...` only releases archived, not dirty, regular files; otherwise
  `Cannot send HSM request (use of PATH): Operation not permitted` and a non-zero exit.
- A file written after it was archived reads as `dirty` (its mtime or size differ from
  what was recorded when the archive completed): how a re-render shows up.

The state lives in a JSON file (LFS_STANDIN_STATE), one entry per absolute path; the
file's data is never touched (a released file keeps its bytes here, so a stand-in
aerender can still read it). LFS_STANDIN_FAIL=`archive:GLOB;restore-never:GLOB;...`
makes a command fail (`archive:`, `release:`, `restore:`: the request errors) or never
complete (`archive-never:`, `restore-never:`) for matching paths. LFS_STANDIN_LOG
receives one JSON line per call: {"t": time, "args": [...]}. Standard library only.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import stat
import sys
import time
from collections.abc import Iterator
from typing import Any

HS_EXISTS = 0x1
HS_DIRTY = 0x2
HS_RELEASED = 0x4
HS_ARCHIVED = 0x8
HS_NORELEASE = 0x10
HS_NOARCHIVE = 0x20
HS_LOST = 0x40
_WORDS = (
    (HS_RELEASED, "released"),
    (HS_EXISTS, "exists"),
    (HS_DIRTY, "dirty"),
    (HS_ARCHIVED, "archived"),
    (HS_NORELEASE, "never_release"),
    (HS_NOARCHIVE, "never_archive"),
    (HS_LOST, "lost_from_hsm"),
)
ENOENT = "No such file or directory"
EPERM = "Operation not permitted"


def _fails(kind: str, path: str) -> bool:
    for rule in os.environ.get("LFS_STANDIN_FAIL", "").split(";"):
        name, _, pattern = rule.partition(":")
        if name.strip() == kind and pattern and fnmatch.fnmatchcase(path, pattern):
            return True
    return False


@contextlib.contextmanager
def _locked_state() -> Iterator[dict[str, Any]]:
    """The state file, read and written under an exclusive lock (parallel tasks)."""
    path = os.environ.get("LFS_STANDIN_STATE", "")
    if not path:
        sys.stderr.write("lfs_standin: LFS_STANDIN_STATE is not set\n")
        sys.exit(2)
    with open(path + ".lock", "a+") as lock:
        try:
            import fcntl

            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        except ImportError:  # Windows: tests run the stand-in one call at a time
            pass
        try:
            with open(path, encoding="utf-8") as fh:
                state: dict[str, Any] = json.load(fh)
        except FileNotFoundError:
            state = {}
        yield state
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(state, fh, indent=1, sort_keys=True)
        os.replace(tmp, path)


def _signature(path: str) -> list[float]:
    info = os.stat(path)
    return [info.st_mtime, float(info.st_size)]


def _settle(entry: dict[str, Any], path: str, now: float) -> None:
    """Complete the queued copytool work whose time has come."""
    due = entry.get("archive_at")
    if due is not None and now >= due:
        entry.update(archived=True, exists=True, archive_at=None, signature=_signature(path))
    due = entry.get("restore_at")
    if due is not None and now >= due:
        entry.update(released=False, restore_at=None)


def _mask(entry: dict[str, Any], path: str) -> int:
    mask = 0
    if entry.get("exists"):
        mask |= HS_EXISTS
    if entry.get("archived"):
        mask |= HS_ARCHIVED
    if entry.get("released"):
        mask |= HS_RELEASED
    elif entry.get("archived") and entry.get("signature") != _signature(path):
        mask |= HS_DIRTY
    if entry.get("lost"):
        mask |= HS_LOST
    if entry.get("noarchive"):
        mask |= HS_NOARCHIVE
    return mask


def state_line(path: str, mask: int, archive_id: int) -> str:
    words = "".join(" " + word for bit, word in _WORDS if mask & bit)
    tail = f", archive_id:{archive_id}" if archive_id else ""
    return f"{path}: (0x{mask:08x}){words}{tail}"


def _request(kind: str, paths: list[str], state: dict[str, Any], now: float) -> int:
    delay = float(os.environ.get("LFS_STANDIN_DELAY_SEC", "0") or 0)
    for path in paths:
        if not os.path.lexists(path):
            sys.stderr.write(f"hsm: '{path}' fid resolution failed: {ENOENT}\n")
            return 2
    for path in paths:
        entry = state.setdefault(os.path.abspath(path), {})
        _settle(entry, path, now)
        if _fails(kind, path):
            sys.stderr.write(f"Cannot send HSM request (use of {path}): {EPERM}\n")
            return 1
        if kind == "release":
            regular = stat.S_ISREG(os.lstat(path).st_mode)
            if not regular or not entry.get("archived") or _mask(entry, path) & HS_DIRTY:
                sys.stderr.write(f"Cannot send HSM request (use of {path}): {EPERM}\n")
                return 1
    for path in paths:
        entry = state[os.path.abspath(path)]
        if kind == "archive" and not _fails("archive-never", path):
            entry["archive_at"] = now + delay
            entry.setdefault("archive_id", 1)
        elif kind == "release":
            entry["released"] = True
        elif kind == "restore" and entry.get("released") and not _fails("restore-never", path):
            entry["restore_at"] = now + delay
        _settle(entry, path, now)
    return 0


def main(argv: list[str]) -> int:
    log = os.environ.get("LFS_STANDIN_LOG", "")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"t": time.time(), "args": argv}) + "\n")
    if not argv or argv[0] not in ("hsm_state", "hsm_archive", "hsm_release", "hsm_restore"):
        sys.stderr.write(f"lfs: unknown command '{argv[0] if argv else ''}'\n")
        return 1
    command, paths = argv[0], [a for a in argv[1:] if not a.startswith("-")]
    if not paths:
        sys.stderr.write(f"lfs {command}: no file given\n")
        return 1
    now = time.time()
    with _locked_state() as state:
        if command != "hsm_state":
            return _request(command[len("hsm_") :], paths, state, now)
        for path in paths:
            if not os.path.lexists(path):
                sys.stdout.flush()
                sys.stderr.write(f"can't get hsm state for {path}: {ENOENT}\n")
                return 2
            entry = state.get(os.path.abspath(path), {})
            _settle(entry, path, now)
            if entry:
                state[os.path.abspath(path)] = entry
            sys.stdout.write(
                state_line(path, _mask(entry, path), int(entry.get("archive_id", 0))) + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
