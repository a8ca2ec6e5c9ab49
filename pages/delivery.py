"""Delivery and incidents: the DORA four keys with levels and n, trends, incidents, linking."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from metrics import series
from pages import common as c

ctx = c.context()
c.header(ctx, "Delivery and incidents", "Can each team ship safely, and what is on fire")

if not c.no_initiatives(ctx):
    items = ctx.items
    ids = [i["id"] for i in items]
    names = {i["id"]: i["name"] for i in items}
    settings = ctx.config.settings

    st.subheader("The four keys")
    rows = []
    for item in items:
        d = item["delivery"]
        lv, n = d["levels"], d["n"]
        rows.append(
            {
                "initiative": item["name"],
                "deployments": d["deployments"],
                "deploy days/week (median)": d["deploy_days_per_week_median"],
                "frequency level": c.label(c.LEVEL_LABEL, lv["frequency"]),
                "lead time h (median)": d["lead_time_hours_median"],
                "lead time level": c.label(c.LEVEL_LABEL, lv["lead_time"]),
                "lead time n": n["lead_time"],
                "change failure rate": d["change_failure_rate"],
                "change failure level": c.label(c.LEVEL_LABEL, lv["change_failure"]),
                "failed changes": n["failed_deployments"],
                "time to restore h (median)": d["recovery_time_hours_median"],
                "recovery level": c.label(c.LEVEL_LABEL, lv["recovery"]),
                "recovery n": n["recovery"],
                "unlinked incidents": d["unlinked_incidents"],
                "deploys/day": d["deployment_frequency_per_day"],
                "deploy days/month (median)": d["deploy_days_per_month_median"],
            }
        )
    keys = pl.DataFrame(rows, infer_schema_length=None)
    if ctx.summary:
        keys = keys.select(
            "initiative", "frequency level", "lead time level", "change failure level",
            "recovery level", "unlinked incidents",
        )  # fmt: skip
    c.table(
        keys,
        {
            "change failure rate": st.column_config.NumberColumn(format="percent"),
            "lead time h (median)": st.column_config.NumberColumn(format="%.1f"),
            "time to restore h (median)": st.column_config.NumberColumn(format="%.1f"),
            "deploys/day": st.column_config.NumberColumn(format="%.3f"),
        },
        key="dora_table",
    )
    st.caption(
        f"Over the {settings.delivery_window} delivery window ending at the as-of. Levels are "
        f"the DORA 2023 benchmarks; with fewer than {settings.dora.min_deployments} deployments "
        "a level is 'insufficient data' and the raw value still shows with its n."
    )

    window = ctx.delivery_window
    st.subheader("Trends")
    weekly = series.weekly_deployments(
        ctx.portfolio.deployments, ctx.portfolio.linked_incidents, ids, ctx.as_of, window
    ).with_columns(pl.col("initiative").replace_strict(names).alias("name"))
    if weekly.height == 0:
        c.empty(
            "weekly blocks", f"The delivery window ({settings.delivery_window}) is under 7 days."
        )
    else:
        long = weekly.unpivot(
            on=["deployments", "failed"],
            index=["name", "week_start"],
            variable_name="count of",
            value_name="n",
        )
        trend = (
            alt.Chart(long)
            .mark_line(point=True)
            .encode(
                x=alt.X("week_start:T", title="week starting"),
                y=alt.Y("n:Q", title="deployments per week"),
                color=alt.Color("name:N", title="initiative", scale=alt.Scale(scheme="tableau10")),
                strokeDash=alt.StrokeDash("count of:N", title="line"),
                shape=alt.Shape("count of:N", title="line"),
                tooltip=["name", "week_start", "count of", "n"],
            )
        )
        c.chart(
            trend.properties(height=260),
            "Production deployments and failed changes per week (7-day blocks ending at the "
            "as-of), one colour per initiative; failed changes are dashed.",
        )
    # linked_incidents holds every incident opened before the as-of: all a weekly count needs
    weekly_inc = series.weekly_incidents(
        ctx.portfolio.linked_incidents, ids, ctx.as_of, window
    ).with_columns(
        pl.col("initiative").replace_strict(names).alias("name"),
        pl.format("sev {}", "severity").alias("sev"),
    )
    if weekly_inc.height:
        bars = (
            alt.Chart(weekly_inc)
            .mark_bar()
            .encode(
                x=alt.X("week_start:T", title="week starting"),
                y=alt.Y("opened:Q", title="incidents opened", stack="zero"),
                color=alt.Color(
                    "sev:N",
                    title="severity",
                    scale=alt.Scale(
                        domain=["sev 1", "sev 2", "sev 3", "sev 4"],
                        range=[
                            c.OKABE["vermillion"],
                            c.OKABE["orange"],
                            c.OKABE["sky"],
                            c.OKABE["grey"],
                        ],
                    ),
                ),
                tooltip=["name", "week_start", "sev", "opened"],
            )
        )
        c.chart(
            bars.properties(height=200),
            "Incidents opened per week, stacked by severity (tooltips name each segment).",
        )

    st.subheader("Incidents")
    summary = pl.DataFrame(
        [
            {
                "initiative": item["name"],
                "open sev 1-2": item["incidents"]["open_sev12"],
                **{f"open sev {s}": v for s, v in item["incidents"]["open_by_severity"].items()},
                "MTTA min": item["incidents"]["mtta_minutes"],
                "MTTR h": item["incidents"]["mttr_hours"],
                "patient-impacting": item["incidents"]["patient_impacting"],
            }
            for item in items
        ],
        schema_overrides={"MTTA min": pl.Float64(), "MTTR h": pl.Float64()},
    )
    c.table(
        summary,
        {
            "MTTA min": st.column_config.NumberColumn(format="%.1f"),
            "MTTR h": st.column_config.NumberColumn(format="%.1f"),
        },
        key="incident_summary",
    )
    incidents = series.incidents_in_window(
        ctx.portfolio.linked_incidents.filter(pl.col("initiative").is_in(ids)), ctx.as_of, window
    ).with_columns(pl.col("initiative").replace_strict(names).alias("initiative"))
    if incidents.height == 0:
        c.empty(
            "incidents in the delivery window",
            "Incidents come from the sources feeding the `incidents` table (config/sources.yaml, "
            "docs/connectors.md).",
        )
    else:
        c.table(
            incidents.select(
                "incident_id",
                "initiative",
                "severity",
                "title",
                "opened_at",
                "acknowledged_at",
                "resolved_at",
                "open",
                "patient_impact",
                "deploy_id",
                "linked_deploy_id",
                "link_method",
            ),
            key="incident_table",
        )
        st.caption(
            "Open incidents opened before the window are listed too. Titles are operational free "
            "text; the canonical incidents table carries no patient data."
        )

    st.subheader("Unlinked incidents")
    unlinked = incidents.filter(pl.col("in_window") & (pl.col("link_method") == "unlinked"))
    per = {i["name"]: i["delivery"]["unlinked_incidents"] for i in items}
    st.markdown(
        "Per initiative (report): "
        + ", ".join(f"{c.plain(name)} **{count}**" for name, count in per.items())
    )
    if unlinked.height:
        c.table(
            unlinked.select("incident_id", "initiative", "severity", "title", "opened_at"),
            key="unlinked_table",
        )
    with st.expander("How incidents are linked to deployments", expanded=not ctx.summary):
        st.markdown(
            f"""
An incident counts against a deployment (and so in the change failure rate) by these rules,
first match wins:

1. **deploy_id** — the incident names the deployment that caused it.
2. **time_window** — otherwise, the latest successful or rolled-back *production* deployment
   of the same initiative that finished within **{settings.link_window}** before the incident
   opened (`opened_at - {settings.link_window} <= finished_at <= opened_at`).
3. **unlinked** — otherwise. Unlinked incidents still count in MTTR and recovery time, but not
   in the change failure rate.

The `link_method` column above shows which rule applied. To link an incident explicitly, fill
`deploy_id` in the incident tracker (or map it in config/sources.yaml); the link window is
`settings.link_window` in config/settings.yaml.
"""
        )
