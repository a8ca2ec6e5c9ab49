"""The `otlp` connector: Collector file exporter output -> requests and sli_buckets.

Every OTLP file here is either an opentelemetry-proto published example (tests/data/otlp) or
written in the test by the OpenTelemetry SDK, encoded by the SDK's OTLP encoders and serialised
the way the Collector's file exporter does (OTLP/JSON: camelCase, hex ids, one request a line).
"""

from __future__ import annotations

import base64
import gzip
import json
import shutil
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import zstandard
from google.protobuf import json_format
from metrics_helpers import T, config, report, slo_entry
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExplicitBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from connectors.base import LOCATION, REASON, SourceConfigError, SourceLoad, SourceSpec
from connectors.otlp import OtlpConnector
from core.models import Slo, Source
from pilotwatch.engine import compute
from pilotwatch.sources import load_sources

DATA = Path(__file__).parent / "data" / "otlp"
T0 = datetime(2025, 3, 15, 11, 0, tzinfo=UTC)  # one hour before the reports' as-of T
MIN = timedelta(minutes=1)
SEC = 10**9
METRIC = "http.server.request.duration"
BOUNDS_S = [0.1, 0.25, 0.5, 1.0]
ALPHA = {"service.name": "triage-api", "pilotwatch.initiative": "alpha"}


def ns(at: datetime) -> int:
    return int(at.timestamp()) * SEC


# --- writing what the Collector writes --------------------------------------------------


