"""Render-queue snapshots for tests of the .aep export builder: one ordinary item, varied
per test with keyword changes, so each test names only what it is about."""

from __future__ import annotations

from dataclasses import replace

from stmpo.aep.snapshot import OutputModuleSnap, RenderItemSnap


def snap_item(**changes: object) -> RenderItemSnap:
    """A QUEUED 10 s, 25 fps item with one PNG sequence output, then `changes`."""
    base = RenderItemSnap(
        index=1,
        status="QUEUED",
        render=True,
        comp_name="Main",
        width=1920,
        height=1080,
        frame_rate=25.0,
        duration=10.0,
        display_start_time=0.0,
        comp_display_start_frame=0,
        span_start=0.0,
        span_duration=10.0,
        render_settings="Best Settings",
        custom_frame_rate=None,
        output_modules=(
            OutputModuleSnap(
                index=1,
                path="/renders/main_[#####].png",
                template="PNG Sequence",
                format_name="PNG Sequence",
                kind="sequence",
            ),
        ),
    )
    return replace(base, **changes)  # type: ignore[arg-type]
