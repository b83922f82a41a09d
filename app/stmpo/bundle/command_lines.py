"""How long each action's command line can get on a Windows worker. Pure.

Windows refuses a command line over 32,767 characters, and a worker agent that starts
actions as another user through `CreateProcessWithLogonW` refuses one over 1,024. So
every action (step and environment) must stay within `MAX_COMMAND_LINE` even when the
session folder and every path reach `WORST_PATH_LENGTH` characters. The worst case is
resolved here from the template alone: each format string is replaced by the longest
value it can take, and the line is joined as Python's `subprocess` joins it for
`CreateProcess` (`list2cmdline`, with the quotes a path with spaces needs).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator, Mapping
from typing import Any

MAX_COMMAND_LINE = 1000
"""Below `CreateProcessWithLogonW`'s 1,024, with room for the agent's own wrapping."""
WORST_PATH_LENGTH = 200
_REFERENCE = re.compile(r"\{\{\s*([A-Za-z0-9_.]+)\s*\}\}")
_SESSION_VALUES = {"Session.HasPathMappingRules": "false"}


def worst_path(length: int = WORST_PATH_LENGTH) -> str:
    """A Windows path of `length` characters, with spaces (so it is quoted)."""
    head = "C:\\Program Files\\Deadline Session "
    return (head + "x" * length)[:length]


def _longest_number(definition: Mapping[str, Any]) -> str:
    candidates = [definition.get(key) for key in ("default", "minValue", "maxValue")]
    texts = [str(value) for value in candidates if value is not None]
    if definition.get("type") == "INT" and "minValue" not in definition:
        texts.append(str(-(2**63)))
    if definition.get("type") == "INT" and "maxValue" not in definition:
        texts.append(str(2**63 - 1))
    if definition.get("type") == "FLOAT":
        texts.append("-1.2345678901234567e+308")  # repr of a float is at most this long
    return max(texts, key=len)


def parameter_worst(definition: Mapping[str, Any]) -> str:
    """The longest value a job parameter can take here: a path (and any free text, which
    on a worker is a path or an interpreter) is `WORST_PATH_LENGTH` long; a choice is
    its longest choice; a number its longest allowed spelling."""
    kind = definition.get("type")
    if kind in ("INT", "FLOAT"):
        return _longest_number(definition)
    allowed = definition.get("allowedValues")
    if allowed:
        return max((str(value) for value in allowed), key=len)
    limit = definition.get("maxLength")
    if kind == "STRING" and isinstance(limit, int) and limit < WORST_PATH_LENGTH:
        return "x" * limit
    return worst_path()


def _task_worst(definition: Mapping[str, Any]) -> str:
    values = definition.get("range")
    if isinstance(values, list) and values:
        return max((str(value) for value in values), key=len)
    return str(-(2**63))  # a range expression: the longest integer


def worst_values(template: Mapping[str, Any], step: Mapping[str, Any] | None) -> dict[str, str]:
    """Every name a command line of `step` (None: a job environment) may reference."""
    values = dict(_SESSION_VALUES)
    values["Session.WorkingDirectory"] = worst_path()
    values["Session.PathMappingRulesFile"] = worst_path()
    for definition in template.get("parameterDefinitions", ()):
        worst = parameter_worst(definition)
        values[f"Param.{definition['name']}"] = worst
        values[f"RawParam.{definition['name']}"] = worst
    if step is not None:
        space = step.get("parameterSpace") or {}
        for definition in space.get("taskParameterDefinitions", ()):
            worst = _task_worst(definition)
            values[f"Task.Param.{definition['name']}"] = worst
            values[f"Task.RawParam.{definition['name']}"] = worst
    return values


def resolve(text: str, values: Mapping[str, str]) -> str:
    """`text` with every `{{ Name }}` replaced by its worst value (unknown names by a
    worst-case path, so an unforeseen reference never makes the count smaller)."""
    return _REFERENCE.sub(lambda m: values.get(m.group(1), worst_path()), text)


def _actions(template: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any], Any]]:
    for env in template.get("jobEnvironments", ()):
        for name, action in ((env.get("script") or {}).get("actions") or {}).items():
            yield f"job environment {env.get('name')!r} {name}", action, None
    for step in template.get("steps", ()):
        for env in step.get("stepEnvironments", ()):
            for name, action in ((env.get("script") or {}).get("actions") or {}).items():
                where = f"step {step.get('name')!r} environment {env.get('name')!r} {name}"
                yield where, action, None  # no task parameters before the tasks
        for name, action in ((step.get("script") or {}).get("actions") or {}).items():
            yield f"step {step.get('name')!r} {name}", action, step


def worst_command_lines(template: Mapping[str, Any]) -> list[tuple[str, str]]:
    """`(which action, its longest resolved command line)` for every action."""
    lines = []
    for where, action, step in _actions(template):
        values = worst_values(template, step)
        argv = [resolve(str(action["command"]), values)]
        argv += [resolve(str(arg), values) for arg in action.get("args", ())]
        lines.append((where, subprocess.list2cmdline(argv)))
    return lines


def too_long(template: Mapping[str, Any], limit: int = MAX_COMMAND_LINE) -> list[str]:
    """One message per action whose worst-case command line is over `limit`."""
    return [
        f"{where}: its command line can reach {len(line):,} characters on a Windows "
        f"worker (at most {limit:,} fit every worker agent)"
        for where, line in worst_command_lines(template)
        if len(line) > limit
    ]
