"""Initiative: the gate checklist with blockers, then every signal behind it."""

from __future__ import annotations

import altair as alt
import polars as pl
import streamlit as st

from core.report import InitiativeReport, iso
from metrics import series
from ui import formats as fm
from ui import labels as lb
from ui import signoff, trends
from ui import widgets as w
from ui.context import Context, context


def overview(ctx: Context, item: InitiativeReport) -> None:
    """Name, stage and gate, the headline numbers and a box per blocker."""
    readiness = item.readiness
    config_item = ctx.config.initiative(item.id)
    st.subheader(f"{item.name}")
    st.caption(
        f"Stage **{item.stage}** → gate **{item.gate}** · owner {fm.plain(item.owner)} · "
        f"sponsor {fm.plain(item.sponsor)} · {fm.plain(item.clinical_area)}"
    )
    if config_item.description and not ctx.summary:
        st.markdown(fm.plain(config_item.description))
    top = st.columns(4)
    top[0].metric("Gate verdict", fm.label(lb.VERDICT_LABEL, readiness.verdict), border=True)
    top[1].metric("Score", fm.num(readiness.score, 1), border=True)
    top[2].metric("Blockers", readiness.blocker_count, border=True)
    top[3].metric("Compliance gaps", item.compliance.gap_count, border=True)

    for blocker in readiness.blockers:
        check = next(ch for ch in readiness.checks if ch.id == blocker.check)
        st.error(
            f"**Blocker {fm.plain(blocker.check)}**: `{check.metric}` = "
            f"{fm.num(check.value)}, needs {check.op} {fm.num(check.threshold)}. "
            f"{fm.plain(blocker.remediation)} — owner: {fm.plain(check.owner)}",
            icon="⛔",
        )


def gate_checklist(ctx: Context, item: InitiativeReport) -> None:
    """Every gate check: metric, value, threshold, outcome and waiver."""
    readiness = item.readiness
    checks = readiness.checks
    if not checks:
        w.empty(
            f"gate checks for the {item.gate} gate",
            "Add them under `gates:` in config/gates.yaml (docs/config.md).",
        )
    else:
        frame = pl.DataFrame(
            [
                {
                    "outcome": fm.label(lb.OUTCOME_LABEL, ch.outcome),
                    "check": ch.id,
                    "dimension": ch.dimension,
                    "kind": "blocking" if ch.blocking else "weighted",
                    "weight": ch.weight,
                    "metric": ch.metric,
                    "value": ch.value,
                    "rule": f"{ch.op} {fm.num(ch.threshold)}",
                    "owner": ch.owner,
                    "remediation": ch.remediation if ch.outcome != "pass" else "",
                    "waiver": ""
                    if ch.waiver is None
                    else f"{ch.waiver.reason} (approved by {ch.waiver.approver}, "
                    f"until {iso(ch.waiver.expires_on)})",
                }
                for ch in checks
            ],
            schema_overrides={"value": pl.Float64(), "weight": pl.Float64()},
        )
        text = st.column_config.TextColumn
        w.table(
            frame.drop("remediation", "waiver"),  # both in full in the table below
            {
                "outcome": text(width=85),
                "check": text(width=165),
                "dimension": text(width=90),
                "kind": text(width=75),
                "weight": st.column_config.NumberColumn(format="%g", width=60),
                "metric": text(width=200),
                "value": st.column_config.NumberColumn(format="%.4g", width=65),
                "rule": text(width=70),
                "owner": text(width=120),
            },
            key="checklist",
        )
        todo = frame.filter(pl.col("outcome") != lb.OUTCOME_LABEL["pass"])
        if todo.height:
            st.markdown("**What to do about every check that does not pass**")
            w.static_table(todo.select("outcome", "check", "remediation", "owner", "waiver"))
        st.caption(
            "Outcome: pass; fail; insufficient data (the metric is null); waived (failing, "
            "with a waiver valid at this as-of). A failing blocking check makes the verdict "
            "NO-GO; a waived or undecided blocking check, or a score under 70, CONDITIONAL."
        )


