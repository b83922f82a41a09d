"""Control characters in an export: refused where the worker would print them (paths,
font fields), cleaned where OpenJD shows them (job and step names), through the real
`stmpo` CLI. Comp names may hold any text: they reach the worker as base64 JSON and
are escaped by its log, and the names built from them are sanitized."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from stmpo._worker_scripts.stmpo_worker.logtext import first_unsafe
from stmpo.cli import main

CONTROLS = {
    "newline": "\n",
    "carriage return": "\r",
    "NUL": "\0",
    "escape": "\x1b",
    "NEL (C1)": "\x85",
    "line separator": "\u2028",
    "right-to-left override": "\u202e",
    "first strong isolate": "\u2068",
}
INJECTION = "openjd_env: AERENDER_PATH=/tmp/evil"


def hostile_export(char: str) -> dict[str, Any]:
    """Every field the loader guards carries `char` followed by a directive."""
    bad = f"{char}{INJECTION}"
    output = {"index": 1, "path": f"/renders/a{bad}/out_[#####].png", "kind": "sequence"}
    return export_dict(
        [item(1, outputs=[output])],
        project={"path": f"/projects/spot{bad}.aep", "displayStartFrame": 0},
        footage=[{"path": f"/footage/plate{bad}.exr"}],
        fonts=[
            {
                "postScriptName": f"Evil{bad}",
                "familyName": f"Fam{bad}",
                "styleName": f"Bold{bad}",
                "location": f"/fonts/evil{bad}.ttf",
            }
        ],
    )


GUARDED = [
    "project.path",
    "renderQueue[0] (item 1).outputModules[0].path",
    "footage[0].path",
    "fonts[0].postScriptName",
    "fonts[0].familyName",
    "fonts[0].styleName",
    "fonts[0].location",
]


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("char", CONTROLS.values(), ids=CONTROLS.keys())
def test_validate_export_refuses_control_characters_naming_every_json_path(
    char: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    export = write_export(tmp_path / "export.json", hostile_export(char))

    code, _, err = run_cli(["validate-export", str(export)], capsys)

    assert code == 2
    lines = err.splitlines()
    assert f"{len(GUARDED)} problems:" in lines[0]
    for where, line in zip(GUARDED, lines[1:], strict=True):
        assert line.startswith(f"  - {where}: holds U+{ord(char):04X} ")
    assert all(first_unsafe(line) == -1 for line in lines), "the error itself is one line each"
    assert "Traceback" not in err


def test_bundle_refuses_a_newline_in_one_output_path_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = {"index": 1, "path": f"/renders/a\n{INJECTION}/out_[#####].png"}
    export = write_export(tmp_path / "export.json", export_dict([item(1, outputs=[output])]))

    code, out, err = run_cli(["bundle", str(export), "-o", str(tmp_path / "bundle")], capsys)

    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert "renderQueue[0] (item 1).outputModules[0].path: holds U+000A" in line
    assert not (tmp_path / "bundle").exists()


def test_comp_names_with_controls_make_clean_job_and_step_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comp = f"MAIN\u202e{INJECTION}\u2066\n\x85x"
    export = write_export(tmp_path / "export.json", export_dict([item(1, comp=comp)]))
    folder = tmp_path / "bundle"

    code, _, err = run_cli(
        ["bundle", str(export), "-o", str(folder), "--job-name", f"Spot\u202e\u2028{INJECTION}"],
        capsys,
    )

    assert code == 0, err
    template = yaml.safe_load((folder / "template.yaml").read_text(encoding="utf-8"))
    [step] = template["steps"]
    for name in (template["name"], step["name"]):
        assert first_unsafe(name) == -1, repr(name)
    assert step["name"] == f"RQ 001 MAIN {INJECTION} x"
    assert template["name"] == f"Spot {INJECTION}"
    # The worker still gets the comp name exactly (and escapes it when it prints it).
    [name] = [a for a in step["script"]["actions"]["onRun"]["args"] if a.startswith("--item=")]
    item_file = folder / "scripts" / "items" / f"{name.split('=', 1)[1]}.json"
    decoded = json.loads(item_file.read_text(encoding="ascii"))
    assert decoded["comp"] == comp


def test_bundle_prints_export_warnings_and_input_files_as_safe_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Free text the exporter wrote (`warnings[]`) may hold anything: it reaches the
    terminal escaped, one line each; an `--input-file` path with a control is refused."""
    hostile = f"w\x1b]0;pwned\x07\n{INJECTION}"
    export = write_export(tmp_path / "e.json", export_dict([item(1)], warnings=[hostile]))
    code, _, err = run_cli(["bundle", str(export), "-o", str(tmp_path / "b")], capsys)
    assert code == 0, err
    assert all(first_unsafe(line) < 0 for line in err.splitlines())
    assert not any(line.startswith("openjd_") for line in err.splitlines())
    assert "w\\x1b]0;pwned\\x07\\nopenjd_env" in err

    bad = f"/tmp/in\n{INJECTION}"
    args = ["bundle", str(export), "-o", str(tmp_path / "c"), "--input-file", bad]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith("stmpo bundle: --input-file: /tmp/in\\nopenjd_env")
