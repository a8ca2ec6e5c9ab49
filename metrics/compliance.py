"""Compliance gaps: the latest evidence per required control, its status and expiry."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from core.models import STAGES, Control, Initiative
from metrics.timewin import lit_ts

GAP_STATUSES = ("missing", "failing", "na_unjustified", "expired")
_STATUS_RANK = {"pass": 0, "not_applicable": 1, "fail": 2}


def required_controls(
    initiatives: Sequence[Initiative], controls: Sequence[Control]
) -> pl.DataFrame:
    """(initiative, control) pairs required by the initiative's gate stage or an earlier one."""
    rows = [
        {
            "initiative": i.id,
            "control": c.id,
            "title": c.title,
            "max_age_days": c.max_age_days,
            "required_from": c.required_from,
        }
        for i in initiatives
        for c in controls
        if STAGES.index(c.required_from) <= STAGES.index(i.gate)
    ]
    schema = {
        "initiative": pl.String(),
        "control": pl.String(),
        "title": pl.String(),
        "max_age_days": pl.Int64(),
        "required_from": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


def latest_evidence(evidence: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Per (initiative, control) the row with the greatest collected_at < T.

    Rows tied on collected_at resolve to the worst status (fail, then not_applicable, then pass)
    so that a contradictory record never hides a failure and row order never matters.
    """
    rank = pl.col("status").replace_strict(_STATUS_RANK, default=3, return_dtype=pl.Int64)
    return (
        evidence.filter(pl.col("collected_at") < lit_ts(as_of))
        .with_columns(rank.alias("_rank"))
        .sort(
            [
                "initiative",
                "control_id",
                "collected_at",
                "_rank",
                "expires_at",
                "justification",
                "owner",
                "evidence_ref",
            ],
            nulls_last=False,
        )
        .group_by("initiative", "control_id", maintain_order=True)
        .last()
        .drop("_rank")
        .rename({"control_id": "control"})
    )


def control_status(
    evidence: pl.DataFrame,
    initiatives: Sequence[Initiative],
    controls: Sequence[Control],
    as_of: datetime,
    expiring_days: int = 30,
) -> pl.DataFrame:
    """One row per required (initiative, control) with status, expiry and `expiring`."""
    required = required_controls(initiatives, controls)
    latest = (
        latest_evidence(evidence, as_of)
        .select(
            "initiative",
            "control",
            "status",
            "collected_at",
            "expires_at",
            "owner",
            "evidence_ref",
            "justification",
        )
        .rename({"status": "evidence_status"})
    )
    table = required.join(latest, on=["initiative", "control"], how="left")
    max_age = pl.duration(days=pl.col("max_age_days"))
    expiry = pl.min_horizontal(pl.col("expires_at"), pl.col("collected_at") + max_age)
    justified = pl.col("justification").str.strip_chars().str.len_chars().fill_null(0) > 0
    table = table.with_columns(
        pl.when(pl.col("evidence_status") == "pass").then(expiry).alias("expiry")
    )
    status = (
        pl.when(pl.col("evidence_status").is_null())
        .then(pl.lit("missing"))
        .when(pl.col("evidence_status") == "fail")
        .then(pl.lit("failing"))
        .when((pl.col("evidence_status") == "not_applicable") & ~justified)
        .then(pl.lit("na_unjustified"))
        .when(pl.col("evidence_status") == "not_applicable")
        .then(pl.lit("not_applicable"))
        .when(pl.col("expiry") <= lit_ts(as_of))
        .then(pl.lit("expired"))
        .otherwise(pl.lit("ok"))
    )
    horizon = lit_ts(as_of + timedelta(days=expiring_days))
    return (
        table.with_columns(status.alias("status"))
        .with_columns(
            ((pl.col("status") == "ok") & (pl.col("expiry") <= horizon))
            .fill_null(False)
            .alias("expiring"),
            pl.col("status").is_in(GAP_STATUSES).alias("gap"),
        )
        .sort("initiative", "control")
    )


def compliance_summary(table: pl.DataFrame, initiative_ids: Sequence[str]) -> pl.DataFrame:
    """Per initiative: required, coverage = (ok + not_applicable) / required, gap_count."""
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    summary = table.group_by("initiative").agg(
        pl.len().cast(pl.Int64).alias("required"),
        pl.col("status").is_in(["ok", "not_applicable"]).sum().cast(pl.Int64).alias("covered"),
        pl.col("gap").sum().cast(pl.Int64).alias("gap_count"),
        pl.col("expiring").sum().cast(pl.Int64).alias("expiring_count"),
    )
    return (
        base.join(summary, on="initiative", how="left")
        .with_columns(pl.col("required", "covered", "gap_count", "expiring_count").fill_null(0))
        .with_columns(
            pl.when(pl.col("required") > 0)
            .then(pl.col("covered") / pl.col("required"))
            .alias("coverage")
        )
    )
