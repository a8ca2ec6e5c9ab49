"""Readiness worked out by hand from SPEC.md (Metrics > Readiness) and the Stages section."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl
import pytest
from metrics_helpers import INIT, MIN, T, check, config, entry, initiative, report, waiver

from metrics.readiness import evaluate_checks, gate_checks, verdicts

VALUE_SCHEMA = {"initiative": pl.String(), "metric": pl.String(), "value": pl.Float64()}


def values(metrics: dict[str, float | None], iid: str = INIT) -> pl.DataFrame:
    rows = [{"initiative": iid, "metric": m, "value": v} for m, v in metrics.items()]
    return pl.DataFrame(rows, schema=VALUE_SCHEMA)


def evaluate(checks: list, metrics: dict, waivers: list | None = None, as_of: datetime = T):
    frame = gate_checks([initiative(stage="production")], {"production": checks})
    return evaluate_checks(frame, values(metrics), waivers or [], as_of)


def outcomes(evaluated: pl.DataFrame) -> dict[str, str]:
    return dict(zip(evaluated["check"], evaluated["outcome"], strict=True))


@pytest.mark.parametrize(
    ("op", "value", "threshold", "expected"),
    [
        (">=", 1.0, 1.0, "pass"),
        (">=", 0.99, 1.0, "fail"),
        ("<=", 0.15, 0.15, "pass"),
        ("<=", 0.16, 0.15, "fail"),
        ("==", 0.0, 0.0, "pass"),
        ("==", 1.0, 0.0, "fail"),
        ("!=", 1.0, 0.0, "pass"),
        (">", 1.0, 1.0, "fail"),
        ("<", 0.5, 1.0, "pass"),
        (">=", None, 1.0, "insufficient_data"),
        ("==", None, 0.0, "insufficient_data"),
    ],
)
def test_check_outcomes(op: str, value: float | None, threshold: float, expected: str) -> None:
    got = evaluate([check("c", "m", op, threshold)], {"m": value})
    assert outcomes(got) == {"c": expected}


def test_metric_missing_entirely_is_insufficient_data() -> None:
    assert outcomes(evaluate([check("c", "nowhere", ">=", 1)], {})) == {"c": "insufficient_data"}


@pytest.mark.parametrize(
    ("expires_on", "as_of", "expected"),
    [
        # a date means 00:00 UTC of that day: on the day of T (T later that day) it has expired
        (date(2025, 3, 15), T, "fail"),
        (date(2025, 3, 16), T, "waived"),
        # T exactly at 00:00 of expires_on: not after T
        (date(2025, 3, 15), datetime(2025, 3, 15, tzinfo=UTC), "fail"),
        (date(2025, 3, 15), datetime(2025, 3, 14, 23, 59, tzinfo=UTC), "waived"),
        (T, T, "fail"),
        (T + MIN, T, "waived"),
        (datetime(2025, 3, 15, 12, 1), T, "waived"),  # naive datetime: read as UTC
    ],
)
def test_waiver_expiry(expires_on: object, as_of: datetime, expected: str) -> None:
    got = evaluate([check("c", "m", ">=", 1)], {"m": 0.0}, [waiver("c", expires_on)], as_of)
    assert outcomes(got) == {"c": expected}


def test_waiver_only_changes_failing_checks_of_its_initiative() -> None:
    checks = [
        check("passing", "m1", ">=", 1),
        check("unknown", "m2", ">=", 1),
        check("other", "m3", ">=", 1),
    ]
    future = date(2025, 6, 1)
    ws = [waiver("passing", future), waiver("unknown", future), waiver("other", future, iid="beta")]
    got = evaluate(checks, {"m1": 2.0, "m2": None, "m3": 0.0}, ws)
    assert outcomes(got) == {"passing": "pass", "unknown": "insufficient_data", "other": "fail"}


def _verdict(rows: list[tuple[str, bool, float]]) -> dict:
    """(outcome, blocking, weight) rows for INIT -> its verdict row."""
    evaluated = pl.DataFrame(
        [{"initiative": INIT, "outcome": o, "blocking": b, "weight": w} for o, b, w in rows],
        schema={
            "initiative": pl.String(),
            "outcome": pl.String(),
            "blocking": pl.Boolean(),
            "weight": pl.Float64(),
        },
    )
    return verdicts(evaluated, [INIT]).row(0, named=True)


def test_score_with_weights() -> None:
    # credited: pass 3 + waived 2 = 5; scored: 3 + fail 1 + 2 = 6 (insufficient not scored)
    got = _verdict(
        [
            ("pass", False, 3),
            ("fail", False, 1),
            ("waived", False, 2),
            ("insufficient_data", False, 5),
        ]
    )
    assert got["score"] == pytest.approx(500 / 6, rel=1e-12)
    assert got["verdict"] == "go"


def test_score_null_when_nothing_scorable() -> None:
    got = _verdict([("insufficient_data", True, 1), ("insufficient_data", False, 4)])
    assert got["score"] is None
    assert got["verdict"] == "conditional"  # a blocking check has insufficient data


@pytest.mark.parametrize(
    ("rows", "score", "verdict"),
    [
        # a failing blocking check is no_go whatever the score
        ([("pass", False, 9), ("fail", True, 1)], 90.0, "no_go"),
        ([("fail", True, 1), ("waived", True, 1)], 50.0, "no_go"),
        # a waived blocking check is conditional
        ([("pass", True, 9), ("waived", True, 1)], 100.0, "conditional"),
        # a blocking check without data is conditional
        ([("pass", True, 9), ("insufficient_data", True, 1)], 100.0, "conditional"),
        # score below 70 is conditional: 2 / 3
        ([("pass", True, 2), ("fail", False, 1)], 200 / 3, "conditional"),
        # exactly 70 is go: 7 / 10
        ([("pass", True, 7), ("fail", False, 3)], 70.0, "go"),
        ([("pass", True, 1), ("insufficient_data", False, 1)], 100.0, "go"),
    ],
)
def test_verdicts(rows: list, score: float, verdict: str) -> None:
    got = _verdict(rows)
    assert got["score"] == pytest.approx(score, rel=1e-12)
    assert got["verdict"] == verdict


def test_gate_is_the_next_stage_production_stays() -> None:
    gates = {
        "pilot": [check("p", "m", ">=", 1)],
        "limited_production": [check("lp", "m", ">=", 1)],
        "production": [check("prod", "m", ">=", 1)],
    }
    inits = [
        initiative("d", "discovery"),
        initiative("p", "pilot"),
        initiative("l", "limited_production"),
        initiative("x", "production"),
    ]
    got = gate_checks(inits, gates)
    pairs = sorted(zip(got["initiative"], got["gate"], got["check"], strict=True))
    assert pairs == [
        ("d", "pilot", "p"),
        ("l", "production", "prod"),
        ("p", "limited_production", "lp"),
        ("x", "production", "prod"),
    ]


def test_readiness_end_to_end_blockers_and_checks() -> None:
    # Empty tables: defined 0, breached 0, min budget null, open sev12 0, gap_count 0,
    # change failure rate null, deploy days/week median 0, stale sources 0, deployments 0.
    gates = {
        "production": [
            check(
                "slo_defined",
                "slo_summary.defined",
                ">=",
                1,
                blocking=True,
                remediation="Define an SLO",
            ),
            check("no_breach", "slo_summary.breached", "==", 0, blocking=True),
            check("min_budget", "slo_summary.min_budget_remaining", ">=", 0.25, blocking=True),
            check("cfr", "delivery.change_failure_rate", "<=", 0.15, blocking=True, weight=2),
            check(
                "ddpw",
                "delivery.deploy_days_per_week_median",
                ">=",
                1,
                weight=2,
                remediation="Ship weekly",
            ),
            check("sev12", "incidents.open_sev12", "==", 0, blocking=True),
            check("stale", "data.stale_sources", "==", 0, blocking=True),
            check("deploys", "delivery.deployments", ">=", 1, blocking=True, remediation="Ship"),
        ],
        "limited_production": [check("never", "slo_summary.defined", ">=", 99, blocking=True)],
    }
    cfg = config(gates=gates, waivers=[waiver("deploys", date(2025, 4, 1))])
    r = entry(report({}, cfg))["readiness"]
    got = {c["id"]: (c["value"], c["outcome"]) for c in r["checks"]}
    assert got == {
        "slo_defined": (0, "fail"),
        "no_breach": (0, "pass"),
        "min_budget": (None, "insufficient_data"),
        "cfr": (None, "insufficient_data"),
        "ddpw": (0, "fail"),
        "sev12": (0, "pass"),
        "stale": (0, "pass"),
        "deploys": (0, "waived"),
    }
    first = r["checks"][0]
    assert {k: first[k] for k in ("id", "metric", "op", "threshold", "blocking")} == {
        "id": "slo_defined",
        "metric": "slo_summary.defined",
        "op": ">=",
        "threshold": 1,
        "blocking": True,
    }
    # credited: pass 1 + 1 + 1, waived 1 = 4; scored: + fail 1 + 2 = 7
    assert r["score"] == pytest.approx(400 / 7, rel=1e-12)
    assert r["verdict"] == "no_go"
    # only failing blocking checks (not the waived blocking one, not the failing weighted one)
    assert r["blockers"] == [{"check": "slo_defined", "remediation": "Define an SLO"}]


def test_go_when_every_check_passes() -> None:
    gates = {"production": [check("sev12", "incidents.open_sev12", "==", 0, blocking=True)]}
    r = entry(report({}, config(gates=gates)))["readiness"]
    assert (r["verdict"], r["score"], r["blockers"]) == ("go", 100.0, [])
