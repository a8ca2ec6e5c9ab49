"""Writers for the demo's small tables: CSV files and the SQLite incidents database."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from core.canonical import SCHEMAS
from pilotwatch.demo.story import Deployment, Incident

ISO_Z = "%Y-%m-%dT%H:%M:%SZ"


def canonical_frame(table: str, rows: Sequence[Mapping[str, Any]]) -> pl.DataFrame:
    """Rows as a frame with exactly the canonical columns and dtypes of `table`."""
    schema = SCHEMAS[table]
    return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema)


def write_csv(path: Path, table: str, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write canonical rows as CSV (instants as `...Z`, nulls as empty fields); returns rows."""
    frame = canonical_frame(table, rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, datetime_format=ISO_Z)
    return frame.height


def write_deployments(path: Path, deployments: Sequence[Deployment]) -> int:
    """deployments.csv, ordered by finish time."""
    rows = sorted(
        (asdict(d) for d in deployments), key=lambda r: (r["finished_at"], r["deploy_id"])
    )
    return write_csv(path, "deployments", rows)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.strftime(ISO_Z)


def write_incidents(path: Path, incidents: Sequence[Incident]) -> int:
    """incidents as a table in an SQLite database, read through the sql connector.

    Instants are ISO-8601 text with `Z` (SQLite has no datetime type), booleans 0/1.
    The database is rebuilt from scratch so the file is the same for the same seed.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    ordered = sorted(incidents, key=lambda i: (i.opened_at, i.incident_id))
    connection = sqlite3.connect(path)
    try:
        connection.execute(
            "CREATE TABLE incidents ("
            "incident_id TEXT PRIMARY KEY, initiative TEXT NOT NULL, severity INTEGER NOT NULL, "
            "opened_at TEXT NOT NULL, acknowledged_at TEXT, resolved_at TEXT, deploy_id TEXT, "
            "patient_impact INTEGER NOT NULL DEFAULT 0, title TEXT NOT NULL DEFAULT '')"
        )
        connection.executemany(
            "INSERT INTO incidents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i.incident_id,
                    i.initiative,
                    i.severity,
                    _iso(i.opened_at),
                    _iso(i.acknowledged_at),
                    _iso(i.resolved_at),
                    i.deploy_id,
                    int(i.patient_impact),
                    i.title,
                )
                for i in ordered
            ],
        )
        connection.commit()
    finally:
        connection.close()
    return len(ordered)


def read_incidents(path: Path) -> pl.DataFrame:
    """The demo incidents back as a canonical frame (used by tests and checks)."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        cursor = connection.execute("SELECT * FROM incidents ORDER BY opened_at")
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        connection.close()
    parsed = [
        {
            **row,
            **{
                k: None if row[k] is None else datetime.fromisoformat(row[k].replace("Z", "+00:00"))
                for k in ("opened_at", "acknowledged_at", "resolved_at")
            },
            "patient_impact": bool(row["patient_impact"]),
        }
        for row in rows
    ]
    return canonical_frame("incidents", parsed)
