"""Every command as a process: Ctrl+C at any moment exits 130 with one line on stderr
and no traceback; a stdout that cannot encode the text (cp1252, ascii, redirected)
never crashes one. Covers `stmpo`, `stmpo-submitter`, the worker's commands and the
aerender stand-in, each started the way a user or the job template starts it.

"At any moment" is made deterministic without hooks in the product: a module the
command imports is shadowed on PYTHONPATH by one that says "ready", sleeps, then turns
into the real module, so the interrupt lands mid-import; "mid-work" waits inside a
real external step (fc-cache, a FIFO being read, a hung render, an idle window).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fontgen import write_font
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo.locations import aerender_standin, examples_dir, worker_scripts_dir

BIN = Path(sys.executable).parent
WORKER = worker_scripts_dir() / "stmpo_render.py"
STANDIN = aerender_standin()

PAUSE = """\
import importlib, os, sys, time
open(os.environ["STMPO_TEST_READY"], "w").close()
time.sleep(1.0)  # a slow import: the interrupt lands here
# Then become the real module, as if its import had only been slow.
here = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
del sys.modules[__name__]
sys.modules[__name__] = importlib.import_module(__name__)
"""


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("STANDIN_", "DEADLINE_", "XDG_", "PYTHON"))
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env.update(HOME=str(home), QT_QPA_PLATFORM="offscreen", **extra)
    return env


def interrupt(
    argv: list[str], env: dict[str, str], ready: Path, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Start `argv`, wait until `ready` exists, send SIGINT to that process only."""
    proc = subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + timeout
        while not ready.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                out, err = proc.communicate()
                raise AssertionError(f"never got ready (exit {proc.returncode}):\n{out}\n{err}")
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return subprocess.CompletedProcess(argv, proc.returncode, out, err)


