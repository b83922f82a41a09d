"""Every action's command line fits any Windows worker agent (issue 9).

`CreateProcessWithLogonW` refuses a command line over 1,024 characters. The bundles are
made by the real `stmpo bundle`, and each action's command line is resolved at its worst
(`stmpo.bundle.command_lines`: 200-character paths with spaces, the longest value of
every other parameter, Windows quoting). `conftest.py` applies the same check to every
bundle any other test writes.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from fontgen import build_font
from stmpo.bundle.command_lines import (
    MAX_COMMAND_LINE,
    WORST_PATH_LENGTH,
    worst_command_lines,
    worst_path,
)
from stmpo.locations import sample_exports

EXAMPLES = sample_exports()
UNBUNDLABLE = {"unrenderable_items.json"}  # exit 2 by design: nothing to render


def stmpo_bundle(export: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "bundle", str(export), "-o", str(out), *extra],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def longest(bundle: Path) -> dict[str, int]:
    """The longest worst-case command line of each kind of action in a written bundle."""
    template = yaml.safe_load((bundle / "template.yaml").read_text(encoding="utf-8"))
    found: dict[str, int] = {}
    for where, line in worst_command_lines(template):
        kind = where.rsplit(" ", 1)[1]
        found[kind] = max(found.get(kind, 0), len(line))
    return found


def long_path(root: Path, length: int, name: str) -> str:
    """An absolute path of exactly `length` characters ending in `name`."""
    padding = length - len(str(root)) - len(name) - 2
    return str(root / ("p" * padding) / name)


def four_hundred_items(tmp_path: Path) -> dict[str, Any]:
    font = tmp_path / "Brand-Bold.ttf"
    build_font("Brand-Bold").save(font)
    project = Path(long_path(tmp_path / "proj", WORST_PATH_LENGTH, "spot v012.aep"))
    project.parent.mkdir(parents=True)
    project.write_bytes(b"RIFX")
    items = [
        item(
            i,
            comp=f"Shot {i:03d} " + "c" * 180,
            end=99,
            outputs=[
                {
                    "index": 1,
                    "path": f"/renders/shot {i:03d}/" + "o" * 170 + "/f_[#####].png",
                    "kind": "sequence",
                },
                {"index": 2, "path": f"/renders/shot {i:03d}/" + "m" * 170 + "/f.mov"},
            ],
        )
        for i in range(1, 401)
    ]
    return export_dict(
        items,
        project={"path": str(project), "displayStartFrame": 0},
        fonts=[{"postScriptName": "Brand-Bold", "location": str(font)}],
    )


def test_a_400_item_export_fits_every_windows_worker(tmp_path: Path) -> None:
    export = write_export(tmp_path / "big.json", four_hundred_items(tmp_path))
    stmpo_bundle(export, tmp_path / "bundle", "-p", "ChunkSize=10")

    found = longest(tmp_path / "bundle")
    assert set(found) == {"onEnter", "onExit", "onRun"}  # fonts: enter and exit both run
    assert max(found.values()) <= MAX_COMMAND_LINE, found
    template = yaml.safe_load((tmp_path / "bundle" / "template.yaml").read_text("utf-8"))
    assert len(template["steps"]) == 400


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_every_sample_export_fits_every_windows_worker(example: Path, tmp_path: Path) -> None:
    if example.name in UNBUNDLABLE:
        done = subprocess.run(
            [sys.executable, "-m", "stmpo", "bundle", str(example), "-o", str(tmp_path / "b")],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2  # nothing to check: it makes no bundle
        return
    stmpo_bundle(example, tmp_path / "bundle")
    found = longest(tmp_path / "bundle")
    assert "onRun" in found and "onEnter" in found
    assert max(found.values()) <= MAX_COMMAND_LINE, found


def test_the_worst_case_counts_long_paths_quoted() -> None:
    """The measure itself: a 200-character path with spaces costs 202 (its quotes), and
    a reference to an unknown name counts as a worst-case path, never as nothing."""
    template = {
        "parameterDefinitions": [{"name": "P", "type": "PATH"}],
        "steps": [
            {
                "name": "S",
                "parameterSpace": {
                    "taskParameterDefinitions": [
                        {"name": "F", "type": "STRING", "range": ["1-2", "10-200"]}
                    ]
                },
                "script": {
                    "actions": {
                        "onRun": {"command": "{{Param.P}}", "args": ["{{Task.Param.F}}", "{{X}}"]}
                    }
                },
            }
        ],
    }
    [(where, line)] = worst_command_lines(template)
    assert where == "step 'S' onRun"
    assert len(worst_path()) == WORST_PATH_LENGTH and " " in worst_path()
    assert line == f'"{worst_path()}" 10-200 "{worst_path()}"'


def test_an_action_over_the_budget_is_named() -> None:
    """What `stmpo bundle` warns when an action could not start on such a worker."""
    from stmpo.bundle.command_lines import too_long

    template = {
        "parameterDefinitions": [{"name": p, "type": "PATH"} for p in "ABCDE"],
        "jobEnvironments": [
            {
                "name": "E",
                "script": {
                    "actions": {
                        "onEnter": {"command": "x", "args": [f"{{{{Param.{p}}}}}" for p in "ABCDE"]}
                    }
                },
            }
        ],
    }
    [message] = too_long(template)
    assert message.startswith("job environment 'E' onEnter: its command line can reach 1,")


def test_validate_warns_about_a_hand_edited_action_that_no_windows_agent_starts(
    tmp_path: Path,
) -> None:
    bundle = tmp_path / "bundle"
    stmpo_bundle(EXAMPLES[0], bundle)
    (bundle / ".stmpo-bundle").unlink()  # hand-edited: no longer the bundle stmpo wrote
    template = yaml.safe_load((bundle / "template.yaml").read_text(encoding="utf-8"))
    run = template["steps"][0]["script"]["actions"]["onRun"]
    run["args"] += ["--project={{Param.ProjectFile}}", "--numa-map={{Param.NumaMap}}"]
    (bundle / "template.yaml").write_text(yaml.safe_dump(template), encoding="utf-8")

    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "validate", str(bundle)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr  # valid OpenJD all the same
    step = template["steps"][0]["name"]
    [warning] = done.stderr.splitlines()
    assert warning.startswith(f"warning: step {step!r} onRun: its command line can reach 1,")
    assert "at most 1,000 fit every worker agent" in warning
