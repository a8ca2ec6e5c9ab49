"""One initiative's page of the pack: verdict, blockers with owners, the gate checklist, SLOs,
the four keys, incidents, outcomes, compliance, milestones, the trend and the last decision.

Every value is the report's (or the configuration's: milestones; the evidence's: control
owners); long lists are shortened with a count so the page fits one sheet (content.LIMITS).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from core.report import Check, InitiativeReport, Outcome
from metrics import series
from pilotwatch.audit.decisions import condition_status
from pilotwatch.pack import style
from pilotwatch.pack.charts import initiative_figures
from pilotwatch.pack.content import (
    DASH,
    LIMITS,
    NA,
    DecisionView,
    InitiativePage,
    Table,
    anchor,
    cols,
    day,
    more_text,
    num,
    owner_of,
    pct,
    score_text,
    verdict_badge,
    when,
)
from pilotwatch.pack.cover import due_text
from pilotwatch.pack.inputs import PackInputs
from pilotwatch.report import compare


def build_page(inputs: PackInputs, item: InitiativeReport) -> InitiativePage:
    """The page of one initiative of the report."""
    readiness = item.readiness
    figures = initiative_figures(inputs, item)  # each drawn when the page reads it
    outcomes_note = (
        f"On-track share {pct(item.outcomes_summary.on_track_share)} of the rated KPIs; "
        f"counts below {inputs.config.settings.small_cell_threshold} are never shown."
    )
    return InitiativePage(
        anchor=anchor(item.id),
        name=item.name,
        facts=(
            ("Stage", style.humane(item.stage)),
            ("Gate", style.humane(item.gate)),
            ("Owner", item.owner),
            ("Sponsor", item.sponsor),
            ("Clinical area", item.clinical_area),
        ),
        verdict=verdict_badge(readiness.verdict),
        score=score_text(readiness.score),
        blocker_count=readiness.blocker_count,
        blockers=blockers_table(inputs, item),
        checklist=checklist_table(item),
        slo_figure=figures.burn_down,
        slos=slo_table(item),
        delivery=delivery_table(item),
        incidents=incidents_text(item),
        outcomes=outcomes_table(item, inputs.config.settings.small_cell_threshold),
        outcomes_note=outcomes_note if item.outcomes else "",
        compliance_note=compliance_note(item, inputs.config.settings.expiring_within_days),
        gaps=gaps_table(inputs, item),
        expiring=expiring_table(inputs, item),
        milestones=milestones_table(inputs, item),
        trend_figure=figures.trend,
        trend=trend_text(inputs, item),
        decision=decision_view(inputs, item),
    )


def _check(item: InitiativeReport, check_id: str) -> Check | None:
    return next((c for c in item.readiness.checks if c.id == check_id), None)


def blocker_owner(inputs: PackInputs, item: InitiativeReport, check_id: str) -> str:
    """Who owns a blocker's remediation, saying whose owner that is.

    The report's `owner` is the check's owner, else the initiative's (metrics/readiness.py);
    the check's own entry in config/gates.yaml tells which. A check the configuration does
    not know (a hand-made report) is the check's owner when it differs from the initiative's.
    """
    check = _check(item, check_id)
    reported = None if check is None else check.owner
    declared = next(
        (g.owner for g in inputs.config.gates.get(str(item.gate), []) if g.id == check_id),
        None,
    )
    if declared or (reported and reported != item.owner):
        return owner_of(reported or declared, item.owner)
    return owner_of(None, item.owner)


def blockers_table(inputs: PackInputs, item: InitiativeReport) -> Table:
    """Every blocker: the failing check, its remediation and its owner (the checklist has the
    value and the rule)."""
    rows = []
    for blocker in item.readiness.blockers:
        rows.append(
            (
                blocker.check,
                blocker.remediation or DASH,
                blocker_owner(inputs, item, blocker.check),
            )
        )
    return Table(
        cols("Blocker:nowrap", "Remediation", "Owner:nowrap"),
        tuple(rows),
        empty="No blockers: no blocking check fails.",
    )


def waiver_text(check: Check) -> str:
    """A waiver in words, or `—`."""
    w = check.waiver
    if w is None:
        return DASH
    return f"{w.reason} (approved by {w.approver}, until {day(w.expires_on)})"


def checklist_table(item: InitiativeReport) -> Table:
    """Every gate check: metric, value, rule, outcome, blocking or weighted, waiver."""
    rows = tuple(
        (
            c.id,
            c.metric,
            num(c.value),
            f"{c.op} {num(c.threshold)}",
            style.badge(style.OUTCOME, c.outcome),
            "blocking" if c.blocking else "weighted",
            waiver_text(c),
        )
        for c in item.readiness.checks
    )
    return Table(
        cols(
            "Check:nowrap",
            "Metric:nowrap",
            "Value:num",
            "Rule:nowrap",
            "Outcome:nowrap",
            "Kind",
            "Waiver",
        ),
        rows,
        empty=f"No gate checks are configured for the {style.humane(item.gate)} gate.",
    )


def slo_table(item: InitiativeReport) -> Table:
    """Each SLO: target, SLI, budget remaining, status, firing alerts."""
    rows = tuple(
        (
            s.name,
            pct(s.target, 2),
            pct(s.sli, 3),
            pct(s.budget_remaining),
            style.badge(style.SLO, s.status),
            ", ".join(f"{a.severity} {a.long}/{a.short}" for a in s.alerts) or "none",
        )
        for s in item.slos
    )
    return Table(
        cols("SLO:nowrap", "Target:num", "SLI:num", "Budget left:num", "Status:nowrap", "Alerts"),
        rows,
        empty="No SLO is defined for this initiative.",
    )


def _level(value: str | None) -> style.Badge:
    return style.badge(style.LEVEL, value)


def delivery_table(item: InitiativeReport) -> Table:
    """The four keys: value, DORA level and the n behind each."""
    d = item.delivery
    levels, n = d.levels, d.n
    hours = "n/a" if d.lead_time_hours_median is None else f"{num(d.lead_time_hours_median, 1)} h"
    restore = d.recovery_time_hours_median
    failed = f"{num(n.deployments)} ({num(n.failed_deployments)} failed)"
    rows = (
        (
            "Deploy days per week",
            num(d.deploy_days_per_week_median),
            _level(levels.frequency),
            num(n.deployments),
        ),
        ("Lead time", hours, _level(levels.lead_time), num(n.lead_time)),
        ("Change failure rate", pct(d.change_failure_rate), _level(levels.change_failure), failed),
        (
            "Time to restore",
            NA if restore is None else f"{num(restore, 1)} h",
            _level(levels.recovery),
            num(n.recovery),
        ),
    )
    return Table(cols("Key", "Value:num", "Level:nowrap", "n:num"), rows)


def incidents_text(item: InitiativeReport) -> str:
    """Open incidents by severity, MTTA, MTTR and patient impact, in one sentence."""
    inc = item.incidents
    o = inc.open_by_severity
    mtta = NA if inc.mtta_minutes is None else f"{num(inc.mtta_minutes, 1)} min"
    mttr = NA if inc.mttr_hours is None else f"{num(inc.mttr_hours, 1)} h"
    return (
        f"Open: sev 1: {o.sev1}, sev 2: {o.sev2}, sev 3: {o.sev3}, sev 4: {o.sev4}. "
        f"MTTA {mtta}, MTTR {mttr}; {inc.patient_impacting} patient-impacting in the window."
    )


def kpi_name(outcome: Outcome) -> str:
    """The KPI for people, with its unit unless it is a share: `turnaround hours (hours)`."""
    name = style.humane(outcome.kpi)
    unit = outcome.unit.strip()
    return name if unit in ("", "share") else f"{name} ({unit})"


def kpi_value(value: float | None, unit: str) -> str:
    """A KPI value: a share as a percentage, else the number (its unit is in the KPI's name)."""
    if value is None:
        return NA
    return pct(value) if unit == "share" else num(value)


def outcomes_table(item: InitiativeReport, small_cell: int) -> Table:
    """Each KPI against target and baseline; a suppressed value shows as `<11`."""

    def value(o: Outcome) -> str:
        return f"<{small_cell}" if o.status == "suppressed" else kpi_value(o.value, o.unit)

    rows = tuple(
        (
            kpi_name(o),
            value(o),
            kpi_value(o.target, o.unit),
            kpi_value(o.baseline, o.unit),
            style.badge(style.KPI, o.status),
        )
        for o in item.outcomes
    )
    return Table(
        cols("KPI", "Value:num", "Target:num", "Baseline:num", "Status:nowrap"),
        rows,
        empty="No outcome KPI is configured.",
    )


def compliance_note(item: InitiativeReport, expiring_days: int) -> str:
    """Coverage, gaps and expiring evidence in one line."""
    c = item.compliance
    gaps = f"{c.gap_count} gap{'' if c.gap_count == 1 else 's'}"
    marked = c.gaps or c.expiring
    return (
        f"Coverage {pct(c.coverage)} of {c.required} required controls; {gaps}; "
        f"{c.expiring_count} expiring within {expiring_days} days."
        + (
            f" Owner: the evidence's; {INITIATIVE_OWNER_MARK} the initiative owner, where the "
            "evidence names none."
            if marked
            else ""
        )
    )


def _controls(inputs: PackInputs, item: InitiativeReport) -> dict[str, dict[str, Any]]:
    frame = inputs.portfolio.controls
    if "initiative" not in frame.columns:
        return {}
    mine = frame.filter(pl.col("initiative") == item.id)
    return {row["control"]: row for row in mine.iter_rows(named=True)}


# marks an owner who is the initiative's (the control has no evidence owner); the compliance
# note says so
INITIATIVE_OWNER_MARK = "*"


def control_owner(row: dict[str, Any] | None, item: InitiativeReport) -> str:
    """The evidence's owner, else the initiative owner marked `*` (the note says which)."""
    owner = (row or {}).get("owner")
    if owner and str(owner).strip():
        return str(owner)
    return f"{item.owner}{INITIATIVE_OWNER_MARK}"


def control_name(control: str, row: dict[str, Any] | None) -> str:
    """The control's title from the catalog (`Risk analysis`), else its id."""
    title = (row or {}).get("title")
    return str(title) if title else control


def _gap_date(status: str, row: dict[str, Any] | None) -> str:
    row = row or {}
    if status == "missing":
        return "no evidence"
    if status == "expired" and row.get("expiry") is not None:
        return f"expired {day(row['expiry'])}"
    if row.get("collected_at") is not None:
        return f"evidence of {day(row['collected_at'])}"
    return DASH


def gaps_table(inputs: PackInputs, item: InitiativeReport) -> Table:
    """Each compliance gap with its status, owner and date."""
    rows_by_id = _controls(inputs, item)
    gaps = item.compliance.gaps
    shown = gaps[: LIMITS["gaps"]]
    rows = tuple(
        (
            control_name(g.control, rows_by_id.get(g.control)),
            style.badge(style.CONTROL, g.status),
            control_owner(rows_by_id.get(g.control), item),
            _gap_date(g.status, rows_by_id.get(g.control)),
        )
        for g in shown
    )
    return Table(
        cols("Gap", "Status:nowrap", "Owner", "Date:nowrap"),
        rows,
        empty="No compliance gap.",
        more=more_text(len(gaps) - len(shown), "gaps"),
    )


def expiring_table(inputs: PackInputs, item: InitiativeReport) -> Table:
    """Evidence that expires soon, with its owner and date."""
    rows_by_id = _controls(inputs, item)
    expiring = item.compliance.expiring
    shown = expiring[: LIMITS["expiring"]]
    rows = tuple(
        (
            control_name(e.control, rows_by_id.get(e.control)),
            style.EXPIRING,
            control_owner(rows_by_id.get(e.control), item),
            day(e.expires_at),
        )
        for e in shown
    )
    return Table(
        cols("Expiring evidence", "Status:nowrap", "Owner", "Expires:nowrap"),
        rows,
        empty="",
        more=more_text(len(expiring) - len(shown), "expiring controls"),
    )


def milestones_table(inputs: PackInputs, item: InitiativeReport) -> Table:
    """The 90/180/360-day plan: each milestone's due date, state and owner."""
    known = {i.id for i in inputs.config.initiatives}
    if item.id not in known:
        return Table(cols("Plan", "Milestone", "Due", "State", "Owner"), (), empty="No plan.")
    table = series.milestone_table(
        [inputs.config.initiative(item.id)], inputs.report.as_of, horizon_days=30
    )
    rows = tuple(
        (
            DASH if r["horizon_days"] is None else f"{r['horizon_days']} days",
            r["milestone"],
            day(r["due"]) if r["done"] else due_text(r["due"], r["days_to_due"]),
            style.badge(style.MILESTONE, r["state"]),
            r["owner"],
        )
        for r in table.iter_rows(named=True)
    )
    return Table(
        cols("Plan:nowrap", "Milestone", "Due", "State:nowrap", "Owner"),
        rows,
        empty="No 90/180/360-day plan is configured.",
    )


def trend_text(inputs: PackInputs, item: InitiativeReport) -> str:
    """The score now and at the newest instant a week or more before (else the previous one),
    in words; `` without a history."""
    points = sorted(
        (r.as_of, i.readiness.score, i.readiness.verdict)
        for r in inputs.history
        for i in r.initiatives
        if i.id == item.id and r.as_of < inputs.report.as_of
    )
    if not points:
        return ""
    now = item.readiness
    week_before = [p for p in points if p[0] <= inputs.report.as_of - timedelta(days=7)]
    at, score, verdict = (week_before or points)[-1]
    first = points[0][0]
    ago = (inputs.report.as_of.date() - at.date()).days
    return (
        f"Score {score_text(now.score)} ({verdict_badge(now.verdict).text}) now; "
        f"{score_text(score)} ({verdict_badge(verdict).text}) on {day(at)}, {ago} days "
        f"before; {len(points) + 1} instants since {day(first)}."
    )


def decision_view(inputs: PackInputs, item: InitiativeReport) -> DecisionView | None:
    """The last decision at or before T, with each condition's status at T; None without one."""
    mine = [d for d in inputs.decisions if d.initiative == item.id]
    record = compare.baseline_decision(mine, inputs.report.as_of)
    if record is None:
        return None
    today = inputs.report.as_of.date()
    rows = tuple(
        (
            c.text,
            c.owner,
            day(c.due),
            style.badge(style.CONDITION, condition_status(c, inputs.report, item.id, today)),
        )
        for c in record.conditions
    )
    summary = (
        f"{style.humane(record.outcome).capitalize()} ({style.humane(record.gate)} gate), "
        f"by {record.approver} on {day(record.at)}, on the report as of {when(record.as_of)} "
        f"(audit entry #{record.seq})."
    )
    return DecisionView(
        summary=summary,
        rationale=record.rationale,
        conditions=Table(
            cols("Condition", "Owner", "Due:nowrap", "Status:nowrap"),
            rows,
            empty="No conditions.",
        ),
    )
