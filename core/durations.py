"""Duration strings used in config: `30s`, `5m`, `24h`, `28d`, `2w`."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str | int) -> int:
    """Seconds in a duration string such as `24h`; raises ValueError naming the accepted forms."""
    if isinstance(text, int) and not isinstance(text, bool):
        return text
    match = _PATTERN.match(str(text))
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f"expected a positive duration like 30m, 24h, 28d or 2w, got {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]
