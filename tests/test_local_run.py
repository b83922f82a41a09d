"""`stmpo run-local` end to end: real `stmpo` processes driving real openjd-sessions
sessions over small hand-written job bundles, so the runner is proven on any template,
not only on the ones our builder writes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import pytest
import yaml
from stmpo.local.progress import Console, render_bar
from stmpo.local.runner import ActionRef, ProgressEvent

PY = sys.executable


def make_bundle(
    root: Path, template: dict[str, Any], values: list[dict[str, Any]] | None = None
) -> Path:
    bundle = root / "bundle"
    bundle.mkdir(parents=True)
    (bundle / "template.yaml").write_text(yaml.safe_dump(template, sort_keys=False))
    if values is not None:
        (bundle / "parameter_values.yaml").write_text(yaml.safe_dump({"parameterValues": values}))
    return bundle


def stmpo(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PY, "-m", "stmpo", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


def session_root(stdout: str) -> Path:
    """The temp folder the session's working directory was made in (named in the log)."""
    line = next(x for x in stdout.splitlines() if "session directory" in x)
    return Path(line.split("session directory ", 1)[1]).parent


def journal_action(line: str) -> dict[str, Any]:
    """An action that appends `line` to the job's journal file (a PATH parameter)."""
    code = "import sys; open(sys.argv[1], 'a').write(sys.argv[2] + '\\n'); print(sys.argv[2])"
    return {"command": PY, "args": ["-c", code, "{{Param.Journal}}", line]}


JOURNAL_PARAM = {"name": "Journal", "type": "PATH", "default": "journal.txt"}


def two_step_job() -> dict[str, Any]:
    """Job environment, a 3-task step, and a dependent step with its own environment.

    The dependent step is listed first: only dependency order may put it second.
    """
    task_code = (
        "import os, sys\n"
        "for p in (0, 50, 100):\n"
        "    print(f'openjd_progress: {p}', flush=True)\n"
        "open(sys.argv[1], 'a').write(f'task {sys.argv[2]} FOO={os.environ[\"FOO\"]}\\n')\n"
        "print('rendered', sys.argv[2])\n"
    )
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Two steps",
        "parameterDefinitions": [JOURNAL_PARAM, {"name": "Count", "type": "INT", "default": 3}],
        "jobEnvironments": [
            {
                "name": "JobEnv",
                "script": {
                    "actions": {
                        "onEnter": {
                            "command": PY,
                            "args": [
                                "-c",
                                "import sys; open(sys.argv[1], 'a').write('enter job\\n');"
                                " print('openjd_env: FOO=from-env')",
                                "{{Param.Journal}}",
                            ],
                        },
                        "onExit": journal_action("exit job"),
                    }
                },
            }
        ],
        "steps": [
            {
                "name": "Second",
                "dependencies": [{"dependsOn": "First"}],
                "stepEnvironments": [
                    {
                        "name": "StepEnv",
                        "script": {
                            "actions": {
                                "onEnter": journal_action("enter step"),
                                "onExit": journal_action("exit step"),
                            }
                        },
                    }
                ],
                "script": {"actions": {"onRun": journal_action("second")}},
            },
            {
                "name": "First",
                "parameterSpace": {
                    "taskParameterDefinitions": [
                        {"name": "N", "type": "INT", "range": "1-{{Param.Count}}"}
                    ]
                },
                "script": {
                    "actions": {
                        "onRun": {
                            "command": PY,
                            "args": ["-c", task_code, "{{Param.Journal}}", "{{Task.Param.N}}"],
                        }
                    }
                },
            },
        ],
    }


def test_runs_environments_steps_and_tasks_in_order(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path, two_step_job())
    done = stmpo("run-local", bundle)
    assert done.returncode == 0, done.stderr
    journal = (bundle / "journal.txt").read_text().splitlines()
    assert journal == [
        "enter job",
        "task 1 FOO=from-env",
        "task 2 FOO=from-env",
        "task 3 FOO=from-env",
        "enter step",
        "second",
        "exit step",
        "exit job",
    ]
    # The actions' output is on stdout, the progress (plain lines: not a TTY) on stderr.
    assert "rendered 2" in done.stdout
    assert "openjd_progress" not in done.stdout
    assert "task 2/4 | step First 2/3 | N=2: 50%" in done.stderr
    assert "task 4/4 | step Second 1/1: done" in done.stderr
    assert "succeeded: 4/4 tasks" in done.stderr
    assert not session_root(done.stdout).exists()


