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
SCHEMA_ID_PREFIX = "https://stmpo.dev/schemas/stmpo-ae-export-"
SCHEMA_ID = SCHEMA_ID_PREFIX + "1.json"


def export_json_schema() -> dict[str, Any]:
    """The schema as generated from the model; committed under resources/ and tested current."""
    from stmpo.export.model import Export

    schema = Export.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
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


def is_schema_text(text: str) -> bool:
    """Did `stmpo schema` write this (any version)? Only then may `-o` replace it."""
    try:
        data = json.loads(text)
    except ValueError:
        return False
    return isinstance(data, dict) and str(data.get("$id", "")).startswith(SCHEMA_ID_PREFIX)


def run(args: argparse.Namespace) -> int:
    from stmpo.files import write_text_atomically
    from stmpo.output_paths import file_target

    text = schema_text()
    if args.output:
        with writing("-o"):
            target = file_target(args.output, ours=is_schema_text, what="a schema")
            write_text_atomically(target, text)
    else:
        sys.stdout.write(text)
    return 0
