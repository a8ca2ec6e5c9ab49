"""As-of instants and half-open windows `[T - W, T)`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

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


def month_start(as_of: datetime) -> datetime:
    """Start of the UTC calendar month that contains `as_of`."""
    return as_of.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def lit_ts(value: datetime) -> pl.Expr:
    """A Polars literal for a UTC instant in the canonical dtype."""
    return pl.lit(value, dtype=UTC_US)


def hours(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float hours."""
    return expr.dt.total_microseconds().cast(pl.Float64) / 3_600_000_000


def minutes(expr: pl.Expr) -> pl.Expr:
    """A Duration expression as float minutes."""
    return expr.dt.total_microseconds().cast(pl.Float64) / 60_000_000
