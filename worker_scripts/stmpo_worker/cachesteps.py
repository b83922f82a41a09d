"""The worker's file cache steps: `cache-refresh`, `cache-writeback`, `cache-check`.

What they act on comes from `scripts/cache.json` (written by the bundle: the roots as
submitted, the project and footage under a root, each item's output patterns and
frames) and the job's Cache* settings (`STMPO_CACHE_*`, `STMPO_LFS_COMMAND`). Every path,
roots included, goes through the session's path mapping rules first, then
`cachepaths.root_of` decides which root a file belongs to: a file outside every root is
never released, restored or archived. docs/file-cache.md, "What the cache steps do".

Exit status: 0 done; 1 `lfs` failed or a file did not reach its state in time (named);
2 bad input (a setting, cache.json, --item) or no `lfs` at all.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from . import filecache as fc
from .cachepaths import CacheRootProblem, parse_roots, root_of
from .contract import MAX_FRAME_NUMBER, SETTINGS, in_scripts, read_json_file, variable_for
from .logtext import directive, shown, text_line
from .outputs import ArgumentProblem, frame_path
from .pathmap import PathMappingError, Rule, load_rules, map_path

CACHE_FILE = "cache.json"
MAX_ROOTS = 8  # a cache links at most 8 data repositories
#: Files one step may act on: far above a job's frames, and a bound on its memory.
MAX_FILES = 1_000_000
NAMED_IN_FAILURE = 10
NAMED_IN_CHECK = 20
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

#: The job parameters the steps read, with the variable their contract.SETTINGS row
#: gives them (section B's rows), the kind, the default and the bounds.
_PARAMETERS: dict[str, tuple[str, str, object, float, float]] = {
    "CacheRootPaths": ("STMPO_CACHE_ROOT_PATHS", "text", "", 0, 0),
    "CacheEviction": ("STMPO_CACHE_EVICTION", "bool", True, 0, 0),
    "CacheHydration": ("STMPO_CACHE_HYDRATION", "bool", True, 0, 0),
    "CacheWriteBack": ("STMPO_CACHE_WRITE_BACK", "bool", True, 0, 0),
    "LfsCommand": ("STMPO_LFS_COMMAND", "text", "sudo lfs", 0, 0),
    "CachePollTimeoutSec": ("STMPO_CACHE_POLL_TIMEOUT_SEC", "float", 3600.0, 1.0, 604800.0),
}


@dataclass(frozen=True)
class CacheSettings:
    roots: list[str]
    eviction: bool
    hydration: bool
    write_back: bool
    lfs_command: str
    timeout: float


def _variable(parameter: str) -> str:
    for row in SETTINGS:
        if row.parameter == parameter:
            return variable_for(row.flag)
    return _PARAMETERS[parameter][0]


def _value(parameter: str, environ: Mapping[str, str]) -> Any:
    _, kind, default, low, high = _PARAMETERS[parameter]
    variable = _variable(parameter)
    text = environ.get(variable, "").strip()
    if not text:
        return default
    if kind == "bool":
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ArgumentProblem(variable, f"expected true or false, got {shown(text, 40)}")
    if kind == "float":
        try:
            number = float(text)
        except ValueError:
            raise ArgumentProblem(variable, f"expected a number, got {shown(text, 40)}") from None
        if not low <= number <= high:  # NaN fails this too
            raise ArgumentProblem(variable, f"must be {low:g} to {high:g}, got {shown(text, 40)}")
        return number
    return text


def read_settings(environ: Mapping[str, str], listed_roots: Sequence[str]) -> CacheSettings:
    """The Cache* settings; ArgumentProblem naming the variable at fault. The roots
    are the job parameter's, else those cache.json lists."""
    roots_variable = _variable("CacheRootPaths")
    text = _value("CacheRootPaths", environ)
    try:
        roots = parse_roots(text) if text else parse_roots(";".join(listed_roots))
    except CacheRootProblem as exc:
        where = roots_variable if text else f"{CACHE_FILE}: roots"
        raise ArgumentProblem(where, str(exc)) from None
    if len(roots) > MAX_ROOTS:
        raise ArgumentProblem(
            roots_variable, f"{len(roots)} roots; a cache links at most {MAX_ROOTS}"
        )
    return CacheSettings(
        roots=roots,
        eviction=_value("CacheEviction", environ),
        hydration=_value("CacheHydration", environ),
        write_back=_value("CacheWriteBack", environ),
        lfs_command=_value("LfsCommand", environ),
        timeout=_value("CachePollTimeoutSec", environ),
    )


