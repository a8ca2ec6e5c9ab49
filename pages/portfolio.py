"""Portfolio: every initiative's stage, gate verdict, score and the signals behind it."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from metrics import series
from pages import common as c

ctx = c.context()
c.header(ctx, "Portfolio", "Which pilots are ready for their next stage, and why")

if not c.no_initiatives(ctx):
    items = ctx.items
    counts = series.verdict_counts(items)
    cols = st.columns(len(counts))
    for col, row in zip(cols, counts.to_dicts(), strict=True):
        col.metric(c.VERDICT_LABEL[row["verdict"]], row["count"], border=True)

    slo_counts = {r["initiative"]: r for r in series.slo_status_counts(items).to_dicts()}
    rows = []
    for item in items:
        readiness = item["readiness"]
        slo = slo_counts[item["id"]]
        rows.append(
            {
                "id": item["id"],
                "initiative": item["name"],
                "stage": item["stage"],
                "gate": item["gate"],
                "verdict": c.label(c.VERDICT_LABEL, readiness["verdict"]),
                "score": readiness["score"],
                "blockers": ", ".join(b["check"] for b in readiness["blockers"]) or "—",
                "SLOs healthy": slo["healthy"],
                "SLOs at risk": slo["at_risk"],
                "SLOs breached": slo["breached"],
                "SLOs no data": slo["no_data"],
                "open sev 1-2": item["incidents"]["open_sev12"],
                "compliance gaps": item["compliance"]["gap_count"],
                "stale sources": item["data"]["stale_sources"],
                "owner": item["owner"],
                "clinical area": item["clinical_area"],
            }
        )
    frame = pl.DataFrame(rows)
    if ctx.summary:
        frame = frame.select(
            "id", "initiative", "stage", "verdict", "score", "blockers", "SLOs breached",
            "open sev 1-2", "compliance gaps", "stale sources",
        )  # fmt: skip
    st.subheader("Initiatives")
    st.caption("Select a row to open its gate checklist. Score: 100 × weight of passed and waived "
               "checks / weight of decided checks.")  # fmt: skip
    event = c.table(
        frame,
        {"score": st.column_config.NumberColumn("score", format="%.1f")},
        key="portfolio_table",
        on_select="rerun",
        selection_mode="single-row",
    )
    chosen = event.selection.rows if event is not None else []
    if chosen:
        st.session_state["initiative"] = frame.get_column("id")[chosen[0]]
        st.switch_page("pages/initiative.py", query_params={})  # see app.py

    st.subheader("Why each verdict")
    for item in items:
        readiness = item["readiness"]
        verdict = readiness["verdict"]
        if ctx.summary and verdict == "go":
            continue
        blockers = readiness["blockers"]
        title = (
            f"{c.label(c.VERDICT_LABEL, verdict)} · {item['name']} · "
            f"score {c.num(readiness['score'], 1)} · {len(blockers)} blocker(s)"
        )
        with st.expander(title, expanded=verdict == "no_go" and not ctx.summary):
            if not readiness["checks"]:
                c.empty(
                    f"gate checks for the {item['gate']} gate",
                    "Add them under `gates:` in config/gates.yaml.",
                )
            for check in readiness["checks"]:
                if check["outcome"] == "pass":
                    continue
                kind = "blocking" if check["blocking"] else f"weight {c.num(check['weight'])}"
                st.markdown(
                    f"- {c.label(c.OUTCOME_LABEL, check['outcome'])} **{c.plain(check['id'])}** "
                    f"({kind}): `{check['metric']}` = {c.num(check['value'])}, needs "
                    f"{check['op']} {c.num(check['threshold'])}. "
                    f"{c.plain(check['remediation'])} — owner: {c.plain(check['owner'])}"
                )
            if all(ch["outcome"] == "pass" for ch in readiness["checks"]) and readiness["checks"]:
                st.markdown("Every check passes.")
            c.page_link("pages/initiative.py", f"Open {item['name']}", initiative=item["id"])

    left, right = st.columns(2)
    with left:
        st.subheader("Readiness by dimension")
        matrix = series.dimension_matrix(items).with_columns(
            pl.col("outcome")
            .replace_strict(c.OUTCOME_SYMBOL, default=pl.col("outcome"))
            .alias("symbol"),
            pl.format("{} of {} pass", "passed", "checks").alias("passed of checks"),
        )
        if matrix.height == 0:
            c.empty("gate checks", "Add gates in config/gates.yaml to see dimensions.")
        else:
            base = alt.Chart(matrix).encode(
                x=alt.X("dimension:N", title=None, sort=None, axis=alt.Axis(labelAngle=-30)),
                y=alt.Y("name:N", title=None, sort=[i["name"] for i in items]),
                tooltip=["name", "dimension", "outcome", "passed of checks"],
            )
            rect = base.mark_rect(stroke="white").encode(
                color=alt.Color("outcome:N", scale=c.OUTCOME_SCALE, title="worst check")
            )
            text = base.mark_text(fontSize=11).encode(text="symbol:N")
            c.chart(
                (rect + text).properties(height=40 * len(items) + 40),
                "Heatmap of initiatives by gate-check dimension; each cell names its worst "
                "outcome.",
            )
    with right:
        st.subheader("Stage funnel")
        funnel = series.stage_funnel(items).filter(pl.col("count") > 0)
        funnel = funnel.with_columns(
            pl.col("verdict").replace_strict(c.VERDICT_LABEL).alias("gate verdict"),
            pl.format("{} {}", "count", pl.col("verdict").replace_strict(c.VERDICT_SHORT)).alias(
                "segment"
            ),
        )
        stage_order = [s for s in c.STAGES]
        x = alt.X("count:Q", stack="zero", title="initiatives", axis=alt.Axis(tickMinStep=1))
        y = alt.Y("stage:N", sort=stage_order, scale=alt.Scale(domain=stage_order), title=None)
        order = alt.Order("verdict_order:Q")
        base = alt.Chart(
            funnel.with_columns(
                pl.col("verdict").replace_strict(c.VERDICT_ORDER).alias("verdict_order")
            )
        ).encode(y=y, x=x, order=order, tooltip=["stage", "gate verdict", "count"])
        bars = base.mark_bar(stroke="white").encode(
            color=alt.Color("verdict:N", scale=c.VERDICT_SCALE, title="gate verdict")
        )
        labels = base.mark_text(align="right", dx=-4, color="black").encode(text="segment:N")
        c.chart(
            (bars + labels).properties(height=220),
            "Initiatives per stage, split by the verdict of their next gate; each segment is "
            "labelled with its count and verdict.",
        )
