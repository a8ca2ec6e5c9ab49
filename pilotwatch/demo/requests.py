"""Seeded, vectorised generation of the demo `requests` table, one Parquet file per UTC day.

Randomness is SplitMix64 evaluated in Polars expressions on (seed, initiative, minute, row in
minute, stream), so a row's values never depend on how the work is chunked, and the same seed
gives the same bytes (with the same Polars version). Per-minute plans (counts, error and slow
rates) are small; rows are generated about _CHUNK_ROWS at a time, whatever the scale.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import cast

import polars as pl
from polars.expr.whenthen import ChainedThen, Then

from core.canonical import SCHEMAS, UTC_US
from pilotwatch.demo.story import SLOW_FACTOR, TIMEOUT_SHARE, Traffic

WINDOW = timedelta(days=90)
_MASK = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_ROW_BITS = 24  # up to 16.7 million requests per minute per initiative
_MAX_OPS = 5
_CHUNK_ROWS = 500_000  # requests generated per pass (bounds memory at any --scale)
_LOCAL_OFFSET_HOURS = -5  # the demo health system's clock (US Eastern standard time)
_PEAK_LOCAL_HOUR = 13.0
_PEAK_WIDTH_HOURS = 4.5
_STAGING_ERROR_RATE = 0.15  # staging is flaky on purpose: an SLO that counts it would show it

# random streams, one per decision a row needs
_OFFSET, _OP, _NORMAL_A, _NORMAL_B, _ERROR, _SLOW, _STATUS, _ENV, _TIMEOUT = range(9)


def splitmix64(value: int) -> int:
    """One SplitMix64 step on a Python int (used to derive salts)."""
    z = (value + _GOLDEN) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def salt(*parts: int) -> int:
    """A 64-bit salt mixing every part (seed, initiative number, stream ...)."""
    value = 0
    for part in parts:
        value = splitmix64(value ^ (part & _MASK))
    return value


def _u64(value: int) -> pl.Expr:
    return pl.lit(value & _MASK, dtype=pl.UInt64)


def uniform(key: pl.Expr, salt_value: pl.Expr) -> pl.Expr:
    """Uniform in [0, 1) per row: SplitMix64 of a UInt64 key plus a salt (wrapping arithmetic)."""
    z = key * _u64(_GOLDEN) + salt_value
    z = z.xor(z // _u64(1 << 30)) * _u64(0xBF58476D1CE4E5B9)
    z = z.xor(z // _u64(1 << 27)) * _u64(0x94D049BB133111EB)
    z = z.xor(z // _u64(1 << 31))
    return (z // _u64(1 << 11)).cast(pl.Float64) * (2.0**-53)


def _diurnal(minute_start: pl.Expr, night: float) -> pl.Expr:
    """Relative traffic by local hour: a bell around early afternoon over a night floor."""
    local = minute_start + pl.duration(hours=_LOCAL_OFFSET_HOURS)
    hour = local.dt.hour().cast(pl.Float64) + local.dt.minute().cast(pl.Float64) / 60
    distance = (hour - _PEAK_LOCAL_HOUR).abs()
    distance = pl.min_horizontal(distance, 24 - distance)
    return night + (1 - night) * (-((distance / _PEAK_WIDTH_HOURS) ** 2)).exp()


def minute_plan(profile: Traffic, as_of: datetime, scale: float, seed: int) -> pl.DataFrame:
    """Per minute of the 90 days: how many requests, and the error and slow rates."""
    start = as_of - WINDOW
    minutes = int(WINDOW.total_seconds() // 60)
    frame = pl.DataFrame({"minute": pl.int_range(0, minutes, dtype=pl.UInt64, eager=True)})
    minute_start = pl.lit(start, dtype=UTC_US) + pl.duration(minutes=pl.col("minute"))
    frame = frame.with_columns(minute_start.alias("minute_start"))
    local_day = (pl.col("minute_start") + pl.duration(hours=_LOCAL_OFFSET_HOURS)).dt.weekday()
    weekend = pl.when(local_day >= 6).then(profile.weekend).otherwise(1.0)
    volume = profile.per_day * (scale if profile.scaled else 1.0)
    shape = _diurnal(pl.col("minute_start"), profile.night) * weekend
    rate = shape / shape.mean() * (volume / 1440)
    if profile.ends is not None:
        rate = pl.when(pl.col("minute_start") < profile.ends).then(rate).otherwise(0.0)
    phase = (salt(seed, _stable(profile), 99) >> 11) * 2.0**-53
    cumulative = (rate.cum_sum() + phase).floor()
    count = (cumulative - cumulative.shift(1, fill_value=0.0)).cast(pl.Int64)
    error = pl.lit(profile.error_rate)
    slow = pl.lit(profile.slow_rate)
    for episode in profile.episodes:
        inside = pl.col("minute_start").is_between(episode.start, episode.end, closed="left")
        error = pl.when(inside).then(pl.max_horizontal(error, episode.error_rate)).otherwise(error)
        slow = pl.when(inside).then(pl.max_horizontal(slow, episode.slow_rate)).otherwise(slow)
    bounds = _bounds([o.share for o in profile.operations])
    return frame.with_columns(
        count.alias("count"),
        error.alias("error_rate"),
        slow.alias("slow_rate"),
        pl.col("minute_start").dt.date().alias("date"),
        pl.lit(profile.initiative).alias("initiative"),
        pl.lit(profile.service).alias("service"),
        _u64(salt(seed, _stable(profile))).alias("_salt"),
        pl.lit(profile.staging_share).alias("_staging"),
        *[pl.lit(b).alias(f"_b{i}") for i, b in enumerate(bounds)],
    )


def _bounds(shares: list[float]) -> list[float]:
    """Cumulative upper bounds for picking an operation (padded to _MAX_OPS - 1 entries)."""
    total, running, out = sum(shares), 0.0, []
    for share in shares[:-1]:
        running += share / total
        out.append(running)
    if len(shares) > _MAX_OPS:
        raise ValueError(f"at most {_MAX_OPS} operations per initiative")
    return out + [2.0] * (_MAX_OPS - 1 - len(out))


def _operations(profiles: list[Traffic]) -> pl.DataFrame:
    """(initiative, _op) -> operation name, latency median and sigma, kind."""
    rows = [
        {
            "initiative": p.initiative,
            "_op": i,
            "operation": o.name,
            "_median": o.median_ms,
            "_sigma": o.sigma,
            "_kind": o.kind,
        }
        for p in profiles
        for i, o in enumerate(p.operations)
    ]
    schema = {
        "initiative": pl.String(),
        "_op": pl.Int64(),
        "operation": pl.String(),
        "_median": pl.Float64(),
        "_sigma": pl.Float64(),
        "_kind": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


def _pick(u: pl.Expr, shares: list[float], values: list[int]) -> pl.Expr:
    """Choose values[i] with probability shares[i]."""
    total, bound = sum(shares), 0.0
    chain: Then | ChainedThen | None = None
    for share, value in zip(shares[:-1], values[:-1], strict=True):
        bound += share / total
        chain = (pl.when(u < bound) if chain is None else chain.when(u < bound)).then(value)
    assert chain is not None
    return chain.otherwise(values[-1])


def _rows(plan: pl.LazyFrame, operations: pl.DataFrame, seed: int) -> pl.LazyFrame:
    """Expand minute plans into canonical request rows (plus their `date`)."""
    key = pl.col("minute") * _u64(1 << _ROW_BITS) + pl.col("k").cast(pl.UInt64)
    streams = [
        uniform(key, pl.col("_salt") + _u64(salt(seed, stream))).alias(f"_u{stream}")
        for stream in range(9)
    ]

    def u(stream: int) -> pl.Expr:
        return pl.col(f"_u{stream}")

    # a sum of expressions (0 + e0 + e1 ...) is an expression: _MAX_OPS > 1
    op = cast(
        pl.Expr, sum((u(_OP) >= pl.col(f"_b{i}")).cast(pl.Int64) for i in range(_MAX_OPS - 1))
    )
    normal = (-2.0 * (1.0 - u(_NORMAL_A)).log()).sqrt() * (2 * math.pi * u(_NORMAL_B)).cos()
    staging = u(_ENV) < pl.col("_staging")
    error_rate = pl.when(staging).then(_STAGING_ERROR_RATE).otherwise(pl.col("error_rate"))
    error = pl.col("error")
    timeout = error & (u(_TIMEOUT) < TIMEOUT_SHARE)
    slowdown = pl.when(u(_SLOW) < pl.col("slow_rate")).then(SLOW_FACTOR).otherwise(1.0)
    median, sigma, kind = pl.col("_median"), pl.col("_sigma"), pl.col("_kind")
    duration = (
        pl.when(timeout)
        .then(30_000.0 + 50 * u(_OFFSET))
        .when(error)
        .then(median * 0.2 * (0.3 * pl.col("_normal")).exp())
        .otherwise(median * (sigma * pl.col("_normal")).exp() * slowdown)
        .round(1)
    )
    status_u = u(_STATUS)
    success = pl.when(kind == "POST").then(201).when(kind == "DELETE").then(204).otherwise(200)
    status = (
        pl.when(kind == "RPC")
        .then(pl.lit(None, dtype=pl.Int64))
        .when(timeout)
        .then(504)
        .when(error)
        .then(_pick(status_u, [0.5, 0.3, 0.2], [500, 502, 503]))
        .when(status_u < 0.015)
        .then(_pick(status_u / 0.015, [0.3, 0.4, 0.1, 0.2], [400, 404, 409, 429]))
        .otherwise(success)
    )
    offset_us = (u(_OFFSET) * 60_000_000).floor().cast(pl.Int64)
    return (
        plan.filter(pl.col("count") > 0)
        .with_columns(pl.int_ranges(0, pl.col("count")).alias("k"))
        .explode("k")
        .with_columns(streams)
        .with_columns(
            op.alias("_op"), normal.alias("_normal"), (u(_ERROR) < error_rate).alias("error")
        )
        .join(operations.lazy(), on=["initiative", "_op"], how="left", maintain_order="left")
        .select(
            "date",
            (pl.col("minute_start") + pl.duration(microseconds=offset_us)).alias("timestamp"),
            "initiative",
            "service",
            "operation",
            pl.when(staging)
            .then(pl.lit("staging"))
            .otherwise(pl.lit("production"))
            .alias("environment"),
            duration.alias("duration_ms"),
            status.alias("status_code"),
            "error",
        )
    )


def _chunks(plan: pl.DataFrame) -> list[tuple[int, int]]:
    """Contiguous minute ranges [lo, hi) of about _CHUNK_ROWS requests each.

    Whole days are grouped while they fit; a day larger than a chunk is split by minute.
    """
    totals = plan.group_by("minute", "date").agg(pl.col("count").sum()).sort("minute")
    days = totals.group_by("date", maintain_order=True).agg(
        pl.col("minute").min().alias("lo"),
        (pl.col("minute").max() + 1).alias("hi"),
        pl.col("count").sum().alias("rows"),
    )
    chunks: list[tuple[int, int]] = []
    rows = 0
    for _day, lo, hi, count in days.iter_rows():
        if count > _CHUNK_ROWS:
            day = totals.filter(pl.col("minute").is_between(lo, hi, closed="left"))
            part = (day.get_column("count").cum_sum() - 1) // _CHUNK_ROWS
            cuts = day.group_by(part.alias("part"), maintain_order=True).agg(pl.col("minute").min())
            starts = [*cuts.get_column("minute").to_list(), hi]
            chunks.extend(itertools.pairwise(starts))
            rows = _CHUNK_ROWS  # the next day starts a new chunk
        elif chunks and rows + count <= _CHUNK_ROWS:
            chunks[-1] = (chunks[-1][0], hi)
            rows += count
        else:
            chunks.append((lo, hi))
            rows = count
    return chunks


def write_requests(
    out_dir: Path, profiles: list[Traffic], as_of: datetime, scale: float, seed: int
) -> Iterator[tuple[str, Path, int]]:
    """Write each feed's requests under <feed>/ as one Parquet file per UTC day; yields rows.

    A day too large for one chunk (very large --scale) is written as YYYY-MM-DD_NN.parquet
    parts, in time order.
    """
    feeds: dict[str, list[Traffic]] = {}
    for profile in profiles:
        feeds.setdefault(profile.feed, []).append(profile)
    columns = list(SCHEMAS["requests"])
    for feed, members in feeds.items():
        folder = out_dir / feed
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.parquet"):
            old.unlink()
        plan = pl.concat([minute_plan(p, as_of, scale, seed) for p in members])
        operations = _operations(members)
        chunks = _chunks(plan)
        split_days = _split_days(plan, chunks)
        parts: dict[date, int] = {}
        for lo, hi in chunks:
            chunk = (
                _rows(
                    plan.lazy().filter(pl.col("minute").is_between(lo, hi, closed="left")),
                    operations,
                    seed,
                )
                .cast(SCHEMAS["requests"])  # type: ignore[arg-type]
                .sort("timestamp", "initiative", "operation", "duration_ms", maintain_order=True)
                .collect(engine="in-memory")
            )
            by_day = chunk.partition_by("date", as_dict=True, maintain_order=True)
            for (day,), frame in by_day.items():
                name = str(day)
                if day in split_days:
                    parts[day] = parts.get(day, 0) + 1
                    name = f"{day}_{parts[day]:02d}"
                path = folder / f"{name}.parquet"
                frame.select(columns).write_parquet(path, compression="zstd", statistics=True)
                yield feed, path, frame.height


def _split_days(plan: pl.DataFrame, chunks: list[tuple[int, int]]) -> set[date]:
    """Days whose requests span more than one chunk."""
    cuts = [lo for lo, _ in chunks[1:]]
    if not cuts:
        return set()
    rows = plan.filter(pl.col("count") > 0)
    split: set[date] = set()
    for cut in cuts:
        before = rows.filter(pl.col("minute") < cut).get_column("date").max()
        after = rows.filter(pl.col("minute") >= cut).get_column("date").min()
        if before is not None and before == after:
            split.add(before)  # type: ignore[arg-type]
    return split


def _stable(profile: Traffic) -> int:
    """A number per initiative that does not change when profiles are added or reordered."""
    return salt(*profile.initiative.encode())


def expected_rows(profiles: list[Traffic], as_of: datetime, scale: float, seed: int) -> int:
    """How many request rows write_requests produces, without generating them."""
    return sum(int(minute_plan(p, as_of, scale, seed).get_column("count").sum()) for p in profiles)
