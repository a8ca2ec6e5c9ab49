"""Incident metrics per initiative over the delivery window."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import polars as pl

from metrics.timewin import hours, lit_ts, minutes

SEVERITIES = (1, 2, 3, 4)


def open_at(incidents: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Incidents opened before `as_of` and not resolved before it."""
    return incidents.filter(
        (pl.col("opened_at") < lit_ts(as_of))
        & (pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= lit_ts(as_of)))
    )


def incident_table(
    incidents: pl.DataFrame,
    initiative_ids: Sequence[str],
    as_of: datetime,
    window: timedelta,
) -> pl.DataFrame:
    """Open counts by severity, open sev 1-2, MTTA (minutes), MTTR (hours), patient-impacting."""
    start, end = lit_ts(as_of - window), lit_ts(as_of)
    opened_in = (pl.col("opened_at") >= start) & (pl.col("opened_at") < end)
    acked = opened_in & pl.col("acknowledged_at").is_not_null() & (pl.col("acknowledged_at") < end)
    resolved_in = (pl.col("resolved_at") >= start) & (pl.col("resolved_at") < end)
    windowed = incidents.group_by("initiative").agg(
        minutes(pl.col("acknowledged_at") - pl.col("opened_at"))
        .filter(acked)
        .mean()
        .alias("mtta_minutes"),
        acked.sum().cast(pl.Int64).alias("mtta_n"),
        hours(pl.col("resolved_at") - pl.col("opened_at"))
        .filter(resolved_in)
        .mean()
        .alias("mttr_hours"),
        resolved_in.fill_null(False).sum().cast(pl.Int64).alias("mttr_n"),
        (opened_in & pl.col("patient_impact")).sum().cast(pl.Int64).alias("patient_impacting"),
        opened_in.sum().cast(pl.Int64).alias("opened_in_window"),
    )
    still_open = (
        open_at(incidents, as_of)
        .group_by("initiative")
        .agg(
            *[
                (pl.col("severity") == s).sum().cast(pl.Int64).alias(f"open_sev{s}")
                for s in SEVERITIES
            ]
        )
    )
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    counts = [f"open_sev{s}" for s in SEVERITIES]
    return (
        base.join(windowed, on="initiative", how="left")
        .join(still_open, on="initiative", how="left")
        .with_columns(
            pl.col(*counts, "mtta_n", "mttr_n", "patient_impacting", "opened_in_window").fill_null(
                0
            )
        )
        .with_columns((pl.col("open_sev1") + pl.col("open_sev2")).alias("open_sev12"))
        .sort("initiative")
    )
