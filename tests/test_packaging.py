"""The wheel an artist installs holds everything the checkout has: scripts, templates, resources.

`pyproject.toml` lists packages by hand (three are mapped from top-level folders), so a new
sub-package or data file can be left out of the wheel while every checkout test passes.
Here the wheel is built offline from a copy of the checkout, installed without the
checkout on the path into a fresh venv, and asked where its files are.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import pytest

try:
    import tomllib
except ImportError:  # Python 3.10: pytest depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
PACKAGE_DIRS: dict[str, str] = SETUPTOOLS["package-dir"]
PACKAGES: list[str] = SETUPTOOLS["packages"]
DATA_PATTERNS: list[str] = SETUPTOOLS["package-data"]["*"]
NOT_SOURCE = {".git", ".venv", "build", "dist", "node_modules", "__pycache__", ".mypy_cache"}

pytestmark = pytest.mark.packaging


def _skip(name: str) -> bool:
    return name in NOT_SOURCE or name.startswith(".") or name.endswith((".egg-info", ".pyc"))


def _package_dirs() -> dict[str, Path]:
    """Every folder holding files under each mapped root, as its dotted package name."""
    found: dict[str, Path] = {}
    for package, folder in PACKAGE_DIRS.items():
        root = ROOT / folder
        for here, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if not _skip(d))
            if any(not _skip(f) for f in files):
                rel = Path(here).relative_to(root)
                found[".".join([package, *rel.parts]) if rel.parts else package] = Path(here)
    return found


def _shipped_files(folder: Path) -> set[str]:
    """Files directly in a package folder that the package-data patterns say ship."""
    return {
        f.name
        for f in folder.iterdir()
        if f.is_file() and not _skip(f.name) and any(fnmatch(f.name, p) for p in DATA_PATTERNS)
    }


def test_every_sub_package_is_listed_in_pyproject() -> None:
    missing = sorted(set(_package_dirs()) - set(PACKAGES))
    assert missing == [], (
        f"add {missing} to [tool.setuptools] packages in pyproject.toml, "
        "or the wheel will not contain them"
    )


def test_every_file_in_a_package_folder_matches_a_package_data_pattern() -> None:
    """A .ttf or .sh dropped into resources/ would silently stay out of the wheel."""
    left_out = sorted(
        str(path.relative_to(ROOT) / f.name)
        for path in _package_dirs().values()
        for f in path.iterdir()
        if f.is_file() and not _skip(f.name) and f.name not in _shipped_files(path)
    )
    assert left_out == [], f"extend [tool.setuptools.package-data] for {left_out}"


PROBE = """
import json, sys
import stmpo
from stmpo import locations
from stmpo.commands.schema import committed_schema_path

def files(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts)

json.dump({
    "stmpo": stmpo.__file__,
    "worker_scripts": str(locations.worker_scripts_dir()),
    "job_bundle": str(locations.job_bundle_dir()),
    "resources": str(locations.resources_dir()),
    "examples": str(locations.examples_dir()),
    "schema": str(committed_schema_path()),
    "files": {
        name: files(getattr(locations, name + "_dir")())
        for name in ("worker_scripts", "job_bundle", "resources")
    },
    "stmpo_files": files(locations.Path(stmpo.__file__).parent),
}, sys.stdout)
"""


def _pip(*args: str) -> None:
    """This venv's pip, offline: the wheel must build from what `make` installed."""
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"pip {' '.join(args)} failed:\n{done.stdout}{done.stderr}"


