"""Would a real Deadline Cloud worker run this job? Checks on a written bundle's template.

A worker agent takes a step only when the step's `hostRequirements` match the worker's
capabilities (OpenJD 2023-09 "Host Requirements": every attribute requirement's `anyOf`
must contain, and `allOf` be contained in, the worker's values for that attribute; every
amount must lie within `min`/`max`; the worker agent reports `attr.worker.os.family` as
`linux`, `windows` or `macos`). Without an OS requirement a job is offered to Linux
workers, where After Effects does not exist; without a `timeout` an action that hangs
holds the worker until someone notices (OpenJD: no timeout means "run forever").

Each check returns human-readable refusals, empty when the worker would accept the job.
`worker_refusals` runs them all; two checks belong to other parts of issue 9 and are
hooks that accept everything until they are wired (see their TODOs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Worker:
    """The capabilities a worker agent reports (attribute values and amounts)."""

    attributes: Mapping[str, tuple[str, ...]]
    amounts: Mapping[str, float] = field(default_factory=dict)


#: A service-managed Windows fleet worker (c5/m5-class instance, 16 vCPU, 64 GiB).
WINDOWS_SMF = Worker(
    {"attr.worker.os.family": ("windows",), "attr.worker.cpu.arch": ("x86_64",)},
    {"amount.worker.vcpu": 16, "amount.worker.memory": 65536, "amount.worker.gpu": 0},
)
#: The same on Linux: After Effects has no Linux build, a job must never land here.
LINUX_SMF = Worker(
    {"attr.worker.os.family": ("linux",), "attr.worker.cpu.arch": ("x86_64",)},
    WINDOWS_SMF.amounts,
)


def actions(template: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every action of the template, named `<environment or step>.<action>`."""
    environments = list(template.get("jobEnvironments") or [])
    for step in template.get("steps") or []:
        environments += [env for env in step.get("stepEnvironments") or []]
    for env in environments:
        for name, action in (env.get("script") or {}).get("actions", {}).items():
            yield f"{env['name']}.{name}", action
    for step in template.get("steps") or []:
        for name, action in step["script"]["actions"].items():
            yield f"{step['name']}.{name}", action


def step_matches(step: Mapping[str, Any], worker: Worker) -> bool:
    """Does `worker` satisfy the step's host requirements (OpenJD 2023-09 semantics)?"""
    requirements = step.get("hostRequirements") or {}
    for attribute in requirements.get("attributes") or []:
        have = set(worker.attributes.get(attribute["name"], ()))
        if "anyOf" in attribute and not have & set(attribute["anyOf"]):
            return False
        if "allOf" in attribute and not set(attribute["allOf"]) <= have:
            return False
    for amount in requirements.get("amounts") or []:
        value = worker.amounts.get(amount["name"])
        if value is None:
            return False
        if value < amount.get("min", float("-inf")) or value > amount.get("max", float("inf")):
            return False
    return True


def os_problems(template: Mapping[str, Any]) -> list[str]:
    """Every step runs on a Windows service-managed worker and never on a Linux one."""
    problems = []
    for step in template.get("steps") or []:
        if not step_matches(step, WINDOWS_SMF):
            problems.append(f"{step['name']}: no Windows worker matches its hostRequirements")
        if step_matches(step, LINUX_SMF):
            problems.append(f"{step['name']}: would run on Linux workers (no OS requirement)")
    return problems


def timeout_problems(template: Mapping[str, Any]) -> list[str]:
    """Every action, environment and step, ends by itself: a positive `timeout`."""
    problems = []
    for where, action in actions(template):
        timeout = action.get("timeout")
        if not isinstance(timeout, int) or timeout <= 0:
            problems.append(f"{where}: no timeout (a hung action holds the worker forever)")
    return problems


def conda_problems(
    template: Mapping[str, Any], parameter_values: list[Mapping[str, Any]]
) -> list[str]:
    """A service-managed fleet has no After Effects but what the queue's conda
    environment installs: `CondaPackages` must name an `aftereffects=X.Y` package (the
    bundle's default from the exporting AE) and `CondaChannels` the `deadline-cloud`
    channel that carries it."""
    problems = []
    names = {p["name"] for p in template.get("parameterDefinitions", [])}
    if not {"CondaPackages", "CondaChannels"} <= names:
        return ["the template defines no CondaPackages/CondaChannels: nothing installs AE"]
    values = {v["name"]: str(v["value"]) for v in parameter_values}
    defaults = {p["name"]: str(p.get("default", "")) for p in template["parameterDefinitions"]}
    packages = values.get("CondaPackages", defaults["CondaPackages"])
    if not re.fullmatch(r"aftereffects=\d+(\.\d+)?", packages.strip()):
        problems.append(f"CondaPackages is {packages!r}, not an aftereffects=X.Y package")
    channels = values.get("CondaChannels", defaults["CondaChannels"])
    if "deadline-cloud" not in channels.split():
        problems.append(f"CondaChannels {channels!r} lacks the deadline-cloud channel")
    return problems


def command_line_problems(template: Mapping[str, Any]) -> list[str]:
    """Every action's command line, resolved with 200-character paths, within the 1,000
    characters a worker agent starting jobs with CreateProcessWithLogonW accepts
    (`stmpo.bundle.command_lines`, itself tested in test_command_lines.py)."""
    from stmpo.bundle.command_lines import too_long

    return too_long(template)


def worker_refusals(
    template: Mapping[str, Any], parameter_values: list[Mapping[str, Any]]
) -> list[str]:
    """Why a worker would refuse or mishandle this job; empty when it would run it."""
    return [
        *os_problems(template),
        *timeout_problems(template),
        *conda_problems(template, parameter_values),
        *command_line_problems(template),
    ]


def typed_parameters(
    template: Mapping[str, Any], parameter_values: list[Mapping[str, Any]]
) -> dict[str, dict[str, str]]:
    """parameter_values.yaml as CreateJob's `parameters` (the deadline library's mapping:
    the template's type, lower-cased, keys a string value); `deadline:*` and queue
    parameters the template does not define are left out, as the library sends them
    elsewhere."""
    types = {d["name"]: d["type"].lower() for d in template.get("parameterDefinitions") or []}
    return {
        str(v["name"]): {types[v["name"]]: str(v["value"])}
        for v in parameter_values
        if v["name"] in types
    }