def slo_cards(ctx: Context, item: InitiativeReport) -> None:
    """A card per SLO: status, SLI, budget and firing alerts."""
    if not item.slos:
        w.empty(
            "SLOs defined for this initiative",
            "Add one to config/slos.yaml or an OpenSLO document in config/slos/.",
        )
    cards = st.columns(3)
    for n, slo in enumerate(item.slos):
        with cards[n % 3].container(border=True):
            st.markdown(f"**{fm.plain(slo.name)}** · {fm.label(lb.SLO_LABEL, slo.status)}")
            inner = st.columns(2)
            inner[0].metric("SLI", fm.pct(slo.sli, 3))
            inner[1].metric("Target", fm.pct(slo.target, 2))
            st.metric("Error budget remaining", fm.pct(slo.budget_remaining))
            firing = ", ".join(f"{a.severity} {a.long}/{a.short}" for a in slo.alerts)
            st.caption(
                f"{slo.sli_type} · window {slo.window} · {slo.budgeting} · "
                f"alerts: {firing or 'none firing'}"
                + (f" · {lb.ESTIMATE_BADGE}" if slo.estimate else "")
            )
            if slo.low_traffic:
                st.warning(
                    "Low traffic: one bad event spends "
                    f"{fm.pct(slo.one_bad_event_budget_share)} of the budget.",
                    icon="🔎",
                )
            w.page_link("pages/slos.py", "Burn-down and burn rates", slo=slo.name)


def delivery_keys(ctx: Context, item: InitiativeReport) -> None:
    """The four keys of this initiative with level and n."""
    d = item.delivery
    levels, n = d.levels, d.n
    keys = st.columns(4)
    keys[0].metric(
        "Deploy days per week (median)",
        fm.num(d.deploy_days_per_week_median),
        help=f"Level: {fm.label(lb.LEVEL_LABEL, levels.frequency)}",
        border=True,
    )
    keys[1].metric("Lead time, median hours", fm.num(d.lead_time_hours_median, 1), border=True)
    keys[2].metric("Change failure rate", fm.pct(d.change_failure_rate), border=True)
    keys[3].metric(
        "Time to restore, median hours", fm.num(d.recovery_time_hours_median, 1), border=True
    )
    for col, key in zip(
        keys, ("frequency", "lead_time", "change_failure", "recovery"), strict=True
    ):
        col.caption(fm.label(lb.LEVEL_LABEL, getattr(levels, key)))
    st.caption(
        f"n: {n.deployments} deployments ({n.failed_deployments} failed changes), "
        f"{n.lead_time} with a commit time, {n.recovery} incidents resolved · "
        f"{d.unlinked_incidents} unlinked incident(s) · frequency "
        f"{fm.num(d.deployment_frequency_per_day)}/day"
    )
    w.page_link("pages/delivery.py", "Delivery trends and incident linking")


def incident_list(ctx: Context, item: InitiativeReport) -> None:
    """Incident numbers and the incidents of the delivery window."""
    iid = item.id
    inc = item.incidents
    cols = st.columns(4)
    cols[0].metric("Open sev 1-2", inc.open_sev12, border=True)
    cols[1].metric("MTTA, minutes", fm.num(inc.mtta_minutes, 1), border=True)
    cols[2].metric("MTTR, hours", fm.num(inc.mttr_hours, 1), border=True)
    cols[3].metric("Patient-impacting", inc.patient_impacting, border=True)
    st.caption(
        "Open by severity: "
        + ", ".join(
            f"sev {s}: {v}" for s, v in inc.open_by_severity.model_dump(by_alias=True).items()
        )
    )
    linked = ctx.portfolio.linked_incidents.filter(pl.col("initiative") == iid)
    rows = series.incidents_in_window(linked, ctx.as_of, ctx.delivery_window)
    if rows.height == 0:
        w.empty(
            "incidents in the delivery window",
            "Incidents come from the sources feeding the `incidents` table (config/sources.yaml).",
        )
    else:
        w.table(
            rows.select(
                "incident_id",
                "severity",
                "title",
                "opened_at",
                "acknowledged_at",
                "resolved_at",
                *w.incident_flags(),
                "linked_deploy_id",
                "link_method",
            ),
            {
                "incident_id": st.column_config.TextColumn("incident", width=75),
                "severity": st.column_config.NumberColumn("sev", width=40),
                "title": st.column_config.TextColumn(width=170),
                "opened_at": w.when_column("opened (UTC)", width=120),
                "acknowledged_at": w.when_column("acknowledged", width=120),
                "resolved_at": w.when_column("resolved (UTC)", width=120),
                "open": st.column_config.TextColumn(width=50, help="Still open at the as-of"),
                "patient_impact": st.column_config.TextColumn("patient", width=60),
                "linked_deploy_id": st.column_config.TextColumn("linked deploy", width=80),
                "link_method": st.column_config.TextColumn("linked by", width=90),
            },
            key="initiative_incidents",
        )


