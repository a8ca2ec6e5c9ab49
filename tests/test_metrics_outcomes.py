"""Outcome KPIs worked out by hand from SPEC.md (Metrics > Outcomes)."""

from __future__ import annotations

from datetime import datetime

from metrics_helpers import DAY, INIT, T, config, entry, frame, initiative, report

from core.models import Kpi
from metrics.outcomes import outcome_table


def kpi(name: str, target: float, direction: str = "higher", kind: str = "clinical") -> Kpi:
    return Kpi(name=name, kind=kind, unit="", direction=direction, target=target)


def obs(name: str, period_end: datetime, **kw: object) -> dict:
    return {"kpi": name, "period_end": period_end, **kw}


KPIS = [
    kpi("num10", 0.0),  # 10 / 1000: numerator in 1..10 -> suppressed
    kpi("num1", 0.0),  # 1 / 500 -> suppressed
    kpi("den10", 0.0),  # 0 / 10: denominator below 11 -> suppressed
    kpi("num10_den11", 0.0),  # 10 / 11 -> suppressed (numerator)
    kpi("zero_big", 0.01, "lower", "operational"),  # 0 / 1000 = 0 <= 0.01 -> on_track
    kpi("num11_den11", 0.9),  # 11 / 11 = 1.0 >= 0.9 -> on_track
    kpi("nodata", 1.0),  # no observation -> no_data
    kpi("at_t", 1.0),  # only observation at period_end == T -> no_data
    kpi("latest", 0.7, kind="adoption"),  # latest before T is 0.8 -> on_track
    kpi("lower_off", 10.0, "lower", "financial"),  # 12 > 10 -> off_track
    kpi("lower_eq", 10.0, "lower"),  # 10 <= 10 -> on_track
    kpi("higher_off", 0.95),  # 0.94 < 0.95 -> off_track
]

OBS = [
    obs("num10", T - DAY, numerator=10, denominator=1000),
    obs("num1", T - DAY, numerator=1, denominator=500),
    obs("den10", T - DAY, numerator=0, denominator=10),
    obs("num10_den11", T - DAY, numerator=10, denominator=11),
    obs("zero_big", T - DAY, numerator=0, denominator=1000),
    obs("num11_den11", T - DAY, numerator=11, denominator=11),
    obs("at_t", T, value=5.0),
    obs("latest", T - 30 * DAY, value=0.5),
    obs("latest", T - DAY, value=0.8),
    obs("latest", T, value=0.1),  # at T: excluded
    obs("lower_off", T - DAY, value=12.0),
    obs("lower_eq", T - DAY, value=10.0),
    obs("higher_off", T - DAY, value=0.94),
    obs("unconfigured", T - DAY, value=1.0),  # a KPI nobody configured: ignored
]


def _report() -> dict:
    cfg = config([initiative(kpis=KPIS)])
    return entry(report({"kpi_observations": frame("kpi_observations", OBS)}, cfg))


def test_statuses_values_and_suppression() -> None:
    e = _report()
    got = {o["kpi"]: (o["status"], o["value"]) for o in e["outcomes"]}
    assert got == {
        "num10": ("suppressed", None),
        "num1": ("suppressed", None),
        "den10": ("suppressed", None),
        "num10_den11": ("suppressed", None),
        "zero_big": ("on_track", 0.0),
        "num11_den11": ("on_track", 1.0),
        "nodata": ("no_data", None),
        "at_t": ("no_data", None),
        "latest": ("on_track", 0.8),
        "lower_off": ("off_track", 12.0),
        "lower_eq": ("on_track", 10.0),
        "higher_off": ("off_track", 0.94),
    }
    # configuration order is kept
    assert [o["kpi"] for o in e["outcomes"]] == [k.name for k in KPIS]


def test_outcome_fields() -> None:
    e = _report()
    latest = next(o for o in e["outcomes"] if o["kpi"] == "latest")
    assert latest["period_end"] == "2025-03-14T12:00:00Z"
    assert latest["kind"] == "adoption"
    assert latest["target"] == 0.7
    assert latest["direction"] == "higher"
    nodata = next(o for o in e["outcomes"] if o["kpi"] == "nodata")
    assert nodata["period_end"] is None


def test_suppressed_counts_never_leave_the_metrics() -> None:
    e = _report()
    for o in e["outcomes"]:
        assert "numerator" not in o and "denominator" not in o
    table = outcome_table(frame("kpi_observations", OBS), [initiative(kpis=KPIS)], T)
    hidden = table.filter(table["status"] == "suppressed")
    assert hidden.height == 4
    assert hidden["value"].null_count() == 4
    assert hidden["numerator"].null_count() == 4
    assert hidden["denominator"].null_count() == 4


def test_on_track_share_excludes_no_data_and_suppressed() -> None:
    # on_track: zero_big, num11_den11, latest, lower_eq = 4; off_track: lower_off, higher_off = 2
    assert _report()["outcomes_summary"] == {"on_track_share": 4 / 6}


def test_on_track_share_null_when_nothing_rated() -> None:
    cfg = config([initiative(kpis=[kpi("a", 1.0), kpi("b", 0.5)])])
    rows = [obs("b", T - DAY, numerator=3, denominator=100)]
    e = entry(report({"kpi_observations": frame("kpi_observations", rows)}, cfg))
    assert [o["status"] for o in e["outcomes"]] == ["no_data", "suppressed"]
    assert e["outcomes_summary"]["on_track_share"] is None


def test_configurable_threshold_never_below_11() -> None:
    kpis = [kpi("a", 0.0), kpi("b", 0.0), kpi("c", 0.0)]
    rows = [
        obs("a", T - DAY, numerator=15, denominator=100),  # 15 in 1..19 -> suppressed at 20
        obs("b", T - DAY, numerator=20, denominator=20),  # 20 / 20, not below 20 -> shown
        obs("c", T - DAY, numerator=25, denominator=19),  # denominator below 20 -> suppressed
    ]
    table = outcome_table(
        frame("kpi_observations", rows), [initiative(kpis=kpis)], T, small_cell=20
    )
    assert table["status"].to_list() == ["suppressed", "on_track", "suppressed"]
    # a threshold under 11 is raised to 11: 10 / 100 is still suppressed, 11 / 100 is not
    rows = [
        obs("a", T - DAY, numerator=10, denominator=100),
        obs("b", T - DAY, numerator=11, denominator=100),
    ]
    table = outcome_table(frame("kpi_observations", rows), [initiative(kpis=kpis)], T, small_cell=5)
    assert table["status"].to_list() == ["suppressed", "on_track", "no_data"]
    assert table["value"].to_list() == [None, 0.11, None]


def test_latest_observation_decides_even_when_suppressed() -> None:
    # the latest observation decides, even when it is suppressed (an older value is not shown)
    kpis = [kpi("a", 0.5)]
    rows = [
        obs("a", T - 10 * DAY, numerator=90, denominator=100),
        obs("a", T - DAY, numerator=5, denominator=100),
    ]
    e = entry(
        report(
            {"kpi_observations": frame("kpi_observations", rows)}, config([initiative(kpis=kpis)])
        )
    )
    assert e["outcomes"][0]["status"] == "suppressed"
    assert e["outcomes"][0]["value"] is None
    assert e["outcomes"][0]["kpi"] == "a"
    assert e["id"] == INIT
