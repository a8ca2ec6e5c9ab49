"""The Altair charts of the SLO and delivery pages: each a function of the report and frames.

Colour is never the only carrier: every line also has a dash pattern, every bar a label.
"""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from core.models import Slo
from core.report import InitiativeReport, SloEntry
from metrics import series
from metrics.slo import window_start
from pilotwatch import chartspecs
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.context import Context


def burn_down(ctx: Context, slo: SloEntry, definition: Slo) -> None:
    """The error budget over the window against the steady pace (pilotwatch/chartspecs.py)."""
    buckets = ctx.portfolio.buckets
    st.markdown("**Error budget burn-down over the window**")
    burn = series.budget_burn_down(buckets, definition, ctx.as_of)
    ideal = series.ideal_burn(definition, ctx.as_of)
    w.chart(
        chartspecs.burn_down(burn, ideal).properties(height=260),
        f"Error budget remaining for {slo.name} from the window start to the as-of; "
        "the dashed grey line is the steady pace that spends the budget exactly.",
    )


def sli_chart(ctx: Context, item: InitiativeReport, slo: SloEntry, definition: Slo) -> None:
    """The SLI per period against its target, with production deployments as rules."""
    buckets = ctx.portfolio.buckets
    start = window_start(definition, ctx.as_of)
    st.markdown("**SLI against target, with production deployments**")
    every = st.segmented_control(
        "SLI per", ["1h", "1d"], format_func=lambda v: {"1h": "hour", "1d": "day"}[v],
        default="1h", key="sli_every",
    )  # fmt: skip
    sli = series.sli_series(buckets, definition, ctx.as_of, every or "1h").with_columns(
        pl.lit("SLI").alias("line")
    )
    deploys = series.deploy_markers(
        ctx.portfolio.deployments, item.id, start, ctx.as_of
    ).with_columns(
        pl.col("status")
        .replace_strict(
            {"rolled_back": "rolled-back deployment"},
            default=pl.lit("deployment"),
            return_dtype=pl.String(),
        )
        .alias("line")
    )
    # one legend for every line: colour and dash pattern both tell them apart
    domain = ["SLI", "target", "deployment", "rolled-back deployment"]
    colours = alt.Scale(
        domain=domain,
        range=[
            lb.OKABE["blue"],
            lb.OKABE["vermillion"],
            lb.OKABE["green"],
            lb.OKABE["orange"],
        ],
    )
    dashes = alt.Scale(domain=domain, range=[[1, 0], [8, 4], [1, 0], [4, 3]])
    legend = alt.Legend(title=None, orient="top", symbolType="stroke", symbolStrokeWidth=2)
    colour = alt.Color("line:N", scale=colours, legend=legend)
    dash = alt.StrokeDash("line:N", scale=dashes, legend=legend)
    line = (
        alt.Chart(sli)
        .mark_line(point=every == "1d", strokeWidth=1.5)
        .encode(
            x=alt.X("period_start:T", title=None),
            y=alt.Y("sli:Q", title="SLI", scale=alt.Scale(zero=False)),
            color=colour,
            strokeDash=dash,
            tooltip=[
                alt.Tooltip("period_start:T", title="from", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("sli:Q", format=".4f"),
                alt.Tooltip("good"),
                alt.Tooltip("total"),
            ],
        )
    )
    reference = pl.DataFrame(
        {
            "target": [slo.target],
            "line": ["target"],
            "text": [f"target {fm.pct(slo.target, 2)}"],
            "at": [sli.get_column("period_start").max()],
        }
    )
    # drawn over the SLI line (it often runs right on top of it near 1.0), labelled
    target = (
        alt.Chart(reference)
        .mark_rule(strokeWidth=2.5)
        .encode(
            y=alt.Y("target:Q"),
            color=colour,
            strokeDash=dash,
            tooltip=[alt.Tooltip("line"), alt.Tooltip("target")],
        )
    )
    target_text = (
        alt.Chart(reference)
        .mark_text(
            align="right", baseline="top", dy=4, color=lb.OKABE["vermillion"],
            fontWeight="bold",
        )
        .encode(x=alt.X("at:T"), y=alt.Y("target:Q"), text=alt.Text("text:N"))
    )  # fmt: skip
    layers = line
    if deploys.height:
        layers += (
            alt.Chart(deploys)
            .mark_rule(opacity=0.8)
            .encode(
                x=alt.X("finished_at:T"),
                color=colour,
                strokeDash=dash,
                tooltip=[alt.Tooltip(f) for f in ("deploy_id", "version", "status", "finished_at")],
            )
        )
    w.chart(
        (layers + target + target_text).properties(height=260),
        f"SLI per period for {slo.name} with the target as a dashed line and production "
        "deployments as vertical rules (dashed when rolled back).",
    )
    if deploys.height == 0:
        st.caption("No production deployment of this initiative in the SLO window.")


def incident_chart(weekly_inc: pl.DataFrame, week_axis: alt.X) -> None:
    """Incidents opened per week (the trend's weekly blocks), stacked by severity."""
    if weekly_inc.height:
        bars = (
            alt.Chart(weekly_inc)
            .mark_bar(stroke="white", strokeWidth=1)
            .encode(
                x=week_axis,
                y=alt.Y(
                    "opened:Q",
                    title="incidents opened",
                    stack="zero",
                    axis=alt.Axis(tickMinStep=1),
                ),
                color=alt.Color(
                    "sev:N",
                    title="severity",
                    scale=alt.Scale(
                        domain=["sev 1", "sev 2", "sev 3", "sev 4"],
                        range=[
                            lb.OKABE["vermillion"],
                            lb.OKABE["orange"],
                            lb.OKABE["sky"],
                            lb.OKABE["grey"],
                        ],
                    ),
                    legend=alt.Legend(orient="top", title=None),
                ),
                order=alt.Order("severity:Q"),
                tooltip=[alt.Tooltip(f) for f in ("name", "week_start", "sev", "opened")],
            )
        )
        labels = (
            alt.Chart(weekly_inc)
            .mark_text(color="black", baseline="top", dy=3, fontSize=10)
            .encode(
                x=week_axis,
                y=alt.Y("opened:Q", stack="zero"),
                detail=alt.Detail("name:N"),
                order=alt.Order("severity:Q"),
                text=alt.Text("sev:N"),
            )
        )
        st.markdown("**Incidents opened per week, all shown initiatives**")
        w.chart(
            (bars + labels).properties(height=180),
            "Incidents opened per week (the same weekly blocks), stacked by severity and "
            "labelled with it; tooltips name the initiative of each segment.",
        )
    else:
        st.caption("No incident opened in the delivery window.")
