"""PrometheusConnector: `sli_buckets` for the configured SLOs from any Prometheus HTTP API.

For every SLO whose `indicator` names this source (or names none), the indicator's queries are
read with `query_range` at a 60 s step over the fetch range and reduced to 1-minute buckets by
the counting rule of `connectors.promcount`: plain series selectors exactly, per series, as
counters; any other expression evaluated per minute, its buckets marked as estimates. A latency
histogram is read at the `le` boundary equal to the SLO's threshold. See docs/connectors.md,
"The Prometheus connector", for every setting, the rule with a worked example, and the errors.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import polars as pl

from connectors.base import (
    Connector,
    ConnectorSettings,
    RawPart,
    RawRead,
    SourceConfigError,
)
from connectors.promcount import bucket_rows, counter_counts, expression_counts
from connectors.promquery import PromClient
from connectors.promselector import Selector, parse_selector, quote_value, regex_alternatives
from connectors.promsettings import PrometheusSettings
from core.models import Slo

__all__ = ["DEFAULT_RANGE", "PrometheusConnector", "PrometheusSettings"]

DEFAULT_RANGE = timedelta(days=31)  # fetched when the loader gives no range
_PARALLEL = 4  # SLOs fetched at once: the server answers several queries concurrently
_UNIT_MS = {"s": 1000.0, "ms": 1.0}
_LOCATION = pl.format(
    "prometheus {} {}", pl.col("slo"), pl.col("bucket_start").dt.strftime("%Y-%m-%dT%H:%MZ")
)


@dataclass(frozen=True)
class _Plan:
    """The queries of one SLO: total and one of good / bad."""

    slo: str
    total: str
    good: str | None = None
    bad: str | None = None

    @property
    def origin(self) -> str:
        side = f"good={self.good}" if self.good is not None else f"bad={self.bad}"
        return f"{side}; total={self.total}"


def _minute(instant: datetime) -> int:
    """Unix seconds of `instant` floored to the minute (naive instants are UTC)."""
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    seconds = int(instant.timestamp())
    return seconds - seconds % 60


def _ms(value: float) -> str:
    return f"{value:g} ms"


class PrometheusConnector(Connector):
    """Reads SLO buckets from a Prometheus-compatible API; see docs/connectors.md."""

    type_name: ClassVar[str] = "prometheus"
    settings_model: ClassVar[type[ConnectorSettings]] = PrometheusSettings

    def _prom_settings(self) -> PrometheusSettings:
        settings = self.settings
        assert isinstance(settings, PrometheusSettings)
        return settings

    def fetch_bounds(self) -> tuple[int, int]:
        """[start, end] in unix seconds: the spec's fetch range, or the last 31 days."""
        if self.spec.fetch_range is not None:
            start, end = self.spec.fetch_range
        else:
            end = datetime.now(UTC)
            start = end - DEFAULT_RANGE
        return _minute(start), _minute(end)

    def served(self) -> list[Slo]:
        """The SLOs this source counts: their indicator names it, or names no source."""
        return [
            slo
            for slo in self.spec.slos
            if slo.indicator is not None and slo.indicator.source in (None, self.spec.name)
        ]

    def read(self) -> RawRead:
        """Every served SLO's buckets over the fetch range, one part per SLO."""
        settings, spec = self._prom_settings(), self.spec
        if "${" in settings.url:
            raise SourceConfigError(spec.name, "settings.url: an ${ENV} name is not set")
        if tuple(spec.tables) != ("sli_buckets",):
            raise SourceConfigError(
                spec.name,
                f"a prometheus source delivers only sli_buckets; set tables: [sli_buckets] "
                f"(got {list(spec.tables)})",
            )
        start, end = self.fetch_bounds()
        slos = self.served()
        if end <= start or not slos:
            return RawRead(parts=[])
        client = PromClient(spec.name, settings)
        warnings: list[str] = []
        try:
            with ThreadPoolExecutor(max_workers=min(_PARALLEL, len(slos))) as pool:
                plans = list(pool.map(lambda s: self._plan(client, s, start, end), slos))
                done = [p for p in plans if isinstance(p, _Plan)]
                warnings += [p for p in plans if isinstance(p, str)]
                frames = list(pool.map(lambda p: self._buckets(client, p, start, end), done))
        finally:
            client.close()
        parts = [
            RawPart("sli_buckets", frame.lazy(), plan.origin, _LOCATION)
            for plan, frame in zip(done, frames, strict=True)
        ]
        return RawRead(parts=parts, warnings=warnings)

    def _plan(self, client: PromClient, slo: Slo, start: int, end: int) -> _Plan | str:
        """The SLO's queries; a warning text when its histogram has no series in the range."""
        indicator = slo.indicator
        assert indicator is not None
        if indicator.histogram is None:
            assert indicator.total is not None
            return _Plan(slo.name, indicator.total, indicator.good, indicator.bad)
        return self._histogram_plan(client, slo, indicator.histogram, start, end)

    def _refuse(self, slo: Slo, why: str) -> SourceConfigError:
        return SourceConfigError(self.spec.name, f"SLO {slo.name!r}: indicator.histogram: {why}")

    def _histogram_plan(
        self, client: PromClient, slo: Slo, histogram: str, start: int, end: int
    ) -> _Plan | str:
        selector = parse_selector(histogram)
        if selector is None or selector.name is None:
            raise self._refuse(
                slo,
                f"{histogram!r} is not a series selector with a metric name, e.g. "
                'http_request_duration_seconds{job="api"}',
            )
        if selector.label("le"):
            raise self._refuse(slo, "give the selector without `le`; the threshold chooses it")
        if slo.threshold_op == "lt":
            raise self._refuse(
                slo,
                "threshold_op lt cannot be counted from a histogram: its `le` buckets count "
                "durations <= a boundary; use threshold_op le",
            )
        threshold = float(slo.threshold_ms or 0.0)
        factor = _UNIT_MS[slo.indicator.unit if slo.indicator and slo.indicator.unit else "s"]
        buckets = selector.render("_bucket")
        spellings = [
            s for s in client.label_values(slo.name, buckets, "le", start, end) if _is_float(s)
        ]
        if not spellings:
            return (
                f"SLO {slo.name!r}: no series {buckets} in the fetch range; its buckets are empty"
            )
        matching = [
            s for s in spellings if math.isclose(float(s) * factor, threshold, rel_tol=1e-9)
        ]
        if not matching:
            raise self._refuse(slo, self._neighbours(threshold, spellings, factor, buckets))
        return _Plan(slo.name, selector.render("_count"), good=_le(selector, matching))

    @staticmethod
    def _neighbours(threshold: float, spellings: list[str], factor: float, buckets: str) -> str:
        bounds = sorted({float(s) * factor for s in spellings})
        below = [b for b in bounds if b < threshold]
        above = [b for b in bounds if b > threshold and not math.isinf(b)]
        low = f"below: {_ms(below[-1])}" if below else "none below"
        high = f"above: {_ms(above[0])}" if above else "none above"
        near = f"{low}, {high}"
        return (
            f"threshold_ms {threshold:g} is not a bucket boundary of {buckets} "
            f"(nearest boundaries {near}); set threshold_ms to a boundary"
        )

    def _buckets(self, client: PromClient, plan: _Plan, start: int, end: int) -> pl.DataFrame:
        """The plan's sli_buckets rows over [start, end)."""
        estimate = False

        def counts(query: str | None) -> pl.DataFrame | None:
            nonlocal estimate
            if query is None:
                return None
            series = client.query_range(plan.slo, query, start, end)
            if parse_selector(query) is not None:
                return counter_counts(series, start, end)
            estimate = True
            return expression_counts(series, start, end)

        total = counts(plan.total)
        assert total is not None
        good, bad = counts(plan.good), counts(plan.bad)
        return bucket_rows(plan.slo, good, bad, total, estimate)


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _le(selector: Selector, spellings: list[str]) -> str:
    """`<name>_bucket{..., le="<bound>"}`, every spelling of the bound matched."""
    if len(spellings) == 1:
        return selector.render("_bucket", (("le", "=", quote_value(spellings[0])),))
    return selector.render("_bucket", (("le", "=~", regex_alternatives(spellings)),))
