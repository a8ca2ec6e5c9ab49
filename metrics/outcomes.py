"""Outcome KPIs: latest observation before T, status against target, small-cell suppression."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from core.models import Initiative
from metrics.timewin import UTC_US, lit_ts


def kpi_definitions(initiatives: Sequence[Initiative]) -> pl.DataFrame:
    """One row per configured KPI."""
    rows = [
        {
            "initiative": i.id,
            "kpi": k.name,
            "kind": k.kind,
            "unit": k.unit,
            "direction": k.direction,
            "target": float(k.target),
            "baseline": None if k.baseline is None else float(k.baseline),
            "order": n,
        }
        for i in initiatives
        for n, k in enumerate(i.kpis)
    ]
    schema = {
        "initiative": pl.String(),
        "kpi": pl.String(),
        "kind": pl.String(),
        "unit": pl.String(),
        "direction": pl.String(),
        "target": pl.Float64(),
        "baseline": pl.Float64(),
        "order": pl.Int64(),
    }
    return pl.DataFrame(rows, schema=schema)


def count_based() -> pl.Expr:
    """The observation carries numerator and denominator counts."""
    return pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null()


def small_cell_rule(threshold: int = 11) -> pl.Expr:
    """Small-cell rule: a count-based value with numerator 1..t-1 or denominator below t."""
    threshold = max(threshold, 11)
    return count_based() & (
        pl.col("numerator").is_between(1, threshold - 1) | (pl.col("denominator") < threshold)
    )


def observed_value() -> pl.Expr:
    """numerator / denominator for a count-based observation, else `value`."""
    return (
        pl.when(count_based())
        .then(pl.col("numerator") / pl.col("denominator"))
        .otherwise(pl.col("value"))
    )


def latest_observations(observations: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """The latest observation per (initiative, kpi) with period_end < T.

    Ties on period_end are broken deterministically (largest value, numerator, denominator) so
    the input row order never changes the result.
    """
    return (
        observations.filter(pl.col("period_end") < lit_ts(as_of))
        .sort(
            ["initiative", "kpi", "period_end", "value", "numerator", "denominator"],
            nulls_last=False,
        )
        .group_by("initiative", "kpi", maintain_order=True)
        .last()
    )


def outcome_table(
    observations: pl.DataFrame,
    initiatives: Sequence[Initiative],
    as_of: datetime,
    small_cell: int = 11,
) -> pl.DataFrame:
    """Per configured KPI: value (null when suppressed), status, period_end."""
    latest = latest_observations(observations, as_of).select(
        "initiative", "kpi", "period_end", "value", "numerator", "denominator"
    )
    table = kpi_definitions(initiatives).join(latest, on=["initiative", "kpi"], how="left")
    table = table.with_columns(
        observed_value().alias("_raw"),
        small_cell_rule(small_cell).fill_null(False).alias("suppressed"),
    )
    meets = (
        pl.when(pl.col("direction") == "higher")
        .then(pl.col("_raw") >= pl.col("target"))
        .otherwise(pl.col("_raw") <= pl.col("target"))
    )
    status = (
        pl.when(pl.col("period_end").is_null() | (pl.col("_raw").is_null() & ~pl.col("suppressed")))
        .then(pl.lit("no_data"))
        .when(pl.col("suppressed"))
        .then(pl.lit("suppressed"))
        .when(meets)
        .then(pl.lit("on_track"))
        .otherwise(pl.lit("off_track"))
    )
    return (
        table.with_columns(
            status.alias("status"),
            # a suppressed cell never leaves this function: neither its value nor its counts
            pl.when(pl.col("suppressed")).then(None).otherwise(pl.col("_raw")).alias("value"),
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(pl.col("numerator"))
            .alias("numerator"),
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(pl.col("denominator"))
            .alias("denominator"),
        )
        .drop("_raw")
        .with_columns(pl.col("period_end").cast(UTC_US))
        .sort("initiative", "order")
    )


def outcome_summary(table: pl.DataFrame, initiative_ids: Sequence[str]) -> pl.DataFrame:
    """Per initiative: on_track / KPIs whose status is on_track or off_track (null when none)."""
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    rated = pl.col("status").is_in(["on_track", "off_track"])
    summary = table.group_by("initiative").agg(
        (pl.col("status") == "on_track").sum().cast(pl.Int64).alias("on_track"),
        rated.sum().cast(pl.Int64).alias("rated"),
        pl.len().cast(pl.Int64).alias("kpis"),
    )
    return (
        base.join(summary, on="initiative", how="left")
        .with_columns(pl.col("on_track", "rated", "kpis").fill_null(0))
        .with_columns(
            pl.when(pl.col("rated") > 0)
            .then(pl.col("on_track") / pl.col("rated"))
            .alias("on_track_share")
        )
    )
