"""YAML in and out, with libyaml's C loader and dumper when PyYAML has them.

Job templates reach several hundred KB for 100-item jobs; the C implementations are
5-10x faster (bench/bench_submit.py) and accept and produce the same safe YAML, so every
reader and writer of bundle files goes through here.

Reading is bounded: YAML anchors and aliases let a 1 KB file ("billion laughs") expand
into gigabytes of nested lists that every later walk of the document repeats, and a few
thousand nested brackets make PyYAML's constructor recurse into a RecursionError. Bundle
files never need either (the dumper here writes no aliases), so `load_yaml` reads the
event stream first, at about a fifth of the cost of loading, and refuses them.
"""

from __future__ import annotations

from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

#: Far beyond a job template (about 8 levels), far below the recursion limit.
MAX_YAML_DEPTH = 64


class RefusedYaml(yaml.YAMLError):
    """YAML that is well formed but refused: an anchor or alias, or nesting too deep."""


class _NoAliasDumper(_DUMPER):  # type: ignore[misc,valid-type]
    """Writes a value that occurs twice in a document twice, never as an alias, so what
    we write is always what `load_yaml` accepts."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _where(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1} column {mark.column + 1}" if mark is not None else "?"


def _check_events(text: str) -> None:
    depth = 0
    for event in yaml.parse(text, Loader=_LOADER):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise RefusedYaml(
                f"{_where(event)}: YAML anchors and aliases (&name, *name) are refused: "
                "stmpo writes none, and an alias can expand a small file into gigabytes"
            )
        if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            depth += 1
            if depth > MAX_YAML_DEPTH:
                raise RefusedYaml(
                    f"{_where(event)}: nested more than {MAX_YAML_DEPTH} levels deep; "
                    "a job bundle file nests a few levels"
                )
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            depth -= 1


def load_yaml(text: str) -> Any:
    """The document in `text`; RefusedYaml (a yaml.YAMLError) for aliases or deep nesting."""
    _check_events(text)
    return yaml.load(text, Loader=_LOADER)


def dump_yaml(data: Any) -> str:
    return yaml.dump(
        data, Dumper=_NoAliasDumper, allow_unicode=True, sort_keys=False, width=1 << 16
    )