def assert_interrupted(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert result.returncode == 130, result.stdout + result.stderr
    assert result.stderr.splitlines() == [line], result.stderr
    assert "Traceback" not in result.stdout + result.stderr


def sample_export(tmp_path: Path, name: str = "several_items.json") -> Path:
    target = tmp_path / name
    shutil.copy(examples_dir() / name, target)
    return target


# --- Ctrl+C while the command's own modules are still being imported -----------------

IMPORT_CASES = {
    "stmpo": ("argparse", lambda t: [str(BIN / "stmpo"), "validate-export", "x.json"], "stmpo"),
    "python -m stmpo": (
        "argparse",
        lambda t: [sys.executable, "-m", "stmpo", "schema"],
        "stmpo",
    ),
    "stmpo-submitter": (
        "argparse",
        lambda t: [str(BIN / "stmpo-submitter"), "x.json"],
        "stmpo-submitter",
    ),
    "worker": (
        "argparse",
        lambda t: [sys.executable, str(WORKER), "remove-fonts", "--font-state=x.json"],
        "stmpo_render.py",
    ),
    "aerender stand-in": ("json", lambda t: [sys.executable, str(STANDIN), "-version"], "aerender"),
}


@pytest.mark.parametrize("case", list(IMPORT_CASES))
def test_ctrl_c_during_start_up_imports_exits_130_with_one_line(tmp_path: Path, case: str) -> None:
    module, argv, prog = IMPORT_CASES[case]
    shadow = tmp_path / "shadow"
    shadow.mkdir()
    (shadow / f"{module}.py").write_text(PAUSE, encoding="utf-8")
    ready = tmp_path / "ready"
    env = clean_env(tmp_path, PYTHONPATH=str(shadow), STMPO_TEST_READY=str(ready))
    result = interrupt(argv(tmp_path), env, ready)
    assert_interrupted(result, f"{prog}: interrupted")


# --- Ctrl+C in the middle of the work ---------------------------------------------------


def test_ctrl_c_while_the_worker_installs_fonts(tmp_path: Path) -> None:
    """Interrupted inside `fc-cache` (a stand-in that waits): the worker's own line on
    stderr and the reason for the task log, exit 130."""
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    ready = tmp_path / "ready"
    fc_cache = fake_bin / "fc-cache"
    fc_cache.write_text(f"#!/bin/sh\ntouch '{ready}'\nexec sleep 60\n", encoding="utf-8")
    fc_cache.chmod(0o755)
    fonts = tmp_path / "bundle" / "fonts"
    write_font(fonts / "Wait-Bold.ttf", "Wait-Bold")
    env = clean_env(tmp_path, PATH=f"{fake_bin}{os.pathsep}{os.environ['PATH']}")
    argv = [
        sys.executable,
        str(WORKER),
        "prepare-outputs",
        f"--dirs-b64={encode_b64_json([])}",
        f"--aerender-path={STANDIN}",  # the preflight needs an aerender
        f"--fonts-dir={fonts}",
        f"--font-state={tmp_path / 'session' / 'fonts.json'}",
    ]
    result = interrupt(argv, env, ready)
    assert_interrupted(result, "stmpo_render.py: interrupted")
    assert "openjd_fail: interrupted (Ctrl+C)" in result.stdout.splitlines()


def test_ctrl_c_while_the_submitter_reads_its_export(tmp_path: Path) -> None:
    """A FIFO as the export: the submitter waits in the read, as on a slow share.

    Opening the write end without blocking succeeds only once the submitter has opened
    the read end, that is, past every import and the QApplication; holding it open
    without writing keeps the submitter waiting in read() for the interrupt."""
    fifo = tmp_path / "slow_share.json"
    os.mkfifo(fifo)
    proc = subprocess.Popen(
        [str(BIN / "stmpo-submitter"), str(fifo)],
        env=clean_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    writer = -1
    try:
        deadline = time.monotonic() + 60
        while writer < 0:
            try:
                writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: no reader yet
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "the submitter never opened its export"
                time.sleep(0.05)
        time.sleep(0.2)  # from open() into read()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if writer >= 0:
            os.close(writer)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_interrupted(result, "stmpo-submitter: interrupted")


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_while_the_submitter_window_is_open(tmp_path: Path) -> None:
    """Once the window is up, Qt's loop runs in C++: Ctrl+C must still end it.

    The window is taken as up when the process has gone idle (its CPU time stops
    growing); an interrupt that came earlier would be a start-up one, also 130."""
    env = clean_env(tmp_path)
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    home = Path(env["HOME"])
    (home / ".deadline").mkdir()
    (home / ".aws").mkdir()
    env.update(
        AWS_CONFIG_FILE=str(home / ".aws" / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / ".aws" / "credentials"),
        DEADLINE_CONFIG_FILE_PATH=str(home / ".deadline" / "config"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    proc = subprocess.Popen(
        [str(BIN / "stmpo-submitter"), str(sample_export(tmp_path))],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        last, quiet_since = -1, time.monotonic()
        while time.monotonic() - quiet_since < 1.0:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the submitter never went idle"
            ticks = _cpu_ticks(proc.pid)
            if ticks != last:
                last, quiet_since = ticks, time.monotonic()
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert_interrupted(result, "stmpo-submitter: interrupted")


def test_ctrl_c_while_the_stand_in_renders(tmp_path: Path) -> None:
    trace = tmp_path / "trace.jsonl"
    env = clean_env(tmp_path, STANDIN_FAIL="hang@3", STANDIN_TRACE=str(trace))
    argv = [sys.executable, str(STANDIN), "-output", str(tmp_path / "f_[###].png")]
    result = interrupt([*argv, "-s", "1", "-e", "5"], env, trace)
    assert_interrupted(result, "aerender: interrupted")


# --- stdout that cannot encode the text -------------------------------------------------

ENCODINGS = ["cp1252", "ascii"]


def run_redirected(argv: list[str], env: dict[str, str], tmp_path: Path) -> tuple[int, str, str]:
    """Run with stdout redirected to a file, as a log redirect or a service does."""
    out_file = tmp_path / "stdout.txt"
    with open(out_file, "wb") as out:
        done = subprocess.run(
            argv, env=env, stdout=out, stderr=subprocess.PIPE, timeout=120, check=False
        )
    err = done.stderr.decode("utf-8", "replace")
    return done.returncode, out_file.read_bytes().decode("utf-8", "replace"), err


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_stmpo_prints_a_cjk_file_name_on_a_cp1252_stdout(tmp_path: Path, encoding: str) -> None:
    export = sample_export(tmp_path)
    cjk = export.rename(tmp_path / "日本の広告 ✨.json")
    env = clean_env(tmp_path, PYTHONIOENCODING=encoding)
    code, out, err = run_redirected(
        [str(BIN / "stmpo"), "validate-export", str(cjk)], env, tmp_path
    )
    assert code == 0, out + err
    assert "Traceback" not in err
    assert ": OK, " in out


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_worker_bad_argument_with_cjk_text_on_a_cp1252_stdout(
    tmp_path: Path, encoding: str
) -> None:
    env = clean_env(tmp_path, PYTHONIOENCODING=encoding)
    argv = [sys.executable, str(WORKER), "render", "--project=p.aep", "--rqindex=1"]
    code, out, err = run_redirected([*argv, "--frames=日本-✨"], env, tmp_path)
    assert code == 2, out + err
    assert "Traceback" not in err
    assert out.startswith("openjd_fail: ") and "--frames" in out


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_stand_in_renders_a_cjk_comp_on_a_cp1252_stdout(tmp_path: Path, encoding: str) -> None:
    env = clean_env(tmp_path, PYTHONIOENCODING=encoding)
    pattern = str(tmp_path / "f_[###].png")
    argv = [sys.executable, str(STANDIN), "-comp", "広告 ✨", "-output", pattern, "-s", "1"]
    code, out, err = run_redirected([*argv, "-e", "2"], env, tmp_path)
    assert code == 0, out + err
    assert "Traceback" not in err
    assert (tmp_path / "f_002.png").is_file()
    assert "Finished composition" in out


def test_worker_output_stays_utf8_whatever_the_console_says(tmp_path: Path) -> None:
    """The worker agent reads UTF-8: a comp name reaches the task log intact."""
    project = tmp_path / "p.aep"
    project.write_bytes(b"x")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    pattern = str(out_dir / "f_[###].png")
    Path(f"{project}.standin.json").write_text(
        json.dumps({"items": {"1": {"comp": "広告 ✨", "outputs": [pattern]}}}), encoding="utf-8"
    )
    item = encode_b64_json({"comp": "広告 ✨", "outputs": [{"index": 1, "path": pattern}]})
    env = clean_env(tmp_path, PYTHONIOENCODING="cp1252")
    argv = [sys.executable, str(WORKER), "render", f"--project={project}", "--rqindex=1"]
    argv += ["--frames=1-2", f"--item-b64={item}", f"--aerender-path={STANDIN}"]
    code, out, err = run_redirected([*argv, "--spawn-delay=0"], env, tmp_path)
    assert code == 0, out + err
    assert "Traceback" not in err
    assert "広告" in out
