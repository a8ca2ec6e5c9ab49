"""Measuring one source's load: good rows, quarantined rows, redactions and newest instants.

The counts are complete (docs/connectors.md, quarantine); only the quarantined rows kept for
display are capped. The big `requests` table is measured in one lazy streaming pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from connectors.base import BAD, LOCATION, REASON, REDACTED, REDACTED_BAD, SourceLoad, SourceSpec
from core.canonical import SCHEMAS, TIME_COLUMN

# Quarantined rows kept per source and table for display; the counts are always complete.
QUARANTINE_KEEP = 10_000
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "table": pl.String(),
    "location": pl.String(),
    "reason": pl.String(),
}
NEWEST_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "initiative": pl.String(),
    "newest": pl.Datetime("us", "UTC"),
}
LAZY_TABLES = frozenset({"requests"})  # big: measured with one lazy pass, kept lazy


@dataclass
class Measured:
    """One load counted: good frames, row counts, quarantine and newest instants per table."""

    frames: dict[str, pl.LazyFrame]  # canonical columns only, good rows
    rows: dict[str, int]
    quarantined: int
    redacted: int  # free-text values the connector's PHI screen replaced, all rows
    newest: dict[str, datetime | None]  # per table, good rows only
    quarantine: pl.DataFrame
    collected: dict[str, pl.DataFrame]  # small tables already in memory (for the snapshot)
    by_initiative: pl.DataFrame  # (initiative, newest) of good rows, every table with initiatives


@dataclass(frozen=True)
class StoredCounts:
    """A table's counts taken from the incremental store instead of a scan (pilotwatch/store.py)."""

    total: int  # every row, good and quarantined
    bad: int
    redacted: int  # good and bad rows' free-text redactions plus bad rows' reason/location
    newest: datetime | None  # newest good row
    by_initiative: pl.DataFrame  # (initiative, newest) of good rows, initiative not null
    quarantine: pl.DataFrame  # (LOCATION, REASON) of bad rows, at most QUARANTINE_KEEP


def _canonical(frame: pl.LazyFrame, table: str) -> pl.LazyFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in SCHEMAS[table].items()])


def measure(
    spec: SourceSpec, load: SourceLoad, stored: Mapping[str, StoredCounts] | None = None
) -> Measured:
    """Count good and quarantined rows and find the newest timestamp, per table.

    A table in `stored` is not scanned: its counts come from the store (docs/store.md).
    """
    stored = stored or {}
    frames: dict[str, pl.LazyFrame] = {}
    rows: dict[str, int] = {}
    collected: dict[str, pl.DataFrame] = {}
    bad_parts: list[pl.DataFrame] = []
    quarantined = redacted = 0
    newest: dict[str, datetime | None] = {}
    per_initiative: list[pl.DataFrame] = []
    for table in spec.tables:
        frame = load.frames.get(table)
        if frame is None:
            continue
        if BAD not in frame.collect_schema().names():  # a plugin without the cheap flag
            frame = frame.with_columns(pl.col(REASON).is_not_null().alias(BAD))
        time_column = TIME_COLUMN[table]
        is_bad = pl.col(BAD)
        bad_plan = frame.filter(is_bad).select(LOCATION, REASON).head(QUARANTINE_KEEP)
        keyed = "initiative" in SCHEMAS[table]
        names = frame.collect_schema().names()
        redactions = _sum_of(REDACTED, names)
        # a quarantined row's reason and location: counted over bad rows only (never formatted
        # for the good rows of a big table)
        bad_redactions = _sum_of(REDACTED_BAD, names)
        good_newest: pl.DataFrame | None
        top: object
        if table in stored:
            counts = stored[table]
            total, n_bad, top = counts.total, counts.bad, counts.newest
            redacted += counts.redacted
            bad = counts.quarantine
            frames[table] = _canonical(frame.filter(~is_bad), table)
            good_newest = counts.by_initiative
        elif table in LAZY_TABLES:
            # one pass: counts, and the newest good row per initiative (for freshness later)
            stats_plan = frame.group_by("initiative").agg(
                pl.len().alias("n"),
                is_bad.sum().alias("bad"),
                pl.col(time_column).filter(~is_bad).max().alias("newest"),
                redactions.alias("redacted"),
            )
            stats = stats_plan.collect(engine="streaming")
            total, n_bad = int(stats["n"].sum()), int(stats["bad"].sum())
            redacted += int(stats["redacted"].sum())
            # reasons and locations are text: build them only when there is a bad row
            if n_bad:
                in_bad = frame.filter(is_bad).select(bad_redactions.alias("redacted"))
                bad, bad_count = pl.collect_all([bad_plan, in_bad], engine="streaming")
                redacted += int(bad_count["redacted"].sum() or 0)
            else:
                bad = _no_bad_rows()
            top = stats["newest"].max()
            frames[table] = _canonical(frame.filter(~is_bad), table)
            good_newest = stats.filter(pl.col("initiative").is_not_null())
        else:
            data = frame.collect()
            good = data.filter(~is_bad)
            bad = data.filter(is_bad).select(LOCATION, REASON).head(QUARANTINE_KEEP)
            total, n_bad = data.height, data.height - good.height
            redacted += int(data.select(redactions + bad_redactions).item() or 0)
            top = good[time_column].max()
            collected[table] = _canonical(good.lazy(), table).collect()
            frames[table] = collected[table].lazy()
            good_newest = (
                good.group_by("initiative").agg(pl.col(time_column).max().alias("newest"))
                if keyed
                else None
            )
        if good_newest is not None:
            per_initiative.append(
                good_newest.select("initiative", pl.col("newest").cast(NEWEST_SCHEMA["newest"]))
            )
        rows[table] = total - n_bad
        quarantined += n_bad
        newest[table] = top  # type: ignore[assignment]
        bad_parts.append(
            bad.select(
                pl.lit(spec.name).alias("source"),
                pl.lit(table).alias("table"),
                pl.col(LOCATION).alias("location"),
                pl.col(REASON).alias("reason"),
            )
        )
    quarantine = pl.concat(bad_parts) if bad_parts else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    by_initiative = (
        pl.concat(per_initiative)
        .filter(pl.col("newest").is_not_null())
        .group_by("initiative")
        .agg(pl.col("newest").max())
        if per_initiative
        else pl.DataFrame(schema={k: v for k, v in NEWEST_SCHEMA.items() if k != "source"})
    )
    return Measured(
        frames, rows, quarantined, redacted, newest, quarantine, collected, by_initiative
    )


def _sum_of(column: str, names: list[str]) -> pl.Expr:
    """The UInt64 sum of a count column (0 when a plugin's frame has no such column)."""
    return pl.col(column).cast(pl.UInt64).sum() if column in names else pl.lit(0, pl.UInt64)


def _no_bad_rows() -> pl.DataFrame:
    return pl.DataFrame(schema={LOCATION: pl.String(), REASON: pl.String()})
