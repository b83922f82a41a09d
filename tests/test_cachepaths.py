"""Cache root matching (worker_scripts/stmpo_worker/cachepaths.py), the one definition the
submitter and the worker's cache steps share (issue 12): right on every platform, where
the reference post's `os.path.commonpath` raises for other drives and compares
case-sensitively."""

from __future__ import annotations

import pytest
from stmpo._worker_scripts.stmpo_worker.cachepaths import (
    CacheRootProblem,
    is_inside,
    parse_roots,
    root_of,
    same_path,
    split_by_roots,
)


@pytest.mark.parametrize(
    ("path", "root", "inside"),
    [
        ("/mnt/cache/show/sh010/a.png", "/mnt/cache/show", True),
        ("/mnt/cache/show", "/mnt/cache/show/", True),
        ("/mnt/cache/show/a.png", "/mnt/cache/sh", False),  # a sibling sharing a prefix
        ("/mnt/cache/showreel/a.png", "/mnt/cache/show", False),
        ("/mnt/cache//show/./sh010/a.png", "/mnt/cache/show", True),
        ("/mnt/cache/show/../other/a.png", "/mnt/cache/show", False),
        ("/Mnt/Cache/show/a.png", "/mnt/cache/show", False),  # POSIX is case-sensitive
        ("Z:\\Digital-Assets\\sh010\\x.aep", "z:/digital-assets", True),
        ("z:/digital-assets/sh010/x.aep", "Z:\\Digital-Assets\\", True),
        ("Y:\\digital-assets\\x.aep", "Z:\\digital-assets", False),  # another drive
        ("\\\\nas\\Share\\proj\\x.aep", "//NAS/share/proj", True),
        ("\\\\nas\\Share2\\proj\\x.aep", "//NAS/share/proj", False),
        ("/z/digital-assets/x.aep", "Z:/digital-assets", False),  # POSIX path, Windows root
        ("Z:/digital-assets/x.aep", "/digital-assets", False),
        ("relative/a.png", "/mnt/cache", False),
    ],
)
def test_is_inside(path: str, root: str, inside: bool) -> None:
    assert is_inside(path, root) is inside


def test_the_deepest_root_wins_and_paths_split_in_order() -> None:
    roots = ["/mnt/cache", "/mnt/cache/show", "Z:/assets"]
    assert root_of("/mnt/cache/show/a.png", roots) == "/mnt/cache/show"
    assert root_of("/mnt/cache/other/a.png", roots) == "/mnt/cache"
    assert root_of("z:\\ASSETS\\a.png", roots) == "Z:/assets"
    assert root_of("/elsewhere/a.png", roots) is None
    paths = ["/elsewhere/a", "/mnt/cache/b", "Z:\\assets\\c", "Y:\\assets\\d"]
    assert split_by_roots(paths, roots) == (
        ["/mnt/cache/b", "Z:\\assets\\c"],
        ["/elsewhere/a", "Y:\\assets\\d"],
    )


def test_roots_parse_from_the_job_parameter() -> None:
    assert parse_roots("") == []
    assert parse_roots(" /mnt/cache/show ; ;Z:\\assets ") == ["/mnt/cache/show", "Z:\\assets"]
    with pytest.raises(CacheRootProblem, match="not an absolute path"):
        parse_roots("/mnt/cache;show/relative")


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("C:\\Shows\\spot.aep", "c:/shows/SPOT.aep", True),  # one Windows path, two spellings
        ("\\\\srv\\share\\spot.aep", "//SRV/share/spot.aep", True),
        ("C:/shows/spot.aep", "D:/shows/spot.aep", False),
        ("/shows/Spot.aep", "/shows/spot.aep", False),  # POSIX is case-sensitive
        ("/shows/./a/../spot.aep", "/shows//spot.aep", True),
        ("C:/shows/spot.aep", "/shows/spot.aep", False),
        ("spot.aep", "spot.aep", True),  # not absolute: as written
        ("spot.aep", "SPOT.aep", False),
    ],
)
def test_same_path_follows_each_paths_own_rules(a: str, b: str, same: bool) -> None:
    assert same_path(a, b) is same
    assert same_path(b, a) is same
