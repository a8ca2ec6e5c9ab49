"""Delivery (DORA) numbers worked out by hand from SPEC.md (Metrics > Delivery).

T = 2025-03-15 12:00 UTC; the delivery window is 90d unless a test sets another.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from metrics_helpers import DAY, HOUR, MIN, US, T, config, entry, frame, initiative, report

from core.models import DoraThresholds
from metrics.delivery import levels, link_incidents


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def dep(deploy_id: str, finished_at: datetime, **kw: object) -> dict:
    return {"deploy_id": deploy_id, "finished_at": finished_at, **kw}


def inc(incident_id: str, opened_at: datetime, **kw: object) -> dict:
    return {"incident_id": incident_id, "opened_at": opened_at, **kw}


def d(day: int, hour: int = 0, month: int = 3) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def delivery(deps: list[dict], incs: list[dict] | None = None, **settings: object) -> dict:
    tables = {
        "deployments": frame("deployments", deps),
        "incidents": frame("incidents", incs or []),
    }
    return entry(report(tables, config(**settings)))["delivery"]


def test_counted_deployments_lead_time_and_fewer_than_five() -> None:
    deps = [
        dep("d1", T - DAY, commit_at=T - DAY - 10 * HOUR),  # lead 10h
        dep("d2", T - 2 * DAY, status="rolled_back", commit_at=T - 2 * DAY - 30 * HOUR),  # 30h
        dep("d3", T - 3 * DAY, status="failed", commit_at=T - 4 * DAY),  # never reached prod
        dep("d4", T - 4 * DAY, environment="staging", commit_at=T - 5 * DAY),  # not prod
        dep("d5", T, commit_at=T - HOUR),  # at T: excluded
        dep("d6", T - 90 * DAY),  # exactly T - W: counted, no commit_at
        dep("d7", T - 90 * DAY - US),  # before the window
        dep("d8", T - 10 * DAY, commit_at=T - 10 * DAY - 20 * HOUR),  # lead 20h
    ]
    out = delivery(deps)
    # counted: d1, d2, d6, d8
    assert out["deployments"] == 4
    assert out["deployment_frequency_per_day"] == approx(4 / 90)
    assert out["lead_time_hours_median"] == 20.0  # median(10, 30, 20)
    assert out["change_failure_rate"] == 0.25  # d2 rolled back: 1 / 4
    assert out["recovery_time_hours_median"] is None
    assert out["unlinked_incidents"] == 0
    # fewer than 5 deployments: every level insufficient_data, raw values still shown
    assert out["levels"] == dict.fromkeys(
        ("frequency", "lead_time", "change_failure", "recovery"), "insufficient_data"
    )
    assert out["n"]["deployments"] == 4
    assert out["n"]["lead_time"] == 3


def test_deploy_day_medians_blocks_and_dates_in_two_blocks() -> None:
    # window 37d -> 5 week blocks (35d) and 1 month block (30d); T = Mar 15 12:00 (not midnight)
    deps = [
        # week 1 [Mar 8 12:00, Mar 15 12:00): dates 15, 15, 8, 10 -> 3 distinct
        dep("a", d(15, 9)),
        dep("b", d(15, 10)),
        dep("c", d(8, 13)),
        dep("e", d(10, 12)),
        # week 2 [Mar 1 12:00, Mar 8 12:00): dates 8 (again: a date in two blocks), 3 -> 2
        dep("f", d(8, 11)),
        dep("g", d(3, 0)),
        # week 3 [Feb 22 12:00, Mar 1 12:00): Feb 25 -> 1; week 4: none -> 0
        dep("h", d(25, 12, month=2)),
        # week 5 [Feb 8 12:00, Feb 15 12:00): Feb 10, 11, 12, 13 -> 4
        dep("i", d(10, 15, month=2)),
        dep("j", d(11, 15, month=2)),
        dep("k", d(12, 15, month=2)),
        dep("l", d(13, 15, month=2)),
        # Feb 7 12:00: inside the 37d window but older than the last whole week block: ignored
        dep("m", d(7, 12, month=2)),
    ]
    out = delivery(deps, delivery_window="37d")
    assert out["deployments"] == 12
    assert out["deployment_frequency_per_day"] == approx(12 / 37)
    # weeks [3, 2, 1, 0, 4] -> median 2
    assert out["deploy_days_per_week_median"] == 2.0
    # month 1 [Feb 13 12:00, Mar 15 12:00): Mar 15, 10, 8, 3, Feb 25, Feb 13 -> 6
    assert out["deploy_days_per_month_median"] == 6.0
    assert out["levels"]["frequency"] == "high"  # 1 <= 2 < 5
    assert out["levels"]["lead_time"] == "insufficient_data"  # no commit_at: null value
    assert out["change_failure_rate"] == 0.0
    assert out["levels"]["change_failure"] == "elite"
    assert out["levels"]["recovery"] == "insufficient_data"


def test_deploy_day_block_includes_its_lower_bound() -> None:
    # blocks are [T - 7k, T - 7(k-1)): T - 7d is in week 1 and T - 14d is in week 2.
    deps = [dep("a", T - HOUR), dep("b", T - 7 * DAY), dep("c", T - 14 * DAY)]
    out = delivery(deps, delivery_window="14d")
    # week 1: Mar 15, Mar 8 -> 2; week 2: Mar 1 -> 1; median of [2, 1] = 1.5
    assert out["deploy_days_per_week_median"] == 1.5


def test_month_block_includes_t_minus_30_days() -> None:
    # window 30d: one month block [T - 30d, T) which contains the deployment at exactly T - 30d
    out = delivery([dep("a", T - 30 * DAY)], delivery_window="30d")
    assert out["deployments"] == 1
    assert out["deploy_days_per_month_median"] == 1.0
    # 4 week blocks cover only [T - 28d, T): all empty
    assert out["deploy_days_per_week_median"] == 0.0


def test_twelve_week_blocks_in_90_days_older_deployments_ignored() -> None:
    # 90d -> 12 week blocks (84d) and 3 month blocks (90d)
    deps = [dep(f"w{k}", T - (7 * k - 3) * DAY) for k in range(1, 13)]  # one per week block
    deps.append(dep("old", T - 87 * DAY))  # in the window, older than the 12th week block
    out = delivery(deps)
    assert out["deployments"] == 13
    assert out["deploy_days_per_week_median"] == 1.0  # twelve blocks with 1 date each
    # ages (days) 7k - 3 = 4, 11, 18, 25 | 32, 39, 46, 53, 60 | 67, 74, 81, 87 (old) in the
    # month blocks [T-30d, T) | [T-60d, T-30d) | [T-90d, T-60d) -> 4, 5, 4 -> median 4
    assert out["deploy_days_per_month_median"] == 4.0


def test_no_deployments() -> None:
    out = delivery([])
    assert out["deployments"] == 0
    assert out["deployment_frequency_per_day"] == 0.0
    assert out["change_failure_rate"] is None
    assert out["lead_time_hours_median"] is None
    assert set(out["levels"].values()) == {"insufficient_data"}


# --- incident linking --------------------------------------------------------------------


def _linking_case() -> tuple[list[dict], list[dict]]:
    o1, o2, o3, o4, o5, o6, o7 = (
        T - 2 * DAY,
        T - 20 * DAY,
        T - 30 * DAY,
        T - 40 * DAY,
        T - 50 * DAY,
        T,
        T - 70 * DAY,
    )
    deps = [
        dep("d_old", o1 - 24 * HOUR),  # a candidate for i1, but not the latest
        dep("d_late", o1 - HOUR),  # latest candidate for i1
        dep("d_edge", o2 - 24 * HOUR),  # exactly opened_at - 24h: links
        dep("d_far", o3 - 24 * HOUR - MIN),  # 24h + 1 min before: does not link
        dep("d_same", o4),  # finished_at == opened_at: links
        dep("d_x", T - 60 * DAY),  # named by i5's deploy_id
        dep("d_near", o5 - HOUR),  # would link by time, but i5 names d_x
        dep("d_t", T - HOUR),  # i6 opens at T: never links
        dep("d_fail", o7 - HOUR, status="failed"),  # failed: not a candidate
        dep("d_stg", o7 - 2 * HOUR, environment="staging"),  # not production
        dep("d_beta", o7 - 3 * HOUR, initiative="beta"),  # another initiative
    ]
    incs = [
        inc("i1", o1),
        inc("i2", o2),
        inc("i3", o3),
        inc("i4", o4),
        inc("i5", o5, deploy_id="d_x"),
        inc("i6", o6),
        inc("i7", o7),
    ]
    return deps, incs


def test_incident_linking_rules() -> None:
    deps, incs = _linking_case()
    linked = link_incidents(
        frame("incidents", incs), frame("deployments", deps), T, timedelta(hours=24)
    )
    got = {
        r["incident_id"]: (r["linked_deploy_id"], r["link_method"])
        for r in linked.iter_rows(named=True)
    }
    assert got == {
        "i1": ("d_late", "time_window"),
        "i2": ("d_edge", "time_window"),
        "i3": (None, "unlinked"),
        "i4": ("d_same", "time_window"),
        "i5": ("d_x", "deploy_id"),
        "i7": (None, "unlinked"),
    }  # i6 opened at T is not linked at all


def test_change_failure_rate_and_unlinked_from_linking() -> None:
    deps, incs = _linking_case()
    out = delivery(deps, incs)
    # counted (success, production, alpha, in window): d_old, d_late, d_edge, d_far, d_same,
    # d_x, d_near, d_t = 8; failed by a linked incident: d_late, d_edge, d_same, d_x = 4
    assert out["deployments"] == 8
    assert out["change_failure_rate"] == 0.5
    assert out["unlinked_incidents"] == 2  # i3, i7 (i6 opened at T is not counted)
    assert out["n"]["failed_deployments"] == 4


def test_incident_link_window_setting() -> None:
    deps = [dep("d1", T - 3 * DAY)]
    incs = [inc("i1", T - 3 * DAY + 47 * HOUR)]  # 47h after the deployment
    assert delivery(deps, incs)["change_failure_rate"] == 0.0
    assert delivery(deps, incs, link_window="48h")["change_failure_rate"] == 1.0


def test_same_deployment_linked_twice_counts_once_and_rollback_plus_incident_once() -> None:
    deps = [dep("d1", T - DAY, status="rolled_back"), dep("d2", T - 2 * DAY)]
    incs = [inc("i1", T - DAY + HOUR), inc("i2", T - DAY + 2 * HOUR, deploy_id="d1")]
    out = delivery(deps, incs)
    assert out["change_failure_rate"] == 0.5  # only d1 failed, counted once


def test_incident_and_deployment_before_the_window_change_nothing() -> None:
    # an incident from before the window links to a deployment from before the window: neither
    # the window's deployments nor its unlinked count change.
    deps = [dep("old", T - 100 * DAY), dep("new", T - DAY)]
    incs = [inc("i_old", T - 100 * DAY + HOUR)]
    out = delivery(deps, incs)
    assert out["deployments"] == 1
    assert out["change_failure_rate"] == 0.0
    assert out["unlinked_incidents"] == 0  # i_old opened before the window


def test_recovery_time_median_over_incidents_resolved_in_window() -> None:
    deps = [dep(f"d{k}", T - k * DAY) for k in range(1, 6)]
    incs = [
        inc("a", T - 10 * DAY, resolved_at=T - 10 * DAY + 30 * MIN),  # 0.5h
        inc("b", T - 20 * DAY, resolved_at=T - 20 * DAY + 2 * HOUR),  # 2h
        inc("c", T - 95 * DAY, resolved_at=T - 95 * DAY + 6 * DAY),  # resolved in window: 144h
        inc("e", T - 100 * DAY, resolved_at=T - 91 * DAY),  # resolved before the window
        inc("f", T - 3 * HOUR, resolved_at=T),  # resolved at T: not resolved yet
        inc("g", T - 5 * HOUR),  # open
    ]
    out = delivery(deps, incs)
    assert out["recovery_time_hours_median"] == 2.0  # median(0.5, 2, 144)
    assert out["n"]["recovery"] == 3
    assert out["levels"]["recovery"] == "high"  # 1 <= 2 < 24


# --- levels (the 2023 benchmarks, default thresholds) ------------------------------------


def _levels(**values: object) -> dict:
    row = {
        "deployments": 10,
        "deploy_days_per_week_median": None,
        "deploy_days_per_month_median": None,
        "lead_time_hours_median": None,
        "change_failure_rate": None,
        "recovery_time_hours_median": None,
        **values,
    }
    out = pl.DataFrame([row], schema={k: pl.Float64 for k in row}).select(levels(DoraThresholds()))
    return out.row(0, named=True)


@pytest.mark.parametrize(
    ("week", "month", "expected"),
    [
        (5.0, 20.0, "elite"),
        (4.5, 20.0, "high"),
        (1.0, 4.0, "high"),
        (0.5, 1.0, "medium"),
        (0.0, 0.5, "low"),
        (0.0, 0.0, "low"),
    ],
)
def test_frequency_levels(week: float, month: float, expected: str) -> None:
    got = _levels(deploy_days_per_week_median=week, deploy_days_per_month_median=month)
    assert got["level_frequency"] == expected


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (23.9, "elite"),
        (24.0, "high"),
        (167.9, "high"),
        (168.0, "medium"),
        (719.0, "medium"),
        (720.0, "low"),
    ],
)
def test_lead_time_levels(hours: float, expected: str) -> None:
    assert _levels(lead_time_hours_median=hours)["level_lead_time"] == expected


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (0.0, "elite"),
        (0.05, "elite"),
        (0.06, "high"),
        (0.10, "high"),
        (0.15, "medium"),
        (0.16, "low"),
        (1.0, "low"),
    ],
)
def test_change_failure_levels(rate: float, expected: str) -> None:
    assert _levels(change_failure_rate=rate)["level_change_failure"] == expected


@pytest.mark.parametrize(
    ("hours", "expected"),
    [
        (0.5, "elite"),
        (1.0, "high"),
        (23.9, "high"),
        (24.0, "medium"),
        (167.0, "medium"),
        (168.0, "low"),
    ],
)
def test_recovery_levels(hours: float, expected: str) -> None:
    assert _levels(recovery_time_hours_median=hours)["level_recovery"] == expected


def test_levels_insufficient_under_five_deployments_or_null_value() -> None:
    got = _levels(
        deployments=4,
        deploy_days_per_week_median=6.0,
        deploy_days_per_month_median=20.0,
        lead_time_hours_median=1.0,
        change_failure_rate=0.0,
        recovery_time_hours_median=0.1,
    )
    assert set(got.values()) == {"insufficient_data"}
    got = _levels(deployments=5, change_failure_rate=0.0)
    assert got["level_change_failure"] == "elite"
    assert got["level_lead_time"] == "insufficient_data"
    assert got["level_recovery"] == "insufficient_data"
    assert got["level_frequency"] == "insufficient_data"


def test_levels_end_to_end_elite_frequency() -> None:
    # a deployment every day at 06:00 for 90 days: each week block holds 7 dates -> median 7
    deps = [dep(f"d{k}", datetime(2025, 3, 15, 6, tzinfo=UTC) - k * DAY) for k in range(90)]
    cfg_initiative = initiative()
    out = entry(report({"deployments": frame("deployments", deps)}, config([cfg_initiative])))[
        "delivery"
    ]
    # ages 6h, 1d6h, ... 89d6h: all 90 inside [T - 90d, T)
    assert out["deployments"] == 90
    assert out["deploy_days_per_week_median"] == 7.0
    assert out["deploy_days_per_month_median"] == 30.0
    assert out["levels"]["frequency"] == "elite"


def test_window_shorter_than_a_block_has_null_medians() -> None:
    # a 5-day window has no whole 7-day or 30-day block: both medians are null (no crash)
    deps = [dep(f"d{k}", T - k * DAY - HOUR) for k in range(5)]
    out = delivery(deps, delivery_window="5d")
    assert out["deployments"] == 5
    assert out["deployment_frequency_per_day"] == 1.0
    assert out["deploy_days_per_week_median"] is None
    assert out["deploy_days_per_month_median"] is None
    assert out["levels"]["frequency"] == "insufficient_data"
    # 20 days: 2 whole week blocks (ages 1h..97h are all in week 1), no month block
    out = delivery(deps, delivery_window="20d")
    assert out["deploy_days_per_week_median"] == 2.5  # weeks [5, 0] -> 2.5
    assert out["deploy_days_per_month_median"] is None
