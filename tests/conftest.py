"""Test-wide safety: nothing here may reach the internet or a real AWS account.

Set before any test imports boto3 or the deadline library (both read the environment
at import or first use): no instance-metadata lookups, no telemetry, Qt offscreen.
"""

from __future__ import annotations

import os

os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
os.environ["DEADLINE_CLOUD_TELEMETRY_OPT_OUT"] = "true"
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["NO_PROXY"] = ",".join(
    filter(None, [os.environ.get("NO_PROXY", ""), "127.0.0.1", "localhost"])
)
