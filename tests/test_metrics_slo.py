"""SLO numbers worked out by hand (docs/metrics.md, "Time, in one paragraph" and "SLOs").

Targets are chosen so that `1 - target` is exact in binary (0.75, 0.875, 0.5, 63/64) and the
hand arithmetic in the comments is exact too.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from metrics_helpers import (
    DAY,
    HOUR,
    INIT,
    MIN,
    US,
    T,
    alerts,
    buckets,
    config,
    entry,
    initiative,
    report,
    req_block,
    requests,
    slo,
    slo_entry,
)

ALL_BURNS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")
BUDGET_64 = 0.984375  # target 63/64: budget 1/64 = 0.015625, so burn = error ratio * 64


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-12, abs=1e-12)


def burns(block: dict) -> dict:
    return block["burn_rates"]


# --- no data ------------------------------------------------------------------------------


def test_no_traffic_is_no_data_with_null_sli_budget_and_burns() -> None:
    # Only another initiative's requests exist: alpha's SLO has no events at all.
    other = requests(req_block(T - HOUR, 10, bad=10, initiative="beta"))
    rep = report({"requests": other}, config(slos=[slo(target=0.75)]))
    s = slo_entry(rep, "avail")
    assert (s["good"], s["total"]) == (0, 0)
    assert s["sli"] is None
    assert s["budget_remaining"] is None
    assert burns(s) == dict.fromkeys(ALL_BURNS)
    assert s["alerts"] == []
    assert s["status"] == "no_data"
    summary = entry(rep)["slo_summary"]
    assert summary == {"defined": 1, "breached": 0, "min_budget_remaining": None}


def test_no_slo_defined_summary() -> None:
    rep = report({}, config())
    assert entry(rep)["slos"] == []
    assert entry(rep)["slo_summary"] == {"defined": 0, "breached": 0, "min_budget_remaining": None}


# --- window edges -------------------------------------------------------------------------


def test_event_at_t_excluded_and_at_t_minus_w_included() -> None:
    rows = (
        req_block(T - DAY, 4, bad=1)  # exactly T - W: inside the 1d window
        + req_block(T - US, 4)  # last microsecond before T: inside
        + req_block(T, 5, bad=5)  # exactly T: never counts
        + req_block(T - DAY - US, 3, bad=3)  # just before T - W: outside 1d, inside 3d
    )
    rep = report({"requests": requests(rows)}, config(slos=[slo(target=0.75, window="1d")]))
    s = slo_entry(rep, "avail")
    # window: 8 events, 1 bad -> sli 7/8 = 0.875; consumed 1 / (0.25 * 8) = 0.5
    assert (s["good"], s["total"]) == (7, 8)
    assert s["sli"] == 0.875
    assert s["budget_remaining"] == 0.5
    b = burns(s)
    assert b["5m"] == 0.0  # only the 4 good at T - 1us
    assert b["6h"] == 0.0
    assert b["1d"] == 0.5  # (1/8) / 0.25
    assert b["3d"] == approx(16 / 11)  # 11 events, 4 bad: (4/11) / 0.25
    assert s["alerts"] == []  # ticket 3d/6h needs burn(6h) >= 1 too
    assert s["status"] == "healthy"


def test_as_of_is_truncated_to_the_minute() -> None:
    # T' = 12:00:45 is read as 12:00:00, so an error at 12:00:30 is at/after T and excluded.
    rows = req_block(T - MIN, 3) + req_block(T.replace(second=30), 2, bad=2)
    rep = report(
        {"requests": requests(rows)},
        config(slos=[slo(target=0.75)]),
        as_of=T.replace(second=45, microsecond=123),
    )
    assert rep["as_of"] == "2025-03-15T12:00:00Z"
    s = slo_entry(rep, "avail")
    assert (s["good"], s["total"]) == (3, 3)
    assert s["sli"] == 1.0


# --- calendar month ----------------------------------------------------------------------


def test_calendar_month_at_the_very_start_of_a_month_is_empty() -> None:
    t0 = datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    rows = req_block(datetime(2025, 2, 28, 23, 59, tzinfo=UTC), 2, bad=2)
    rep = report(
        {"requests": requests(rows)},
        config(slos=[slo(target=0.75, window="calendar_month")]),
        as_of=t0,
    )
    s = slo_entry(rep, "avail")
    assert s["window"] == "calendar_month"
    assert (s["good"], s["total"]) == (0, 0)
    assert s["sli"] is None and s["budget_remaining"] is None
    assert s["status"] == "no_data"
    # burn rates are always from events over [T - w, T), whatever the SLO's window:
    # 2 bad of 2 in every burn window -> (2/2) / 0.25 = 4.0
    assert burns(s) == dict.fromkeys(ALL_BURNS, 4.0)
    # 4 >= 3 (1d and 2h) and 4 >= 1 (3d and 6h): both tickets; pages need 14.4 / 6 ... 6 > 4
    assert alerts(s) == [("ticket", "1d", "2h"), ("ticket", "3d", "6h")]


def test_calendar_month_mid_month_excludes_previous_month() -> None:
    rows = (
        req_block(datetime(2025, 3, 1, tzinfo=UTC), 4, bad=1)  # first instant of the month: in
        + req_block(datetime(2025, 2, 28, 23, 59, 59, 999999, tzinfo=UTC), 10, bad=10)  # out
        + req_block(T - HOUR, 6)
    )
    rep = report(
        {"requests": requests(rows)}, config(slos=[slo(target=0.75, window="calendar_month")])
    )
    s = slo_entry(rep, "avail")
    # 10 events, 1 bad: sli 0.9, consumed 1 / (0.25 * 10) = 0.4 -> remaining 0.6
    assert (s["good"], s["total"]) == (9, 10)
    assert s["sli"] == 0.9
    assert s["budget_remaining"] == approx(0.6)
    assert s["status"] == "healthy"


# --- occurrences vs timeslices -----------------------------------------------------------


def test_occurrences_sum_events_never_average_ratios() -> None:
    # minute A: 0 good of 1; minute B: 99 good of 99.
    # sum of events: 99/100 = 0.99; a mean of per-minute ratios would be (0 + 1) / 2 = 0.5
    rows = req_block(T - 2 * HOUR, 1, bad=1) + req_block(T - HOUR, 99)
    rep = report({"requests": requests(rows)}, config(slos=[slo(target=0.75)]))
    s = slo_entry(rep, "avail")
    assert (s["good"], s["total"]) == (99, 100)
    assert s["sli"] == 0.99
    # consumed 1 / (0.25 * 100) = 0.04
    assert s["budget_remaining"] == approx(0.96)
    assert s["status"] == "healthy"


def test_occurrences_sum_events_from_buckets_too() -> None:
    rows = [("avail", T - 2 * HOUR, 0, 1), ("avail", T - HOUR, 99, 99)]
    rep = report({"sli_buckets": buckets(rows)}, config(slos=[slo(target=0.75)]))
    assert slo_entry(rep, "avail")["sli"] == 0.99


def test_timeslices_partial_empty_and_exact_target_slices() -> None:
    # T = 12:02, window 1h -> [11:02, 12:02); 5-minute slices aligned to the epoch.
    t = datetime(2025, 3, 15, 12, 2, tzinfo=UTC)

    def at(h: int, m: int) -> datetime:
        return datetime(2025, 3, 15, h, m, tzinfo=UTC)

    rows = (
        req_block(at(10, 58), 3, bad=3)  # before the window (only in burn(2h) and longer)
        + req_block(at(11, 3), 2, bad=2)  # slice [11:00, 11:05) starts before 11:02: partial
        + req_block(at(11, 6), 20, bad=1)  # slice 11:05: 19/20 = 0.95 == slice target -> good
        + req_block(at(11, 12), 20, bad=2)  # slice 11:10: 18/20 = 0.9 -> bad
        + req_block(at(11, 15), 5)  # slice 11:15: 10/10 over two minutes -> good
        + req_block(at(11, 19), 5)
        + req_block(at(12, 1), 4, bad=4)  # slice [12:00, 12:05) ends after T: partial
    )
    ts = slo(
        target=0.5,
        window="1h",
        budgeting="timeslices",
        timeslice={"length": "5m", "target": 0.95},
    )
    rep = report({"requests": requests(rows)}, config(slos=[ts]), as_of=t)
    s = slo_entry(rep, "avail")
    assert s["budgeting"] == "timeslices"
    # evaluated slices: 11:05 (good), 11:10 (bad), 11:15 (good); the 8 other whole slices are
    # empty and not evaluated; the two partial slices are not evaluated.
    assert (s["good"], s["total"]) == (2, 3)
    assert s["sli"] == approx(2 / 3)
    # consumed = 1 / (0.5 * 3) = 2/3 -> remaining 1/3
    assert s["budget_remaining"] == approx(1 / 3)
    assert s["status"] == "healthy"
    b = burns(s)
    # burns from events: 5m and 30m see only 12:01 (4 bad of 4): 1 / 0.5 = 2
    assert b["5m"] == 2.0
    assert b["30m"] == 2.0
    # 1h [11:02, 12:02): 2+20+20+5+5+4 = 56 events, 2+1+2+4 = 9 bad -> (9/56)/0.5 = 18/56
    assert b["1h"] == approx(18 / 56)
    # 2h adds 10:58 (3 bad): 59 events, 12 bad -> (12/59)/0.5 = 24/59
    for w in ("2h", "6h", "1d", "3d"):
        assert b[w] == approx(24 / 59)
    assert s["alerts"] == []
    # one bad slice would eat 1 / (0.5 * 3) of the budget -> low traffic
    assert s["one_bad_event_budget_share"] == approx(2 / 3)
    assert s["low_traffic"] is True


def test_timeslices_with_only_partial_slices_is_no_data() -> None:
    # T = 12:02, window 1h: the only events are in the trailing partial slice [12:00, 12:05).
    t = datetime(2025, 3, 15, 12, 2, tzinfo=UTC)
    rows = req_block(datetime(2025, 3, 15, 12, 0, tzinfo=UTC), 10)
    ts = slo(
        target=0.5, window="1h", budgeting="timeslices", timeslice={"length": "5m", "target": 0.9}
    )
    s = slo_entry(report({"requests": requests(rows)}, config(slos=[ts]), as_of=t), "avail")
    assert (s["good"], s["total"]) == (0, 0)
    assert s["status"] == "no_data"
    assert s["burn_rates"]["5m"] == 0.0  # events still feed burn rates


# --- burn-rate alerts (budget 1/64: burn = error ratio * 64) ------------------------------


def _alert_run(rows: list[tuple[str, object, int, int]]) -> dict:
    rep = report({"sli_buckets": buckets(rows)}, config(slos=[slo(target=BUDGET_64)]))
    return slo_entry(rep, "avail")


def test_page_1h_5m_alone() -> None:
    s = _alert_run([("avail", T - MIN, 0, 1), ("avail", T - 3 * HOUR, 99, 99)])
    # 5m..2h: 1 bad of 1 -> 64; 6h..3d: 1 bad of 100 -> 0.64
    b = burns(s)
    assert [b[w] for w in ("5m", "30m", "1h", "2h")] == [64.0] * 4
    assert [b[w] for w in ("6h", "1d", "3d")] == [approx(0.64)] * 3
    assert alerts(s) == [("page", "1h", "5m")]
    # budget_remaining = 1 - 1 / (100/64) = 0.36 >= 0.25, but a page fires -> at_risk
    assert s["budget_remaining"] == approx(0.36)
    assert s["status"] == "at_risk"


def test_page_6h_30m_alone() -> None:
    s = _alert_run(
        [
            ("avail", T - 10 * MIN, 0, 1),
            ("avail", T - 3 * HOUR, 9, 9),
            ("avail", T - 12 * HOUR, 90, 90),
        ]
    )
    b = burns(s)
    assert b["5m"] is None  # nothing in [T-5m, T): page 1h/5m cannot fire
    assert [b[w] for w in ("30m", "1h", "2h")] == [64.0] * 3
    assert b["6h"] == approx(6.4)  # 1 bad of 10
    assert b["1d"] == approx(0.64) and b["3d"] == approx(0.64)  # 1 bad of 100
    assert alerts(s) == [("page", "6h", "30m")]
    assert s["status"] == "at_risk"


def test_ticket_1d_2h_alone() -> None:
    s = _alert_run(
        [
            ("avail", T - 90 * MIN, 0, 1),
            ("avail", T - 12 * HOUR, 19, 19),
            ("avail", T - 2 * DAY, 80, 80),
        ]
    )
    b = burns(s)
    assert [b[w] for w in ("5m", "30m", "1h")] == [None] * 3
    assert b["2h"] == 64.0 and b["6h"] == 64.0
    assert b["1d"] == approx(3.2)  # 1 bad of 20
    assert b["3d"] == approx(0.64)  # 1 bad of 100
    assert alerts(s) == [("ticket", "1d", "2h")]
    # a ticket alone does not make the SLO at risk: remaining 0.36
    assert s["status"] == "healthy"


def test_ticket_3d_6h_alone_at_exact_burn_one_and_exact_target() -> None:
    s = _alert_run([("avail", T - 3 * HOUR, 0, 1), ("avail", T - 2 * DAY, 63, 63)])
    b = burns(s)
    assert [b[w] for w in ("5m", "30m", "1h", "2h")] == [None] * 4
    assert b["6h"] == 64.0 and b["1d"] == 64.0
    assert b["3d"] == 1.0  # 1 bad of 64, exactly 1: ">= 1" fires
    assert alerts(s) == [("ticket", "3d", "6h")]
    # sli 63/64 == target: not breached; consumed 1 / (64/64) = 1 -> remaining 0 < 0.25
    assert s["sli"] == BUDGET_64
    assert s["budget_remaining"] == 0.0
    assert s["status"] == "at_risk"


def test_page_and_ticket_together() -> None:
    s = _alert_run([("avail", T - MIN, 0, 10)])
    assert burns(s) == dict.fromkeys(ALL_BURNS, 64.0)
    assert alerts(s) == [
        ("page", "1h", "5m"),
        ("page", "6h", "30m"),
        ("ticket", "1d", "2h"),
        ("ticket", "3d", "6h"),
    ]
    assert {a["severity"] for a in s["alerts"]} == {"page", "ticket"}
    assert s["status"] == "breached"  # sli 0 < target: breached wins over at_risk


def test_page_threshold_is_inclusive() -> None:
    # 9 bad of 40 = 0.225 -> burn 0.225 * 64 = 14.4 exactly in every window
    s = _alert_run([("avail", T - MIN, 31, 40)])
    assert burns(s)["1h"] == 14.4
    assert ("page", "1h", "5m") in alerts(s)
    # 224 bad of 1000 -> 14.336 < 14.4: no 1h/5m page (the 6h/30m page at >= 6 still fires)
    s = _alert_run([("avail", T - MIN, 776, 1000)])
    assert burns(s)["1h"] == approx(14.336)
    assert alerts(s) == [("page", "6h", "30m"), ("ticket", "1d", "2h"), ("ticket", "3d", "6h")]


# --- status ---------------------------------------------------------------------------------


def test_at_risk_by_budget_without_alerts() -> None:
    # 4 bad of 20, 5 days ago (outside every burn window): sli 0.8 >= 0.75,
    # consumed 4 / (0.25 * 20) = 0.8 -> remaining 0.2 < 0.25
    rep = report(
        {"sli_buckets": buckets([("avail", T - 5 * DAY, 16, 20)])}, config(slos=[slo(target=0.75)])
    )
    s = slo_entry(rep, "avail")
    assert s["budget_remaining"] == approx(0.2)
    assert burns(s) == dict.fromkeys(ALL_BURNS)
    assert s["alerts"] == []
    assert s["status"] == "at_risk"


def test_exactly_a_quarter_budget_left_is_healthy() -> None:
    # target 0.875 (budget 0.125): 6 bad of 64 -> consumed 6 / 8 = 0.75 -> remaining 0.25
    rep = report(
        {"sli_buckets": buckets([("avail", T - 5 * DAY, 58, 64)])}, config(slos=[slo(target=0.875)])
    )
    s = slo_entry(rep, "avail")
    assert s["sli"] == 0.90625
    assert s["budget_remaining"] == 0.25
    assert s["status"] == "healthy"


def test_breached_and_negative_budget() -> None:
    # 6 bad of 20: sli 0.7 < 0.75 -> breached; consumed 6 / 5 = 1.2 -> remaining -0.2
    rep = report(
        {"sli_buckets": buckets([("avail", T - 5 * DAY, 14, 20)])}, config(slos=[slo(target=0.75)])
    )
    s = slo_entry(rep, "avail")
    assert s["sli"] == approx(0.7)
    assert s["budget_remaining"] == approx(-0.2)
    assert s["status"] == "breached"
    assert entry(rep)["slo_summary"]["breached"] == 1


def test_healthy() -> None:
    rep = report(
        {"sli_buckets": buckets([("avail", T - 5 * DAY, 80, 80)])}, config(slos=[slo(target=0.75)])
    )
    s = slo_entry(rep, "avail")
    assert (s["sli"], s["budget_remaining"], s["status"]) == (1.0, 1.0, "healthy")


def test_low_traffic_budget_share() -> None:
    rows = [("few", T - 5 * DAY, 8, 8), ("many", T - 5 * DAY, 80, 80)]
    cfg = config(slos=[slo("few", target=0.75), slo("many", target=0.75)])
    rep = report({"sli_buckets": buckets(rows)}, cfg)
    few, many = slo_entry(rep, "few"), slo_entry(rep, "many")
    # 1 / (0.25 * 8) = 0.5 > 0.1 (the default flag share); 1 / (0.25 * 80) = 0.05
    assert few["one_bad_event_budget_share"] == 0.5
    assert few["low_traffic"] is True
    assert many["one_bad_event_budget_share"] == 0.05
    assert many["low_traffic"] is False


def test_summary_min_budget_over_slos_with_data() -> None:
    rows = [("a", T - 5 * DAY, 16, 20), ("b", T - 5 * DAY, 14, 20)]
    cfg = config(slos=[slo("a", target=0.75), slo("b", target=0.75), slo("c", target=0.75)])
    summary = entry(report({"sli_buckets": buckets(rows)}, cfg))["slo_summary"]
    # a: remaining 0.2 (at_risk); b: -0.2 (breached); c: no data (ignored by the min)
    assert summary["defined"] == 3
    assert summary["breached"] == 1
    assert summary["min_budget_remaining"] == approx(-0.2)


# --- where the buckets come from ---------------------------------------------------------


def test_sli_buckets_from_a_source_replace_requests_for_that_slo() -> None:
    # both SLOs match the same 5 requests (1 bad); only "fed" has provided buckets
    reqs = requests(req_block(T - 10 * MIN, 5, bad=1))
    provided = buckets(
        [
            ("fed", T - 10 * MIN, 3, 5),  # same minute as the requests: the requests never count
            ("fed", T - 2 * HOUR, 10, 10),
            ("fed", T - DAY - MIN, 0, 4),  # before the 1d window, inside burn(3d)
            ("fed", T, 0, 50),  # at T: never counts
            ("other", T - 2 * HOUR, 0, 100),  # an SLO nobody configured
        ],
        source="prom",
    )
    cfg = config(slos=[slo("fed", target=0.75, window="1d"), slo("reqs", target=0.75)])
    rep = report({"requests": reqs, "sli_buckets": provided}, cfg)
    s = slo_entry(rep, "fed")
    # window [T-1d, T): bucket 3/5 + bucket 10/10 = 15 events, 2 bad
    assert (s["good"], s["total"]) == (13, 15)
    assert s["sli"] == approx(13 / 15)
    # consumed 2 / (0.25 * 15) = 8/15 -> remaining 7/15
    assert s["budget_remaining"] == approx(7 / 15)
    b = burns(s)
    assert b["5m"] is None  # the requests at T - 10m do not fill the 5m window
    assert b["30m"] == approx(1.6)  # 5 events, 2 bad: 0.4 / 0.25
    assert b["1d"] == approx(8 / 15)  # 15 events, 2 bad: (2/15) / 0.25
    assert b["3d"] == approx(24 / 19)  # 19 events, 6 bad: (6/19) / 0.25
    assert s["alerts"] == []  # ticket 3d/6h: burn(6h) = 8/15 < 1
    # an SLO without provided rows is still counted from requests: 4 good of 5
    r = slo_entry(rep, "reqs")
    assert (r["good"], r["total"]) == (4, 5)


def test_an_slo_with_a_provided_row_outside_every_window_ignores_requests() -> None:
    # one provided row, 40 days old (outside the 28d window and burn windows): the SLO is
    # bucket-fed, so its 10 requests never count and it has no data
    provided = buckets([("fed", T - 40 * DAY, 1, 1)])
    reqs = requests(req_block(T - HOUR, 10))
    s = slo_entry(
        report({"requests": reqs, "sli_buckets": provided}, config(slos=[slo("fed")])), "fed"
    )
    assert (s["good"], s["total"], s["status"]) == (0, 0, "no_data")


@pytest.mark.parametrize(
    "kw",
    [
        {"sli": "availability", "indicator": {"total": "http_total", "bad": "http_errors"}},
        {"sli": "latency", "indicator": {"total": "http_total", "good": "http_fast"}},
        {
            "sli": "latency",
            "threshold_ms": 100,
            "indicator": {"histogram": 'http_seconds{job="api"}', "unit": "s"},
        },
    ],
)
def test_an_slo_with_an_indicator_and_no_buckets_is_no_data_despite_requests(kw: dict) -> None:
    reqs = requests(req_block(T - HOUR, 100, bad=50))
    s = slo_entry(report({"requests": reqs}, config(slos=[slo("ind", target=0.75, **kw)])), "ind")
    assert (s["good"], s["total"], s["sli"]) == (0, 0, None)
    assert burns(s) == dict.fromkeys(ALL_BURNS)
    assert s["status"] == "no_data"


def test_threshold_op_le_and_lt_at_exactly_the_threshold() -> None:
    rows = [
        {"timestamp": T - HOUR, "duration_ms": 100.0},  # exactly at: good for le, bad for lt
        {"timestamp": T - HOUR, "duration_ms": 99.9},  # under: good for both
        {"timestamp": T - HOUR, "duration_ms": 100.1},  # over: bad for both
        {"timestamp": T - HOUR, "duration_ms": 100.0},
    ]
    cfg = config(
        slos=[
            slo("le", sli="latency", threshold_ms=100, target=0.5),
            slo("lt", sli="latency", threshold_ms=100, threshold_op="lt", target=0.5),
            slo("lt200", sli="latency", threshold_ms=200, threshold_op="lt", target=0.5),
        ]
    )
    rep = report({"requests": requests(rows)}, cfg)
    le, lt, lt200 = (slo_entry(rep, n) for n in ("le", "lt", "lt200"))
    assert (le["good"], le["total"]) == (3, 4)  # 100, 99.9, 100 <= 100
    assert (lt["good"], lt["total"]) == (1, 4)  # only 99.9 < 100
    assert (lt200["good"], lt200["total"]) == (4, 4)
    assert (le["threshold_ms"], le["threshold_op"]) == (100.0, "le")
    assert (lt["threshold_ms"], lt["threshold_op"]) == (100.0, "lt")


def test_slo_filters_and_default_production_environment() -> None:
    at = T - HOUR
    rows = (
        req_block(at, 10, bad=1)  # api /triage production: matches the filtered SLO
        + req_block(at, 10, bad=10, service="web")
        + req_block(at, 10, bad=10, operation="/login")
        + req_block(at, 10, bad=10, environment="staging")
        + req_block(at, 10, bad=10, initiative="beta")
    )
    cfg = config(
        slos=[
            slo("filtered", target=0.75, filter={"service": "api", "operation": "/triage"}),
            slo("staging", target=0.75, filter={"environment": "staging"}),
            slo("all_prod", target=0.75),
        ]
    )
    rep = report({"requests": requests(rows)}, cfg)
    f, st, a = (slo_entry(rep, n) for n in ("filtered", "staging", "all_prod"))
    assert (f["good"], f["total"]) == (9, 10)
    # only staging requests of alpha (any service / operation)
    assert (st["good"], st["total"]) == (0, 10)
    # production requests of alpha: api/triage, web, /login = 30 events, 1 + 10 + 10 bad;
    # staging and beta excluded
    assert (a["good"], a["total"]) == (9, 30)


def test_latency_good_when_at_or_under_threshold_regardless_of_error() -> None:
    rows = [
        {"timestamp": T - HOUR, "duration_ms": 100.0},  # == threshold: good
        {"timestamp": T - HOUR, "duration_ms": 100.5},  # over: bad
        {"timestamp": T - HOUR, "duration_ms": 50.0, "error": True},  # fast error: good latency
        {"timestamp": T - HOUR, "duration_ms": 0.0},
    ]
    lat = slo("lat", sli="latency", threshold_ms=100, target=0.5)
    s = slo_entry(report({"requests": requests(rows)}, config(slos=[lat])), "lat")
    assert s["sli_type"] == "latency"
    assert (s["good"], s["total"]) == (3, 4)
    assert s["sli"] == 0.75


def test_two_initiatives_keep_their_own_slos() -> None:
    rows = req_block(T - HOUR, 4, bad=1) + req_block(T - HOUR, 4, bad=4, initiative="beta")
    cfg = config(
        initiatives=[initiative(), initiative("beta")],
        slos=[slo("a", target=0.5), slo("b", initiative="beta", target=0.5)],
    )
    rep = report({"requests": requests(rows)}, cfg)
    assert [s["name"] for s in entry(rep)["slos"]] == ["a"]
    assert slo_entry(rep, "a")["sli"] == 0.75
    assert slo_entry(rep, "b", "beta")["sli"] == 0.0
    assert INIT in [i["id"] for i in rep["initiatives"]]


def test_as_of_with_an_offset_is_converted_to_utc() -> None:
    # 14:00:59 at +02:00 is 12:00:59Z, truncated to 12:00Z = T
    plus2 = datetime(2025, 3, 15, 14, 0, 59, tzinfo=timezone(timedelta(hours=2)))
    rows = req_block(T - MIN, 3) + req_block(T, 1, bad=1)
    rep = report({"requests": requests(rows)}, config(slos=[slo(target=0.75)]), as_of=plus2)
    assert rep["as_of"] == "2025-03-15T12:00:00Z"
    assert (slo_entry(rep, "avail")["good"], slo_entry(rep, "avail")["total"]) == (3, 3)


def test_timeslice_aligned_with_the_window_start_is_evaluated() -> None:
    # T = 12:00, window 1h -> [11:00, 12:00): slice [11:00, 11:05) lies entirely inside
    rows = req_block(T - HOUR, 9, bad=1) + req_block(T - 5 * MIN, 10, bad=5)
    ts = slo(
        target=0.5, window="1h", budgeting="timeslices", timeslice={"length": "5m", "target": 0.8}
    )
    s = slo_entry(report({"requests": requests(rows)}, config(slos=[ts])), "avail")
    # slice 11:00: 8/9 >= 0.8 good; slice 11:55: 5/10 < 0.8 bad -> 1 good of 2
    assert (s["good"], s["total"]) == (1, 2)
    assert s["sli"] == 0.5
    assert s["budget_remaining"] == 0.0  # consumed 1 / (0.5 * 2) = 1
    assert s["status"] == "at_risk"
