"""Writing bundles: real files, our validation, the reference `openjd check`, deadline."""

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from bundle_exports import hostile_export, item, make_export, many_items
from stmpo.bundle import (
    BuiltBundle,
    BundleSettings,
    build_bundle,
    validate_bundle_dir,
    write_bundle,
)
from stmpo.errors import BundleError, OutputRefused
from stmpo.export import Export, load_export
from stmpo.locations import examples_dir, sample_exports
from test_bundle_assets import make_font

OPENJD = Path(sys.executable).with_name("openjd")
SAMPLES = sample_exports()


def openjd_check(template: Path) -> None:
    result = subprocess.run(
        [str(OPENJD), "check", str(template)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passes validation" in result.stdout


def load_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*")}


def generated_exports() -> dict[str, Export]:
    return {"forty_items": many_items(40), "hostile_names": hostile_export()}


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_every_sample_export_bundles_and_passes_openjd_check(sample: Path, tmp_path: Path) -> None:
    export = load_export(sample)
    # Some samples preselect nothing on purpose: then the default selection is an error
    # naming --items, and every item that can render is picked explicitly instead.
    if not export.renderable_items:
        with pytest.raises(BundleError) as info:
            build_bundle(export)
        assert info.value.problems[0].where == "--items"
    selectable = tuple(i.index for i in export.render_queue if i.selectable)
    out = write_bundle(build_bundle(export, BundleSettings(items=selectable)), tmp_path / "b")
    validate_bundle_dir(out)
    openjd_check(out / "template.yaml")


@pytest.mark.parametrize("name", ["forty_items", "hostile_names"])
def test_generated_exports_bundle_and_pass_openjd_check(name: str, tmp_path: Path) -> None:
    out = write_bundle(build_bundle(generated_exports()[name]), tmp_path / "b")
    validate_bundle_dir(out)
    openjd_check(out / "template.yaml")


def test_bundle_layout(tmp_path: Path) -> None:
    font = make_font(tmp_path / "Inter-Bold.ttf", "Inter-Bold")
    export = make_export([item(1)], fonts=[{"postScriptName": "Inter-Bold", "location": str(font)}])
    out = write_bundle(build_bundle(export), tmp_path / "bundle")
    assert out == tmp_path / "bundle"
    files = files_under(out)
    assert {
        "template.yaml",
        "parameter_values.yaml",
        "asset_references.yaml",
        "scripts/stmpo_render.py",
        "scripts/stmpo_worker/__init__.py",
        "scripts/fonts/Inter-Bold.ttf",
    } <= files
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc")]
    assert (out / "scripts/fonts/Inter-Bold.ttf").read_bytes() == font.read_bytes()
    assert load_yaml(out / "parameter_values.yaml") == {
        "parameterValues": [
            {"name": "ProjectFile", "value": "/projects/spot/spot_v012.aep"},
            {"name": "CondaPackages", "value": "aftereffects=24.6"},
        ]
    }
    refs = load_yaml(out / "asset_references.yaml")["assetReferences"]
    assert refs["outputs"]["directories"] == ["/renders/item1"]
    # nothing left next to the bundle
    assert sorted(p.name for p in tmp_path.iterdir()) == ["Inter-Bold.ttf", "bundle"]


def test_deadline_library_reads_the_bundle_and_resolves_the_scripts_default(tmp_path: Path) -> None:
    from deadline.client.job_bundle.parameters import read_job_bundle_parameters

    out = write_bundle(build_bundle(many_items(3)), tmp_path / "b")
    params = {p["name"]: p for p in read_job_bundle_parameters(str(out))}
    assert Path(params["StmpoScripts"]["value"]) == out / "scripts"
    assert params["ProjectFile"]["value"] == "/projects/spot/spot_v012.aep"


def test_a_bundle_that_fails_validation_is_not_written(tmp_path: Path) -> None:
    built = build_bundle(make_export([item(1)]))
    broken = dataclasses.replace(
        built, template={**built.template, "name": "bad {{Param.Nope}} name"}
    )
    with pytest.raises(BundleError) as info:
        write_bundle(broken, tmp_path / "b")
    assert "nothing written" in info.value.render()
    assert list(tmp_path.iterdir()) == []


def test_existing_folder_needs_overwrite_and_must_be_a_bundle(tmp_path: Path) -> None:
    built = build_bundle(make_export([item(1)]))
    target = tmp_path / "b"
    target.mkdir()
    (target / "keep.txt").write_text("mine", encoding="utf-8")
    for overwrite in (False, True):
        with pytest.raises(OutputRefused) as info:
            write_bundle(built, target, overwrite=overwrite)
        assert "stmpo did not write" in info.value.render()
        assert files_under(target) == {"keep.txt"}

    (target / "keep.txt").unlink()
    write_bundle(built, target)
    with pytest.raises(OutputRefused) as info:
        write_bundle(built, target)
    assert "--force" in info.value.render()
    write_bundle(built, target, overwrite=True)
    validate_bundle_dir(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_failed_overwrite_keeps_the_old_bundle(tmp_path: Path) -> None:
    good = build_bundle(make_export([item(1)]))
    target = write_bundle(good, tmp_path / "b")
    before = (target / "template.yaml").read_bytes()
    broken: BuiltBundle = dataclasses.replace(good, template={**good.template, "steps": []})
    with pytest.raises(BundleError):
        write_bundle(broken, target, overwrite=True)
    assert (target / "template.yaml").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_existing_empty_folder_is_used(tmp_path: Path) -> None:
    """The deadline dialog hands its callback an existing, empty job history folder."""
    target = tmp_path / "history"
    target.mkdir()
    write_bundle(build_bundle(make_export([item(1)])), target)
    validate_bundle_dir(target)


def test_dialog_values_queue_parameters_assets_and_host_requirements(tmp_path: Path) -> None:
    from deadline.client.job_bundle.submission import AssetReferences

    host = {"amounts": [{"name": "amount.worker.vcpu", "min": 32}]}
    out = write_bundle(
        build_bundle(make_export([item(1), item(2)])),
        tmp_path / "b",
        queue_parameters=[
            {"name": "CondaPackages", "type": "STRING", "value": "ae-26"},
            {"name": "Concurrency", "type": "INT", "value": 99},  # ours wins
        ],
        extra_asset_references=AssetReferences(input_filenames={"/extra/lut.cube"}),
        host_requirements=host,
    )
    template = load_yaml(out / "template.yaml")
    assert [s["hostRequirements"] for s in template["steps"]] == [host, host]
    values = load_yaml(out / "parameter_values.yaml")["parameterValues"]
    assert values[0] == {"name": "CondaPackages", "value": "ae-26"}  # the dialog shows it
    assert [v["value"] for v in values if v["name"] == "CondaPackages"] == ["ae-26"]
    assert "Concurrency" not in [v["name"] for v in values]
    refs = load_yaml(out / "asset_references.yaml")["assetReferences"]
    assert "/extra/lut.cube" in refs["inputs"]["filenames"]


@pytest.mark.parametrize(
    ("tamper", "needle"),
    [
        (lambda b: (b / "scripts" / "stmpo_render.py").unlink(), "entry point"),
        (lambda b: (b / "template.yaml").unlink(), "template.yaml"),
        (
            lambda b: (b / "template.yaml").write_text(
                (b / "template.yaml")
                .read_text(encoding="utf-8")
                .replace("{{Param.Python}}", "{{Param.Pyhton}}", 1),
                encoding="utf-8",
            ),
            "Pyhton",
        ),
        (
            lambda b: (b / "parameter_values.yaml").write_text(
                "parameterValues:\n- {name: Concurrency, value: -4}\n"
                "- {name: ProjectFile, value: /p.aep}\n",
                encoding="utf-8",
            ),
            "Concurrency",
        ),
    ],
    ids=["no-worker", "no-template", "bad-format-string", "bad-value"],
)
def test_validate_bundle_dir_rejects_tampered_bundles(tamper, needle: str, tmp_path: Path) -> None:
    out = write_bundle(build_bundle(make_export([item(1)])), tmp_path / "b")
    tamper(out)
    with pytest.raises(BundleError) as info:
        validate_bundle_dir(out)
    assert needle in info.value.render()


def test_a_template_too_big_for_create_job_is_refused(tmp_path: Path) -> None:
    out = write_bundle(build_bundle(many_items(3)), tmp_path / "b")
    size = len((out / "template.yaml").read_text(encoding="utf-8"))
    validate_bundle_dir(out, max_template_chars=size)
    with pytest.raises(BundleError) as info:
        validate_bundle_dir(out, max_template_chars=size - 1)
    assert "larger ChunkSize" in info.value.render()


def test_chunk_size_is_pinned_to_the_value_the_tasks_were_cut_with(tmp_path: Path) -> None:
    """A different ChunkSize after building would silently change nothing: OpenJD refuses it."""
    from openjd.model import (
        DecodeValidationError,
        ParameterValue,
        ParameterValueType,
        create_job,
        decode_job_template,
    )
    from stmpo.bundle import BundleSettings, build_bundle
    from stmpo.export import load_export

    built = build_bundle(
        load_export(examples_dir() / "several_items.json"),
        BundleSettings(parameters={"ChunkSize": "10"}),
    )
    template = decode_job_template(template=built.template)
    values = {
        v["name"]: ParameterValue(
            type=ParameterValueType.PATH if v["name"] == "ProjectFile" else ParameterValueType.INT,
            value=str(v["value"]),
        )
        for v in built.parameter_values
        if v["name"] in ("ProjectFile", "ChunkSize")
    }
    create_job(job_template=template, job_parameter_values=values)  # the baked value is fine
    values["ChunkSize"] = ParameterValue(type=ParameterValueType.INT, value="5")
    with pytest.raises((DecodeValidationError, ValueError), match="ChunkSize"):
        create_job(job_template=template, job_parameter_values=values)
