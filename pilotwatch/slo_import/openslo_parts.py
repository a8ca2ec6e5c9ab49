"""OpenSLO time windows, budgeting methods and targets in slos.yaml terms (docs/bring-your-slos.md).

Each function maps one part of an OpenSLO SLO exactly or raises `Refuse` naming the field.
"""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from core.windows import SHORTHANDS, CalendarWindow, SloWindow, check_timezone

_ROLLING = re.compile(r"^(\d+)([mhdw])$")
_CALENDAR = re.compile(r"^(\d+)([wMQY])$")
_ANY = re.compile(r"^(\d+)([mhdwMQY])$")
_SLICE = re.compile(r"^(\d+)([smhdw])$")
UNIT_SHORTHAND: dict[str, str] = {unit: name for name, unit in SHORTHANDS.items()}
START_FORMAT = "%Y-%m-%d %H:%M:%S"  # OpenSLO's calendar.startTime: local, without a zone


class Refuse(Exception):
    """One part of a document that cannot be represented exactly."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def natural_start(unit: str, start: datetime) -> bool:
    """True when `start` begins a natural period (Monday, 1st of month/quarter, 1 January)."""
    if start.time() != datetime.min.time():
        return False
    if unit == "w":
        return start.weekday() == 0
    if unit == "M":
        return start.day == 1
    if unit == "Q":
        return start.day == 1 and start.month in (1, 4, 7, 10)
    return start.day == 1 and start.month == 1


def _start(value: Any, field: str) -> datetime:
    if isinstance(value, datetime):  # YAML reads an unquoted `2022-01-01 12:00:00` as a timestamp
        start = value
    elif isinstance(value, str):
        try:
            start = datetime.strptime(value.strip(), START_FORMAT)
        except ValueError:
            try:
                start = datetime.fromisoformat(value.strip())
            except ValueError:
                raise Refuse(
                    field, f"{value!r} is not a date-time like 2022-01-01 12:00:00"
                ) from None
    else:
        raise Refuse(field, "expected a date-time like 2022-01-01 12:00:00")
    if start.tzinfo is not None:
        raise Refuse(field, "startTime is local wall time without an offset; the zone is timeZone")
    return start


def map_window(spec: dict[str, Any]) -> tuple[str | dict[str, Any], str, str]:
    """(slos.yaml window, zone for the SLO's `timezone` or "", note) from spec.timeWindow."""
    windows = spec.get("timeWindow")
    if windows is None:
        raise Refuse("spec.timeWindow", "missing: pilotwatch needs the SLO's window (e.g. 28d)")
    if not isinstance(windows, list) or not windows:
        raise Refuse("spec.timeWindow", "expected a list with exactly one window")
    if len(windows) > 1:
        raise Refuse("spec.timeWindow", f"{len(windows)} windows; an SLO has exactly one")
    window = windows[0]
    where = "spec.timeWindow[0]"
    if not isinstance(window, dict):
        raise Refuse(where, "expected a mapping with duration and isRolling")
    for key in window:
        if key not in ("duration", "isRolling", "calendar"):
            raise Refuse(f"{where}.{key}", "unknown field (it could change the window)")
    duration = window.get("duration")
    if not isinstance(duration, str) or not _ANY.match(duration):
        raise Refuse(f"{where}.duration", f"expected <N><m|h|d|w|M|Q|Y>, got {duration!r}")
    calendar = window.get("calendar")
    rolling = window.get("isRolling", calendar is None)
    if not isinstance(rolling, bool):
        raise Refuse(f"{where}.isRolling", "expected true or false")
    if rolling:
        if calendar is not None:
            raise Refuse(f"{where}.calendar", "a rolling window has no calendar")
        if not _ROLLING.match(duration):
            raise Refuse(
                f"{where}.duration",
                f"a rolling {duration} window has no fixed length; use m, h, d or w "
                "(or a calendar window with isRolling: false)",
            )
        return duration, "", "rolling"
    if not _CALENDAR.match(duration):
        raise Refuse(
            f"{where}.duration",
            f"a calendar window of {duration} cannot be represented: calendar windows are "
            "whole weeks (w), months (M), quarters (Q) or years (Y)",
        )
    if not isinstance(calendar, dict):
        raise Refuse(f"{where}.calendar", "a calendar window needs calendar.startTime and timeZone")
    for key in calendar:
        if key not in ("startTime", "timeZone"):
            raise Refuse(f"{where}.calendar.{key}", "unknown field (it could change the window)")
    if "startTime" not in calendar:
        raise Refuse(f"{where}.calendar.startTime", "missing: where the periods start")
    if "timeZone" not in calendar:
        raise Refuse(f"{where}.calendar.timeZone", "missing: the IANA zone the periods align in")
    start = _start(calendar["startTime"], f"{where}.calendar.startTime")
    zone = calendar["timeZone"]
    try:
        zone = check_timezone(zone)
    except ValueError as exc:
        raise Refuse(f"{where}.calendar.timeZone", str(exc)) from None
    count, unit = int(duration[:-1]), duration[-1]
    if count == 1 and natural_start(unit, start):
        # the shorthand aligns in the SLO's own timezone, which therefore takes this zone
        return UNIT_SHORTHAND[unit], zone, f"calendar from a natural {unit} start, in {zone}"
    general = {"calendar": duration, "start": start.isoformat(), "timezone": zone}
    return general, "", f"calendar {duration} from {start.isoformat()} in {zone}"


def timeslice_length(value: Any, field: str) -> str:
    """A timeSliceWindow (`5m`, or a number of minutes) as a whole-minute duration text."""
    if isinstance(value, bool):
        raise Refuse(field, "expected a duration such as 1m or 5m")
    if isinstance(value, int):
        text = f"{value}m"
    elif isinstance(value, float) and value.is_integer():
        text = f"{int(value)}m"
    elif isinstance(value, str) and _SLICE.match(value.strip()):
        text = value.strip()
    else:
        raise Refuse(field, f"expected a duration such as 1m or 5m, got {value!r}")
    match = _SLICE.match(text)
    assert match is not None
    seconds = (
        int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
    )
    if seconds == 0 or seconds % 60:
        raise Refuse(field, f"{value!r} is not a whole number of minutes (buckets are 1 minute)")
    return text


def map_budgeting(spec: dict[str, Any], objective: dict[str, Any], at: str) -> dict[str, Any]:
    """`budgeting` and `timeslice` from spec.budgetingMethod and the objective's slice fields."""
    method = spec.get("budgetingMethod")
    if method is None:
        raise Refuse("spec.budgetingMethod", "missing (Occurrences, Timeslices or RatioTimeslices)")
    slice_window = objective.get("timeSliceWindow")
    slice_target = objective.get("timeSliceTarget")
    if method == "Occurrences":
        return {"budgeting": "occurrences"}
    if method == "Timeslices":
        if slice_window is None:
            raise Refuse(f"{at}.timeSliceWindow", "required with Timeslices")
        if slice_target is None:
            raise Refuse(f"{at}.timeSliceTarget", "required with Timeslices")
        length = timeslice_length(slice_window, f"{at}.timeSliceWindow")
        return {"budgeting": "timeslices", "timeslice": {"length": length, "target": slice_target}}
    if method == "RatioTimeslices":
        if slice_window is None:
            raise Refuse(f"{at}.timeSliceWindow", "required with RatioTimeslices")
        if slice_target is not None:
            raise Refuse(
                f"{at}.timeSliceTarget",
                "RatioTimeslices averages the slices' ratios; a per-slice target has no meaning",
            )
        length = timeslice_length(slice_window, f"{at}.timeSliceWindow")
        return {"budgeting": "ratio_timeslices", "timeslice": {"length": length}}
    raise Refuse(
        "spec.budgetingMethod",
        f"{method!r} is not Occurrences, Timeslices or RatioTimeslices",
    )


def map_target(objective: dict[str, Any], at: str) -> tuple[float, str, str]:
    """(target, source field, note) from `target` or `targetPercent`, converted exactly."""
    has_target, has_percent = "target" in objective, "targetPercent" in objective
    if has_target and has_percent:
        raise Refuse(f"{at}.targetPercent", "give target or targetPercent, not both")
    if not (has_target or has_percent):
        raise Refuse(f"{at}.target", "missing (target or targetPercent)")
    key = "target" if has_target else "targetPercent"
    value = objective[key]
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise Refuse(f"{at}.{key}", f"expected a number, got {value!r}")
    try:
        exact = Decimal(str(value))  # str() of a float is its shortest repr: 99.9 stays 99.9
    except InvalidOperation:
        raise Refuse(f"{at}.{key}", f"expected a number, got {value!r}") from None
    if has_target:
        return float(exact), f"{at}.target", ""
    fraction = exact / 100
    return float(fraction), f"{at}.targetPercent", f"{value} % -> {fraction}"


def window_document(window: SloWindow, zone: str) -> dict[str, Any]:
    """The OpenSLO timeWindow item for a pilotwatch window (`zone`: the SLO's timezone)."""
    if not isinstance(window, CalendarWindow):
        return {"duration": str(window), "isRolling": True}
    if window.start is not None:
        start = window.start
    elif window.unit == "w":
        start = datetime(1970, 1, 5)  # the Monday metrics/timewin.py counts weeks from
    else:
        start = datetime(1970, 1, 1)
    return {
        "duration": window.calendar,
        "isRolling": False,
        "calendar": {
            "startTime": start.strftime(START_FORMAT),
            "timeZone": window.timezone or zone,
        },
    }


def normal_window(item: dict[str, Any]) -> dict[str, Any]:
    """An already accepted timeWindow item in the form `window_document` writes."""
    out: dict[str, Any] = {"duration": item["duration"]}
    calendar = item.get("calendar")
    out["isRolling"] = item.get("isRolling", calendar is None)
    if calendar is not None:
        start = _start(calendar["startTime"], "spec.timeWindow[0].calendar.startTime")
        out["calendar"] = {
            "startTime": start.strftime(START_FORMAT),
            "timeZone": calendar["timeZone"],
        }
    return out


def threshold_ms(value: Any, unit: str | None, at: str) -> tuple[float, str]:
    """(threshold in ms, note) from an objective's `value` in `unit` (pilotwatch/threshold-unit)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise Refuse(f"{at}.value", f"expected a number, got {value!r}")
    if unit is None:
        raise Refuse(
            f"{at}.value",
            f"OpenSLO gives no unit for value {value}; add annotation "
            f"pilotwatch/threshold-unit: ms (or s)",
        )
    if unit not in ("ms", "s"):
        raise Refuse("metadata.annotations.pilotwatch/threshold-unit", "expected ms or s")
    try:
        exact = Decimal(str(value))
    except InvalidOperation:  # pragma: no cover - a float always has a decimal form
        raise Refuse(f"{at}.value", f"expected a number, got {value!r}") from None
    if unit == "ms":
        return float(exact), ""
    return float(exact * 1000), f"{value} s -> {exact * 1000} ms"
