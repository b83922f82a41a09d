"""The pure STMPO plan: concurrency model, frame splitting, CPU blocks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stmpo._worker_scripts.stmpo_worker.planning import (
    HostFacts,
    StmpoSettings,
    affinity_blocks,
    auto_concurrency,
    child_summaries,
    cpu_limit,
    cpu_list_text,
    even_pools,
    frames_in_range,
    host_pools,
    plan_render,
    split_frames,
)

EPYC_POOLS = (tuple(range(128)), tuple(range(128, 256)))
EPYC = HostFacts(logical_cpus=256, total_ram_gb=1024.0, numa_pools=EPYC_POOLS, os_name="linux")


def test_the_gui_and_the_worker_import_the_same_file() -> None:
    import stmpo._worker_scripts.stmpo_worker.planning as from_app
    from stmpo.locations import worker_scripts_dir

    assert from_app.__file__ is not None
    expected = worker_scripts_dir() / "stmpo_worker" / "planning.py"
    assert expected.resolve() == type(expected)(from_app.__file__).resolve()


# -- the seed README's figures ---------------------------------------------------------


def test_epyc_1tb_mfr_on_gives_16_cpu_bound() -> None:
    plan = plan_render(EPYC, StmpoSettings(), 0, 999, 1, movie=False)
    assert plan.processes == 16
    assert plan.limited_by == "cpu"
    assert plan.mfr is True


def test_epyc_1tb_mfr_off_reaches_the_cap() -> None:
    plan = plan_render(EPYC, StmpoSettings(disable_mfr=True), 0, 999, 1, movie=False)
    assert plan.processes == 24
    assert plan.limited_by == "cap"
    assert plan.mfr is False


def test_ram_bound_when_processes_need_much_ram() -> None:
    plan = plan_render(
        EPYC, StmpoSettings(disable_mfr=True, ram_per_process_gb=64.0), 0, 999, 1, movie=False
    )
    assert plan.processes == 12  # 1024 * 0.8 / 64 = 12.8
    assert plan.limited_by == "ram"


def test_reasons_are_sentences_naming_every_limit() -> None:
    plan = plan_render(EPYC, StmpoSettings(), 0, 999, 1, movie=False)
    text = "\n".join(plan.reasons)
    assert "256 logical CPUs / 16 threads" in text
    assert "allow 25" in text  # RAM
    assert "caps it at 24" in text
    assert "CPU-bound" in text
    assert all(r.endswith(".") for r in plan.reasons)


def test_frame_count_limits_processes() -> None:
    # Auto concurrency stops at the launch-worth bound first (test_worker_launch_worth.py);
    # an explicit count is cut to the frames.
    plan = plan_render(EPYC, StmpoSettings(concurrency=8), 10, 14, 1, movie=False)
    assert plan.processes == 5
    assert plan.limited_by == "frames"
    assert plan.ranges == [(10, 10), (11, 11), (12, 12), (13, 13), (14, 14)]
    assert any("Only 5 frames" in r for r in plan.reasons)


def test_movie_is_one_process_whatever_concurrency_says() -> None:
    plan = plan_render(EPYC, StmpoSettings(concurrency=8), 0, 99, 1, movie=True)
    assert plan.processes == 1
    assert plan.ranges == [(0, 99)]
    assert plan.limited_by == "movie"
    assert plan.cpu_blocks is None


def test_explicit_concurrency_is_honoured_and_warned_about() -> None:
    small = HostFacts(8, 16.0, ((0, 1, 2, 3, 4, 5, 6, 7),), "linux")
    plan = plan_render(small, StmpoSettings(concurrency=4), 0, 99, 1, movie=False)
    assert plan.processes == 4
    assert plan.limited_by == "explicit"
    assert any(r.startswith("Warning:") and "RAM" in r for r in plan.reasons)


def test_tiny_host_still_renders_with_one_process() -> None:
    tiny = HostFacts(1, 0.5, None, "linux")
    plan = plan_render(tiny, StmpoSettings(), 0, 9, 1, movie=False)
    assert plan.processes == 1
    assert plan.cpu_blocks is None


# -- small hosts: MFR off fans out one process per core, up to 4 ------------------------


@pytest.mark.parametrize(
    ("cpus", "processes"),
    [(1, 1), (2, 1), (3, 1), (4, 2), (6, 3), (8, 4), (16, 4), (31, 4), (32, 4), (48, 6)],
)
def test_small_host_mfr_off_gets_a_process_per_core_up_to_four(cpus: int, processes: int) -> None:
    host = HostFacts(cpus, 1024.0, (tuple(range(cpus)),), "linux")
    plan = plan_render(host, StmpoSettings(disable_mfr=True), 0, 99, 1, movie=False)
    assert plan.processes == processes
    assert plan.limited_by == "cpu"


def test_small_host_floor_is_explained() -> None:
    host = HostFacts(16, 1024.0, (tuple(range(16)),), "windows")
    plan = plan_render(host, StmpoSettings(disable_mfr=True), 0, 99, 1, movie=False)
    cpu = next(r for r in plan.reasons if r.startswith("CPU:"))
    assert cpu == (
        "CPU: 16 logical CPUs / 8 threads per process (MFR off) allow 2, but a small host "
        "gets one process per 2 logical CPUs (a core), up to 4: 4."
    )
    assert plan.cpu_blocks == [(0, 1, 2, 3), (4, 5, 6, 7), (8, 9, 10, 11), (12, 13, 14, 15)]


@pytest.mark.parametrize("cpus", [2, 8, 16, 31])
def test_small_host_mfr_on_stays_one_process(cpus: int) -> None:
    """MFR already renders several frames at once inside the one process."""
    host = HostFacts(cpus, 1024.0, (tuple(range(cpus)),), "linux")
    assert plan_render(host, StmpoSettings(), 0, 99, 1, movie=False).processes == 1


def test_the_workstation_default_ram_still_binds() -> None:
    """32 GB per process on a 64 GB workstation: RAM allows 1 whatever the CPUs say."""
    host = HostFacts(16, 64.0, (tuple(range(16)),), "windows")
    plan = plan_render(host, StmpoSettings(disable_mfr=True), 0, 99, 1, movie=False)
    assert (plan.processes, plan.limited_by) == (1, "ram")


def test_no_frames_is_an_error() -> None:
    with pytest.raises(ValueError, match="no frames"):
        plan_render(EPYC, StmpoSettings(), 10, 9, 1, movie=False)


# -- auto concurrency over many host shapes ----------------------------------------------

hosts = st.builds(
    HostFacts,
    logical_cpus=st.integers(1, 1024),
    total_ram_gb=st.floats(0.5, 8192, allow_nan=False),
    numa_pools=st.none(),
    os_name=st.sampled_from(["linux", "windows", "macos"]),
)
stmpo_settings = st.builds(
    StmpoSettings,
    max_concurrency=st.integers(1, 64),
    ram_per_process_gb=st.floats(1.0, 256.0, allow_nan=False),
    disable_mfr=st.booleans(),
)


@given(host=hosts, cfg=stmpo_settings, start=st.integers(-500, 500), count=st.integers(1, 2000))
def test_auto_concurrency_stays_within_one_cap_and_frames(
    host: HostFacts, cfg: StmpoSettings, start: int, count: int
) -> None:
    plan = plan_render(host, cfg, start, start + count - 1, 1, movie=False)
    assert 1 <= plan.processes <= cfg.max_concurrency
    assert plan.processes <= count
    assert plan.processes <= max(1, host.logical_cpus // 2)  # a core (2 threads) at least


@given(host=hosts, cfg=stmpo_settings, more_cpus=st.integers(0, 512), more_ram=st.floats(0, 4096))
def test_auto_concurrency_is_monotonic_in_cpus_and_ram(
    host: HostFacts, cfg: StmpoSettings, more_cpus: int, more_ram: float
) -> None:
    bigger = HostFacts(
        host.logical_cpus + more_cpus, host.total_ram_gb + more_ram, None, host.os_name
    )
    mfr = not cfg.disable_mfr
    assert auto_concurrency(bigger, cfg, mfr) >= auto_concurrency(host, cfg, mfr)
    assert cpu_limit(bigger.logical_cpus, mfr)[0] >= cpu_limit(host.logical_cpus, mfr)[0]


@given(host=hosts, cfg=stmpo_settings)
def test_mfr_off_never_gives_fewer_processes_than_mfr_on(
    host: HostFacts, cfg: StmpoSettings
) -> None:
    assert auto_concurrency(host, cfg, mfr=False) >= auto_concurrency(host, cfg, mfr=True)


# -- frame splitting ---------------------------------------------------------------------


@given(
    start=st.integers(-1000, 1000),
    count=st.integers(1, 3000),
    step=st.integers(1, 10),
    parts=st.integers(1, 64),
)
def test_split_partitions_the_frames_on_the_step_grid(
    start: int, count: int, step: int, parts: int
) -> None:
    end = start + (count - 1) * step + (step - 1 if count > 1 else 0)
    wanted = list(range(start, end + 1, step))
    ranges = split_frames(start, end, step, parts)
    rendered = [f for s, e in ranges for f in range(s, e + 1, step)]
    assert rendered == wanted  # contiguous, in order, no gap, no overlap
    assert len(ranges) == min(parts, len(wanted))
    sizes = [frames_in_range(s, e, step) for s, e in ranges]
    assert max(sizes) - min(sizes) <= 1
    for s, e in ranges:
        assert (s - start) % step == 0 and (e - start) % step == 0


def test_split_examples() -> None:
    assert split_frames(0, 9, 1, 3) == [(0, 3), (4, 6), (7, 9)]
    assert split_frames(1, 20, 3, 2) == [(1, 10), (13, 19)]  # frames 1,4,...,19
    assert split_frames(5, 5, 1, 8) == [(5, 5)]


# -- affinity ------------------------------------------------------------------------------


def _node_of(cpu: int, pools: list[list[int]]) -> int:
    return next(i for i, p in enumerate(pools) if cpu in p)


@settings(max_examples=200)
@given(
    pool_sizes=st.lists(st.integers(1, 96), min_size=1, max_size=8),
    processes=st.integers(1, 64),
)
def test_blocks_are_disjoint_contiguous_and_spread(pool_sizes: list[int], processes: int) -> None:
    pools, at = [], 0
    for size in pool_sizes:
        pools.append(list(range(at, at + size)))
        at += size
    blocks = affinity_blocks(pools, processes)
    if processes > at:
        assert blocks is None
        return
    assert blocks is not None and len(blocks) == processes
    flat = [c for b in blocks for c in b]
    assert len(flat) == len(set(flat)), "blocks overlap"
    assert all(blocks), "a child got no CPU"
    if processes <= len(pools):
        assert sorted(flat) == list(range(at)), "all CPUs used when there are few children"
    else:
        for block in blocks:  # one NUMA node per block, contiguous inside it
            nodes = {_node_of(c, pools) for c in block}
            assert len(nodes) == 1
            assert list(block) == list(range(block[0], block[0] + len(block)))
    # Neighbouring children start on different nodes whenever there are several nodes
    # with room for them.
    first_nodes = [_node_of(b[0], pools) for b in blocks]
    used = set(first_nodes)
    if len(used) > 1:
        assert first_nodes[0] != first_nodes[1]


def test_epyc_blocks_alternate_numa_nodes() -> None:
    plan = plan_render(EPYC, StmpoSettings(), 0, 999, 1, movie=False)
    assert plan.cpu_blocks is not None
    assert [b[0] for b in plan.cpu_blocks[:4]] == [0, 128, 16, 144]
    assert all(len(b) == 16 for b in plan.cpu_blocks)


def test_windows_blocks_never_span_processor_groups() -> None:
    host = HostFacts(256, 1024.0, EPYC_POOLS, "windows")
    plan = plan_render(host, StmpoSettings(disable_mfr=True), 0, 999, 1, movie=False)
    assert plan.cpu_blocks is not None
    for block in plan.cpu_blocks:
        assert len({cpu // 64 for cpu in block}) == 1
    # groups interleave NUMA nodes: child 0 on node 0, child 1 on node 1
    assert plan.cpu_blocks[0][0] < 128 <= plan.cpu_blocks[1][0]


def test_windows_pools_are_cut_at_64() -> None:
    host = HostFacts(256, 1024.0, EPYC_POOLS, "windows")
    assert [(p[0], p[-1]) for p in host_pools(host)] == [(0, 63), (128, 191), (64, 127), (192, 255)]


def test_affinity_off_unknown_topology_macos_and_one_process() -> None:
    on = StmpoSettings()
    assert (
        plan_render(EPYC, StmpoSettings(disable_affinity=True), 0, 99, 1, False).cpu_blocks is None
    )
    unknown = HostFacts(256, 1024.0, None, "linux")
    plan = plan_render(unknown, on, 0, 99, 1, False)
    assert plan.cpu_blocks is None and any("topology unknown" in r for r in plan.reasons)
    mac = HostFacts(16, 64.0, ((*range(16),),), "macos")
    assert plan_render(mac, StmpoSettings(concurrency=2), 0, 99, 1, False).cpu_blocks is None
    assert plan_render(EPYC, StmpoSettings(concurrency=1), 0, 99, 1, False).cpu_blocks is None


def test_more_children_than_cpus_is_unpinned() -> None:
    host = HostFacts(2, 64.0, ((0, 1),), "linux")
    plan = plan_render(host, StmpoSettings(concurrency=3), 0, 99, 1, False)
    assert plan.processes == 3 and plan.cpu_blocks is None


def test_preview_helpers_for_the_gui() -> None:
    pools = even_pools(256, 2)
    assert pools == EPYC_POOLS
    assert even_pools(3, 8) == ((0,), (1,), (2,))
    plan = plan_render(HostFacts(256, 1024.0, pools, "windows"), StmpoSettings(), 0, 479, 1, False)
    lines = child_summaries(plan)
    assert len(lines) == 16
    assert lines[0] == "c1: frames 0-29 (30), CPUs 0-15"
    assert lines[1] == "c2: frames 30-59 (30), CPUs 128-143"
    assert cpu_list_text((0, 1, 2, 5, 7, 8)) == "0-2,5,7-8"
