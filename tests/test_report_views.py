"""Views over the report (pilotwatch/report/views.py): funnel, counts, dimension matrix."""

from __future__ import annotations

from metrics_helpers import blank_slo, config, report

from core.enums import Stage, Verdict
from core.report import Check, InitiativeReport, Report, SloEntry
from pilotwatch.report import views

# A complete initiative block; each item below changes only what its test is about.
_BLANK = Report.model_validate(report({}, config())).initiatives[0]


def _check(dimension: str, outcome: str) -> Check:
    return Check.model_validate(
        {
            "id": f"{dimension}-{outcome}",
            "metric": "slo_summary.defined",
            "value": None,
            "op": ">=",
            "threshold": 1.0,
            "outcome": outcome,
            "blocking": True,
            "weight": 1.0,
            "dimension": dimension,
            "remediation": "",
            "owner": None,
            "waiver": None,
        }
    )


def _slo(status: str) -> SloEntry:
    return SloEntry.model_validate(blank_slo(f"slo-{status}", status))


def _item(
    iid: str, stage: str, verdict: str, checks: list[tuple[str, str]], slos: list[str]
) -> InitiativeReport:
    return _BLANK.model_copy(
        update={
            "id": iid,
            "name": iid.upper(),
            "stage": Stage(stage),
            "readiness": _BLANK.readiness.model_copy(
                update={
                    "verdict": Verdict(verdict),
                    "checks": [_check(d, o) for d, o in checks],
                }
            ),
            "slos": [_slo(s) for s in slos],
        }
    )


ITEMS = [
    _item("a", "pilot", "go", [("reliability", "pass"), ("compliance", "pass")], ["healthy"]),
    _item(
        "b",
        "pilot",
        "no_go",
        [("reliability", "pass"), ("reliability", "fail"), ("compliance", "waived")],
        ["breached", "healthy", "at_risk"],
    ),
    _item(
        "c",
        "production",
        "conditional",
        [("data", "insufficient_data"), ("reliability", "waived")],
        [],
    ),
]


def test_stage_funnel_lists_every_stage_and_verdict() -> None:
    out = views.stage_funnel(ITEMS)
    counts = {(r["stage"], r["verdict"]): r["count"] for r in out.to_dicts()}
    assert out.height == 12
    assert out.get_column("stage").unique(maintain_order=True).to_list() == [
        "discovery",
        "pilot",
        "limited_production",
        "production",
    ]
    assert counts[("pilot", "go")] == 1
    assert counts[("pilot", "no_go")] == 1
    assert counts[("production", "conditional")] == 1
    assert counts[("discovery", "go")] == 0


def test_verdict_counts() -> None:
    out = views.verdict_counts(ITEMS)
    assert out.to_dicts() == [
        {"verdict": "go", "count": 1},
        {"verdict": "conditional", "count": 1},
        {"verdict": "no_go", "count": 1},
    ]


def test_slo_status_counts() -> None:
    out = views.slo_status_counts(ITEMS)
    assert out.to_dicts() == [
        {"initiative": "a", "healthy": 1, "at_risk": 0, "breached": 0, "no_data": 0},
        {"initiative": "b", "healthy": 1, "at_risk": 1, "breached": 1, "no_data": 0},
        {"initiative": "c", "healthy": 0, "at_risk": 0, "breached": 0, "no_data": 0},
    ]


def test_dimension_matrix_shows_the_worst_outcome() -> None:
    out = views.dimension_matrix(ITEMS)
    cells = {(r["initiative"], r["dimension"]): r for r in out.to_dicts()}
    assert out.get_column("dimension").unique(maintain_order=True).to_list() == [
        "reliability",
        "compliance",
        "data",
    ]
    assert cells[("a", "reliability")]["outcome"] == "pass"
    assert (cells[("b", "reliability")]["outcome"], cells[("b", "reliability")]["passed"]) == (
        "fail",
        1,
    )
    assert cells[("b", "reliability")]["checks"] == 2
    assert cells[("b", "compliance")]["outcome"] == "waived"
    assert cells[("c", "data")]["outcome"] == "insufficient_data"
    assert cells[("c", "compliance")]["outcome"] == "not_gated"
    assert cells[("a", "data")]["checks"] == 0
