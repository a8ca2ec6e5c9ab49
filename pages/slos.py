"""SLOs: error budgets, burn-down, SLI over time with deployments, burn rates and alerts."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from metrics import series
from metrics.slo import ALERT_PAIRS, AT_RISK_BUDGET, window_start
from pages import common as c

STATUS_RANK = {"breached": 0, "at_risk": 1, "no_data": 2, "healthy": 3}
SORTS = {
    "budget": "Budget remaining, lowest first",
    "status": "Status, worst first",
    "initiative": "Initiative and name",
}

ctx = c.context()
c.header(ctx, "SLOs", "Error budgets, burn rates and alerts per service level objective")

if not c.no_initiatives(ctx):
    slos = [(item, slo) for item in ctx.items for slo in item["slos"]]
    if not slos:
        c.empty(
            "SLOs for the shown initiatives",
            "Define them in config/slos.yaml or as OpenSLO documents in config/slos/.",
        )
    else:
        order = st.segmented_control(
            "Sort by", list(SORTS), format_func=SORTS.get, default="budget", key="slo_sort"
        )
        if order == "status":
            slos.sort(key=lambda p: (STATUS_RANK.get(p[1]["status"], 9), p[1]["name"]))
        elif order == "initiative":
            slos.sort(key=lambda p: (p[0]["name"], p[1]["name"]))
        else:  # nulls (no data) last
            slos.sort(
                key=lambda p: (p[1]["budget_remaining"] is None, p[1]["budget_remaining"] or 0)
            )
        rows = [
            {
                "slo": slo["name"],
                "initiative": item["name"],
                "status": c.label(c.SLO_LABEL, slo["status"]),
                "budget remaining": slo["budget_remaining"],
                "SLI": slo["sli"],
                "target": slo["target"],
                "alerts": ", ".join(
                    f"{a['severity']} {a['long']}/{a['short']}" for a in slo["alerts"]
                )
                or "—",
                "low traffic": "🔎 yes" if slo["low_traffic"] else "",
                "type": slo["sli_type"],
                "window": slo["window"],
                "budgeting": slo["budgeting"],
                "good": slo["good"],
                "total": slo["total"],
                **{f"burn {w}": v for w, v in slo["burn_rates"].items()},
            }
            for item, slo in slos
        ]
        frame = pl.DataFrame(rows, infer_schema_length=None)
        if not ctx.detailed:
            frame = frame.select(
                "slo", "initiative", "status", "budget remaining", "SLI", "target", "alerts",
                "low traffic", "window",
            )  # fmt: skip
        c.table(
            frame,
            {
                "budget remaining": st.column_config.NumberColumn(format="percent"),
                "SLI": st.column_config.NumberColumn(format="%.4f"),
                "target": st.column_config.NumberColumn(format="%.4f"),
            },
            key="slo_table",
        )

        names = [slo["name"] for _, slo in slos]
        if st.session_state.get("slo") not in names and st.query_params.get("slo") not in names:
            st.session_state["slo"] = names[0]
        chosen = st.selectbox("SLO", names, key="slo", bind="query-params", persist_state="session")
        item, slo = next(p for p in slos if p[1]["name"] == chosen)
        definition = next(s for s in ctx.config.slos if s.name == chosen)
        st.subheader(f"{slo['name']} · {c.label(c.SLO_LABEL, slo['status'])}")
        if definition.description:
            st.caption(c.plain(definition.description))
        cols = st.columns(4)
        cols[0].metric("SLI", c.pct(slo["sli"], 3), border=True)
        cols[1].metric("Target", c.pct(slo["target"], 2), border=True)
        cols[2].metric("Budget remaining", c.pct(slo["budget_remaining"]), border=True)
        cols[3].metric(
            "Good / total" + (" slices" if slo["budgeting"] == "timeslices" else " events"),
            f"{slo['good']} / {slo['total']}",
            border=True,
        )
        if slo["low_traffic"]:
            st.warning(
                f"Low traffic: {slo['total']} events in the window, so one bad event spends "
                f"{c.pct(slo['one_bad_event_budget_share'])} of the error budget. Read the SLI "
                "and the budget with care, or lengthen the window.",
                icon="🔎",
            )
        buckets = ctx.portfolio.buckets
        start = window_start(definition, ctx.as_of)
        if slo["total"] == 0:
            c.empty(
                f"events in the {slo['window']} window of {slo['name']}",
                "Its requests come from the sources feeding `requests` (or `sli_buckets`) for "
                f"initiative `{item['id']}`; check the Data sources page and the SLO's filter.",
            )
        else:
            st.markdown("**Error budget burn-down over the window**")
            burn = series.budget_burn_down(buckets, definition, ctx.as_of)
            ideal = series.ideal_burn(definition, ctx.as_of).with_columns(
                pl.lit("steady pace").alias("line")
            )
            actual = (
                alt.Chart(burn.with_columns(pl.lit("budget remaining").alias("line")))
                .mark_line(interpolate="step-after", color=c.OKABE["blue"])
                .encode(
                    x=alt.X("at:T", title=None),
                    y=alt.Y(
                        "budget_remaining:Q", title="budget remaining", axis=alt.Axis(format="%")
                    ),
                    tooltip=[
                        alt.Tooltip("at:T", title="until", format="%Y-%m-%d %H:%M"),
                        alt.Tooltip("budget_remaining:Q", format=".1%"),
                        alt.Tooltip("consumed:Q", format=".1%"),
                    ],
                )
            )
            pace = (
                alt.Chart(ideal)
                .mark_line(strokeDash=[6, 4], color=c.OKABE["grey"])
                .encode(x="at:T", y="budget_remaining:Q", tooltip=["line"])
            )
            levels = pl.DataFrame(
                {"y": [AT_RISK_BUDGET, 0.0], "label": ["at risk below 25%", "budget exhausted"]}
            )
            rules = alt.Chart(levels).mark_rule(strokeDash=[2, 2], color="black").encode(y="y:Q")
            rule_text = (
                alt.Chart(levels)
                .mark_text(align="left", dy=-6, x=4, color="black")
                .encode(y="y:Q", text="label:N")
            )
            c.chart(
                (actual + pace + rules + rule_text).properties(height=260),
                f"Error budget remaining for {slo['name']} from the window start to the as-of; "
                "the dashed grey line is the steady pace that spends the budget exactly.",
            )

            st.markdown("**SLI against target, with production deployments**")
            every = st.segmented_control(
                "SLI per", ["1h", "1d"], format_func={"1h": "hour", "1d": "day"}.get,
                default="1h", key="sli_every",
            )  # fmt: skip
            sli = series.sli_series(buckets, definition, ctx.as_of, every or "1h")
            deploys = series.deploy_markers(
                ctx.portfolio.deployments, item["id"], start, ctx.as_of
            ).with_columns(pl.col("status").replace({"rolled_back": "rolled back"}))
            line = (
                alt.Chart(sli)
                .mark_line(point=True, color=c.OKABE["blue"])
                .encode(
                    x=alt.X("period_start:T", title=None),
                    y=alt.Y("sli:Q", title="SLI", scale=alt.Scale(zero=False)),
                    tooltip=[
                        alt.Tooltip("period_start:T", title="from", format="%Y-%m-%d %H:%M"),
                        alt.Tooltip("sli:Q", format=".4f"),
                        "good",
                        "total",
                    ],
                )
            )
            target = (
                alt.Chart(pl.DataFrame({"target": [slo["target"]], "label": ["target"]}))
                .mark_rule(strokeDash=[6, 3], color=c.OKABE["vermillion"])
                .encode(y="target:Q", tooltip=["label", "target"])
            )
            layers = line + target
            if deploys.height:
                layers += (
                    alt.Chart(deploys)
                    .mark_rule(opacity=0.6)
                    .encode(
                        x="finished_at:T",
                        strokeDash=alt.StrokeDash(
                            "status:N",
                            title="deployment",
                            scale=alt.Scale(
                                domain=["success", "rolled back"], range=[[1, 0], [4, 3]]
                            ),
                        ),
                        color=alt.Color(
                            "status:N",
                            scale=alt.Scale(
                                domain=["success", "rolled back"],
                                range=[c.OKABE["green"], c.OKABE["orange"]],
                            ),
                            title="deployment",
                        ),
                        tooltip=["deploy_id", "version", "status", "finished_at"],
                    )
                )
            c.chart(
                layers.properties(height=260),
                f"SLI per period for {slo['name']} with the target as a dashed line and production "
                "deployments as vertical rules (dashed when rolled back).",
            )
            if deploys.height == 0:
                st.caption("No production deployment of this initiative in the SLO window.")

        st.markdown("**Burn rates and multiwindow alerts**")
        burn_rows = pl.DataFrame(
            {"window": list(slo["burn_rates"]), "burn rate": list(slo["burn_rates"].values())},
            schema={"window": pl.String(), "burn rate": pl.Float64()},
        )
        firing = {(a["severity"], a["long"], a["short"]) for a in slo["alerts"]}
        pairs = pl.DataFrame(
            [
                {
                    "alert": "🔥 FIRING" if (sev, long, short) in firing else "not firing",
                    "severity": sev,
                    "long window": long,
                    "short window": short,
                    "fires when both ≥": factor,
                    "burn (long)": slo["burn_rates"][long],
                    "burn (short)": slo["burn_rates"][short],
                }
                for sev, long, short, factor in ALERT_PAIRS
            ],
            schema_overrides={"burn (long)": pl.Float64(), "burn (short)": pl.Float64()},
        )
        hot = {w for _, long, short in firing for w in (long, short)}
        bars = (
            alt.Chart(
                burn_rows.with_columns(
                    pl.when(pl.col("window").is_in(sorted(hot)))
                    .then(pl.lit("in a firing pair"))
                    .otherwise(pl.lit("not firing"))
                    .alias("alert")
                )
            )
            .mark_bar()
            .encode(
                x=alt.X(
                    "window:N", sort=list(slo["burn_rates"]), title="window ending at the as-of"
                ),
                y=alt.Y("burn rate:Q", title="burn rate (1 = on pace)"),
                color=alt.Color(
                    "alert:N",
                    scale=alt.Scale(
                        domain=["in a firing pair", "not firing"],
                        range=[c.OKABE["vermillion"], c.OKABE["sky"]],
                    ),
                ),
                tooltip=["window", alt.Tooltip("burn rate:Q", format=".2f"), "alert"],
            )
        )
        marks = (
            alt.Chart(burn_rows.filter(pl.col("window").is_in(sorted(hot))))
            .mark_text(dy=-8, text="🔥")
            .encode(x=alt.X("window:N", sort=list(slo["burn_rates"])), y="burn rate:Q")
        )
        c.chart(
            (bars + marks).properties(height=220),
            "Burn rate per window; windows in a firing alert pair are marked with a flame.",
        )
        c.table(
            pairs,
            {
                "burn (long)": st.column_config.NumberColumn(format="%.2f"),
                "burn (short)": st.column_config.NumberColumn(format="%.2f"),
            },
            key="alert_pairs",
        )
        st.caption(
            "Page when burn(1h) and burn(5m) are both ≥ 14.4, or burn(6h) and burn(30m) ≥ 6; "
            "ticket when burn(1d) and burn(2h) ≥ 3, or burn(3d) and burn(6h) ≥ 1 (Google SRE "
            "workbook). A null burn rate means no events in that window."
        )
