"""Config durations are parsed once, at load, and keep the text they were written as."""

from __future__ import annotations

import pickle
from datetime import timedelta

import pytest
from pydantic import ValidationError

from core.durations import Duration, parse_duration
from core.models import Settings, Slo, Source


def test_a_duration_is_a_timedelta_that_prints_as_written() -> None:
    window = Duration("28d")
    assert window == timedelta(days=28)
    assert (str(window), f"{window}", window.seconds_total) == ("28d", "28d", 28 * 86400)
    assert pickle.loads(pickle.dumps(window)).text == "28d"  # noqa: S301 (our own bytes)


def test_settings_and_sources_hold_parsed_durations() -> None:
    settings = Settings(delivery_window="30d", link_window="2h")
    assert (settings.delivery_window, settings.link_window) == (
        timedelta(days=30),
        timedelta(hours=2),
    )
    assert settings.model_dump()["delivery_window"] == "30d"
    source = Source(name="s", type="file", tables=["incidents"], freshness="6h")
    assert source.freshness == timedelta(hours=6)
    assert parse_duration(source.freshness) == 6 * 3600  # the old helper still accepts one


def test_slo_windows_are_rolling_durations_or_calendar_windows() -> None:
    base = {"name": "a", "initiative": "i", "sli": "availability", "target": 0.99}
    assert Slo(**base).window_seconds == 28 * 86400
    assert Slo(**base, window="6h").window_text == "6h"
    assert Slo(**base, window="90m").window_seconds == 90 * 60
    assert Slo(**base, window="2w").window_seconds == 14 * 86400
    calendar = Slo(**base, window="calendar_month")
    assert (calendar.window_text, calendar.window_seconds) == ("calendar_month", None)
    assert calendar.model_dump()["window"] == "calendar_month"
    general = Slo(**base, window={"calendar": "1Q", "start": "2026-02-01T00:00:00"})
    assert general.model_dump()["window"] == {"calendar": "1Q", "start": "2026-02-01T00:00:00"}
    for bad in ("30s", "0d", "calendar_fortnight", "1M"):
        with pytest.raises(ValidationError, match="calendar_month"):
            Slo(**base, window=bad)


def test_a_number_is_still_refused_as_it_was_for_a_text_field() -> None:
    with pytest.raises(ValidationError, match="Input should be a valid string"):
        Settings(delivery_window=90)
