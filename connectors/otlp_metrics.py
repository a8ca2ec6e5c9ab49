"""Explicit-bucket histograms of OTLP metric requests -> exact `sli_buckets` for latency SLOs.

A data point feeds an SLO when its resource's initiative and environment are the SLO's and its
resource `service.name` / point `http.route` equal the SLO filter's service / operation (when
set). good = the counts of the buckets whose upper bound is <= the threshold (OTLP buckets are
(b[i-1], b[i]]), total = the point's count. DELTA points count in the minute holding
`timeUnixNano - 1ns`; CUMULATIVE series count the difference to their previous point in that
same minute, a new start time or a decrease being a restart from 0, the first point nothing.
That is the counting rule of docs/metrics.md; see docs/connectors.md, "otlp".
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    AggregationTemporality,
    DataPointFlags,
    HistogramDataPoint,
    Metric,
)

from connectors.otlp_values import UNIX_NANOS_PER_MINUTE, Resolver, attributes, environment_of
from core.canonical import UTC_US
from core.models import Slo

DELTA = AggregationTemporality.AGGREGATION_TEMPORALITY_DELTA
CUMULATIVE = AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE
_NO_VALUE = DataPointFlags.DATA_POINT_FLAGS_NO_RECORDED_VALUE_MASK
_TO_MS = {"s": 1000.0, "ms": 1.0}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
SeriesKey = tuple[str, tuple[tuple[str, str], ...], str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class Feed:
    """One latency SLO this source counts, and the histogram metric it counts it from."""

    slo: Slo
    metric: str


@dataclass
class Counter:
    """Everything the metric requests of one load add up to, per SLO."""

    feeds: list[Feed]
    resolver: Resolver
    problems: dict[str, str] = field(default_factory=dict)  # "SLO: reason" -> first location
    malformed: list[tuple[str, str]] = field(default_factory=list)
    deltas: dict[tuple[str, int], list[int]] = field(default_factory=dict)  # (slo, minute)
    # cumulative points per (slo, series): (time, start, order, good, total)
    series: dict[tuple[str, SeriesKey], list[tuple[int, int, int, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    order: int = 0

    def add(self, request: ExportMetricsServiceRequest, where: str) -> None:
        """Count one request's histogram points for every feed."""
        for resource_metrics in request.resource_metrics:
            resource = attributes(resource_metrics.resource.attributes)
            for scope_metrics in resource_metrics.scope_metrics:
                scope = f"{scope_metrics.scope.name}@{scope_metrics.scope.version}"
                for metric in scope_metrics.metrics:
                    for feed in self.feeds:
                        if feed.metric == str(metric.name):
                            self._metric(feed, metric, resource, scope, where)

    def _problem(self, feed: Feed, reason: str, where: str) -> None:
        self.problems.setdefault(f"SLO {feed.slo.name!r}: {reason}", where)

    def _matches(self, slo: Slo, resource: dict[str, str], point: dict[str, str]) -> bool:
        if self.resolver.initiative_of(resource) != slo.initiative:
            return False
        if environment_of(resource) != slo.environment:
            return False
        if slo.filter.service is not None and resource.get("service.name") != slo.filter.service:
            return False
        return slo.filter.operation is None or point.get("http.route") == slo.filter.operation

    def _metric(
        self, feed: Feed, metric: Metric, resource: dict[str, str], scope: str, where: str
    ) -> None:
        kind = metric.WhichOneof("data")
        if kind != "histogram":
            shown = (
                "exponential histogram (not supported)" if kind == "exponential_histogram" else kind
            )
            self._problem(feed, f"metric {feed.metric!r} is a {shown}, not a histogram", where)
            return
        unit = str(metric.unit)
        if unit not in _TO_MS:
            self._problem(
                feed, f"metric {feed.metric!r} has unit {unit!r}; expected 's' or 'ms'", where
            )
            return
        temporality = metric.histogram.aggregation_temporality
        if temporality not in (DELTA, CUMULATIVE):
            self._problem(feed, f"metric {feed.metric!r} has no aggregation temporality", where)
            return
        res_key = tuple(sorted(resource.items()))
        for number, point in enumerate(metric.histogram.data_points, start=1):
            at = f"{where} {feed.metric} point {number}"
            point_attrs = attributes(point.attributes)
            if point.flags & _NO_VALUE or not self._matches(feed.slo, resource, point_attrs):
                continue
            good = self._good(feed, point, _TO_MS[unit], at)
            if good is None:
                continue
            time, total = int(point.time_unix_nano), int(point.count)
            if temporality == DELTA:
                cell = self.deltas.setdefault((feed.slo.name, minute_of(time)), [0, 0])
                cell[0] += good
                cell[1] += total
            else:
                key = (feed.metric, res_key, scope, tuple(sorted(point_attrs.items())))
                self.order += 1
                entry = (time, int(point.start_time_unix_nano), self.order, good, total)
                self.series[(feed.slo.name, key)].append(entry)

    def _good(self, feed: Feed, point: HistogramDataPoint, to_ms: float, at: str) -> int | None:
        bounds = [float(b) for b in point.explicit_bounds]
        counts = [int(c) for c in point.bucket_counts]
        if not point.time_unix_nano:
            self.malformed.append((at, "data point has no timeUnixNano"))
            return None
        if len(counts) != len(bounds) + 1:
            reason = (
                f"{len(counts)} bucketCounts for {len(bounds)} explicitBounds (expected one more)"
            )
            self.malformed.append((at, reason))
            return None
        if sum(counts) != int(point.count):
            self.malformed.append(
                (at, f"bucketCounts sum to {sum(counts)}, count is {point.count}")
            )
            return None
        threshold = float(feed.slo.threshold_ms or 0)
        for index, bound in enumerate(bounds):
            if math.isclose(bound * to_ms, threshold, rel_tol=1e-9, abs_tol=1e-9):
                return sum(counts[: index + 1])
        self._problem(feed, not_a_boundary(threshold, [b * to_ms for b in bounds], feed.metric), at)
        return None

    def buckets(self, fetch: tuple[datetime, datetime] | None) -> pl.DataFrame:
        """The counted `sli_buckets` rows (slo, bucket_start, good, total, estimate) in `fetch`."""
        cells: dict[tuple[str, int], list[int]] = {k: list(v) for k, v in self.deltas.items()}
        for (slo, _), points in self.series.items():
            previous: tuple[int, int, int, int, int] | None = None
            for point in sorted(points):
                if previous is not None:
                    time, start, _, good, total = point
                    restart = start != previous[1] or good < previous[3] or total < previous[4]
                    dg, dt = (good, total) if restart else (good - previous[3], total - previous[4])
                    cell = cells.setdefault((slo, minute_of(time)), [0, 0])
                    cell[0] += dg
                    cell[1] += dt
                previous = point
        rows = [
            (slo, _EPOCH + timedelta(microseconds=minute // 1000), g, t)
            for (slo, minute), (g, t) in sorted(cells.items())
            if t or g
        ]
        if fetch is not None:
            rows = [row for row in rows if fetch[0] <= row[1] < fetch[1]]
        frame = pl.DataFrame(
            rows,
            schema={
                "slo": pl.String(),
                "bucket_start": UTC_US,
                "good": pl.Int64(),
                "total": pl.Int64(),
            },
            orient="row",
        )
        return frame.with_columns(pl.lit(False).alias("estimate"))


def minute_of(time_unix_nano: int) -> int:
    """The start (Unix ns) of the minute that holds `time - 1ns`: a point closes its interval."""
    return (time_unix_nano - 1) // UNIX_NANOS_PER_MINUTE * UNIX_NANOS_PER_MINUTE


def _ms(value: float) -> str:
    return f"{round(value, 6):g} ms"


def not_a_boundary(threshold_ms: float, bounds_ms: list[float], metric: str) -> str:
    """Why a threshold cannot be counted from these bounds, naming the nearest ones in ms."""
    head = f"threshold_ms {threshold_ms:g} is not a bucket boundary of {metric!r}"
    below = [b for b in bounds_ms if b < threshold_ms]
    above = [b for b in bounds_ms if b > threshold_ms]
    if not bounds_ms:
        return f"{head} (the histogram has no bounds)"
    if below and above:
        return f"{head}; nearest boundaries: {_ms(max(below))} and {_ms(min(above))}"
    if above:
        return f"{head}; it is below the lowest boundary {_ms(min(above))}"
    return f"{head}; it is above the highest boundary {_ms(max(below))}"
