"""The aerender stand-in on its own: flags, sidecar, frames, log lines, faults."""

from __future__ import annotations

import json
from pathlib import Path

from stmpo._worker_scripts.stmpo_worker.progress import frame_marker, is_error_line
from stmpo.locations import aerender_standin
from stmpo_worker_harness import standin


def _project(tmp_path: Path, item: dict[str, object], rate: float = 25) -> Path:
    project = tmp_path / "p.aep"
    project.write_bytes(b"x")
    Path(f"{project}.standin.json").write_text(
        json.dumps({"frameRate": rate, "items": {"2": item}}), encoding="utf-8"
    )
    return project


def test_version_and_executable_bit() -> None:
    result = standin("-version")
    assert result.returncode == 0 and result.stdout.startswith("aerender version")
    assert aerender_standin().stat().st_mode & 0o111
    assert aerender_standin().read_text().startswith("#!/usr/bin/env python3")


def test_renders_sidecar_outputs_with_progress_lines(tmp_path: Path) -> None:
    (tmp_path / "o").mkdir()
    project = _project(
        tmp_path, {"outputs": [f"{tmp_path}/o/A_[###].png", {"path": f"{tmp_path}/o/B_[#].png"}]}
    )
    result = standin(
        "-project",
        str(project),
        "-rqindex",
        "2",
        "-s",
        "8",
        "-e",
        "12",
        "-i",
        "2",
        "-mfr",
        "ON",
        "100",
        "-v",
        "ERRORS_AND_PROGRESS",
        "-close",
        "DO_NOT_SAVE_CHANGES",
        "-sound",
        "OFF",
        "-reuse",
        "-continueOnMissingFootage",
        "-mem_usage",
        "50",
        "0",
    )
    assert result.returncode == 0, result.stdout
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == [
        "A_008.png", "A_010.png", "A_012.png", "B_10.png", "B_12.png", "B_8.png"
    ]  # fmt: skip
    markers = [frame_marker(line) for line in result.stdout.splitlines()]
    assert [m for m in markers if m is not None] == [1, 2, 3]
    assert "PROGRESS:  0:00:00:08 (1): 0 Seconds" in result.stdout


def test_dash_output_replaces_the_first_output_and_works_without_sidecar(tmp_path: Path) -> None:
    project = tmp_path / "p.aep"
    project.write_bytes(b"x")
    result = standin(
        "-project",
        str(project),
        "-rqindex",
        "1",
        "-s",
        "0",
        "-e",
        "1",
        "-output",
        str(tmp_path / "F_[####].png"),
    )
    assert result.returncode == 0
    assert sorted(p.name for p in tmp_path.glob("F_*")) == ["F_0000.png", "F_0001.png"]


def test_drop_frame_and_german_lines_keep_their_shape(tmp_path: Path) -> None:
    project = _project(tmp_path, {"outputs": [f"{tmp_path}/A_[####].png"]}, rate=29.97)
    result = standin(
        "-project",
        str(project),
        "-rqindex",
        "2",
        "-s",
        "29",
        "-e",
        "30",
        env={"STANDIN_LANG": "de"},
    )
    assert "PROGRESS:  0;00;00;29 (1): 0 Sekunden" in result.stdout
    assert "PROGRESS:  0;00;01;00 (2): 0 Sekunden" in result.stdout


def test_log_file(tmp_path: Path) -> None:
    log = tmp_path / "ae.log"
    standin(
        "-project",
        str(_project(tmp_path, {"outputs": [f"{tmp_path}/A_[#].png"]})),
        "-rqindex",
        "2",
        "-s",
        "0",
        "-e",
        "0",
        "-log",
        str(log),
    )
    assert "(1): 0 Seconds" in log.read_text(encoding="utf-8")


def test_setup_errors_are_aerender_errors(tmp_path: Path) -> None:
    missing = standin("-project", str(tmp_path / "nope.aep"), "-rqindex", "1")
    assert missing.returncode == 1 and is_error_line(missing.stdout)
    project = _project(tmp_path, {"outputs": [f"{tmp_path}/no/such/dir/A_[#].png"]})
    no_dir = standin("-project", str(project), "-rqindex", "2", "-s", "0", "-e", "0")
    assert no_dir.returncode == 1 and "does not exist" in no_dir.stdout
    no_item = standin("-project", str(project), "-rqindex", "7")
    assert no_item.returncode == 1 and "index 7" in no_item.stdout
    bad_flag = standin("-bogus")
    assert bad_flag.returncode == 1 and "unknown flag" in bad_flag.stdout


def test_sidecar_faults_only_fire_inside_the_range(tmp_path: Path) -> None:
    project = _project(tmp_path, {"outputs": [f"{tmp_path}/A_[#].png"], "faults": ["crash@5"]})
    clean = standin("-project", str(project), "-rqindex", "2", "-s", "0", "-e", "4")
    assert clean.returncode == 0
    crashed = standin("-project", str(project), "-rqindex", "2", "-s", "3", "-e", "6")
    assert crashed.returncode == 3
    assert sorted(p.name for p in tmp_path.glob("A_*.png")) == [f"A_{n}.png" for n in range(5)]


def test_error_exit0_and_missing_frame(tmp_path: Path) -> None:
    project = _project(tmp_path, {"outputs": [f"{tmp_path}/A_[#].png"]})
    args = ("-project", str(project), "-rqindex", "2", "-s", "0", "-e", "3")
    result = standin(*args, env={"STANDIN_FAIL": "error_exit0@2"})
    assert result.returncode == 0 and any(is_error_line(x) for x in result.stdout.splitlines())
    assert sorted(p.name for p in tmp_path.glob("A_*.png")) == ["A_0.png", "A_1.png"]
    for png in tmp_path.glob("A_*.png"):
        png.unlink()
    result = standin(*args, env={"STANDIN_FAIL": "missing_frame@1"})
    assert result.returncode == 0
    assert sorted(p.name for p in tmp_path.glob("A_*.png")) == ["A_0.png", "A_2.png", "A_3.png"]


def test_an_item_that_already_ran_is_refused_like_aerender(tmp_path: Path) -> None:
    """aerender sets the Render flag of the `-rqindex` item; AE refuses it for an item
    that already ran (docs/aerender-standin.md, "Render queue item status")."""
    out = f"{tmp_path}/A_[#].png"
    for status in ("DONE", "USER_STOPPED", "ERR_STOPPED"):
        project = _project(tmp_path, {"outputs": [out], "status": status})
        args = ("-project", str(project), "-rqindex", "2", "-s", "0", "-e", "2")
        refused = standin(*args)
        assert refused.returncode == 1, status
        [line] = refused.stdout.splitlines()
        assert line == (
            'aerender ERROR: After Effects error: Can not set "render" when RenderQueueItem '
            "status is RENDERING, STOPPED, or DONE."
        )
        templated = standin(*args, "-RStemplate", "Best Settings")
        assert templated.returncode == 1 and 'Can not call "applyTemplate"' in templated.stdout
        assert not list(tmp_path.glob("A_*.png"))
    for status in ("QUEUED", "UNQUEUED", "NEEDS_OUTPUT", "WILL_CONTINUE"):
        project = _project(tmp_path, {"outputs": [out], "status": status})
        assert (
            standin("-project", str(project), "-rqindex", "2", "-s", "0", "-e", "0").returncode == 0
        )
