"""Incident numbers worked out by hand from SPEC.md (Metrics > Incidents), delivery window 90d."""

from __future__ import annotations

from datetime import datetime

import pytest
from metrics_helpers import DAY, HOUR, MIN, T, config, entry, frame, initiative, report


def inc(incident_id: str, opened_at: datetime, **kw: object) -> dict:
    return {"incident_id": incident_id, "opened_at": opened_at, **kw}


def incidents(rows: list[dict], **settings: object) -> dict:
    return entry(report({"incidents": frame("incidents", rows)}, config(**settings)))["incidents"]


CASE = [
    # sev 1, never acknowledged, still open
    inc("i1", T - 2 * DAY, severity=1),
    # sev 2 acknowledged after 30 min, resolved exactly at T: still open at T
    inc("i2", T - 3 * DAY, severity=2, acknowledged_at=T - 3 * DAY + 30 * MIN, resolved_at=T),
    # sev 2 acknowledged at T (not before T), resolved 1h before T: 5d - 1h = 119h
    inc("i3", T - 5 * DAY, severity=2, acknowledged_at=T, resolved_at=T - HOUR),
    # sev 3, acknowledged after 10 min, resolved after 5h, patient impact
    inc(
        "i4",
        T - 10 * DAY,
        severity=3,
        acknowledged_at=T - 10 * DAY + 10 * MIN,
        resolved_at=T - 10 * DAY + 5 * HOUR,
        patient_impact=True,
    ),
    # opened at T: not open, not in any mean, not counted
    inc("i5", T, severity=4, acknowledged_at=T + MIN, patient_impact=True),
    # opened before the window and never resolved: still open (sev 1)
    inc(
        "i6",
        T - 100 * DAY,
        severity=1,
        acknowledged_at=T - 100 * DAY + 20 * MIN,
        patient_impact=True,
    ),
    # opened before the window, resolved inside it after 6 days = 144h
    inc(
        "i7",
        T - 95 * DAY,
        severity=1,
        acknowledged_at=T - 95 * DAY + HOUR,
        resolved_at=T - 89 * DAY,
    ),
]


def test_open_counts_mtta_mttr_patient_impact() -> None:
    out = incidents(CASE)
    # open at T: i1 (sev1), i2 (sev2, resolved at T), i6 (sev1, opened long ago)
    assert out["open_by_severity"] == {"1": 2, "2": 1, "3": 0, "4": 0}
    assert out["open_sev12"] == 3
    # acknowledged before T and opened in the window: i2 (30 min), i4 (10 min) -> 20
    assert out["mtta_minutes"] == 20.0
    # resolved in [T - 90d, T): i3 119h, i4 5h, i7 144h -> 268 / 3
    assert out["mttr_hours"] == pytest.approx(268 / 3, rel=1e-12)
    # opened in the window with patient impact: i4 only
    assert out["patient_impacting"] == 1


def test_recovery_median_uses_the_same_resolved_incidents() -> None:
    tables = {"incidents": frame("incidents", CASE)}
    out = entry(report(tables, config()))["delivery"]
    assert out["recovery_time_hours_median"] == 119.0  # median(5, 119, 144)
    # unlinked: incidents opened in the window without a deployment: i1, i2, i3, i4 (not i5)
    assert out["unlinked_incidents"] == 4


def test_no_incidents() -> None:
    out = incidents([])
    assert out == {
        "open_by_severity": {"1": 0, "2": 0, "3": 0, "4": 0},
        "open_sev12": 0,
        "mtta_minutes": None,
        "mttr_hours": None,
        "patient_impacting": 0,
    }


def test_never_acknowledged_only_gives_null_mtta() -> None:
    out = incidents([inc("a", T - HOUR, severity=2), inc("b", T - DAY, acknowledged_at=T)])
    assert out["mtta_minutes"] is None
    assert out["mttr_hours"] is None
    assert out["open_by_severity"] == {"1": 0, "2": 1, "3": 1, "4": 0}


def test_incidents_stay_with_their_initiative() -> None:
    rows = [inc("a", T - HOUR, severity=1), inc("b", T - HOUR, severity=1, initiative="beta")]
    rep = report(
        {"incidents": frame("incidents", rows)}, config([initiative(), initiative("beta")])
    )
    assert entry(rep)["incidents"]["open_sev12"] == 1
    assert entry(rep, "beta")["incidents"]["open_sev12"] == 1


def test_window_setting_moves_mtta_and_patient_count() -> None:
    rows = [
        inc("a", T - 10 * DAY, acknowledged_at=T - 10 * DAY + 4 * MIN, patient_impact=True),
        inc("b", T - 40 * DAY, acknowledged_at=T - 40 * DAY + 8 * MIN, patient_impact=True),
    ]
    assert incidents(rows)["mtta_minutes"] == 6.0
    assert incidents(rows)["patient_impacting"] == 2
    short = incidents(rows, delivery_window="30d")
    assert short["mtta_minutes"] == 4.0
    assert short["patient_impacting"] == 1
    # both still open at T whatever the window
    assert short["open_by_severity"]["3"] == 2
