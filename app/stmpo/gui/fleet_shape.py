"""The preview's worker shape from the queue's fleets (Deadline Cloud), when reachable.

A queue's tasks go to workers of every fleet associated with it (ListQueueFleetAssociations,
ACTIVE ones only: the others schedule nothing new). Each fleet declares what its workers
have (GetFleet `configuration`: `customerManaged.workerCapabilities` or
`serviceManagedEc2.instanceCapabilities`, `vCpuCount` and `memoryMiB` as min/max ranges).
A task may land on the least of them, so the preview takes the smallest minimum of each:
a plan that fits that worker fits them all. vCPUs are logical CPUs (hyper-threads), the
count the worker's planning uses. Only fleets whose `osFamily` the job's default host
requirement admits (After Effects: Windows and macOS, farm_defaults) count: a Linux
fleet on the same queue (a cache step's, docs/file-cache.md) never renders these tasks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stmpo.farm_defaults import DEFAULT_HOST_REQUIREMENTS

MIB_PER_GB = 1024


#: The OS families the job's steps accept (attr.worker.os.family), as GetFleet spells them.
RENDER_OS_FAMILIES = frozenset(
    value.upper()
    for attribute in DEFAULT_HOST_REQUIREMENTS["attributes"]
    if attribute["name"] == "attr.worker.os.family"
    for value in attribute["anyOf"]
)


@dataclass(frozen=True)
class FleetShape:
    fleet_id: str
    name: str
    vcpus: int
    ram_gb: float
    os_family: str = ""


@dataclass(frozen=True)
class QueueShape:
    """The least worker of the queue's fleets, and how it was found (shown to the artist)."""

    vcpus: int
    ram_gb: float
    note: str


def fleet_shape(fleet: Mapping[str, Any]) -> FleetShape | None:
    """A GetFleet answer's worker minimums; None when it declares none we can read."""
    configuration = fleet.get("configuration") or {}
    capabilities = (configuration.get("customerManaged") or {}).get("workerCapabilities") or (
        configuration.get("serviceManagedEc2") or {}
    ).get("instanceCapabilities")
    if not isinstance(capabilities, Mapping):
        return None
    try:
        vcpus = int(capabilities["vCpuCount"]["min"])
        mib = int(capabilities["memoryMiB"]["min"])
    except (KeyError, TypeError, ValueError):
        return None
    if vcpus < 1 or mib < 1:
        return None
    return FleetShape(
        str(fleet.get("fleetId", "")),
        str(fleet.get("displayName", "")),
        vcpus,
        mib / MIB_PER_GB,
        str(capabilities.get("osFamily", "")).upper(),
    )


def least_worker(shapes: Sequence[FleetShape]) -> QueueShape | None:
    """The least worker of the fleets that can render these jobs (an unknown OS counts:
    better a plan for a fleet that might not render than none); None when there is none."""
    render = [s for s in shapes if not s.os_family or s.os_family in RENDER_OS_FAMILIES]
    others = [s for s in shapes if s not in render]
    if not render:
        return None
    vcpus = min(shape.vcpus for shape in render)
    ram = min(shape.ram_gb for shape in render)
    names = ", ".join(f"\u201c{shape.name}\u201d" for shape in render)
    many = f"the least of {len(render)} fleets ({names})" if len(render) > 1 else f"fleet {names}"
    note = f"Worker shape from {many}: {vcpus} vCPUs, {ram:g} GB"
    if others:
        skipped = ", ".join(f"\u201c{s.name}\u201d ({s.os_family.title()})" for s in others)
        note += f"; not {skipped}: these jobs run on Windows or macOS workers"
    return QueueShape(vcpus, ram, note)


def queue_fleet_shapes(client: Any, farm_id: str, queue_id: str) -> list[FleetShape]:
    """The readable shapes of the ACTIVE fleets serving the queue (a botocore `deadline`
    client; its errors propagate to the caller, which keeps the hand-typed shape)."""
    fleet_ids: list[str] = []
    pages = client.get_paginator("list_queue_fleet_associations").paginate(
        farmId=farm_id, queueId=queue_id
    )
    for page in pages:
        for association in page.get("queueFleetAssociations", []):
            if association.get("status") == "ACTIVE":
                fleet_ids.append(association["fleetId"])
    shapes = []
    for fleet_id in fleet_ids:
        shape = fleet_shape(client.get_fleet(farmId=farm_id, fleetId=fleet_id))
        if shape is not None:
            shapes.append(shape)
    return shapes
