"""The report's JSON Schema, generated from the model in core/report.py.

Regenerate the shipped file after changing the model:
`.venv/bin/python -m pilotwatch.report.schema` (tests/test_report_json.py fails until you do).
"""

from __future__ import annotations

import json
from typing import Any

from core.report import Report
from pilotwatch.report import SCHEMA_PATH

HEADER: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://pilotwatch.example/report.schema.json",
    "title": "pilotwatch report, schema version 1",
    "description": (
        "Written by `pilotwatch report --json`; see docs/metrics.md. Generated from "
        "core/report.py. Fields may be added; none may change meaning without a new schema "
        "version."
    ),
}


def report_schema() -> dict[str, Any]:
    """The JSON Schema of the report as written (serialization mode, JSON keys)."""
    body = Report.model_json_schema(mode="serialization", by_alias=True)
    body.pop("title", None)
    body.pop("description", None)
    return {**HEADER, **body}


def schema_text() -> str:
    """The shipped file's exact text."""
    return json.dumps(report_schema(), indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the generated schema over the shipped file."""
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}")


if __name__ == "__main__":
    main()
