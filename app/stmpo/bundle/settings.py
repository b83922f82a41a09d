"""What the artist chose on top of the export: items, frame overrides, parameter values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from stmpo.farm_defaults import DEFAULT_TASK_TIMEOUT_SECONDS
from stmpo.job_properties import JobProperties


@dataclass(frozen=True)
class BundleSettings:
    """Plain data shared by the CLI, the GUI and the batch submitter.

    Parameter values are kept as the strings the user typed so that every front end gets
    the same parsing and the same error messages (`stmpo.bundle.parameters`).
    """

    items: tuple[int, ...] | None = None
    """Render queue indexes to render; None = the export's renderable items."""
    frame_overrides: Mapping[int, tuple[int, int, int]] = field(default_factory=dict)
    """Render queue index -> (start, end, step), in displayed frame numbers."""
    parameters: Mapping[str, str] = field(default_factory=dict)
    """Job parameter values by name, as typed by the user."""
    job_name: str | None = None
    """Default: "<project stem> (N items)"."""
    extra_input_files: tuple[str, ...] = ()
    """More files for job attachments to upload (e.g. a script the project loads)."""
    allow_secret_paths: bool = False
    """Upload inputs inside credentials locations (~/.ssh, ~/.aws, ...); refused otherwise."""
    allow_broad_assets: bool = False
    """Upload folders far wider than the project (a home folder, a drive root)."""
    job_properties: JobProperties | None = None
    """Priority, retries...: written as `deadline:` parameter values. None writes none, so
    the submitter dialog's own job properties (which it passes with the queue's
    parameters) are the ones submitted."""
    task_timeout: int = DEFAULT_TASK_TIMEOUT_SECONDS
    """Seconds a render task may run before the worker agent cancels it."""
    host_requirements: Mapping[str, Any] | None = None
    """An OpenJD `hostRequirements` object for every step; None = Windows or macOS."""
