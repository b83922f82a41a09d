"""One written bundle -> one Deadline Cloud job, through the `deadline` library.

This is the only module that talks to AWS. It never touches the user's
`~/.deadline/config`: farm, queue and profile go into a copy of that config passed
to `create_job_from_job_bundle`. Job attachments upload the project, footage and
fonts.

No prompt of the library is ever answered on the user's behalf: no confirmation callback
is passed, so the library itself applies the rules of `deadline bundle submit` run
without a terminal. Uploads from folders outside the known asset paths (the project's
folder, `--known-asset-path`, the deadline setting `settings.known_asset_paths`, the
storage profile's LOCAL locations) are refused, by `stmpo.submit.asset_paths` (the
check the dry run makes too) before the library is called; submission hooks run only with `yes`
(`--yes`, which sets `settings.auto_accept` in our copy of the config, exactly what
`deadline bundle submit --yes` does) or the user's own `settings.auto_accept`.
"""

from __future__ import annotations

import configparser
import contextlib
import logging
import os
import re
from collections.abc import Iterable
from configparser import ConfigParser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stmpo import __version__
from stmpo.errors import Problem, StmpoError
from stmpo.submit.asset_paths import (
    StorageProfileView,
    UnknownFolders,
    check_bundle,
    configured_storage_profile,
    refusal_problem,
)
from stmpo.submit.idempotency import CreateJobHooks, create_job_hooks
from stmpo.submit.progress import ProgressCallback, SubmitProgress

log = logging.getLogger("stmpo.submit")

SUBMITTER_NAME = "STMPO for After Effects"
_FARM_ID = re.compile(r"^farm-[0-9a-f]{32}$")
_QUEUE_ID = re.compile(r"^queue-[0-9a-f]{32}$")


class SubmitConfigError(StmpoError):
    """No usable farm, queue or profile: nothing can be submitted."""


class SubmissionCanceled(Exception):
    """The progress callback asked to stop."""


@dataclass(frozen=True)
class Target:
    farm_id: str
    queue_id: str
    profile: str | None = None


def resolve_target(
    farm_id: str | None = None, queue_id: str | None = None, profile: str | None = None
) -> Target:
    """Arguments first, then the deadline config's defaults (for that profile)."""
    from deadline.client.config import config_file

    config = deadline_config(profile)
    farm = farm_id or config_file.get_setting("defaults.farm_id", config=config)
    queue = queue_id or config_file.get_setting("defaults.queue_id", config=config)
    problems: list[Problem] = []
    if profile:
        import botocore.session

        if profile not in botocore.session.Session().available_profiles:
            problems.append(Problem("--profile", f'there is no AWS profile named "{profile}"'))
    if not farm:
        problems.append(
            Problem(
                "--farm-id",
                "no farm configured: pass --farm-id, or set a default with "
                "`deadline config set defaults.farm_id farm-...` or Deadline Cloud monitor",
            )
        )
    elif not _FARM_ID.match(farm):
        problems.append(Problem("--farm-id", f'"{farm}" is not a farm ID (farm-<32 hex digits>)'))
    if not queue:
        problems.append(
            Problem(
                "--queue-id",
                "no queue configured: pass --queue-id, or set a default with "
                "`deadline config set defaults.queue_id queue-...`",
            )
        )
    elif not _QUEUE_ID.match(queue):
        problems.append(
            Problem("--queue-id", f'"{queue}" is not a queue ID (queue-<32 hex digits>)')
        )
    if problems:
        raise SubmitConfigError(problems)
    return Target(farm, queue, profile)


def deadline_config(profile: str | None) -> ConfigParser:
    """A copy of the user's deadline config, for `profile`; the file is never written."""
    from deadline.client.config import config_file

    config = ConfigParser()
    try:
        config.read_dict(config_file.read_config())
    except (configparser.Error, UnicodeDecodeError) as exc:
        where = str(config_file.get_config_file_path())
        why = " ".join(str(exc).split())
        raise StmpoError(
            [Problem(where, f"the Deadline Cloud configuration is damaged ({why}); fix or move it")]
        ) from None
    if profile:
        config_file.set_setting("defaults.aws_profile_name", profile, config=config)
    return config


def _target_config(target: Target) -> ConfigParser:
    from deadline.client.config import config_file

    config = deadline_config(target.profile)
    config_file.set_setting("defaults.farm_id", target.farm_id, config=config)
    config_file.set_setting("defaults.queue_id", target.queue_id, config=config)
    return config


def project_folder_known(project_file: str) -> list[str]:
    """The project's folder as a known asset path: the artist chose it by saving the
    project there. Never a filesystem root or a home folder, whose every subfolder would
    then pass unasked."""
    from stmpo.bundle.upload_policy import broad_folder_reason

    folder = os.path.dirname(os.path.abspath(project_file))
    return [] if broad_folder_reason(folder) is not None else [folder]


