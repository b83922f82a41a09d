"""Create output files and folders the way the user's own tools would: through the umask.

`tempfile.mkstemp`/`mkdtemp` create 0600 files and 0700 folders on purpose (private
temporaries). An output the user asked for (a bundle, a report, an export) must be
readable by whoever their umask lets read it: a farm's shared folder, a colleague
opening the report. So everything here asks the kernel for 0o666 files and 0o777
folders and lets it apply the umask; nothing reads the umask (`os.umask` is
process-wide and not thread-safe). Temporary siblings are hidden, unique and created
exclusively, so they never replace anything that already exists.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
_ATTEMPTS = 100


def sibling_name(target: Path, suffix: str) -> Path:
    """A hidden name next to `target` that says whose temporary it is."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}{suffix}")


def about(exc: OSError, target: Path) -> OSError:
    """The same OS error, told about the user's `target` instead of a temporary."""
    return OSError(exc.errno, exc.strerror, str(target))


def _create_beside(target: Path, suffix: str, create: Callable[[Path], None]) -> Path:
    for _ in range(_ATTEMPTS):
        candidate = sibling_name(target, suffix)
        try:
            create(candidate)
        except FileExistsError:
            continue
        except OSError as exc:  # a read-only or missing folder: say which output it was for
            raise about(exc, target) from None
        return candidate
    raise FileExistsError(f"no free temporary name next to {target}")


def open_new_beside(target: Path, suffix: str = ".partial") -> tuple[int, str]:
    """Like `tempfile.mkstemp(dir=target.parent)`, but the file gets the umask's mode."""
    fds: list[int] = []
    path = _create_beside(target, suffix, lambda p: fds.append(os.open(p, _FILE_FLAGS, 0o666)))
    return fds[0], str(path)


def make_dir_beside(target: Path, suffix: str = ".partial") -> Path:
    """Like `tempfile.mkdtemp(dir=target.parent)`, but the folder gets the umask's mode."""
    return _create_beside(target, suffix, lambda p: os.mkdir(p, 0o777))


def write_text_atomically(target: Path, text: str, mode: int | None = None) -> None:
    """Write beside `target`, then rename over it: a failed run never leaves half a file,
    nor a temporary. `mode`: the file's permission bits (a file replaced keeps its own:
    the new one would otherwise get the umask's)."""
    fd, tmp = open_new_beside(target)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            if mode is not None:
                os.chmod(tmp, mode)
            handle.write(text)
        os.replace(tmp, target)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise about(exc, target) from None
        raise


def copy_file(source: Path, dest: Path) -> None:
    """Copy the bytes only: the copy's mode comes from the umask, not from the source
    (a read-only font file would otherwise make a read-only, undeletable bundle on
    Windows, and a 0600 source a bundle the farm cannot read)."""
    shutil.copyfile(source, dest)


def copy_tree(source: Path, dest: Path, skip: Callable[[str], bool] = lambda _name: False) -> None:
    """`shutil.copytree` copies every folder's mode too; this one leaves modes to the umask."""
    os.mkdir(dest, 0o777)
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        if skip(entry.name):
            continue
        if entry.is_dir():
            copy_tree(Path(entry.path), dest / entry.name, skip)
        else:
            copy_file(Path(entry.path), dest / entry.name)
