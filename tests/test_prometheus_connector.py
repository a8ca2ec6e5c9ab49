"""The prometheus connector against a real, backfilled Prometheus server (tests/prom_server.py).

Every expected bucket is worked out by hand from the samples written below; minute k means
T0 + k minutes. The counting rule is in docs/connectors.md, "The Prometheus connector".
"""

from __future__ import annotations

import base64
import json
import random
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from prom_server import Family, PromServer, start_prometheus

from connectors.base import BAD, LOCATION, REASON, SourceConfigError, SourceSpec, SourceUnavailable
from connectors.prometheus import PrometheusConnector
from connectors.promquery import chunks
from connectors.promselector import parse_selector
from core.models import Config, Initiative, Slo
from metrics.portfolio import compute_portfolio

T0 = datetime(2026, 11, 2, tzinfo=UTC)  # a fixed instant in the past; retention is 100y


def at(k: float) -> int:
    """Unix seconds of minute k (fractions are seconds: 0.25 = 15 s)."""
    return int((T0 + timedelta(minutes=k)).timestamp())


def minute(k: int) -> datetime:
    return T0 + timedelta(minutes=k)


def steps(values: list[float], first: int = 0) -> list[tuple[int, float]]:
    """One sample per minute from minute `first`."""
    return [(at(first + i), v) for i, v in enumerate(values)]


API = {"job": "api"}
# counter A (instance a, 200): 15 s samples in minute 0, a reset at minute 3 (20 -> 4), then a
# gap from minute 4 to 11: 7 minutes, longer than Prometheus' 5-minute lookback
A = [(at(0), 10), (at(0.25), 12), (at(0.5), 13), (at(0.75), 14), (at(1), 15), (at(2), 20)]
A += [(at(3), 4), (at(4), 6), (at(11), 16), (at(12), 18)]
B = steps([0, 3, 3] + [7] * 10)  # instance b, 200, every minute 0..12
E = steps([0, 1, 1, 1] + [2] * 9)  # instance a, 500
C = steps([100, 101] + [101] * 5, first=6)  # instance c starts at minute 6
LATENCY = {"0.1": [0, 2, 3, 3], "0.3": [0, 5, 8, 8], "1": [0, 6, 10, 12], "+Inf": [0, 7, 10, 13]}
EQ_START = T0 + timedelta(hours=2)  # the equality data set: one hour of events from here
EQ_BOUNDS = ("0.1", "0.3", "1", "+Inf")


def eq_events() -> list[tuple[int, bool, float]]:
    """(unix seconds, error, duration_ms): 0-5 events inside each of 60 minutes, never on :00."""
    rng = random.Random(9)
    events = []
    for m in range(60):
        for _ in range(rng.randint(0, 5)):
            second = rng.randint(1, 59)
            stamp = int((EQ_START + timedelta(minutes=m, seconds=second)).timestamp())
            events.append((stamp, rng.random() < 0.15, rng.choice([50, 120, 300, 450, 800, 1500])))
    return events


def eq_families() -> list[Family]:
    """The events as counters sampled at each minute boundary: v(b) = events before b."""
    events = eq_events()
    bounds = [int((EQ_START + timedelta(minutes=m)).timestamp()) for m in range(61)]

    def cumulative(keep: Any) -> list[tuple[int, float]]:
        return [(b, float(sum(1 for e in events if e[0] < b and keep(e)))) for b in bounds]

    requests = [
        ("eq_requests_total", ({"job": "eq", "code": "200"}, cumulative(lambda e: not e[1]))),
        ("eq_requests_total", ({"job": "eq", "code": "500"}, cumulative(lambda e: e[1]))),
    ]
    histogram = [
        (
            "eq_duration_seconds_bucket",
            (
                {"job": "eq", "le": le},
                cumulative(lambda e, le=le: e[2] / 1000 <= float(le)),
            ),
        )
        for le in EQ_BOUNDS
    ]
    histogram += [
        ("eq_duration_seconds_count", ({"job": "eq"}, cumulative(lambda e: True))),
        ("eq_duration_seconds_sum", ({"job": "eq"}, cumulative(lambda e: True))),
    ]
    return [
        Family("eq_requests", "counter", requests),
        Family("eq_duration_seconds", "histogram", histogram),
    ]


