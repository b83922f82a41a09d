"""Test-wide safety: nothing here may reach the internet or a real AWS account.

Set before any test imports boto3 or the deadline library (both read the environment
at import or first use): no instance-metadata lookups, no telemetry, Qt offscreen.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from deadline_server import LocalAws

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["DEADLINE_CLOUD_TELEMETRY_OPT_OUT"] = "true"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["NO_PROXY"] = ",".join(
    filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])
)


@pytest.fixture(scope="session")
def local_aws() -> Iterator[LocalAws]:
    """One local Deadline Cloud + moto per test process, shared by the wire tests."""
    from deadline_server import LocalAws

    local = LocalAws.start()
    try:
        yield local
    finally:
        local.stop()


@pytest.fixture
def aws(local_aws: LocalAws) -> Iterator[LocalAws]:
    """The shared servers with a clean request log; fails a test that hit a missing op."""
    local_aws.deadline.reset()
    yield local_aws
    unhandled = list(local_aws.deadline.unhandled)
    local_aws.deadline.reset()
    assert unhandled == [], f"the client called operations the server lacks: {unhandled}"
