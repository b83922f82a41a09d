"""Install the job's attached fonts at session start and remove exactly those at the end.

The job environment's enter action calls `install_fonts`, its exit action (a separate
process, maybe after a crash) calls `remove_fonts`; the JSON state file in the session
folder is all they share. Each install is recorded *before* its file is copied, so the
clean-up also covers a half-finished install. A font the user already had, byte for
byte, is left alone and never removed.

A font that fails to install is a warning, not a failed task: After Effects reports a
missing font itself and the artist may accept its substitute. `strict=True` (the CLI's
`--strict-fonts`) turns any failure into an error after rolling back what was installed.

The state file is outside input at removal time (anyone who can write the session
folder can edit it), so `remove_fonts` takes from it only the tag and, per file, the
path and the hash: a file is removed only when its resolved path lies in the place the
backend derives from that tag and its content still has the recorded hash; the only
folder ever removed is the session's own, when empty. Every line printed goes through
`logtext`, since names and paths come from the job.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .font_backends import (
    FONT_EXTENSIONS,
    FontBackend,
    FontFile,
    LinuxBackend,
    MacBackend,
    ownership_problem,
    read_font_file,
    remove_owned_folder,
    safe_tag,
    same_content,
    valid_sha256,
    valid_tag,
)
from .logtext import shown, text_line
from .sfnt import SfntError

STATE_FORMAT = "stmpo-font-state"
STATE_VERSION = 1
#: Far beyond the state of any real install (a few hundred bytes a font).
MAX_STATE_BYTES = 16 * 1024 * 1024


class FontInstallError(Exception):
    """Some attached fonts could not be installed and the job asked for strict fonts."""


def say(text: str) -> None:
    """One log line, flushed, so it shows in the task log as it happens. Font names and
    file names come from the font files themselves: escaped to one bounded line."""
    print(text_line(text), flush=True)


def default_backend() -> FontBackend:
    if sys.platform == "win32":
        from .font_windows import WindowsBackend

        return WindowsBackend()
    if sys.platform == "darwin":
        return MacBackend()
    return LinuxBackend()


def session_tag(env: Mapping[str, str] | None = None, token: str | None = None) -> str:
    """What makes this session's files its own: the Deadline session (else job, else
    `local`) for a reader, plus a random token that makes it unique.

    The token, not the session id, is what keeps sessions apart: two sessions of one
    job can run on one worker, `DEADLINE_SESSION_ID` may be unset (a local run, an
    older agent), and the first to finish must not remove fonts the other is rendering
    with. The tag is kept in the state file, so the clean-up finds the same files.
    """
    env = os.environ if env is None else env
    base = "local"
    for name in ("DEADLINE_SESSION_ID", "DEADLINE_JOB_ID"):
        if env.get(name):
            base = safe_tag(env[name])
            break
    return f"{base}-{secrets.token_hex(6) if token is None else safe_tag(token)}"


def _new_state(backend: FontBackend, tag: str) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "version": STATE_VERSION,
        "backend": backend.name,
        "tag": tag,
        "installed": [],
        "present": [],
    }


def load_state(state_file: Path) -> dict[str, Any] | None:
    """The state a previous run wrote; None when there is none (or it is unreadable)."""
    try:
        with open(state_file, "rb") as handle:  # capped: a state is a few KB, never /dev/zero
            raw = handle.read(MAX_STATE_BYTES + 1)
        if len(raw) > MAX_STATE_BYTES:
            raise ValueError(f"larger than {MAX_STATE_BYTES // (1024 * 1024)} MiB")
        state = json.loads(raw.decode("utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:  # RecursionError: nested too deep
        say(f"WARNING: font state {shown(state_file)} is unreadable ({shown(exc)}); ignoring it")
        return None
    if (
        not isinstance(state, dict)
        or state.get("format") != STATE_FORMAT
        or not valid_tag(state.get("tag"))
        or not isinstance(state.get("installed"), list)
    ):
        say(f"WARNING: {shown(state_file)} is not an STMPO font state file; ignoring it")
        return None
    records = [r for r in state["installed"] if _valid_record(r)]
    if len(records) != len(state["installed"]):
        say(f"WARNING: {shown(state_file)} has damaged entries; they are ignored")
    state["installed"] = records
    if not isinstance(state.get("present"), list):
        state["present"] = []
    return state


def _valid_record(record: object) -> bool:
    return (
        isinstance(record, dict)
        and all(isinstance(record.get(key), str) for key in ("file", "label", "sha256", "path"))
        and valid_sha256(record["sha256"])
    )


def _save_state(state_file: Path, state: Mapping[str, Any]) -> None:
    state_file.parent.mkdir(parents=True, exist_ok=True)
    partial = state_file.with_name(state_file.name + ".partial")
    partial.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(partial, state_file)


def attached_font_files(fonts_dir: Path) -> list[Path]:
    if not fonts_dir.is_dir():
        return []
    return sorted(p for p in fonts_dir.iterdir() if p.is_file())


def _installed_by_this_session(state: Mapping[str, Any], font: FontFile) -> bool:
    return any(
        record["sha256"] == font.sha256 and same_content(font, Path(record["path"]))
        for record in state["installed"]
    )


def install_fonts(
    fonts_dir: str | os.PathLike[str],
    state_file: str | os.PathLike[str],
    backend: FontBackend | None = None,
    *,
    strict: bool = False,
    tag: str | None = None,
) -> list[str]:
    """Install every font file in `fonts_dir` for this user; returns the labels installed.

    Safe to run twice with the same state file: fonts it already installed are kept,
    not copied again. Prints one line per font.
    """
    fonts_path, state_path = Path(fonts_dir), Path(state_file)
    backend = backend or default_backend()
    state = load_state(state_path)
    if state is None:
        state = _new_state(backend, tag or session_tag())
    files = attached_font_files(fonts_path)
    if not files:
        say(f"fonts: none attached ({shown(fonts_path)})")
        return []

    installed: list[str] = []
    failures: list[str] = []
    for path in files:
        if not path.name.lower().endswith(FONT_EXTENSIONS):
            say(f"WARNING: font skipped: {shown(path.name)} is not a .ttf/.otf/.ttc/.otc file")
            continue
        try:
            font = read_font_file(path)
        except (SfntError, OSError) as exc:
            failures.append(path.name)
            say(f"WARNING: font not installed: {shown(path.name)}: cannot read it: {shown(exc)}")
            continue
        if _installed_by_this_session(state, font):
            say(f"font already installed: {_named(font.label, path.name)} by this session")
            continue
        existing = backend.find_installed(font)
        if existing is not None:
            present = {"file": path.name, "label": font.label, "path": str(existing)}
            if present not in state["present"]:
                state["present"].append(present)
                _save_state(state_path, state)
            say(
                f"font already installed: {_named(font.label, path.name)} at {shown(existing)};"
                " left as is"
            )
            continue
        record = {"file": path.name, "label": font.label, "sha256": font.sha256}
        record.update(backend.plan(font, state["tag"]))
        state["installed"].append(record)
        _save_state(state_path, state)
        try:
            backend.install(font, record)
        except OSError as exc:
            failures.append(path.name)
            say(f"WARNING: font not installed: {_named(font.label, path.name)}: {shown(exc)}")
            try:
                backend.remove(record)
            except OSError as undo_exc:
                say(
                    f"WARNING: could not undo the partial install of {shown(path.name)}:"
                    f" {shown(undo_exc)}"
                )
            else:
                state["installed"].remove(record)
                _save_state(state_path, state)
            continue
        installed.append(font.label)
        say(f"font installed: {_named(font.label, path.name)}")

    if installed:
        _refresh(backend)
    if failures and strict:
        say("fonts: strict fonts requested; removing the fonts installed so far")
        remove_fonts(state_path, backend)
        raise FontInstallError(
            f"{len(failures)} attached font(s) could not be installed: {', '.join(failures)}"
        )
    return installed


def _named(label: str, file: str) -> str:
    """`Inter-Bold (Inter-Bold.ttf)`: a font's names as a log line quotes them."""
    return f"{shown(label)} ({shown(file)})"


