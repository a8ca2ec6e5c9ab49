"""Reduce raw requests to 1-minute `sli_buckets` once; every SLO number is a function of buckets.

One scan groups the requests by (initiative, service, operation, environment, minute) with the
counts every SLO needs (total, errors, and one good-latency count per distinct (threshold_op,
threshold_ms)). Each SLO then only filters and sums those small pre-aggregates.

An SLO fed by a source's `sli_buckets` (it has an `indicator`, or the provided table has any row
for it) takes its buckets from that table alone; requests never count for it (docs/metrics.md,
"Where the buckets come from").
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
    "estimate": pl.Boolean(),
}
Threshold = tuple[str, float]  # (threshold_op, threshold_ms)


@dataclass(frozen=True)
class PreBuckets:
    """Requests pre-aggregated per minute and dimension, one `lat_<i>` count per threshold."""

    frame: pl.DataFrame
    thresholds: tuple[Threshold, ...]


def threshold_column(index: int) -> str:
    """Name of the count column for the index-th (op, threshold) pair."""
    return f"lat_{index}"


def threshold_key(slo: Slo) -> Threshold | None:
    """The (op, threshold) pair that decides a latency SLO's good requests; None without one."""
    if slo.sli != "latency" or slo.threshold_ms is None:
        return None
    return (slo.threshold_op, float(slo.threshold_ms))


def good_latency(op: str, threshold: float) -> pl.Expr:
    """Whether a request is good for (op, threshold): the one rule, shared with the store."""
    # `le` (the default): good when duration_ms <= threshold; `lt`: strictly under it
    duration = pl.col("duration_ms")
    return duration < threshold if op == "lt" else duration <= threshold


def pre_aggregate(
    requests: pl.LazyFrame, slos: Sequence[Slo], start: datetime, end: datetime
) -> PreBuckets:
    """One pass over requests in `[start, end)`: per-minute counts by dimension."""
    keys = {k for k in (threshold_key(s) for s in slos) if k is not None}
    thresholds = tuple(sorted(keys))
    aggs = [
        pl.len().cast(pl.Int64).alias("total"),
        pl.col("error").sum().cast(pl.Int64).alias("errors"),
        pl.col("timestamp").max().alias("newest"),
    ]
    aggs += [
        good_latency(op, t).sum().cast(pl.Int64).alias(threshold_column(i))
        for i, (op, t) in enumerate(thresholds)
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


def bucket_fed(slos: Sequence[Slo], provided: pl.DataFrame) -> frozenset[str]:
    """SLOs whose buckets come from the provided `sli_buckets` only (indicator or any row)."""
    named = set(provided.get_column("slo").unique().to_list()) if provided.height else set()
    return frozenset(s.name for s in slos if s.indicator is not None or s.name in named)


def slo_buckets(pre: PreBuckets, slos: Sequence[Slo]) -> pl.DataFrame:
    """Per-SLO 1-minute buckets (slo, bucket_start, good, total, estimate) from requests."""
    parts: list[pl.DataFrame] = []
    for slo in slos:
        cond = (pl.col("initiative") == slo.initiative) & (pl.col("environment") == slo.environment)
        if slo.filter.service is not None:
            cond &= pl.col("service") == slo.filter.service
        if slo.filter.operation is not None:
            cond &= pl.col("operation") == slo.filter.operation
        key = threshold_key(slo)
        if slo.sli == "latency":
            if key is None:  # counted by an indicator only: requests cannot say what is good
                continue
            good = pl.col(threshold_column(pre.thresholds.index(key)))
        else:
            good = pl.col("total") - pl.col("errors")
        parts.append(
            pre.frame.filter(cond)
            .group_by("bucket_start")
            .agg(good.sum().cast(pl.Int64).alias("good"), pl.col("total").sum().alias("total"))
            .select(
                pl.lit(slo.name).alias("slo"),
                "bucket_start",
                "good",
                "total",
                pl.lit(False).alias("estimate"),
            )
        )
    if not parts:
        return pl.DataFrame(schema=BUCKET_SCHEMA)
    return pl.concat(parts).cast(BUCKET_SCHEMA)  # type: ignore[arg-type]


def combine(
    computed: pl.DataFrame,
    provided: pl.DataFrame,
    slos: Sequence[Slo],
    start: datetime,
    end: datetime,
) -> pl.DataFrame:
    """Every SLO's buckets: provided ones for bucket-fed SLOs, computed ones for the others.

    Provided rows are floored to the minute and summed per (slo, minute); a minute is an
    estimate when any of its rows is.
    """
    fed = bucket_fed(slos, provided)
    if "estimate" not in provided.columns:
        provided = provided.with_columns(pl.lit(False).alias("estimate"))
    provided = (
        provided.select("slo", "bucket_start", "good", "total", "estimate")
        .with_columns(pl.col("bucket_start").dt.truncate("1m"), pl.col("estimate").fill_null(False))
        .filter((pl.col("bucket_start") >= lit_ts(start)) & (pl.col("bucket_start") < lit_ts(end)))
        .cast(BUCKET_SCHEMA)  # type: ignore[arg-type]
        .group_by("slo", "bucket_start")
        .agg(pl.col("good").sum(), pl.col("total").sum(), pl.col("estimate").any())
    )
    # requests never count for a bucket-fed SLO, even in minutes its source left empty
    computed = computed.cast(BUCKET_SCHEMA).filter(~pl.col("slo").is_in(sorted(fed)))  # type: ignore[arg-type]
    return pl.concat([computed, provided.cast(BUCKET_SCHEMA)]).sort("slo", "bucket_start")  # type: ignore[arg-type]
