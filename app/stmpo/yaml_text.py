"""YAML in and out, with libyaml's C loader and dumper when PyYAML has them.

Job templates reach several hundred KB for 100-item jobs; the C implementations are
5-10x faster (bench/bench_submit.py) and accept and produce the same safe YAML, so every
reader and writer of bundle files goes through here.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_LOADER)


def dump_yaml(data: Any) -> str:
    return yaml.dump(data, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=1 << 16)
