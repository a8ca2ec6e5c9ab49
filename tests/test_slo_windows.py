"""SLO windows (docs/metrics.md, "Windows"): rolling and calendar starts worked out by hand.

Every expected instant is written out in UTC with the local wall time and offset beside it.
2026 daylight-saving changes used below: America/New_York EST -5 -> EDT -4 on Sun 8 March
(02:00 local) and back on Sun 1 November; Europe/Berlin CET +1 -> CEST +2 on Sun 29 March and
back on Sun 25 October (03:00 CEST -> 02:00 CET). Asia/Tokyo is +9 all year.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from metrics_helpers import config, report, req_block, requests, slo, slo_entry

from core.windows import parse_window
from metrics.slo import window_start
from metrics.timewin import calendar_start


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def start_of(window: Any, zone: str, as_of: datetime) -> datetime:
    parsed = parse_window(window)
    assert not isinstance(parsed, timedelta)
    # the window's own zone wins, as Slo.window_timezone decides for window_start
    return calendar_start(parsed, parsed.timezone or zone, as_of)


# --- rolling ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("window", "length"),
    [
        ("90m", timedelta(minutes=90)),
        ("36h", timedelta(hours=36)),
        ("28d", timedelta(days=28)),
        ("2w", timedelta(days=14)),
    ],
)
def test_rolling_windows_are_t_minus_w(window: str, length: timedelta) -> None:
    t = utc(2026, 3, 8, 12, 0)  # a DST day in New York: rolling windows ignore zones
    assert window_start(slo(window=window, timezone="America/New_York"), t) == t - length


# --- calendar shorthands ------------------------------------------------------------------


def test_calendar_week_new_york_before_and_after_the_spring_change() -> None:
    # Sun 8 Mar 08:00 EDT: the week began Mon 2 Mar 00:00 EST = 05:00Z
    assert start_of("calendar_week", "America/New_York", utc(2026, 3, 8, 12)) == utc(2026, 3, 2, 5)
    # Tue 10 Mar 08:00 EDT: the week began Mon 9 Mar 00:00 EDT = 04:00Z
    assert start_of("calendar_week", "America/New_York", utc(2026, 3, 10, 12)) == utc(2026, 3, 9, 4)


def test_calendar_week_berlin_on_the_autumn_change() -> None:
    # the week of Sun 25 Oct began Mon 19 Oct 00:00 CEST = Sun 18 Oct 22:00Z
    week = utc(2026, 10, 18, 22)
    assert start_of("calendar_week", "Europe/Berlin", utc(2026, 10, 25, 12)) == week
    # Sun 25 Oct 23:59 CET = 22:59Z: one minute before the next week, still this one
    assert start_of("calendar_week", "Europe/Berlin", utc(2026, 10, 25, 22, 59)) == week
    # Mon 26 Oct 00:00 CET = 23:00Z exactly: a new week starts at T (empty window [T, T))
    t = utc(2026, 10, 25, 23)
    assert start_of("calendar_week", "Europe/Berlin", t) == t


def test_calendar_month_berlin_after_the_autumn_change() -> None:
    # 1 Nov 00:00 CET = 31 Oct 23:00Z
    t = utc(2026, 10, 31, 23)
    assert start_of("calendar_month", "Europe/Berlin", t) == t
    # 31 Oct 23:59 CET = 22:59Z is still October: 1 Oct 00:00 CEST = 30 Sep 22:00Z
    assert start_of("calendar_month", "Europe/Berlin", utc(2026, 10, 31, 22, 59)) == utc(
        2026, 9, 30, 22
    )
    # 1 Nov 01:00 CET = 00:00Z
    assert start_of("calendar_month", "Europe/Berlin", utc(2026, 11, 1)) == t


def test_calendar_quarter_in_tokyo() -> None:
    # 1 Jul 09:00 JST = 00:00Z: Q3 began 1 Jul 00:00 JST = 30 Jun 15:00Z
    assert start_of("calendar_quarter", "Asia/Tokyo", utc(2026, 7, 1)) == utc(2026, 6, 30, 15)
    # 30 Jun 23:59 JST = 14:59Z: still Q2, from 1 Apr 00:00 JST = 31 Mar 15:00Z
    assert start_of("calendar_quarter", "Asia/Tokyo", utc(2026, 6, 30, 14, 59)) == utc(
        2026, 3, 31, 15
    )
    # exactly on the boundary
    assert start_of("calendar_quarter", "Asia/Tokyo", utc(2026, 6, 30, 15)) == utc(2026, 6, 30, 15)


def test_calendar_year_new_york() -> None:
    # 31 Dec 2025 23:59 EST = 1 Jan 04:59Z: the year began 1 Jan 2025 00:00 EST = 05:00Z
    assert start_of("calendar_year", "America/New_York", utc(2026, 1, 1, 4, 59)) == utc(
        2025, 1, 1, 5
    )
    assert start_of("calendar_year", "America/New_York", utc(2026, 1, 1, 5)) == utc(2026, 1, 1, 5)


def test_the_slo_timezone_aligns_a_shorthand_window() -> None:
    t = utc(2026, 3, 10, 12)
    assert window_start(slo(window="calendar_week", timezone="America/New_York"), t) == utc(
        2026, 3, 9, 4
    )
    assert window_start(slo(window="calendar_week"), t) == utc(2026, 3, 9)  # UTC by default


# --- the general form ---------------------------------------------------------------------


def test_monthly_periods_from_the_31st_clamp_to_month_ends() -> None:
    w = {"calendar": "1M", "start": "2026-01-31T00:00:00", "timezone": "UTC"}
    # periods: 31 Jan, 28 Feb (no 31 Feb), 31 Mar, 30 Apr, 31 May ...
    assert start_of(w, "UTC", utc(2026, 2, 27, 23, 59)) == utc(2026, 1, 31)
    assert start_of(w, "UTC", utc(2026, 2, 28)) == utc(2026, 2, 28)
    assert start_of(w, "UTC", utc(2026, 3, 15, 12)) == utc(2026, 2, 28)
    assert start_of(w, "UTC", utc(2026, 3, 30, 23, 59)) == utc(2026, 2, 28)  # a minute before
    assert start_of(w, "UTC", utc(2026, 3, 31)) == utc(2026, 3, 31)  # exactly on it
    assert start_of(w, "UTC", utc(2026, 5, 1)) == utc(2026, 4, 30)
    # before the start: periods repeat backwards too (31 Jan - 1M = 31 Dec)
    assert start_of(w, "UTC", utc(2026, 1, 15)) == utc(2025, 12, 31)


def test_two_week_periods_in_new_york_across_the_spring_change() -> None:
    # from Mon 5 Jan 00:00: 19 Jan, 2 Feb, 16 Feb, 2 Mar (EST), 16 Mar (EDT) ...
    w = {"calendar": "2w", "start": "2026-01-05T00:00:00", "timezone": "America/New_York"}
    # Sun 15 Mar 23:59 EDT = 16 Mar 03:59Z: the period of 2 Mar 00:00 EST = 05:00Z
    assert start_of(w, "UTC", utc(2026, 3, 16, 3, 59)) == utc(2026, 3, 2, 5)
    # Mon 16 Mar 00:00 EDT = 04:00Z exactly: a new period
    assert start_of(w, "UTC", utc(2026, 3, 16, 4)) == utc(2026, 3, 16, 4)
    # the window's own timezone wins over the one passed for the SLO
    s = slo(window=w, timezone="Asia/Tokyo")
    assert s.window_timezone == "America/New_York"
    assert window_start(s, utc(2026, 3, 16, 3, 59)) == utc(2026, 3, 2, 5)


def test_quarter_periods_from_a_mid_month_local_time_in_tokyo() -> None:
    # 15 Feb, 15 May, 15 Aug, 15 Nov at 09:30 JST (= 00:30Z)
    w = {"calendar": "1Q", "start": "2026-02-15T09:30:00", "timezone": "Asia/Tokyo"}
    assert start_of(w, "Asia/Tokyo", utc(2026, 8, 15, 0, 29)) == utc(2026, 5, 15, 0, 30)
    assert start_of(w, "Asia/Tokyo", utc(2026, 8, 15, 0, 30)) == utc(2026, 8, 15, 0, 30)


def test_a_start_in_the_spring_gap_resolves_with_the_earlier_offset() -> None:
    # 8 Mar 02:30 does not exist in New York; fold 0 reads it at EST: 07:30Z (03:30 EDT).
    # The next week's 15 Mar 02:30 EDT = 06:30Z.
    w = {"calendar": "1w", "start": "2026-03-08T02:30:00", "timezone": "America/New_York"}
    assert start_of(w, "UTC", utc(2026, 3, 10, 12)) == utc(2026, 3, 8, 7, 30)
    assert start_of(w, "UTC", utc(2026, 3, 15, 6, 29)) == utc(2026, 3, 8, 7, 30)
    assert start_of(w, "UTC", utc(2026, 3, 15, 6, 30)) == utc(2026, 3, 15, 6, 30)


def test_yearly_periods_from_29_february() -> None:
    # 29 Feb 2024, then 28 Feb 2025, 28 Feb 2026, 28 Feb 2027, 29 Feb 2028
    w = {"calendar": "1Y", "start": "2024-02-29T00:00:00"}
    assert start_of(w, "UTC", utc(2026, 2, 27)) == utc(2025, 2, 28)
    assert start_of(w, "UTC", utc(2028, 2, 29)) == utc(2028, 2, 29)
    assert start_of(w, "UTC", utc(2028, 2, 28, 23, 59)) == utc(2027, 2, 28)


# --- through the report -------------------------------------------------------------------


def test_report_counts_a_berlin_month_and_names_window_and_zone() -> None:
    t = utc(2026, 11, 1, 12)  # the month began 31 Oct 23:00Z (1 Nov 00:00 CET)
    rows = (
        req_block(utc(2026, 10, 31, 22, 59), 5, bad=5)  # 31 Oct 23:59 CET: October, out
        + req_block(utc(2026, 10, 31, 23), 4, bad=1)  # the first minute of November: in
        + req_block(utc(2026, 11, 1, 11), 4)
    )
    s_cfg = slo(target=0.75, window="calendar_month", timezone="Europe/Berlin")
    s = slo_entry(report({"requests": requests(rows)}, config(slos=[s_cfg]), as_of=t), "avail")
    # window: 8 events, 1 bad -> 7/8
    assert (s["good"], s["total"], s["sli"]) == (7, 8, 0.875)
    assert (s["window"], s["timezone"]) == ("calendar_month", "Europe/Berlin")
    # burn(1d) still sees the 5 October errors: 13 events, 6 bad -> (6/13) / 0.25 = 24/13
    assert s["burn_rates"]["1d"] == pytest.approx(24 / 13, rel=1e-12)


def test_report_window_text_of_the_general_form() -> None:
    w = {"calendar": "1M", "start": "2026-01-01T00:00:00", "timezone": "America/New_York"}
    s = slo_entry(report({}, config(slos=[slo(window=w)]), as_of=utc(2026, 3, 15)), "avail")
    assert s["window"] == "calendar 1M from 2026-01-01T00:00:00 America/New_York"
    assert s["timezone"] == "America/New_York"


@pytest.mark.parametrize("budgeting", ["timeslices", "ratio_timeslices"])
def test_slices_on_a_calendar_window_lie_entirely_inside_it(budgeting: str) -> None:
    # Asia/Kolkata is +5:30: the March window starts 1 Mar 00:00 IST = 28 Feb 18:30Z, inside
    # the epoch-aligned hour slice [18:00Z, 19:00Z), which is therefore not evaluated.
    t = utc(2026, 3, 1, 10, 30)  # inside slice [10:00Z, 11:00Z): partial, not evaluated
    rows = (
        req_block(utc(2026, 2, 28, 18, 45), 4, bad=4)  # straddling slice: not evaluated
        + req_block(utc(2026, 2, 28, 19, 10), 4)  # slice 19:00Z: 4/4
        + req_block(utc(2026, 3, 1, 9, 0), 4, bad=3)  # slice 09:00Z: 1/4
        + req_block(utc(2026, 3, 1, 10, 0), 4, bad=4)  # trailing partial slice: not evaluated
    )
    timeslice = {"length": "1h", "target": 0.5} if budgeting == "timeslices" else {"length": "1h"}
    s_cfg = slo(
        target=0.5,
        window="calendar_month",
        timezone="Asia/Kolkata",
        budgeting=budgeting,
        timeslice=timeslice,
    )
    s = slo_entry(report({"requests": requests(rows)}, config(slos=[s_cfg]), as_of=t), "avail")
    assert s["total"] == 2  # the slices 19:00Z and 09:00Z
    if budgeting == "timeslices":
        # 4/4 >= 0.5 good; 1/4 < 0.5 bad -> 1 good slice of 2
        assert (s["good"], s["sli"]) == (1, 0.5)
    else:
        # mean of (4/4, 1/4) = 0.625; good is null
        assert (s["good"], s["sli"]) == (None, 0.625)