def failing_job() -> dict[str, Any]:
    code = (
        "import sys\n"
        "n = int(sys.argv[2])\n"
        "open(sys.argv[1], 'a').write(f'task {n}\\n')\n"
        "if n == 2:\n"
        "    print('openjd_fail: frame 2 is broken', flush=True)\n"
        "    sys.exit(3)\n"
    )
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Fails",
        "parameterDefinitions": [JOURNAL_PARAM],
        "jobEnvironments": [
            {"name": "Env", "script": {"actions": {"onExit": journal_action("exit job")}}}
        ],
        "steps": [
            {
                "name": "Render",
                "parameterSpace": {
                    "taskParameterDefinitions": [{"name": "N", "type": "INT", "range": "1-3"}]
                },
                "script": {
                    "actions": {
                        "onRun": {
                            "command": PY,
                            "args": ["-c", code, "{{Param.Journal}}", "{{Task.Param.N}}"],
                        }
                    }
                },
            },
            {
                "name": "After",
                "dependencies": [{"dependsOn": "Render"}],
                "script": {"actions": {"onRun": journal_action("after")}},
            },
        ],
    }


def test_failed_task_stops_the_job_and_exits_1(tmp_path: Path) -> None:
    bundle = make_bundle(tmp_path, failing_job())
    done = stmpo("run-local", bundle)
    assert done.returncode == 1, done.stderr
    assert "FAILED at step 'Render' task 2/3 (N=2): frame 2 is broken" in done.stderr
    assert "later tasks were not run (1/4 tasks succeeded)" in done.stderr
    assert "Traceback" not in done.stderr
    # Task 3 and the dependent step never ran; the environment was still exited.
    assert (bundle / "journal.txt").read_text().splitlines() == ["task 1", "task 2", "exit job"]
    assert not session_root(done.stdout).exists()


def test_failed_environment_enter_runs_no_task_and_still_exits(tmp_path: Path) -> None:
    fail = {
        "command": PY,
        "args": ["-c", "import sys; print('openjd_fail: no license'); sys.exit(2)"],
    }
    template = {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Enter fails",
        "parameterDefinitions": [JOURNAL_PARAM],
        "jobEnvironments": [
            {"name": "JobEnv", "script": {"actions": {"onExit": journal_action("exit job")}}}
        ],
        "steps": [
            {
                "name": "S",
                "stepEnvironments": [
                    {
                        "name": "StepEnv",
                        "script": {
                            "actions": {"onEnter": fail, "onExit": journal_action("exit step")}
                        },
                    }
                ],
                "script": {"actions": {"onRun": journal_action("task")}},
            }
        ],
    }
    bundle = make_bundle(tmp_path, template)
    done = stmpo("run-local", bundle)
    assert done.returncode == 1
    assert "FAILED at entering environment 'StepEnv' of step 'S': no license" in done.stderr
    assert (bundle / "journal.txt").read_text().splitlines() == ["exit step", "exit job"]


TREE = """
import os, subprocess, sys, time
pidfile = sys.argv[1]
holder = [sys.executable, "-c",
          "import subprocess, sys, time; "
          "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); "
          "print(p.pid, flush=True); time.sleep(600)"]
child = subprocess.Popen(holder, stdout=subprocess.PIPE, text=True)
# This one leaves the action's session and process group: openjd cannot signal it.
escaped = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                           start_new_session=True)
grandchild = child.stdout.readline().strip()
with open(pidfile + ".tmp", "w") as f:
    f.write("\\n".join([str(os.getpid()), str(child.pid), str(escaped.pid), grandchild]))
os.replace(pidfile + ".tmp", pidfile)
print("tree started", flush=True)
time.sleep(600)
"""


