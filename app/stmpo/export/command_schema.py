"""`stmpo schema`: print or write the JSON Schema of the export format."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from stmpo.errors import writing
from stmpo.locations import resources_dir

SCHEMA_FILE = "stmpo-ae-export.schema.json"


def export_json_schema() -> dict[str, Any]:
    """The schema as generated from the model; committed under resources/ and tested current."""
    from stmpo.export.model import Export

    schema = Export.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://stmpo.dev/schemas/stmpo-ae-export-1.json"
    schema["title"] = "stmpo-ae-export version 1"
    return schema


def schema_text() -> str:
    return json.dumps(export_json_schema(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def committed_schema_path() -> Path:
    return resources_dir() / SCHEMA_FILE


def add_parser(subparsers: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = subparsers.add_parser("schema", help="print the export JSON Schema, or write it with -o")
    p.add_argument("-o", "--output", type=Path, help="write the schema to this file")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    text = schema_text()
    if args.output:
        with writing("-o"):
            args.output.write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0
