"""View series (metrics/series.py) with expected values worked out by hand."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from metrics_helpers import (
    DAY,
    HOUR,
    INIT,
    MIN,
    T,
    buckets,
    config,
    entry,
    frame,
    initiative,
    report,
    slo,
    slo_entry,
)

from core.models import Initiative, Kpi, Milestone, Timeslice
from metrics import series

# T = 2025-03-15 12:00 UTC (a whole hour, so hourly periods end exactly at T).


def _dicts(df: pl.DataFrame) -> list[dict]:
    return df.to_dicts()


def test_units_occurrences_keep_the_window_and_this_slo_only() -> None:
    s = slo("a", window="1d")
    b = buckets(
        [
            ("a", T - 2 * DAY, 1, 1),  # before the window
            ("a", T - DAY, 9, 10),  # first minute of the window: counts
            ("a", T - MIN, 5, 5),  # last minute: counts
            ("a", T, 1, 1),  # at T: never counts
            ("b", T - HOUR, 1, 1),  # another SLO
        ]
    )
    units = series.slo_units(b, s, T)
    assert _dicts(units) == [
        {"at": T - DAY, "good": 9, "total": 10},
        {"at": T - MIN, "good": 5, "total": 5},
    ]


def test_units_timeslices_are_judged_slices() -> None:
    # 5-minute slices, target 0.9, 1h window [11:00, 12:00).
    s = slo(
        "ts",
        window="1h",
        budgeting="timeslices",
        timeslice=Timeslice(length="5m", target=0.9),
    )
    b = buckets(
        [
            ("ts", T - 61 * MIN, 0, 10),  # 10:59: its slice [10:55, 11:00) is outside
            ("ts", T - 58 * MIN, 9, 10),  # 11:02 } slice 11:00: 19/20 = 0.95 -> good
            ("ts", T - 57 * MIN, 10, 10),  # 11:03 }
            ("ts", T - 30 * MIN, 5, 10),  # 11:30: 0.5 -> bad
            ("ts", T - 20 * MIN, 0, 0),  # 11:40: no events -> not evaluated
        ]
    )
    units = series.slo_units(b, s, T)
    assert _dicts(units) == [
        {"at": T - HOUR, "good": 1, "total": 1},
        {"at": T - 30 * MIN, "good": 0, "total": 1},
    ]


def test_sli_series_sums_events_per_hour() -> None:
    s = slo("a", window="1d", target=0.9)
    b = buckets(
        [
            ("a", T - 90 * MIN, 90, 100),  # 10:30
            ("a", T - 80 * MIN, 100, 100),  # 10:40 -> hour 10: 190/200 = 0.95 (not mean 0.95)
            ("a", T - 30 * MIN, 1, 4),  # 11:30 -> hour 11: 1/4 = 0.25
        ]
    )
    out = series.sli_series(b, s, T, "1h")
    assert out.select("period_start", "good", "total", "sli", "target").to_dicts() == [
        {"period_start": T - 2 * HOUR, "good": 190, "total": 200, "sli": 0.95, "target": 0.9},
        {"period_start": T - HOUR, "good": 1, "total": 4, "sli": 0.25, "target": 0.9},
    ]


def test_sli_series_weighting_differs_from_a_mean_of_ratios() -> None:
    s = slo("a", window="1d", target=0.5)
    # 10:00 1/1 and 10:01 0/3: events give 1/4 = 0.25; a mean of ratios would give 0.5.
    b = buckets([("a", T - 2 * HOUR, 1, 1), ("a", T - 2 * HOUR + MIN, 0, 3)])
    out = series.sli_series(b, s, T, "1d")
    assert out.get_column("sli").to_list() == [0.25]


def _burn_case() -> tuple:
    s = slo("a", window="1d", target=0.875)  # budget 1/8
    b = buckets(
        [
            ("a", T - 90 * MIN, 88, 100),  # 12 bad
            ("a", T - 80 * MIN, 100, 100),
            ("a", T - 30 * MIN, 44, 48),  # 4 bad
        ]
    )
    # total 248, allowance 248/8 = 31 events; after hour 10: 12/31; after hour 11: 16/31.
    return s, b


def test_burn_down_steps_to_the_reported_budget_remaining() -> None:
    s, b = _burn_case()
    out = series.budget_burn_down(b, s, T, "1h")
    assert out.get_column("at").to_list() == [T - DAY, T - HOUR, T]
    assert out.get_column("consumed").to_list() == pytest.approx([0.0, 12 / 31, 16 / 31])
    assert out.get_column("budget_remaining").to_list() == pytest.approx([1.0, 19 / 31, 15 / 31])
    # ... and the last point is exactly the report's number for the same inputs
    rep = report({"sli_buckets": b}, config(slos=[s]))
    assert slo_entry(rep, "a")["budget_remaining"] == pytest.approx(15 / 31)


def test_burn_down_last_step_is_capped_at_t() -> None:
    s, b = _burn_case()
    as_of = T - 15 * MIN  # 11:45: the 11:30 bucket still counts, the hour ends at T
    out = series.budget_burn_down(b, s, as_of, "1h")
    assert out.get_column("at").to_list() == [as_of - DAY, T - HOUR, as_of]


def test_burn_down_is_empty_without_events() -> None:
    s, _ = _burn_case()
    out = series.budget_burn_down(buckets([]), s, T)
    assert out.height == 0
    assert out.columns == ["at", "consumed", "budget_remaining"]


def test_burn_down_timeslices_counts_slices() -> None:
    s = slo(
        "ts",
        window="1h",
        target=0.5,
        budgeting="timeslices",
        timeslice=Timeslice(length="1m", target=0.9),
    )
    b = buckets(
        [
            ("ts", T - 50 * MIN, 10, 10),  # good slice
            ("ts", T - 40 * MIN, 1, 10),  # bad slice
            ("ts", T - 10 * MIN, 10, 10),  # good slice
            ("ts", T - 5 * MIN, 10, 10),  # good slice
        ]
    )
    # 4 slices, budget 0.5 -> allowance 2 slices; one bad slice -> 0.5 consumed.
    out = series.budget_burn_down(b, s, T, "1h")
    assert out.get_column("budget_remaining").to_list() == [1.0, 0.5]
    rep = report({"sli_buckets": b}, config(slos=[s]))
    assert slo_entry(rep, "ts")["budget_remaining"] == 0.5


def test_ideal_burn_goes_from_window_start_to_t() -> None:
    s = slo("a", window="7d")
    out = series.ideal_burn(s, T)
    assert out.to_dicts() == [
        {"at": T - 7 * DAY, "budget_remaining": 1.0},
        {"at": T, "budget_remaining": 0.0},
    ]


def _deployments() -> pl.DataFrame:
    rows = [
        {"deploy_id": "d1", "finished_at": T - DAY, "status": "success"},
        {"deploy_id": "d2", "finished_at": T - 2 * DAY, "status": "rolled_back"},
        {"deploy_id": "d3", "finished_at": T - 8 * DAY, "status": "success"},
        {"deploy_id": "d4", "finished_at": T - 15 * DAY, "status": "success"},
        {"deploy_id": "d5", "finished_at": T - 3 * DAY, "status": "failed"},
        {"deploy_id": "d6", "finished_at": T - 3 * DAY, "environment": "staging"},
        {"deploy_id": "d7", "finished_at": T - DAY, "initiative": "other"},
        {"deploy_id": "d8", "finished_at": T, "status": "success"},
    ]
    return frame("deployments", rows)


def test_deploy_markers_are_counted_production_deployments_in_range() -> None:
    out = series.deploy_markers(_deployments(), INIT, T - 14 * DAY, T)
    assert out.select("deploy_id", "status").to_dicts() == [
        {"deploy_id": "d3", "status": "success"},
        {"deploy_id": "d2", "status": "rolled_back"},
        {"deploy_id": "d1", "status": "success"},
    ]


def test_weekly_deployments_blocks_end_at_t() -> None:
    linked = pl.DataFrame(
        {"initiative": [INIT, INIT], "linked_deploy_id": ["d3", None]},
        schema={"initiative": pl.String(), "linked_deploy_id": pl.String()},
    )
    out = series.weekly_deployments(_deployments(), linked, [INIT], T, 14 * DAY)
    assert out.select("week_start", "deployments", "failed").to_dicts() == [
        {"week_start": T - 14 * DAY, "deployments": 1, "failed": 1},  # d3 linked
        {"week_start": T - 7 * DAY, "deployments": 2, "failed": 1},  # d1, d2 rolled back
    ]


def test_weekly_incidents_by_severity() -> None:
    inc = frame(
        "incidents",
        [
            {"incident_id": "i1", "severity": 2, "opened_at": T - DAY},
            {"incident_id": "i2", "severity": 2, "opened_at": T - 2 * DAY},
            {"incident_id": "i3", "severity": 3, "opened_at": T - 3 * DAY},
            {"incident_id": "i4", "severity": 1, "opened_at": T - 10 * DAY},
            {"incident_id": "i5", "severity": 1, "opened_at": T - 20 * DAY},  # outside
            {"incident_id": "i6", "severity": 1, "opened_at": T},  # at T: not yet
        ],
    )
    out = series.weekly_incidents(inc, [INIT], T, 14 * DAY)
    assert out.select("week_start", "severity", "opened").to_dicts() == [
        {"week_start": T - 14 * DAY, "severity": 1, "opened": 1},
        {"week_start": T - 7 * DAY, "severity": 2, "opened": 2},
        {"week_start": T - 7 * DAY, "severity": 3, "opened": 1},
    ]


def test_incidents_in_window_keeps_recent_and_still_open() -> None:
    linked = frame(
        "incidents",
        [
            {"incident_id": "old-closed", "opened_at": T - 30 * DAY, "resolved_at": T - 29 * DAY},
            {"incident_id": "old-open", "opened_at": T - 30 * DAY},
            {"incident_id": "recent", "opened_at": T - DAY, "resolved_at": T - HOUR},
            {"incident_id": "resolved-after-t", "opened_at": T - 40 * DAY, "resolved_at": T},
        ],
    )
    out = series.incidents_in_window(linked, T, 14 * DAY)
    assert out.select("incident_id", "open", "in_window").to_dicts() == [
        {"incident_id": "recent", "open": False, "in_window": True},
        {"incident_id": "old-open", "open": True, "in_window": False},
        {"incident_id": "resolved-after-t", "open": True, "in_window": False},
    ]


def test_kpi_series_suppresses_small_cells_like_the_report() -> None:
    kpis = [
        Kpi(name="rate", kind="clinical", direction="lower", target=0.1, baseline=0.2),
        Kpi(name="minutes", kind="operational", direction="lower", target=30, baseline=60),
    ]
    init = initiative(kpis=kpis)
    obs = frame(
        "kpi_observations",
        [
            {"kpi": "rate", "period_end": T - 4 * DAY, "numerator": 5, "denominator": 100},
            {"kpi": "rate", "period_end": T - 3 * DAY, "numerator": 20, "denominator": 100},
            {"kpi": "rate", "period_end": T - 2 * DAY, "numerator": 20, "denominator": 10},
            {"kpi": "rate", "period_end": T - DAY, "numerator": 0, "denominator": 50},
            {"kpi": "rate", "period_end": T, "numerator": 50, "denominator": 50},  # at T
            {"kpi": "minutes", "period_end": T - DAY, "value": 35.5},
            {"kpi": "unknown", "period_end": T - DAY, "value": 1.0},
        ],
    )
    out = series.kpi_series(obs, [init], T)
    assert out.select("kpi", "period_end", "value", "suppressed").to_dicts() == [
        {"kpi": "minutes", "period_end": T - DAY, "value": 35.5, "suppressed": False},
        {"kpi": "rate", "period_end": T - 4 * DAY, "value": None, "suppressed": True},
        {"kpi": "rate", "period_end": T - 3 * DAY, "value": 0.2, "suppressed": False},
        {"kpi": "rate", "period_end": T - 2 * DAY, "value": None, "suppressed": True},
        {"kpi": "rate", "period_end": T - DAY, "value": 0.0, "suppressed": False},
    ]
    assert out.filter(pl.col("kpi") == "rate").get_column("baseline").unique().to_list() == [0.2]
    # the latest point is the report's value
    rep = report({"kpi_observations": obs}, config(initiatives=[init]))
    by_kpi = {o["kpi"]: o for o in entry(rep)["outcomes"]}
    assert by_kpi["rate"]["value"] == 0.0
    assert by_kpi["minutes"]["value"] == 35.5


def test_compliance_matrix_pivots_status() -> None:
    controls = pl.DataFrame(
        {
            "initiative": ["x", "x", "y"],
            "control": ["c1", "c2", "c1"],
            "status": ["ok", "missing", "expired"],
        }
    )
    out = series.compliance_matrix(controls, ["y", "x", "z"])
    assert out.columns == ["control", "y", "x"]
    assert out.to_dicts() == [
        {"control": "c1", "y": "expired", "x": "ok"},
        {"control": "c2", "y": None, "x": "missing"},
    ]


def test_milestone_table_states() -> None:
    init = Initiative(
        id="m",
        name="M",
        stage="pilot",
        owner="o",
        sponsor="s",
        clinical_area="c",
        started_on=date(2024, 1, 1),
        milestones=[
            Milestone(name="late", due=date(2025, 3, 10), owner="a"),
            Milestone(name="today", due=date(2025, 3, 15), owner="a"),
            Milestone(name="in90", due=date(2025, 6, 13), owner="a"),
            Milestone(name="in91", due=date(2025, 6, 14), owner="a"),
            Milestone(name="shipped", due=date(2025, 3, 1), owner="a", done=True),
        ],
    )
    out = series.milestone_table([init], T, horizon_days=90)
    got = {r["milestone"]: (r["days_to_due"], r["state"]) for r in out.to_dicts()}
    assert got == {
        "late": (-5, "overdue"),
        "today": (0, "due_soon"),
        "in90": (90, "due_soon"),
        "in91": (91, "planned"),
        "shipped": (-14, "done"),
    }
    assert out.get_column("milestone").to_list()[0] == "shipped"  # sorted by due date


def test_quarantine_reasons_counts_rows() -> None:
    q = pl.DataFrame(
        {
            "source": ["s", "s", "s", "t"],
            "table": ["requests", "requests", "incidents", "requests"],
            "location": ["f:2", "f:3", "g:9", "h:1"],
            "reason": ["bad timestamp", "bad timestamp", "missing severity", "bad timestamp"],
        }
    )
    assert series.quarantine_reasons(q).to_dicts() == [
        {"source": "s", "table": "requests", "reason": "bad timestamp", "rows": 2},
        {"source": "s", "table": "incidents", "reason": "missing severity", "rows": 1},
        {"source": "t", "table": "requests", "reason": "bad timestamp", "rows": 1},
    ]


def test_units_and_ideal_burn_start_at_a_calendar_window_in_its_zone() -> None:
    # T = Sat 15 Mar 2025 12:00Z = 08:00 EDT (New York changed to EDT on Sun 9 Mar): the
    # calendar week began Mon 10 Mar 00:00 EDT = 04:00Z
    week = T.replace(day=10, hour=4)
    s = slo("wk", window="calendar_week", timezone="America/New_York")
    b = buckets(
        [
            ("wk", week - MIN, 1, 1),  # Sun 9 Mar 23:59 EDT: the week before
            ("wk", week, 2, 2),  # the first minute of the week
        ]
    )
    assert _dicts(series.slo_units(b, s, T)) == [{"at": week, "good": 2, "total": 2}]
    assert series.ideal_burn(s, T).get_column("at").to_list() == [week, T]
