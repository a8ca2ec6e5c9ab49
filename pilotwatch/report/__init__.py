"""The report room: build the typed report from the Portfolio, its JSON, its schema and views."""

from __future__ import annotations

from pathlib import Path

from core.report import SCHEMA_VERSION, Report, iso
from pilotwatch.report.build import build_report, dumps, num

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "report.schema.json"

__all__ = [
    "SCHEMA_PATH",
    "SCHEMA_VERSION",
    "Report",
    "build_report",
    "dumps",
    "iso",
    "num",
]
