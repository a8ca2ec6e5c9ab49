"""The schema-1 report (docs/metrics.md, "The report (JSON)") built from the Portfolio frames."""

from __future__ import annotations

import json
import math
from typing import Any

import polars as pl

from core.report import (
    Alert,
    Blocker,
    BurnRates,
    Check,
    CheckWaiver,
    Compliance,
    DataHealth,
    Delivery,
    DeliveryCounts,
    DoraLevels,
    Expiring,
    Gap,
    Incidents,
    InitiativeReport,
    OpenBySeverity,
    Outcome,
    OutcomesSummary,
    Readiness,
    Report,
    SloEntry,
    SloSummary,
    SourceEntry,
)
from metrics.portfolio import Portfolio
from metrics.slo import ALERT_PAIRS, alert_column, burn_column
from metrics.timewin import BURN_WINDOWS

DELIVERY_VALUES = (
    "deployments",
    "deployment_frequency_per_day",
    "deploy_days_per_week_median",
    "deploy_days_per_month_median",
    "lead_time_hours_median",
    "change_failure_rate",
    "recovery_time_hours_median",
    "unlinked_incidents",
)


def num(value: Any) -> Any:
    """A JSON number, or None for missing / NaN / infinite values."""
    if value is None:
        return None
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


def _rows(frame: pl.DataFrame, initiative: str) -> list[dict[str, Any]]:
    return frame.filter(pl.col("initiative") == initiative).to_dicts()


def _one(frame: pl.DataFrame, initiative: str) -> dict[str, Any]:
    rows = _rows(frame, initiative)
    return rows[0] if rows else {}


def slo_entry(row: dict[str, Any]) -> SloEntry:
    """One SLO as the report shows it."""
    return SloEntry(
        name=row["slo"],
        sli_type=row["sli_type"],
        target=num(row["target"]),
        window=row["window"],
        budgeting=row["budgeting"],
        good=row["good"],
        total=row["total"],
        sli=num(row["sli"]),
        budget_remaining=num(row["budget_remaining"]),
        budget_consumed=num(row["budget_consumed"]),
        burn_rates=BurnRates.model_validate({w: num(row[burn_column(w)]) for w in BURN_WINDOWS}),
        alerts=[
            Alert(severity=p.severity, long=p.long, short=p.short)
            for p in ALERT_PAIRS
            if row[alert_column(p.severity, p.long, p.short)]
        ],
        status=row["status"],
        one_bad_event_budget_share=num(row["one_bad_event_budget_share"]),
        low_traffic=row["low_traffic"],
        timezone=row["timezone"],
        threshold_ms=num(row["threshold_ms"]),
        threshold_op=row["threshold_op"],
        estimate=row["estimate"],
    )


def delivery_entry(row: dict[str, Any]) -> Delivery:
    """The DORA block with levels and the n behind each value."""
    return Delivery(
        **{k: num(row.get(k)) for k in DELIVERY_VALUES},
        levels=DoraLevels(
            frequency=row.get("level_frequency"),
            lead_time=row.get("level_lead_time"),
            change_failure=row.get("level_change_failure"),
            recovery=row.get("level_recovery"),
        ),
        n=DeliveryCounts(
            deployments=row.get("deployments"),
            failed_deployments=row.get("failed_deployments"),
            lead_time=row.get("lead_time_n"),
            recovery=row.get("recovery_n"),
        ),
    )


def incidents_entry(row: dict[str, Any]) -> Incidents:
    """Open incidents by severity, MTTA, MTTR and patient impact."""
    return Incidents(
        open_by_severity=OpenBySeverity.model_validate(
            {str(s): row.get(f"open_sev{s}", 0) for s in (1, 2, 3, 4)}
        ),
        open_sev12=row.get("open_sev12", 0),
        mtta_minutes=num(row.get("mtta_minutes")),
        mttr_hours=num(row.get("mttr_hours")),
        patient_impacting=row.get("patient_impacting", 0),
    )


def outcome_entry(row: dict[str, Any]) -> Outcome:
    """One KPI; a suppressed value is already null in the frame."""
    return Outcome(
        kpi=row["kpi"],
        kind=row["kind"],
        value=num(row["value"]),
        target=num(row["target"]),
        baseline=num(row["baseline"]),
        unit=row["unit"],
        direction=row["direction"],
        status=row["status"],
        period_end=row["period_end"],
    )