def families() -> list[Family]:
    requests = [
        ("demo_requests_total", ({**API, "instance": "a", "code": "200"}, A)),
        ("demo_requests_total", ({**API, "instance": "b", "code": "200"}, B)),
        ("demo_requests_total", ({**API, "instance": "a", "code": "500"}, E)),
        ("demo_requests_total", ({**API, "instance": "c", "code": "200"}, C)),
    ]
    latency = [
        ("demo_latency_seconds_bucket", ({**API, "le": le}, steps(v))) for le, v in LATENCY.items()
    ]
    latency += [
        ("demo_latency_seconds_count", (API, steps([0, 7, 10, 13]))),
        ("demo_latency_seconds_sum", (API, steps([0, 1, 2, 3]))),
    ]
    # good and total scraped at different moments: good runs ahead of total in minute 0
    skewed = [
        ("demo_good_total", ({"job": "q"}, steps([0, 5, 6]))),
        ("demo_all_total", ({"job": "q"}, steps([0, 4, 6]))),
    ]
    gauges = [
        ("demo_events_per_minute", (API, steps([9, 4, 6.4, 2] + [0] * 9))),
        ("demo_good_per_minute", (API, steps([9, 3, 6, 1] + [0] * 9))),
    ]
    return [
        Family("demo_requests", "counter", requests),
        Family("demo_latency_seconds", "histogram", latency),
        Family("demo_good", "counter", skewed[:1]),
        Family("demo_all", "counter", skewed[1:]),
        Family("demo_events_per_minute", "gauge", gauges[:1]),
        Family("demo_good_per_minute", "gauge", gauges[1:]),
        *eq_families(),
    ]


@pytest.fixture(scope="module")
def prom(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PromServer]:
    server = start_prometheus(tmp_path_factory.mktemp("prom"), families())
    yield server
    server.stop()


def slo(name: str, sli: str = "availability", **fields: Any) -> Slo:
    return Slo.model_validate(
        {"name": name, "initiative": "demo", "sli": sli, "target": 0.99, **fields}
    )


def spec(url: str, slos: list[Slo], end: int = 12, start: int = 0, **settings: Any) -> SourceSpec:
    return SourceSpec(
        name="prom",
        type="prometheus",
        tables=("sli_buckets",),
        settings={"url": url, **settings},
        slos=tuple(slos),
        fetch_range=(minute(start), minute(end)),
    )


def load(source: SourceSpec) -> pl.DataFrame:
    """Every row the connector delivered (good and quarantined), by slo and minute."""
    frame = PrometheusConnector(source).load().frames["sli_buckets"].collect()
    return frame.sort("slo", "bucket_start")


