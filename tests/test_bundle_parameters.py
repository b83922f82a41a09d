import pytest
from stmpo.bundle.parameters import (
    parameter_definitions,
    parse_parameter_values,
)
from stmpo.cli_args import parse_assignments
from stmpo.errors import BundleError, StmpoError

# The contract in docs/architecture.md: names, types and defaults of the original STMPO.
EXPECTED = {
    "ProjectFile": ("PATH", None),
    "StmpoScripts": ("PATH", "scripts"),
    "Concurrency": ("INT", 0),
    "MaxConcurrency": ("INT", 24),
    "RamPerProcessGB": ("FLOAT", 32.0),
    "DisableMFR": ("STRING", "false"),
    "DisableAffinity": ("STRING", "false"),
    "NoKillOnFail": ("STRING", "false"),
    "SpawnDelay": ("FLOAT", 2.0),
    "ChildGraceSec": ("FLOAT", 30.0),
    "ChunkSize": ("INT", 0),
    "AerenderPath": ("STRING", ""),
    "NumaMap": ("STRING", ""),
    "ContinueOnMissingFootage": ("STRING", "false"),
    "Python": ("STRING", "python"),
    # issue 11: balanced, retried, resumed, watched
    "SplitStrategy": ("STRING", "dynamic"),
    "RetryFailedRanges": ("INT", 1),
    "SkipExisting": ("STRING", "true"),
    "StallTimeoutSec": ("FLOAT", 1800.0),
    "StartupTimeoutSec": ("FLOAT", 600.0),
    # issue 12: burst rendering through a shared file cache (docs/file-cache.md)
    "CacheRootPaths": ("STRING", ""),
    "CacheEviction": ("STRING", "true"),
    "CacheHydration": ("STRING", "true"),
    "CacheWriteBack": ("STRING", "true"),
    "LfsCommand": ("STRING", "sudo lfs"),
    "CachePollTimeoutSec": ("FLOAT", 3600.0),
    # the conda queue environment's own names, types and defaults (docs/job-bundle.md)
    "CondaPackages": ("STRING", ""),
    "CondaChannels": ("STRING", "deadline-cloud"),
}


def test_definitions_follow_the_contract() -> None:
    defs = {d["name"]: d for d in parameter_definitions()}
    assert {n: (d["type"], d.get("default")) for n, d in defs.items()} == EXPECTED
    assert defs["ProjectFile"]["objectType"] == "FILE"
    assert defs["ProjectFile"]["dataFlow"] == "IN"
    assert defs["StmpoScripts"]["objectType"] == "DIRECTORY"
    assert defs["StmpoScripts"]["dataFlow"] == "IN"
    assert defs["ChunkSize"]["userInterface"]["control"] == "HIDDEN"


def test_every_parameter_has_a_label_and_a_group() -> None:
    groups = {}
    for d in parameter_definitions():
        ui = d["userInterface"]
        assert ui["label"]
        groups.setdefault(ui["groupLabel"], set()).add(d["name"])
    assert set(groups) == {"STMPO", "After Effects", "File cache"}
    assert groups["File cache"] == {
        "CacheRootPaths",
        "CacheEviction",
        "CacheHydration",
        "CacheWriteBack",
        "LfsCommand",
        "CachePollTimeoutSec",
    }
    assert {"ProjectFile", "AerenderPath"} <= groups["After Effects"]
    assert {"Concurrency", "MaxConcurrency", "DisableMFR", "ChildGraceSec"} <= groups["STMPO"]


def test_check_boxes_use_true_false() -> None:
    for d in parameter_definitions():
        if d["userInterface"]["control"] == "CHECK_BOX":
            assert d["allowedValues"] == ["true", "false"]


def test_definitions_are_copies() -> None:
    parameter_definitions()[0]["name"] = "Changed"
    assert parameter_definitions()[0]["name"] == "ProjectFile"


def test_values_are_typed() -> None:
    parsed = parse_parameter_values(
        {
            "Concurrency": " 8",
            "RamPerProcessGB": "48.5",
            "DisableMFR": "Yes",
            "NoKillOnFail": "0",
            "AerenderPath": "C:/Program Files/Adobe/aerender.exe",
            "NumaMap": "",
        }
    )
    assert parsed == {
        "Concurrency": 8,
        "RamPerProcessGB": 48.5,
        "DisableMFR": "true",
        "NoKillOnFail": "false",
        "AerenderPath": "C:/Program Files/Adobe/aerender.exe",
        "NumaMap": "",
    }


@pytest.mark.parametrize(
    ("name", "value", "needle"),
    [
        ("Concurrency", "eight", "whole number"),
        ("Concurrency", "2.5", "whole number"),
        ("Concurrency", "1_0", "whole number"),  # int() would read 10
        ("MaxConcurrency", "\u0662\u0660", "whole number"),  # Arabic-Indic 20
        ("RamPerProcessGB", "4_8.0", "number"),
        ("RamPerProcessGB", "inf", "finite"),
        ("Concurrency", "-1", "at least 0"),
        ("MaxConcurrency", "0", "at least 1"),
        ("RamPerProcessGB", "nan", "finite"),
        ("RamPerProcessGB", "lots", "number"),
        ("ChildGraceSec", "1000", "at most 240"),
        ("DisableMFR", "maybe", "true or false"),
        ("Python", "", "must not be empty"),
        ("AerenderPath", "a\nb", "control characters"),
        ("ProjectFile", "", "must not be empty"),
    ],
)
def test_bad_values_name_the_argument(name: str, value: str, needle: str) -> None:
    with pytest.raises(BundleError) as info:
        parse_parameter_values({name: value})
    [problem] = info.value.problems
    assert problem.where == f"-p {name}"
    assert needle in problem.message


def test_unknown_parameter_and_all_problems_at_once() -> None:
    with pytest.raises(BundleError) as info:
        parse_parameter_values({"Concurency": "4", "MaxConcurrency": "x"})
    assert [p.where for p in info.value.problems] == ["-p Concurency", "-p MaxConcurrency"]
    assert "unknown job parameter" in info.value.problems[0].message


def test_assignment_keeps_equals_in_the_value() -> None:
    assert parse_assignments(["NumaMap=/a=b.json", "AerenderPath="]) == {
        "NumaMap": "/a=b.json",
        "AerenderPath": "",
    }
    with pytest.raises(StmpoError) as info:
        parse_assignments(["Concurrency", "=4", "A=1", "A=2"])
    assert [p.where for p in info.value.problems] == ["-p Concurrency", "-p =4", "-p A"]
