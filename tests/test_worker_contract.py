"""The worker's command line is defined once (issue 11, "Structure"): `contract.SETTINGS`.

One test per table row, through the real programs: the template `stmpo bundle` writes
declares the row's parameter with the row's type, default and bounds and sets its
`STMPO_*` variable; the real worker (`stmpo_render.py render --dry-run`) takes the
default and refuses a value out of range naming the flag (or the variable); the
submitter has a control with the row's range. Plus the new issue 11 parameters reach the
render (`--dry-run` prints them as `RenderJob` holds them) and `SplitStrategy=static`
renders today's split with the stand-in.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from stmpo._worker_scripts.stmpo_worker import cli
from stmpo._worker_scripts.stmpo_worker.contract import SETTINGS, Setting, variable_for
from stmpo._worker_scripts.stmpo_worker.planning import split_frames
from stmpo.locations import resources_dir
from stmpo_worker_harness import base_env, make_scene, render_argv, run

JOB_ROWS = [row for row in SETTINGS if row.parameter is not None]
BOUNDED_ROWS = [row for row in SETTINGS if row.kind in ("bool", "int", "float", "choice")]
EXAMPLE = resources_dir() / "examples" / "image_sequence.json"


def _id(row: Setting) -> str:
    return row.flag


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The job template the real `stmpo bundle` writes for a sample export."""
    out = tmp_path_factory.mktemp("contract") / "bundle"
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "bundle", str(EXAMPLE), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(yaml.safe_load((out / "template.yaml").read_text("utf-8")))


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("row", JOB_ROWS, ids=_id)
def test_the_template_declares_the_row(template: dict[str, Any], row: Setting) -> None:
    [definition] = [d for d in template["parameterDefinitions"] if d["name"] == row.parameter]
    kinds = {"bool": "STRING", "choice": "STRING", "text": "STRING", "file": "PATH"}
    kinds.update(int="INT", float="FLOAT")
    assert definition["type"] == kinds[row.kind]
    if row.kind != "file":
        assert _text(definition["default"]) == _text(row.default)
    assert definition.get("minValue") == row.low
    assert definition.get("maxValue") == row.high
    if row.kind == "bool":
        assert definition["allowedValues"] == ["true", "false"]
    if row.kind == "choice":
        assert definition["allowedValues"] == list(row.choices)
    [environment] = template["jobEnvironments"]
    assert environment["variables"][variable_for(row.flag)] == "{{Param." + row.parameter + "}}"


