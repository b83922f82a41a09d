"""Typed model of a `stmpo-ae-export` version 1 file.

The JSON uses AE's camelCase names; Python code uses snake_case attributes through
aliases. Types are strict on purpose: a frame number given as "12" or 12.5 in an
export means the exporter is broken, and guessing would render the wrong frames.
Unknown fields are kept (``extra="allow"``) so a newer exporter does not break us.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

FORMAT_NAME = "stmpo-ae-export"
FORMAT_VERSION = 1
MAX_INT = 10**9
#: AE allows up to 999 fps and comps of a few hours; far beyond either is a broken exporter,
#: and frame arithmetic on such values would overflow.
MAX_FRAME_RATE = 1000.0
MAX_DURATION_SECONDS = 10.0**7

FrameNumber = Annotated[int, Field(ge=-MAX_INT, le=MAX_INT)]
PositiveIndex = Annotated[int, Field(ge=1, le=MAX_INT)]

Status = Literal[
    "QUEUED",
    "UNQUEUED",
    "NEEDS_OUTPUT",
    "DONE",
    "RENDERING",
    "USER_STOPPED",
    "ERR_STOPPED",
    "WILL_CONTINUE",
]
OutputKind = Literal["sequence", "movie"]

#: Statuses whose Render flag AE lets be set, so `aerender -rqindex` can render the item
#: once it has an output module (Adobe's Scripting Guide, RenderQueueItem.render).
SELECTABLE_STATUSES: frozenset[str] = frozenset(
    {"QUEUED", "UNQUEUED", "NEEDS_OUTPUT", "WILL_CONTINUE"}
)
#: Statuses whose Render flag cannot be set: aerender fails on such an item. The bridge
#: duplicates one the artist wants again (the copy is QUEUED) and exports the copy.
FINISHED_STATUSES: frozenset[str] = frozenset({"DONE", "USER_STOPPED", "ERR_STOPPED"})

STILL_IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {
        ".png", ".exr", ".tif", ".tiff", ".jpg", ".jpeg", ".dpx", ".cin", ".tga",
        ".bmp", ".psd", ".iff", ".hdr", ".sgi", ".rla", ".rpf", ".pxr", ".gif",
    }
)  # fmt: skip

_WINDOWS_ABS = re.compile(r"^(?:[A-Za-z]:[\\/]|\\\\[^\\/]+[\\/]|//[^/]+/)")


def is_absolute_path(path: str, os_name: str | None = None) -> bool:
    """Absolute in the exporter's OS; when the OS is unknown either convention counts."""
    windows = bool(_WINDOWS_ABS.match(path))
    posix = path.startswith("/") and not path.startswith("//")
    if os_name == "windows":
        return windows
    if os_name in ("macos", "linux"):
        return posix
    return windows or posix


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        strict=True,
        extra="allow",
        frozen=True,
    )


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def _frame_rate(value: float) -> float:
    """One rule for every rate: frame arithmetic divides by it and multiplies by it."""
    _finite(value)
    if value <= 0:
        raise ValueError(f"frame rate must be above 0, got {value:g}")
    if value > MAX_FRAME_RATE:
        raise ValueError(f"frame rate must be at most {MAX_FRAME_RATE:g}, got {value:g}")
    return value


class Host(_Model):
    app: str
    version: str | None = None
    os: Literal["windows", "macos", "linux"] | None = None


class ProjectInfo(_Model):
    path: Annotated[str, Field(min_length=1)]
    display_start_frame: Literal[0, 1] = 0


class Comp(_Model):
    name: str
    frame_rate: float
    duration: float
    width: Annotated[int, Field(ge=1, le=100_000)] | None = None
    height: Annotated[int, Field(ge=1, le=100_000)] | None = None
    display_start_time: float | None = None

    @field_validator("frame_rate")
    @classmethod
    def _rate(cls, value: float) -> float:
        return _frame_rate(value)

    @field_validator("duration")
    @classmethod
    def _duration(cls, value: float) -> float:
        _finite(value)
        if value < 0:
            raise ValueError(f"duration cannot be negative, got {value:g}")
        if value > MAX_DURATION_SECONDS:
            raise ValueError(
                f"duration must be at most {MAX_DURATION_SECONDS:g} seconds, got {value:g}"
            )
        return value

    @field_validator("display_start_time")
    @classmethod
    def _start(cls, value: float | None) -> float | None:
        return None if value is None else _finite(value)


class Frames(_Model):
    start: FrameNumber
    end: FrameNumber
    step: Annotated[int, Field(ge=1, le=MAX_INT)] = 1

    @property
    def numbers(self) -> range:
        return range(self.start, self.end + 1, self.step)

    @property
    def count(self) -> int:
        return len(self.numbers)