def outcome_list(ctx: Context, item: InitiativeReport) -> None:
    """The initiative's KPIs against target, small cells suppressed."""
    if not item.outcomes:
        w.empty("KPIs configured", "Add `kpis:` to the initiative in config/initiatives.yaml.")
    else:
        frame = pl.DataFrame(
            [
                {
                    "kpi": o.kpi,
                    "kind": o.kind,
                    "status": fm.label(lb.KPI_LABEL, o.status),
                    "latest": f"<{ctx.small_cell}" if o.status == "suppressed" else fm.num(o.value),
                    "target": o.target,
                    "baseline": o.baseline,
                    "direction": f"{o.direction} is better",
                    "unit": o.unit,
                    "period end": fm.day(o.period_end) if o.period_end else None,
                }
                for o in item.outcomes
            ],
            schema_overrides={"target": pl.Float64(), "baseline": pl.Float64()},
        )
        w.table(
            frame,
            {
                "kpi": st.column_config.TextColumn("KPI", width=200),
                "target": st.column_config.NumberColumn(format="%.4g"),
                "baseline": st.column_config.NumberColumn(format="%.4g"),
            },
            key="initiative_outcomes",
        )
        st.caption(
            f"On-track share: {fm.pct(item.outcomes_summary.on_track_share)} "
            f"(of KPIs with a value). Counts below {ctx.small_cell} are never shown."
        )
        w.page_link("pages/outcomes.py", "KPI trends against target and baseline")


def compliance_list(ctx: Context, item: InitiativeReport) -> None:
    """Required controls, coverage, and each control's evidence."""
    iid = item.id
    comp = item.compliance
    cols = st.columns(3)
    cols[0].metric("Required controls", comp.required, border=True)
    cols[1].metric("Coverage", fm.pct(comp.coverage), border=True)
    cols[2].metric("Expiring soon", comp.expiring_count, border=True)
    controls = ctx.portfolio.controls.filter(pl.col("initiative") == iid)
    if controls.height == 0:
        w.empty(
            f"controls required at the {item.gate} gate",
            "The catalog is config/controls.yaml; `required_from` picks the gate.",
        )
    else:
        listed = controls.sort(pl.col("gap").not_(), "control").select(
            pl.col("status").replace_strict(lb.CONTROL_LABEL, default=pl.col("status")),
            pl.when(pl.col("expiring"))
            .then(pl.lit("⏳ expiring"))
            .otherwise(pl.lit(""))
            .alias("expiring"),
            "control",
            "title",
            "owner",
            "expiry",
            "evidence_ref",
        )
        w.table(
            listed,
            {
                "status": st.column_config.TextColumn(width=130),
                "expiring": st.column_config.TextColumn(width=90),
                "control": st.column_config.TextColumn(width=210),
                "title": st.column_config.TextColumn(width=170),
                "owner": st.column_config.TextColumn(width=120),
                "expiry": w.day_column("expires (UTC)", width=95),
                "evidence_ref": w.link_or_text(listed, "evidence_ref", "evidence"),
            },
            key="initiative_controls",
        )