# --- cache.json ---------------------------------------------------------------------


def _frames_of(value: Any, where: str) -> range:
    """[start, end] or [start, end, step], inclusive."""
    if (
        not isinstance(value, list)
        or len(value) not in (2, 3)
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        raise ArgumentProblem(where, "expected [start, end] or [start, end, step] integers")
    start, end = value[0], value[1]
    step = value[2] if len(value) == 3 else 1
    if abs(start) > MAX_FRAME_NUMBER or abs(end) > MAX_FRAME_NUMBER or end < start:
        raise ArgumentProblem(where, f"frames {start}-{end} out of order or beyond the bound")
    if not 1 <= step <= MAX_FRAME_NUMBER:
        raise ArgumentProblem(where, f"step must be 1 to {MAX_FRAME_NUMBER}")
    return range(start, end + 1, step)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ArgumentProblem(where, "expected a non-empty path string")
    return value


def _expand(pattern: str, frames: Sequence[int], where: str) -> list[str]:
    """A sequence pattern's files; a path without `[#]` (a movie, a still) is itself."""
    if "[#" not in pattern:
        return [pattern]
    if len(frames) > MAX_FILES:
        raise ArgumentProblem(where, f"more than {MAX_FILES} files")
    return [frame_path(pattern, f) for f in frames]


def input_files(data: dict[str, Any]) -> list[str]:
    """`inputs`: a path, or {"path": pattern, "frames": [f, ...]} or {"path": pattern,
    "range": [start, end(, step)]} for an image sequence."""
    inputs = data.get("inputs", [])
    if not isinstance(inputs, list):
        raise ArgumentProblem(f"{CACHE_FILE}: inputs", "expected a list")
    files: list[str] = []
    for n, entry in enumerate(inputs):
        where = f"{CACHE_FILE}: inputs[{n}]"
        if isinstance(entry, str):
            files.append(_text(entry, where))
            continue
        if not isinstance(entry, dict):
            raise ArgumentProblem(where, "expected a path or an object with a path")
        pattern = _text(entry.get("path"), where + ".path")
        if "range" in entry:
            frames: Sequence[int] = _frames_of(entry["range"], where + ".range")
        else:
            listed = entry.get("frames", [])
            if not isinstance(listed, list) or not all(
                isinstance(f, int) and not isinstance(f, bool) for f in listed
            ):
                raise ArgumentProblem(where + ".frames", "expected a list of frame numbers")
            frames = listed
        files.extend(_expand(pattern, frames, where))
        if len(files) > MAX_FILES:
            raise ArgumentProblem(f"{CACHE_FILE}: inputs", f"more than {MAX_FILES} files")
    return files


def item_outputs(data: dict[str, Any], name: str) -> tuple[list[str], range]:
    items = data.get("items", {})
    if not isinstance(items, dict):
        raise ArgumentProblem(f"{CACHE_FILE}: items", "expected an object")
    entry = items.get(name)
    if not isinstance(entry, dict):
        raise ArgumentProblem(f"{CACHE_FILE}: items.{name}", "missing or not an object")
    outputs = entry.get("outputs", [])
    if not isinstance(outputs, list):
        raise ArgumentProblem(f"{CACHE_FILE}: items.{name}.outputs", "expected a list")
    patterns = [_text(o, f"{CACHE_FILE}: items.{name}.outputs[{n}]") for n, o in enumerate(outputs)]
    return patterns, _frames_of(entry.get("frames"), f"{CACHE_FILE}: items.{name}.frames")


def read_cache_file() -> dict[str, Any]:
    data = read_json_file(in_scripts(CACHE_FILE), f"scripts/{CACHE_FILE}")
    if not isinstance(data, dict):
        raise ArgumentProblem(CACHE_FILE, "expected a JSON object")
    roots = data.get("roots", [])
    if not isinstance(roots, list) or not all(isinstance(r, str) for r in roots):
        raise ArgumentProblem(f"{CACHE_FILE}: roots", "expected a list of paths")
    return data


# --- the steps ------------------------------------------------------------------------


class _Log:
    """The step's lines: every one through logtext (paths are outside text)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def say(self, text: str) -> None:
        self.stream.write(text_line(text) + "\n")
        self.stream.flush()

    def progress(self, fraction: float) -> None:
        self.stream.write(directive("progress", f"{100.0 * fraction:.1f}") + "\n")
        self.stream.flush()

    def fail(self, text: str, code: int) -> int:
        self.stream.write(directive("fail", text) + "\n")
        self.stream.flush()
        sys.stderr.write(text_line(f"stmpo_render.py: error: {text}") + "\n")
        return code


@dataclass(frozen=True)
class _Setup:
    settings: CacheSettings
    data: dict[str, Any]
    rules: list[Rule]
    roots: list[str]  # mapped
    lfs: fc.Lfs


def _setup(path_mapping_rules: str, environ: Mapping[str, str]) -> _Setup:
    """Everything a step needs, or ArgumentProblem / LfsMissing."""
    data = read_cache_file()
    settings = read_settings(environ, data.get("roots", []))
    try:
        rules = load_rules(path_mapping_rules)
    except PathMappingError as exc:
        raise ArgumentProblem("--path-mapping-rules", str(exc)) from None
    roots = [map_path(rules, r) for r in settings.roots]
    lfs = fc.Lfs(settings.lfs_command)
    return _Setup(settings, data, rules, roots, lfs)


def _by_root(files: Sequence[str], setup: _Setup) -> dict[str, list[str]]:
    """Mapped files under a mapped root, per root, each once, in order."""
    grouped: dict[str, list[str]] = {}
    seen: set[str] = set()
    for path in files:
        mapped = map_path(setup.rules, path)
        root = root_of(mapped, setup.roots)
        if root is not None and mapped not in seen:
            seen.add(mapped)
            grouped.setdefault(root, []).append(mapped)
    return grouped


def _run_step(step: str, args: Any, body: Any) -> int:
    log = _Log(sys.stdout)
    try:
        setup = _setup(args.path_mapping_rules, os.environ)
        if not setup.roots:
            log.say(f"STMPO cache: no cache roots ({_variable('CacheRootPaths')}): nothing to do")
            return EXIT_OK
        setup.lfs.check()
        return int(body(setup, log))
    except ArgumentProblem as exc:
        return log.fail(f"{step}: {exc}", EXIT_USAGE)
    except fc.LfsMissing as exc:
        return log.fail(f"{step}: lfs is missing: {exc}", EXIT_USAGE)
    except fc.LfsFailed as exc:
        return log.fail(f"{step}: lfs failed: {exc}", EXIT_FAILED)


def run_cache_refresh(args: Any) -> int:
    return _run_step("cache-refresh", args, _refresh)


def _refresh(setup: _Setup, log: _Log) -> int:
    settings = setup.settings
    groups = _by_root(input_files(setup.data), setup)
    if not groups:
        log.say("STMPO cache: no input lies under a cache root: nothing to refresh")
        return EXIT_OK
    problems: list[str] = []
    for root, files in groups.items():
        states = setup.lfs.states(files)
        missing = [p for p in files if states[p] is None]
        if missing:
            log.say(f"STMPO cache: warning: {len(missing)} input(s) missing: {named(missing)}")
        present = {p: s for p, s in states.items() if s is not None}
        released = [p for p, s in present.items() if s.released]
        if settings.eviction:
            unsafe = [p for p, s in present.items() if not s.safe and not s.released]
            if unsafe:
                log.say(
                    f"STMPO cache: warning: not releasing {len(unsafe)} dirty or unarchived "
                    f"file(s) (releasing would lose their data): {named(unsafe)}"
                )
            stale = [p for p, s in present.items() if s.releasable]
            if stale:
                log.say(f"STMPO cache: releasing {len(stale)} files under {root}")
                setup.lfs.request("hsm_release", stale)
                released += stale
        if settings.hydration and released:
            log.say(f"STMPO cache: restoring {len(released)} files under {root} ...")
            setup.lfs.request("hsm_restore", released)
            waited = fc.wait_for(setup.lfs, released, fc.is_restored, settings.timeout)
            log.say(
                f"STMPO cache: {len(waited.done)}/{len(released)} restored in "
                f"{waited.seconds:.1f} s"
            )
            problems += waited.pending + sorted(waited.failed)
    if problems:
        return log.fail(
            f"cache-refresh: {len(problems)} file(s) not restored within "
            f"{settings.timeout:g} s: {named(problems)}",
            EXIT_FAILED,
        )
    return EXIT_OK


def named(paths: Sequence[str], most: int = NAMED_IN_FAILURE) -> str:
    return shown(fc.named(list(paths), most), 2000)


def run_cache_writeback(args: Any) -> int:
    def body(setup: _Setup, log: _Log) -> int:
        start, end = args.frames
        return _writeback(setup, log, args.item, range(start, end + 1, args.step or 1))

    return _run_step("cache-writeback", args, body)


def _writeback(setup: _Setup, log: _Log, item: str, frames: range) -> int:
    patterns, _ = item_outputs(setup.data, item)
    if not setup.settings.write_back:
        log.say(f"STMPO cache: write-back is off ({_variable('CacheWriteBack')})")
        return EXIT_OK
    files = [f for p in patterns for f in _expand(p, frames, f"{CACHE_FILE}: items.{item}")]
    groups = _by_root(files, setup)
    total = sum(len(g) for g in groups.values())
    if not total:
        log.say("STMPO cache: no output of this task lies under a cache root")
        return EXIT_OK
    wanted: list[str] = []
    missing: list[str] = []
    for root, group in groups.items():
        states = setup.lfs.states(group)
        missing += [p for p in group if states[p] is None]
        todo = [p for p in group if (s := states[p]) is not None and not s.safe]
        prefix = [*setup.lfs.argv, "hsm_archive"]
        for batch in fc.batches(prefix, todo):
            log.say(f"STMPO cache: archiving {len(batch)} files under {root} ...")
            setup.lfs.request("hsm_archive", batch)
        wanted += todo
    timeout = setup.settings.timeout
    if wanted:
        log.say(
            f"STMPO cache: waiting for {len(wanted)} files to be archived (up to {timeout:g} s)"
        )
    shown_done: list[int] = []

    def progress(done: int, all_: int) -> None:
        if shown_done[-1:] != [done]:  # one line per change, not per poll
            shown_done.append(done)
            log.progress(done / all_ if all_ else 1.0)

    waited = fc.wait_for(setup.lfs, wanted, fc.is_archived, timeout, progress)
    log.say(
        f"STMPO cache: {len(waited.done)}/{len(wanted)} archived in {waited.seconds:.1f} s "
        f"({total - len(wanted) - len(missing)} already archived)"
    )
    bad = missing + waited.pending + sorted(waited.failed)
    if bad:
        why = f"not archived within {timeout:g} s" if waited.pending else "not archived"
        return log.fail(f"cache-writeback: {len(bad)} file(s) {why}: {named(bad)}", EXIT_FAILED)
    return EXIT_OK


def run_cache_check(args: Any) -> int:
    return _run_step("cache-check", args, _check)


def _check(setup: _Setup, log: _Log) -> int:
    items = setup.data.get("items", {})
    if not isinstance(items, dict):
        raise ArgumentProblem(f"{CACHE_FILE}: items", "expected an object")
    files: list[str] = []
    for name in items:
        patterns, frames = item_outputs(setup.data, name)
        files += [f for p in patterns for f in _expand(p, frames, f"{CACHE_FILE}: items.{name}")]
        if len(files) > MAX_FILES:
            raise ArgumentProblem(f"{CACHE_FILE}: items", f"more than {MAX_FILES} output files")
    archived: list[str] = []
    unarchived: list[str] = []
    missing: list[str] = []
    for root, group in _by_root(files, setup).items():
        states = setup.lfs.states(group)
        for path in group:
            state = states[path]
            if state is None:
                missing.append(path)
            else:
                (archived if state.safe else unarchived).append(path)
        log.say(f"STMPO cache: checked {len(group)} files under {root}")
    log.say(
        f"STMPO cache check: {len(archived)} archived, {len(unarchived)} not archived, "
        f"{len(missing)} missing"
    )
    for path in (unarchived + missing)[:NAMED_IN_CHECK]:
        why = "missing" if path in missing else "not archived"
        log.say(f"STMPO cache check: {why}: {path}")
    if unarchived or missing:
        return log.fail(
            f"cache-check: {len(unarchived) + len(missing)} output file(s) not archived: "
            f"{named(unarchived + missing)}",
            EXIT_FAILED,
        )
    return EXIT_OK