def rows(frame: pl.DataFrame, name: str) -> list[tuple[int, int, int]]:
    """(minute k, good, total) of one SLO's buckets with events."""
    mine = frame.filter((pl.col("slo") == name) & (pl.col("total") > 0))
    return [
        (int((r["bucket_start"] - T0).total_seconds() // 60), r["good"], r["total"])
        for r in mine.iter_rows(named=True)
    ]


AVAILABILITY = slo(
    "api-availability",
    indicator={
        "bad": 'demo_requests_total{job="api",code=~"5.."}',
        "total": 'demo_requests_total{job="api"}',
    },
)


def test_counters_summed_over_series_with_reset_gap_and_late_series(prom: PromServer) -> None:
    got = load(spec(prom.url, [AVAILABILITY]))
    # total per minute = A + B + E + C deltas:
    #   k0: A 15-10=5, B 3-0=3, E 1-0=1 -> 9; k1: A 20-15=5 -> 5
    #   k2: A reset 20 -> 4 counts 4, B 7-3=4 -> 8; k3: A 6-4=2, E 2-1=1 -> 3
    #   k6: C 101-100=1 (its first sample at k6 is the baseline) -> 1
    #   k10: A's gap: last value 6 carried to k10, sample 16 at k11 -> 10; k11: A 18-16=2
    # bad (code 5xx, only E): k0 1, k3 1; good = total - bad
    assert rows(got, "api-availability") == [
        (0, 8, 9),
        (1, 5, 5),
        (2, 8, 8),
        (3, 2, 3),
        (6, 1, 1),
        (10, 10, 10),
        (11, 2, 2),
    ]
    mine = got.filter(pl.col("slo") == "api-availability")
    assert mine["total"].sum() == 38  # A 28 + B 7 + E 2 + C 1: nothing lost or counted twice
    assert not mine[BAD].any() and not mine["estimate"].any()
    assert mine["bucket_start"].min() == minute(0) and mine["bucket_start"].max() == minute(11)
    assert mine[LOCATION][0] == "prometheus api-availability 2026-11-02T00:00Z"


def test_a_reset_and_a_gap_on_one_series(prom: PromServer) -> None:
    only_a = 'demo_requests_total{instance="a",code="200"}'
    got = load(spec(prom.url, [slo("a", indicator={"good": only_a, "total": only_a})]))
    # A: k0 5, k1 5, k2 the reset (20 -> 4) counts the new value 4, k3 2; minutes 4..9 count
    # 0; the increase 6 -> 16 lands in k10, the minute that ends with the next sample; k11 2
    assert rows(got, "a") == [(0, 5, 5), (1, 5, 5), (2, 4, 4), (3, 2, 2), (10, 10, 10), (11, 2, 2)]


def test_chunked_requests_give_the_same_buckets(prom: PromServer) -> None:
    # 13 points (minutes 0..12) in chunks of 7: [0, 6] and [6, 12], sharing minute 6
    assert list(chunks(at(0), at(12), 7)) == [(at(0), at(6)), (at(6), at(12))]
    whole = load(spec(prom.url, [AVAILABILITY]))
    chunked = load(spec(prom.url, [AVAILABILITY], max_points_per_request=7))
    smallest = load(spec(prom.url, [AVAILABILITY], max_points_per_request=2))  # 12 requests
    assert chunked.equals(whole) and smallest.equals(whole)


def test_histogram_latency_at_a_boundary(prom: PromServer) -> None:
    latency = slo(
        "api-latency",
        "latency",
        threshold_ms=300,
        indicator={"histogram": 'demo_latency_seconds{job="api"}', "unit": "s"},
    )
    got = load(spec(prom.url, [latency]))
    # good = le="0.3" deltas: 5-0, 8-5, 8-8; total = _count deltas: 7-0, 10-7, 13-10
    assert rows(got, "api-latency") == [(0, 5, 7), (1, 3, 3), (2, 0, 3)]


def test_histogram_threshold_not_a_boundary_names_the_neighbours(prom: PromServer) -> None:
    latency = slo(
        "api-latency",
        "latency",
        threshold_ms=500,
        indicator={"histogram": 'demo_latency_seconds{job="api"}', "unit": "s"},
    )
    with pytest.raises(SourceConfigError) as raised:
        load(spec(prom.url, [latency]))
    text = str(raised.value)
    # boundaries 0.1 s, 0.3 s, 1 s, +Inf in ms: 100, 300, 1000; 500 sits between 300 and 1000
    assert "'api-latency'" in text and "threshold_ms 500" in text
    assert "below: 300 ms" in text and "above: 1000 ms" in text


def test_histogram_refuses_lt(prom: PromServer) -> None:
    latency = slo(
        "api-latency",
        "latency",
        threshold_ms=300,
        threshold_op="lt",
        indicator={"histogram": 'demo_latency_seconds{job="api"}', "unit": "s"},
    )
    with pytest.raises(SourceConfigError, match="threshold_op lt cannot be counted"):
        load(spec(prom.url, [latency]))


def test_good_over_total_is_quarantined_not_clamped(prom: PromServer) -> None:
    skewed = slo(
        "skewed", indicator={"good": 'demo_good_total{job="q"}', "total": 'demo_all_total{job="q"}'}
    )
    got = load(spec(prom.url, [skewed], end=2))
    # k0: good 5-0=5 > total 4-0=4 -> quarantined; k1: good 6-5=1, total 6-4=2 -> kept
    assert got.select("good", "total", BAD).rows() == [(5, 4, True), (1, 2, False)]
    assert got[REASON][0] == "good: 5 > total 4"
    assert got[LOCATION][0] == "prometheus skewed 2026-11-02T00:00Z"


def test_expression_is_evaluated_per_minute_and_marked_estimate(prom: PromServer) -> None:
    expression = slo(
        "api-estimate",
        indicator={
            "good": 'demo_good_per_minute{job="api"} * 1',
            "total": 'demo_events_per_minute{job="api"} * 1',
        },
    )
    got = load(spec(prom.url, [expression]))
    # the value at step k+1 counts in [k, k+1): totals 4, 6.4 -> 6, 2; goods 3, 6, 1
    assert rows(got, "api-estimate") == [(0, 3, 4), (1, 6, 6), (2, 1, 2)]
    assert got["estimate"].all()


def test_a_bad_query_quotes_prometheus(prom: PromServer) -> None:
    broken = slo("broken", indicator={"good": "sum(", "total": 'demo_all_total{job="q"}'})
    with pytest.raises(SourceConfigError) as raised:
        load(spec(prom.url, [broken]))
    text = str(raised.value)
    assert "SLO 'broken'" in text and "query 'sum('" in text and "bad_data" in text


def test_only_slos_naming_this_source_are_counted(prom: PromServer) -> None:
    other = slo("other", indicator={"source": "elsewhere", "good": "x", "total": "y"})
    plain = slo("plain")  # no indicator: counted from requests, never here
    got = load(spec(prom.url, [AVAILABILITY, other, plain]))
    assert set(got["slo"]) == {"api-availability"}


# --- the same events as raw requests and as Prometheus counters give the same SLO numbers ---


def test_prometheus_buckets_equal_request_buckets(prom: PromServer) -> None:
    events = eq_events()
    as_of = EQ_START + timedelta(hours=1)
    common = {"initiative": "eq", "target": 0.95, "window": "1h"}
    avail = {"name": "eq-avail", "sli": "availability"}
    fast = {"name": "eq-fast", "sli": "latency", "threshold_ms": 300}
    from_requests = [
        Slo.model_validate({**common, **avail}),
        Slo.model_validate({**common, **fast}),
    ]
    from_prom = [
        Slo.model_validate(
            {
                **common,
                **avail,
                "indicator": {
                    "bad": 'eq_requests_total{code="500"}',
                    "total": 'eq_requests_total{job="eq"}',
                },
            }
        ),
        Slo.model_validate(
            {
                **common,
                **fast,
                "indicator": {"histogram": 'eq_duration_seconds{job="eq"}', "unit": "s"},
            }
        ),
    ]
    initiative = Initiative(
        id="eq",
        name="Eq",
        stage="pilot",
        owner="o",
        sponsor="s",
        clinical_area="c",
        started_on=date(2026, 1, 1),
    )
    source = spec(prom.url, from_prom)
    source.fetch_range = (EQ_START, as_of)
    loaded = PrometheusConnector(source).load().frames["sli_buckets"].collect()
    assert not loaded[BAD].any()
    buckets = loaded.drop(REASON, LOCATION, BAD)
    requests = pl.DataFrame(
        {
            "timestamp": [datetime.fromtimestamp(e[0], UTC) for e in events],
            "initiative": "eq",
            "service": "eq-api",
            "operation": "",
            "environment": "production",
            "duration_ms": [float(e[2]) for e in events],
            "status_code": [500 if e[1] else 200 for e in events],
            "error": [e[1] for e in events],
        }
    )
    by_prom = compute_portfolio(
        {"sli_buckets": buckets}, Config(initiatives=[initiative], slos=from_prom), as_of
    ).slos
    by_requests = compute_portfolio(
        {"requests": requests}, Config(initiatives=[initiative], slos=from_requests), as_of
    ).slos
    columns = ["slo", "good", "total", "sli", "budget_consumed", "status"]
    columns += [c for c in by_prom.columns if c.startswith("burn_")]
    assert by_prom.select(columns).equals(by_requests.select(columns))
    # and the counts are the events themselves: every event in the hour, the good ones by hand
    row = by_prom.filter(pl.col("slo") == "eq-avail").row(0, named=True)
    assert row["total"] == len(events) and row["good"] == sum(1 for e in events if not e[1])
    row = by_prom.filter(pl.col("slo") == "eq-fast").row(0, named=True)
    assert row["good"] == sum(1 for e in events if e[2] <= 300)


# --- parsing, auth, server failures (a tiny 127.0.0.1 HTTP server stands in) ---


@pytest.mark.parametrize(
    ("query", "plain"),
    [
        ('http_requests_total{job="api",code=~"5.."}', True),
        ("up", True),
        ('{__name__="up", job!="x",}', True),
        ("x{a='}'}", True),
        ("sum(rate(x[5m]))", False),
        ("x[5m]", False),
        ("x offset 5m", False),
        ('x{job="a"} * 1', False),
        ("x > 0", False),
        ('x{job="a"', False),
    ],
)
def test_selector_or_expression(query: str, plain: bool) -> None:
    assert (parse_selector(query) is not None) is plain


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []
    status = 200
    body = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
    delay = 0.0

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers.items()))
        time.sleep(type(self).delay)
        try:
            self.send_response(type(self).status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(type(self).body)
        except BrokenPipeError:
            pass  # the client gave up (the timeout test)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[type[_Recorder]]:
    handler = type("Handler", (_Recorder,), {"seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    handler.url = f"http://127.0.0.1:{server.server_address[1]}"  # type: ignore[attr-defined]
    yield handler
    server.shutdown()
    server.server_close()


def test_bearer_token_and_extra_headers_are_sent(fake: Any) -> None:
    load(spec(fake.url, [AVAILABILITY], bearer_token="s3cret", headers={"X-Scope-OrgID": "t1"}))
    assert fake.seen and all(h["Authorization"] == "Bearer s3cret" for h in fake.seen)
    assert all(h["X-Scope-OrgID"] == "t1" for h in fake.seen)


def test_basic_auth_is_sent(fake: Any) -> None:
    load(spec(fake.url, [AVAILABILITY], username="alice", password="pw"))
    # base64("alice:pw") = YWxpY2U6cHc=
    assert base64.b64encode(b"alice:pw") == b"YWxpY2U6cHc="
    assert fake.seen[0]["Authorization"] == "Basic YWxpY2U6cHc="


def test_http_500_is_a_clear_source_error_without_secrets(fake: Any) -> None:
    fake.status, fake.body = 500, b"internal trouble"
    url = fake.url.replace("http://", "http://bob:hunter2@")
    with pytest.raises(SourceUnavailable) as raised:
        load(spec(url, [AVAILABILITY], bearer_token=None))
    text = str(raised.value)
    assert "SLO 'api-availability'" in text and 'demo_requests_total{job="api"}' in text
    assert "HTTP 500" in text and "hunter2" not in text and "bob" not in text


def test_status_error_quotes_the_server(fake: Any) -> None:
    fake.status = 422
    fake.body = json.dumps(
        {
            "status": "error",
            "errorType": "execution",
            "error": "query processing would load too many samples",
        }
    ).encode()
    with pytest.raises(SourceUnavailable, match="execution: query processing would load too many"):
        load(spec(fake.url, [AVAILABILITY]))


def test_not_prometheus_json(fake: Any) -> None:
    fake.body = b"<html>login</html>"
    with pytest.raises(SourceUnavailable, match="not Prometheus API JSON"):
        load(spec(fake.url, [AVAILABILITY]))


def test_timeout_on_every_request(fake: Any) -> None:
    fake.delay = 1.0
    started = time.monotonic()
    with pytest.raises(SourceUnavailable, match=r"no answer within 0.2s \(settings.timeout\)"):
        load(spec(fake.url, [AVAILABILITY], timeout=0.2))
    assert time.monotonic() - started < 1.0


def test_unreachable_server(tmp_path: Path) -> None:
    from managed_process import free_port

    with pytest.raises(SourceUnavailable, match=r"cannot reach http://127\.0\.0\.1"):
        load(spec(f"http://127.0.0.1:{free_port()}", [AVAILABILITY], timeout=2))


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"step": "30s"}, "step is fixed at 60s"),
        ({"username": "u"}, "give both `username` and `password`"),
        ({"bearer_token": "t", "username": "u", "password": "p"}, "not both"),
        ({"url": "ftp://x"}, "not a valid http(s) URL"),
        ({"max_points_per_request": 20000}, "less than or equal to 11000"),
        ({"timeout": "soon"}, "expected seconds or a duration"),
        ({"colour": "red"}, "unknown key"),
    ],
)
def test_settings_are_checked(settings: dict[str, Any], message: str) -> None:
    errors = PrometheusConnector.settings_errors({"url": "http://127.0.0.1:1", **settings})
    assert any(message in e for e in errors), errors


