"""A local Deadline Cloud for tests: rest-json server + moto (S3/STS) + client environment.

Use `LocalAws.start()` (or `python -m tests.deadline_server` for manual runs); see
`environment.py` for the client environment and `server.py` for the recorded requests.
"""

from .environment import BUCKET, REGION, LocalAws, write_deadline_config
from .moto_process import MotoServer
from .protocol import ServiceError
from .server import DeadlineServer, Recorded
from .service import DeadlineState, Fleet, Queue, StorageProfile

__all__ = [
    "BUCKET",
    "REGION",
    "DeadlineServer",
    "DeadlineState",
    "Fleet",
    "LocalAws",
    "MotoServer",
    "Queue",
    "Recorded",
    "ServiceError",
    "StorageProfile",
    "write_deadline_config",
]
