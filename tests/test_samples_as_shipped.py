"""The sample exports work as shipped (issue 13): `stmpo submit resources/examples/*.json
--dry-run` validates every one on a fresh clone, where none of the projects they name
exist, and `stmpo run-local SAMPLE --standin` renders each with the aerender stand-in, the `.aep`
included, without writing anything in the repository.

`--standin` re-points the sample the way `stmpo demo` does
(`stmpo.local.demo.write_demo_inputs`: a placeholder project, the stand-in's sidecar,
frames under `--out` or a fresh temporary folder)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from stmpo.cli import main
from stmpo.locations import examples_dir, sample_exports

REPO = Path(__file__).resolve().parents[1]

SHIPPED = sorted(examples_dir().glob("*.json"))
"""What `stmpo submit resources/examples/*.json` takes."""
NEEDS_ITEMS = {"unrenderable_items.json": "3"}
"""`edge_cases/`: nothing in it is preselected, by design (resources/examples/README.md):
alone it is refused naming --items, and it goes through with the one pickable item."""
FEW_ITEMS = {"forty_items.json": "1,40"}
"""Forty one-second local steps would add 40 s to the suite for no new path."""


def test_the_whole_sample_glob_dry_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    code = main(["submit", *map(str, SHIPPED), "--dry-run", "--report", str(report)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    rows = {line.split()[0]: line for line in out.splitlines()[1:-1]}
    assert set(rows) == {p.name for p in SHIPPED}
    failed = {name for name, line in rows.items() if " dry-run " not in line}
    assert failed == set(), out
    assert code == 0, err
    # The missing project is shown as the bundle's warning, not hidden.
    assert "warning: image_sequence.json: project file not found on this computer" in err


@pytest.mark.slow
def test_the_edge_case_sample_asks_for_items(capsys: pytest.CaptureFixture[str]) -> None:
    edge = examples_dir() / "edge_cases" / "unrenderable_items.json"
    assert main(["submit", str(edge), "--dry-run"]) == 2
    out, err = capsys.readouterr()
    assert "--items: no item is checked and QUEUED with an output module: " in out + err, out + err


def run_standin(
    sample: Path, *args: str, out: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`stmpo run-local SAMPLE --standin` as a newcomer types it, in a real process."""
    where = ["--out", str(out)] if out is not None else []
    return subprocess.run(
        [sys.executable, "-m", "stmpo", "run-local", str(sample), "--standin", *where, *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=REPO,
    )


def assert_rendered(
    done: subprocess.CompletedProcess[str], out: Path, items: str | None = None
) -> None:
    """Exit 0, and every frame the selection asks for is on disk under `out/frames`."""
    from stmpo.export.loader import load_export
    from stmpo.local.demo import expected_frames

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "succeeded" in done.stdout + done.stderr
    assert f"frames in {out / 'frames'}" in done.stderr
    assert "hint:" not in done.stderr
    picked = [int(i) for i in items.split(",")] if items else None
    frames = expected_frames(load_export(out / "export.json"), picked)
    assert all(f.is_relative_to(out / "frames") for f in frames)
    assert [f for f in frames if not f.is_file()] == []


#: What other test processes write into the checkout while a test runs (xdist runs two
#: at once): bytecode caches and test tool state, never a render's output.
OTHERS_WRITE = ("__pycache__/", ".hypothesis/", ".pytest_cache/", ".mypy_cache/", ".ruff_cache/")


def repo_status() -> str:
    """The checkout's changed, new and ignored files, less what other tests write."""
    listed = subprocess.run(
        ["git", "status", "--porcelain", "--ignored", "--untracked-files=all"],
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    ).stdout.splitlines()
    return "\n".join(line for line in listed if not any(part in line for part in OTHERS_WRITE))


@pytest.mark.slow
@pytest.mark.parametrize("sample", sample_exports(), ids=[p.name for p in sample_exports()])
def test_each_sample_dry_runs_as_shipped_and_renders_with_the_standin(
    sample: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    items = NEEDS_ITEMS.get(sample.name) or FEW_ITEMS.get(sample.name)
    pick = ["--items", items] if items else []
    assert main(["submit", str(sample), "--dry-run", *pick]) == 0, capsys.readouterr()

    out = tmp_path / "standin"
    done = run_standin(sample, *pick, "-p", "SpawnDelay=0", out=out)
    assert_rendered(done, out, items)


def test_the_sample_aep_renders_with_the_standin_and_nothing_lands_in_the_repo(
    tmp_path: Path,
) -> None:
    """The .aep goes through export-aep's reader, then the same re-pointing; the repo
    (and the sample's own folder) stays as it was, whatever `git status` shows."""
    before = repo_status()
    out = tmp_path / "aep"
    done = run_standin(examples_dir() / "sample_project.aep", "-p", "SpawnDelay=0", out=out)
    assert_rendered(done, out)
    assert (out / "project" / "sample_project.aep.standin.json").is_file()
    assert repo_status() == before


def test_without_out_the_frames_go_to_a_fresh_temporary_folder_it_prints(tmp_path: Path) -> None:
    before = repo_status()
    env_tmp = tmp_path / "tmp"
    env_tmp.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stmpo",
            "run-local",
            str(examples_dir() / "image_sequence.json"),
            "--standin",
            "--frames",
            "1=0-3",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(env_tmp)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    (folder,) = [p for p in env_tmp.iterdir() if p.name.startswith("stmpo-standin-")]
    frames = sorted(p.name for p in (folder / "frames" / "rq1").glob("*.png"))
    assert frames == [f"MAIN_{i:05d}.png" for i in range(4)]
    assert f"frames in {folder / 'frames'}" in done.stderr
    assert repo_status() == before


SAMPLE_ARG = "resources/examples/image_sequence.json"
"""Relative, as typed in a fresh clone (the command runs in the repository)."""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--standin", "-p", "AerenderPath=/opt/ae/aerender"],
            "stmpo run-local: -p AerenderPath: cannot be combined with --standin, which sets it",
        ),
        (
            ["--standin", "-p", "Python=python3"],
            "stmpo run-local: -p Python: cannot be combined with --standin, which sets it",
        ),
        (["--out", "somewhere"], "stmpo run-local: --out: only applies with --standin"),
        (["--standin", "--out", "README.md"], "stmpo run-local: --out: "),
        (["--standin", "--out", "resources"], "is not empty and not a demo folder"),
    ],
)
def test_bad_standin_combinations_exit_2_with_one_line_and_write_nothing(
    args: list[str], message: str
) -> None:
    before = repo_status()
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "run-local", SAMPLE_ARG, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert repo_status() == before