def sleeping_tree_job() -> dict[str, Any]:
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Cancel me",
        "parameterDefinitions": [JOURNAL_PARAM, {"name": "PidFile", "type": "STRING"}],
        "jobEnvironments": [
            {"name": "Env", "script": {"actions": {"onExit": journal_action("exit job")}}}
        ],
        "steps": [
            {
                "name": "Sleep",
                "parameterSpace": {
                    "taskParameterDefinitions": [{"name": "N", "type": "INT", "range": "1-2"}]
                },
                "script": {
                    "embeddedFiles": [
                        {"name": "tree", "type": "TEXT", "filename": "tree.py", "data": TREE}
                    ],
                    "actions": {
                        "onRun": {
                            "command": PY,
                            "args": ["{{Task.File.tree}}", "{{Param.PidFile}}"],
                            "cancelation": {
                                "mode": "NOTIFY_THEN_TERMINATE",
                                "notifyPeriodInSeconds": 60,
                            },
                        }
                    },
                },
            }
        ],
    }


def _wait_for(predicate: Any, what: str, limit: float = 60.0) -> None:
    deadline = time.monotonic() + limit
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.1)


def _running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_cancel_stops_every_descendant(tmp_path: Path, sig: int, code: int) -> None:
    bundle = make_bundle(tmp_path, sleeping_tree_job())
    pidfile = tmp_path / "pids"
    proc = subprocess.Popen(
        [PY, "-m", "stmpo", "run-local", str(bundle), "-p", f"PidFile={pidfile}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(pidfile.exists, "the task's process tree")
        pids = [int(x) for x in pidfile.read_text().split()]
        assert len(pids) == 4 and all(_running(p) for p in pids)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert "canceled during step 'Sleep' task 1/2 (N=1)" in err
    for pid in pids:
        _wait_for(lambda pid=pid: not _running(pid), f"process {pid} to go away", limit=10)
    # The job environment was exited after the cancel, the second task never started.
    assert (bundle / "journal.txt").read_text().splitlines() == ["exit job"]
    assert "tree started" in out
    assert not session_root(out).exists()


def layered_job() -> dict[str, Any]:
    code = "import sys; print('VALUES', *sys.argv[1:])"
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Layers {{Param.C}}",
        "parameterDefinitions": [
            {"name": "A", "type": "STRING", "default": "a-default"},
            {"name": "B", "type": "STRING", "default": "b-default"},
            {"name": "C", "type": "STRING", "default": "c-default"},
            {"name": "Count", "type": "INT", "default": 1, "minValue": 1},
            {"name": "Offset", "type": "INT", "default": 0, "minValue": 0},
            {"name": "Project", "type": "PATH"},
        ],
        "steps": [
            {
                "name": "Show",
                "script": {
                    "actions": {
                        "onRun": {
                            "command": PY,
                            "args": [
                                "-c",
                                code,
                                "{{Param.A}}",
                                "{{Param.B}}",
                                "{{Param.C}}",
                                "{{Param.Project}}",
                            ],
                        }
                    }
                },
            }
        ],
    }


def test_parameter_values_layer_defaults_file_then_p(tmp_path: Path) -> None:
    bundle = make_bundle(
        tmp_path,
        layered_job(),
        values=[
            {"name": "B", "value": "b-file"},
            {"name": "C", "value": "c-file"},
            {"name": "Project", "value": "scenes/shot.aep"},
            {"name": "deadline:priority", "value": 50},
        ],
    )
    log = tmp_path / "logs" / "job.log"
    done = stmpo("run-local", bundle, "-p", "C=c-cli", "--log", log, "--keep-session-dir")
    assert done.returncode == 0, done.stderr
    project = (bundle / "scenes" / "shot.aep").resolve()
    assert f"VALUES a-default b-file c-cli {project}" in log.read_text()
    assert "VALUES" not in done.stdout
    assert "job 'Layers c-cli' succeeded" in done.stderr
    kept = next(x for x in done.stderr.splitlines() if "session directory kept:" in x)
    session_dir = Path(kept.split("kept: ", 1)[1])
    assert session_dir.is_dir()
    shutil.rmtree(session_dir.parent)  # the stmpo-run-local-* root it was kept in


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (["-p", "Nope=1"], "-p Nope: no such job parameter"),
        (["-p", "Count=0"], "-p Count: Count must be at least 1, got 0"),
        (["-p", "Offset=-1"], "-p Offset: Offset must be at least 0, got -1"),
        (["-p", "Count=many"], "-p Count: "),
        (["-p", "C"], "-p C: expected Name=Value"),
        (["-p", "Project="], "-p Project: "),
    ],
)
def test_bad_parameter_exits_2_naming_it(tmp_path: Path, args: list[str], where: str) -> None:
    bundle = make_bundle(tmp_path, layered_job(), values=[{"name": "Project", "value": "x"}])
    if args == ["-p", "Project="]:
        (bundle / "parameter_values.yaml").unlink()  # a required PATH with no value at all
        args = []
        where = "Project"
    done = stmpo("run-local", bundle, *args)
    assert done.returncode == 2
    assert where in done.stderr
    assert "Traceback" not in done.stderr
    assert "VALUES" not in done.stdout


