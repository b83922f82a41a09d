"""OpenJD session path mapping (`pathmapping-1.0`) applied to output paths.

OpenJD maps PATH job parameters itself, but output paths travel inside base64 step
arguments, so the worker maps them with the session's rules file. The matching follows
openjd-sessions' `PathMappingRule.apply`: whole path components, ASCII case-insensitive
for WINDOWS rules, the most specific (longest) source first, the result in the host's
separators. `tests/test_worker_pathmap.py` checks it against openjd-sessions itself.

Junctions (`DEADLINE_JUNCTIONS`): Windows refuses paths over 260 characters unless
`LongPathsEnabled` is on, and job attachments put an asset root ~107 characters deep.
The workaround Deadline Cloud ships has a queue environment make a short junction per
asset root and point `DEADLINE_JUNCTIONS` at a `pathmapping-1.0` compatible file,
asset root -> junction; the official After Effects integration then renders the
project and output paths through those junctions (aws-deadline/
deadline-cloud-for-after-effects, `DEADLINE_JUNCTIONS` in its render script and
CHANGELOG, #324). These rules map worker paths to worker paths, so a rule without
`source_path_format` is read in the host's format, and `version` may be left out,
as that integration accepts. A rule whose junction does not exist is dropped with a
warning (a stale file must not send a render to a missing folder); a file that
cannot be read fails the command, never silently renders the long paths.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath, PureWindowsPath
from string import ascii_lowercase, ascii_uppercase

VERSION = "pathmapping-1.0"
JUNCTIONS_VAR = "DEADLINE_JUNCTIONS"
_ASCII_LOWER = str.maketrans(ascii_uppercase, ascii_lowercase)


class PathMappingError(ValueError):
    """The rules file is unreadable or not `pathmapping-1.0`."""


@dataclass(frozen=True)
class Rule:
    source_format: str  # "WINDOWS" or "POSIX"
    source: PurePath
    destination: str

    @property
    def specificity(self) -> int:
        return len(self.source.parts)


def parse_rules(text: str, default_format: str = "") -> list[Rule]:
    """Rules from the JSON OpenJD writes; `{}` (a session without rules) gives none.

    `default_format` ("POSIX" or "WINDOWS"), for files that hold worker paths only:
    `version` may then be absent, and a rule without `source_path_format` has it."""
    try:
        data = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as exc:
        raise PathMappingError(f"not JSON ({exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise PathMappingError("not JSON this worker can read (nested too deeply)") from None
    if not isinstance(data, dict):
        raise PathMappingError("must be a JSON object")
    if not data:
        return []
    if data.get("version") != VERSION and not (default_format and "version" not in data):
        raise PathMappingError(f"version must be {VERSION!r}, got {data.get('version')!r}")
    raw_rules = data.get("path_mapping_rules")
    if not isinstance(raw_rules, list):
        raise PathMappingError("path_mapping_rules must be a list")
    rules: list[Rule] = []
    for i, raw in enumerate(raw_rules):
        where = f"path_mapping_rules[{i}]"
        if not isinstance(raw, dict):
            raise PathMappingError(f"{where}: must be an object")
        fmt = str(raw.get("source_path_format", default_format)).upper()
        source, dest = raw.get("source_path"), raw.get("destination_path")
        if not isinstance(source, str) or not isinstance(dest, str) or not source or not dest:
            raise PathMappingError(f"{where}: needs source_path and destination_path strings")
        if fmt == "POSIX":
            rules.append(Rule(fmt, PurePosixPath(source), dest))
        elif fmt == "WINDOWS":
            rules.append(Rule(fmt, PureWindowsPath(source), dest))
        elif fmt == "URI":
            continue  # object-store sources never name a local output path
        else:
            raise PathMappingError(
                f"{where}: source_path_format must be WINDOWS or POSIX, got {fmt!r}"
            )
    # Stable sort: equally specific rules keep file order, like openjd-sessions.
    return sorted(rules, key=lambda r: -r.specificity)


def load_rules(path: str, default_format: str = "") -> list[Rule]:
    if not path:
        return []
    try:
        with open(path, encoding="utf-8") as fh:
            return parse_rules(fh.read(), default_format)
    except OSError as exc:
        raise PathMappingError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise PathMappingError(f"{path} is not UTF-8 text ({exc.reason})") from None


def _apply_one(rule: Rule, path: str, host_posix: bool) -> str | None:
    if rule.source_format == "POSIX":
        pure: PurePath = PurePosixPath(path)
        if not pure.is_relative_to(rule.source):
            return None
    else:
        pure = PureWindowsPath(path)
        src_parts, parts = rule.source.parts, pure.parts
        if len(parts) < len(src_parts) or any(
            a.translate(_ASCII_LOWER) != b.translate(_ASCII_LOWER)
            for a, b in zip(src_parts, parts)  # no strict= on Python 3.9
        ):
            return None
    dest = PurePosixPath(rule.destination) if host_posix else PureWindowsPath(rule.destination)
    parts = dest.parts + pure.parts[len(rule.source.parts) :]
    result = str(PurePosixPath(*parts)) if host_posix else str(PureWindowsPath(*parts))
    trailing = path.endswith("/") or (rule.source_format == "WINDOWS" and path.endswith("\\"))
    if trailing:
        result += "/" if host_posix else "\\"
    return result


def map_path(rules: list[Rule], path: str, host_posix: bool | None = None) -> str:
    """`path` through the first matching rule (most specific first); unchanged if none."""
    posix = (os.name == "posix") if host_posix is None else host_posix
    for rule in rules:
        mapped = _apply_one(rule, path, posix)
        if mapped is not None:
            return mapped
    return path


def host_format() -> str:
    return "POSIX" if os.name == "posix" else "WINDOWS"


def junction_rules(
    env: Mapping[str, str],
    warn: Callable[[str], None],
    is_dir: Callable[[str], bool] = os.path.isdir,
) -> list[Rule]:
    """The asset root -> junction rules `DEADLINE_JUNCTIONS` names (none when unset).

    Raises PathMappingError naming the variable when its file cannot be read."""
    path = env.get(JUNCTIONS_VAR, "")
    if not path:
        return []
    try:
        rules = load_rules(path, host_format())
    except PathMappingError as exc:
        raise PathMappingError(f"{JUNCTIONS_VAR}: {exc}") from None
    usable: list[Rule] = []
    for rule in rules:
        if is_dir(rule.destination):
            usable.append(rule)
        else:
            warn(
                f"{JUNCTIONS_VAR}: ignoring the rule for {rule.source}: its junction "
                f"{rule.destination} is not a folder on this worker"
            )
    return usable
