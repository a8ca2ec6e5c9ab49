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


def _slo_keys(pre: PreBuckets, slos: Sequence[Slo]) -> pl.DataFrame:
    """One row per SLO counted from requests: its dimensions and which count is good.

    `_good` is -1 for an availability SLO (total - errors), else the index of its latency
    count; a null `_service`/`_operation` means any. A latency SLO without a threshold is
    counted by an indicator only (requests cannot say what is good) and has no row.
    """
    rows = []
    for slo in slos:
        key = threshold_key(slo)
        if slo.sli == "latency" and key is None:
            continue
        rows.append(
            {
                "slo": slo.name,
                "initiative": slo.initiative,
                "environment": slo.environment,
                "_service": slo.filter.service,
                "_operation": slo.filter.operation,
                "_good": -1 if key is None else pre.thresholds.index(key),
            }
        )
    schema = {
        "slo": pl.String(),
        "initiative": pre.frame.schema.get("initiative", pl.String()),
        "environment": pre.frame.schema.get("environment", pl.String()),
        "_service": pre.frame.schema.get("service", pl.String()),
        "_operation": pre.frame.schema.get("operation", pl.String()),
        "_good": pl.Int32(),
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def slo_buckets(pre: PreBuckets, slos: Sequence[Slo]) -> pl.DataFrame:
    """Per-SLO 1-minute buckets (slo, bucket_start, good, total, estimate) from requests.

    One join of the pre-aggregate with every SLO's dimensions and one group-by, instead of a
    filter and a group-by per SLO: a row counts for every SLO whose initiative, environment and
    (when set) service and operation it matches, as `pl.col(...) == value` filters would.
    """
    keys = _slo_keys(pre, slos)
    if keys.height == 0:
        return pl.DataFrame(schema=BUCKET_SCHEMA)
    good: pl.Expr = pl.col("total") - pl.col("errors")  # `_good` -1: availability
    for index in range(len(pre.thresholds)):
        column = pl.col(threshold_column(index))
        good = pl.when(pl.col("_good") == index).then(column).otherwise(good)
    matched = (
        pre.frame.lazy()
        .join(keys.lazy(), on=["initiative", "environment"], how="inner")
        .filter(
            (pl.col("_service").is_null() | (pl.col("service") == pl.col("_service")))
            & (pl.col("_operation").is_null() | (pl.col("operation") == pl.col("_operation")))
        )
    )
    return (
        matched.group_by("slo", "bucket_start")
        .agg(
            good.sum().cast(pl.Int64).alias("good"),
            pl.col("total").sum().alias("total"),
        )
        .with_columns(pl.lit(False).alias("estimate"))
        .select(list(BUCKET_SCHEMA))
        .cast(BUCKET_SCHEMA)  # type: ignore[arg-type]
        .collect()
    )


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
