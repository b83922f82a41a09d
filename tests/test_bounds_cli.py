"""Bounded resources on any input, through the real `stmpo` commands in subprocesses.

Each command runs under an address-space limit (RLIMIT_AS), so reading without a cap or
expanding what the input names fails here with a MemoryError instead of eating the
machine. Time is measured as the command's CPU time (RUSAGE_CHILDREN), which a busy
test machine does not inflate.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bundle_exports import export_dict, item, write_export

pytestmark = pytest.mark.slow

ADDRESS_SPACE = 2 << 30


def _limited() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def stmpo(*args: str, timeout: float = 120) -> tuple[subprocess.CompletedProcess[str], float]:
    """`stmpo ARGS` under the memory limit; the result and the CPU seconds it used."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        preexec_fn=_limited,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result, cpu


def one_line_exit_2(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


# --- export files -------------------------------------------------------------------------


def test_a_600_level_export_is_exit_2_naming_where_it_nests(tmp_path: Path) -> None:
    deep: Any = 1
    for _ in range(600):
        deep = [deep]
    raw = item(1)
    raw["comp"]["extra"] = deep
    export = write_export(tmp_path / "deep.json", export_dict([raw]))
    result, cpu = stmpo("validate-export", str(export))
    line = one_line_exit_2(result)
    assert ": renderQueue[0].comp.extra[0][0][0]" in line
    assert "nested too deeply: more than 64 levels" in line
    assert cpu < 10


def test_dev_zero_is_exit_2_quickly() -> None:
    result, cpu = stmpo("validate-export", "/dev/zero", timeout=60)
    line = one_line_exit_2(result)
    assert line == "stmpo validate-export: /dev/zero: the file is larger than 64 MiB"
    assert cpu < 10


def test_submit_of_dev_zero_fails_quickly(tmp_path: Path) -> None:
    """`stmpo submit` hashes the export before reading it (for --skip-submitted): that
    read is capped too."""
    report = tmp_path / "report.json"
    result, cpu = stmpo("submit", "/dev/zero", "--dry-run", "--report", str(report), timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    [entry] = json.loads(report.read_text(encoding="utf-8"))["exports"]
    assert entry["status"] == "error"
    assert entry["message"] == "the file is larger than 64 MiB"
    assert cpu < 10


@pytest.fixture
def endless_fifo(tmp_path: Path) -> Iterator[Path]:
    """A FIFO whose writer (`yes`) never stops."""
    fifo = tmp_path / "endless.json"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f'exec yes "[" > "{fifo}"'])
    yield fifo
    writer.kill()
    writer.wait()


def test_a_fifo_that_never_ends_is_exit_2_quickly(endless_fifo: Path) -> None:
    result, cpu = stmpo("validate-export", str(endless_fifo), timeout=60)
    line = one_line_exit_2(result)
    assert line.endswith(f"{endless_fifo}: the file is larger than 64 MiB")
    assert cpu < 10


def test_frames_far_outside_the_comp_are_export_errors(tmp_path: Path) -> None:
    """The comp has 50 frames (0-49): up to 50 frames beyond either end is AE's
    business, further is an export error at its JSON path."""
    near = write_export(tmp_path / "near.json", export_dict([item(1, start=-50, end=99)]))
    result, _ = stmpo("validate-export", str(near))
    assert result.returncode == 0, result.stderr
    far = write_export(
        tmp_path / "far.json",
        export_dict([item(1), item(2, start=-(10**9), end=10**9), item(3, end=100)]),
    )
    result, _ = stmpo("validate-export", str(far))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    problems = [line.strip() for line in result.stderr.splitlines()[1:]]
    assert problems == [
        "- renderQueue[1] (item 2).frames.start: frame -1000000000 is further from the "
        "comp's frames 0-49 than the comp is long (50 frames)",
        "- renderQueue[1] (item 2).frames.end: frame 1000000000 is further from the "
        "comp's frames 0-49 than the comp is long (50 frames)",
        "- renderQueue[2] (item 3).frames.end: frame 100 is further from the "
        "comp's frames 0-49 than the comp is long (50 frames)",
    ]


# --- bundles ------------------------------------------------------------------------------