def test_other_tables_are_refused() -> None:
    source = spec("http://127.0.0.1:1", [AVAILABILITY])
    source.tables = ("requests",)
    with pytest.raises(SourceConfigError, match="delivers only sli_buckets"):
        PrometheusConnector(source).load()


def test_default_range_is_the_last_31_days() -> None:
    source = spec("http://127.0.0.1:1", [AVAILABILITY])
    source.fetch_range = None
    start, end = PrometheusConnector(source).fetch_bounds()
    assert end - start == 31 * 86400 and end % 60 == 0
    assert abs(end - time.time()) < 120


# --- config checks across files: which prometheus source reads an indicator ---

_INITIATIVES = """\
initiatives:
  - id: demo
    name: Demo
    stage: pilot
    owner: o
    sponsor: s
    clinical_area: c
    started_on: 2026-01-01
"""


def _config_issues(
    tmp_path: Path, slo_source: str | None, sources: list[tuple[str, str]]
) -> list[str]:
    from pilotwatch.config import ConfigError, load_config

    named = f"\n      source: {slo_source}" if slo_source else ""
    (tmp_path / "initiatives.yaml").write_text(_INITIATIVES)
    (tmp_path / "slos.yaml").write_text(
        "slos:\n  - name: api\n    initiative: demo\n    sli: availability\n    target: 0.99\n"
        f"    indicator:{named}\n      bad: 'x{{code=\"500\"}}'\n      total: x\n"
    )
    listed = "".join(
        f"  - name: {name}\n    type: {kind}\n    tables: [sli_buckets]\n"
        + ("    settings: {url: 'http://127.0.0.1:1'}\n" if kind == "prometheus" else "")
        + ("    settings: {path: data}\n" if kind == "file" else "")
        for name, kind in sources
    )
    (tmp_path / "sources.yaml").write_text("sources:\n" + listed)
    try:
        load_config(tmp_path, env={})
    except ConfigError as exc:
        return [str(issue) for issue in exc.issues]
    return []