def milestone_plan(ctx: Context, item: InitiativeReport) -> None:
    """The 90/180/360-day plan on a timeline and as a table."""
    config_item = ctx.config.initiative(item.id)
    milestones = series.milestone_table([config_item], ctx.as_of)
    if milestones.height == 0:
        w.empty(
            "milestones",
            "Add the 90/180/360-day plan as `milestones:` in config/initiatives.yaml.",
        )
    else:
        data = milestones.with_columns(
            pl.col("state").replace_strict(lb.MILESTONE_LABEL).alias("state label")
        )
        points = (
            alt.Chart(data)
            .mark_point(size=160, filled=True)
            .encode(
                x=alt.X("due:T", title="due date"),
                y=alt.Y("milestone:N", sort=None, title=None),
                shape=alt.Shape("state label:N", title="state"),
                color=alt.Color(
                    "state:N",
                    scale=alt.Scale(
                        domain=["done", "overdue", "due_soon", "planned"],
                        range=[
                            lb.OKABE["green"],
                            lb.OKABE["vermillion"],
                            lb.OKABE["orange"],
                            lb.OKABE["blue"],
                        ],
                    ),
                    legend=None,
                ),
                tooltip=[
                    alt.Tooltip("milestone"),
                    alt.Tooltip("due"),
                    alt.Tooltip("owner"),
                    alt.Tooltip("state label"),
                    alt.Tooltip("days_to_due"),
                ],
            )
        )
        today = (
            alt.Chart(pl.DataFrame({"as_of": [ctx.as_of.date()], "label": ["as of"]}))
            .mark_rule(strokeDash=[4, 4], color="black")
            .encode(x=alt.X("as_of:T"), tooltip=[alt.Tooltip("label"), alt.Tooltip("as_of")])
        )
        w.chart(
            (points + today).properties(height=50 * milestones.height + 40),
            "Milestones on a timeline; shape and label give the state, the dashed rule is "
            "the as-of date.",
        )
        w.table(
            data.select("state label", "milestone", "due", "days_to_due", "owner", "horizon_days"),
            {
                "state label": st.column_config.TextColumn("state", width=110),
                "milestone": st.column_config.TextColumn(width=330),
                "due": st.column_config.DateColumn(format="YYYY-MM-DD", width=100),
                "days_to_due": st.column_config.NumberColumn("days to due", width=95),
                "horizon_days": st.column_config.NumberColumn("plan horizon (days)"),
            },
            key="initiative_milestones",
        )


def decisions(ctx: Context, item: InitiativeReport) -> None:
    """The initiative's decision history and, for an approver in scope, the decision form."""
    signoff.section(signoff.signing(ctx), item, "initiative")


def readiness_trends(ctx: Context, item: InitiativeReport) -> None:
    """Score, lowest SLO budget, open sev 1-2 and compliance gaps over time (when opened)."""
    box = st.expander(
        f"Trends: score, SLO budget, open sev 1-2 and compliance gaps over the last "
        f"{trends.HISTORY_WEEKS} weeks",
        key="initiative_trends",
        on_change="rerun",
    )
    if box.open:  # the history is computed only when someone opens it
        with box:
            trends.initiative_charts(trends.history(ctx), item)


TABS = (
    ("Gate checklist", gate_checklist),
    ("Decisions", decisions),
    ("SLOs", slo_cards),
    ("Delivery", delivery_keys),
    ("Incidents", incident_list),
    ("Outcomes", outcome_list),
    ("Compliance", compliance_list),
    ("Milestones", milestone_plan),
)


def render(ctx: Context) -> None:
    """The Initiative page: one chosen initiative, its gate and every signal behind it."""
    w.header(ctx, "Initiative", "The gate decision and the evidence behind it")
    item = None if w.no_initiatives(ctx) else w.pick_initiative(ctx)
    if item is None:
        return
    overview(ctx, item)
    readiness_trends(ctx, item)
    for tab, section in zip(
        st.tabs([title for title, _ in TABS]), (s for _, s in TABS), strict=True
    ):
        with tab:
            section(ctx, item)


render(context(__file__))
