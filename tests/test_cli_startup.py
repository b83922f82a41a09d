"""`stmpo --help` loads each command module; those must not load the heavy libraries.

Each command keeps pydantic, yaml, Qt, boto3 and openjd inside `run`, and all of them
live in `stmpo.commands`, whose `__init__` imports nothing: the packages holding the work
(`stmpo.bundle`, `stmpo.export`, `stmpo.submit`, `stmpo.fonts`) import their public names
plainly, and `stmpo --help` never runs their `__init__`.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import stmpo
import stmpo.commands
from stmpo.cli import COMMANDS

HEAVY = ("pydantic", "yaml", "deadline", "openjd", "PySide6", "boto3", "botocore", "fontTools")
APP = Path(stmpo.__file__).resolve().parent
#: The packages whose public names other code imports from the package itself.
PUBLIC_PACKAGES = ("stmpo.bundle", "stmpo.export", "stmpo.fonts", "stmpo.submit")


def _heavy_after(code: str) -> list[str]:
    probe = code + f"\nprint(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return list(ast.literal_eval(result.stdout.strip().splitlines()[-1]))


def test_building_the_whole_parser_loads_no_heavy_library() -> None:
    """What `stmpo --help` runs: every command's `add_parser`, the shared arguments included."""
    assert _heavy_after("import sys, stmpo.cli\nstmpo.cli.build_parser()") == []


def test_the_probe_sees_a_command_module_that_imports_a_heavy_library(tmp_path: Path) -> None:
    """The check above would catch a command importing pydantic at module level."""
    (tmp_path / "heavy_command.py").write_text("import pydantic\n", "utf-8")
    code = f"import sys\nsys.path.insert(0, {str(tmp_path)!r})\nimport stmpo.cli, heavy_command"
    assert _heavy_after(code) == ["pydantic"]


def test_stmpo_help_imports_no_package_init_but_the_commands_one() -> None:
    """The `stmpo` entry point itself, run with `--help` as the console script runs it."""
    probe = (
        "import sys\n"
        "sys.argv = ['stmpo', '--help']\n"
        "from stmpo.entry import stmpo\n"
        "try:\n"
        "    stmpo()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print(sorted(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    assert "doctor" in result.stdout
    loaded = set(ast.literal_eval(result.stdout.strip().splitlines()[-1]))
    assert set(COMMANDS) <= loaded
    top = {name.split(".")[0] for name in loaded}
    assert top.isdisjoint(HEAVY), sorted(top & set(HEAVY))
    work_packages = {"stmpo.bundle", "stmpo.export", "stmpo.submit", "stmpo.fonts", "stmpo.local"}
    assert loaded.isdisjoint(work_packages | {"stmpo.aep", "stmpo.gui"})


def test_every_command_module_lives_in_stmpo_commands() -> None:
    """One package of command modules, each named for its command, none left out."""
    assert all(name.startswith("stmpo.commands.") for name in COMMANDS), COMMANDS
    on_disk = {
        f"stmpo.commands.{path.stem}"
        for path in (APP / "commands").glob("*.py")
        if path.name != "__init__.py"
    }
    assert on_disk == set(COMMANDS)
    init = ast.parse((APP / "commands" / "__init__.py").read_text("utf-8"))
    assert not [node for node in ast.walk(init) if isinstance(node, ast.Import | ast.ImportFrom)]


def _defines_getattr(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__":
            return True
        for inner in ast.walk(node):
            if isinstance(inner, ast.Name) and inner.id == "__getattr__":
                return True
    return False


def test_no_package_init_loads_its_names_lazily() -> None:
    """No `stmpo.lazy_exports`, and no module `__getattr__` in any package `__init__`."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("stmpo.lazy_exports")
    lazy = [
        str(init.relative_to(APP))
        for init in APP.rglob("__init__.py")
        if _defines_getattr(ast.parse(init.read_text("utf-8")))
    ]
    assert lazy == []


@pytest.mark.parametrize("name", PUBLIC_PACKAGES)
def test_every_public_name_of_a_package_is_a_plain_attribute(name: str) -> None:
    package = importlib.import_module(name)
    for public in package.__all__:
        assert public in vars(package), f"{name}.{public}"
