"""Data freshness: a source is stale when its newest timestamp before T is older than its budget."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl

from metrics.timewin import UTC_US, lit_ts

SOURCE_SCHEMA = {
    "source": pl.String(),
    "freshness_seconds": pl.Int64(),
    "initiatives": pl.List(pl.String()),
}
OBSERVED_SCHEMA = {"source": pl.String(), "initiative": pl.String(), "newest": UTC_US}


def newest_by_source(
    frame: pl.DataFrame | pl.LazyFrame, column: str, as_of: datetime
) -> pl.LazyFrame:
    """(source, initiative, newest) over rows with `column < T`."""
    return (
        frame.lazy()
        .filter(pl.col(column) < lit_ts(as_of))
        .group_by("source", "initiative")
        .agg(pl.col(column).max().alias("newest"))
        .cast(OBSERVED_SCHEMA)  # type: ignore[arg-type]
    )


def source_freshness(
    sources: pl.DataFrame, observed: pl.DataFrame, initiative_ids: Sequence[str], as_of: datetime
) -> pl.DataFrame:
    """Per source: newest timestamp before T, age in hours, stale flag, initiatives served.

    A source serves the initiatives its config lists; otherwise those it delivered rows for;
    a source that delivered nothing and lists none is counted against every initiative,
    because nobody can tell which initiatives it leaves blind.
    """
    newest = observed.group_by("source").agg(
        pl.col("newest").max(), pl.col("initiative").unique().sort().alias("observed")
    )
    every = pl.lit(list(initiative_ids), dtype=pl.List(pl.String()))
    table = sources.join(newest, on="source", how="left").with_columns(
        pl.when(pl.col("initiatives").list.len() > 0)
        .then(pl.col("initiatives"))
        .when(pl.col("observed").list.len() > 0)
        .then(pl.col("observed"))
        .otherwise(every)
        .alias("serves"),
        ((lit_ts(as_of) - pl.col("newest")).dt.total_seconds() / 3600).alias("age_hours"),
    )
    stale = pl.col("newest").is_null() | (
        lit_ts(as_of) - pl.col("newest") > pl.duration(seconds=pl.col("freshness_seconds"))
    )
    return table.with_columns(stale.alias("stale")).drop("observed").sort("source")


def stale_by_initiative(freshness: pl.DataFrame, initiative_ids: Sequence[str]) -> pl.DataFrame:
    """Per initiative: number of stale sources that serve it."""
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    counts = (
        freshness.filter(pl.col("stale"))
        .explode("serves")
        .group_by(pl.col("serves").alias("initiative"))
        .agg(pl.col("source").n_unique().cast(pl.Int64).alias("stale_sources"))
    )
    return base.join(counts, on="initiative", how="left").with_columns(
        pl.col("stale_sources").fill_null(0)
    )