def test_not_a_bundle_exits_2(tmp_path: Path) -> None:
    done = stmpo("run-local", tmp_path)
    assert done.returncode == 2
    assert "no template.yaml or template.json" in done.stderr


@pytest.mark.parametrize("name", ["template.yaml", "parameter_values.yaml"])
def test_a_bundle_file_that_is_not_utf8_is_named(tmp_path: Path, name: str) -> None:
    from stmpo.local.parameters import LocalRunError, read_bundle

    bundle = make_bundle(tmp_path, layered_job(), values=[{"name": "Project", "value": "x"}])
    (bundle / name).write_bytes(b"name: \xff\xfe\n")
    with pytest.raises(LocalRunError) as caught:
        read_bundle(bundle)
    assert caught.value.problems[0].where == str(bundle / name)
    assert caught.value.problems[0].message.startswith("not UTF-8 text")


def test_progress_is_a_redrawn_bar_on_a_terminal(tmp_path: Path) -> None:
    import pty

    bundle = make_bundle(tmp_path, two_step_job())
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [PY, "-m", "stmpo", "run-local", str(bundle)],
        stdout=subprocess.PIPE,
        stderr=slave,
        text=True,
    )
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    out, _ = proc.communicate(timeout=300)
    assert proc.returncode == 0
    text = shown.decode()
    assert "\rtask 2/4 | step First 2/3 | N=2 [" in text  # the bar, redrawn in place
    assert "task 2/4 | step First 2/3 | N=2: done in" in text  # the line that stays
    assert "rendered 2" in out and "\r" not in out


def _event(state: str, progress: float | None) -> ProgressEvent:
    ref = ActionRef(
        kind="task",
        name="Render",
        step="Render",
        task_number=3,
        task_count=12,
        step_task_number=1,
        step_task_count=4,
        parameters="Frames=1-10",
    )
    return ProgressEvent(action=ref, state=state, progress=progress, elapsed=2.0)  # type: ignore[arg-type]


def test_terminal_progress_redraws_one_line_and_keeps_output_apart() -> None:
    out, err = io.StringIO(), io.StringIO()
    console = Console(out, err, live=True, shared_terminal=False)
    console.on_progress(_event("started", None))
    console.on_progress(_event("running", 40.0))
    console.log_line("aerender says hi")
    console.on_progress(_event("success", 100.0))
    shown = err.getvalue()
    assert "\rtask 3/12 | step Render 1/4 | Frames=1-10 " + render_bar(40.0, 24) in shown
    assert shown.endswith("task 3/12 | step Render 1/4 | Frames=1-10: done in 2.0s\n")
    assert out.getvalue() == "aerender says hi\n"


def test_render_bar_clamps() -> None:
    assert render_bar(None, 4) == "[....]"
    assert render_bar(50, 4) == "[##..]"
    assert render_bar(250, 4) == "[####]"


def test_plain_progress_prints_tenths_not_every_update() -> None:
    err = io.StringIO()
    console = Console(io.StringIO(), err, live=False, shared_terminal=False)
    console.on_progress(_event("started", None))
    for p in (1.0, 2.0, 11.0, 12.0, 35.0):
        console.on_progress(_event("running", p))
    lines = err.getvalue().splitlines()
    assert [x.rsplit(": ", 1)[1] for x in lines] == ["started", "11%", "35%"]
    assert json.dumps(lines)  # plain text only
    assert "\r" not in err.getvalue() and os.linesep not in lines


# ---- the real product path: export -> bundle -> session -> STMPO -> aerender stand-in ----


def _standin_args() -> list[str]:
    from stmpo.locations import aerender_standin

    return ["-p", f"AerenderPath={aerender_standin()}", "-p", f"Python={PY}", "-p", "SpawnDelay=0"]


