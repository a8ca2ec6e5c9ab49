"""The schema-1 report: the SPEC's JSON, built only from the computed Portfolio frames."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from metrics.portfolio import Portfolio
from metrics.slo import ALERT_PAIRS, alert_column, burn_column
from metrics.timewin import BURN_WINDOWS

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("schema") / "report.schema.json"


def iso(value: datetime | None) -> str | None:
    """ISO 8601 UTC with `Z` (fractional seconds only when present)."""
    if value is None:
        return None
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


def num(value: Any) -> Any:
    """A JSON number, or null for missing / NaN / infinite values."""
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


def slo_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One SLO as the report shows it."""
    return {
        "name": row["slo"],
        "sli_type": row["sli_type"],
        "target": num(row["target"]),
        "window": row["window"],
        "budgeting": row["budgeting"],
        "good": row["good"],
        "total": row["total"],
        "sli": num(row["sli"]),
        "budget_remaining": num(row["budget_remaining"]),
        "budget_consumed": num(row["budget_consumed"]),
        "burn_rates": {w: num(row[burn_column(w)]) for w in BURN_WINDOWS},
        "alerts": [
            {"severity": sev, "long": long, "short": short}
            for sev, long, short, _ in ALERT_PAIRS
            if row[alert_column(sev, long, short)]
        ],
        "status": row["status"],
        "one_bad_event_budget_share": num(row["one_bad_event_budget_share"]),
        "low_traffic": row["low_traffic"],
    }


def delivery_entry(row: dict[str, Any]) -> dict[str, Any]:
    """The DORA block with levels and the n behind each value."""
    keys = (
        "deployments",
        "deployment_frequency_per_day",
        "deploy_days_per_week_median",
        "deploy_days_per_month_median",
        "lead_time_hours_median",
        "change_failure_rate",
        "recovery_time_hours_median",
        "unlinked_incidents",
    )
    out: dict[str, Any] = {k: num(row.get(k)) for k in keys}
    out["levels"] = {
        "frequency": row.get("level_frequency"),
        "lead_time": row.get("level_lead_time"),
        "change_failure": row.get("level_change_failure"),
        "recovery": row.get("level_recovery"),
    }
    out["n"] = {
        "deployments": row.get("deployments"),
        "failed_deployments": row.get("failed_deployments"),
        "lead_time": row.get("lead_time_n"),
        "recovery": row.get("recovery_n"),
    }
    return out


def incidents_entry(row: dict[str, Any]) -> dict[str, Any]:
    """Open incidents by severity, MTTA, MTTR and patient impact."""
    return {
        "open_by_severity": {str(s): row.get(f"open_sev{s}", 0) for s in (1, 2, 3, 4)},
        "open_sev12": row.get("open_sev12", 0),
        "mtta_minutes": num(row.get("mtta_minutes")),
        "mttr_hours": num(row.get("mttr_hours")),
        "patient_impacting": row.get("patient_impacting", 0),
    }


def outcome_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One KPI; a suppressed value is already null in the frame."""
    return {
        "kpi": row["kpi"],
        "kind": row["kind"],
        "value": num(row["value"]),
        "target": num(row["target"]),
        "baseline": num(row["baseline"]),
        "unit": row["unit"],
        "direction": row["direction"],
        "status": row["status"],
        "period_end": iso(row["period_end"]),
    }


def check_entry(row: dict[str, Any]) -> dict[str, Any]:
    """One gate check with its outcome."""
    return {
        "id": row["check"],
        "metric": row["metric"],
        "value": num(row["value"]),
        "op": row["op"],
        "threshold": num(row["threshold"]),
        "outcome": row["outcome"],
        "blocking": row["blocking"],
        "weight": row["weight"],
        "dimension": row["dimension"],
        "remediation": row["remediation"],
        "owner": row["owner"],
        "waiver": None
        if row["outcome"] != "waived"
        else {
            "reason": row["waiver_reason"],
            "approver": row["waiver_approver"],
            "expires_on": iso(row["waiver_expires"]),
        },
    }


def initiative_entry(portfolio: Portfolio, info: dict[str, Any]) -> dict[str, Any]:
    """Everything the report says about one initiative."""
    iid = info["initiative"]
    verdict = _one(portfolio.readiness, iid)
    checks = _rows(portfolio.checks, iid)
    summary = _one(portfolio.slo_summary, iid)
    compliance = _one(portfolio.compliance, iid)
    controls = _rows(portfolio.controls, iid)
    return {
        "id": iid,
        "name": info["name"],
        "stage": info["stage"],
        "gate": info["gate"],
        "owner": info["owner"],
        "sponsor": info["sponsor"],
        "clinical_area": info["clinical_area"],
        "readiness": {
            "verdict": verdict.get("verdict"),
            "score": num(verdict.get("score")),
            "blockers": [
                {"check": c["check"], "remediation": c["remediation"]}
                for c in checks
                if c["blocking"] and c["outcome"] == "fail"
            ],
            "blocker_count": verdict.get("blocking_failed", 0),
            "checks": [check_entry(c) for c in checks],
        },
        "slos": [slo_entry(r) for r in _rows(portfolio.slos, iid)],
        "slo_summary": {
            "defined": summary.get("defined", 0),
            "breached": summary.get("breached", 0),
            "min_budget_remaining": num(summary.get("min_budget_remaining")),
        },
        "delivery": delivery_entry(_one(portfolio.delivery, iid)),
        "incidents": incidents_entry(_one(portfolio.incidents, iid)),
        "outcomes": [outcome_entry(r) for r in _rows(portfolio.outcomes, iid)],
        "outcomes_summary": {
            "on_track_share": num(_one(portfolio.outcomes_summary, iid).get("on_track_share"))
        },
        "compliance": {
            "required": compliance.get("required", 0),
            "coverage": num(compliance.get("coverage")),
            "gap_count": compliance.get("gap_count", 0),
            "expiring_count": compliance.get("expiring_count", 0),
            "gaps": [
                {"control": c["control"], "status": c["status"]} for c in controls if c["gap"]
            ],
            "expiring": [
                {"control": c["control"], "expires_at": iso(c["expiry"])}
                for c in controls
                if c["expiring"]
            ],
        },
        "data": {
            "stale_sources": _one(portfolio.data, iid).get("stale_sources", 0),
            "sources": [
                r["source"]
                for r in portfolio.freshness.filter(pl.col("serves").list.contains(iid)).to_dicts()
            ],
        },
    }


def build_report(portfolio: Portfolio) -> dict[str, Any]:
    """The schema-1 report for every initiative, in configuration order."""
    return {
        "schema": SCHEMA_VERSION,
        "as_of": iso(portfolio.as_of),
        "initiatives": [
            initiative_entry(portfolio, info) for info in portfolio.initiatives.to_dicts()
        ],
        "sources": [
            {
                "source": r["source"],
                "newest": iso(r["newest"]),
                "freshness_seconds": r["freshness_seconds"],
                "stale": r["stale"],
                "serves": r["serves"],
            }
            for r in portfolio.freshness.to_dicts()
        ],
    }


def dumps(report: dict[str, Any]) -> str:
    """Stable JSON text (sorted nowhere: the schema's order is the reading order)."""
    return json.dumps(report, indent=2, allow_nan=False) + "\n"
