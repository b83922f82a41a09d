"""Package `__init__`s that import their public names on first use.

`stmpo --help` imports every command module, and with it the package around it
(`stmpo.bundle.command_bundle` runs `stmpo/bundle/__init__.py`). An `__init__` that
imported its whole package would load pydantic, yaml and botocore's friends before
argparse printed a line; this keeps the package's public names without that cost.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(package: str, homes: Mapping[str, str]) -> Callable[[str], Any]:
    """A module `__getattr__` for `package`: name -> the module it is defined in.

    Assign it under `if not TYPE_CHECKING:` beside `if TYPE_CHECKING:` imports of the same
    names: type checkers then see real types, and a misspelt name is still an error.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        setattr(sys.modules[package], name, value)  # the next lookup is a plain attribute
        return value

    return __getattr__