def _demo_inputs(root: Path) -> tuple[Path, Path]:
    from stmpo.local.demo import write_demo_inputs
    from stmpo.locations import examples_dir

    export_path, export = write_demo_inputs(examples_dir() / "image_sequence.json", root)
    return export_path, Path(export.render_queue[0].output_modules[0].path).parent


@pytest.mark.slow
def test_export_input_is_bundled_and_rendered_by_stmpo(tmp_path: Path) -> None:
    export_path, frames_dir = _demo_inputs(tmp_path / "demo")
    done = stmpo(
        "run-local",
        export_path,
        "--frames",
        "1=0-9",
        "-p",
        "Concurrency=2",
        "-p",
        "ChunkSize=5",
        *_standin_args(),
    )
    assert done.returncode == 0, done.stderr + done.stdout
    frames = sorted(p.name for p in frames_dir.iterdir() if p.name != ".stmpo")  # journal aside
    assert frames == [f"MAIN_{i:05d}.png" for i in range(10)]
    # ChunkSize reached the builder: two tasks of five frames, each fanned out by STMPO.
    assert "task 2/2 | step RQ 001 MAIN comp 2/2 | Frames=5-9: done" in done.stderr
    assert "built bundle" in done.stderr
    # STMPO's reports reach the display whole: each percentage with its own frame count.
    shown = re.findall(r": +(\d+)% (\d+)/(\d+) frames", done.stderr)
    assert shown
    for percent, frames_done, total in shown:
        assert int(percent) == round(100 * int(frames_done) / int(total)), shown


