"""The Prometheus counting rule: series sampled at every minute boundary -> events per minute.

Counters (docs/connectors.md, "The Prometheus connector"): `v(t)` is a series' last sample at or
before `t`, so the bucket `[m, m + 1min)` counts `v(m + 1min) - v(m)`, or `v(m + 1min)` when the
counter went down (it restarted from 0). A step with no sample carries the last value forward,
so over a gap every minute counts 0 but the last one, which gets the whole increase. A series'
first point in the range is its baseline and counts nothing. Buckets are summed over series.

Expressions: the value at step `m + 1min` is the number of events in `[m, m + 1min)`, rounded.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from connectors.promquery import Series
from connectors.promsettings import STEP_SECONDS

_COUNTS = {"bucket_start": pl.Int64(), "count": pl.Int64()}  # bucket start in unix seconds


def _points(series: Sequence[Series]) -> pl.DataFrame:
    """One row per (series, step): id, unix seconds, value."""
    ids: list[int] = []
    times: list[int] = []
    values: list[float] = []
    for n, item in enumerate(series):
        ids.extend([n] * len(item.times))
        times.extend(item.times)
        values.extend(item.values)
    return pl.DataFrame(
        {"id": ids, "t": times, "v": values},
        schema={"id": pl.Int64(), "t": pl.Int64(), "v": pl.Float64()},
    )


def _window(frame: pl.DataFrame, start: int, end: int) -> pl.DataFrame:
    """Per-minute totals of `frame` (bucket_start, count) for buckets inside [start, end)."""
    inside = (pl.col("bucket_start") >= start) & (pl.col("bucket_start") + STEP_SECONDS <= end)
    return (
        frame.filter(inside).group_by("bucket_start").agg(pl.col("count").sum()).cast(_COUNTS)  # type: ignore[arg-type]
    )


def counter_counts(series: Sequence[Series], start: int, end: int) -> pl.DataFrame:
    """Events per minute from counter series (the rule in the module docstring)."""
    points = _points(series).sort("id", "t")
    previous = pl.col("v").shift(1).over("id")
    step = pl.col("v") - previous
    delta = pl.when(step < 0).then(pl.col("v")).otherwise(step)  # a reset restarts from 0
    # the increase from the previous point lands in the minute that ends at this point: the
    # minutes of a gap between them carry the old value forward and count 0
    frame = points.select(
        (pl.col("t") - STEP_SECONDS).alias("bucket_start"),
        delta.round(0).cast(pl.Int64).alias("count"),
    ).drop_nulls("count")
    return _window(frame, start, end)


def expression_counts(series: Sequence[Series], start: int, end: int) -> pl.DataFrame:
    """Events per minute from an expression: the value at `m + 1min` counts in `[m, m + 1min)`."""
    frame = _points(series).select(
        (pl.col("t") - STEP_SECONDS).alias("bucket_start"),
        pl.col("v").round(0).cast(pl.Int64).alias("count"),
    )
    return _window(frame, start, end)


def bucket_rows(
    slo: str,
    good: pl.DataFrame | None,
    bad: pl.DataFrame | None,
    total: pl.DataFrame,
    estimate: bool,
) -> pl.DataFrame:
    """sli_buckets rows (slo, bucket_start, good, total, estimate) from per-minute counts.

    A minute one side has no count for counts 0 there (no increase was seen). `good` is
    `total - bad` when `bad` is given. Nothing is clamped: a minute where good > total (or
    bad > total) is kept as it is, and conform quarantines it with its reason.
    """
    side = good if good is not None else bad
    assert side is not None
    joined = total.rename({"count": "total"}).join(
        side.rename({"count": "side"}), on="bucket_start", how="full", coalesce=True
    )
    joined = joined.with_columns(pl.col("total").fill_null(0), pl.col("side").fill_null(0))
    good_expr = pl.col("side") if good is not None else pl.col("total") - pl.col("side")
    return joined.sort("bucket_start").select(
        pl.lit(slo).alias("slo"),
        pl.from_epoch("bucket_start", time_unit="s")
        .dt.replace_time_zone("UTC")
        .alias("bucket_start"),
        good_expr.alias("good"),
        pl.col("total"),
        pl.lit(estimate).alias("estimate"),
    )
