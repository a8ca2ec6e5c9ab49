"""Reduce raw requests to 1-minute `sli_buckets` once; every SLO number is a function of buckets.

One scan groups the requests by (initiative, service, operation, environment, minute) with the
counts every SLO needs (total, errors, and `duration_ms <= threshold` for each distinct latency
threshold). Each SLO then only filters and sums those small pre-aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from core.models import Slo
from metrics.timewin import UTC_US, lit_ts

PRE_KEYS = ("source", "initiative", "service", "operation", "environment", "bucket_start")
BUCKET_SCHEMA = {
    "slo": pl.String(),
    "bucket_start": UTC_US,
    "good": pl.Int64(),
    "total": pl.Int64(),
}


@dataclass(frozen=True)
class PreBuckets:
    """Requests pre-aggregated per minute and dimension, with one `le_<i>` count per threshold."""

    frame: pl.DataFrame
    thresholds: tuple[float, ...]


def threshold_column(index: int) -> str:
    """Name of the count column for the index-th latency threshold."""
    return f"le_{index}"


def pre_aggregate(
    requests: pl.LazyFrame, slos: Sequence[Slo], start: datetime, end: datetime
) -> PreBuckets:
    """One pass over requests in `[start, end)`: per-minute counts by dimension."""
    thresholds = tuple(sorted({float(s.threshold_ms) for s in slos if s.threshold_ms is not None}))
    aggs = [
        pl.len().cast(pl.Int64).alias("total"),
        pl.col("error").sum().cast(pl.Int64).alias("errors"),
        pl.col("timestamp").max().alias("newest"),
    ]
    aggs += [
        (pl.col("duration_ms") <= t).sum().cast(pl.Int64).alias(threshold_column(i))
        for i, t in enumerate(thresholds)
    ]
    frame = (
        requests.filter(
            (pl.col("timestamp") >= lit_ts(start)) & (pl.col("timestamp") < lit_ts(end))
        )
        .with_columns(pl.col("timestamp").dt.truncate("1m").alias("bucket_start"))
        .group_by(list(PRE_KEYS))
        .agg(aggs)
        .collect(engine="streaming")
    )
    return PreBuckets(frame=frame, thresholds=thresholds)


def slo_buckets(pre: PreBuckets, slos: Sequence[Slo]) -> pl.DataFrame:
    """Per-SLO 1-minute buckets (slo, bucket_start, good, total) from the pre-aggregates."""
    parts: list[pl.DataFrame] = []
    for slo in slos:
        cond = (pl.col("initiative") == slo.initiative) & (pl.col("environment") == slo.environment)
        if slo.filter.service is not None:
            cond &= pl.col("service") == slo.filter.service
        if slo.filter.operation is not None:
            cond &= pl.col("operation") == slo.filter.operation
        if slo.sli == "latency":
            good = pl.col(threshold_column(pre.thresholds.index(float(slo.threshold_ms or 0))))
        else:
            good = pl.col("total") - pl.col("errors")
        parts.append(
            pre.frame.filter(cond)
            .group_by("bucket_start")
            .agg(good.sum().cast(pl.Int64).alias("good"), pl.col("total").sum().alias("total"))
            .select(pl.lit(slo.name).alias("slo"), "bucket_start", "good", "total")
        )
    if not parts:
        return pl.DataFrame(schema=BUCKET_SCHEMA)
    return pl.concat(parts).cast(BUCKET_SCHEMA)  # type: ignore[arg-type]


def combine(
    computed: pl.DataFrame, provided: pl.DataFrame, start: datetime, end: datetime
) -> pl.DataFrame:
    """Add buckets delivered pre-aggregated by sources (floored to the minute) and sum per key."""
    provided = (
        provided.select("slo", "bucket_start", "good", "total")
        .with_columns(pl.col("bucket_start").dt.truncate("1m"))
        .filter((pl.col("bucket_start") >= lit_ts(start)) & (pl.col("bucket_start") < lit_ts(end)))
        .cast(BUCKET_SCHEMA)  # type: ignore[arg-type]
    )
    if provided.height == 0:  # computed buckets are already one row per (slo, minute)
        return computed.cast(BUCKET_SCHEMA).sort("slo", "bucket_start")  # type: ignore[arg-type]
    return (
        pl.concat([computed.cast(BUCKET_SCHEMA), provided])  # type: ignore[arg-type]
        .group_by("slo", "bucket_start")
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .sort("slo", "bucket_start")
    )
