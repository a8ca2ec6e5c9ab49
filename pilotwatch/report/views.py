"""Views over the report for the dashboard: the stage funnel, verdict and SLO-status counts and
the gate-dimension matrix. Report rows in, small frames out; the numbers are the report's own.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from core.enums import CheckOutcome, SloStatus, Stage, Verdict
from core.report import InitiativeReport

VERDICTS: tuple[str, ...] = tuple(v.value for v in Verdict)
SLO_STATUSES: tuple[str, ...] = tuple(
    s.value for s in (SloStatus.HEALTHY, SloStatus.AT_RISK, SloStatus.BREACHED, SloStatus.NO_DATA)
)
CHECK_OUTCOMES: tuple[str, ...] = tuple(
    o.value
    for o in (
        CheckOutcome.PASS,
        CheckOutcome.WAIVED,
        CheckOutcome.INSUFFICIENT_DATA,
        CheckOutcome.FAIL,
    )
)
# A dimension's cell shows its worst check: fail, then insufficient data, then waived, then pass.
_WORST_FIRST: tuple[str, ...] = tuple(reversed(CHECK_OUTCOMES))
NOT_GATED = "not_gated"

Items = Sequence[InitiativeReport]


def stage_funnel(initiatives: Items) -> pl.DataFrame:
    """Initiatives per stage (every stage, in order) and gate verdict: stage, verdict, count."""
    grid = pl.DataFrame(
        [
            {"stage": s.value, "order": n, "verdict": v}
            for n, s in enumerate(Stage)
            for v in VERDICTS
        ]
    )
    rows = pl.DataFrame(
        [{"stage": str(i.stage), "verdict": str(i.readiness.verdict)} for i in list(initiatives)],
        schema={"stage": pl.String(), "verdict": pl.String()},
    )
    counts = rows.group_by("stage", "verdict").agg(pl.len().cast(pl.Int64).alias("count"))
    return (
        grid.join(counts, on=["stage", "verdict"], how="left")
        .with_columns(pl.col("count").fill_null(0))
        .sort("order", "verdict")
        .drop("order")
    )


def verdict_counts(initiatives: Items) -> pl.DataFrame:
    """How many initiatives have each gate verdict (every verdict listed, in order)."""
    items = list(initiatives)
    return pl.DataFrame(
        [
            {"verdict": v, "count": sum(1 for i in items if i.readiness.verdict == v)}
            for v in VERDICTS
        ],
        schema={"verdict": pl.String(), "count": pl.Int64()},
    )


def slo_status_counts(initiatives: Items) -> pl.DataFrame:
    """Per initiative: how many of its SLOs are healthy, at_risk, breached and no_data."""
    return pl.DataFrame(
        [
            {
                "initiative": i.id,
                **{s: sum(1 for slo in i.slos if slo.status == s) for s in SLO_STATUSES},
            }
            for i in list(initiatives)
        ],
        schema={"initiative": pl.String(), **{s: pl.Int64() for s in SLO_STATUSES}},
    )


def dimension_matrix(initiatives: Items) -> pl.DataFrame:
    """Per initiative and gate-check dimension: the worst outcome and `passed of checks`.

    Dimensions appear in first-seen order; a dimension without checks at an initiative's gate is
    `not_gated`.
    """
    items = list(initiatives)
    dimensions: list[str] = []
    for item in items:
        for check in item.readiness.checks:
            if check.dimension not in dimensions:
                dimensions.append(check.dimension)
    rows = []
    for item in items:
        for dim in dimensions:
            outcomes = [c.outcome for c in item.readiness.checks if c.dimension == dim]
            worst = next((o for o in _WORST_FIRST if o in outcomes), NOT_GATED)
            rows.append(
                {
                    "initiative": item.id,
                    "name": item.name,
                    "dimension": dim,
                    "outcome": worst,
                    "passed": sum(1 for o in outcomes if o == CheckOutcome.PASS),
                    "checks": len(outcomes),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "initiative": pl.String(),
            "name": pl.String(),
            "dimension": pl.String(),
            "outcome": pl.String(),
            "passed": pl.Int64(),
            "checks": pl.Int64(),
        },
    )
