"""HTTP access to a Prometheus-compatible API: `query_range` in chunks and `series`, time-boxed.

Every request has the settings' `timeout`. Any failure (no answer, HTTP error, `status: error`,
an answer that is not Prometheus JSON) becomes a ConnectorError naming the SLO and the query;
the URL's userinfo and the credentials are never in a message (docs/connectors.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from connectors.base import ConnectorError, SourceConfigError, SourceUnavailable
from connectors.promsettings import STEP_SECONDS, PrometheusSettings, redact_url

_SHOWN_ERROR = 300  # characters of a server's error text quoted in a message


@dataclass(frozen=True)
class Series:
    """One series of a query_range answer: its labels and (unix seconds, value) points."""

    labels: tuple[tuple[str, str], ...]
    times: list[int]
    values: list[float]


def chunks(start: int, end: int, max_points: int) -> Iterator[tuple[int, int]]:
    """[start, end] (unix seconds, whole minutes) in pieces of at most `max_points` steps.

    Consecutive pieces share their edge point, so no minute boundary is skipped; the caller
    drops the repeated point.
    """
    span = (max_points - 1) * STEP_SECONDS
    at = start
    while True:
        stop = min(at + span, end)
        yield at, stop
        if stop >= end:
            return
        at = stop


class PromClient:
    """A Prometheus HTTP API client for one source; close it with `close()`."""

    def __init__(self, source: str, settings: PrometheusSettings) -> None:
        self.source = source
        self.settings = settings
        self.base = settings.url.rstrip("/")
        self.shown = redact_url(self.base)
        self.secrets = [s for s in (settings.bearer_token, settings.password) if s]
        headers = dict(settings.headers)
        if settings.bearer_token:
            headers["Authorization"] = f"Bearer {settings.bearer_token}"
        auth = (
            httpx.BasicAuth(settings.username, settings.password)
            if settings.username is not None and settings.password is not None
            else None
        )
        self.client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout), headers=headers, auth=auth
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.client.close()

    def _clean(self, text: str) -> str:
        text = text.replace(self.settings.url, self.shown).replace(self.base, self.shown)
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text

    def _fail(self, slo: str, query: str, why: str, config: bool = False) -> ConnectorError:
        kind = SourceConfigError if config else SourceUnavailable
        return kind(self.source, self._clean(f"SLO {slo!r}: query {query!r}: {why}"))

    def _get(self, path: str, params: dict[str, Any], slo: str, query: str) -> Any:
        """The `data` of a successful answer; ConnectorError otherwise."""
        url = f"{self.base}{path}"
        try:
            response = self.client.get(url, params=params)
        except httpx.TimeoutException:
            raise self._fail(
                slo, query, f"no answer within {self.settings.timeout:g}s (settings.timeout)"
            ) from None
        except httpx.HTTPError as exc:
            raise self._fail(
                slo, query, f"cannot reach {self.shown}: {type(exc).__name__}: {exc}"
            ) from None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if isinstance(body, dict) and body.get("status") == "error":
            kind, text = str(body.get("errorType", "")), str(body.get("error", ""))[:_SHOWN_ERROR]
            why = f"Prometheus answered HTTP {response.status_code} {kind}: {text}"
            raise self._fail(slo, query, why, config=kind == "bad_data")
        if response.status_code in (401, 403):
            why = f"HTTP {response.status_code}: the server refused the credentials"
            raise self._fail(slo, query, why)
        if response.status_code >= 400:
            raise self._fail(slo, query, f"HTTP {response.status_code} from {self.shown}")
        if not isinstance(body, dict) or body.get("status") != "success" or "data" not in body:
            raise self._fail(slo, query, "the answer is not Prometheus API JSON")
        return body["data"]

    def query_range(self, slo: str, query: str, start: int, end: int) -> list[Series]:
        """Every series of `query` at each minute of [start, end], fetched in chunks."""
        found: dict[tuple[tuple[str, str], ...], dict[int, float]] = {}
        for lo, hi in chunks(start, end, self.settings.max_points_per_request):
            params = {"query": query, "start": lo, "end": hi, "step": f"{STEP_SECONDS}s"}
            data = self._get("/api/v1/query_range", params, slo, query)
            if not isinstance(data, dict) or data.get("resultType") != "matrix":
                kind = data.get("resultType") if isinstance(data, dict) else None
                raise self._fail(slo, query, f"expected a range of series (matrix), got {kind}")
            for item in data.get("result") or []:
                labels, points = _series_of(item, self._fail(slo, query, "malformed series"))
                found.setdefault(labels, {}).update(points)  # shared edge point: same value
        out = []
        for labels, points in found.items():
            times = sorted(points)
            out.append(Series(labels, times, [points[t] for t in times]))
        return out

    def label_values(self, slo: str, match: str, label: str, start: int, end: int) -> list[str]:
        """The values of `label` over the series matching `match` in [start, end]."""
        params = {"match[]": match, "start": start, "end": end}
        data = self._get("/api/v1/series", params, slo, match)
        if not isinstance(data, list):
            raise self._fail(slo, match, "expected a list of series")
        return sorted({str(s[label]) for s in data if isinstance(s, dict) and label in s})


def _series_of(
    item: Any, bad: ConnectorError
) -> tuple[tuple[tuple[str, str], ...], dict[int, float]]:
    """(labels, {unix seconds: value}) of one matrix entry; NaN points are left out."""
    if not isinstance(item, dict) or not isinstance(item.get("metric"), dict):
        raise bad
    labels = tuple(sorted((str(k), str(v)) for k, v in item["metric"].items()))
    points: dict[int, float] = {}
    try:
        for stamp, text in item.get("values") or []:
            value = float(text)
            if value == value:  # NaN: no value at this step
                points[round(float(stamp))] = value
    except (TypeError, ValueError):
        raise bad from None
    return labels, points