def check_entry(row: dict[str, Any]) -> Check:
    """One gate check with its outcome (and its waiver when waived)."""
    waived = row["outcome"] == "waived"
    return Check(
        id=row["check"],
        metric=row["metric"],
        value=num(row["value"]),
        op=row["op"],
        threshold=num(row["threshold"]),
        outcome=row["outcome"],
        blocking=row["blocking"],
        weight=row["weight"],
        dimension=row["dimension"],
        remediation=row["remediation"],
        owner=row["owner"],
        waiver=CheckWaiver(
            reason=row["waiver_reason"],
            approver=row["waiver_approver"],
            expires_on=row["waiver_expires"],
        )
        if waived
        else None,
    )


def _readiness(portfolio: Portfolio, iid: str) -> Readiness:
    verdict = _one(portfolio.readiness, iid)
    checks = _rows(portfolio.checks, iid)
    return Readiness(
        verdict=verdict.get("verdict"),
        score=num(verdict.get("score")),
        blockers=[
            Blocker(check=c["check"], remediation=c["remediation"])
            for c in checks
            if c["blocking"] and c["outcome"] == "fail"
        ],
        blocker_count=verdict.get("blocking_failed", 0),
        checks=[check_entry(c) for c in checks],
    )


def _compliance(portfolio: Portfolio, iid: str) -> Compliance:
    summary = _one(portfolio.compliance, iid)
    controls = _rows(portfolio.controls, iid)
    return Compliance(
        required=summary.get("required", 0),
        coverage=num(summary.get("coverage")),
        gap_count=summary.get("gap_count", 0),
        expiring_count=summary.get("expiring_count", 0),
        gaps=[Gap(control=c["control"], status=c["status"]) for c in controls if c["gap"]],
        expiring=[
            Expiring(control=c["control"], expires_at=c["expiry"])
            for c in controls
            if c["expiring"]
        ],
    )


def initiative_entry(portfolio: Portfolio, info: dict[str, Any]) -> InitiativeReport:
    """Everything the report says about one initiative."""
    iid = info["initiative"]
    summary = _one(portfolio.slo_summary, iid)
    serving = portfolio.freshness.filter(pl.col("serves").list.contains(iid))
    return InitiativeReport(
        id=iid,
        name=info["name"],
        stage=info["stage"],
        gate=info["gate"],
        owner=info["owner"],
        sponsor=info["sponsor"],
        clinical_area=info["clinical_area"],
        readiness=_readiness(portfolio, iid),
        slos=[slo_entry(r) for r in _rows(portfolio.slos, iid)],
        slo_summary=SloSummary(
            defined=summary.get("defined", 0),
            breached=summary.get("breached", 0),
            min_budget_remaining=num(summary.get("min_budget_remaining")),
        ),
        delivery=delivery_entry(_one(portfolio.delivery, iid)),
        incidents=incidents_entry(_one(portfolio.incidents, iid)),
        outcomes=[outcome_entry(r) for r in _rows(portfolio.outcomes, iid)],
        outcomes_summary=OutcomesSummary(
            on_track_share=num(_one(portfolio.outcomes_summary, iid).get("on_track_share"))
        ),
        compliance=_compliance(portfolio, iid),
        data=DataHealth(
            stale_sources=_one(portfolio.data, iid).get("stale_sources", 0),
            sources=serving.get_column("source").to_list(),
        ),
    )


def build_report(portfolio: Portfolio) -> Report:
    """The schema-1 report for every initiative, in configuration order."""
    return Report(
        as_of=portfolio.as_of,
        initiatives=[
            initiative_entry(portfolio, info) for info in portfolio.initiatives.to_dicts()
        ],
        sources=[
            SourceEntry(
                source=r["source"],
                newest=r["newest"],
                freshness_seconds=r["freshness_seconds"],
                stale=r["stale"],
                serves=r["serves"],
            )
            for r in portfolio.freshness.to_dicts()
        ],
    )


def dumps(report: Report | dict[str, Any]) -> str:
    """Stable JSON text (sorted nowhere: the model's field order is the reading order)."""
    # a JSON-shaped dict too: the report-JSON tests dump the dict they check key by key
    data = report.to_jsonable() if isinstance(report, Report) else report
    return json.dumps(data, indent=2, allow_nan=False) + "\n"
