"""Stage gates: evaluate every check against the initiative's metrics, then score and verdict."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime

import polars as pl

from core.models import GateCheck, Initiative, Waiver
from core.report import GATE_METRICS

CONDITIONAL_SCORE = 70.0


def metric_values(summaries: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """Long frame (initiative, metric, value) of every gate-addressable metric."""
    parts = []
    # the gate-metric fields of the report model name each path's summary frame and column
    for path, (family, column) in GATE_METRICS.items():
        frame = summaries.get(family)
        if frame is None or column not in frame.columns:
            continue
        parts.append(
            frame.select(
                "initiative",
                pl.lit(path).alias("metric"),
                pl.col(column).cast(pl.Float64).alias("value"),
            )
        )
    schema = {"initiative": pl.String(), "metric": pl.String(), "value": pl.Float64()}
    return pl.concat(parts) if parts else pl.DataFrame(schema=schema)


def waiver_expiry(waiver: Waiver) -> datetime:
    """The instant a waiver stops applying: a date means 00:00 UTC of that day."""
    value = waiver.expires_on
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    assert isinstance(value, date)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def gate_checks(
    initiatives: Sequence[Initiative], gates: Mapping[str, Sequence[GateCheck]]
) -> pl.DataFrame:
    """One row per (initiative, check of its gate), in the gate's order."""
    rows = [
        {
            "initiative": i.id,
            "gate": i.gate,
            "order": n,
            "check": c.id,
            "metric": c.metric,
            "op": c.op,
            "threshold": float(c.value),
            "blocking": c.blocking,
            "weight": float(c.weight),
            "dimension": c.dimension,
            "remediation": c.remediation,
            "owner": c.owner or i.owner,
        }
        for i in initiatives
        for n, c in enumerate(gates.get(i.gate, []))
    ]
    schema = {
        "initiative": pl.String(),
        "gate": pl.String(),
        "order": pl.Int64(),
        "check": pl.String(),
        "metric": pl.String(),
        "op": pl.String(),
        "threshold": pl.Float64(),
        "blocking": pl.Boolean(),
        "weight": pl.Float64(),
        "dimension": pl.String(),
        "remediation": pl.String(),
        "owner": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


def _compare(op: str) -> pl.Expr:
    value, threshold = pl.col("value"), pl.col("threshold")
    return {
        ">=": value >= threshold,
        "<=": value <= threshold,
        "==": value == threshold,
        "!=": value != threshold,
        ">": value > threshold,
        "<": value < threshold,
    }[op]


def evaluate_checks(
    checks: pl.DataFrame,
    values: pl.DataFrame,
    waivers: Sequence[Waiver],
    as_of: datetime,
) -> pl.DataFrame:
    """Each check's value and outcome: pass, fail, insufficient_data, or waived."""
    active = [w for w in waivers if waiver_expiry(w) > as_of]
    waived = pl.DataFrame(
        {
            "initiative": [w.initiative for w in active],
            "check": [w.check for w in active],
            "waiver_reason": [w.reason for w in active],
            "waiver_approver": [w.approver for w in active],
            "waiver_expires": [waiver_expiry(w) for w in active],
        },
        schema={
            "initiative": pl.String(),
            "check": pl.String(),
            "waiver_reason": pl.String(),
            "waiver_approver": pl.String(),
            "waiver_expires": pl.Datetime("us", "UTC"),
        },
    ).unique(subset=["initiative", "check"], keep="first")
    joined = checks.join(values, on=["initiative", "metric"], how="left").join(
        waived, on=["initiative", "check"], how="left"
    )
    passed = pl.lit(False)
    for op in (">=", "<=", "==", "!=", ">", "<"):
        passed = pl.when(pl.col("op") == op).then(_compare(op)).otherwise(passed)
    outcome = (
        pl.when(pl.col("value").is_null() | pl.col("value").is_nan())
        .then(pl.lit("insufficient_data"))
        .when(passed)
        .then(pl.lit("pass"))
        .when(pl.col("waiver_reason").is_not_null())
        .then(pl.lit("waived"))
        .otherwise(pl.lit("fail"))
    )
    return joined.with_columns(outcome.alias("outcome")).sort("initiative", "order")


def verdicts(evaluated: pl.DataFrame, initiative_ids: Sequence[str]) -> pl.DataFrame:
    """Per initiative: score, verdict (go / conditional / no_go) and counts by outcome."""
    outcome = pl.col("outcome")
    scored = outcome.is_in(["pass", "fail", "waived"])
    credited = outcome.is_in(["pass", "waived"])
    blocking = pl.col("blocking")
    per = evaluated.group_by("initiative").agg(
        pl.col("weight").filter(credited).sum().alias("_credit"),
        pl.col("weight").filter(scored).sum().alias("_scored"),
        (blocking & (outcome == "fail")).sum().cast(pl.Int64).alias("blocking_failed"),
        (blocking & outcome.is_in(["waived", "insufficient_data"]))
        .sum()
        .cast(pl.Int64)
        .alias("blocking_uncertain"),
        pl.len().cast(pl.Int64).alias("checks"),
    )
    base = pl.DataFrame({"initiative": list(initiative_ids)}, schema={"initiative": pl.String()})
    table = (
        base.join(per, on="initiative", how="left")
        .with_columns(
            pl.col("blocking_failed", "blocking_uncertain", "checks").fill_null(0),
        )
        .with_columns(
            pl.when(pl.col("_scored") > 0)
            .then(100.0 * pl.col("_credit") / pl.col("_scored"))
            .alias("score")
        )
    )
    verdict = (
        pl.when(pl.col("blocking_failed") > 0)
        .then(pl.lit("no_go"))
        .when((pl.col("blocking_uncertain") > 0) | (pl.col("score") < CONDITIONAL_SCORE))
        .then(pl.lit("conditional"))
        .otherwise(pl.lit("go"))
    )
    return (
        table.with_columns(verdict.alias("verdict")).drop("_credit", "_scored").sort("initiative")
    )
