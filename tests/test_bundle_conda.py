"""After Effects on service-managed fleets: `CondaPackages`/`CondaChannels` through the
real `stmpo bundle` CLI, and the job's parameter budget beside the queue's environments.

The queue environments below model the conda queue environments Deadline Cloud offers
(aws-deadline/deadline-cloud-samples, `queue_environments/conda_queue_env_from_console`
and `conda_queue_env_improved_caching.yaml`, commit e496cde): the same parameter names,
types and defaults, with a trivial script. OpenJD merges a parameter that the job and an
environment both define (openjd-model `merge_job_parameter_definitions`); a different
type is a conflict the service refuses; the `deadline` library that submits the job is
stricter still and refuses any difference in a constraint (`parameter_definition_difference`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from bundle_exports import export_dict, item, write_export
from deadline.client.job_bundle.parameters import parameter_definition_difference
from openjd.model import (
    decode_environment_template,
    decode_job_template,
    merge_job_parameter_definitions,
)
from stmpo.cli import main
from stmpo.export.sources import load_any
from stmpo.locations import sample_exports

CHANNEL_VERSIONS = ["24.6", "25.1", "25.2", "25.6", "26.0"]

#: OpenJD 2023-09: a job template holds at most 50 parameter definitions, and so does an
#: environment template (wiki/2023-09-Template-Schemas.md, sections 1 and 1.1).
OPENJD_MAX_DEFINITIONS = 50


def _env(name: str, definitions: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "specificationVersion": "environment-2023-09",
        "parameterDefinitions": definitions,
        "environment": {
            "name": name,
            "script": {"actions": {"onEnter": {"command": "conda-queue-env-enter"}}},
        },
    }


CONDA_DEFINITIONS: list[dict[str, Any]] = [
    {"name": "CondaPackages", "type": "STRING", "default": ""},
    {"name": "CondaChannels", "type": "STRING", "default": "deadline-cloud"},
]
QUEUE_ENVIRONMENTS = {
    "from_console": _env("Conda", CONDA_DEFINITIONS),
    "improved_caching": _env(
        "Conda",
        [
            *CONDA_DEFINITIONS,
            {"name": "NamedCondaEnv", "type": "STRING", "default": "AUTOMATIC"},
            {"name": "NamedCondaEnvAction", "type": "STRING", "default": "ACTIVATE"},
            {"name": "NamedCondaEnvUpdateAfterMinutes", "type": "INT", "default": 600},
            {"name": "RunCondaClean", "type": "STRING", "default": "False"},
        ],
    ),
}


def bundle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], export: Path, *args: str
) -> tuple[int, str, dict[str, Any], dict[str, Any]]:
    out = tmp_path / "bundle"
    code = main(["bundle", str(export), "-o", str(out), *args])
    err = capsys.readouterr().err
    if code != 0:
        return code, err, {}, {}
    values = yaml.safe_load((out / "parameter_values.yaml").read_text(encoding="utf-8"))
    template = yaml.safe_load((out / "template.yaml").read_text(encoding="utf-8"))
    return code, err, {v["name"]: v["value"] for v in values["parameterValues"]}, template


def export_from(tmp_path: Path, version: str | None) -> Path:
    data = export_dict([item(1, end=9)])
    if version is None:
        del data["host"]
    else:
        data["host"]["version"] = version
    return write_export(tmp_path / "export.json", data)


@pytest.mark.parametrize(
    ("version", "package"),
    [
        ("24.6.2", "aftereffects=24.6"),
        ("25.2.1x3", "aftereffects=25.2"),
        ("26.0", "aftereffects=26.0"),
    ],
)
def test_conda_packages_default_to_the_exporting_after_effects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str, package: str
) -> None:
    code, err, values, template = bundle(tmp_path, capsys, export_from(tmp_path, version))
    assert code == 0, err
    assert values["CondaPackages"] == package
    assert "conda" not in err.lower()
    definitions = {d["name"]: d for d in template["parameterDefinitions"]}
    assert definitions["CondaPackages"]["type"] == "STRING"
    assert definitions["CondaChannels"]["default"] == "deadline-cloud"
    assert definitions["CondaPackages"]["userInterface"]["groupLabel"] == "After Effects"


def test_a_version_the_channel_does_not_carry_falls_back_to_the_major_and_warns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, values, _ = bundle(tmp_path, capsys, export_from(tmp_path, "23.0.1"))
    assert code == 0, err
    assert values["CondaPackages"] == "aftereffects=23"
    (line,) = [line for line in err.splitlines() if "CondaPackages" in line]
    assert line.startswith("warning: After Effects 23.0 ")
    assert ", ".join(CHANNEL_VERSIONS) in line and "-p CondaPackages=" in line


def test_an_export_without_a_version_gets_the_newest_package_and_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err, values, _ = bundle(tmp_path, capsys, export_from(tmp_path, None))
    assert code == 0, err
    assert values["CondaPackages"] == "aftereffects=26.0"
    assert "does not say which After Effects wrote it" in err


@pytest.mark.parametrize("version", ["24.6.2", "23.0"])
def test_empty_conda_packages_opts_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    code, err, values, _ = bundle(
        tmp_path, capsys, export_from(tmp_path, version), "-p", "CondaPackages="
    )
    assert code == 0, err
    assert values["CondaPackages"] == ""
    assert "CondaPackages" not in err
    code, err, values, _ = bundle(
        tmp_path, capsys, export_from(tmp_path, version), "-p", "CondaPackages=ae=1 x", "--force"
    )
    assert values["CondaPackages"] == "ae=1 x"


def test_every_sample_bundle_leaves_room_for_the_queue_environments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Count every sample bundle's job parameter definitions: with the largest conda queue
    environment's own definitions added, they must still fit OpenJD's 50, and the
    definitions both declare must merge (same names, same types)."""
    environments = [decode_environment_template(template=t) for t in QUEUE_ENVIRONMENTS.values()]
    samples = sample_exports()
    assert len(samples) >= 9
    for number, sample in enumerate(samples):
        out = tmp_path / f"b{number}"
        export = load_any(sample)
        pick = [str(i.index) for i in export.render_queue if i.selectable]
        items = [] if export.renderable_items else ["--items", ",".join(pick)]
        assert main(["bundle", str(sample), "-o", str(out), *items]) == 0, capsys.readouterr().err
        capsys.readouterr()
        template = yaml.safe_load((out / "template.yaml").read_text(encoding="utf-8"))
        ours = {d["name"] for d in template["parameterDefinitions"]}
        assert {"CondaPackages", "CondaChannels"} <= ours
        for environment in QUEUE_ENVIRONMENTS.values():
            theirs = {d["name"] for d in environment["parameterDefinitions"]}
            total = len(ours | theirs)
            assert total <= OPENJD_MAX_DEFINITIONS, f"{sample.name}: {total} definitions"
        assert len(ours) + 10 <= OPENJD_MAX_DEFINITIONS, f"{sample.name}: {len(ours)} is tight"
        merged = merge_job_parameter_definitions(
            job_template=decode_job_template(template=template),
            environment_templates=environments,
        )
        by_name = {d.name: d for d in merged}
        # the deadline library is stricter than OpenJD: every constraint must be equal
        # (it refuses a bundle whose CondaPackages has a maxLength the queue's has not)
        for environment in QUEUE_ENVIRONMENTS.values():
            for theirs in environment["parameterDefinitions"]:
                mine = next(
                    (d for d in template["parameterDefinitions"] if d["name"] == theirs["name"]),
                    None,
                )
                if mine is not None:
                    differ = parameter_definition_difference(theirs, mine)
                    assert [f for f in differ if f != "default"] == [], (sample.name, mine)
        assert by_name["CondaPackages"].type.value == "STRING"
        assert by_name["CondaChannels"].default == "deadline-cloud"
        values = yaml.safe_load((out / "parameter_values.yaml").read_text(encoding="utf-8"))
        conda = [v["value"] for v in values["parameterValues"] if v["name"] == "CondaPackages"]
        assert conda and conda[0].startswith("aftereffects="), sample.name
