"""SLOs over 1-minute buckets: good/total/SLI, error budget, burn rates, alerts, status."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import NamedTuple

import polars as pl

from core.models import Slo
from core.windows import CalendarWindow
from metrics.timewin import BURN_WINDOWS, UTC_US, calendar_start, lit_ts


class AlertPair(NamedTuple):
    """A multiwindow burn-rate alert: fires when both windows burn at `factor` or more."""

    severity: str  # "page" or "ticket"
    long: str  # a BURN_WINDOWS key
    short: str  # a BURN_WINDOWS key
    factor: float


# Google SRE workbook, 28-day tuning (docs/metrics.md, burn-rate alerts).
ALERT_PAIRS: tuple[AlertPair, ...] = (
    AlertPair("page", "1h", "5m", 14.4),
    AlertPair("page", "6h", "30m", 6.0),
    AlertPair("ticket", "1d", "2h", 3.0),
    AlertPair("ticket", "3d", "6h", 1.0),
)
AT_RISK_BUDGET = 0.25


def alert_column(severity: str, long: str, short: str) -> str:
    """Boolean column telling whether the (long, short) pair of `severity` fires."""
    return f"alert_{severity}_{long}_{short}"


def burn_column(window: str) -> str:
    """Column holding burn(window)."""
    return f"burn_{window}"


def window_start(slo: Slo, as_of: datetime) -> datetime:
    """Start of the SLO's window `[start, as_of)`."""
    if isinstance(slo.window, CalendarWindow):
        return calendar_start(slo.window, slo.window_timezone, as_of)
    return as_of - timedelta(seconds=slo.window.seconds_total)


def earliest_start(slos: Sequence[Slo], as_of: datetime) -> datetime:
    """The earliest instant any SLO window or burn-rate window needs."""
    starts = [window_start(s, as_of) for s in slos]
    starts.append(as_of - max(BURN_WINDOWS.values()))
    return min(starts)


SLICED = ("timeslices", "ratio_timeslices")


def definitions(slos: Sequence[Slo], as_of: datetime) -> pl.DataFrame:
    """One row per SLO with the parameters the calculation (and the report) needs."""
    return pl.DataFrame(
        {
            "slo": [s.name for s in slos],
            "initiative": [s.initiative for s in slos],
            "sli_type": [s.sli for s in slos],
            "target": [float(s.target) for s in slos],
            "window": [s.window_text for s in slos],
            "timezone": [s.window_timezone for s in slos],
            "threshold_ms": [
                float(s.threshold_ms) if s.threshold_ms is not None else None for s in slos
            ],
            # the operator only means something next to a threshold
            "threshold_op": [s.threshold_op if s.threshold_ms is not None else None for s in slos],
            "budgeting": [s.budgeting for s in slos],
            "window_start": [window_start(s, as_of) for s in slos],
            "slice_us": [
                s.timeslice.length_seconds * 1_000_000 if s.timeslice else None for s in slos
            ],
            "slice_target": [
                s.timeslice.target if s.timeslice and s.timeslice.target else None for s in slos
            ],
        },
        schema={
            "slo": pl.String(),
            "initiative": pl.String(),
            "sli_type": pl.String(),
            "target": pl.Float64(),
            "window": pl.String(),
            "timezone": pl.String(),
            "threshold_ms": pl.Float64(),
            "threshold_op": pl.String(),
            "budgeting": pl.String(),
            "window_start": UTC_US,
            "slice_us": pl.Int64(),
            "slice_target": pl.Float64(),
        },
    )