def _refresh(backend: FontBackend) -> None:
    try:
        backend.refresh()
    except OSError as exc:
        say(f"WARNING: could not tell the system the fonts changed: {shown(exc)}")


def remove_fonts(
    state_file: str | os.PathLike[str], backend: FontBackend | None = None
) -> list[str]:
    """Remove what `install_fonts` recorded in `state_file`; returns the labels removed.

    No state file means nothing was installed: a no-op. Fonts that cannot be removed
    (a process still holds them) stay in the state file for a later attempt. A record
    whose path is not in this session's own place is skipped with a warning and
    dropped: no later attempt would make it safe.
    """
    state_path = Path(state_file)
    state = load_state(state_path)
    if state is None:
        return []
    backend = backend or default_backend()
    if state.get("backend") != backend.name:
        say(
            f"WARNING: {shown(state_path)} was written by the {shown(state.get('backend'))}"
            f" font backend, not {backend.name}; nothing removed"
        )
        return []
    owned = backend.owned(state["tag"])
    removed: list[str] = []
    kept: list[dict[str, str]] = []
    for record in reversed(state.get("installed", [])):
        named = _named(record["label"], record["file"])
        problem = ownership_problem(record["path"], owned)
        if problem is not None:
            say(f"WARNING: font not removed: {named}: {shown(record['path'])}: {problem}")
            continue
        try:
            backend.remove(record)
        except OSError as exc:
            kept.append(record)
            say(f"WARNING: font not removed: {named}: {shown(exc)}")
            continue
        removed.append(record["label"])
        say(f"font removed: {named}")
    remove_owned_folder(owned)
    if removed:
        _refresh(backend)
    if kept:
        state["installed"] = list(reversed(kept))
        _save_state(state_path, state)
    else:
        state_path.unlink(missing_ok=True)
    return removed
