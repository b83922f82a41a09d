"""An exclusive lock between processes, held on a sidecar file.

The report is replaced atomically (`os.replace`), so its own inode changes on every
write and cannot carry the lock; a `<report>.lock` file beside it does. The lock file
is opened without truncation and never written or removed: a file of that name that
stmpo did not create is left as it was, and removing it while another process waits
on it would let two writers in.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Block until this process holds the lock (fcntl.flock on POSIX, msvcrt on Windows)."""
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        if sys.platform == "win32":
            import msvcrt

            os.lseek(fd, 0, os.SEEK_SET)
            while True:
                try:
                    # LK_LOCK gives up after about 10 s; a long batch may hold it longer.
                    msvcrt.locking(fd, msvcrt.LK_LOCK, 1)
                    break
                except OSError:
                    continue
            try:
                yield
            finally:
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
