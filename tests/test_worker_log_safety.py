"""Nothing the worker prints can steer OpenJD: every printer of `stmpo_render.py`
(render, its children's merged log, setup failures, argparse, prepare-outputs, fonts,
remove-fonts) fed hostile text, through the real command line and the aerender
stand-in; and the log merger's memory stays bounded whatever the children print.

OpenJD reads a line starting with `openjd_` as a directive, splits lines at 64,000
characters and, reading in text mode, ends a line at `\\r` too. So every line checked
here is split as OpenJD does and must be short, free of control characters, and
start with `openjd_` only for the worker's own progress, status and fail lines.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from fontgen import write_collection, write_font
from stmpo._worker_scripts.stmpo_worker.childlog import READ_PIECE
from stmpo._worker_scripts.stmpo_worker.logtext import (
    MAX_LINE,
    first_unsafe,
)
from stmpo._worker_scripts.stmpo_worker.outputs import encode_b64_json
from stmpo_worker_harness import (
    FLOOD_ALPHABET,
    FLOOD_CHILD,
    SCRIPT,
    STANDIN,
    Scene,
    base_env,
    make_scene,
    peak_rss_mb,
    render_argv,
    with_peak_rss,
    write_windows_rules,
)

# Every way text can end a line or hide what it says, and a directive after each.
CONTROLS = (
    "\nopenjd_env: AERENDER_PATH=/tmp/evil\ropenjd_fail: r\x85openjd_status: nel"
    "\u2028openjd_progress: 100\u2029\x0b\x0c\x1b[31m\u202eevil\u2066\x7f\x9b"
)
# The same without `/` and NUL, so it can be a file or folder name.
NAME = CONTROLS.replace("/", "_")
# Long enough that OpenJD would split it, with a directive where it would split.
LONG = "L" * 70_000
SPLIT = "S" * 63_990 + "openjd_env: EVIL_SPLIT=1"
HOSTILE = CONTROLS + "\0" + LONG + SPLIT
# What fits in one command-line argument (no NUL, under Linux's 128 KiB an argument).
ARG = CONTROLS + SPLIT
INTENDED = re.compile(r"openjd_(progress|status|fail): ")


def assert_log_safe(raw: bytes | str) -> str:
    """The output as OpenJD would read it: every line bounded, every control character
    escaped, and no directive but the worker's own."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw  # strict: no surrogates
    for line in text.split("\n"):
        assert len(line) <= MAX_LINE, f"a {len(line)}-character line: {line[:80]!r}"
        assert first_unsafe(line) == -1, f"a raw control character in {line[:200]!r}"
        assert not line.startswith("openjd_") or INTENDED.match(line), line[:200]
    return text


def run_bytes(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, env=env, capture_output=True, timeout=120, check=False)


def fail_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if line.startswith("openjd_fail: ")]


# --- render ---------------------------------------------------------------------------


def hostile_scene(tmp_path: Path, faults: str = "") -> Scene:
    """A scene whose output folder, comp name (echoed by the stand-in, as aerender
    echoes it) and output path are hostile; `faults` per the stand-in's sidecar."""
    scene = make_scene(tmp_path, out_parts=(f"out{NAME}",), comp=HOSTILE, sidecar=False)
    item = {"comp": HOSTILE, "outputs": [scene.pattern], "faults": faults}
    Path(f"{scene.project}.standin.json").write_text(
        json.dumps({"frameRate": 25, "items": {"1": item}}), encoding="utf-8"
    )
    return scene


