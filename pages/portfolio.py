"""Portfolio: every initiative's stage, gate verdict, score and the signals behind it."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from core.models import STAGES
from core.report import InitiativeReport
from pilotwatch.report import views
from ui import formats as fm
from ui import labels as lb
from ui import trends
from ui import widgets as w
from ui.context import Context, context


def verdict_metrics(items: list[InitiativeReport]) -> None:
    """One metric per gate verdict: how many shown initiatives have it."""
    counts = views.verdict_counts(items)
    cols = st.columns(len(counts))
    for col, row in zip(cols, counts.to_dicts(), strict=True):
        col.metric(lb.VERDICT_LABEL[row["verdict"]], row["count"], border=True)


def initiative_rows(items: list[InitiativeReport]) -> pl.DataFrame:
    """One row per initiative: verdict, score, blockers and the signal counts behind them."""
    slo_counts = {r["initiative"]: r for r in views.slo_status_counts(items).to_dicts()}
    rows = []
    for item in items:
        readiness = item.readiness
        slo = slo_counts[item.id]
        rows.append(
            {
                "id": item.id,
                "initiative": item.name,
                "stage": item.stage,
                "gate": item.gate,
                "verdict": fm.label(lb.VERDICT_LABEL, readiness.verdict),
                "score": readiness.score,
                "blockers": readiness.blocker_count,
                "blocking checks": ", ".join(b.check for b in readiness.blockers) or "—",
                "SLOs healthy": slo["healthy"],
                "SLOs at risk": slo["at_risk"],
                "SLOs breached": slo["breached"],
                "SLOs no data": slo["no_data"],
                "open sev 1-2": item.incidents.open_sev12,
                "compliance gaps": item.compliance.gap_count,
                "stale sources": item.data.stale_sources,
                "owner": item.owner,
                "clinical area": item.clinical_area,
            }
        )
    return pl.DataFrame(rows)


def initiatives_table(ctx: Context, items: list[InitiativeReport]) -> None:
    """The initiatives table; selecting a row opens its gate checklist."""
    frame = initiative_rows(items)
    # ~940 px at 1400 px: the signals as narrow counts; names of blockers, stage, owner and
    # area in the expander below (and every blocker's reason under "Why each verdict")
    shown = (
        ["initiative", "gate", "verdict", "score", "blockers", "SLOs breached", "open sev 1-2",
         "compliance gaps", "stale sources"]
        if ctx.summary
        else ["initiative", "gate", "verdict", "score", "blockers", "SLOs at risk",
              "SLOs breached", "open sev 1-2", "compliance gaps", "stale sources"]
    )  # fmt: skip
    count = st.column_config.NumberColumn
    st.subheader("Initiatives")
    st.caption(
        "Select a row to open its gate checklist. Score: 100 × weight of passed and waived "
        "checks / weight of decided checks. SLO columns count the initiative's SLOs by status."
    )
    event = w.table(
        frame.select("id", *shown),  # the id tells which row was selected; it is not shown
        {
            "initiative": st.column_config.TextColumn(width=210),
            "gate": st.column_config.TextColumn(
                width=130, help="The stage gate the initiative is assessed for (its next stage)."
            ),
            "verdict": st.column_config.TextColumn(width=115),
            "score": count(format="%.1f", width=55),
            "blockers": count(width=65, help="Failing blocking checks: any one makes it NO-GO."),
            "SLOs at risk": count("⚠️ at risk", width=70, help="SLOs at risk"),
            "SLOs breached": count("❌ breached", width=85, help="SLOs breached"),
            "open sev 1-2": count("sev 1-2", width=60, help="Open severity 1-2 incidents"),
            "compliance gaps": count("gaps", width=50, help="Compliance gaps"),
            "stale sources": count("stale", width=50, help="Stale data sources"),
        },
        key="portfolio_table",
        column_order=shown,
        on_select="rerun",
        selection_mode="single-row",
    )
    chosen = event.selection.rows if event is not None else []
    if chosen:
        st.session_state["initiative"] = frame.get_column("id")[chosen[0]]
        st.switch_page("pages/initiative.py", query_params={})  # see app.py
    with st.expander("More columns: blocking checks, stage, owner, area, every SLO status"):
        w.table(
            frame.select(
                "initiative", "stage", "owner", "clinical area", "SLOs healthy", "SLOs no data",
                "blocking checks",
            ),
            {
                "initiative": st.column_config.TextColumn(width=200),
                "stage": st.column_config.TextColumn(width=125),
                "owner": st.column_config.TextColumn(width=125),
                "clinical area": st.column_config.TextColumn(width=130),
                "SLOs healthy": count("✅ healthy", width=75, help="SLOs healthy"),
                "SLOs no data": count("∅ no data", width=75, help="SLOs without data"),
            },
            key="portfolio_details",
        )  # fmt: skip


def readiness_trends(ctx: Context, items: list[InitiativeReport]) -> None:
    """Score and verdict per initiative over the history's instants (computed when opened)."""
    st.subheader("Readiness over time")
    box = st.expander(
        f"Score and verdict per initiative: each Monday of the last {trends.HISTORY_WEEKS} "
        "weeks, each decision and this as-of",
        key="portfolio_trends",
        on_change="rerun",
    )
    if box.open:  # the history is computed only when someone opens it
        with box:
            trends.portfolio_chart(trends.history(ctx), items)


