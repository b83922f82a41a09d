"""Host facts: CPU lists, NUMA maps, the real host, and the affinity backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from stmpo._worker_scripts.stmpo_worker.affinity import (
    AffinityError,
    LinuxAffinity,
    WindowsAffinity,
    group_masks,
)
from stmpo._worker_scripts.stmpo_worker.jobobject import KillOnCloseJob, for_this_host
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


# -- affinity backends ------------------------------------------------------------------


def test_group_masks() -> None:
    assert group_masks([0, 1, 63, 64, 130]) == {0: 1 | 2 | (1 << 63), 1: 1, 2: 1 << 2}


class FakeWindowsApi:
    def __init__(self, cpus: int, threads: list[int], fail: bool = False) -> None:
        self.cpus = cpus
        self.threads = threads
        self.fail = fail
        self.calls: list[tuple[object, ...]] = []

    def logical_cpu_count(self) -> int:
        return self.cpus

    def set_process_affinity_mask(self, pid: int, mask: int) -> None:
        if self.fail:
            raise OSError(5, "Access is denied")
        self.calls.append(("process", pid, mask))

    def thread_ids(self, pid: int) -> list[int]:
        return self.threads

    def set_thread_group_affinity(self, tid: int, group: int, mask: int) -> None:
        self.calls.append(("thread", tid, group, mask))


def test_windows_up_to_64_cpus_uses_a_process_mask() -> None:
    api = FakeWindowsApi(cpus=32, threads=[7])
    WindowsAffinity(api).pin(100, [4, 5, 6, 7])
    assert api.calls == [("process", 100, 0xF0)]


def test_windows_over_64_cpus_pins_every_thread_in_its_group() -> None:
    api = FakeWindowsApi(cpus=256, threads=[11, 12])
    WindowsAffinity(api).pin(100, list(range(64, 80)))
    assert api.calls == [("thread", 11, 1, 0xFFFF), ("thread", 12, 1, 0xFFFF)]


def test_windows_block_across_groups_goes_to_the_larger_part() -> None:
    api = FakeWindowsApi(cpus=256, threads=[11])
    WindowsAffinity(api).pin(100, [62, 63, 64, 65, 66])
    assert api.calls == [("thread", 11, 1, 0b111)]


def test_windows_api_failure_is_an_affinity_error() -> None:
    with pytest.raises(AffinityError, match="Access is denied"):
        WindowsAffinity(FakeWindowsApi(cpus=8, threads=[1], fail=True)).pin(100, [0])


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux affinity API")
def test_linux_backend_pins_a_real_process() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        cpu = min(os.sched_getaffinity(0))
        LinuxAffinity().pin(proc.pid, [cpu])
        assert os.sched_getaffinity(proc.pid) == {cpu}
    finally:
        proc.kill()
        proc.wait()


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="Linux affinity API")
def test_linux_backend_failure_is_an_affinity_error() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with pytest.raises(AffinityError, match="sched_setaffinity"):
            LinuxAffinity().pin(proc.pid, [10**6])  # no such CPU
    finally:
        proc.kill()
        proc.wait()


# -- Windows job object (logic; the ctypes side runs on Windows only) ----------------------


class FakeJobApi:
    def __init__(self, fail_create: bool = False, fail_assign: bool = False) -> None:
        self.fail_create = fail_create
        self.fail_assign = fail_assign
        self.assigned: list[tuple[int, int]] = []

    def create_kill_on_close_job(self) -> int:
        if self.fail_create:
            raise OSError(5, "Access is denied")
        return 77

    def assign(self, job: int, pid: int) -> None:
        if self.fail_assign:
            raise OSError(5, "Access is denied")
        self.assigned.append((job, pid))


def test_job_object_takes_every_child() -> None:
    warnings: list[str] = []
    api = FakeJobApi()
    job = KillOnCloseJob(api, warnings.append)
    job.add(10)
    job.add(11)
    assert api.assigned == [(77, 10), (77, 11)] and warnings == []


@pytest.mark.parametrize("where", ["create", "assign"])
def test_job_object_failure_is_one_warning(where: str) -> None:
    warnings: list[str] = []
    api = FakeJobApi(fail_create=where == "create", fail_assign=where == "assign")
    job = KillOnCloseJob(api, warnings.append)
    for pid in (10, 11, 12):
        job.add(pid)
    assert len(warnings) == 1 and "Access is denied" in warnings[0]
    assert api.assigned == []


def test_no_job_object_off_windows() -> None:
    assert for_this_host(lambda _m: None) is None
