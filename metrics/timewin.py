"""As-of instants and half-open windows `[T - W, T)`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from core.windows import CalendarWindow

UTC_US = pl.Datetime("us", "UTC")

# Burn-rate windows, shortest first, as docs/metrics.md lists them.
BURN_WINDOWS: dict[str, timedelta] = {
    "5m": timedelta(minutes=5),
    "30m": timedelta(minutes=30),
    "1h": timedelta(hours=1),
    "2h": timedelta(hours=2),
    "6h": timedelta(hours=6),
    "1d": timedelta(days=1),
    "3d": timedelta(days=3),
}


def as_of_instant(value: datetime) -> datetime:
    """A UTC instant truncated down to the whole minute (naive input is read as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    return value.replace(second=0, microsecond=0)


def _add_months(local: datetime, months: int) -> datetime:
    """`local` plus whole calendar months; a day past the month's end clamps to its last day."""
    index = local.year * 12 + (local.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    next_first = datetime(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - timedelta(days=1)).day
    return local.replace(year=year, month=month, day=min(local.day, last_day))


def _period(window: CalendarWindow, anchor: datetime, k: int) -> datetime:
    """The local start of the k-th period after `anchor` (k may be negative)."""
    if window.unit == "w":
        return anchor + timedelta(weeks=window.count * k)
    return _add_months(anchor, window.months * k)


def _natural_anchor(window: CalendarWindow, local: datetime) -> datetime:
    """Where periods start when the window gives no `start`: Monday 00:00 or 1 January 00:00."""
    if window.unit == "w":
        return datetime(1970, 1, 5)  # a Monday; weekly periods of N weeks repeat from it
    return datetime(1970, 1, 1)


def calendar_start(window: CalendarWindow, zone: str, as_of: datetime) -> datetime:
    """UTC start of the calendar period that contains `as_of` (docs/metrics.md, windows).

    Periods of `window.calendar` repeat from `window.start` (local wall time in `zone`); months,
    quarters and years add calendar months, weeks add 7 local days. A local start that falls in
    a daylight-saving gap or overlap resolves as Python's zoneinfo does (fold 0).
    """
    tz = ZoneInfo(zone)
    local = as_of.astimezone(tz).replace(tzinfo=None)
    anchor = window.start or _natural_anchor(window, local)
    if window.unit == "w":
        span = timedelta(weeks=window.count)
        k = (local - anchor) // span
    else:
        months = (local.year - anchor.year) * 12 + (local.month - anchor.month)
        k = months // window.months
    # step to the last period start at or before `as_of`, comparing instants
    while _period(window, anchor, k).replace(tzinfo=tz) > as_of:
        k -= 1
    while _period(window, anchor, k + 1).replace(tzinfo=tz) <= as_of:
        k += 1
    return _period(window, anchor, k).replace(tzinfo=tz).astimezone(UTC)


def lit_ts(value: datetime) -> pl.Expr:
    """A Polars literal for a UTC instant in the canonical dtype."""
    return pl.lit(value, dtype=UTC_US)


def hours(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float hours."""
    return expr.dt.total_microseconds().cast(pl.Float64) / 3_600_000_000


def minutes(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float minutes."""
    return expr.dt.total_microseconds().cast(pl.Float64) / 60_000_000