def test_a_frames_override_beyond_the_comp_is_an_error(tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.json", export_dict([item(1), item(2)]))
    out = tmp_path / "bundle"
    result, _ = stmpo("bundle", str(export), "-o", str(out), "--frames", "2=0-50")
    line = one_line_exit_2(result)
    assert '--frames 2: frames 0-50 go outside the comp "MAIN comp" (0-49)' in line
    assert not out.exists()


@pytest.fixture(scope="module")
def five_thousand_items(tmp_path_factory: pytest.TempPathFactory) -> Path:
    items = [item(i, comp=f"Shot {i:04d} comp", end=49) for i in range(1, 5001)]
    return write_export(tmp_path_factory.mktemp("big") / "e5000.json", export_dict(items))


def test_5000_items_fail_in_seconds_with_how_many_fit(
    five_thousand_items: Path, tmp_path: Path
) -> None:
    out = tmp_path / "bundle"
    result, cpu = stmpo("bundle", str(five_thousand_items), "-o", str(out), "-p", "ChunkSize=10")
    line = one_line_exit_2(result)
    assert "--items: 5000 items make a job template of " in line
    assert "Deadline Cloud accepts at most 1,000,000 (CreateJob)" in line
    fit = int(line.split("submit at most ")[1].split(" items per job")[0])
    assert 1000 < fit < 2500  # a step is ~0.5 KB: comp names and outputs are in job files
    assert "use a larger ChunkSize (-p ChunkSize=N; now 10, 25,000 tasks" in line
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert cpu < 10  # was 17 s: written, then checked step by step by openjd-model

    # The advice works: the first `fit` items make a bundle.
    items = ",".join(str(i) for i in range(1, fit + 1))
    result, _ = stmpo("bundle", str(five_thousand_items), "-o", str(out), "--items", items)
    assert result.returncode == 0, result.stderr
    assert f"{fit} steps" in result.stdout


def test_validate_refuses_a_too_large_bundle_before_checking_its_steps(
    five_thousand_items: Path, tmp_path: Path
) -> None:
    """A bundle written by hand (or an older stmpo) with 5000 steps."""
    out = tmp_path / "bundle"
    result, _ = stmpo("bundle", str(five_thousand_items), "-o", str(out), "--items", "1")
    assert result.returncode == 0, result.stderr
    template = (out / "template.yaml").read_text(encoding="utf-8")
    head, steps = template.split("\nsteps:\n")
    step_text = steps.replace("RQ 001", "RQ {n:04d}")
    (out / "template.yaml").write_text(
        head
        + "\nsteps:\n"
        + "".join(step_text.replace("{n:04d}", f"{n:04d}") for n in range(5000)),
        encoding="utf-8",
    )
    started = time.monotonic()
    result, cpu = stmpo("validate", str(out))
    line = one_line_exit_2(result)
    assert "template.yaml:" in line and "Deadline Cloud accepts at most 1,000,000" in line
    assert cpu < 5, f"{cpu:.1f} s CPU, {time.monotonic() - started:.1f} s wall"


def _alias_bomb() -> str:
    """The "billion laughs": 9 levels of 9 aliases, 10^9 strings from 0.6 KB of YAML."""
    lines = ['  a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"  a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    return "bombs:\n" + "\n".join(lines) + "\n"


@pytest.mark.parametrize("document", ["parameter_values.yaml", "asset_references.yaml"])
def test_a_yaml_alias_bomb_is_refused_at_once(tmp_path: Path, document: str) -> None:
    export = write_export(tmp_path / "e.json", export_dict([item(1)]))
    out = tmp_path / "bundle"
    result, _ = stmpo("bundle", str(export), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = _alias_bomb()
    if document == "parameter_values.yaml":
        text += "parameterValues:\n- name: Concurrency\n  value: *a9\n"
    else:
        text += "assetReferences:\n  inputs:\n    filenames: *a9\n"
    assert len(text) < 1024
    (out / document).write_text(text, encoding="utf-8")
    result, cpu = stmpo("validate", str(out), timeout=60)
    line = one_line_exit_2(result)
    assert f"{document}: line 2 column 7: YAML anchors and aliases" in line
    assert cpu < 5


def test_deeply_nested_bundle_yaml_is_refused(tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.json", export_dict([item(1)]))
    out = tmp_path / "bundle"
    result, _ = stmpo("bundle", str(export), "-o", str(out))
    assert result.returncode == 0, result.stderr
    deep = "[" * 500 + "]" * 500  # libyaml itself stops at 1000; PyYAML recursed before
    (out / "parameter_values.yaml").write_text(
        f"parameterValues:\n- name: Concurrency\n  value: {deep}\n", encoding="utf-8"
    )
    result, _ = stmpo("validate", str(out))
    line = one_line_exit_2(result)
    assert "parameter_values.yaml: line 3 column" in line
    assert "nested more than 64 levels deep" in line


def test_a_template_json_nested_too_deeply_names_its_path(tmp_path: Path) -> None:
    export = write_export(tmp_path / "e.json", export_dict([item(1)]))
    out = tmp_path / "bundle"
    result, _ = stmpo("bundle", str(export), "-o", str(out))
    assert result.returncode == 0, result.stderr
    (out / "template.yaml").unlink()
    (out / "template.json").write_text(
        json.dumps({"specificationVersion": "jobtemplate-2023-09", "name": "x"})[:-1]
        + ', "steps": '
        + "[" * 100_000
        + "]" * 100_000
        + "}",
        encoding="utf-8",
    )
    result, _ = stmpo("validate", str(out))
    line = one_line_exit_2(result)
    assert "template.json: steps[0][0][0]" in line and "nested more than 64 levels" in line
    # run-local reads bundles with the same bounds: exit 2 naming the place, nothing run.
    result, _ = stmpo("run-local", str(out))
    line = one_line_exit_2(result)
    assert "nested more than 64 levels" in line
