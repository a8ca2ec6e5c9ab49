"""Steering-review views over schema-1 reports: what changed between two as-of instants (or
since a decision's frozen report), and the top risks of one report (docs/dashboard.md). Report
models in, dicts of plain values out; the numbers are the reports' own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from pydantic import ValidationError

from core.enums import AlertSeverity, CheckOutcome, SloStatus, Verdict
from core.report import InitiativeReport, Report, iso

VERDICT_ORDER = {Verdict.NO_GO: 0, Verdict.CONDITIONAL: 1, Verdict.GO: 2}

# Risk kinds, most urgent first (the rank sorts the list; see docs/dashboard.md).
RISK_RANK = {
    "patient_impact": 0,
    "blocker": 1,
    "page_alert": 2,
    "breached_slo": 3,
    "open_sev12": 3,
    "compliance_gap": 4,
    "waiver_expiring": 5,
    "stale_source": 5,
    "insufficient_data": 6,
}
# A blocker on one of these metrics already names the risk: its detail items are not repeated.
_COVERED_BY = {
    "breached_slo": "slo_summary.breached",
    "open_sev12": "incidents.open_sev12",
    "compliance_gap": "compliance.gap_count",
    "stale_source": "data.stale_sources",
}


def _gaps(item: InitiativeReport) -> dict[str, str]:
    return {g.control: g.status.value for g in item.compliance.gaps}


def _slo_status(item: InitiativeReport) -> dict[str, str]:
    return {s.name: s.status.value for s in item.slos}


def diff_reports(before: Report, after: Report) -> dict[str, Any]:
    """What changed from `before` to `after`, per initiative present in `after`.

    Returns lists: verdicts (changed verdicts), scores (changed scores, with delta), new_breaches
    (SLOs breached now, not before), recovered (breached before, not now), new_gaps (controls in
    gap now, not before, or in a different gap status), closed_gaps, and new_initiatives.
    """
    old = {item.id: item for item in before.initiatives}
    out: dict[str, list[dict[str, Any]]] = {
        "verdicts": [],
        "scores": [],
        "new_breaches": [],
        "recovered": [],
        "new_gaps": [],
        "closed_gaps": [],
        "new_initiatives": [],
    }
    breached = SloStatus.BREACHED.value
    for item in after.initiatives:
        iid, name = item.id, item.name
        prev = old.get(iid)
        if prev is None:
            out["new_initiatives"].append({"initiative": iid, "name": name})
            continue
        v0, v1 = prev.readiness.verdict.value, item.readiness.verdict.value
        if v0 != v1:
            out["verdicts"].append({"initiative": iid, "name": name, "before": v0, "after": v1})
        s0, s1 = prev.readiness.score, item.readiness.score
        if s0 != s1:
            delta = None if s0 is None or s1 is None else s1 - s0
            out["scores"].append(
                {"initiative": iid, "name": name, "before": s0, "after": s1, "delta": delta}
            )
        was, now = _slo_status(prev), _slo_status(item)
        for slo, status in now.items():
            if status == breached and was.get(slo) != breached:
                out["new_breaches"].append(
                    {"initiative": iid, "name": name, "slo": slo, "before": was.get(slo)}
                )
        for slo, status in was.items():
            if status == breached and now.get(slo) != breached:
                out["recovered"].append(
                    {"initiative": iid, "name": name, "slo": slo, "after": now.get(slo)}
                )
        g0, g1 = _gaps(prev), _gaps(item)
        for control, status in g1.items():
            if g0.get(control) != status:
                out["new_gaps"].append(
                    {
                        "initiative": iid,
                        "name": name,
                        "control": control,
                        "status": status,
                        "before": g0.get(control),
                    }
                )
        for control, status in g0.items():
            if control not in g1:
                out["closed_gaps"].append(
                    {"initiative": iid, "name": name, "control": control, "before": status}
                )
    return out


class _Decided(Protocol):
    @property
    def as_of(self) -> datetime: ...


D = TypeVar("D", bound=_Decided)


def baseline_decision(records: Sequence[D], as_of: datetime) -> D | None:
    """The newest decision made on a report as of at or before `as_of` (records newest last).

    A decision on a later as-of is no baseline for an earlier view (docs/governance.md).
    """
    fitting = [r for r in records if r.as_of <= as_of]
    return fitting[-1] if fitting else None


class FrozenReportError(ValueError):
    """A decision's frozen report section that no longer reads as an initiative report."""


def frozen_initiative(frozen: Mapping[str, Any]) -> InitiativeReport:
    """A decision's frozen initiative section (the report's JSON form) read back as the model.

    Raises FrozenReportError naming the first field that does not read (docs/governance.md,
    "Sign-off in the app": such a decision is then not used as a baseline).
    """
    try:
        return InitiativeReport.model_validate(dict(frozen))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise FrozenReportError(f"frozen report, field {where}: {first['msg']}") from None


