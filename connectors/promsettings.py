"""The Prometheus connector's settings (docs/connectors.md, "The Prometheus connector").

The URL and the credentials come from `${ENV}` substitution; none of them ever appears in a
message: `redact_url` takes the userinfo out of a URL before it is shown anywhere.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, field_validator, model_validator

from connectors.base import ConnectorSettings
from core.durations import parse_duration

STEP_SECONDS = 60  # sli_buckets are 1-minute buckets: one query_range step per minute
# Prometheus refuses a query_range answer of more than 11,000 points per series
DEFAULT_MAX_POINTS = 11_000
_HEADER_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_AUTH_HEADERS = frozenset({"authorization"})


def redact_url(url: str) -> str:
    """`url` without its userinfo (`https://***@host/...`); unparsable input is not shown."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(url not shown)"
    if "@" not in parts.netloc:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))


class PrometheusSettings(ConnectorSettings):
    """Settings of a `prometheus` source: any Prometheus HTTP API (Prometheus, Thanos, Mimir...)."""

    url: str
    bearer_token: str | None = None
    username: str | None = None
    password: str | None = None
    timeout: float = 30.0  # seconds per HTTP request; `30s` / `2m` are accepted too
    step: int = STEP_SECONDS  # fixed: 1-minute buckets
    headers: dict[str, str] = Field(default_factory=dict)
    max_points_per_request: int = Field(default=DEFAULT_MAX_POINTS, ge=2, le=DEFAULT_MAX_POINTS)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("required, the base URL of a Prometheus HTTP API, e.g. ${PROM_URL}")
        if "${" in value:
            return value  # unresolved here; checked again when the source loads
        try:
            parts = urlsplit(value.strip())
        except ValueError:
            raise ValueError("not a valid http(s) URL (value not shown)") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not a valid http(s) URL with a host (value not shown)")
        return value.strip()

    @field_validator("timeout", mode="before")
    @classmethod
    def _timeout(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return float(parse_duration(value))
            except ValueError:
                raise ValueError(
                    f"expected seconds or a duration like 30s, got {value!r}"
                ) from None
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise ValueError("expected a positive number of seconds or a duration like 30s")
        return float(value)

    @field_validator("step", mode="before")
    @classmethod
    def _step(cls, value: Any) -> int:
        seconds = parse_duration(value) if isinstance(value, str | int) else None
        if seconds != STEP_SECONDS or isinstance(value, bool):
            raise ValueError("step is fixed at 60s (sli_buckets are 1-minute buckets)")
        return STEP_SECONDS

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not _HEADER_NAME.match(name):
                raise ValueError(f"{name!r} is not an HTTP header name")
        return value

    @model_validator(mode="after")
    def _auth(self) -> PrometheusSettings:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both `username` and `password` (basic auth), or neither")
        if self.bearer_token is not None and self.username is not None:
            raise ValueError("give `bearer_token` or `username`/`password`, not both")
        given = {name.lower() for name in self.headers}
        if given & _AUTH_HEADERS and (self.bearer_token or self.username):
            raise ValueError("`headers.Authorization` conflicts with bearer_token/username")
        return self