def bundle_project_file(bundle_dir: Path) -> str | None:
    """The ProjectFile value of a written bundle's parameter_values."""
    from deadline.client.job_bundle.loader import read_yaml_or_json_object

    values = read_yaml_or_json_object(str(bundle_dir), "parameter_values", required=False) or {}
    for entry in values.get("parameterValues", []) if isinstance(values, dict) else []:
        if isinstance(entry, dict) and entry.get("name") == "ProjectFile":
            value = entry.get("value")
            return value if isinstance(value, str) and value else None
    return None


class ConfirmationRefused(StmpoError):
    """The library wanted a yes that only the user can give (stmpo never answers it)."""


def _unknown_paths(messages: Iterable[str]) -> list[str]:
    """The folders the library listed under "Unknown paths:" in its upload message."""
    found: list[str] = []
    for message in messages:
        lines = str(message).splitlines()
        for number, line in enumerate(lines):
            if line.strip() != "Unknown paths:":
                continue
            for entry in lines[number + 1 :]:
                if not entry.strip():
                    break
                found.append(entry.strip())
    return list(dict.fromkeys(found))


def refusal(messages: list[str]) -> ConfirmationRefused:
    """Why the library canceled, as one Problem naming the argument that allows it.

    `submit_bundle` refuses unknown folders itself before the library is called
    (`stmpo.submit.asset_paths`); this words the library's own list should it still
    cancel for them (its list ends "... and N more", so the fix may name fewer)."""
    text = "\n".join(messages)
    unknown = [path for path in _unknown_paths(messages) if not path.startswith("... and ")]
    if unknown:
        outputs = tuple(p.removeprefix("(output) ") for p in unknown if p.startswith("(output) "))
        inputs = tuple(p for p in unknown if not p.startswith("(output) "))
        return ConfirmationRefused(
            [refusal_problem(UnknownFolders(inputs, outputs, StorageProfileView(checked=True)))]
        )
    if "hooks" in text:
        return ConfirmationRefused(
            [
                Problem(
                    "--yes",
                    "the job would run submission hooks, which need your confirmation; "
                    "nothing was uploaded: pass --yes to run them",
                )
            ]
        )
    return ConfirmationRefused(
        [
            Problem(
                "--known-asset-path",
                "the deadline library canceled the submission for want of a confirmation; "
                "nothing was uploaded: pass --known-asset-path for folders outside the "
                "project's, or --yes for submission hooks (-v shows its message)",
            )
        ]
    )


class _Reporter:
    """Turns the library's callbacks into SubmitProgress events (and honours Cancel)."""

    def __init__(self, on_progress: ProgressCallback | None) -> None:
        self.on_progress = on_progress
        self.hashed_files = 0
        self.stage = ""
        self.cancel_requested = False
        self.messages: list[str] = []

    def emit(self, event: SubmitProgress) -> bool:
        self.stage = event.stage
        if self.on_progress is not None and self.on_progress(event) is False:
            self.cancel_requested = True
        return not self.cancel_requested

    def print(self, message: str) -> None:
        self.messages.append(message)
        for line in str(message).splitlines():
            if line.strip():
                log.info("deadline: %s", line)

    def hashing(self, meta: Any) -> bool:
        self.hashed_files = max(self.hashed_files, int(meta.processedFiles or 0))
        return self.emit(
            SubmitProgress("hashing", "hashing job attachments", float(meta.progress) / 100)
        )

    def uploading(self, meta: Any) -> bool:
        # The library's hashing counts a file as processed when it is new or changed since
        # this computer last hashed it (its hash cache; the others are "skipped"), and its
        # upload skips what the bucket already holds: so this is at most what is sent.
        files = self.hashed_files
        plural = "s" if files != 1 else ""
        text = (
            f"uploading {files} file{plural} new or changed since this computer last "
            "hashed them (any already in the bucket are skipped)"
            if files
            else "nothing to upload: every file was hashed here before and is unchanged"
        )
        return self.emit(SubmitProgress("uploading", text, float(meta.progress) / 100))

    def creating(self) -> bool:
        return self.emit(SubmitProgress("creating", "creating the job"))