def event_counts(buckets: pl.DataFrame, defs: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Per SLO: events in its window, bad/total events in every burn-rate window, `estimate`.

    `estimate` is true when any bucket in the SLO window or the longest burn window is one.
    """
    in_window = pl.col("bucket_start") >= pl.col("window_start")
    longest = pl.col("bucket_start") >= lit_ts(as_of - max(BURN_WINDOWS.values()))
    aggs = [
        pl.col("good").filter(in_window).sum().alias("event_good"),
        pl.col("total").filter(in_window).sum().alias("event_total"),
        pl.col("estimate").filter(in_window | longest).any().alias("estimate"),
    ]
    for name, length in BURN_WINDOWS.items():
        inside = pl.col("bucket_start") >= lit_ts(as_of - length)
        aggs.append((pl.col("total") - pl.col("good")).filter(inside).sum().alias(f"bad_{name}"))
        aggs.append(pl.col("total").filter(inside).sum().alias(f"total_{name}"))
    if "estimate" not in buckets.columns:
        buckets = buckets.with_columns(pl.lit(False).alias("estimate"))
    counted = (
        buckets.filter(pl.col("bucket_start") < lit_ts(as_of))
        .join(defs.select("slo", "window_start"), on="slo", how="inner")
        .group_by("slo")
        .agg(aggs)
    )
    return (
        defs.select("slo")
        .join(counted, on="slo", how="left")
        .with_columns(pl.col("estimate").fill_null(False))
        .fill_null(0)
    )


def timeslice_counts(buckets: pl.DataFrame, defs: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Per sliced SLO: evaluated slices, good slices and the sum of the slices' good/total.

    Slices are aligned to the Unix epoch; only slices entirely inside `[window_start, as_of)`
    with at least one event are evaluated. `timeslices`: a slice is good when good/total >= the
    slice target. `ratio_timeslices` uses `slice_ratio_sum` (its SLI is the mean ratio).
    """
    sliced = defs.filter(pl.col("budgeting").is_in(SLICED))
    epoch_us = pl.col("bucket_start").dt.epoch("us")
    as_of_us = int(as_of.timestamp() * 1_000_000)
    ratio = pl.col("good") / pl.col("total")
    slices = (
        buckets.join(sliced.select("slo", "window_start", "slice_us", "slice_target"), on="slo")
        .with_columns((epoch_us // pl.col("slice_us") * pl.col("slice_us")).alias("slice_start"))
        .filter(
            (pl.col("slice_start") >= pl.col("window_start").dt.epoch("us"))
            & (pl.col("slice_start") + pl.col("slice_us") <= as_of_us)
        )
        .group_by("slo", "slice_start")
        .agg(
            pl.col("good").sum(),
            pl.col("total").sum(),
            pl.col("slice_target").first(),
        )
        .filter(pl.col("total") > 0)
        .group_by("slo")
        .agg(
            (ratio >= pl.col("slice_target"))
            .fill_null(False)
            .sum()
            .cast(pl.Int64)
            .alias("slice_good"),
            pl.len().cast(pl.Int64).alias("slice_total"),
            ratio.sum().alias("slice_ratio_sum"),
        )
    )
    return sliced.select("slo").join(slices, on="slo", how="left").fill_null(0)


def slo_table(
    buckets: pl.DataFrame,
    slos: Sequence[Slo],
    as_of: datetime,
    low_traffic_share: float = 0.1,
) -> pl.DataFrame:
    """One row per SLO with every number the report shows (see docs/metrics.md).

    `good`/`total`/`bad` count events (occurrences) or evaluated slices (timeslices). For
    ratio_timeslices `total` is the evaluated slices, `good` is null, `sli` the mean of the
    slices' good/total, and `bad` = total * (1 - sli): the slice-equivalents lost, so one
    entirely bad slice adds 1, as a bad slice does for timeslices.
    """
    defs = definitions(slos, as_of)
    events = event_counts(buckets, defs, as_of)
    slices = timeslice_counts(buckets, defs, as_of)
    table = defs.join(events, on="slo", how="left").join(slices, on="slo", how="left")
    is_slices = pl.col("budgeting") == "timeslices"
    is_ratio = pl.col("budgeting") == "ratio_timeslices"
    table = table.with_columns(
        pl.when(is_slices)
        .then(pl.col("slice_good"))
        .when(is_ratio)
        .then(pl.lit(None, dtype=pl.Int64()))
        .otherwise(pl.col("event_good"))
        .alias("good"),
        pl.when(is_slices | is_ratio)
        .then(pl.col("slice_total"))
        .otherwise(pl.col("event_total"))
        .alias("total"),
        (1.0 - pl.col("target")).alias("budget"),
    )
    has_data = pl.col("total") > 0
    table = table.with_columns(
        pl.when(~has_data)
        .then(None)
        .when(is_ratio)
        .then(pl.col("slice_ratio_sum") / pl.col("total"))
        .otherwise(pl.col("good") / pl.col("total"))
        .alias("sli"),
    )
    bad = (
        pl.when(is_ratio)
        .then(pl.col("total") * (1.0 - pl.col("sli")))
        .otherwise((pl.col("total") - pl.col("good")).cast(pl.Float64))
    )
    # ratio_timeslices: consumed = (1 - sli) / budget exactly, the rule docs/metrics.md states
    consumed = (
        pl.when(is_ratio)
        .then((1.0 - pl.col("sli")) / pl.col("budget"))
        .otherwise(bad / (pl.col("budget") * pl.col("total")))
    )
    table = table.with_columns(
        pl.when(has_data).then(bad).alias("bad"),
        pl.when(has_data).then(consumed).alias("budget_consumed"),
        pl.when(has_data)
        .then(1.0 / (pl.col("budget") * pl.col("total")))
        .alias("one_bad_event_budget_share"),
        *[
            pl.when(pl.col(f"total_{w}") > 0)
            .then(pl.col(f"bad_{w}") / pl.col(f"total_{w}") / pl.col("budget"))
            .alias(burn_column(w))
            for w in BURN_WINDOWS
        ],
    )
    table = table.with_columns(
        (1.0 - pl.col("budget_consumed")).alias("budget_remaining"),
        (pl.col("one_bad_event_budget_share") > low_traffic_share)
        .fill_null(False)
        .alias("low_traffic"),
        *[
            (
                (pl.col(burn_column(pair.long)) >= pair.factor)
                & (pl.col(burn_column(pair.short)) >= pair.factor)
            )
            .fill_null(False)
            .alias(alert_column(pair.severity, pair.long, pair.short))
            for pair in ALERT_PAIRS
        ],
    )
    page = pl.any_horizontal(
        [
            pl.col(alert_column(pair.severity, pair.long, pair.short))
            for pair in ALERT_PAIRS
            if pair.severity == "page"
        ]
    )
    table = table.with_columns(
        pl.when(~has_data)
        .then(pl.lit("no_data"))
        .when(pl.col("sli") < pl.col("target"))
        .then(pl.lit("breached"))
        .when((pl.col("budget_remaining") < AT_RISK_BUDGET) | page)
        .then(pl.lit("at_risk"))
        .otherwise(pl.lit("healthy"))
        .alias("status")
    )
    return table.sort("initiative", "slo")


def slo_summary(table: pl.DataFrame, initiative_ids: Sequence[str]) -> pl.DataFrame:
    """Per initiative: SLOs defined, breached, and the lowest budget remaining."""
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    summary = table.group_by("initiative").agg(
        pl.len().cast(pl.Int64).alias("defined"),
        (pl.col("status") == "breached").sum().cast(pl.Int64).alias("breached"),
        pl.col("budget_remaining").min().alias("min_budget_remaining"),
    )
    return base.join(summary, on="initiative", how="left").with_columns(
        pl.col("defined").fill_null(0), pl.col("breached").fill_null(0)
    )
