"""Outcomes: KPI values against target and baseline, with small cells suppressed."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from core.models import Kpi
from metrics import series
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.context import Context, context

DIRECTION = {"higher": "↑ higher", "lower": "↓ lower"}
REFERENCES = ["target", "baseline"]  # the reference lines: dashed and dotted


def hidden(ctx: Context) -> str:
    """How a suppressed value is shown: below the small-cell threshold."""
    return f"<{ctx.small_cell}"


def kpi_rows(ctx: Context) -> list[dict[str, Any]]:
    """One row per KPI of the shown initiatives: its latest value as the report has it."""
    return [
        {
            "initiative": item.name,
            "kpi": o.kpi,
            "status": fm.label(lb.KPI_LABEL, o.status),
            # suppressed cells never show a number
            "latest": hidden(ctx) if o.status == "suppressed" else fm.num(o.value),
            "target": o.target,
            "baseline": o.baseline,
            "direction": DIRECTION.get(o.direction, o.direction),
            "unit": o.unit,
            "period end": fm.day(o.period_end) if o.period_end else None,
        }
        for item in ctx.items
        for o in item.outcomes
    ]


def latest_table(ctx: Context, rows: list[dict[str, Any]]) -> None:
    """The latest value per KPI and the on-track shares."""
    st.subheader("Latest value per KPI")
    text, number = st.column_config.TextColumn, st.column_config.NumberColumn
    w.table(
        pl.DataFrame(rows, infer_schema_length=None),
        {
            "initiative": text(width=165),
            "kpi": text("KPI", width=190),
            "status": text(width=110),
            "latest": text(width=60, help="Latest value before the as-of", alignment="right"),
            "target": number(format="%.4g", width=60),
            "baseline": number(format="%.4g", width=65),
            "direction": text("better", width=75, help="Which direction is better"),
            "unit": text(width=110),
            "period end": text("period end", width=90, help="Period of the latest value"),
        },
        key="kpi_table",
    )
    shares = ", ".join(
        f"{fm.plain(i.name)} {fm.pct(i.outcomes_summary.on_track_share, 0)}" for i in ctx.items
    )
    st.caption(
        f"On-track share (of KPIs with a value): {shares}. Count-based values with a numerator "
        f"of 1 to {ctx.small_cell - 1} or a denominator under {ctx.small_cell} show as "
        f"“{hidden(ctx)}” and are never exported."
    )


def kpi_trend(ctx: Context, initiative_id: str) -> pl.DataFrame:
    """The initiative's KPI series before the as-of (small cells flagged, never valued)."""
    tables = ctx.data.tables
    if "kpi_observations" not in tables:
        return pl.DataFrame()
    observations = tables["kpi_observations"].filter(pl.col("initiative") == initiative_id)
    frame = observations.collect()
    if not frame.height:
        return pl.DataFrame()
    definition = ctx.config.initiative(initiative_id)
    return series.kpi_series(frame, [definition], ctx.as_of, ctx.small_cell)


def kpi_chart(ctx: Context, kpi: Kpi, data: pl.DataFrame) -> None:
    """One KPI over time: its values, target and baseline lines, suppressed periods marked."""
    values = data.filter(~pl.col("suppressed"))
    suppressed = data.filter(pl.col("suppressed")).with_columns(pl.lit(hidden(ctx)).alias("shown"))
    x = alt.X("period_end:T", title=None)
    line = (
        alt.Chart(values)
        .mark_line(point=True, color=lb.OKABE["blue"])
        .encode(
            x=x,
            y=alt.Y("value:Q", title=kpi.unit or "value"),
            tooltip=[alt.Tooltip("period_end"), alt.Tooltip("value:Q", format=".4g")],
        )
    )
    refs = pl.DataFrame(
        {"line": REFERENCES, "value": [kpi.target, kpi.baseline]},
        schema={"line": pl.String(), "value": pl.Float64()},
    ).drop_nulls()
    dash = alt.Scale(domain=REFERENCES, range=[[6, 3], [1, 3]])
    colour = alt.Scale(domain=REFERENCES, range=[lb.OKABE["vermillion"], lb.OKABE["black"]])
    rules = (
        alt.Chart(refs)
        .mark_rule()
        .encode(
            y=alt.Y("value:Q"),
            strokeDash=alt.StrokeDash("line:N", scale=dash, title=None),
            color=alt.Color("line:N", scale=colour, title=None),
            tooltip=[alt.Tooltip("line"), alt.Tooltip("value")],
        )
    )
    layers = line + rules
    if suppressed.height:
        layers += (
            alt.Chart(suppressed)
            .mark_text(color=lb.OKABE["purple"], fontWeight="bold")
            .encode(
                x=x,
                y=alt.value(10),
                text=alt.Text("shown:N"),
                tooltip=[alt.Tooltip("period_end"), alt.Tooltip("shown")],
            )
        )
    w.chart(
        layers.properties(height=200),
        f"{kpi.name} over time against its target (dashed) and baseline "
        f"(dotted); suppressed periods are marked {hidden(ctx)} at the top.",
    )


def trends(ctx: Context) -> None:
    """Per-KPI trend charts of one chosen initiative."""
    st.subheader("Trends")
    # open on the first initiative that has a KPI value (the report's outcomes say which)
    with_data = [i.id for i in ctx.items if any(o.status != "no_data" for o in i.outcomes)]
    item = w.pick_initiative(ctx, default=with_data[0] if with_data else None)
    if item is None or not item.outcomes:
        return
    trend = kpi_trend(ctx, item.id)
    if trend.height == 0:
        w.empty(
            f"KPI observations for {item.name} before the as-of",
            "Feed the `kpi_observations` table (initiative, kpi, period_end, value or "
            "numerator + denominator) from a source in config/sources.yaml.",
        )
        return
    cols = st.columns(2)
    for n, kpi in enumerate(ctx.config.initiative(item.id).kpis):
        data = trend.filter(pl.col("kpi") == kpi.name)
        with cols[n % 2]:
            st.markdown(f"**{fm.plain(kpi.name)}** ({kpi.kind}, {kpi.direction} is better)")
            if data.height == 0:
                st.caption("No observations yet.")
            else:
                kpi_chart(ctx, kpi, data)


def render(ctx: Context) -> None:
    """The Outcomes page."""
    w.header(ctx, "Outcomes", "Are the pilots improving care, operations and costs")
    if w.no_initiatives(ctx):
        return
    rows = kpi_rows(ctx)
    if not rows:
        w.empty(
            "KPIs for the shown initiatives",
            "Add `kpis:` to each initiative in config/initiatives.yaml and feed the "
            "`kpi_observations` table from a source (docs/connectors.md).",
        )
        return
    latest_table(ctx, rows)
    trends(ctx)


render(context(__file__))
