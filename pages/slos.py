"""SLOs: error budgets, burn-down, SLI over time with deployments, burn rates and alerts."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from core.models import Slo
from core.report import BurnRates, InitiativeReport, SloEntry
from metrics.slo import ALERT_PAIRS
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.charts import burn_down, sli_chart
from ui.context import Context, context

STATUS_RANK = {"breached": 0, "at_risk": 1, "no_data": 2, "healthy": 3}
SORTS = {
    "budget": "Budget remaining, lowest first",
    "status": "Status, worst first",
    "initiative": "Initiative and name",
}
Pair = tuple[InitiativeReport, SloEntry]  # an initiative's report block and one of its SLOs


def sort_slos(slos: list[Pair]) -> None:
    """Sort the (initiative, SLO) pairs in the order the reader chose."""
    order = st.segmented_control(
        "Sort by", list(SORTS), format_func=lambda v: SORTS[v], default="budget", key="slo_sort"
    )
    if order == "status":
        slos.sort(key=lambda p: (STATUS_RANK.get(p[1].status, 9), p[1].name))
    elif order == "initiative":
        slos.sort(key=lambda p: (p[0].name, p[1].name))
    else:  # nulls (no data) last
        slos.sort(key=lambda p: (p[1].budget_remaining is None, p[1].budget_remaining or 0))


def slo_table(slos: list[Pair]) -> None:
    """One row per SLO: status, budget, SLI, target, firing alerts."""
    rows = [
        {
            "slo": slo.name,
            "initiative": item.name,
            "status": fm.label(lb.SLO_LABEL, slo.status),
            "budget remaining": slo.budget_remaining,
            "SLI": slo.sli,
            "target": slo.target,
            "alerts": "🔥 " + ", ".join(dict.fromkeys(a.severity for a in slo.alerts))
            if slo.alerts
            else "—",
            "low traffic": "🔎 low" if slo.low_traffic else "",
            "estimate": lb.ESTIMATE_BADGE if slo.estimate else "",
            "window": slo.window,
        }
        for item, slo in slos
    ]
    w.table(
        pl.DataFrame(rows, infer_schema_length=None),
        {
            "slo": st.column_config.TextColumn("SLO", width=190),
            "initiative": st.column_config.TextColumn(width=150),
            "status": st.column_config.TextColumn(width=100),
            "budget remaining": st.column_config.NumberColumn(
                "budget left", format="percent", width=85, help="Error budget remaining"
            ),
            "SLI": st.column_config.NumberColumn(format="%.4f", width=60),
            "target": st.column_config.NumberColumn(format="%.4f", width=60),
            "alerts": st.column_config.TextColumn(
                width=105,
                help="Severities of the firing multiwindow alerts; the pairs are under "
                "'Burn rates and multiwindow alerts' for the chosen SLO.",
            ),
            "low traffic": st.column_config.TextColumn(
                "traffic",
                width=60,
                help="🔎 low: one bad event spends a visible share of the budget.",
            ),
            "estimate": st.column_config.TextColumn(
                "counts",
                width=80,
                help="≈ estimated: buckets from a PromQL expression evaluated per minute.",
            ),
            "window": st.column_config.TextColumn(width=110),
        },
        key="slo_table",
    )


def raw_details(slos: list[Pair]) -> None:
    """The engineering view: raw counts and every burn-rate window."""
    with st.expander("Raw counts and every burn-rate window", expanded=True):
        details = pl.DataFrame(
            [
                {
                    "slo": slo.name,
                    "type": slo.sli_type,
                    "budgeting": slo.budgeting,
                    "good": slo.good,
                    "total": slo.total,
                    **{f"burn {win}": slo.burn_rates.rate(win) for win in BurnRates.windows()},
                }
                for _, slo in slos
            ],
            infer_schema_length=None,
        )
        w.table(
            details,
            {
                "slo": st.column_config.TextColumn("SLO", width=200),
                "type": st.column_config.TextColumn(width=85),
                "budgeting": st.column_config.TextColumn(width=95),
                "good": st.column_config.NumberColumn(format="%,d", width=80),
                "total": st.column_config.NumberColumn(format="%,d", width=80),
                **{
                    name: st.column_config.NumberColumn(
                        name.removeprefix("burn "),
                        format="%.2f",
                        width=52,
                        help=f"Burn rate over the last {name.removeprefix('burn ')}",
                    )
                    for name in details.columns
                    if name.startswith("burn ")
                },
            },
            key="slo_details",
        )
        st.caption("Burn rate per window ending at the as-of (1 = on pace).")


def pick_slo(ctx: Context, slos: list[Pair]) -> tuple[InitiativeReport, SloEntry, Slo]:
    """The SLO selectbox (bound to the URL): its initiative, report entry and definition."""
    names = [slo.name for _, slo in slos]
    if st.session_state.get("slo") not in names and st.query_params.get("slo") not in names:
        st.session_state["slo"] = names[0]
    chosen = st.selectbox("SLO", names, key="slo", bind="query-params", persist_state="session")
    item, slo = next(p for p in slos if p[1].name == chosen)
    definition = next(s for s in ctx.config.slos if s.name == chosen)
    return item, slo, definition


def headline(slo: SloEntry, definition: Slo) -> None:
    """The chosen SLO's status, numbers and a low-traffic warning."""
    st.subheader(f"{slo.name} · {fm.label(lb.SLO_LABEL, slo.status)}")
    if definition.description:
        st.caption(fm.plain(definition.description))
    unit = lb.BUDGETING_UNIT.get(slo.budgeting, "events")
    cols = st.columns(5)
    cols[0].metric("SLI", fm.pct(slo.sli, 3), border=True)
    cols[1].metric("Target", fm.pct(slo.target, 2), border=True)
    cols[2].metric("Budget remaining", fm.pct(slo.budget_remaining), border=True)
    cols[3].metric(f"Good {unit}", fm.count(slo.good), border=True)
    cols[4].metric(f"Total {unit}", fm.count(slo.total), border=True)
    window = slo.window if slo.timezone == "UTC" else f"{slo.window} ({slo.timezone})"
    st.caption(f"Window {window} · {slo.budgeting}")
    if slo.estimate:
        st.info(lb.ESTIMATE_NOTE)
    if slo.low_traffic:
        st.warning(
            f"Low traffic: {slo.total} {unit} in the window, so one bad {unit[:-1]} spends "
            f"{fm.pct(slo.one_bad_event_budget_share)} of the error budget. Read the SLI "
            "and the budget with care, or lengthen the window.",
            icon="🔎",
        )