def why_each_verdict(ctx: Context, items: list[InitiativeReport]) -> None:
    """Every check that does not pass, per initiative, with its remediation and owner."""
    st.subheader("Why each verdict")
    for item in items:
        readiness = item.readiness
        verdict = readiness.verdict
        if ctx.summary and verdict == "go":
            continue
        title = (
            f"{fm.label(lb.VERDICT_LABEL, verdict)} · {item.name} · "
            f"score {fm.num(readiness.score, 1)} · {readiness.blocker_count} blocker(s)"
        )
        with st.expander(title, expanded=verdict == "no_go" and not ctx.summary):
            if not readiness.checks:
                w.empty(
                    f"gate checks for the {item.gate} gate",
                    "Add them under `gates:` in config/gates.yaml.",
                )
            for check in readiness.checks:
                if check.outcome == "pass":
                    continue
                kind = "blocking" if check.blocking else f"weight {fm.num(check.weight)}"
                st.markdown(
                    f"- {fm.label(lb.OUTCOME_LABEL, check.outcome)} **{fm.plain(check.id)}** "
                    f"({kind}): `{check.metric}` = {fm.num(check.value)}, needs "
                    f"{check.op} {fm.num(check.threshold)}. "
                    f"{fm.plain(check.remediation)} — owner: {fm.plain(check.owner)}"
                )
            if all(ch.outcome == "pass" for ch in readiness.checks) and readiness.checks:
                st.markdown("Every check passes.")
            w.page_link("pages/initiative.py", f"Open {item.name}", initiative=item.id)


def dimension_heatmap(ctx: Context, items: list[InitiativeReport]) -> None:
    """The worst check outcome per initiative and gate-check dimension."""
    st.subheader("Readiness by dimension")
    matrix = views.dimension_matrix(items).with_columns(
        pl.col("outcome")
        .replace_strict(lb.OUTCOME_SYMBOL, default=pl.col("outcome"))
        .alias("symbol"),
        pl.col("outcome")
        .replace_strict(lb.OUTCOME_LEGEND, default=pl.col("outcome"))
        .alias("worst check"),
        pl.format("{} of {} pass", "passed", "checks").alias("passed of checks"),
    )
    if matrix.height == 0:
        w.empty("gate checks", "Add gates in config/gates.yaml to see dimensions.")
    else:
        base = alt.Chart(matrix).encode(
            x=alt.X(
                "dimension:N",
                title="gate-check dimension",
                sort=None,
                axis=alt.Axis(orient="top", labelAngle=0, labelLimit=200),
            ),
            y=alt.Y(
                "name:N",
                title=None,
                sort=[i.name for i in items],
                axis=alt.Axis(labelLimit=300),
            ),
            tooltip=[
                alt.Tooltip("name"),
                alt.Tooltip("dimension"),
                alt.Tooltip("worst check"),
                alt.Tooltip("passed of checks"),
            ],
        )
        rect = base.mark_rect(stroke="white", strokeWidth=2).encode(
            color=alt.Color(
                "worst check:N",
                scale=lb.OUTCOME_SCALE,
                legend=alt.Legend(orient="bottom", title="worst check in the cell"),
            )
        )
        text = base.mark_text(fontSize=12).encode(text=alt.Text("symbol:N"))
        w.chart(
            (rect + text).properties(height=34 * len(items)),
            "Heatmap of initiatives by gate-check dimension; each cell names its worst outcome.",
        )


def funnel(ctx: Context, items: list[InitiativeReport]) -> None:
    """Initiatives per stage, coloured by the verdict at their next gate."""
    st.subheader("Stage funnel")
    funnel = views.stage_funnel(items).filter(pl.col("count") > 0)
    funnel = funnel.with_columns(
        pl.col("verdict").replace_strict(lb.VERDICT_WORD).alias("gate verdict"),
        pl.format("{} {}", "count", pl.col("verdict").replace_strict(lb.VERDICT_SHORT)).alias(
            "segment"
        ),
        pl.col("verdict").replace_strict(lb.VERDICT_ORDER).alias("verdict_order"),
    )
    stage_order = list(STAGES)
    x = alt.X("count:Q", stack="zero", title="initiatives", axis=alt.Axis(tickMinStep=1))
    y = alt.Y(
        "stage:N",
        sort=stage_order,
        scale=alt.Scale(domain=stage_order),
        title=None,
        axis=alt.Axis(labelLimit=300),
    )
    base = alt.Chart(funnel).encode(
        y=y,
        x=x,
        order=alt.Order("verdict_order:Q"),
        tooltip=[alt.Tooltip("stage"), alt.Tooltip("gate verdict"), alt.Tooltip("count")],
    )
    bars = base.mark_bar(stroke="white").encode(
        color=alt.Color(
            "gate verdict:N",
            scale=lb.VERDICT_SCALE,
            legend=alt.Legend(orient="bottom", title="verdict at the next gate"),
        )
    )
    labels = base.mark_text(align="right", dx=-4, color="black").encode(text=alt.Text("segment:N"))
    w.chart(
        (bars + labels).properties(height=44 * len(stage_order)),
        "Initiatives per stage, split by the verdict of their next gate; each segment is "
        "labelled with its count and verdict.",
    )


def render(ctx: Context) -> None:
    """The portfolio: verdict counts, the initiatives, trends, why each verdict, dimensions,
    funnel."""
    w.header(ctx, "Portfolio", "Which pilots are ready for their next stage, and why")
    if w.no_initiatives(ctx):
        return
    items = ctx.items
    verdict_metrics(items)
    sections = (initiatives_table, readiness_trends, why_each_verdict, dimension_heatmap, funnel)
    for section in sections:
        section(ctx, items)


render(context(__file__))
