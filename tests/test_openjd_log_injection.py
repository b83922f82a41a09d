"""Proof in a real Open Job Description session (the reference `openjd run`, on
openjd-sessions, the library the Deadline worker agent runs): hostile folder, font,
comp and path names printed by the worker set no session environment variable and run
nothing.

The export loader refuses such names, so this template is written by hand around the
worker's real contract: a copy of the worker scripts holding the item file and the
output-folder list (written by the template's own encoder), the job settings in the job
environment's `variables`, `prepare-outputs` with fonts in the job environment, as the
`STMPO Outputs` environment runs it, and `render --item=rq001` with the aerender
stand-in; a last step looks at what the session gives later actions. An `openjd_env:` line printed
by an environment's enter action sets a variable for every later action of the
session; `AERENDER_PATH` is where the worker looks for aerender when the job names
none, so setting it would run a program of the attacker's choosing.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from fontgen import write_collection, write_font
from stmpo._worker_scripts.stmpo_worker.contract import OUTPUT_DIRS_FILE, encode_json_file
from stmpo.bundle.writer import copy_scripts
from stmpo.locations import aerender_standin, worker_scripts_dir

pytestmark = pytest.mark.slow

PY = sys.executable
OPENJD = Path(PY).with_name("openjd")
# What OpenJD would split a longer line at: text after this many characters begins a line.
OPENJD_SPLIT = 64_000

PROBE = r"""
import json, os, subprocess, sys
sys.path.insert(0, sys.argv[1])
from stmpo_worker.aerender import AerenderNotFound, resolve_aerender
from stmpo_worker.topology import os_name
seen = {k: v for k, v in os.environ.items() if k == "AERENDER_PATH" or k.startswith("EVIL")}
print("PROBE env " + json.dumps(seen), flush=True)
try:  # the worker's own resolution, as a render with an empty AerenderPath does it
    aerender = resolve_aerender("", dict(os.environ), os_name())
except AerenderNotFound:
    print("PROBE no aerender", flush=True)
else:
    print("PROBE starting " + aerender, flush=True)
    subprocess.run([sys.executable, aerender])
"""


def hostile_fonts(folder: Path) -> None:
    """A font whose file name and PostScript name carry a directive after a newline, and
    a collection whose names make `font installed: ...` exactly as long as OpenJD's
    split, followed by a directive."""
    write_font(folder / "f\nopenjd_env: EVIL_FILE=1.ttf", "Evil\nopenjd_env: EVIL_NAME=1")
    head = "font installed: "
    first = "A" * 32_000
    second = "B" * (OPENJD_SPLIT - len(head) - len(first) - 2 * len(", "))
    write_collection(folder / "split.ttc", [first, second, "openjd_env: EVIL_TTC=1"])


def job_template(root: Path, evil: Path) -> dict[str, Any]:
    out_dir = f"{root / 'out'}\nopenjd_env: AERENDER_PATH={evil}"
    pattern = f"{out_dir}/f_[####].png"
    comp = "C\nopenjd_env: EVIL_COMP=1" + "S" * OPENJD_SPLIT + "openjd_env: EVIL_CHILD=1"
    project = root / "shot.aep"
    project.write_bytes(b"stand-in project")
    sidecar = {"frameRate": 25, "items": {"1": {"comp": comp, "outputs": [pattern]}}}
    Path(f"{project}.standin.json").write_text(json.dumps(sidecar), encoding="utf-8")
    fonts = root / "fonts"
    hostile_fonts(fonts)
    state = "--font-state={{Session.WorkingDirectory}}/fonts.json"
    item = {
        "rqindex": 1,
        "comp": comp,
        "outputs": [{"index": 1, "path": pattern, "kind": "sequence"}],
    }
    # The bundle's scripts folder, as stmpo writes it, with the item and folder files.
    files = {
        "items/rq001.json": encode_json_file(item),
        OUTPUT_DIRS_FILE: encode_json_file([out_dir]),
    }
    copy_scripts(root / "scripts", files=files.items())
    script = str(root / "scripts" / "stmpo_render.py")
    render = [script, "render", "--item=rq001", "--frames=0-3"]
    return {
        "specificationVersion": "jobtemplate-2023-09",
        "name": "Hostile names",
        "jobEnvironments": [
            {
                "name": "STMPO Outputs",
                "variables": {
                    "STMPO_PROJECT": str(project),
                    "STMPO_CONCURRENCY": "2",
                    "STMPO_SPAWN_DELAY": "0",
                    "STMPO_CHILD_GRACE_SEC": "2",
                    "STMPO_AERENDER_PATH": str(aerender_standin()),
                },
                "script": {
                    "actions": {
                        "onEnter": {
                            "command": PY,
                            "args": [
                                script,
                                "prepare-outputs",
                                f"--dirs-file={OUTPUT_DIRS_FILE}",
                                f"--aerender-path={aerender_standin()}",
                                f"--fonts-dir={fonts}",
                                state,
                            ],
                        },
                        "onExit": {"command": PY, "args": [script, "remove-fonts", state]},
                    }
                },
            }
        ],
        "steps": [
            {"name": "Render", "script": {"actions": {"onRun": {"command": PY, "args": render}}}},
            {
                "name": "Probe",
                "dependencies": [{"dependsOn": "Render"}],
                "script": {
                    "actions": {
                        "onRun": {
                            "command": PY,
                            "args": ["-c", PROBE, str(worker_scripts_dir())],
                        }
                    }
                },
            },
        ],
    }


@pytest.mark.skipif(sys.platform != "linux", reason="newlines in file names; Linux fonts")
def test_hostile_names_set_no_session_variable_and_run_nothing(tmp_path: Path) -> None:
    canary = tmp_path / "pwned"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(canary)!r}, 'w').write('ran')\n")
    template = tmp_path / "template.yaml"
    template.write_text(yaml.safe_dump(job_template(tmp_path, evil)), encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "DEADLINE_"))}
    env.pop("AERENDER_PATH", None)
    env["HOME"] = str(home)

    done = subprocess.run(
        [str(OPENJD), "run", str(template), "--step", "Probe", "--run-dependencies"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )

    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-5000:]
    assert not canary.exists(), "the session ran the injected AERENDER_PATH"
    assert re.search(r"PROBE env \{\}", log), re.findall(r"PROBE env .*", log)
    assert "PROBE no aerender" in log
    # What was printed, escaped: the folder was made and rendered into, the fonts went in.
    assert len(list((tmp_path / "out\nopenjd_env: AERENDER_PATH=").rglob("*.png"))) == 4
    assert "font installed: Evil\\nopenjd_env: EVIL_NAME=1" in log
