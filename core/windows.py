"""SLO windows as slos.yaml writes them (docs/config.md, `window`).

- rolling: `Nm`, `Nh`, `Nd`, `Nw` (e.g. `28d`), parsed to a `Duration`;
- calendar shorthand: `calendar_week` (ISO, from Monday), `calendar_month`, `calendar_quarter`,
  `calendar_year`, aligned in the SLO's `timezone`;
- calendar general form (OpenSLO's `calendar.startTime`):
  `{calendar: <N><w|M|Q|Y>, start: <local date-time>, timezone: <IANA>}`.

The arithmetic that turns a window into the start instant lives in metrics/timewin.py.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

from core.durations import Duration

CalendarUnit = Literal["w", "M", "Q", "Y"]
SHORTHANDS: dict[str, CalendarUnit] = {
    "calendar_week": "w",
    "calendar_month": "M",
    "calendar_quarter": "Q",
    "calendar_year": "Y",
}
_ROLLING = re.compile(r"^(\d+)([mhdw])$")
_CALENDAR = re.compile(r"^(\d+)([wMQY])$")


def check_timezone(value: str) -> str:
    """`value` if it is an IANA time-zone name; ValueError otherwise."""
    if not isinstance(value, str) or not value or value != value.strip():
        raise ValueError(f"expected an IANA time-zone name (e.g. America/New_York), got {value!r}")
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (expected an IANA name such as America/New_York)"
        ) from exc
    if value not in available_timezones() and value != "UTC":
        raise ValueError(f"unknown time zone {value!r} (expected an IANA name)")
    return value


class CalendarWindow(BaseModel):
    """A calendar-aligned window: periods of `count` x `unit` repeating from `start` in a zone.

    `start` is a naive local date-time (None: the natural start, Monday 00:00 / the 1st of
    January); `timezone` None means the SLO's own `timezone`. `shorthand` keeps the text when the
    window was written `calendar_month` and friends.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    calendar: str
    start: datetime | None = None
    timezone: str | None = None
    shorthand: str | None = None

    @field_validator("calendar")
    @classmethod
    def _calendar(cls, value: str) -> str:
        match = _CALENDAR.match(value)
        if not match or int(match.group(1)) <= 0:
            raise ValueError(
                "expected <N><w|M|Q|Y> (weeks, months, quarters, years), e.g. 1M or 1Q"
            )
        return value

    @field_validator("start")
    @classmethod
    def _naive(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError(
                "start is a local date-time without an offset; put the zone in `timezone`"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_timezone(value)

    @property
    def count(self) -> int:
        """How many units one period spans."""
        return int(self.calendar[:-1])

    @property
    def unit(self) -> CalendarUnit:
        """`w`, `M`, `Q` or `Y`."""
        unit = self.calendar[-1]
        assert unit in ("w", "M", "Q", "Y")
        return unit  # type: ignore[return-value]

    @property
    def months(self) -> int:
        """Calendar months per period (0 for weeks)."""
        return {"w": 0, "M": 1, "Q": 3, "Y": 12}[self.unit] * self.count

    def __str__(self) -> str:
        if self.shorthand:
            return self.shorthand
        parts = [f"calendar {self.calendar}"]
        if self.start is not None:
            parts.append(f"from {self.start.isoformat()}")
        if self.timezone is not None:
            parts.append(self.timezone)
        return " ".join(parts)


SloWindow = Duration | CalendarWindow


def parse_window(value: Any) -> SloWindow:
    """An SLO window from its YAML form (string or mapping); ValueError names what is accepted."""
    if isinstance(value, Duration | CalendarWindow):
        return value
    if isinstance(value, dict):
        return CalendarWindow.model_validate(value)
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if value in SHORTHANDS:
        return CalendarWindow(calendar=f"1{SHORTHANDS[value]}", shorthand=value)
    match = _ROLLING.match(value)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(
            "expected a rolling `Nm`, `Nh`, `Nd` or `Nw` (e.g. 28d), calendar_week, "
            "calendar_month, calendar_quarter, calendar_year, or "
            "{calendar: 1M, start: 2026-01-01T00:00:00, timezone: America/New_York}"
        )
    return Duration(value)


def dump_window(value: SloWindow) -> Any:
    """The YAML form of a window (the inverse of parse_window)."""
    if isinstance(value, Duration):
        return str(value)
    if value.shorthand:
        return value.shorthand
    out: dict[str, Any] = {"calendar": value.calendar}
    if value.start is not None:
        out["start"] = value.start.isoformat()
    if value.timezone is not None:
        out["timezone"] = value.timezone
    return out
