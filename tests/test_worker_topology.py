"""Host facts: CPU lists, NUMA maps and the real host."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.planning import StmpoSettings, plan_render
from stmpo._worker_scripts.stmpo_worker.topology import (
    linux_numa_pools,
    load_numa_map,
    parse_cpulist,
    parse_numa_map,
    read_host_facts,
    restrict_pools,
)
from stmpo.locations import resources_dir


@pytest.mark.parametrize(
    ("text", "cpus"),
    [
        ("0-3,8-11", [0, 1, 2, 3, 8, 9, 10, 11]),
        ("5", [5]),
        ("0-7:2", [0, 2, 4, 6]),
        (" 0-1 ,\n", [0, 1]),
        ("", []),
    ],
)
def test_parse_cpulist(text: str, cpus: list[int]) -> None:
    assert parse_cpulist(text) == cpus


@pytest.mark.parametrize("text", ["a-b", "3-1", "1,,x", "-1"])
def test_parse_cpulist_rejects_junk(text: str) -> None:
    with pytest.raises(ValueError):
        parse_cpulist(text)


def test_shipped_numa_map_is_the_two_socket_default() -> None:
    pools = load_numa_map(str(resources_dir() / "numa_map.json"))
    assert pools == (tuple(range(128)), tuple(range(128, 256)))


def test_numa_map_accepts_lists_and_cpulist_strings_inline() -> None:
    assert parse_numa_map('{"a": [3, 1, 2], "b": "4-5"}') == ((1, 2, 3), (4, 5))
    assert load_numa_map(' {"n0": "0-1"}') == ((0, 1),)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "non-empty JSON object"),
        ('{"a": [1, "x"]}', "a: must be a list"),
        ('{"a": [true]}', "a: must be a list"),
        ('{"a": []}', "a: has no CPUs"),
        ('{"a": [0, 1], "b": [1]}', "CPU 1 is in two pools"),
        ('{"a": "zz"}', "a: not a CPU list item"),
    ],
)
def test_malformed_numa_maps_say_why(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_numa_map(text)


def test_restrict_pools_drops_cpus_the_host_lacks() -> None:
    assert restrict_pools(((0, 1, 2), (3, 4)), {0, 2}) == ((0, 2),)


def test_linux_numa_pools_from_a_sysfs_tree(tmp_path: Path) -> None:
    for node, cpus in (("node0", "0-3,8-11\n"), ("node1", "4-7,12-15\n"), ("node10", "")):
        (tmp_path / node).mkdir()
        (tmp_path / node / "cpulist").write_text(cpus)
    (tmp_path / "possible").write_text("0-1\n")  # not a node folder
    assert linux_numa_pools(tmp_path) == ((0, 1, 2, 3, 8, 9, 10, 11), (4, 5, 6, 7, 12, 13, 14, 15))
    assert linux_numa_pools(tmp_path / "missing") is None


def test_real_host_facts() -> None:
    host = read_host_facts()
    assert host.logical_cpus == len(os.sched_getaffinity(0))
    assert host.total_ram_gb > 0.1
    assert host.numa_pools is not None
    assert set().union(*host.numa_pools) <= os.sched_getaffinity(0)


def test_a_bad_numa_map_warns_once_and_leaves_children_unpinned(tmp_path: Path) -> None:
    warnings: list[str] = []
    bad = tmp_path / "map.json"
    bad.write_text('{"group_0": "zz"}')
    host = read_host_facts(str(bad), warnings.append)
    assert len(warnings) == 1 and "map.json" in warnings[0]
    assert host.numa_pools is None
    plan = plan_render(host, StmpoSettings(concurrency=2), 0, 9, 1, movie=False)
    assert plan.cpu_blocks is None


def test_a_numa_map_naming_other_cpus_only_warns(tmp_path: Path) -> None:
    warnings: list[str] = []
    host = read_host_facts(json.dumps({"g": [4096]}), warnings.append)
    assert host.numa_pools is None and len(warnings) == 1
