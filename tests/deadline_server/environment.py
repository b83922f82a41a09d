"""A local stand-in for an AWS account: moto (S3, STS) + the Deadline server + a HOME.

`LocalAws.client_env(home)` is the whole environment a `stmpo submit` subprocess needs:
endpoints on 127.0.0.1, dummy keys, no inherited profile or session token, no proxy for
the local servers, telemetry off, and a HOME whose `~/.deadline/config` names the
test farm and queue. Each test gets its own HOME, so no cache or session leaks between
runs.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from .moto_process import MotoServer
from .server import DeadlineServer

BUCKET = "stmpo-test-attachments"
REGION = "us-west-2"

_DROP_PREFIXES = ("AWS_", "DEADLINE_")
_DROP = {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"}


def write_deadline_config(
    home: Path, farm_id: str | None, queue_id: str | None, extra: Mapping[str, str] | None = None
) -> Path:
    """Write `~/.deadline/config` with the library's own settings layout."""
    from deadline.client.config import config_file

    config = configparser.ConfigParser()
    settings = {"defaults.aws_profile_name": "(default)"}
    if farm_id:
        settings["defaults.farm_id"] = farm_id
    if queue_id:
        settings["defaults.queue_id"] = queue_id
    settings.update(extra or {})
    for name, value in settings.items():
        config_file.set_setting(name, value, config=config)
    path = home / ".deadline" / "config"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        config.write(handle)
    return path


@dataclass
class LocalAws:
    moto: MotoServer
    deadline: DeadlineServer

    @classmethod
    def start(cls, *, validate_templates: bool = True) -> LocalAws:
        moto = MotoServer().start()
        try:
            deadline = DeadlineServer(BUCKET, validate_templates=validate_templates).start()
        except BaseException:
            moto.stop()
            raise
        local = cls(moto, deadline)
        local.s3().create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        return local

    def stop(self) -> None:
        try:
            self.deadline.stop()
        finally:
            self.moto.stop()

    @property
    def farm_id(self) -> str:
        return self.deadline.state.farm.farm_id

    @property
    def queue_id(self) -> str:
        return self.deadline.state.queue.queue_id

    @property
    def root_prefix(self) -> str:
        return self.deadline.state.queue.root_prefix

    def s3(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.moto.endpoint_url,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(s3={"addressing_style": "path"}, proxies={}),
        )

    def objects(self, prefix: str = "") -> dict[str, bytes]:
        """Every object under `prefix` with its content."""
        client = self.s3()
        out: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
            for item in page.get("Contents", []):
                out[item["Key"]] = client.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        return out

    def client_env(
        self,
        home: Path,
        *,
        farm_id: str | None = "default",
        queue_id: str | None = "default",
        base: Mapping[str, str] | None = None,
    ) -> dict[str, str]:
        """Environment for a client process; farm/queue None leaves them unconfigured."""
        farm = self.farm_id if farm_id == "default" else farm_id
        queue = self.queue_id if queue_id == "default" else queue_id
        write_deadline_config(home, farm, queue)
        source = os.environ if base is None else base
        env = {
            k: v for k, v in source.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP
        }
        env.update(
            {
                "HOME": str(home),
                "USERPROFILE": str(home),
                "AWS_ACCESS_KEY_ID": "AKIASTMPOTEST",
                "AWS_SECRET_ACCESS_KEY": "stmpo-test-secret",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
                "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
                "AWS_ENDPOINT_URL_DEADLINE": self.deadline.endpoint_url,
                "AWS_ENDPOINT_URL_S3": self.moto.endpoint_url,
                "AWS_ENDPOINT_URL_STS": self.moto.endpoint_url,
                "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
                "AWS_EC2_METADATA_DISABLED": "true",
                "DEADLINE_CLOUD_TELEMETRY_OPT_OUT": "true",
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        return env