def _install_and_probe(base: Path) -> dict[str, Any]:
    """Build the wheel, install it into a fresh venv and report what the install sees."""
    base.mkdir(parents=True, exist_ok=True)
    source, dist, env = base / "source", base / "dist", base / "venv"
    shutil.copytree(ROOT, source, ignore=lambda _d, names: [n for n in names if _skip(n)])
    _pip("wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist), str(source))
    (wheel,) = dist.glob("stmpo_ae-*.whl")

    venv.EnvBuilder(with_pip=False).create(env)
    python = env / "bin" / "python"
    _pip("--python", str(python), "install", "--no-deps", "--no-index", str(wheel))
    # The dependencies come from this venv, appended after the new venv's own site-packages;
    # a path line in a .pth does not run this venv's editable-install hook, so the only
    # `stmpo` the new venv can import is the wheel's.
    new_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(new_site, "_stmpo_test_deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n", "utf-8"
    )

    environment = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    outside = base / "elsewhere"
    outside.mkdir()

    def run(*argv: str) -> dict[str, Any]:
        done = subprocess.run(
            argv, cwd=outside, env=environment, capture_output=True, text=True, timeout=120
        )
        return {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}

    probe = run(str(python), "-c", PROBE)
    assert probe["returncode"] == 0, probe["stderr"]
    report: dict[str, Any] = json.loads(probe["stdout"])
    report["env"] = str(env)
    report["help"] = run(str(env / "bin" / "stmpo"), "--help")
    sample = Path(report["examples"]) / "image_sequence.json"
    report["validate"] = run(str(env / "bin" / "stmpo"), "validate-export", str(sample))
    report["schema_text"] = run(str(env / "bin" / "stmpo"), "schema")
    hostile = Path(report["examples"]) / "hostile_names.json"
    bundle = base / "hostile-bundle"
    report["bundle"] = run(str(env / "bin" / "stmpo"), "bundle", str(hostile), "-o", str(bundle))
    report["bundle_validate"] = run(str(env / "bin" / "stmpo"), "validate", str(bundle))
    scripts = bundle / "scripts"
    report["bundle_scripts"] = sorted(
        str(p.relative_to(scripts))
        for p in scripts.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    return report


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One build per test run: under pytest-xdist the workers share it through a lock."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return _install_and_probe(tmp_path_factory.mktemp("packaging"))
    shared = tmp_path_factory.getbasetemp().parent  # this run's folder, common to workers
    result = shared / "packaging-report.json"
    with (shared / "packaging.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not result.is_file():
            report = _install_and_probe(shared / "packaging")
            result.write_text(json.dumps(report), "utf-8")
        loaded: dict[str, Any] = json.loads(result.read_text("utf-8"))
        return loaded


def test_the_installed_stmpo_is_the_wheel_not_the_checkout(installed: dict[str, Any]) -> None:
    assert Path(installed["stmpo"]).is_relative_to(installed["env"])
    for key in ("worker_scripts", "job_bundle", "resources", "examples", "schema"):
        assert Path(installed[key]).is_relative_to(installed["env"]), key
        assert Path(installed[key]).exists(), key


def test_worker_scripts_are_installed(installed: dict[str, Any]) -> None:
    files = installed["files"]["worker_scripts"]
    assert "stmpo_render.py" in files
    assert "stmpo_worker/__init__.py" in files


@pytest.mark.parametrize("name", ["worker_scripts", "job_bundle", "resources"])
def test_every_shipped_file_of_the_checkout_is_installed(
    installed: dict[str, Any], name: str
) -> None:
    root = ROOT / PACKAGE_DIRS[f"stmpo._{name}"]
    expected = {
        str((folder / f).relative_to(root))
        for folder in _package_dirs().values()
        if folder.is_relative_to(root)
        for f in _shipped_files(folder)
    }
    assert expected, f"{root} should hold files"
    assert sorted(expected - set(installed["files"][name])) == []


def test_every_module_of_the_app_is_installed(installed: dict[str, Any]) -> None:
    app = ROOT / PACKAGE_DIRS["stmpo"]
    expected = {str(p.relative_to(app)) for p in app.rglob("*.py") if "__pycache__" not in p.parts}
    assert sorted(expected - set(installed["stmpo_files"])) == []


def test_schema_and_examples_are_installed(installed: dict[str, Any]) -> None:
    resources = installed["files"]["resources"]
    assert "stmpo-ae-export.schema.json" in resources
    assert "examples/image_sequence.json" in resources
    assert "examples/README.md" in resources
    committed = (ROOT / "resources" / "stmpo-ae-export.schema.json").read_text("utf-8")
    assert installed["schema_text"]["returncode"] == 0
    assert installed["schema_text"]["stdout"] == committed


def test_installed_cli_runs(installed: dict[str, Any]) -> None:
    help_ = installed["help"]
    assert help_["returncode"] == 0, help_["stderr"]
    assert "validate-export" in help_["stdout"] and "schema" in help_["stdout"]
    validate = installed["validate"]
    assert validate["returncode"] == 0, validate["stderr"]
    assert ": OK, spot_v012.aep: 1 render queue item" in validate["stdout"]


def test_installed_cli_bundles_and_validates_the_hostile_example(installed: dict[str, Any]) -> None:
    """The bundle's worker scripts come from the wheel's own copy, not the checkout."""
    bundle, validate = installed["bundle"], installed["bundle_validate"]
    assert bundle["returncode"] == 0, bundle["stderr"]
    assert '"hostile_names (6 items)", 6 steps' in bundle["stdout"]
    assert validate["returncode"] == 0, validate["stderr"]
    assert validate["stdout"].rstrip().endswith(": valid")
    scripts = installed["bundle_scripts"]
    assert "stmpo_render.py" in scripts
    worker = ROOT / PACKAGE_DIRS["stmpo._worker_scripts"] / "stmpo_worker"
    expected = {f"stmpo_worker/{p.name}" for p in worker.glob("*.py")}
    assert "stmpo_worker/__init__.py" in expected
    assert sorted(expected - set(scripts)) == []
