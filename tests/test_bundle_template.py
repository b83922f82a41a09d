import base64
import json
import re
from typing import Any

import pytest
from bundle_exports import HOSTILE_COMP, hostile_export, item, make_export, many_items
from stmpo.bundle import BundleSettings, build_bundle
from stmpo.bundle.parameters import definitions_by_name
from stmpo.bundle.template import NOTIFY_PERIOD_SECONDS, b64_json, safe_name
from stmpo.errors import BundleError


def decode_b64(text: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(text.encode("ascii")))


def arg_value(args: list[str], option: str) -> str:
    [value] = [a.split("=", 1)[1] for a in args if a.startswith(f"{option}=")]
    return value


def test_template_shape() -> None:
    built = build_bundle(make_export([item(1), item(2, end=9)]))
    template = built.template
    assert template["specificationVersion"] == "jobtemplate-2023-09"
    assert "extensions" not in template
    [env] = template["jobEnvironments"]
    assert env["name"] == "STMPO Outputs"
    assert env["script"]["actions"]["onEnter"]["args"][1] == "prepare-outputs"
    assert env["script"]["actions"]["onExit"]["args"][1] == "remove-fonts"
    assert [s["name"] for s in template["steps"]] == ["RQ 001 MAIN comp", "RQ 002 MAIN comp"]
    for step in template["steps"]:
        # After Effects runs on Windows and macOS only: keep the job off Linux workers.
        assert step["hostRequirements"] == {
            "attributes": [{"name": "attr.worker.os.family", "anyOf": ["windows", "macos"]}]
        }
        assert step["script"]["actions"]["onRun"]["timeout"] == 172_800
        run = step["script"]["actions"]["onRun"]
        assert run["command"] == "{{Param.Python}}"
        assert run["args"][:2] == ["{{Param.StmpoScripts}}/stmpo_render.py", "render"]
        assert run["cancelation"]["mode"] == "NOTIFY_THEN_TERMINATE"
        [task_param] = step["parameterSpace"]["taskParameterDefinitions"]
        assert task_param["name"] == "Frames" and task_param["type"] == "STRING"


def test_notify_period_covers_the_longest_child_grace() -> None:
    grace = definitions_by_name()["ChildGraceSec"]
    assert grace["maxValue"] < NOTIFY_PERIOD_SECONDS <= 600


def item_file(built: Any, step_index: int) -> Any:
    args = built.template["steps"][step_index]["script"]["actions"]["onRun"]["args"]
    files = dict(built.script_files)
    return json.loads(files[f"items/{arg_value(args, '--item')}.json"])


def test_worker_command_line_follows_the_contract() -> None:
    built = build_bundle(make_export([item(3, start=10, end=29, step=2)]))
    args = built.template["steps"][0]["script"]["actions"]["onRun"]["args"]
    assert args == [
        "{{Param.StmpoScripts}}/stmpo_render.py",
        "render",
        "--item=rq003",
        "--frames={{Task.Param.Frames}}",
        "--path-mapping-rules={{Session.PathMappingRulesFile}}",
        "--timings={{Session.WorkingDirectory}}/stmpo_timings.json",
    ]
    payload = item_file(built, 0)
    render_id = payload.pop("renderId")  # names the resume journal (journal.py)
    assert re.fullmatch(r"[0-9a-f]{16}", render_id)
    assert payload == {
        "rqindex": 3,
        "step": 2,
        "comp": "MAIN comp",
        "outputs": [{"index": 1, "path": "/renders/item3/out_[#####].png", "kind": "sequence"}],
        "compFrameRate": 25.0,  # always: the worker reads timecode progress lines with it
    }
    [env] = built.template["jobEnvironments"]
    assert env["variables"]["STMPO_PROJECT"] == "{{Param.ProjectFile}}"
    assert env["variables"]["STMPO_MAX_CONCURRENCY"] == "{{Param.MaxConcurrency}}"
    assert len(env["variables"]) == 23  # one per contract.SETTINGS row with a job parameter


def test_hostile_values_travel_only_in_job_files() -> None:
    export = hostile_export()
    built = build_bundle(export)
    steps = built.template["steps"]
    payload = item_file(built, 0)
    assert payload["comp"] == HOSTILE_COMP
    assert payload["outputs"][0]["path"] == export.render_queue[0].output_modules[0].path
    # Commands and arguments hold only short names and plain numbers: no user text at all.
    scripts = [s["script"] for s in steps] + [e for e in built.template["jobEnvironments"]]
    text = json.dumps(scripts, ensure_ascii=False)
    for fragment in ("$(touch", "`id`", "rm -rf", "日本語", "dq", "Param.ProjectFile}}/", "whoami"):
        assert fragment not in text
    for step in steps:
        assert "{" not in step["name"] and "}" not in step["name"]
        assert len(step["name"]) <= 64
        assert "\n" not in step["name"] and "\t" not in step["name"]
    assert len({s["name"] for s in steps}) == len(steps)


def test_movie_items_are_one_task_whatever_the_chunk_size() -> None:
    export = hostile_export()  # item 1 writes a movie too
    built = build_bundle(export, BundleSettings(parameters={"ChunkSize": "10"}))
    ranges = [
        s["parameterSpace"]["taskParameterDefinitions"][0]["range"] for s in built.template["steps"]
    ]
    assert ranges == [["0-47"], ["0-9"], ["0-9"]]
    assert any("movie" in w and "item 1" in w for w in built.warnings)


