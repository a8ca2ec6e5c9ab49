"""Steering comparisons (pilotwatch/report/compare.py) on small hand-written reports."""

from __future__ import annotations

from copy import deepcopy
from datetime import UTC, datetime
from typing import Any

from metrics_helpers import blank_slo, config, report

from core.report import Report
from pilotwatch.report import compare

# A complete initiative block and SLO row: each test writes only the fields it is about.
_BLANK = report({}, config())["initiatives"][0]
_BLANK_SLO = blank_slo()


def _merge(base: dict[str, Any], part: dict[str, Any]) -> dict[str, Any]:
    out = deepcopy(base)
    for key, value in part.items():
        is_dict = isinstance(value, dict) and isinstance(out.get(key), dict)
        out[key] = _merge(out[key], value) if is_dict else value
    return out


def _check(cid: str, metric: str, outcome: str, blocking: bool = True, **kw: Any) -> dict:
    return {
        "id": cid,
        "metric": metric,
        "value": kw.get("value"),
        "op": kw.get("op", "=="),
        "threshold": kw.get("threshold", 0),
        "outcome": outcome,
        "blocking": blocking,
        "weight": 1.0,
        "dimension": "x",
        "remediation": kw.get("remediation", f"fix {cid}"),
        "owner": kw.get("owner", "check owner"),
        "waiver": kw.get("waiver"),
    }


def _item(iid: str, verdict: str = "go", score: float | None = 100.0, **kw: Any) -> dict:
    return _merge(
        _BLANK,
        {
            "id": iid,
            "name": iid.title(),
            "owner": f"{iid} owner",
            "stage": "pilot",
            "readiness": {"verdict": verdict, "score": score, "checks": kw.get("checks", [])},
            "slos": kw.get("slos", []),
            "incidents": {
                "open_sev12": kw.get("open_sev12", 0),
                "patient_impacting": kw.get("pi", 0),
            },
            "compliance": {
                "gap_count": len(kw.get("gaps", [])),
                "gaps": [{"control": c, "status": s} for c, s in kw.get("gaps", [])],
            },
            "data": {"stale_sources": kw.get("stale", 0)},
        },
    )


def _slo(name: str, status: str, alerts: list[tuple[str, str, str]] | None = None) -> dict:
    return _merge(
        _BLANK_SLO,
        {
            "name": name,
            "status": status,
            "sli": 0.98,
            "target": 0.99,
            "alerts": [{"severity": s, "long": lg, "short": sh} for s, lg, sh in alerts or []],
        },
    )


def _report(items: list[dict], as_of: str = "2026-11-16T12:00:00Z") -> Report:
    return Report.model_validate({"schema": 1, "as_of": as_of, "initiatives": items, "sources": []})


def test_diff_reports_lists_each_kind_of_change() -> None:
    before = _report(
        [
            _item(
                "a",
                "go",
                100.0,
                slos=[_slo("a1", "healthy"), _slo("a2", "breached")],
                gaps=[("c1", "missing"), ("c2", "expired")],
            ),
            _item("b", "conditional", None),
            _item("gone", "go"),
        ]
    )
    after = _report(
        [
            _item(
                "a",
                "no_go",
                75.0,
                slos=[_slo("a1", "breached"), _slo("a2", "at_risk")],
                gaps=[("c1", "failing"), ("c3", "missing")],
            ),
            _item("b", "conditional", 80.0),
            _item("new", "go"),
        ]
    )
    diff = compare.diff_reports(before, after)
    assert diff["verdicts"] == [{"initiative": "a", "name": "A", "before": "go", "after": "no_go"}]
    assert diff["scores"] == [
        {"initiative": "a", "name": "A", "before": 100.0, "after": 75.0, "delta": -25.0},
        {"initiative": "b", "name": "B", "before": None, "after": 80.0, "delta": None},
    ]
    assert diff["new_breaches"] == [
        {"initiative": "a", "name": "A", "slo": "a1", "before": "healthy"}
    ]
    assert diff["recovered"] == [{"initiative": "a", "name": "A", "slo": "a2", "after": "at_risk"}]
    assert diff["new_gaps"] == [
        {"initiative": "a", "name": "A", "control": "c1", "status": "failing", "before": "missing"},
        {"initiative": "a", "name": "A", "control": "c3", "status": "missing", "before": None},
    ]
    assert diff["closed_gaps"] == [
        {"initiative": "a", "name": "A", "control": "c2", "before": "expired"}
    ]
    assert diff["new_initiatives"] == [{"initiative": "new", "name": "New"}]