def test_standin_refuses_a_bundle_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "run-local", str(tmp_path), "--standin"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("stmpo run-local: --standin: needs an export JSON or a .aep")
    assert len(done.stderr.splitlines()) == 1


def test_an_unused_temporary_folder_is_removed_when_the_export_cannot_be_bundled(
    tmp_path: Path,
) -> None:
    """The edge case needs --items: exit 2 naming it, and no stray stand-in folder."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stmpo",
            "run-local",
            str(examples_dir() / "edge_cases" / "unrenderable_items.json"),
            "--standin",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 2
    assert "--items: no item is checked and QUEUED with an output module: " in done.stderr
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("stmpo-standin-")] == []


def documented_standin_commands() -> list[tuple[str, str]]:
    """(file, command) for every `stmpo run-local ... --standin` line the READMEs give a
    newcomer in a shell block."""
    found = []
    for doc in (REPO / "README.md", examples_dir() / "README.md", REPO / "docs" / "local-run.md"):
        blocks = re.findall(r"```sh\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
        for block in blocks:
            for line in block.splitlines():
                command = line.split("#", 1)[0].strip()
                if "stmpo run-local" in command and "--standin" in command:
                    found.append((doc.relative_to(REPO).as_posix(), command))
    return found


def test_the_readmes_name_the_standin_command_for_every_kind_of_sample() -> None:
    commands = [command for _doc, command in documented_standin_commands()]
    docs = {doc for doc, _command in documented_standin_commands()}
    assert docs == {"README.md", "resources/examples/README.md", "docs/local-run.md"}
    assert any("sample_project.aep" in c for c in commands)
    assert any("edge_cases/unrenderable_items.json" in c and "--items 3" in c for c in commands)


@pytest.mark.slow
@pytest.mark.parametrize(
    "command",
    sorted({command for _doc, command in documented_standin_commands()}),
)
def test_each_documented_standin_command_renders_on_a_fresh_clone(
    command: str, tmp_path: Path
) -> None:
    """The command exactly as the README prints it (`.venv/bin/stmpo` is this Python's
    `stmpo`), run from the clone: exit 0, frames where it says, the clone untouched."""
    words = shlex.split(command)
    assert words[0] in {".venv/bin/stmpo", "stmpo"}, command
    args = words[1:]
    if "--out" in args:  # a folder outside the temp dir would outlive the test
        args[args.index("--out") + 1] = str(tmp_path / "out")
    before = repo_status()
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", *args],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=REPO,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    shown = re.search(r"frames in (\S+)", done.stderr)
    assert shown is not None, done.stderr[-3000:]
    frames = Path(shown.group(1))
    assert frames.is_relative_to(tmp_path)
    assert [p for p in frames.rglob("*") if p.is_file() and ".stmpo" not in p.parts] != []
    assert repo_status() == before


def test_a_sample_without_aerender_ends_with_the_standin_hint(tmp_path: Path) -> None:
    """What a newcomer types first (no --standin, no After Effects): the run fails at
    preflight, and its last line says the project is not here and gives the command."""
    env = {k: v for k, v in os.environ.items() if k not in {"AERENDER_PATH", "AERENDER_EXECUTABLE"}}
    env["PATH"] = os.path.dirname(sys.executable)  # no aerender on it
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "run-local", SAMPLE_ARG],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
        env={**env, "TMPDIR": str(tmp_path)},
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "aerender not found" in done.stderr
    assert done.stderr.splitlines()[-1] == (
        "stmpo run-local: hint: the project /projects/spot/spot_v012.aep is not on this "
        "computer; to try the export without After Effects, render it with the aerender "
        f"stand-in: stmpo run-local {SAMPLE_ARG} --standin"
    )


def test_demo_takes_any_sample_the_aep_included(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "stmpo",
            "demo",
            "resources/examples/sample_project.aep",
            "--out",
            str(out),
            "--no-baseline",
            "--frame-sec",
            "0",
            "--startup-sec",
            "0.1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "(from resources/examples/sample_project.aep)" in done.stdout
    from stmpo.export.loader import load_export
    from stmpo.local.demo import expected_frames

    frames = expected_frames(load_export(out / "export.json"))
    assert len(frames) == 75  # two comps, 50 + 25 TIFF frames
    assert [f for f in frames if not f.is_file()] == []
    assert "frames   75 of 75" in done.stdout


def test_demo_refuses_a_sample_with_nothing_preselected_before_writing(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    edge = "resources/examples/edge_cases/unrenderable_items.json"
    done = subprocess.run(
        [sys.executable, "-m", "stmpo", "demo", edge, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"stmpo demo: {edge}: has no preselected item for the demo to render; pick items "
        f"with stmpo run-local {edge} --standin --items N"
    ]
    assert not out.exists()