def test_chunk_size_is_baked_and_recorded() -> None:
    built = build_bundle(
        make_export([item(1, end=99)]), BundleSettings(parameters={"ChunkSize": "25"})
    )
    step = built.template["steps"][0]
    assert step["parameterSpace"]["taskParameterDefinitions"][0]["range"] == [
        "0-24",
        "25-49",
        "50-74",
        "75-99",
    ]
    assert {"name": "ChunkSize", "value": 25} in built.parameter_values


def test_forty_items_are_forty_steps_and_no_per_item_job_parameters() -> None:
    built = build_bundle(many_items(40))
    assert len(built.template["steps"]) == 40
    assert len(built.template["parameterDefinitions"]) == len(definitions_by_name())
    enter = built.template["jobEnvironments"][0]["script"]["actions"]["onEnter"]["args"]
    dirs = json.loads(dict(built.script_files)[arg_value(enter, "--dirs-file")])
    assert dirs == [f"/renders/item{i}" for i in range(1, 41)]


@pytest.mark.parametrize(
    ("requested", "expected"),
    [
        (None, "spot_v012 (2 items)"),
        ("{{Param.Python}} job", "((Param.Python)) job"),
        ("tab\there\nnewline", "tab here newline"),
        ("x" * 300, "x" * 127 + "…"),
    ],
)
def test_job_names_are_never_format_strings(requested: str | None, expected: str) -> None:
    built = build_bundle(make_export([item(1), item(2)]), BundleSettings(job_name=requested))
    assert built.job_name == expected


def test_safe_name_replaces_lone_surrogates_and_falls_back() -> None:
    assert safe_name("a\ud800b", 64, "x") == "a\ufffdb"
    assert safe_name(" \n\t ", 64, "fallback") == "fallback"


def test_b64_json_round_trips_any_string() -> None:
    for value in (HOSTILE_COMP, "\ud800 lone", "", "=+/-_"):
        encoded = b64_json({"comp": value})
        assert set(encoded) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_="
        )
        assert decode_b64(encoded) == {"comp": value}


def test_default_selection_is_the_renderable_items() -> None:
    export = make_export(
        [
            item(1),
            item(2, render=False),
            item(3, status="UNQUEUED"),
            item(4, outputs=[], render=False),
        ]
    )
    assert [p.item.index for p in build_bundle(export).plans] == [1]
    chosen = build_bundle(export, BundleSettings(items=(3, 2, 3)))
    assert [p.item.index for p in chosen.plans] == [3, 2]


def test_items_that_do_not_exist_or_cannot_render_are_errors() -> None:
    export = make_export([item(1), item(4, outputs=[], render=False), item(5, status="RENDERING")])
    with pytest.raises(BundleError) as info:
        build_bundle(export, BundleSettings(items=(7, 4, 5)))
    assert [p.where for p in info.value.problems] == ["--items 7", "--items 4", "--items 5"]
    assert "no render queue item 7" in info.value.problems[0].message
    assert "no output module" in info.value.problems[1].message
    assert "RENDERING" in info.value.problems[2].message


def test_no_renderable_item_is_an_error() -> None:
    export = make_export([item(1, render=False)])
    with pytest.raises(BundleError) as info:
        build_bundle(export)
    assert info.value.problems[0].where == "--items"


def test_frame_override_reaches_the_worker_as_given() -> None:
    raw = item(1)
    raw["comp"].update(displayStartTime=-1.0, duration=6.0)  # 25 fps: frames -25..124
    export = make_export([raw])
    built = build_bundle(export, BundleSettings(frame_overrides={1: (-5, 120, 5)}))
    assert not [w for w in built.warnings if "outside the comp" in w]
    assert built.template["steps"][0]["parameterSpace"]["taskParameterDefinitions"][0]["range"] == [
        "-5-120"
    ]
    assert item_file(built, 0)["step"] == 5


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ((10, 5, 1), "before start"),
        ((0, 10, 0), "at least 1"),
        ((0, 10**10, 1), "sane"),
    ],
)
def test_bad_frame_overrides_are_errors(override: tuple[int, int, int], needle: str) -> None:
    with pytest.raises(BundleError) as info:
        build_bundle(make_export([item(1)]), BundleSettings(frame_overrides={1: override}))
    [problem] = info.value.problems
    assert problem.where == "--frames 1" and needle in problem.message


def test_frame_override_for_an_unselected_item_is_an_error() -> None:
    with pytest.raises(BundleError) as info:
        build_bundle(
            make_export([item(1), item(2)]),
            BundleSettings(items=(1,), frame_overrides={2: (0, 5, 1)}),
        )
    assert info.value.problems[0].where == "--frames 2"


def test_parameter_values_hold_the_project_and_the_user_values() -> None:
    built = build_bundle(
        make_export([item(1)]), BundleSettings(parameters={"Concurrency": "4", "DisableMFR": "on"})
    )
    assert built.parameter_values == [
        {"name": "ProjectFile", "value": "/projects/spot/spot_v012.aep"},
        {"name": "Concurrency", "value": 4},
        {"name": "DisableMFR", "value": "true"},
        {"name": "CondaPackages", "value": "aftereffects=24.6"},
    ]


def test_parameter_item_and_frame_problems_are_reported_together() -> None:
    settings = BundleSettings(
        items=(1, 9), parameters={"Concurrency": "-1"}, frame_overrides={1: (5, 1, 1)}
    )
    with pytest.raises(BundleError) as info:
        build_bundle(make_export([item(1)]), settings)
    assert [p.where for p in info.value.problems] == ["-p Concurrency", "--items 9"]
