"""What a batch submission was asked to do: plain data shared by the CLI and the GUI."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stmpo.farm_defaults import DEFAULT_TASK_TIMEOUT_SECONDS
from stmpo.job_properties import JobProperties


@dataclass(frozen=True)
class SubmitOptions:
    """One batch: every export gets the same farm, queue, parameters and item selection.

    `items` None means each export's own renderable items. `report_path` records each
    CreateJob before it is sent and its answer after, so an interrupted batch still
    records what went (or may have gone) through, and `skip_submitted` resumes it
    without submitting anything twice (`stmpo.submit.idempotency`).
    """

    farm_id: str | None = None
    queue_id: str | None = None
    profile: str | None = None
    parameters: Mapping[str, str] = field(default_factory=dict)
    items: tuple[int, ...] | None = None
    frame_overrides: Mapping[int, tuple[int, int, int]] = field(default_factory=dict)
    """`--frames RQ=S-E[:STEP]`: the same override for that item of every export."""
    extra_input_files: tuple[str, ...] = ()
    """`--input-file`: uploaded with every export's job."""
    job_name: str | None = None
    dry_run: bool = False
    report_path: Path | None = None
    skip_submitted: bool = False
    bundles_dir: Path | None = None
    force: bool = False
    """Replace earlier stmpo bundles in `bundles_dir` (never anything else)."""
    allow_secret_paths: bool = False
    allow_broad_assets: bool = False
    known_asset_paths: tuple[str, ...] = ()
    """Folders whose uploads need no confirmation, like `deadline bundle submit`'s."""
    yes: bool = False
    """Accept the library's prompts whose default is yes (submission hooks), as
    `deadline bundle submit --yes` does; uploads outside known paths stay refused."""
    job_properties: JobProperties | None = None
    """Priority, retries, failure budget, worker cap, initial status: CreateJob fields,
    not job settings, so they are not part of the fingerprint below (a rerun at another
    priority is the same render, and `--skip-submitted` skips it)."""
    task_timeout: int = DEFAULT_TASK_TIMEOUT_SECONDS
    host_requirements: Mapping[str, Any] | None = None
    """Replaces the default OS requirement on every step (`--host-requirements`)."""

    def fingerprint_settings(self, farm_id: str | None, queue_id: str | None) -> dict[str, object]:
        """The settings that make two submissions of the same export different jobs.

        The worker settings count only when they differ from the defaults, so a report
        written before they existed still recognises the same submission.
        """
        settings: dict[str, object] = {
            "farmId": farm_id,
            "queueId": queue_id,
            "parameters": dict(sorted(self.parameters.items())),
            "items": list(self.items) if self.items is not None else None,
            "jobName": self.job_name,
        }
        if self.frame_overrides:
            settings["frames"] = {str(k): list(v) for k, v in sorted(self.frame_overrides.items())}
        if self.extra_input_files:
            settings["inputFiles"] = sorted(self.extra_input_files)
        if self.task_timeout != DEFAULT_TASK_TIMEOUT_SECONDS:
            settings["taskTimeout"] = self.task_timeout
        if self.host_requirements is not None:
            settings["hostRequirements"] = self.host_requirements
        return settings
