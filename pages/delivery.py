"""Delivery and incidents: the DORA four keys with levels and n, trends, incidents, linking."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl
import streamlit as st

from core.report import InitiativeReport
from metrics import series
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.charts import incident_chart
from ui.context import Context, context


def four_keys(ctx: Context, items: list[InitiativeReport]) -> None:
    """The DORA four keys per initiative: value, level and n side by side."""
    settings = ctx.config.settings
    st.subheader("The four keys")
    rows = []
    for item in items:
        d = item.delivery
        lv, n = d.levels, d.n
        rows.append(
            {
                "initiative": item.name,
                "deployments": d.deployments,
                "deploy days/week (median)": d.deploy_days_per_week_median,
                "frequency level": fm.label(lb.LEVEL_LABEL, lv.frequency),
                "lead time h (median)": d.lead_time_hours_median,
                "lead time level": fm.label(lb.LEVEL_LABEL, lv.lead_time),
                "lead time n": n.lead_time,
                "change failure rate": d.change_failure_rate,
                "change failure level": fm.label(lb.LEVEL_LABEL, lv.change_failure),
                "failed changes": n.failed_deployments,
                "time to restore h (median)": d.recovery_time_hours_median,
                "recovery level": fm.label(lb.LEVEL_LABEL, lv.recovery),
                "recovery n": n.recovery,
                "unlinked incidents": d.unlinked_incidents,
                "deploys/day": d.deployment_frequency_per_day,
                "deploy days/month (median)": d.deploy_days_per_month_median,
            }
        )
    keys = pl.DataFrame(rows, infer_schema_length=None)
    # value, level and n side by side per key; three more numbers in the expander below
    shown = (
        ["initiative", "frequency level", "lead time level", "change failure level",
         "recovery level", "unlinked incidents"]
        if ctx.summary
        else ["initiative", "deploy days/week (median)", "frequency level", "deployments",
              "lead time h (median)", "lead time level", "lead time n", "change failure rate",
              "change failure level", "failed changes", "time to restore h (median)",
              "recovery level", "recovery n"]
    )  # fmt: skip
    number, text = st.column_config.NumberColumn, st.column_config.TextColumn
    level = 85 if not ctx.summary else 150  # width of the level columns
    w.table(
        keys.select(shown),
        {
            "initiative": text(width=175),
            "deploy days/week (median)": number(
                "days/wk", width=55, help="Deploy days per week, median of 7-day blocks"
            ),
            "frequency level": text("frequency", help="Deployment frequency level", width=level),
            "deployments": number("deploys", width=55, help="Production deployments (n)"),
            "lead time h (median)": number(
                "lead h", format="%.1f", width=50, help="Lead time for changes, median hours"
            ),
            "lead time level": text("lead time", help="Lead time level", width=level),
            "lead time n": number("n", width=40, help="Deployments with a commit time"),
            "change failure rate": number(
                "CFR", format="percent", width=60, help="Change failure rate"
            ),
            "change failure level": text("change fail.", help="Change failure level", width=level),
            "failed changes": number("failed", width=50, help="Failed changes (n)"),
            "time to restore h (median)": number(
                "restore h", format="%.1f", width=60, help="Time to restore, median hours"
            ),
            "recovery level": text("recovery", help="Time-to-restore level", width=level),
            "recovery n": number("n", width=40, help="Incidents resolved (n)"),
            "unlinked incidents": number("unlinked", width=80),
        },
        key="dora_table",
    )
    st.caption(
        f"Over the {settings.delivery_window} delivery window ending at the as-of. Levels are "
        f"the DORA 2023 benchmarks; with fewer than {settings.dora.min_deployments} deployments "
        f"a level is '{lb.LEVEL_LABEL['insufficient_data']}' and the raw value still shows with "
        "its n. Hover a column header for its full name."
    )
    with st.expander("Deploys per day, deploy days per month, unlinked incidents"):
        w.table(
            keys.select(
                "initiative", "deploys/day", "deploy days/month (median)", "unlinked incidents"
            ),
            {"initiative": text(width=220), "deploys/day": number(format="%.3f")},
            key="dora_more",
        )


def trends(ctx: Context, ids: list[str], names: dict[str, str]) -> None:
    """Weekly deployments and failed changes, then incidents opened per week."""
    settings = ctx.config.settings
    window = ctx.delivery_window
    st.subheader("Trends")
    weekly = series.weekly_deployments(
        ctx.portfolio.deployments, ctx.portfolio.linked_incidents, ids, ctx.as_of, window
    ).with_columns(
        pl.col("initiative").replace_strict(names).alias("name"),
        pl.col("week_start").dt.strftime("%b %d").alias("week"),
    )
    if weekly.height == 0:
        w.empty(
            "weekly blocks", f"The delivery window ({settings.delivery_window}) is under 7 days."
        )
        return
    # both charts share these weekly bins (7-day blocks ending at the as-of) as their x axis
    weeks = weekly.sort("week_start").get_column("week").unique(maintain_order=True).to_list()
    ticks = weeks[::-3][::-1]  # every third week, ending on the latest
    week_axis = alt.X(
        "week:O",
        sort=weeks,
        scale=alt.Scale(domain=weeks),
        title="week starting (UTC)",
        axis=alt.Axis(values=ticks, labelAngle=0),
    )
    long = weekly.unpivot(
        on=["deployments", "failed"],
        index=["name", "week_start", "week"],
        variable_name="count of",
        value_name="n",
    ).with_columns(
        pl.col("count of").replace({"failed": "failed changes"}),
    )
    kinds = ["deployments", "failed changes"]
    legend = alt.Legend(title=None, orient="top", symbolType="stroke", symbolStrokeWidth=2)
    trend = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=week_axis,
            y=alt.Y("n:Q", title=None, axis=alt.Axis(tickMinStep=1, format="d")),
            color=alt.Color(
                "count of:N",
                scale=alt.Scale(domain=kinds, range=[lb.OKABE["blue"], lb.OKABE["vermillion"]]),
                legend=legend,
            ),
            strokeDash=alt.StrokeDash(
                "count of:N", scale=alt.Scale(domain=kinds, range=[[1, 0], [4, 3]]),
                legend=legend,
            ),
            shape=alt.Shape(
                "count of:N", scale=alt.Scale(domain=kinds, range=["circle", "triangle"]),
                legend=None,
            ),
            tooltip=[alt.Tooltip(f) for f in ("name", "week_start", "count of", "n")],
        )
        .properties(width=170, height=110)
        .facet(
            facet=alt.Facet(
                "name:N",
                sort=[names[i] for i in ids],
                title=None,
                header=alt.Header(labelLimit=200, labelFontWeight="bold", labelAnchor="start"),
            ),
            columns=4,
            spacing={"row": 18, "column": 24},
        )
        .resolve_scale(y="independent")
    )  # fmt: skip
    w.chart(
        trend,
        "Production deployments and failed changes per week (7-day blocks ending at the "
        "as-of), one small chart per initiative; failed changes are dashed triangles.",
    )
    st.caption("Deployments per week; each small chart has its own y scale.")
    # linked_incidents holds every incident opened before the as-of: all a weekly count needs
    weekly_inc = series.weekly_incidents(
        ctx.portfolio.linked_incidents, ids, ctx.as_of, window
    ).with_columns(
        pl.col("initiative").replace_strict(names).alias("name"),
        pl.format("sev {}", "severity").alias("sev"),
        pl.col("week_start").dt.strftime("%b %d").alias("week"),
    )
    incident_chart(weekly_inc, week_axis)


def incident_columns() -> dict[str, Any]:
    """Column labels and widths of the incident tables."""
    return {
        "incident_id": st.column_config.TextColumn("incident", width=75),
        "initiative": st.column_config.TextColumn(width=140),
        "severity": st.column_config.NumberColumn(
            "sev", width=40, help="Severity (1 = most severe)"
        ),
        "title": st.column_config.TextColumn(width=150),
        "opened_at": w.when_column("opened (UTC)", width=120),
        "acknowledged_at": w.when_column("acknowledged (UTC)", width=140),
        "resolved_at": w.when_column("resolved (UTC)", width=120),
        "open": st.column_config.TextColumn(width=50, help="Still open at the as-of"),
        "patient_impact": st.column_config.TextColumn(
            "patient", width=60, help="Patient-impacting"
        ),
        "deploy_id": st.column_config.TextColumn(
            "reported deploy", width=110, help="The deployment the incident names (deploy_id)"
        ),
        "linked_deploy_id": st.column_config.TextColumn(
            "linked deploy", width=80, help="The deployment it counts against"
        ),
        "link_method": st.column_config.TextColumn("linked by", width=90),
    }


def incident_list(incidents: pl.DataFrame) -> None:
    """The incidents of the window, with the acknowledged times and links folded away."""
    table = incidents.select(
        "incident_id",
        "initiative",
        "severity",
        "title",
        "opened_at",
        "acknowledged_at",
        "resolved_at",
        *w.incident_flags(),
        "deploy_id",
        "linked_deploy_id",
        "link_method",
    )
    w.table(
        table.select(
            "incident_id", "initiative", "severity", "title", "opened_at", "resolved_at",
            "open", "patient_impact", "linked_deploy_id", "link_method",
        ),
        incident_columns(),
        key="incident_table",
    )  # fmt: skip
    st.caption(
        "Open incidents opened before the window are listed too. Titles are operational free "
        "text; the canonical incidents table carries no patient data."
    )
    with st.expander("Acknowledged times and the deployment each incident reports"):
        w.table(
            table.select(
                "incident_id", "initiative", "acknowledged_at", "deploy_id",
                "linked_deploy_id", "link_method",
            ),
            incident_columns(),
            key="incident_more",
        )  # fmt: skip


def incident_section(ctx: Context, items: list[InitiativeReport], ids: list[str]) -> pl.DataFrame:
    """Per-initiative incident numbers (report) and the incidents of the window."""
    names = {i.id: i.name for i in items}
    st.subheader("Incidents")
    summary = pl.DataFrame(
        [
            {
                "initiative": item.name,
                "open sev 1-2": item.incidents.open_sev12,
                **{
                    f"open sev {s}": v
                    for s, v in item.incidents.open_by_severity.model_dump(by_alias=True).items()
                },
                "MTTA min": item.incidents.mtta_minutes,
                "MTTR h": item.incidents.mttr_hours,
                "patient-impacting": item.incidents.patient_impacting,
            }
            for item in items
        ],
        schema_overrides={"MTTA min": pl.Float64(), "MTTR h": pl.Float64()},
    )
    number = st.column_config.NumberColumn
    w.table(
        summary,
        {
            "initiative": st.column_config.TextColumn(width=220),
            "MTTA min": number(format="%.1f", help="Mean time to acknowledge, minutes"),
            "MTTR h": number(format="%.1f", help="Mean time to restore, hours"),
        },
        key="incident_summary",
    )
    incidents = series.incidents_in_window(
        ctx.portfolio.linked_incidents.filter(pl.col("initiative").is_in(ids)),
        ctx.as_of,
        ctx.delivery_window,
    ).with_columns(pl.col("initiative").replace_strict(names).alias("initiative"))
    if incidents.height == 0:
        w.empty(
            "incidents in the delivery window",
            "Incidents come from the sources feeding the `incidents` table (config/sources.yaml, "
            "docs/connectors.md).",
        )
    else:
        incident_list(incidents)
    return incidents


def unlinked_section(items: list[InitiativeReport], incidents: pl.DataFrame) -> None:
    """Incidents that no rule linked to a deployment."""
    st.subheader("Unlinked incidents")
    unlinked = incidents.filter(pl.col("in_window") & (pl.col("link_method") == "unlinked"))
    per = {i.name: i.delivery.unlinked_incidents for i in items}
    st.markdown(
        "Per initiative (report): "
        + ", ".join(f"{fm.plain(name)} **{count}**" for name, count in per.items())
    )
    if unlinked.height:
        w.table(
            unlinked.select("incident_id", "initiative", "severity", "title", "opened_at"),
            {**incident_columns(), "title": st.column_config.TextColumn(width=400)},
            key="unlinked_table",
        )


def linking_rules(ctx: Context) -> None:
    """How incidents are linked to deployments (the rules and the link window)."""
    settings = ctx.config.settings
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


def render(ctx: Context) -> None:
    """The Delivery and incidents page."""
    w.header(ctx, "Delivery and incidents", "Can each team ship safely, and what is on fire")
    if w.no_initiatives(ctx):
        return
    items = ctx.items
    ids = [i.id for i in items]
    four_keys(ctx, items)
    trends(ctx, ids, {i.id: i.name for i in items})
    incidents = incident_section(ctx, items, ids)
    unlinked_section(items, incidents)
    linking_rules(ctx)


render(context(__file__))