@pytest.mark.slow
def test_failed_render_exits_1_and_leaves_no_process(tmp_path: Path) -> None:
    export_path, _ = _demo_inputs(tmp_path / "demo")
    trace = tmp_path / "trace.jsonl"
    env = {**os.environ, "STANDIN_FAIL": "spawn_child,crash@3", "STANDIN_TRACE": str(trace)}
    done = subprocess.run(
        [
            PY,
            "-m",
            "stmpo",
            "run-local",
            str(export_path),
            "--frames",
            "1=0-5",
            "-p",
            "Concurrency=1",
            "-p",
            "ChildGraceSec=1",
            *_standin_args(),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert "FAILED at step 'RQ 001 MAIN comp' task 1/1 (Frames=0-5)" in done.stderr
    assert "aerender failed for frames" in done.stderr
    assert "succeeded" not in done.stderr
    records = [json.loads(line) for line in trace.read_text().splitlines()]
    pids = {r["pid"] for r in records} | {r["child_pid"] for r in records if "child_pid" in r}
    assert any(r["event"] == "grandchild" for r in records)
    for pid in pids:
        _wait_for(lambda pid=pid: not _running(pid), f"process {pid} to go away", limit=10)


@pytest.mark.slow
def test_demo_renders_every_requested_frame(tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    done = stmpo(
        "demo",
        "--out",
        out,
        "--frame-sec",
        "0",
        "--startup-sec",
        "0.2",
        "--concurrency",
        "2",
    )
    assert done.returncode == 0, done.stderr + done.stdout
    frames = sorted(p.name for p in (out / "frames" / "rq1").iterdir() if p.name != ".stmpo")
    assert frames == [f"MAIN_{i:05d}.png" for i in range(48)]
    assert "frames   48 of 48" in done.stdout
    # The fan-out ran two or more stand-ins, never more than two at once (Concurrency 2),
    # the comparison one (how long each took is for bench/, not for a test). How many in
    # all and at once depends on timing with instant frames: the dynamic split may hand a
    # tail to a new process, and a 0.2 s start may finish before the next one starts.
    fanned = re.search(
        r"STMPO +[0-9.]+s with (\d+) aerender processes \((\d+) at once\)", done.stdout
    )
    assert fanned, done.stdout
    assert int(fanned.group(1)) >= 2 and 1 <= int(fanned.group(2)) <= 2, fanned.group(0)
    assert re.search(r"one +[0-9.]+s with 1 aerender process ", done.stdout)
    assert "speed-up" in done.stdout


def _trace_records(trace: Path) -> list[dict[str, Any]]:
    if not trace.exists():
        return []
    return [json.loads(line) for line in trace.read_text("utf-8").splitlines() if line]


@pytest.mark.slow
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_mid_render_stops_every_standin_and_still_exits_the_environment(
    tmp_path: Path, sig: int, code: int
) -> None:
    """Two stand-ins, each with a grandchild, are mid-render (a frame written, hanging on
    the next) when `stmpo run-local` gets the signal: no process outlives it, and the
    `STMPO Outputs` exit still removes the job's font, which the enter installed."""
    from fontgen import write_font

    export_path, frames_dir = _demo_inputs(tmp_path / "demo")
    data = json.loads(export_path.read_text("utf-8"))
    font = write_font(tmp_path / "job-fonts" / "StmpoCancel-Regular.ttf", "StmpoCancel-Regular")
    data["fonts"] = [{"postScriptName": "StmpoCancel-Regular", "location": str(font)}]
    export_path.write_text(json.dumps(data), "utf-8")
    trace, fonts_home = tmp_path / "trace.jsonl", tmp_path / "xdg" / "fonts"
    env = {
        **os.environ,
        "STANDIN_FAIL": "spawn_child,hang@1,hang@4",  # the two children: f0-2 and f3-5
        "STANDIN_TRACE": str(trace),
        "XDG_DATA_HOME": str(fonts_home.parent),
    }
    args = ["run-local", str(export_path), "--frames", "1=0-5", "-p", "Concurrency=2"]
    args += ["-p", "ChildGraceSec=2", *_standin_args()]
    proc = subprocess.Popen(
        [PY, "-m", "stmpo", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )

    def in_progress() -> bool:
        records = _trace_records(trace)
        hanging = [r for r in records if r["event"] == "frame" and r["frame"] in (0, 3)]
        return len(hanging) == 2 and sum(r["event"] == "grandchild" for r in records) == 2

    try:
        _wait_for(lambda: in_progress() or proc.poll() is not None, "both stand-ins to render")
        assert proc.poll() is None, "run-local ended before the signal"
        records = _trace_records(trace)
        pids = {r["pid"] for r in records} | {r["child_pid"] for r in records if "child_pid" in r}
        assert len(pids) == 4 and all(_running(p) for p in pids)
        tree = {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        assert pids <= tree  # the stand-ins and their grandchildren, STMPO, its shell...
        installed = [p for p in fonts_home.rglob("*") if p.is_file()]
        assert [p.name for p in installed] == [font.name]
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == code, err
    assert "canceled during step 'RQ 001 MAIN comp' task 1/1 (Frames=0-5)" in err
    for pid in tree:
        _wait_for(lambda pid=pid: not _running(pid), f"process {pid} to go away", limit=10)
    # The environment's exit ran after the cancel, and did its work.
    canceled = out.index("=== stmpo run-local: canceling step 'RQ 001 MAIN comp'")
    assert out.index("=== stmpo run-local: exiting environment 'STMPO Outputs' ===") > canceled
    assert not any(p.is_file() for p in fonts_home.rglob("*"))
    assert sorted(p.name for p in frames_dir.iterdir()) == ["MAIN_00000.png", "MAIN_00003.png"]
    assert "succeeded" not in err
    # STMPO got the notify (SIGTERM) and stopped its trees itself.
    assert "openjd_fail: STMPO cancelled: every aerender process was stopped" in out


def test_log_replaces_only_a_log_it_wrote(tmp_path: Path) -> None:
    """`--log` names a file by mistake (an export, notes): it is refused, untouched, before
    anything runs; an earlier run-local log is replaced."""
    bundle = make_bundle(tmp_path, two_step_job())
    notes = tmp_path / "notes.txt"
    notes.write_text("the artist's notes\n")
    done = stmpo("run-local", bundle, "--log", notes)
    assert done.returncode == 2, done.stderr
    assert "--log" in done.stderr and "Traceback" not in done.stderr
    assert notes.read_text() == "the artist's notes\n"
    assert not (bundle / "journal.txt").exists()  # nothing ran

    log = tmp_path / "job.log"
    assert stmpo("run-local", bundle, "--log", log).returncode == 0
    first = log.read_text()
    assert "rendered 2" in first
    (bundle / "journal.txt").unlink()
    assert stmpo("run-local", bundle, "--log", log).returncode == 0  # its own log: replaced
    assert log.read_text().count("rendered 2") == first.count("rendered 2")
