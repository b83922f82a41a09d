"""`stmpo cache-status` and `stmpo cache-archive` through the CLI main, with
`resources/lfs_standin.py` as `--lfs` (docs/file-cache.md)."""

from __future__ import annotations

import io
import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from stmpo.cli import main
from stmpo.locations import resources_dir

LFS = shlex.join([sys.executable, str(resources_dir() / "lfs_standin.py")])


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder: two archived frames, one re-rendered since (dirty), one never
    archived, one released; the stand-in archives after 0.3 s."""
    root = tmp_path / "cache" / "show"
    (root / "out").mkdir(parents=True)
    for name in ("a.png", "b.png", "dirty.png", "new.png", "gone.png"):
        (root / "out" / name).write_text(name, encoding="utf-8")
    monkeypatch.setenv("LFS_STANDIN_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("LFS_STANDIN_LOG", str(tmp_path / "log.jsonl"))
    monkeypatch.setenv("LFS_STANDIN_DELAY_SEC", "0")
    archived = [str(root / "out" / n) for n in ("a.png", "b.png", "dirty.png", "gone.png")]
    for command in (["hsm_archive", *archived], ["hsm_release", archived[-1]]):
        subprocess.run(shlex.split(LFS) + command, check=True)
    (root / "out" / "dirty.png").write_text("rendered again", encoding="utf-8")
    monkeypatch.setenv("LFS_STANDIN_DELAY_SEC", "0.3")
    return root


def archive_calls(tmp_path: Path) -> list[list[str]]:
    lines = (tmp_path / "log.jsonl").read_text("utf-8").splitlines()
    records = [json.loads(line)["args"] for line in lines]
    return [args[1:] for args in records if args[0] == "hsm_archive"]


def test_status_counts_and_lists_dirty_and_unarchived(
    cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cache-status", str(cache), "--lfs", LFS])

    out, err = capsys.readouterr()
    assert code == 0, err
    assert "5 files: 3 archived, 1 dirty, 1 not archived, 1 released" in out
    assert f"dirty: {cache / 'out' / 'dirty.png'}" in out
    assert f"not archived: {cache / 'out' / 'new.png'}" in out
    assert "a.png" not in out
    assert "hsm_state: 5/5 files" in err  # not a terminal: plain progress lines


def test_status_json_is_one_document(cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cache-status", str(cache), "--json", "--lfs", LFS]) == 0

    document = json.loads(capsys.readouterr().out)
    assert document["counts"] == {
        "files": 5,
        "archived": 3,
        "dirty": 1,
        "not_archived": 1,
        "released": 1,
        "missing": 0,
    }
    assert document["dirty"] == [str(cache / "out" / "dirty.png")]
    assert document["not_archived"] == [str(cache / "out" / "new.png")]


def test_archive_archives_what_remains_and_waits(
    cache: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["cache-archive", str(cache), "--lfs", LFS])

    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert archive_calls(tmp_path)[-1] == [
        str(cache / "out" / "dirty.png"),
        str(cache / "out" / "new.png"),
    ]
    assert "archived 2/2 in" in out and "0 remaining" in out
    assert main(["cache-status", str(cache), "--json", "--lfs", LFS]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["archived"] == 5


def test_archive_that_does_not_complete_exits_1_naming_what_remains(
    cache: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LFS_STANDIN_FAIL", "archive-never:*new.png")

    code = main(["cache-archive", str(cache), "--timeout", "1", "--lfs", LFS])

    out, _ = capsys.readouterr()
    assert code == 1
    assert "archived 1/2" in out and "1 remaining" in out
    assert f"remaining (not archived): {cache / 'out' / 'new.png'}" in out


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["cache-status", "relative/path"], "PATH relative/path: not an absolute path"),
        (["cache-status", "/no/such/stmpo/cache"], "PATH /no/such/stmpo/cache: not found"),
        (["cache-archive", "{root}", "--timeout", "0"], "--timeout 0: expected seconds"),
        (["cache-archive", "{root}", "--timeout", "nan"], "--timeout nan: expected seconds"),
        (["cache-status", "{root}", "--lfs", "/no/such/lfs"], "--lfs /no/such/lfs: "),
    ],
)
def test_bad_arguments_exit_2_naming_them(
    cache: Path, capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    argv = [a.replace("{root}", str(cache)) for a in argv]

    code = main(argv) if "--lfs" in argv else main([*argv, "--lfs", LFS])

    _, err = capsys.readouterr()
    assert code == 2
    assert named in err
    assert "Traceback" not in err


def test_progress_is_a_bar_on_a_terminal_and_plain_lines_otherwise() -> None:
    from stmpo.commands.cache import Progress

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    now = [0.0]
    tty, plain = Terminal(), io.StringIO()
    bar, lines = (
        Progress(tty, "hsm_state", lambda: now[0]),
        Progress(plain, "hsm_state", lambda: now[0]),
    )
    for done in (0, 500, 1000):
        bar(done, 1000)
        lines(done, 1000)
        now[0] += 1.0
    assert tty.getvalue().endswith("\rhsm_state [" + "#" * 30 + "] 1000/1000\n")
    assert "\rhsm_state [" + "#" * 15 + "." * 15 + "] 500/1000" in tty.getvalue()
    assert plain.getvalue() == "hsm_state: 0/1000 files\nhsm_state: 1000/1000 files\n"