def test_render_prints_hostile_comp_paths_and_child_output_as_safe_lines(
    tmp_path: Path,
) -> None:
    scene = hostile_scene(tmp_path, faults="missing_frame@1")
    item = encode_b64_json(
        {"comp": ARG, "outputs": [{"index": 1, "path": scene.pattern, "kind": "sequence"}]}
    )
    argv = render_argv(scene, "0-3", "--concurrency", "2", item=item)

    done = run_bytes(argv, base_env(scene))

    assert done.returncode == 1, done.stdout[-3000:]
    out = assert_log_safe(done.stdout)
    assert_log_safe(done.stderr)
    # Printed, escaped, not dropped: the comp name, the child's echo of it, the path.
    assert "STMPO: rendering rq item 1 ('\\nopenjd_env: AERENDER_PATH" in out
    assert "[c1 f0-1] PROGRESS:  Output To: " in out and "out\\nopenjd_env: AERENDER_PATH" in out
    # The child's 140,000-character line came in pieces, every one with its prefix.
    child = [line for line in out.split("\n") if line.startswith("[c1 f0-1] ")]
    joined = "".join(line[len("[c1 f0-1] ") :] for line in child)
    assert joined.count(LONG) == 2  # "Starting ..." and "Finished composition"
    assert "openjd_env: EVIL_SPLIT=1" in out  # inside a prefixed piece, not a line start
    # The failure names the hostile path, escaped, in the FAILED line and openjd_fail.
    [fail] = fail_lines(out)
    assert fail.startswith("openjd_fail: aerender failed for frames c1 f0-1: exited 0 but")
    assert "\\nopenjd_env" in fail


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"--aerender-path": "{tmp}/" + NAME}, id="aerender-path"),
        pytest.param({"--path-mapping-rules": "{tmp}/" + NAME}, id="path-mapping-rules"),
        pytest.param({"extra": ARG}, id="unrecognized-argument"),
    ],
)
def test_render_setup_failures_quote_hostile_values_on_one_line(
    tmp_path: Path, change: dict[str, str]
) -> None:
    scene = make_scene(tmp_path)
    argv = render_argv(scene, "0-1")
    for flag, value in change.items():
        value = value.replace("{tmp}", str(tmp_path))
        if flag == "extra":
            argv.append(value)
        else:
            argv[argv.index(flag) + 1] = value

    done = run_bytes(argv, base_env(scene))

    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    out, err = assert_log_safe(done.stdout), assert_log_safe(done.stderr)
    assert len(fail_lines(out)) == 1
    assert "openjd_env" in out + err and "Traceback" not in err


def test_render_warnings_quote_hostile_values_on_one_line(tmp_path: Path) -> None:
    """A hostile NUMA map, a path mapping to a hostile folder, and an aerender that
    exists but cannot be started, all named in warnings and the failure."""
    scene = make_scene(tmp_path)
    mapped = tmp_path / f"mapped{NAME}"
    mapped.mkdir()
    rules = write_windows_rules(tmp_path / "rules.json", mapped)
    blocked = tmp_path / f"aerender{NAME}"
    blocked.write_text("not a program")  # no execute bit: starting it fails
    item = scene.item_b64(path="C:\\renders\\MAIN_[####].png")
    argv = render_argv(scene, "0-1", item=item)
    for flag, value in (
        ("--path-mapping-rules", str(rules)),
        ("--aerender-path", str(blocked)),
    ):
        argv[argv.index(flag) + 1] = value
    argv += ["--numa-map", ARG]

    done = run_bytes(argv, base_env(scene))

    assert done.returncode == 1, done.stdout[-3000:]
    out = assert_log_safe(done.stdout)
    assert "STMPO: warning: NUMA map" in out
    assert f"STMPO: output path mapped: -output {tmp_path}/mapped\\nopenjd_env" in out
    assert "could not start" in out and "aerender\\nopenjd_env" in out
    assert len(fail_lines(out)) == 1


# --- prepare-outputs, fonts, remove-fonts -----------------------------------------------