def with_baselines(
    before: Report | None, frozen: Mapping[str, InitiativeReport], as_of: datetime
) -> Report:
    """The baseline report: `before`'s initiatives, each in `frozen` replaced by its frozen section.

    Initiatives only in `frozen` are added; `as_of` is used when there is no `before` report.
    The order is `before`'s, then the added ones in `frozen`'s order.
    """
    items = [frozen.get(item.id, item) for item in (before.initiatives if before else [])]
    present = {item.id for item in items}
    items += [item for iid, item in frozen.items() if iid not in present]
    if before is None:
        return Report(as_of=as_of, initiatives=items, sources=[])
    return before.model_copy(update={"initiatives": items})


def _risk(
    item: InitiativeReport, kind: str, title: str, detail: str, owner: str | None
) -> dict[str, Any]:
    return {
        "initiative": item.id,
        "name": item.name,
        "verdict": item.readiness.verdict.value,
        "kind": kind,
        "rank": RISK_RANK[kind],
        "title": title,
        "detail": detail,
        "owner": owner or item.owner,
    }


def _fmt(value: Any) -> str:
    if value is None:
        return "no value"
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return str(value)


def initiative_risks(
    item: InitiativeReport, as_of: datetime, waiver_days: int = 30
) -> list[dict[str, Any]]:
    """Every risk signal of one initiative's report block (unsorted)."""
    risks: list[dict[str, Any]] = []
    checks = item.readiness.checks
    failed = [c for c in checks if c.blocking and c.outcome == CheckOutcome.FAIL]
    blocked_metrics = {c.metric for c in failed}
    impact = item.incidents.patient_impacting
    if impact:
        risks.append(
            _risk(
                item,
                "patient_impact",
                f"{impact} patient-impacting incident(s) in the delivery window",
                "Review each incident's patient-safety follow-up.",
                None,
            )
        )
    for c in checks:
        if c.blocking and c.outcome == CheckOutcome.FAIL:
            risks.append(
                _risk(
                    item,
                    "blocker",
                    f"Gate blocker {c.id}: {c.metric} = {_fmt(c.value)} "
                    f"(needs {c.op.value} {_fmt(c.threshold)})",
                    c.remediation,
                    c.owner,
                )
            )
        elif c.blocking and c.outcome == CheckOutcome.INSUFFICIENT_DATA:
            risks.append(
                _risk(
                    item,
                    "insufficient_data",
                    f"Blocking check {c.id} has no data ({c.metric})",
                    c.remediation,
                    c.owner,
                )
            )
        elif c.outcome == CheckOutcome.WAIVED and c.waiver is not None:
            until = c.waiver.expires_on
            if until - as_of <= timedelta(days=waiver_days):
                risks.append(
                    _risk(
                        item,
                        "waiver_expiring",
                        f"Waiver for {c.id} expires {iso(until)}",
                        c.waiver.reason,
                        c.waiver.approver,
                    )
                )
    for slo in item.slos:
        pages = [a for a in slo.alerts if a.severity == AlertSeverity.PAGE]
        if pages:
            pairs = ", ".join(f"{a.long}/{a.short}" for a in pages)
            risks.append(
                _risk(
                    item,
                    "page_alert",
                    f"Paging burn rate on {slo.name} ({pairs})",
                    "The error budget is burning fast right now.",
                    None,
                )
            )
    covered = {kind for kind, metric in _COVERED_BY.items() if metric in blocked_metrics}
    if "breached_slo" not in covered:
        for slo in item.slos:
            if slo.status == SloStatus.BREACHED:
                risks.append(
                    _risk(
                        item,
                        "breached_slo",
                        f"SLO {slo.name} breached (SLI {_fmt(slo.sli)} < "
                        f"target {_fmt(slo.target)})",
                        "",
                        None,
                    )
                )
    open12 = item.incidents.open_sev12
    if open12 and "open_sev12" not in covered:
        risks.append(_risk(item, "open_sev12", f"{open12} open severity 1-2 incident(s)", "", None))
    gaps = item.compliance.gap_count
    if gaps and "compliance_gap" not in covered:
        names = ", ".join(g.control for g in item.compliance.gaps)
        risks.append(_risk(item, "compliance_gap", f"{gaps} compliance gap(s)", names, None))
    stale = item.data.stale_sources
    if stale and "stale_source" not in covered:
        risks.append(
            _risk(
                item,
                "stale_source",
                f"{stale} stale data source(s)",
                "Decisions use old data.",
                None,
            )
        )
    return risks


def top_risks(
    report: Report, limit: int = 10, ids: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The most urgent risks across the report (or the initiatives `ids`).

    Sorted by kind rank, then verdict (no_go first), then the report's initiative order.
    """
    order = {item.id: n for n, item in enumerate(report.initiatives)}
    chosen = [i for i in report.initiatives if ids is None or i.id in set(ids)]
    risks = [r for item in chosen for r in initiative_risks(item, report.as_of)]
    risks.sort(
        key=lambda r: (r["rank"], VERDICT_ORDER.get(r["verdict"], 3), order[r["initiative"]])
    )
    return risks[:limit]