def test_diff_of_a_report_with_itself_is_empty() -> None:
    rep = _report([_item("a", slos=[_slo("s", "breached")], gaps=[("c", "missing")])])
    diff = compare.diff_reports(rep, deepcopy(rep))
    assert all(v == [] for v in diff.values())


def test_top_risks_order_and_dedup() -> None:
    waiver = {"reason": "booked", "approver": "CISO", "expires_on": "2026-12-01T00:00:00Z"}
    far = {"reason": "later", "approver": "CFO", "expires_on": "2027-06-01T00:00:00Z"}
    rep = _report(
        [
            _item(
                "calm",
                "conditional",
                90.0,
                checks=[
                    _check("w-soon", "delivery.change_failure_rate", "waived", waiver=waiver),
                    _check("w-far", "delivery.recovery_time_hours_median", "waived", waiver=far),
                    _check("nodata", "delivery.deploy_days_per_week_median", "insufficient_data"),
                ],
                stale=1,
            ),
            _item(
                "hot",
                "no_go",
                50.0,
                checks=[
                    _check("no-breach", "slo_summary.breached", "fail", value=1.0),
                    _check("soft", "compliance.gap_count", "fail", blocking=False, value=2.0),
                ],
                slos=[_slo("s1", "breached", [("page", "1h", "5m"), ("ticket", "1d", "2h")])],
                open_sev12=2,
                gaps=[("c1", "missing"), ("c2", "failing")],
                pi=1,
            ),
        ]
    )
    risks = compare.top_risks(rep, limit=20)
    got = [(r["initiative"], r["kind"]) for r in risks]
    assert got == [
        ("hot", "patient_impact"),
        ("hot", "blocker"),
        ("hot", "page_alert"),
        # the breached SLO is named by the blocker on slo_summary.breached: not repeated
        ("hot", "open_sev12"),
        ("hot", "compliance_gap"),  # its check is not blocking, so it is listed
        ("calm", "waiver_expiring"),  # 15 days left (w-far is months away)
        ("calm", "stale_source"),
        ("calm", "insufficient_data"),
    ]
    blocker = risks[1]
    assert blocker["title"] == "Gate blocker no-breach: slo_summary.breached = 1 (needs == 0)"
    assert blocker["detail"] == "fix no-breach"
    assert blocker["owner"] == "check owner"
    assert risks[2]["title"] == "Paging burn rate on s1 (1h/5m)"
    assert risks[4]["detail"] == "c1, c2"
    assert risks[5]["owner"] == "CISO"
    assert risks[6]["owner"] == "calm owner"  # falls back to the initiative owner
    assert [r["kind"] for r in compare.top_risks(rep, limit=2)] == ["patient_impact", "blocker"]
    assert {r["initiative"] for r in compare.top_risks(rep, ids=["calm"])} == {"calm"}


def test_top_risks_breached_slo_listed_without_a_blocker() -> None:
    rep = _report([_item("a", slos=[_slo("s1", "breached"), _slo("s2", "healthy")])])
    risks = compare.top_risks(rep)
    assert [(r["kind"], r["title"]) for r in risks] == [
        ("breached_slo", "SLO s1 breached (SLI 0.98 < target 0.99)")
    ]


def test_as_of_parsing_is_utc() -> None:
    assert _report([]).as_of == datetime(2026, 11, 16, 12, tzinfo=UTC)
