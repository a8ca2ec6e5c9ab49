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


def definitions(slos: Sequence[Slo], as_of: datetime) -> pl.DataFrame:
    """One row per SLO with the parameters the calculation needs."""
    return pl.DataFrame(
        {
            "slo": [s.name for s in slos],
            "initiative": [s.initiative for s in slos],
            "sli_type": [s.sli for s in slos],
            "target": [float(s.target) for s in slos],
            "window": [s.window_text for s in slos],
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
            "budgeting": pl.String(),
            "window_start": UTC_US,
            "slice_us": pl.Int64(),
            "slice_target": pl.Float64(),
        },
    )


def event_counts(buckets: pl.DataFrame, defs: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Per SLO: events in its window and bad/total events in every burn-rate window."""
    in_window = pl.col("bucket_start") >= pl.col("window_start")
    aggs = [
        pl.col("good").filter(in_window).sum().alias("event_good"),
        pl.col("total").filter(in_window).sum().alias("event_total"),
    ]
    for name, length in BURN_WINDOWS.items():
        inside = pl.col("bucket_start") >= lit_ts(as_of - length)
        aggs.append((pl.col("total") - pl.col("good")).filter(inside).sum().alias(f"bad_{name}"))
        aggs.append(pl.col("total").filter(inside).sum().alias(f"total_{name}"))
    counted = (
        buckets.filter(pl.col("bucket_start") < lit_ts(as_of))
        .join(defs.select("slo", "window_start"), on="slo", how="inner")
        .group_by("slo")
        .agg(aggs)
    )
    return defs.select("slo").join(counted, on="slo", how="left").fill_null(0)


def timeslice_counts(buckets: pl.DataFrame, defs: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Per timeslices SLO: evaluated slices (total) and good slices.

    Slices are aligned to the Unix epoch; only slices entirely inside `[window_start, as_of)`
    with at least one event are evaluated; a slice is good when good/total >= slice target.
    """
    sliced = defs.filter(pl.col("budgeting") == "timeslices")
    epoch_us = pl.col("bucket_start").dt.epoch("us")
    as_of_us = int(as_of.timestamp() * 1_000_000)
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
            (pl.col("good") / pl.col("total") >= pl.col("slice_target"))
            .sum()
            .cast(pl.Int64)
            .alias("slice_good"),
            pl.len().cast(pl.Int64).alias("slice_total"),
        )
    )
    return sliced.select("slo").join(slices, on="slo", how="left").fill_null(0)


def slo_table(
    buckets: pl.DataFrame,
    slos: Sequence[Slo],
    as_of: datetime,
    low_traffic_share: float = 0.1,
) -> pl.DataFrame:
    """One row per SLO with every number the report shows (see docs/metrics.md)."""
    defs = definitions(slos, as_of)
    events = event_counts(buckets, defs, as_of)
    slices = timeslice_counts(buckets, defs, as_of)
    table = defs.join(events, on="slo", how="left").join(slices, on="slo", how="left")
    is_slices = pl.col("budgeting") == "timeslices"
    table = table.with_columns(
        pl.when(is_slices).then(pl.col("slice_good")).otherwise(pl.col("event_good")).alias("good"),
        pl.when(is_slices)
        .then(pl.col("slice_total"))
        .otherwise(pl.col("event_total"))
        .alias("total"),
        (1.0 - pl.col("target")).alias("budget"),
    )
    has_data = pl.col("total") > 0
    bad = pl.col("total") - pl.col("good")
    table = table.with_columns(
        bad.alias("bad"),
        pl.when(has_data).then(pl.col("good") / pl.col("total")).alias("sli"),
        pl.when(has_data).then(bad / (pl.col("budget") * pl.col("total"))).alias("budget_consumed"),
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
