"""Where the worker scripts, template sources and resources are.

They live at the top of a source checkout and inside the wheel as `stmpo._worker_scripts`,
`stmpo._job_bundle` and `stmpo._resources`; both layouts must work because artists run
an installed submitter and developers run the checkout.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

_CHECKOUT_ROOT = Path(__file__).resolve().parents[2]


def _folder(checkout_name: str, package: str) -> Path:
    in_checkout = _CHECKOUT_ROOT / checkout_name
    if (_CHECKOUT_ROOT / "pyproject.toml").is_file() and in_checkout.is_dir():
        return in_checkout
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"cannot find {checkout_name}/ (package {package})")
    return Path(next(iter(spec.submodule_search_locations)))


def worker_scripts_dir() -> Path:
    return _folder("worker_scripts", "stmpo._worker_scripts")


def job_bundle_dir() -> Path:
    return _folder("job_bundle", "stmpo._job_bundle")


def resources_dir() -> Path:
    return _folder("resources", "stmpo._resources")


def examples_dir() -> Path:
    return resources_dir() / "examples"


def sample_exports() -> list[Path]:
    """Every sample export: those that go through as shipped (`examples/*.json`, what
    `stmpo submit resources/examples/*.json` takes), then `examples/edge_cases/`, which
    need an argument by design (resources/examples/README.md)."""
    examples = examples_dir()
    return sorted(examples.glob("*.json")) + sorted(examples.glob("edge_cases/*.json"))


def aerender_standin() -> Path:
    return resources_dir() / "aerender_standin.py"
