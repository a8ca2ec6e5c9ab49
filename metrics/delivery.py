"""DORA delivery metrics per initiative: frequency, deploy-day medians, lead time, change
failure rate with transparent incident linking, recovery time, and levels."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from core.models import DoraThresholds
from metrics.timewin import hours, lit_ts

COUNTED_STATUSES = ("success", "rolled_back")
LEVEL_NAMES = ("frequency", "lead_time", "change_failure", "recovery")


def production_deployments(deployments: pl.DataFrame) -> pl.DataFrame:
    """Successful or rolled-back production deployments (the ones that reached production)."""
    return deployments.filter(
        (pl.col("environment") == "production") & pl.col("status").is_in(COUNTED_STATUSES)
    )


def link_incidents(
    incidents: pl.DataFrame,
    deployments: pl.DataFrame,
    as_of: datetime,
    link_window: timedelta,
) -> pl.DataFrame:
    """Incidents opened before `as_of`, each with `linked_deploy_id` and `link_method`.

    The incident's own deploy_id wins; otherwise the latest counted production deployment of the
    same initiative with `opened_at - link_window <= finished_at <= opened_at`; else unlinked.
    """
    opened = incidents.filter(pl.col("opened_at") < lit_ts(as_of)).with_row_index("_row")
    candidates = (
        opened.filter(pl.col("deploy_id").is_null())
        .select("_row", "initiative", "opened_at")
        .join(
            production_deployments(deployments).select(
                "initiative", pl.col("deploy_id").alias("_cand"), "finished_at"
            ),
            on="initiative",
        )
        .filter(
            (pl.col("finished_at") <= pl.col("opened_at"))
            & (pl.col("finished_at") >= pl.col("opened_at") - pl.lit(link_window))
        )
        .sort("_row", "finished_at", "_cand")
        .group_by("_row", maintain_order=True)
        .agg(pl.col("_cand").last().alias("_by_time"))
    )
    return (
        opened.join(candidates, on="_row", how="left")
        .with_columns(
            pl.coalesce("deploy_id", "_by_time").alias("linked_deploy_id"),
            pl.when(pl.col("deploy_id").is_not_null())
            .then(pl.lit("deploy_id"))
            .when(pl.col("_by_time").is_not_null())
            .then(pl.lit("time_window"))
            .otherwise(pl.lit("unlinked"))
            .alias("link_method"),
        )
        .drop("_row", "_by_time")
    )


def _block_median(counted: pl.DataFrame, as_of: datetime, days: int, blocks: int) -> pl.DataFrame:
    """Median over blocks `[T - days*k, T - days*(k-1))`, k = 1..blocks, of deploy dates."""
    if blocks < 1:
        return pl.DataFrame(schema={"initiative": pl.String(), "median": pl.Float64()})
    block_us = days * 86_400_000_000
    age = (lit_ts(as_of) - pl.col("finished_at")).dt.total_microseconds()
    # block k holds ages in (days*(k-1), days*k], i.e. [T - days*k, T - days*(k-1)) with its
    # lower bound inside; every counted age is >= 1us because finished_at < T.
    per_block = (
        counted.with_columns(((age - 1) // block_us + 1).alias("block"))
        .filter(pl.col("block") <= blocks)
        .group_by("initiative", "block")
        .agg(pl.col("finished_at").dt.date().n_unique().alias("days"))
    )
    grid = (
        counted.select("initiative")
        .unique()
        .join(pl.DataFrame({"block": list(range(1, blocks + 1))}), how="cross")
    )
    return (
        grid.join(per_block, on=["initiative", "block"], how="left")
        .with_columns(pl.col("days").fill_null(0))
        .group_by("initiative")
        .agg(pl.col("days").median().alias("median"))
    )


def delivery_table(
    deployments: pl.DataFrame,
    incidents: pl.DataFrame,
    initiative_ids: Sequence[str],
    as_of: datetime,
    window: timedelta,
    link_window: timedelta,
    dora: DoraThresholds,
) -> pl.DataFrame:
    """One row per initiative with the four keys, their n, and DORA levels."""
    start = as_of - window
    window_days = window.total_seconds() / 86_400
    in_window = (pl.col("finished_at") >= lit_ts(start)) & (pl.col("finished_at") < lit_ts(as_of))
    counted = production_deployments(deployments).filter(in_window)
    linked = link_incidents(incidents, deployments, as_of, link_window)
    failing_ids = (
        linked.filter(pl.col("linked_deploy_id").is_not_null())
        .select(
            "initiative", pl.col("linked_deploy_id").alias("deploy_id"), pl.lit(True).alias("_inc")
        )
        .unique()
    )
    counted = counted.join(failing_ids, on=["initiative", "deploy_id"], how="left").with_columns(
        ((pl.col("status") == "rolled_back") | pl.col("_inc").fill_null(False)).alias("failed")
    )
    lead = hours(pl.col("finished_at") - pl.col("commit_at"))
    per_init = counted.group_by("initiative").agg(
        pl.len().cast(pl.Int64).alias("deployments"),
        pl.col("failed").sum().cast(pl.Int64).alias("failed_deployments"),
        lead.median().alias("lead_time_hours_median"),
        lead.count().cast(pl.Int64).alias("lead_time_n"),
    )
    resolved = incidents.filter(
        (pl.col("resolved_at") >= lit_ts(start)) & (pl.col("resolved_at") < lit_ts(as_of))
    )
    recovery = resolved.group_by("initiative").agg(
        hours(pl.col("resolved_at") - pl.col("opened_at"))
        .median()
        .alias("recovery_time_hours_median"),
        pl.len().cast(pl.Int64).alias("recovery_n"),
    )
    unlinked = (
        linked.filter(
            (pl.col("opened_at") >= lit_ts(start)) & (pl.col("link_method") == "unlinked")
        )
        .group_by("initiative")
        .agg(pl.len().cast(pl.Int64).alias("unlinked_incidents"))
    )
    weeks = _block_median(counted, as_of, 7, int(window_days // 7)).rename(
        {"median": "deploy_days_per_week_median"}
    )
    months = _block_median(counted, as_of, 30, int(window_days // 30)).rename(
        {"median": "deploy_days_per_month_median"}
    )
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    table = (
        base.join(per_init, on="initiative", how="left")
        .join(recovery, on="initiative", how="left")
        .join(unlinked, on="initiative", how="left")
        .join(weeks, on="initiative", how="left")
        .join(months, on="initiative", how="left")
        .with_columns(
            pl.col(
                "deployments",
                "failed_deployments",
                "lead_time_n",
                "recovery_n",
                "unlinked_incidents",
            ).fill_null(0),
            # no deployment at all: every block counted zero deploy days
            # (a window shorter than one block has no median at all: it stays null)
            pl.col("deploy_days_per_week_median").fill_null(
                pl.lit(0.0 if window_days >= 7 else None, dtype=pl.Float64)
            ),
            pl.col("deploy_days_per_month_median").fill_null(
                pl.lit(0.0 if window_days >= 30 else None, dtype=pl.Float64)
            ),
        )
        .with_columns(
            (pl.col("deployments") / window_days).alias("deployment_frequency_per_day"),
            pl.when(pl.col("deployments") > 0)
            .then(pl.col("failed_deployments") / pl.col("deployments"))
            .alias("change_failure_rate"),
        )
    )
    return table.with_columns(levels(dora)).sort("initiative")


def levels(dora: DoraThresholds) -> list[pl.Expr]:
    """DORA 2023 level expressions; insufficient_data under `min_deployments` or a null value."""
    enough = pl.col("deployments") >= dora.min_deployments

    def graded(value: str, expr: pl.Expr) -> pl.Expr:
        return (
            pl.when(~enough | pl.col(value).is_null())
            .then(pl.lit("insufficient_data"))
            .otherwise(expr)
        )

    per_week = pl.col("deploy_days_per_week_median")
    frequency = (
        pl.when(per_week >= dora.frequency_elite_days_per_week)
        .then(pl.lit("elite"))
        .when(per_week >= dora.frequency_high_days_per_week)
        .then(pl.lit("high"))
        .when(pl.col("deploy_days_per_month_median") >= dora.frequency_medium_days_per_month)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    lead = pl.col("lead_time_hours_median")
    lead_level = (
        pl.when(lead < dora.lead_time_elite_hours)
        .then(pl.lit("elite"))
        .when(lead < dora.lead_time_high_hours)
        .then(pl.lit("high"))
        .when(lead < dora.lead_time_medium_hours)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    cfr = pl.col("change_failure_rate")
    cfr_level = (
        pl.when(cfr <= dora.change_failure_elite)
        .then(pl.lit("elite"))
        .when(cfr <= dora.change_failure_high)
        .then(pl.lit("high"))
        .when(cfr <= dora.change_failure_medium)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    rec = pl.col("recovery_time_hours_median")
    rec_level = (
        pl.when(rec < dora.recovery_elite_hours)
        .then(pl.lit("elite"))
        .when(rec < dora.recovery_high_hours)
        .then(pl.lit("high"))
        .when(rec < dora.recovery_medium_hours)
        .then(pl.lit("medium"))
        .otherwise(pl.lit("low"))
    )
    return [
        graded("deploy_days_per_week_median", frequency).alias("level_frequency"),
        graded("lead_time_hours_median", lead_level).alias("level_lead_time"),
        graded("change_failure_rate", cfr_level).alias("level_change_failure"),
        graded("recovery_time_hours_median", rec_level).alias("level_recovery"),
    ]