def test_config_unset_indicator_source_is_fine_with_one_prometheus(tmp_path: Path) -> None:
    assert _config_issues(tmp_path, None, [("prom", "prometheus")]) == []


def test_config_unset_indicator_source_is_ambiguous_with_two(tmp_path: Path) -> None:
    found = _config_issues(tmp_path, None, [("p1", "prometheus"), ("p2", "prometheus")])
    assert len(found) == 1 and "slos[0].indicator.source" in found[0]
    assert "several prometheus sources ['p1', 'p2']" in found[0] and "slos.yaml" in found[0]


def test_config_named_indicator_source_must_exist_and_be_prometheus(tmp_path: Path) -> None:
    found = _config_issues(tmp_path, "ghost", [("prom", "prometheus")])
    assert len(found) == 1 and "unknown source 'ghost' (prometheus sources: ['prom'])" in found[0]
    found = _config_issues(tmp_path, "files", [("prom", "prometheus"), ("files", "file")])
    assert any("source 'files' is of type 'file'" in f for f in found), found
    assert _config_issues(tmp_path, "p2", [("p1", "prometheus"), ("p2", "prometheus")]) == []


def test_config_prometheus_source_feeds_only_sli_buckets(tmp_path: Path) -> None:
    _config_issues(tmp_path, None, [("prom", "prometheus")])
    sources = (tmp_path / "sources.yaml").read_text().replace("[sli_buckets]", "[requests]")
    (tmp_path / "sources.yaml").write_text(sources)
    from pilotwatch.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"sources\[0\]\.tables.*delivers only sli_buckets"):
        load_config(tmp_path, env={})


def test_histogram_without_series_warns_and_delivers_nothing(prom: PromServer) -> None:
    latency = slo(
        "ghost-latency",
        "latency",
        threshold_ms=300,
        indicator={"histogram": 'no_such_seconds{job="api"}', "unit": "s"},
    )
    loaded = PrometheusConnector(spec(prom.url, [latency])).load()
    assert loaded.frames["sli_buckets"].collect().height == 0
    assert loaded.warnings == [
        "SLO 'ghost-latency': no series no_such_seconds_bucket{job=\"api\"} in the fetch range; "
        "its buckets are empty"
    ]