class OutputModule(_Model):
    index: PositiveIndex
    path: str
    template: str | None = None
    kind: OutputKind | None = None
    #: False: AE numbers the files from `starting_number`, not from the comp's frame
    #: numbers, so every chunk of a split render would write the same names.
    use_comp_frame_number: bool = True
    starting_number: Annotated[int, Field(ge=0, le=MAX_INT)] | None = None

    @property
    def resolved_kind(self) -> OutputKind:
        """The declared kind, else decided from the path as the export format says."""
        if self.kind is not None:
            return self.kind
        if "[#" in self.path:
            return "sequence"
        dot = self.path.rfind(".")
        ext = (
            self.path[dot:].lower()
            if dot > max(self.path.rfind("/"), self.path.rfind("\\"))
            else ""
        )
        return "sequence" if ext in STILL_IMAGE_EXTENSIONS else "movie"


class RenderQueueItem(_Model):
    index: PositiveIndex
    comp: Comp
    frames: Frames
    render: bool = True
    status: Status | None = None
    render_settings: str | None = None
    #: Render settings "Use this frame rate": AE writes files at this rate, not the comp's.
    render_frame_rate: float | None = None
    skip_existing_files: bool = False
    output_modules: list[OutputModule] = Field(default_factory=list)

    @field_validator("render_frame_rate")
    @classmethod
    def _render_rate(cls, value: float | None) -> float | None:
        return None if value is None else _frame_rate(value)

    @property
    def renderable(self) -> bool:
        """Preselected for submission: checked, queued, with somewhere to write."""
        return self.render and self.status in (None, "QUEUED") and bool(self.output_modules)

    @property
    def selectable(self) -> bool:
        """The artist may pick it even if it is not preselected."""
        return not self.not_selectable_reason

    @property
    def not_selectable_reason(self) -> str:
        """Why aerender could not render it, in words the artist can act on; "" if it can."""
        if not self.output_modules:
            return "no output module"
        if self.status in FINISHED_STATUSES:
            return (
                f"status {self.status}: aerender cannot render a {self.status} item again; "
                "duplicate it in After Effects (the copy is QUEUED), save and export again"
            )
        if self.status is not None and self.status not in SELECTABLE_STATUSES:
            return f"status {self.status}"
        return ""

    @property
    def numbered_per_launch(self) -> bool:
        """Whether a sequence output numbers files per aerender launch ("Use Comp Frame
        Number" off): AE names the first frame of every launch `startingNumber`, so the
        item cannot be split into tasks or processes (the worker's `Item.renumbered`)."""
        return any(
            om.resolved_kind != "movie" and not om.use_comp_frame_number
            for om in self.output_modules
        )

    @property
    def renders_at_other_rate(self) -> bool:
        """Render settings "Use this frame rate" differs from the comp's rate."""
        rate = self.render_frame_rate
        return rate is not None and abs(rate - self.comp.frame_rate) > 1e-6 * rate

    @property
    def has_movie_output(self) -> bool:
        """A movie is one file, so such an item cannot be split across processes."""
        return any(om.resolved_kind == "movie" for om in self.output_modules)


def comp_frame_range(comp: Comp, display_start_frame: int) -> tuple[int, int]:
    """The comp's whole range in displayed frames (how AE numbers the comp's frames)."""
    rate = comp.frame_rate
    # Round before floor/ceil: 29.97 fps times whole seconds is not exact in binary.
    first = math.floor(round((comp.display_start_time or 0.0) * rate, 6))
    first += display_start_frame
    count = max(math.ceil(round(comp.duration * rate, 6)), 1)
    return first, first + count - 1


def frames_far_outside(frames: Frames, first: int, last: int) -> list[tuple[str, int]]:
    """("start" or "end", frame) for each end of a range that reaches further beyond the
    comp than the comp is long: no exporter writes that, and the farm would be asked for
    frames that do not exist (10^9 of them, at worst). A little beyond is AE's business."""
    count = last - first + 1
    far: list[tuple[str, int]] = []
    if frames.start < first - count:
        far.append(("start", frames.start))
    if frames.end > last + count:
        far.append(("end", frames.end))
    return far


class Footage(_Model):
    path: str
    sequence: bool = False
    missing: bool = False
    #: A proxy file the render uses (it must reach the workers like any footage).
    proxy: bool = False


class Font(_Model):
    post_script_name: Annotated[str, Field(min_length=1)]
    family_name: str | None = None
    style_name: str | None = None
    location: str | None = None
    is_substitute: bool = False


class Export(_Model):
    format: Literal["stmpo-ae-export"]
    version: Literal[1]
    project: ProjectInfo
    render_queue: list[RenderQueueItem]
    exported_at: str | None = None
    host: Host | None = None
    footage: list[Footage] = Field(default_factory=list)
    fonts: list[Font] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    def item(self, rq_index: int) -> RenderQueueItem:
        for item in self.render_queue:
            if item.index == rq_index:
                return item
        raise KeyError(rq_index)

    @property
    def renderable_items(self) -> list[RenderQueueItem]:
        return [item for item in self.render_queue if item.renderable]

    @property
    def project_name(self) -> str:
        path = self.project.path.replace("\\", "/")
        return path.rsplit("/", 1)[-1]