def _dry_run(
    capsys: pytest.CaptureFixture[str], *extra: str, frames: str = "0-9"
) -> tuple[int, str, str]:
    argv = ["render", "--rqindex=1", f"--frames={frames}", "--project=p.aep", "--dry-run", *extra]
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # argparse's own exit, as `python stmpo_render.py` exits
        code = int(exc.code or 0)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _out_of_range(row: Setting) -> str:
    if row.kind == "bool":
        return "maybe"
    if row.kind == "choice":
        return "fastest"
    assert row.high is not None
    return str(int(row.high) + 1) if row.kind == "int" else f"{row.high * 2 + 1:g}"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No job environment: every setting comes from the command line or its default."""
    import os

    for name in list(os.environ):
        if name.startswith("STMPO_"):
            monkeypatch.delenv(name)
    return monkeypatch


@pytest.mark.parametrize("row", BOUNDED_ROWS, ids=_id)
def test_the_worker_takes_the_default_and_refuses_out_of_range(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch, row: Setting
) -> None:
    default = _text(row.default) if row.flag != "--dry-run" else "true"  # false renders
    code, out, err = _dry_run(capsys, f"{row.flag}={default}")
    assert code == 0, out + err
    assert "STMPO: plan:" in out
    code, out, err = _dry_run(capsys, f"{row.flag}={_out_of_range(row)}")
    assert code == 2
    [line] = [x for x in err.splitlines() if "error:" in x]
    assert row.flag in line and "Traceback" not in err
    assert out.startswith("openjd_fail:")
    if row.parameter is not None:  # the job environment's variable, as the farm sets it
        clean_env.setenv(variable_for(row.flag), _out_of_range(row))
        code, out, err = _dry_run(capsys)
        assert code == 2
        assert f"{variable_for(row.flag)} (for {row.flag})" in err


def test_the_new_settings_reach_the_render(
    capsys: pytest.CaptureFixture[str], clean_env: pytest.MonkeyPatch
) -> None:
    code, out, _ = _dry_run(capsys)
    assert code == 0
    assert "split strategy dynamic" in out
    assert (
        "settings: retry failed ranges 1, skip existing on, stall timeout 1800 s, "
        "startup timeout 600 s" in out
    )
    clean_env.setenv("STMPO_SPLIT_STRATEGY", "static")
    clean_env.setenv("STMPO_RETRY_FAILED_RANGES", "3")
    clean_env.setenv("STMPO_SKIP_EXISTING", "false")
    clean_env.setenv("STMPO_STALL_TIMEOUT_SEC", "90")
    clean_env.setenv("STMPO_STARTUP_TIMEOUT_SEC", "0")
    code, out, _ = _dry_run(capsys)
    assert code == 0
    assert "split strategy static" in out
    assert (
        "settings: retry failed ranges 3, skip existing off, stall timeout 90 s, "
        "startup timeout 0 s" in out
    )


def test_split_strategy_static_renders_todays_split(tmp_path: Path) -> None:
    """SplitStrategy=static: equal contiguous ranges, one aerender launch each, every
    frame once (the stand-in's trace records each launch's -s/-e)."""
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-19", "--concurrency=4", "--split-strategy=static")
    done = run(argv, base_env(scene))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    launched = sorted((r["s"], r["e"]) for r in scene.events("start"))
    assert launched == split_frames(0, 19, 1, 4) == [(0, 4), (5, 9), (10, 14), (15, 19)]
    assert scene.frames_on_disk() == set(range(20))
    assert "split strategy" not in done.stderr


def test_the_submitter_has_a_control_per_row(make_dialog: Any, tmp_path: Path) -> None:
    """Every STMPO row has its control with the row's range; the new parameters stick
    beside the project like the others."""
    import shutil

    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox
    from stmpo.export import load_export
    from stmpo.gui.settings import AfterEffectsSettings, initial_settings, save_sticky, sticky_path

    target = tmp_path / "image_sequence.json"
    shutil.copyfile(EXAMPLE, target)
    tab = make_dialog(target).job_settings
    for row in SETTINGS:
        if row.parameter is None or not row.gui:
            continue
        control = tab.stmpo_controls[row.parameter]
        if row.kind in ("int", "float"):
            assert isinstance(control, QSpinBox | QDoubleSpinBox)
            assert (control.minimum(), control.maximum()) == (row.low, row.high), row.flag
        if row.kind == "bool":
            assert isinstance(control, QCheckBox)
        if row.kind == "choice":
            assert isinstance(control, QComboBox)
            assert [control.itemText(i) for i in range(control.count())] == list(row.choices)
        value = tab.parameter_values()[row.parameter]
        if row.kind in ("int", "float"):
            assert float(value) == row.default, row.flag
        else:
            assert value == _text(row.default), row.flag
    tab.stmpo_controls["SplitStrategy"].setCurrentText("static")
    tab.stmpo_controls["RetryFailedRanges"].setValue(3)
    tab.stmpo_controls["SkipExisting"].setChecked(False)
    tab.stmpo_controls["StallTimeoutSec"].setValue(90.0)
    tab.stmpo_controls["StartupTimeoutSec"].setValue(0.0)
    settings = AfterEffectsSettings()
    tab.update_settings(settings)
    export = load_export(target)
    save_sticky(settings, sticky_path(export, target))
    again = initial_settings(export, target)
    assert again.notices == []
    chosen = {k: again.parameters[k] for k in ("SplitStrategy", "RetryFailedRanges")}
    assert chosen == {"SplitStrategy": "static", "RetryFailedRanges": "3"}
    assert again.parameters["SkipExisting"] == "false"
    assert float(again.parameters["StallTimeoutSec"]) == 90.0
    assert float(again.parameters["StartupTimeoutSec"]) == 0.0


def test_a_saved_strategy_the_worker_refuses_is_ignored(tmp_path: Path) -> None:
    """A sticky file is outside input: a SplitStrategy the template's allowedValues do
    not hold is dropped with a notice, and the default shows."""
    import json
    import shutil

    from stmpo.export import load_export
    from stmpo.gui.settings import STICKY_VERSION, initial_settings, sticky_path

    target = tmp_path / "image_sequence.json"
    shutil.copyfile(EXAMPLE, target)
    export = load_export(target)
    saved = {"stmpoStickyVersion": STICKY_VERSION, "parameters": {"SplitStrategy": "fastest"}}
    sticky_path(export, target).write_text(json.dumps(saved), encoding="utf-8")
    settings = initial_settings(export, target)
    assert settings.parameters["SplitStrategy"] == "dynamic"
    assert len(settings.notices) == 1 and "damaged parameters" in settings.notices[0]
