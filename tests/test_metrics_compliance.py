"""Compliance gaps worked out by hand from SPEC.md (Metrics > Compliance gaps)."""

from __future__ import annotations

from datetime import datetime

from metrics_helpers import DAY, US, T, config, control, entry, frame, initiative, report


def ev(control_id: str, status: str, collected_at: datetime, **kw: object) -> dict:
    return {"control_id": control_id, "status": status, "collected_at": collected_at, **kw}


CONTROLS = [
    control("c01_missing"),
    control("c02_fail_latest"),
    control("c03_pass_latest"),
    control("c04_na_blank"),
    control("c05_na_null"),
    control("c06_na_ok"),
    control("c07_expires_at_t"),
    control("c08_age_t"),
    control("c09_age_wins", max_age_days=90),
    control("c10_expires_wins"),
    control("c11_age_expiring"),
    control("c12_30d"),
    control("c13_after_30d"),
    control("c14_collected_at_t"),
    control("c15_only_at_t"),
    control("c16_just_ok", required_from="production"),
]

EVIDENCE = [
    ev("c02_fail_latest", "pass", T - 20 * DAY),
    ev("c02_fail_latest", "fail", T - 10 * DAY),
    ev("c03_pass_latest", "fail", T - 20 * DAY),
    ev("c03_pass_latest", "pass", T - 10 * DAY),  # expiry T + 355d
    ev("c04_na_blank", "not_applicable", T - DAY, justification="  \t "),
    ev("c05_na_null", "not_applicable", T - DAY),
    ev("c06_na_ok", "not_applicable", T - DAY, justification="no vendor involved"),
    ev("c07_expires_at_t", "pass", T - 10 * DAY, expires_at=T),  # expiry == T: expired
    ev("c08_age_t", "pass", T - 365 * DAY),  # collected_at + 365d == T: expired
    # collected_at + 90d = T - 10d is earlier than expires_at T + 100d: expired
    ev("c09_age_wins", "pass", T - 100 * DAY, expires_at=T + 100 * DAY),
    # expires_at T + 10d is earlier than collected_at + 365d: ok, expiring
    ev("c10_expires_wins", "pass", T - 10 * DAY, expires_at=T + 10 * DAY),
    # collected_at + 365d = T + 15d is earlier than expires_at T + 200d: ok, expiring
    ev("c11_age_expiring", "pass", T - 350 * DAY, expires_at=T + 200 * DAY),
    ev("c12_30d", "pass", T - DAY, expires_at=T + 30 * DAY),  # within 30 days (inclusive)
    ev("c13_after_30d", "pass", T - DAY, expires_at=T + 30 * DAY + US),  # not within 30 days
    ev("c14_collected_at_t", "fail", T - 5 * DAY),
    ev("c14_collected_at_t", "pass", T),  # collected at T: not yet known at T
    ev("c15_only_at_t", "pass", T),
    ev("c16_just_ok", "pass", T - DAY, expires_at=T + US),  # one microsecond left: ok
    ev("c01_missing", "pass", T - DAY, initiative="beta"),  # another initiative's evidence
]


def _compliance(stage: str = "production") -> dict:
    cfg = config([initiative(stage=stage)], controls=CONTROLS)
    return entry(report({"evidence": frame("evidence", EVIDENCE)}, cfg))["compliance"]


def test_control_statuses_gaps_and_coverage() -> None:
    out = _compliance()
    assert out["required"] == 16
    assert {g["control"]: g["status"] for g in out["gaps"]} == {
        "c01_missing": "missing",
        "c02_fail_latest": "failing",
        "c04_na_blank": "na_unjustified",
        "c05_na_null": "na_unjustified",
        "c07_expires_at_t": "expired",
        "c08_age_t": "expired",
        "c09_age_wins": "expired",
        "c14_collected_at_t": "failing",
        "c15_only_at_t": "missing",
    }
    assert out["gap_count"] == 9
    # ok: c03, c10, c11, c12, c13, c16 (6); not_applicable: c06 (1) -> 7 / 16
    assert out["coverage"] == 0.4375


def test_expiring_lists_ok_controls_expiring_within_30_days() -> None:
    out = _compliance()
    assert {e["control"]: e["expires_at"] for e in out["expiring"]} == {
        "c10_expires_wins": "2025-03-25T12:00:00Z",
        "c11_age_expiring": "2025-03-30T12:00:00Z",
        "c12_30d": "2025-04-14T12:00:00Z",
        "c16_just_ok": "2025-03-15T12:00:00.000001Z",
    }


def test_required_controls_follow_the_gate_stage() -> None:
    controls = [
        control("c_disc", "discovery"),
        control("c_pilot", "pilot"),
        control("c_lp", "limited_production"),
        control("c_prod", "production"),
    ]
    inits = [
        initiative("disc", "discovery"),  # gate pilot
        initiative("pil", "pilot"),  # gate limited_production
        initiative("lp", "limited_production"),  # gate production
        initiative("prod", "production"),  # stays production
    ]
    rep = report({}, config(inits, controls=controls))
    expected = {
        "disc": ("pilot", ["c_disc", "c_pilot"]),
        "pil": ("limited_production", ["c_disc", "c_lp", "c_pilot"]),
        "lp": ("production", ["c_disc", "c_lp", "c_pilot", "c_prod"]),
        "prod": ("production", ["c_disc", "c_lp", "c_pilot", "c_prod"]),
    }
    for iid, (gate, required) in expected.items():
        e = entry(rep, iid)
        assert e["gate"] == gate
        c = e["compliance"]
        assert c["required"] == len(required)
        assert sorted(g["control"] for g in c["gaps"]) == required
        assert {g["status"] for g in c["gaps"]} == {"missing"}
        assert c["gap_count"] == len(required)
        assert c["coverage"] == 0.0


def test_pilot_stage_does_not_require_production_controls() -> None:
    # c16 is required from production: a pilot (gate limited_production) needs 15 controls
    out = _compliance(stage="pilot")
    assert out["required"] == 15
    assert out["gap_count"] == 9
    assert out["coverage"] == 6 / 15  # c16 (ok) is no longer required
    assert "c16_just_ok" not in {e["control"] for e in out["expiring"]}


def test_nothing_required_gives_null_coverage() -> None:
    out = entry(report({}, config(controls=[])))["compliance"]
    assert out == {
        "required": 0,
        "coverage": None,
        "gap_count": 0,
        "expiring_count": 0,
        "gaps": [],
        "expiring": [],
    }
