"""Plain data read out of a py-aep project: what the export builder needs, nothing more.

The reader copies py-aep's objects into these frozen records at the edge, so the
rules that turn a project into an export (`stmpo.aep.build`) are pure functions
tested without py-aep, and py-aep's lazy parsing errors all happen in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

OutputKind = Literal["sequence", "movie"]


@dataclass(frozen=True)
class OutputModuleSnap:
    index: int
    path: str
    template: str | None
    #: AE's format name ("PNG Sequence", "H.264"), None when py-aep does not know it.
    format_name: str | None
    #: From the format (audio-only formats write one file, so they count as movie).
    kind: OutputKind | None
    #: "Use Comp Frame Number" and "Starting #" (AE's defaults: on, 0). None when py-aep
    #: cannot read them: the export leaves them out and warns rather than claim a default.
    use_comp_frame_number: bool | None = True
    starting_number: int | None = None


@dataclass(frozen=True)
class RenderItemSnap:
    index: int
    status: str
    render: bool
    comp_name: str
    width: int
    height: int
    frame_rate: float
    duration: float
    display_start_time: float
    #: The frame AE shows at the comp's start (py-aep computes it from exact ratios).
    comp_display_start_frame: int
    span_start: float
    span_duration: float
    render_settings: str | None
    #: The render settings' own frame rate when they do not use the comp's.
    custom_frame_rate: float | None
    output_modules: tuple[OutputModuleSnap, ...]
    #: Output modules left out (no file yet, unreadable), as sentences for the artist.
    skipped_output_modules: tuple[str, ...] = ()
    #: Render settings "Skip Existing Files"; None when py-aep cannot read it.
    skip_existing_files: bool | None = False
    #: False when the render settings' "Frame Rate" could not be read, so the rate the
    #: item renders at is unknown (custom_frame_rate None then means "not known").
    frame_rate_known: bool = True
    #: The Skip Frames the output modules were last prepared for (a trace only: AE does
    #: not save Skip Frames and renders every frame of a project it opens); None: no trace.
    skip_frames_hint: int | None = None


@dataclass(frozen=True)
class FootageSnap:
    name: str
    #: The file AE stores: the first file of a sequence. None for a placeholder.
    file: str | None
    sequence: bool
    frame_count: int
    #: AE could not find the file when the project was last saved.
    missing_at_save: bool


@dataclass(frozen=True)
class ProjectSnap:
    path: str
    display_start_frame: int
    reader_version: str
    #: The After Effects version stamped in the file ("26.0x67"), when readable.
    saved_with: str | None
    render_items: tuple[RenderItemSnap, ...]
    footage: tuple[FootageSnap, ...]
    fonts: tuple[str, ...]
    #: Things the reader noticed while reading (items it could not read, py-aep warnings).
    notes: tuple[str, ...] = field(default=())
