"""View series for the dashboard: frames shaped for charts, derived from the same inputs and
rules as the report (SLI over time, error-budget burn-down, deployment markers, delivery and
incident trends, KPI trends with suppression, the compliance matrix, milestones). Views over
the report itself (funnel, verdict counts, dimension matrix) live in pilotwatch/report/views.py.

Pure functions: frames and config in, frames out. Nothing here changes a reported
number; where a series ends at T it ends on the report's value (see tests/test_series.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

import polars as pl

from core.models import Initiative, Slo
from metrics import outcomes
from metrics.delivery import production_deployments
from metrics.outcomes import kpi_definitions
from metrics.slo import window_start
from metrics.timewin import UTC_US, lit_ts

UNIT_SCHEMA = {"at": UTC_US, "good": pl.Int64(), "total": pl.Int64()}
# ratio_timeslices: a slice's `good` is its ratio good/total (a share of one slice)
RATIO_UNIT_SCHEMA = {"at": UTC_US, "good": pl.Float64(), "total": pl.Int64()}


def slo_units(buckets: pl.DataFrame, slo: Slo, as_of: datetime) -> pl.DataFrame:
    """The SLO's counting units inside its window `[start, T)`: (at, good, total).

    Occurrences: its 1-minute buckets. Timeslices: one row per evaluated slice (epoch-aligned,
    entirely inside the window, with events) with total 1 and good 1 when the slice met its
    target, the same rule as metrics.slo.timeslice_counts. Ratio timeslices: the same slices
    with total 1 and good = the slice's good/total (a Float64 column), so sums over units give
    the report's mean-of-ratios SLI and its budget.
    """
    start = window_start(slo, as_of)
    mine = buckets.filter(pl.col("slo") == slo.name)
    if slo.budgeting == "occurrences" or slo.timeslice is None:
        return (
            mine.filter(
                (pl.col("bucket_start") >= lit_ts(start)) & (pl.col("bucket_start") < lit_ts(as_of))
            )
            .select(pl.col("bucket_start").alias("at"), "good", "total")
            .cast(UNIT_SCHEMA)  # type: ignore[arg-type]
            .sort("at")
        )
    slice_us = slo.timeslice.length_seconds * 1_000_000
    start_us = int(start.timestamp() * 1_000_000)
    end_us = int(as_of.timestamp() * 1_000_000)
    slices = (
        mine.with_columns((pl.col("bucket_start").dt.epoch("us") // slice_us * slice_us).alias("s"))
        .filter((pl.col("s") >= start_us) & (pl.col("s") + slice_us <= end_us))
        .group_by("s")
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .filter(pl.col("total") > 0)
    )
    ratio = pl.col("good") / pl.col("total")
    if slo.budgeting == "ratio_timeslices":
        good, schema = ratio, RATIO_UNIT_SCHEMA
    else:
        good, schema = (ratio >= (slo.timeslice.target or 0)).cast(pl.Int64), UNIT_SCHEMA
    return (
        slices.select(
            pl.from_epoch("s", time_unit="us").dt.replace_time_zone("UTC").alias("at"),
            good.alias("good"),
            pl.lit(1, dtype=pl.Int64()).alias("total"),
        )
        .cast(schema)  # type: ignore[arg-type]
        .sort("at")
    )


def sli_series(buckets: pl.DataFrame, slo: Slo, as_of: datetime, every: str = "1h") -> pl.DataFrame:
    """SLI per period (`1h`, `1d`, ...) over the SLO's window: period_start, good, total, sli.

    Periods are epoch-aligned; a period without units is absent (a gap, not a zero). For
    ratio_timeslices a period's SLI is the mean ratio of its slices (good is a sum of ratios).
    """
    units = slo_units(buckets, slo, as_of)
    return (
        units.group_by(pl.col("at").dt.truncate(every).alias("period_start"))
        .agg(pl.col("good").sum(), pl.col("total").sum())
        .with_columns(
            pl.when(pl.col("total") > 0).then(pl.col("good") / pl.col("total")).alias("sli"),
            pl.lit(float(slo.target)).alias("target"),
        )
        .sort("period_start")
    )


def budget_burn_down(
    buckets: pl.DataFrame, slo: Slo, as_of: datetime, every: str = "1h"
) -> pl.DataFrame:
    """Error budget remaining through the window: at, consumed, budget_remaining.

    The budget is the window's whole allowance, `(1 - target) * total` units at T, so the line
    starts at 1.0 at the window start and ends at T on the report's `budget_remaining` (for
    ratio_timeslices a slice spends 1 - its ratio). Empty when the window has no units.
    """
    schema = {"at": UTC_US, "consumed": pl.Float64(), "budget_remaining": pl.Float64()}
    units = slo_units(buckets, slo, as_of)
    total = int(units.get_column("total").sum()) if units.height else 0
    if total == 0:
        return pl.DataFrame(schema=schema)
    allowance = (1.0 - float(slo.target)) * total
    start = window_start(slo, as_of)
    steps = (
        units.group_by(pl.col("at").dt.truncate(every).alias("period"))
        .agg((pl.col("total") - pl.col("good")).sum().alias("bad"))
        .sort("period")
        .with_columns(
            pl.min_horizontal(pl.col("period").dt.offset_by(every), lit_ts(as_of)).alias("at"),
            (pl.col("bad").cum_sum() / allowance).alias("consumed"),
        )
        .with_columns((1.0 - pl.col("consumed")).alias("budget_remaining"))
        .select("at", "consumed", "budget_remaining")
    )
    first = pl.DataFrame({"at": [start], "consumed": [0.0], "budget_remaining": [1.0]})
    return pl.concat([first.cast(schema), steps.cast(schema)])  # type: ignore[arg-type]


def ideal_burn(slo: Slo, as_of: datetime) -> pl.DataFrame:
    """The steady-pace reference: budget 1.0 at the window start, 0.0 at T."""
    return pl.DataFrame(
        {"at": [window_start(slo, as_of), as_of], "budget_remaining": [1.0, 0.0]},
        schema={"at": UTC_US, "budget_remaining": pl.Float64()},
    )


def deploy_markers(
    deployments: pl.DataFrame, initiative: str, start: datetime, end: datetime
) -> pl.DataFrame:
    """Production deployments (success or rolled back) of `initiative` in `[start, end)`."""
    return (
        production_deployments(deployments)
        .filter(
            (pl.col("initiative") == initiative)
            & (pl.col("finished_at") >= lit_ts(start))
            & (pl.col("finished_at") < lit_ts(end))
        )
        .select("finished_at", "deploy_id", "status", "version")
        .sort("finished_at", "deploy_id")
    )


def _week_block(column: str, as_of: datetime) -> pl.Expr:
    """1 for `[T - 7d, T)`, 2 for the week before, ... (the week blocks of docs/metrics.md)."""
    age = (lit_ts(as_of) - pl.col(column)).dt.total_microseconds()
    return age // (7 * 86_400_000_000) + 1


def _week_grid(initiative_ids: Sequence[str], as_of: datetime, window: timedelta) -> pl.DataFrame:
    weeks = int(window.total_seconds() // (7 * 86_400))
    return pl.DataFrame(
        {"initiative": list(initiative_ids)}, schema={"initiative": pl.String()}
    ).join(
        pl.DataFrame(
            {
                "block": list(range(1, weeks + 1)),
                "week_start": [as_of - timedelta(days=7 * k) for k in range(1, weeks + 1)],
            },
            schema={"block": pl.Int64(), "week_start": UTC_US},
        ),
        how="cross",
    )


def weekly_deployments(
    deployments: pl.DataFrame,
    linked_incidents: pl.DataFrame,
    initiative_ids: Sequence[str],
    as_of: datetime,
    window: timedelta,
) -> pl.DataFrame:
    """Per initiative and week block: deployments and failed ones (rolled back or linked)."""
    linked = (
        linked_incidents.filter(pl.col("linked_deploy_id").is_not_null())
        .select("initiative", pl.col("linked_deploy_id").alias("deploy_id"))
        .unique()
        .with_columns(pl.lit(True).alias("_inc"))
    )
    counted = (
        production_deployments(deployments)
        .filter(
            (pl.col("finished_at") >= lit_ts(as_of - window))
            & (pl.col("finished_at") < lit_ts(as_of))
        )
        .join(linked, on=["initiative", "deploy_id"], how="left")
        .with_columns(
            _week_block("finished_at", as_of).alias("block"),
            ((pl.col("status") == "rolled_back") | pl.col("_inc").fill_null(False)).alias("failed"),
        )
        .group_by("initiative", "block")
        .agg(
            pl.len().cast(pl.Int64).alias("deployments"),
            pl.col("failed").sum().cast(pl.Int64).alias("failed"),
        )
    )
    return (
        _week_grid(initiative_ids, as_of, window)
        .join(counted, on=["initiative", "block"], how="left")
        .with_columns(pl.col("deployments", "failed").fill_null(0))
        .sort("initiative", "week_start")
    )


def weekly_incidents(
    incidents: pl.DataFrame,
    initiative_ids: Sequence[str],
    as_of: datetime,
    window: timedelta,
) -> pl.DataFrame:
    """Per initiative, week block and severity: incidents opened in that week."""
    opened = (
        incidents.filter(
            (pl.col("opened_at") >= lit_ts(as_of - window)) & (pl.col("opened_at") < lit_ts(as_of))
        )
        .with_columns(_week_block("opened_at", as_of).alias("block"))
        .group_by("initiative", "block", "severity")
        .agg(pl.len().cast(pl.Int64).alias("opened"))
    )
    grid = _week_grid(initiative_ids, as_of, window)
    weeks = grid.select("initiative", "block", "week_start")
    return (
        opened.join(weeks, on=["initiative", "block"], how="inner")
        .select("initiative", "week_start", "severity", "opened")
        .sort("initiative", "week_start", "severity")
    )


def incidents_in_window(
    linked_incidents: pl.DataFrame, as_of: datetime, window: timedelta
) -> pl.DataFrame:
    """Linked incidents opened in `[T - window, T)` or still open at T, newest first.

    Adds `open` (still open at T) and `in_window` (opened in the window: the ones the report's
    window metrics, such as unlinked_incidents, count).
    """
    open_at_t = pl.col("resolved_at").is_null() | (pl.col("resolved_at") >= lit_ts(as_of))
    in_window = pl.col("opened_at") >= lit_ts(as_of - window)
    return (
        linked_incidents.filter((pl.col("opened_at") < lit_ts(as_of)) & (in_window | open_at_t))
        .with_columns(open_at_t.alias("open"), in_window.alias("in_window"))
        .sort("opened_at", "incident_id", descending=True)
    )


def kpi_series(
    observations: pl.DataFrame,
    initiatives: Sequence[Initiative],
    as_of: datetime,
    small_cell: int = 11,
) -> pl.DataFrame:
    """Every configured KPI's observations before T with the report's suppression rule.

    Count-based values with a numerator in 1..small_cell-1 or a denominator below small_cell
    come out with `value` null and `suppressed` true (the rule of metrics/outcomes.py).
    One row per (initiative, kpi, period_end); ties keep the same row the report keeps.
    """
    defs = kpi_definitions(initiatives).select(
        "initiative", "kpi", "unit", "direction", "target", "baseline"
    )
    latest = (
        observations.filter(pl.col("period_end") < lit_ts(as_of))
        .sort(
            ["initiative", "kpi", "period_end", "value", "numerator", "denominator"],
            nulls_last=False,
        )
        .group_by("initiative", "kpi", "period_end", maintain_order=True)
        .last()
        .with_columns(outcomes.small_cell_rule(small_cell).fill_null(False).alias("suppressed"))
        .with_columns(
            pl.when(pl.col("suppressed"))
            .then(None)
            .otherwise(outcomes.observed_value())
            .alias("value")
        )
        .select("initiative", "kpi", pl.col("period_end").cast(UTC_US), "value", "suppressed")
    )
    return defs.join(latest, on=["initiative", "kpi"], how="inner").sort(
        "initiative", "kpi", "period_end"
    )


def compliance_matrix(controls: pl.DataFrame, initiative_ids: Sequence[str]) -> pl.DataFrame:
    """Controls (rows) by initiatives (columns) of control status; null = not required."""
    ids = [i for i in initiative_ids if i in set(controls.get_column("initiative").to_list())]
    if controls.height == 0 or not ids:
        return pl.DataFrame({"control": []}, schema={"control": pl.String()})
    order = controls.select("control").unique(maintain_order=True)
    wide = controls.filter(pl.col("initiative").is_in(ids)).pivot(
        on="initiative", index="control", values="status"
    )
    missing = [i for i in ids if i not in wide.columns]
    wide = wide.with_columns(pl.lit(None, dtype=pl.String()).alias(i) for i in missing)
    return order.join(wide, on="control", how="inner").select("control", *ids)


def milestone_table(
    initiatives: Sequence[Initiative], as_of: datetime, horizon_days: int = 90
) -> pl.DataFrame:
    """Every milestone with days to its due date (from T's UTC date) and a state.

    State: `done`; `overdue` (not done, due before T's date); `due_soon` (not done, due within
    `horizon_days`); else `planned`.
    """
    today: date = as_of.date()
    rows = []
    for item in initiatives:
        for m in item.milestones:
            days = (m.due - today).days
            state = (
                "done"
                if m.done
                else "overdue"
                if days < 0
                else "due_soon"
                if days <= horizon_days
                else "planned"
            )
            rows.append(
                {
                    "initiative": item.id,
                    "name": item.name,
                    "milestone": m.name,
                    "due": m.due,
                    "owner": m.owner,
                    "done": m.done,
                    "horizon_days": m.horizon_days,
                    "days_to_due": days,
                    "state": state,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "initiative": pl.String(),
            "name": pl.String(),
            "milestone": pl.String(),
            "due": pl.Date(),
            "owner": pl.String(),
            "done": pl.Boolean(),
            "horizon_days": pl.Int64(),
            "days_to_due": pl.Int64(),
            "state": pl.String(),
        },
    ).sort("due", "initiative", "milestone")


def quarantine_reasons(quarantine: pl.DataFrame) -> pl.DataFrame:
    """Quarantined rows counted per (source, table, reason), most frequent first."""
    return (
        quarantine.group_by("source", "table", "reason")
        .agg(pl.len().cast(pl.Int64).alias("rows"))
        .sort(["rows", "source", "table", "reason"], descending=[True, False, False, False])
    )
