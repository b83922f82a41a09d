"""Exports generated for the bundle tests (plain dicts, loaded through the real loader)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stmpo.export import Export, parse_export

HOSTILE_COMP = (
    "MAIN {{Param.Python}} {{Task.Param.Frames}} \"dq\" 'sq' $(touch /tmp/pwned) `id`; "
    "rm -rf / & | > < \\ %PATH% ${HOME} \t\n日本語 ünï 🎬 "
) + "x" * 300
HOSTILE_OUTPUT = (
    "/renders/{{Param.ProjectFile}}/$(whoami)/`id`;'\"/日本 ünï/{{ a }}/out_[#####].png"
)


def item(
    index: int,
    *,
    comp: str = "MAIN comp",
    start: int = 0,
    end: int = 47,
    step: int = 1,
    outputs: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "index": index,
        "render": True,
        "status": "QUEUED",
        "comp": {"name": comp, "frameRate": 25.0, "duration": 2.0, "displayStartTime": 0.0},
        "frames": {"start": start, "end": end, "step": step},
        "outputModules": outputs
        if outputs is not None
        else [{"index": 1, "path": f"/renders/item{index}/out_[#####].png", "kind": "sequence"}],
        **extra,
    }


def export_dict(items: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "format": "stmpo-ae-export",
        "version": 1,
        "host": {"app": "After Effects", "version": "24.6.2", "os": "linux"},
        "project": {"path": "/projects/spot/spot_v012.aep", "displayStartFrame": 0},
        "renderQueue": items,
        **extra,
    }


def make_export(items: list[dict[str, Any]], **extra: Any) -> Export:
    return parse_export(export_dict(items, **extra), source="test")


def many_items(count: int = 40) -> Export:
    return make_export([item(i, comp=f"Shot {i:02d} comp", end=99) for i in range(1, count + 1)])


def hostile_export() -> Export:
    return make_export(
        [
            item(
                1,
                comp=HOSTILE_COMP,
                outputs=[
                    {"index": 1, "path": HOSTILE_OUTPUT, "kind": "sequence"},
                    {"index": 2, "path": "/renders/movies/{{x}} $(id)/a.mov", "kind": "movie"},
                ],
            ),
            item(2, comp="{{", end=9),
            item(3, comp="}}", end=9),
        ]
    )


def write_export(path: Path, data: dict[str, Any]) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path
