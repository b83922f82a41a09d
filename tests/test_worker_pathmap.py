"""Path mapping on the worker agrees with openjd-sessions' own rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openjd.sessions import PathMappingRule
from stmpo._worker_scripts.stmpo_worker.pathmap import (
    PathMappingError,
    load_rules,
    map_path,
    parse_rules,
)

RULES = {
    "version": "pathmapping-1.0",
    "path_mapping_rules": [
        {
            "source_path_format": "WINDOWS",
            "source_path": "C:\\renders",
            "destination_path": "/mnt/r",
        },
        {
            "source_path_format": "WINDOWS",
            "source_path": "C:\\renders\\spot",
            "destination_path": "/mnt/spot",
        },
        {
            "source_path_format": "POSIX",
            "source_path": "/Volumes/proj",
            "destination_path": "/mnt/p",
        },
    ],
}


def _theirs(rules: dict[str, object], path: str) -> str:
    """What openjd-sessions does: rules sorted most specific first, first match wins."""
    parsed = [PathMappingRule.from_dict(r) for r in rules["path_mapping_rules"]]  # type: ignore[attr-defined]
    parsed.sort(key=lambda r: -r._source_path_component_count())
    for rule in parsed:
        matched, result = rule.apply(path=path)
        if matched:
            return str(result)
    return path


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("C:\\renders\\a\\MAIN_[#####].png", "/mnt/r/a/MAIN_[#####].png"),
        ("c:/RENDERS/a/b.png", "/mnt/r/a/b.png"),  # case-insensitive, either separator
        ("C:\\renders\\spot\\x.png", "/mnt/spot/x.png"),  # the more specific rule wins
        ("C:\\renderstuff\\x.png", "C:\\renderstuff\\x.png"),  # whole components only
        ("/Volumes/proj/sh010/", "/mnt/p/sh010/"),  # trailing separator kept
        ("/volumes/proj/x", "/volumes/proj/x"),  # POSIX is case-sensitive
        ("/elsewhere/x", "/elsewhere/x"),
    ],
)
def test_examples_match_openjd_sessions(path: str, expected: str) -> None:
    rules = parse_rules(json.dumps(RULES))
    assert map_path(rules, path, host_posix=True) == expected
    assert _theirs(RULES, path) == expected


segments = st.lists(
    st.text(alphabet="abcXYZ_ é{}$;'\"", min_size=1, max_size=6).filter(
        lambda s: s.strip() and s not in (".", "..")
    ),
    min_size=0,
    max_size=4,
)


@given(
    win_source=segments,
    posix_source=segments,
    rest=segments,
    drive=st.sampled_from(["C:", "c:", "D:"]),
    sep=st.sampled_from(["\\", "/"]),
    use_windows=st.booleans(),
    trailing=st.booleans(),
)
def test_agrees_with_openjd_sessions_on_generated_paths(
    win_source: list[str],
    posix_source: list[str],
    rest: list[str],
    drive: str,
    sep: str,
    use_windows: bool,
    trailing: bool,
) -> None:
    rules = {
        "version": "pathmapping-1.0",
        "path_mapping_rules": [
            {
                "source_path_format": "WINDOWS",
                "source_path": "C:\\" + "\\".join(win_source),
                "destination_path": "/dest/win",
            },
            {
                "source_path_format": "POSIX",
                "source_path": "/" + "/".join(posix_source),
                "destination_path": "/dest/posix",
            },
        ],
    }
    if use_windows:
        path = drive + sep + sep.join(win_source + rest)
    else:
        path = "/" + "/".join(posix_source + rest)
    if trailing and (win_source + rest if use_windows else posix_source + rest):
        path += sep if use_windows else "/"
    ours = map_path(parse_rules(json.dumps(rules)), path, host_posix=True)
    assert ours == _theirs(rules, path)


def test_empty_rules_file_from_a_session_without_rules(tmp_path: Path) -> None:
    empty = tmp_path / "rules.json"
    empty.write_text("{}")
    assert load_rules(str(empty)) == []
    assert load_rules("") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("nope", "not JSON"),
        ('{"version": "pathmapping-2.0", "path_mapping_rules": []}', "version"),
        ('{"version": "pathmapping-1.0", "path_mapping_rules": {}}', "must be a list"),
        (
            '{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path_format": "X",'
            ' "source_path": "/a", "destination_path": "/b"}]}',
            "WINDOWS or POSIX",
        ),
        (
            '{"version": "pathmapping-1.0", "path_mapping_rules": [{"source_path": "/a"}]}',
            r"path_mapping_rules\[0\]",
        ),
    ],
)
def test_bad_rules_say_why(text: str, message: str) -> None:
    with pytest.raises(PathMappingError, match=message):
        parse_rules(text)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(PathMappingError, match="cannot read"):
        load_rules(str(tmp_path / "nope.json"))


def test_rules_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    """A binary or Latin-1 file is a PathMappingError (exit 2), not a traceback."""
    latin = tmp_path / "rules.json"
    latin.write_bytes(b'{"version": "pathmapping-1.0", "path_mapping_rules": ["\xe9"]}')
    with pytest.raises(PathMappingError, match="not UTF-8"):
        load_rules(str(latin))