def submit_bundle(
    bundle_dir: str | Path,
    *,
    farm_id: str,
    queue_id: str,
    profile: str | None = None,
    on_progress: ProgressCallback | None = None,
    known_asset_paths: Iterable[str] = (),
    hooks: CreateJobHooks | None = None,
    yes: bool = False,
) -> str:
    """Submit a written bundle; return the job id. Raises the library's errors as they are
    (`stmpo.submit.messages.describe` words them), SubmissionCanceled on Cancel and
    ConfirmationRefused when the library wanted a yes.

    With `hooks`, CreateJob carries `hooks.token` and `hooks.before_send` sees the request
    before it is sent (`stmpo.submit.idempotency`)."""
    from deadline.client import api
    from deadline.client.config import config_file

    target = Target(farm_id, queue_id, profile)
    known_asset_paths = tuple(known_asset_paths)
    bundle = Path(bundle_dir).absolute()
    reporter = _Reporter(on_progress)
    project_file = bundle_project_file(bundle)
    known = [
        *(project_folder_known(project_file) if project_file else []),
        *(os.path.abspath(os.path.expanduser(path)) for path in known_asset_paths),
    ]
    config = _target_config(target)
    found = check_bundle(bundle, known_asset_paths, config, _storage_profile(config, target))
    if found:
        # Refused here, before anything is hashed, with every folder named (the library's
        # own message shows four and "... and N more").
        raise ConfirmationRefused([refusal_problem(found)])
    if yes:
        config_file.set_setting("settings.auto_accept", "true", config=config)
    with contextlib.ExitStack() as stack:
        if hooks is not None:
            # The library asks the same cached client for the same config (get_boto3_client
            # is lru-cached per session, service and region), so the handlers see its call.
            client = api.get_boto3_client("deadline", config=config)
            stack.enter_context(create_job_hooks(client, hooks))
        job_id = _create_from_bundle(bundle, config, known, reporter)
    if hooks is not None and not hooks.sent:
        log.warning(
            "job %s was created without the client token (the deadline library used another "
            "client); it is recorded, but an interrupted run could not have been recovered",
            job_id,
        )
    reporter.emit(SubmitProgress("submitted", f"submitted {job_id}", 1.0))
    return job_id


def _storage_profile(config: ConfigParser, target: Target) -> StorageProfileView:
    """The configured storage profile's LOCAL and SHARED locations, read from the farm as
    the library reads them (GetStorageProfileForQueue); nothing when none is configured."""
    view = configured_storage_profile(config)
    if view.profile_id is None:
        return view
    from deadline.client import api
    from deadline.job_attachments.models import FileSystemLocationType

    profile = api.get_storage_profile_for_queue(
        target.farm_id, target.queue_id, view.profile_id, config=config
    )
    locations = profile.fileSystemLocations
    return StorageProfileView(
        profile_id=view.profile_id,
        checked=True,
        local=tuple(p.path for p in locations if p.type == FileSystemLocationType.LOCAL),
        shared=tuple(p.path for p in locations if p.type == FileSystemLocationType.SHARED),
    )


def _create_from_bundle(
    bundle: Path, config: ConfigParser, known: list[str], reporter: _Reporter
) -> str:
    from deadline.client import api
    from deadline.client.exceptions import DeadlineOperationCanceled

    try:
        job_id = api.create_job_from_job_bundle(
            str(bundle),
            config=config,
            submitter_name=SUBMITTER_NAME,
            submitter_version=__version__,
            known_asset_paths=known,
            print_function_callback=reporter.print,
            interactive_confirmation_callback=None,
            hashing_progress_callback=reporter.hashing,
            upload_progress_callback=reporter.uploading,
            create_job_result_callback=reporter.creating,
        )
    except Exception as exc:
        if reporter.cancel_requested:
            raise SubmissionCanceled(f"canceled while {reporter.stage or 'starting'}") from exc
        if isinstance(exc, DeadlineOperationCanceled):
            raise refusal(reporter.messages) from exc
        raise
    if not job_id:
        raise StmpoError("Deadline Cloud did not return a job id")
    return str(job_id)


def recreate_job(
    request: dict[str, Any], hooks: CreateJobHooks, *, profile: str | None = None
) -> str:
    """Send a recorded CreateJob request again with its recorded token and return the job
    id: the service answers with the job that token already made, or makes it now (the
    attachments it names were uploaded before the first attempt)."""
    from deadline.client import api
    from deadline.client.exceptions import DeadlineOperationError

    target = Target(str(request["farmId"]), str(request["queueId"]), profile)
    client = api.get_boto3_client("deadline", config=_target_config(target))
    with create_job_hooks(client, hooks):
        response = client.create_job(**request)
    job_id = response.get("jobId")
    if not job_id:
        raise StmpoError("Deadline Cloud did not return a job id")
    ok, message = api.wait_for_create_job_to_complete(
        target.farm_id, target.queue_id, job_id, client, lambda: True
    )
    if not ok:
        raise DeadlineOperationError(message)
    return str(job_id)
