"""`stmpo doctor`'s farm checks: the `deadline` configuration, credentials, and whether
the farm and queue answer (GetFarm, GetQueue).

They read the same settings `stmpo submit` and the submitter use (the deadline
library's config file and its boto3 session), so a pass here means a submission gets
as far as CreateJob. Secrets are never shown: credentials are named by where botocore
found them (`env`, `shared-credentials-file`, `sso`, ...), never by value.
"""

from __future__ import annotations

from configparser import ConfigParser
from dataclasses import dataclass
from typing import Any

from stmpo.doctor_checks import MISSING, OK, WARN, Check

_SET_FARM = "deadline config set defaults.farm_id farm-... (or choose it in Deadline Cloud monitor)"
_SET_QUEUE = "deadline config set defaults.queue_id queue-..."
_LOGIN = (
    "log in with Deadline Cloud monitor (`deadline auth login`), or configure an AWS "
    "profile (`aws configure` / `aws sso login`) and `deadline config set "
    "defaults.aws_profile_name NAME`"
)


@dataclass(frozen=True)
class Target:
    config: ConfigParser | None
    farm_id: str
    queue_id: str
    profile: str
    #: Where each id came from, for the fix a miss points to: the argument or the config.
    farm_from: str = "config"
    queue_from: str = "config"

    def fix_for(self, name: str) -> str:
        """A farm or queue the service refuses: fix what named it."""
        if name == "farm" and self.farm_from != "config":
            return f"check {self.farm_from} (or drop it to use {_SET_FARM.split(' (')[0]})"
        if name == "queue" and self.queue_from != "config":
            return f"check {self.queue_from} (or drop it to use {_SET_QUEUE})"
        return _SET_FARM if name == "farm" else _SET_QUEUE


def config_check(
    farm_id: str | None, queue_id: str | None, profile: str | None
) -> tuple[Check, Target]:
    """The deadline config's profile, farm and queue, with the arguments winning."""
    from deadline.client.config import config_file

    from stmpo.errors import StmpoError
    from stmpo.submit.deadline_submit import deadline_config as _config

    where = str(config_file.get_config_file_path())
    try:
        config = _config(profile)
    except StmpoError as exc:
        return Check("deadline-config", MISSING, exc.render(), f"fix or move {where}"), Target(
            None, "", "", ""
        )
    farm = farm_id or config_file.get_setting("defaults.farm_id", config=config) or ""
    queue = queue_id or config_file.get_setting("defaults.queue_id", config=config) or ""
    chosen = config_file.get_setting("defaults.aws_profile_name", config=config) or "(default)"
    farm_from = "--farm-id" if farm_id else "config"
    queue_from = "--queue-id" if queue_id else "config"
    target = Target(config, farm, queue, chosen, farm_from, queue_from)
    if not farm:
        return Check("deadline-config", MISSING, f"no farm chosen ({where})", _SET_FARM), target
    if not queue:
        return Check("deadline-config", MISSING, f"no queue chosen ({where})", _SET_QUEUE), target

    def named(what: str, value: str, source: str) -> str:
        return f"{what} {value}" + (f" (from {source})" if source != "config" else "")

    return (
        Check(
            "deadline-config",
            OK,
            f"profile {chosen}, {named('farm', farm, farm_from)}, "
            f"{named('queue', queue, queue_from)} ({where})",
        ),
        target,
    )


def session_and_credentials(target: Target) -> tuple[Check, Any]:
    """The deadline library's boto3 session for the profile, and whether botocore finds
    credentials for it (resolving them, as a submission would, without showing any)."""
    from deadline.client.api import get_boto3_session

    if target.config is None:
        return Check(
            "credentials", MISSING, "not checked: fix the deadline configuration first"
        ), None
    try:
        session = get_boto3_session(force_refresh=True, config=target.config)
        credentials = session.get_credentials()
    except Exception as exc:  # botocore's ProfileNotFound, a failing credential_process...
        detail = " ".join(str(exc).split())[:300]
        return Check("credentials", MISSING, f"profile {target.profile}: {detail}", _LOGIN), None
    if credentials is None:
        return (
            Check("credentials", MISSING, f"profile {target.profile}: no AWS credentials", _LOGIN),
            None,
        )
    method = getattr(credentials, "method", "") or "botocore"
    region = session.region_name
    if not region:
        return (
            Check(
                "credentials",
                MISSING,
                f"profile {target.profile}: credentials from {method}, but no AWS region",
                "set a region: aws configure set region us-west-2 (the farm's region)",
            ),
            None,
        )
    return (
        Check("credentials", OK, f"profile {target.profile}: credentials from {method}, {region}"),
        session,
    )


def reachability_checks(target: Target, session: Any) -> list[Check]:
    """GetFarm and GetQueue, one attempt each with short timeouts: a wrangler runs doctor
    to find out quickly, not to wait through botocore's retries."""
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    client = session.client(
        "deadline",
        config=Config(connect_timeout=5, read_timeout=15, retries={"max_attempts": 1}),
    )
    checks: list[Check] = []
    calls = (
        ("farm", lambda: client.get_farm(farmId=target.farm_id), target.fix_for("farm")),
        (
            "queue",
            lambda: client.get_queue(farmId=target.farm_id, queueId=target.queue_id),
            target.fix_for("queue"),
        ),
    )
    for name, call, fix in calls:
        try:
            answer = call()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "error")
            message = " ".join(str(error.get("Message", "")).split())[:200]
            if code in ("AccessDeniedException", "UnrecognizedClientException"):
                fix = _LOGIN + "; the role needs deadline:Get" + name.title()
            checks.append(Check(name, MISSING, f"{code}: {message}", fix))
            if name == "farm":
                break
            continue
        except (BotoCoreError, OSError) as exc:
            detail = " ".join(str(exc).split())[:300]
            checks.append(
                Check(
                    name,
                    MISSING,
                    f"Deadline Cloud did not answer: {detail}",
                    "check the network, a proxy (HTTPS_PROXY) and the region",
                )
            )
            break
        if name == "farm":
            checks.append(Check("farm", OK, f"{answer.get('displayName', '')} ({target.farm_id})"))
            continue
        status = answer.get("status", "")
        title = f"{answer.get('displayName', '')} ({target.queue_id})"
        if status == "SCHEDULING_BLOCKED":
            reason = answer.get("blockedReason", "")
            checks.append(
                Check(
                    "queue",
                    WARN,
                    f"{title} is SCHEDULING_BLOCKED ({reason}): jobs will wait",
                    "give the queue a fleet association and a role (Deadline Cloud console)",
                )
            )
        elif "jobAttachmentSettings" not in answer:
            checks.append(
                Check(
                    "queue",
                    WARN,
                    f"{title} has no job attachments bucket: the project cannot be uploaded",
                    "set the queue's job attachments (Deadline Cloud console)",
                )
            )
        else:
            checks.append(Check("queue", OK, f"{title}, {status}"))
    return checks
