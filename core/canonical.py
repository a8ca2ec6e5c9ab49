"""The canonical tables (docs/connectors.md): column names, Polars dtypes and value rules."""

from __future__ import annotations

import polars as pl

UTC_US = pl.Datetime("us", "UTC")

# Every canonical frame also carries `source` (the name of the source that delivered the row);
# connectors do not add it, the loader does.
SOURCE_COLUMN = "source"

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "requests": {
        "timestamp": UTC_US,
        "initiative": pl.String(),
        "service": pl.String(),
        "operation": pl.String(),
        "environment": pl.String(),
        "duration_ms": pl.Float64(),
        "status_code": pl.Int64(),
        "error": pl.Boolean(),
    },
    "sli_buckets": {
        "slo": pl.String(),
        "bucket_start": UTC_US,
        "good": pl.Int64(),
        "total": pl.Int64(),
        # true when the counts are estimates (a PromQL expression evaluated per minute)
        "estimate": pl.Boolean(),
    },
    "deployments": {
        "deploy_id": pl.String(),
        "initiative": pl.String(),
        "environment": pl.String(),
        "finished_at": UTC_US,
        "status": pl.String(),
        "commit_at": UTC_US,
        "version": pl.String(),
    },
    "incidents": {
        "incident_id": pl.String(),
        "initiative": pl.String(),
        "severity": pl.Int64(),
        "opened_at": UTC_US,
        "acknowledged_at": UTC_US,
        "resolved_at": UTC_US,
        "deploy_id": pl.String(),
        "patient_impact": pl.Boolean(),
        "title": pl.String(),
    },
    "kpi_observations": {
        "initiative": pl.String(),
        "kpi": pl.String(),
        "period_end": UTC_US,
        "value": pl.Float64(),
        "numerator": pl.Int64(),
        "denominator": pl.Int64(),
    },
    "evidence": {
        "initiative": pl.String(),
        "control_id": pl.String(),
        "status": pl.String(),
        "collected_at": UTC_US,
        "expires_at": UTC_US,
        "owner": pl.String(),
        "evidence_ref": pl.String(),
        "justification": pl.String(),
    },
}

# Columns that must be present and non-null after conversion; a row missing one is quarantined.
REQUIRED: dict[str, tuple[str, ...]] = {
    "requests": ("timestamp", "initiative", "service", "duration_ms"),
    "sli_buckets": ("slo", "bucket_start", "good", "total"),
    "deployments": ("deploy_id", "initiative", "finished_at", "status"),
    "incidents": ("incident_id", "initiative", "severity", "opened_at"),
    "kpi_observations": ("initiative", "kpi", "period_end"),
    "evidence": ("initiative", "control_id", "status", "collected_at"),
}

# Defaults filled in when a column is absent or null (never for required columns).
DEFAULTS: dict[str, dict[str, object]] = {
    "requests": {"environment": "production", "operation": ""},
    "deployments": {"environment": "production"},
    "incidents": {"patient_impact": False, "title": ""},
    "evidence": {"owner": "", "evidence_ref": ""},
    "sli_buckets": {"estimate": False},
}

# The column whose newest value is the source's "newest timestamp" for freshness.
TIME_COLUMN: dict[str, str] = {
    "requests": "timestamp",
    "sli_buckets": "bucket_start",
    "deployments": "finished_at",
    "incidents": "opened_at",
    "kpi_observations": "period_end",
    "evidence": "collected_at",
}

ALLOWED_VALUES: dict[tuple[str, str], frozenset[str]] = {
    ("deployments", "status"): frozenset({"success", "failed", "rolled_back"}),
    ("evidence", "status"): frozenset({"pass", "fail", "not_applicable"}),
}

TABLES: tuple[str, ...] = tuple(SCHEMAS)


def empty(table: str) -> pl.DataFrame:
    """An empty canonical frame (with the `source` column) for `table`."""
    schema = dict(SCHEMAS[table])
    schema[SOURCE_COLUMN] = pl.String()
    return pl.DataFrame(schema=schema)