def worker(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    return run_bytes([sys.executable, str(SCRIPT), *args], env)


def font_env(tmp_path: Path) -> dict[str, str]:
    """Fonts go to a HOME of the test's own (the Linux backend's ~/.local/share/fonts)."""
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DEADLINE_"))}
    env.update(HOME=str(home), PYTHONUTF8="1", AERENDER_PATH=str(STANDIN))  # for the preflight
    return env


def hostile_fonts(folder: Path) -> Path:
    """Fonts whose file names and PostScript names carry directives; a collection whose
    names add up to a line that OpenJD would split just before `openjd_env:`."""
    write_font(folder / f"f{NAME}.ttf", f"Evil{CONTROLS}", family=f"Fam{CONTROLS}")
    head = "font installed: "
    first = "A" * 32_000
    second = "B" * (64_000 - len(head) - len(first) - 2 * len(", "))
    write_collection(folder / "split.ttc", [first, second, "openjd_env: EVIL_TTC=1"])
    return folder


@pytest.mark.skipif(sys.platform != "linux", reason="Linux font backend and file names")
def test_prepare_outputs_fonts_and_remove_fonts_print_hostile_names_safely(
    tmp_path: Path,
) -> None:
    env = font_env(tmp_path)
    made = tmp_path / f"out{NAME}" / "a"
    failing = [f"relative{CONTROLS}", "/" + "d" * 70_000]
    done = worker(
        "prepare-outputs", f"--dirs-b64={encode_b64_json([str(made), *failing])}", env=env
    )
    assert done.returncode == 1
    out = assert_log_safe(done.stdout)
    assert made.is_dir() and "output folder ready: " in out
    assert out.count("STMPO: cannot create output folder") == 2 and len(fail_lines(out)) == 1

    fonts = hostile_fonts(tmp_path / "fonts")
    state = tmp_path / "session" / "fonts.json"
    done = worker(
        "prepare-outputs",
        f"--dirs-b64={encode_b64_json([str(made)])}",
        f"--fonts-dir={fonts}",
        f"--font-state={state}",
        env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    out = assert_log_safe(done.stdout)
    assert_log_safe(done.stderr)
    assert "font installed: Evil\\nopenjd_env: AERENDER_PATH" in out
    assert "(f\\nopenjd_env: AERENDER_PATH" in out
    assert re.search(r"\nfont installed: A{300,}\.\.\.\(\+\d+ chars\)", out)  # cut short

    done = worker("remove-fonts", f"--font-state={state}", env=env)
    assert done.returncode == 0
    out = assert_log_safe(done.stdout)
    assert out.count("font removed: ") == 2 and not state.exists()

    broken = tmp_path / f"state{NAME}.json"
    broken.write_text("{not json" + CONTROLS)
    done = worker("remove-fonts", f"--font-state={broken}", env=env)
    assert done.returncode == 0 and "is unreadable" in assert_log_safe(done.stdout)


# --- a child's pieces ---------------------------------------------------------------------

CUT_CHILD = r"""
import sys, time
cut = int(sys.argv[sys.argv.index("-cut") + 1]) if "-cut" in sys.argv else %d
out = sys.stdout.buffer
out.write(b"y" * (cut - 10) + b"PROGRESS:  0:00:00:01 (1): 0 Seconds\n")
out.flush()
time.sleep(1.5)
out.write(b"x" * (cut - 5) + b"aerender ERROR: After Effects error: cut in two\n")
out.flush()
"""
"""A child whose progress line and error line are each cut by the reader's piece
boundary (`READ_PIECE` bytes) in the middle of the marker."""


def test_markers_cut_by_a_piece_boundary_still_count(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    child = tmp_path / "cut_child.py"
    child.write_text(CUT_CHILD % READ_PIECE)
    argv = render_argv(
        scene, "0-1", "--concurrency", "1", item=encode_b64_json({"comp": "x", "outputs": []})
    )
    argv[argv.index(str(STANDIN))] = str(child)

    done = run_bytes(argv, base_env(scene))

    out = assert_log_safe(done.stdout)
    assert done.returncode == 1, out[-2000:]
    # The frame reported before the error line arrived (progress from a cut piece).
    before_error = out[: out.index("aerender ERROR")]
    assert "openjd_status: 1/2 frames, 1 process" in before_error
    [fail] = fail_lines(out)
    assert "aerender reported an error: " in fail and "cut in two" in fail


CHATTY_CHILD = r"""
import signal, sys
# Fail-fast answers the error line with SIGTERM: this child finishes its log first (as
# aerender finishes a frame), so what reaches the task log does not depend on timing.
signal.signal(signal.SIGTERM, signal.SIG_IGN)
out = sys.stdout
for n in range(1, 3001):
    out.write(f"line {n} of a chatty child\n")
    if n % 1000 == 0:
        out.write(f"PROGRESS:  0:00:00:{n // 1000:02d} ({n // 1000}): 0 Seconds\n")
    if n == 1500:
        out.write("hostile \x1b[2J\x85openjd_env: A=1\u2028openjd_fail: x\u202e\n")
    if n == 2500:
        out.write("aerender ERROR: After Effects error: in the middle of a chatty log\n")
out.flush()
"""
"""A child that prints thousands of short lines at once (many lines a read), with frame
lines, hostile lines and an error line among them."""


def test_a_chatty_childs_lines_all_come_out_in_order_and_still_count(tmp_path: Path) -> None:
    scene = make_scene(tmp_path)
    child = tmp_path / "chatty.py"
    child.write_text(CHATTY_CHILD)
    argv = render_argv(
        scene, "0-2", "--concurrency", "1", item=encode_b64_json({"comp": "x", "outputs": []})
    )
    argv[argv.index(str(STANDIN))] = str(child)

    done = run_bytes(argv, base_env(scene))

    out = assert_log_safe(done.stdout)
    assert done.returncode == 1, out[-2000:]
    numbered = [line for line in out.split("\n") if line.startswith("[c1 f0-2] line ")]
    assert numbered == [f"[c1 f0-2] line {n} of a chatty child" for n in range(1, 3001)]
    assert "[c1 f0-2] hostile \\x1b[2J\\x85openjd_env: A=1\\u2028openjd_fail: x\\u202e" in out
    assert "openjd_status: 3/3 frames" in out  # every frame line counted
    [fail] = fail_lines(out)
    assert "aerender reported an error: aerender ERROR: After Effects error: in the middle" in fail


def _python39() -> str | None:
    """The oldest Python the worker supports, when this machine has it (pyenv)."""
    found = sorted(Path.home().glob(".pyenv/versions/3.9*/bin/python"))
    return str(found[-1]) if found else shutil.which("python3.9")


@pytest.mark.skipif(_python39() is None, reason="no Python 3.9 on this machine")
def test_the_merger_and_its_escaping_run_on_python_3_9(tmp_path: Path) -> None:
    """The worker runs on whatever Python the farm has, down to 3.9 (no zip(strict=),
    no match, no `X | Y` at runtime); the chatty child runs on it too."""
    scene = make_scene(tmp_path)
    child = tmp_path / "chatty.py"
    child.write_text(CHATTY_CHILD)
    item = encode_b64_json({"comp": ARG, "outputs": []})
    argv = render_argv(scene, "0-2", "--concurrency", "1", "--disable-affinity", "true", item=item)
    argv[0] = str(_python39())
    argv[argv.index(str(STANDIN))] = str(child)

    done = run_bytes(argv, base_env(scene))

    assert b"Traceback" not in done.stderr, done.stderr.decode()[-2000:]
    out = assert_log_safe(done.stdout)
    assert_log_safe(done.stderr)
    assert done.returncode == 1, out[-2000:]
    assert "[c1 f0-2] line 3000 of a chatty child" in out
    [fail] = fail_lines(out)
    assert "aerender reported an error: aerender ERROR: After Effects error: in the middle" in fail


# --- the merger's memory ----------------------------------------------------------------


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux VmHWM")
@pytest.mark.parametrize(
    ("line", "megabytes"),
    [pytest.param(0, 24, id="no-newline"), pytest.param(100, 16, id="100-byte-lines")],
)
def test_log_merger_memory_stays_bounded_and_loses_nothing(
    tmp_path: Path, line: int, megabytes: int
) -> None:
    """Two children print as fast as they can while the reader of the task log waits a
    second: the orchestrator must make them wait (back-pressure), not buffer what they
    print; and every byte must come out, in order, in its own child's lines."""
    scene = make_scene(tmp_path)
    child = tmp_path / "flood.py"
    child.write_text(FLOOD_CHILD)
    each = megabytes * 1024 * 1024
    argv = render_argv(
        scene, "0-1", "--concurrency", "2", item=encode_b64_json({"comp": "x", "outputs": []})
    )
    argv[argv.index(str(STANDIN))] = str(child)
    env = base_env(scene, FLOOD_BYTES=str(each), FLOOD_LINE=str(line))
    proc = subprocess.Popen(
        with_peak_rss(argv), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stderr is not None
    err: list[bytes] = []
    drain_err = threading.Thread(target=lambda: err.append(proc.stderr.read()))  # type: ignore[union-attr]
    drain_err.start()
    time.sleep(1.0)  # a slow task log: the children outpace it
    out = proc.stdout.read()
    assert proc.wait(timeout=120) == 0, out[-2000:]
    drain_err.join()

    peak = peak_rss_mb(err[0].decode())
    assert peak < 45, f"orchestrator peak RSS {peak:.1f} MB for {2 * megabytes} MB printed"
    text = out.decode("utf-8")
    received: dict[str, list[str]] = {"[c1 f0-0] ": [], "[c2 f1-1] ": []}
    for printed in text.split("\n"):
        assert len(printed) <= MAX_LINE
        for prefix, pieces in received.items():
            if printed.startswith(prefix):
                pieces.append(printed[len(prefix) :])
    for n, (prefix, pieces) in enumerate(received.items()):
        letter = FLOOD_ALPHABET[n]
        if line == 0:  # pieces of one endless line
            assert "".join(pieces) == letter * each, f"{prefix}: lost, reordered or mixed"
        else:
            sent = ((letter * (line - 1) + "\n") * (each // line + 1))[:each]
            assert "\n".join(pieces) == sent.rstrip("\n"), f"{prefix}: lost, reordered or mixed"