def burn_rates(slo: SloEntry) -> None:
    """Burn rate per window and the multiwindow alert pairs."""
    st.markdown("**Burn rates and multiwindow alerts**")
    burn_rows = pl.DataFrame(
        {
            "window": BurnRates.windows(),
            "burn rate": [slo.burn_rates.rate(win) for win in BurnRates.windows()],
        },
        schema={"window": pl.String(), "burn rate": pl.Float64()},
    )
    firing = {(a.severity, a.long, a.short) for a in slo.alerts}
    pairs = pl.DataFrame(
        [
            {
                "alert": "🔥 FIRING" if (sev, long, short) in firing else "not firing",
                "severity": sev,
                "long window": long,
                "short window": short,
                "fires when both ≥": factor,
                "burn (long)": slo.burn_rates.rate(long),
                "burn (short)": slo.burn_rates.rate(short),
            }
            for sev, long, short, factor in ALERT_PAIRS
        ],
        schema_overrides={"burn (long)": pl.Float64(), "burn (short)": pl.Float64()},
    )
    hot = {win for _, long, short in firing for win in (long, short)}
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
                "window:N",
                sort=BurnRates.windows(),
                title="window ending at the as-of",
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("burn rate:Q", title="burn rate (1 = on pace)"),
            color=alt.Color(
                "alert:N",
                scale=alt.Scale(
                    domain=["in a firing pair", "not firing"],
                    range=[lb.OKABE["vermillion"], lb.OKABE["sky"]],
                ),
            ),
            tooltip=[
                alt.Tooltip("window"),
                alt.Tooltip("burn rate:Q", format=".2f"),
                alt.Tooltip("alert"),
            ],
        )
    )
    marks = (
        alt.Chart(burn_rows.filter(pl.col("window").is_in(sorted(hot))))
        .mark_text(dy=-8, text="🔥")
        .encode(x=alt.X("window:N", sort=BurnRates.windows()), y=alt.Y("burn rate:Q"))
    )
    w.chart(
        (bars + marks).properties(height=220),
        "Burn rate per window; windows in a firing alert pair are marked with a flame.",
    )
    w.table(
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


def render(ctx: Context) -> None:
    """The SLOs page."""
    w.header(ctx, "SLOs", "Error budgets, burn rates and alerts per service level objective")
    if w.no_initiatives(ctx):
        return
    slos = [(item, slo) for item in ctx.items for slo in item.slos]
    if not slos:
        w.empty(
            "SLOs for the shown initiatives",
            "Define them in config/slos.yaml or as OpenSLO documents in config/slos/.",
        )
        return
    sort_slos(slos)
    slo_table(slos)
    if ctx.detailed:
        raw_details(slos)
    item, slo, definition = pick_slo(ctx, slos)
    headline(slo, definition)
    if slo.total == 0:
        w.empty(
            f"events in the {slo.window} window of {slo.name}",
            "Its requests come from the sources feeding `requests` (or `sli_buckets`) for "
            f"initiative `{item.id}`; check the Data sources page and the SLO's filter.",
        )
    else:
        burn_down(ctx, slo, definition)
        sli_chart(ctx, item, slo, definition)
    burn_rates(slo)


render(context(__file__))
