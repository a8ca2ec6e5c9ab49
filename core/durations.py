"""Duration strings used in config: `30s`, `5m`, `24h`, `28d`, `2w` (docs/config.md).

They are parsed once, when the configuration is validated, into `Duration`: a `timedelta` that
remembers the text it was written as, so pages and the report show `28d`, never `28 days, 0:00:00`.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import PlainSerializer, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str | int | timedelta) -> int:
    """Seconds in a duration string such as `24h`; raises ValueError naming the accepted forms."""
    if isinstance(text, timedelta):
        return int(text.total_seconds())
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _PATTERN.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"expected a positive duration like 30m, 24h, 28d or 2w, got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]


class Duration(timedelta):
    """A parsed config duration; `str()` gives back the text as written (`24h`)."""

    text: str

    def __new__(cls, text: str) -> Duration:
        """Parse `text` (`24h`); ValueError as `parse_duration`."""
        self = super().__new__(cls, seconds=parse_duration(text))
        self.text = text
        return self

    @property
    def seconds_total(self) -> int:
        """Whole seconds (config durations are whole seconds by construction)."""
        return int(self.total_seconds())

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Duration({self.text!r})"

    def __reduce__(self) -> tuple[type[Duration], tuple[str]]:
        # keep the text through pickle and copy (Streamlit caches pickle the config)
        return (Duration, (self.text,))


def _as_duration(value: Any) -> Duration:
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        # the same error a plain `str` field gave before durations were parsed at load
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return Duration(value)


# A config field holding a duration: validated from the YAML text, dumped back as that text.
DurationField = Annotated[
    Duration,
    PlainValidator(_as_duration),
    PlainSerializer(str, return_type=str),
    WithJsonSchema({"type": "string", "pattern": r"^\s*\d+\s*[smhdw]\s*$"}),
]
