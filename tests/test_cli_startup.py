"""`stmpo --help` loads each command module; those must not load the heavy libraries.

Each command keeps pydantic, yaml, Qt, boto3 and openjd inside `run`, and the packages
around the command modules (`stmpo.bundle`, `stmpo.export`, `stmpo.submit`) import their
public names on first use, so building the parser costs none of them.
"""

import subprocess
import sys

import pytest
import stmpo.bundle
import stmpo.export
import stmpo.fonts
import stmpo.submit
from stmpo.cli import COMMANDS

HEAVY = ("pydantic", "yaml", "deadline", "openjd", "PySide6", "boto3", "botocore", "fontTools")

#: Every command of the CLI: building the whole parser must stay light.
LIGHT_COMMANDS = COMMANDS


def test_command_modules_load_no_heavy_library() -> None:
    code = (
        "import sys, argparse\n"
        f"for name in {LIGHT_COMMANDS!r}:\n"
        "    module = __import__(name, fromlist=['add_parser'])\n"
        "    module.add_parser(argparse.ArgumentParser().add_subparsers())\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("package", [stmpo.bundle, stmpo.export, stmpo.fonts, stmpo.submit])
def test_every_public_name_of_a_lazy_package_resolves(package: object) -> None:
    for name in package.__all__:  # type: ignore[attr-defined]
        value = getattr(package, name)  # AttributeError if its home module is wrong
        assert vars(package)[name] is value  # kept: the next lookup imports nothing
    with pytest.raises(AttributeError, match="no_such_name"):
        package.no_such_name  # type: ignore[attr-defined]  # noqa: B018