def _hex_ids(value: Any) -> Any:
    # proto3 JSON writes bytes as base64; OTLP/JSON (the Collector) writes trace/span ids as hex
    if isinstance(value, dict):
        return {
            k: base64.b64decode(v).hex()
            if k in {"traceId", "spanId", "parentSpanId"}
            else _hex_ids(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_hex_ids(v) for v in value]
    return value


def otlp_json(request: Any) -> str:
    """One request as the file exporter's line: camelCase, enums as numbers, hex ids."""
    data = json_format.MessageToDict(request, use_integers_for_enums=True)
    return json.dumps(_hex_ids(data), separators=(",", ":"))


def write_lines(path: Path, lines: Iterable[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_zstd_prefixed(path: Path, lines: Iterable[str]) -> Path:
    """The exporter's default zstd framing: each request compressed alone, length first."""
    out = b""
    for line in lines:
        body = zstandard.ZstdCompressor().compress(line.encode())
        out += len(body).to_bytes(4, "big") + body
    path.write_bytes(out)
    return path


def write_zstd_stream(path: Path, lines: Iterable[str]) -> Path:
    """The native-compression framing: JSON lines in zstd frames (one per write)."""
    compressor = zstandard.ZstdCompressor()
    path.write_bytes(b"".join(compressor.compress((line + "\n").encode()) for line in lines))
    return path


def spec(root: Path, settings: dict[str, Any], tables: Sequence[str], **kw: Any) -> SourceSpec:
    return SourceSpec(
        name="otel",
        type="otlp",
        tables=tuple(tables),
        settings={"_root": str(root), **settings},
        **kw,
    )


def load(root: Path, settings: dict[str, Any], tables: Sequence[str], **kw: Any) -> SourceLoad:
    return OtlpConnector(spec(root, settings, tables, **kw)).load()


def split(frame: pl.LazyFrame) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    data = frame.collect()
    good = data.filter(pl.col(REASON).is_null()).drop(REASON, LOCATION, "_bad")
    bad = data.filter(pl.col(REASON).is_not_null())
    return good, sorted(zip(bad[LOCATION], bad[REASON], strict=True))


def request_rows(good: pl.DataFrame) -> list[tuple[Any, ...]]:
    cols = ["timestamp", "initiative", "service", "operation", "environment"]
    cols += ["duration_ms", "status_code", "error"]
    return sorted(good.select(cols).rows(), key=lambda r: (r[0], r[3]))


# --- SDK traces ------------------------------------------------------------------------------


def sdk_spans(resource: dict[str, Any], spans: list[dict[str, Any]]) -> Any:
    """Spans the SDK records (explicit start/end times), encoded to an ExportTraceServiceRequest."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(resource))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("pilotwatch.tests")
    for s in spans:
        span = tracer.start_span(
            s["name"],
            kind=s.get("kind", SpanKind.SERVER),
            start_time=s["start"],
            attributes=s.get("attrs"),
        )
        if s.get("error"):
            span.set_status(Status(StatusCode.ERROR))
        span.end(end_time=s["end"])
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans())


def test_published_trace_example_loads(tmp_path: Path) -> None:
    shutil.copy(DATA / "trace.json", tmp_path / "trace.json")
    out = load(tmp_path, {"traces": "trace.json", "initiative": "alpha"}, ["requests"])
    good, bad = split(out.frames["requests"])
    # the example's one SERVER span: start 1544712660 s = 2018-12-13 14:51:00 UTC
    # (17878 days * 86400 = 1544659200 = 2018-12-13 00:00, + 53460 s = 14:51:00), end 1 s later;
    # no http.route / url.template: the span name is the operation; no status attribute
    assert request_rows(good) == [
        (
            datetime(2018, 12, 13, 14, 51, tzinfo=UTC),
            "alpha",
            "my.service",
            "I'm a server span",
            "production",
            1000.0,
            None,
            False,
        )
    ]
    assert bad == []


def test_published_metrics_example_loads_and_its_histogram_unit_is_refused(tmp_path: Path) -> None:
    shutil.copy(DATA / "metrics.json", tmp_path / "metrics.json")
    lat = Slo(name="lat", initiative="alpha", sli="latency", threshold_ms=1000, target=0.9)
    settings = {"metrics": "metrics.json", "initiative": "alpha", "latency": {"lat": {}}}
    # the example holds my.counter, my.gauge and my.histogram, none the default metric: no rows
    good, bad = split(load(tmp_path, settings, ["sli_buckets"], slos=(lat,)).frames["sli_buckets"])
    assert (good.height, bad) == (0, [])
    # fed from my.histogram, whose unit is "1": no seconds or milliseconds to compare with
    settings["latency"] = {"lat": {"metric": "my.histogram"}}
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, settings, ["sli_buckets"], slos=(lat,))
    assert "SLO 'lat': metric 'my.histogram' has unit '1'; expected 's' or 'ms'" in str(err.value)
    assert "(first at metrics.json:1)" in str(err.value)


def test_sdk_spans_across_rotated_files_one_zstd_compressed(tmp_path: Path) -> None:
    t = ns(T0)
    first = sdk_spans(
        {**ALPHA, "deployment.environment.name": "production"},
        [
            {
                "name": "GET /triage",
                "start": t + 10 * SEC,
                "end": t + 10 * SEC + 250_000_000,
                "attrs": {"http.route": "/triage", "http.response.status_code": 200},
            },
            {
                "name": "GET /triage",
                "start": t + 20 * SEC,
                "end": t + 21 * SEC + 200_000_000,
                "attrs": {"http.route": "/triage", "http.response.status_code": 503},
            },
            {"name": "call db", "kind": SpanKind.CLIENT, "start": t, "end": t + SEC},
            {"name": "work", "kind": SpanKind.INTERNAL, "start": t, "end": t + SEC},
            {"name": "take job", "kind": SpanKind.CONSUMER, "start": t, "end": t + SEC},
        ],
    )
    second = sdk_spans(
        {**ALPHA, "deployment.environment.name": "production"},
        [
            {
                "name": "POST /notes",
                "start": t + 70 * SEC,
                "end": t + 70 * SEC + 1_500_000,
                "attrs": {"http.route": "/notes", "http.response.status_code": 200},
                "error": True,
            },
        ],
    )
    # rotated backup (zstd, the exporter's default framing) sorts before the live file
    write_zstd_prefixed(tmp_path / "traces-2025-03-15T11-01-00.000.json", [otlp_json(first)])
    write_lines(tmp_path / "traces.json", [otlp_json(second)])
    good, bad = split(load(tmp_path, {"traces": "traces*.json*"}, ["requests"]).frames["requests"])
    # only the 3 SERVER spans; 1.2 s + 0.25 s - ... : durations (end - start) / 1e6 ms
    assert request_rows(good) == [
        (
            T0 + timedelta(seconds=10),
            "alpha",
            "triage-api",
            "/triage",
            "production",
            250.0,
            200,
            False,
        ),
        (
            T0 + timedelta(seconds=20),
            "alpha",
            "triage-api",
            "/triage",
            "production",
            1200.0,
            503,
            True,
        ),
        (T0 + timedelta(seconds=70), "alpha", "triage-api", "/notes", "production", 1.5, 200, True),
    ]
    assert bad == []


@pytest.mark.parametrize("writer", [write_zstd_stream, write_zstd_prefixed, "gzip"])
def test_every_compression_framing_reads_the_same_lines(tmp_path: Path, writer: Any) -> None:
    t = ns(T0)
    lines = [
        otlp_json(
            sdk_spans(ALPHA, [{"name": f"s{i}", "start": t + i * SEC, "end": t + (i + 1) * SEC}])
        )
        for i in range(3)
    ]
    if writer == "gzip":
        (tmp_path / "t.json.gz").write_bytes(gzip.compress("\n".join(lines).encode()))
    else:
        writer(tmp_path / "t.json.gz", lines)  # the name never decides the framing
    good, bad = split(load(tmp_path, {"traces": "t.json.gz"}, ["requests"]).frames["requests"])
    # three 1-second spans named s0, s1, s2 at T0 + 0, 1, 2 s
    assert sorted(good["operation"]) == ["s0", "s1", "s2"]
    assert sorted(good["duration_ms"]) == [1000.0, 1000.0, 1000.0]
    assert bad == []


def test_old_and_new_semantic_conventions_and_initiative_sources(tmp_path: Path) -> None:
    t = ns(T0)
    old = sdk_spans(
        {
            "service.name": "legacy",
            "deployment.environment": "staging",
        },  # old env key; no initiative
        [
            {
                "name": "GET",
                "start": t,
                "end": t + 5_000_000,
                "attrs": {"url.template": "/v1/{id}", "http.status_code": "500"},
            }
        ],  # old status, a string
    )
    new = sdk_spans(
        {
            "service.name": "triage-api",
            "deployment.environment.name": "dev",
            "deployment.environment": "ignored-old",
            "team.initiative": "beta",
        },
        [
            {
                "name": "GET",
                "start": t,
                "end": t + 2_000_000,
                "attrs": {
                    "http.route": "/r",
                    "url.template": "/t",
                    "http.response.status_code": 404,
                },
            }
        ],
    )
    orphan = sdk_spans({"service.name": "nobody"}, [{"name": "x", "start": t, "end": t + 1}])
    write_lines(tmp_path / "traces.json", [otlp_json(old), otlp_json(new), otlp_json(orphan)])
    settings = {
        "traces": "traces.json",
        "initiative_attribute": "team.initiative",
        "services": {"legacy": "alpha"},
    }
    good, bad = split(load(tmp_path, settings, ["requests"]).frames["requests"])
    assert request_rows(good) == [
        # new keys win over old; http.route over url.template; 404 is not an error
        (T0, "beta", "triage-api", "/r", "dev", 2.0, 404, False),
        # old keys; url.template when there is no http.route; "500" >= 500 is an error
        (T0, "alpha", "legacy", "/v1/{id}", "staging", 5.0, 500, True),
    ]
    assert bad == [
        (
            "traces.json:3 span 1",
            "no initiative: no resource attribute 'team.initiative', service.name not in "
            "settings.services and no settings.initiative",
        )
    ]


def _span_line(start: int, end: int, **attr: Any) -> str:
    attrs = [{"key": k, "value": v} for k, v in attr.items()]
    span = {
        "traceId": "5B8EFFF798038103D269B633813FC60C",
        "spanId": "EEE19B7EC3C1B174",
        "name": "n",
        "kind": 2,
        "startTimeUnixNano": str(start),
        "endTimeUnixNano": end,
        "attributes": attrs,
    }
    resource = {"attributes": [{"key": "service.name", "value": {"stringValue": "svc"}}]}
    return json.dumps(
        {"resourceSpans": [{"resource": resource, "scopeSpans": [{"spans": [span]}]}]}
    )


def test_corrupt_lines_are_quarantined_at_file_line_and_the_rest_loads(tmp_path: Path) -> None:
    t = ns(T0)
    write_lines(
        tmp_path / "traces.json",
        [
            _span_line(t, t + 3_000_000, **{"http.route": {"stringValue": "/a"}}),
            '{"resourceSpans": [ {"resource": ',  # cut short
            json.dumps({"resourceMetrics": []}),  # a metrics request in a traces file
            json.dumps(
                {"resourceSpans": [{"scopeSpans": [{"spans": [{"startTimeUnixNano": "soon"}]}]}]}
            ),
            _span_line(t + SEC, t, **{"http.status_code": {"intValue": "200"}}),  # ends first
            "[1, 2]",
            _span_line(
                t + 2 * SEC, t + 2 * SEC + 4_000_000, **{"http.status_code": {"doubleValue": 502.0}}
            ),
        ],
    )
    out = load(tmp_path, {"traces": "traces.json", "initiative": "alpha"}, ["requests"])
    good, bad = split(out.frames["requests"])
    # lines 1 and 7 load (502.0 as a double is the status 502)
    assert [(r[3], r[5], r[6], r[7]) for r in request_rows(good)] == [
        ("/a", 3.0, None, False),
        ("n", 4.0, 502, True),
    ]
    locations = [loc for loc, _ in bad]
    assert locations == [
        "traces.json:2",
        "traces.json:3",
        "traces.json:4",
        "traces.json:5 span 1",
        "traces.json:6",
    ]
    reasons = dict(bad)
    assert reasons["traces.json:2"].startswith("not JSON (")
    assert reasons["traces.json:3"] == "an OTLP metrics request where traces were expected"
    assert reasons["traces.json:4"].startswith("not a valid OTLP traces request: ")
    # (t - (t + 1 s)) / 1e6 = -1000 ms
    assert reasons["traces.json:5 span 1"] == "duration_ms: must be >= 0, got -1000.0"
    assert reasons["traces.json:6"] == "not an OTLP/JSON request object (a JSON list)"


# --- SDK histograms -> sli_buckets -----------------------------------------------------------

# the events every histogram test records: minute k -> durations in ms
EVENTS_MS: dict[int, list[float]] = {
    0: [50.0, 250.0, 300.0, 2000.0],  # <= 250: 50 and 250 (a value on the bound is good) -> 2/4
    1: [100.0, 600.0],  # 1/2
    2: [],  # nothing recorded
    3: [200.0, 200.0, 900.0],  # 2/3
}


def sdk_histograms(
    temporality: AggregationTemporality,
    events_ms: dict[int, list[float]],
    *,
    unit: str = "s",
    start: datetime = T0 - MIN,
    resource: dict[str, Any] | None = None,
    route: str = "/triage",
) -> list[str]:
    """One SDK collection per minute k: record minute k's durations, collect, encode to a line.

    The SDK stamps points with the wall clock; each point is moved onto T0 + (k+1) min (the end
    of its minute) and its start onto `start` (cumulative) or T0 + k min (delta), so the expected
    buckets can be worked out by hand.
    """
    scale = 1000.0 if unit == "s" else 1.0
    reader = InMemoryMetricReader(preferred_temporality={Histogram: temporality})
    view = View(
        instrument_name=METRIC,
        aggregation=ExplicitBucketHistogramAggregation([b * 1000.0 / scale for b in BOUNDS_S]),
    )
    provider = MeterProvider(
        resource=Resource.create(resource or ALPHA), metric_readers=[reader], views=[view]
    )
    histogram = provider.get_meter("pilotwatch.tests").create_histogram(METRIC, unit=unit)
    lines = []
    for k in sorted(events_ms):
        for value in events_ms[k]:
            histogram.record(value / scale, {"http.route": route})
        data = reader.get_metrics_data()
        if data is None:
            continue
        request = encode_metrics(data)
        for rm in request.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    for point in metric.histogram.data_points:
                        point.time_unix_nano = ns(T0 + (k + 1) * MIN)
                        delta = temporality == AggregationTemporality.DELTA
                        point.start_time_unix_nano = ns(T0 + k * MIN if delta else start)
        lines.append(otlp_json(request))
    provider.shutdown()
    return lines


def lat_slo(threshold_ms: float = 250, **kw: Any) -> Slo:
    args: dict[str, Any] = {
        "name": "lat",
        "initiative": "alpha",
        "sli": "latency",
        "threshold_ms": threshold_ms,
        "target": 0.9,
        "window": "1d",
    }
    return Slo(**{**args, **kw})


def bucket_rows(out: SourceLoad) -> list[tuple[Any, ...]]:
    good, bad = split(out.frames["sli_buckets"])
    assert bad == []
    return sorted(good.select("slo", "bucket_start", "good", "total", "estimate").rows())


METRICS = {"metrics": "metrics*.json*", "latency": {"lat": {}}}


@pytest.mark.parametrize("unit", ["s", "ms"])
def test_delta_histograms_count_each_point_in_the_minute_it_closes(
    tmp_path: Path, unit: str
) -> None:
    lines = sdk_histograms(AggregationTemporality.DELTA, EVENTS_MS, unit=unit)
    # another route and another environment, which the SLO's filter and environment leave out
    lines += sdk_histograms(AggregationTemporality.DELTA, {0: [10.0]}, unit=unit, route="/other")
    staging = {**ALPHA, "deployment.environment.name": "staging"}
    lines += sdk_histograms(AggregationTemporality.DELTA, {0: [10.0]}, unit=unit, resource=staging)
    write_zstd_stream(tmp_path / "metrics-2025-03-15T11-02-00.000.json.zst", lines[:2])
    write_lines(tmp_path / "metrics.json", lines[2:])
    slo = lat_slo(filter={"service": "triage-api", "operation": "/triage"})
    out = load(tmp_path, METRICS, ["sli_buckets"], slos=(slo,))
    # a point at T0 + (k+1) min closes minute k (time - 1 ns); minute 2 had no events
    assert bucket_rows(out) == [
        ("lat", T0, 2, 4, False),
        ("lat", T0 + MIN, 1, 2, False),
        ("lat", T0 + 3 * MIN, 2, 3, False),
    ]
    # the fetch range [T0 + 1 min, T0 + 3 min) keeps only the minute-1 bucket
    ranged = load(
        tmp_path, METRICS, ["sli_buckets"], slos=(slo,), fetch_range=(T0 + MIN, T0 + 3 * MIN)
    )
    assert bucket_rows(ranged) == [("lat", T0 + MIN, 1, 2, False)]


def test_cumulative_histograms_count_differences_first_point_nothing_restart_from_zero(
    tmp_path: Path,
) -> None:
    lines = sdk_histograms(AggregationTemporality.CUMULATIVE, EVENTS_MS)
    # the service restarts: a new provider, a new start time, counts from 0 again (to more
    # than before, so only the start time tells)
    restarted = {5: [50.0] * 6 + [300.0] * 4}
    lines += sdk_histograms(AggregationTemporality.CUMULATIVE, restarted, start=T0 + 4 * MIN)
    # and again, keeping the same start time: only the decrease tells
    lines += sdk_histograms(AggregationTemporality.CUMULATIVE, {7: [300.0]}, start=T0 + 4 * MIN)
    write_zstd_prefixed(tmp_path / "metrics-2025-03-15T11-03-00.000.json", lines[:3])
    write_lines(tmp_path / "metrics.json", lines[3:])
    out = load(tmp_path, METRICS, ["sli_buckets"], slos=(lat_slo(),))
    # cumulative (good, total) at T0+1m..T0+4m: (2,4) (3,6) (3,6) (5,9); (6,10) at T0+6m;
    # (0,1) at T0+8m
    # T0+1m: the series' first point counts nothing (what came before it is unknown)
    # T0+2m: (3-2, 6-4) = (1, 2) in minute T0+1m; T0+3m: (0, 0), no bucket
    # T0+4m: (5-3, 9-6) = (2, 3) in minute T0+3m
    # T0+6m: a new start time -> the new value (6, 10) in minute T0+5m (not (6-5, 10-9))
    # T0+8m: same start, (0,1) < (6,10): a restart -> (0, 1) in minute T0+7m
    assert bucket_rows(out) == [
        ("lat", T0 + MIN, 1, 2, False),
        ("lat", T0 + 3 * MIN, 2, 3, False),
        ("lat", T0 + 5 * MIN, 6, 10, False),
        ("lat", T0 + 7 * MIN, 0, 1, False),
    ]


def test_slo_numbers_from_otlp_buckets_equal_those_from_the_same_requests(tmp_path: Path) -> None:
    write_lines(tmp_path / "metrics.json", sdk_histograms(AggregationTemporality.DELTA, EVENTS_MS))
    slo = lat_slo()
    buckets, bad = split(
        load(tmp_path, METRICS, ["sli_buckets"], slos=(slo,)).frames["sli_buckets"]
    )
    assert bad == []
    events = [
        {
            "timestamp": T0 + k * MIN + timedelta(seconds=5),
            "initiative": "alpha",
            "service": "triage-api",
            "operation": "/triage",
            "environment": "production",
            "duration_ms": d,
            "status_code": 200,
            "error": False,
            "source": "raw",
        }
        for k, ds in EVENTS_MS.items()
        for d in ds
    ]
    cfg = config(slos=[slo])
    from_requests = slo_entry(report({"requests": pl.DataFrame(events)}, cfg), "lat")
    from_otlp = slo_entry(
        report({"sli_buckets": buckets.with_columns(pl.lit("otel").alias("source"))}, cfg), "lat"
    )
    assert from_otlp == from_requests
    # 9 events, 5 of them <= 250 ms (2 + 1 + 2): SLI 5/9; burn = (4/9) / (1 - 0.9) = 40/9
    assert (from_otlp["good"], from_otlp["total"]) == (5, 9)
    assert from_otlp["sli"] == pytest.approx(5 / 9)
    assert from_otlp["burn_rates"]["1h"] == pytest.approx(40 / 9)


def test_a_threshold_between_bounds_names_the_neighbours_in_ms(tmp_path: Path) -> None:
    write_lines(tmp_path / "metrics.json", sdk_histograms(AggregationTemporality.DELTA, EVENTS_MS))
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, METRICS, ["sli_buckets"], slos=(lat_slo(300),))
    # bounds 0.1, 0.25, 0.5, 1 s = 100, 250, 500, 1000 ms: 300 lies between 250 and 500
    assert (
        "SLO 'lat': threshold_ms 300 is not a bucket boundary of 'http.server.request.duration'; "
        "nearest boundaries: 250 ms and 500 ms (first at metrics.json:1 "
        "http.server.request.duration point 1)"
    ) in str(err.value)
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, METRICS, ["sli_buckets"], slos=(lat_slo(5),))
    assert "it is below the lowest boundary 100 ms" in str(err.value)


def test_settings_that_cannot_count_an_slo_are_refused(tmp_path: Path) -> None:
    write_lines(tmp_path / "metrics.json", sdk_histograms(AggregationTemporality.DELTA, EVENTS_MS))
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, METRICS, ["sli_buckets"], slos=(lat_slo(threshold_op="lt"),))
    assert "settings.latency.lat: SLO 'lat' has threshold_op lt" in str(err.value)
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, METRICS, ["sli_buckets"], slos=())
    assert "settings.latency.lat: no SLO named 'lat' in slos.yaml" in str(err.value)
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, {"metrics": "metrics.json"}, ["sli_buckets"])
    assert "`metrics` needs `latency" in str(err.value)
    with pytest.raises(SourceConfigError) as err:
        load(tmp_path, METRICS, ["requests", "sli_buckets"], slos=(lat_slo(),))
    assert "settings.traces feeds table 'requests'" in str(err.value)


def test_a_malformed_data_point_is_quarantined_and_the_others_count(tmp_path: Path) -> None:
    good_line = sdk_histograms(AggregationTemporality.DELTA, {0: [50.0, 900.0]})[0]
    data = json.loads(good_line)
    point = data["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["histogram"]["dataPoints"][
        0
    ]
    point["bucketCounts"] = ["1", "1"]  # 2 counts for 4 bounds
    write_lines(tmp_path / "metrics.json", [good_line, json.dumps(data), "{oops"])
    good, bad = split(
        load(tmp_path, METRICS, ["sli_buckets"], slos=(lat_slo(),)).frames["sli_buckets"]
    )
    # line 1: 50 ms good, 900 ms not -> 1/2 in minute T0
    assert good.select("bucket_start", "good", "total").rows() == [(T0, 1, 2)]
    assert [loc for loc, _ in bad] == [
        "metrics.json:2 http.server.request.duration point 1",
        "metrics.json:3",
    ]
    assert bad[0][1] == "2 bucketCounts for 4 explicitBounds (expected one more)"


def test_a_configured_otlp_source_feeds_the_report_end_to_end(tmp_path: Path) -> None:
    t = ns(T0)
    spans = sdk_spans(
        ALPHA,
        [
            {"name": "GET", "start": t + 5 * SEC, "end": t + 5 * SEC + 100_000_000,
             "attrs": {"http.route": "/triage", "http.response.status_code": 200}},
            {"name": "GET", "start": t + 6 * SEC, "end": t + 6 * SEC + 400_000_000,
             "attrs": {"http.route": "/triage", "http.response.status_code": 500}},
        ],
    )  # fmt: skip
    write_lines(tmp_path / "traces.json", [otlp_json(spans), "garbage"])
    write_lines(tmp_path / "metrics.json", sdk_histograms(AggregationTemporality.DELTA, EVENTS_MS))
    source = Source(
        name="otel",
        type="otlp",
        tables=["requests", "sli_buckets"],
        settings={"traces": "traces.json", "metrics": "metrics.json", "latency": {"lat": {}}},
    )
    avail = Slo(name="avail", initiative="alpha", sli="availability", target=0.9, window="1d")
    cfg = config(slos=[lat_slo(), avail], sources=[source]).model_copy(
        update={"root": str(tmp_path)}
    )
    data = load_sources(cfg, None, now=T, until=T)
    (health,) = data.health
    # 2 spans + 3 buckets loaded; the "garbage" line quarantined
    assert (health.ok, health.rows, health.quarantined) == (True, 5, 1)
    _, rep = compute(cfg, data, T)
    numbers = {s.name: (s.good, s.total) for i in rep.initiatives for s in i.slos}
    # lat: the histogram buckets alone (2 + 1 + 2 good of 4 + 2 + 3); avail: the 2 spans, 1 a 500
    assert numbers == {"lat": (5, 9), "avail": (1, 2)}
