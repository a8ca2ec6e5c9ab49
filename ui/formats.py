"""Number, time and text formats for people: how every page writes a value."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pilotwatch.render import fmt

NA = "n/a"  # how every page shows a missing value


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage for people; `n/a` when null."""
    return NA if value is None else f"{value:.{digits}%}"


def count(value: int | None) -> str:
    """A count with thousands separators; `n/a` when null (ratio_timeslices has no good)."""
    return NA if value is None else f"{value:,}"


def num(value: Any, digits: int = 3) -> str:
    """A number for people (the HTML report's format); `n/a` when null."""
    return fmt(value, digits)


def when(value: datetime | date | str | None) -> str:
    """An instant or date as text; `—` when null."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def day(value: date | datetime | None) -> str:
    """A date, or an instant's UTC date, as `YYYY-MM-DD`; `n/a` when null."""
    if value is None:
        return NA
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


def duration(seconds: int | None) -> str:
    """Seconds in the config's duration words: `7d`, `24h`, `30m` (docs/config.md)."""
    if seconds is None:
        return "—"
    # whole days from two days up (7d, 30d); a day or less reads better in hours (24h, 6h)
    for unit, size, least in (("d", 86400, 2 * 86400), ("h", 3600, 3600), ("m", 60, 60)):
        if seconds >= least and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$])")


def plain(text: Any) -> str:
    """Escape Markdown in free text (titles, errors, remediation) before st.markdown."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


def label(mapping: Mapping[str, str], key: str | None) -> str:
    """The icon-and-text label of a status (the raw status when unknown)."""
    if key is None:
        return "—"
    return mapping.get(key, key)


_ISO_DATE = re.compile(r"^\d{4}\\-\d{2}\\-\d{2}$")  # as escaped by plain()


def unbroken(text: str) -> str:
    """Keep short cells (a status label, a date, a name) on one line in a wrapping table."""
    if _ISO_DATE.match(text):
        return text.replace("\\-", "\u2011")  # non-breaking hyphens
    return text.replace(" ", "\u00a0") if len(text) <= 16 else text
