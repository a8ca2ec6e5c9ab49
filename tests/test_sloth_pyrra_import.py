"""Sloth and Pyrra imports: each published example maps to the SLOs worked out by hand, or is
refused with the located reason (tests/data/slo_standards/*/SOURCES.md names the originals)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pilotwatch.slo_import import pyrra, sloth
from pilotwatch.slo_import.mapping import ImportResult

DATA = Path(__file__).parent / "data" / "slo_standards"
HTTP = 'http_request_duration_seconds_count{job="myservice"'


def load(kind: str, name: str, initiative: str | None = "portal") -> list[ImportResult]:
    """Every document of a fixture through its importer."""
    module = sloth if kind == "sloth" else pyrra
    path = DATA / kind / name
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d is not None]
    assert all(module.is_sloth(d) if kind == "sloth" else module.is_pyrra(d) for d in docs)
    return [module.import_document(d, name, i, initiative) for i, d in enumerate(docs, 1)]


def entries(results: list[ImportResult]) -> list[dict[str, Any]]:
    assert all(r.ok for r in results), [str(x) for r in results for x in r.refused]
    return [s.entry for r in results for s in r.slos]


def refusals(results: list[ImportResult]) -> list[tuple[int, str, str | None]]:
    assert not any(r.slos for r in results)
    return [(x.document, x.field, x.slo) for r in results for x in r.refused]


# ---- Sloth ----------------------------------------------------------------------------------

GETTING_STARTED = {
    "name": "myservice-requests-availability",  # <service>-<slo name>
    "initiative": "portal",
    "sli": "availability",
    "target": 0.999,  # 99.9 % / 100
    "window": "30d",  # Sloth's default period
    "indicator": {
        "bad": HTTP + ',code=~"(5..|429)"}',  # sum(rate(<this>[{{.window}}])) -> the counter
        "total": HTTP + "}",
    },
    "description": "Common SLO based on availability for HTTP request responses.",
}


@pytest.mark.parametrize("name", ["getting-started.yml", "k8s-getting-started.yml"])
def test_sloth_getting_started_maps_the_counters_exactly(name: str) -> None:
    assert entries(load("sloth", name)) == [GETTING_STARTED]


def test_sloth_mapped_notes_say_period_alerts_and_plugins() -> None:
    [result] = load("sloth", "getting-started.yml")
    notes = {m.source: m.note for m in result.slos[0].mapped}
    assert "Sloth's default period" in notes["-"]
    assert notes["slos[0].alerting"] == (
        "not mapped: pilotwatch applies its own multiwindow alert policy (docs/metrics.md)"
    )
    assert notes["slo_plugins.chain[0]"].startswith("not mapped: sloth.dev/contrib/alert_for/v1")
    target = next(m for m in result.slos[0].mapped if m.key == "target")
    assert target.note == "99.9 % -> 0.999"


def test_sloth_multifile_one_slo_per_document_names_stay_unique() -> None:
    for name in ("multifile.yml", "k8s-multifile.yml"):
        got = entries(load("sloth", name))
        assert [(e["name"], e["target"]) for e in got] == [
            ("myservice-requests-availability", 0.999),
            ("myservice2-requests-availability", 0.9999),  # 99.99 % -> 0.9999
        ]


def test_sloth_no_alerts_multiline_queries() -> None:
    [got] = entries(load("sloth", "no-alerts.yml"))
    assert got["name"] == "myapp-http-availability"
    assert got["target"] == 0.9999
    assert got["indicator"] == {
        "bad": 'http_request_duration_seconds_count{job="myapp", code=~"(5..|429)"}',
        "total": 'http_request_duration_seconds_count{job="myapp"}',
    }


def test_sloth_interval_is_a_note() -> None:
    [result] = load("sloth", "custom_rule_group_interval.yml")
    [slo] = result.slos
    assert slo.entry["indicator"] == {
        "bad": 'node_cpu_seconds_total{mode="softirq"}',
        "total": "node_cpu_seconds_total",
    }
    assert any(m.source == "slos[0].interval" for m in slo.mapped)


def test_sloth_latency_difference_is_good_over_total() -> None:
    got = entries(load("sloth", "kubernetes-apiserver.yml"))
    assert got[0]["indicator"] == {
        "bad": 'apiserver_request_total{code=~"(5..|429)"}',
        "total": "apiserver_request_total",
    }
    # error = count - bucket{le=0.4}  =>  good = bucket{le=0.4}, total = count
    assert got[1]["name"] == "k8s-apiserver-requests-latency"
    assert got[1]["sli"] == "latency"
    assert got[1]["target"] == 0.99
    assert got[1]["indicator"] == {
        "good": 'apiserver_request_duration_seconds_bucket{le="0.4",verb!="WATCH"}',
        "total": 'apiserver_request_duration_seconds_count{verb!="WATCH"}',
    }


def test_sloth_subquery_sli_is_a_per_minute_estimate() -> None:
    got = entries(load("sloth", "home-wifi.yml"))
    assert [e["target"] for e in got] == [0.95, 0.999]
    assert got[0]["indicator"] == {
        "bad": "sum_over_time((count(unifipoller_client_satisfaction_ratio < 0.75))[1m:])"
        " OR on() vector(0)",
        "total": "sum_over_time((count(unifipoller_client_satisfaction_ratio))[1m:])",
    }


def test_sloth_rate_inside_an_expression_becomes_increase_1m() -> None:
    doc = {
        "version": "prometheus/v1",
        "service": "s",
        "slos": [
            {
                "name": "a",
                "objective": 99.5,
                "sli": {
                    "events": {
                        "error_query": "sum(rate(e{c='5'}[{{.window}}]))"
                        " + sum(rate(f[{{.window}}]))",
                        "total_query": "sum(rate(t[{{ .window }}]))",
                    }
                },
            }
        ],
    }
    [slo] = sloth.import_document(doc, "f.yml", 1, "i").slos
    assert slo.entry["indicator"] == {
        "bad": "sum(increase(e{c='5'}[1m])) + sum(increase(f[1m]))",
        # once one query is an estimate, both are read per minute the same way
        "total": "sum(increase(t[1m]))",
    }
    assert slo.entry["target"] == 0.995


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("sum by (code) (rate(e[{{.window}}]))", "groups into one SLI per group"),
        ("rate(e[{{.window}}])", "not summed into one series"),
        ("sum(irate(e[{{.window}}]))", "`irate` over {{.window}} is not a count"),
        ("sum(rate(e[5m]))", "must use {{.window}}"),
        ("sum(rate(e[{{.window}}])) / 2", "`/` outside the windowed terms"),
    ],
)
def test_sloth_queries_that_cannot_be_counted_are_refused(query: str, reason: str) -> None:
    doc = {
        "version": "prometheus/v1",
        "service": "s",
        "slos": [
            {
                "name": "a",
                "objective": 99,
                "sli": {
                    "events": {"error_query": query, "total_query": "sum(rate(t[{{.window}}]))"}
                },
            }
        ],
    }
    result = sloth.import_document(doc, "f.yml", 3, "i")
    [refusal] = result.refused
    assert (refusal.document, refusal.field, refusal.slo) == (
        3,
        "slos[0].sli.events.error_query",
        "s-a",
    )
    assert reason in refusal.reason
    assert not result.slos


def test_sloth_refusals_name_the_field() -> None:
    assert refusals(load("sloth", "raw-home-wifi.yml")) == [
        (1, "slos[0].sli.raw", "home-wifi-wifi-client-satisfaction")
    ]
    assert refusals(load("sloth", "plugin-getting-started.yml")) == [
        (1, "slos[0].sli.plugin", "myservice-requests-availability")
    ]
    assert refusals(load("sloth", "contrib-denominator-corrected.yaml")) == [
        (1, "spec.sloPlugins.chain[0].id", None)
    ]
    assert refusals(load("sloth", "windows/7d.yaml")) == [(1, "kind", None)]


def test_sloth_initiative_from_label_or_refused() -> None:
    assert refusals(load("sloth", "no-alerts.yml", initiative=None)) == [
        (1, "slos[0].labels.pilotwatch/initiative", "myapp-http-availability")
    ]
    doc = yaml.safe_load((DATA / "sloth" / "no-alerts.yml").read_text())
    doc["labels"]["pilotwatch_initiative"] = "billing"
    [slo] = sloth.import_document(doc, "f", 1, None).slos
    assert slo.entry["initiative"] == "billing"


def test_sloth_objective_of_100_and_unknown_keys_are_refused() -> None:
    doc = yaml.safe_load((DATA / "sloth" / "no-alerts.yml").read_text())
    doc["slos"][0]["objective"] = 100
    doc["slos"][0]["period"] = "7d"
    result = sloth.import_document(doc, "f", 1, "i")
    assert [(x.field, x.slo) for x in result.refused] == [
        ("slos[0].period", "myapp-http-availability"),
        ("slos[0].objective", "myapp-http-availability"),
    ]


# ---- Pyrra ----------------------------------------------------------------------------------


def test_pyrra_ratio_examples() -> None:
    got = entries(load("pyrra", "apiserver-request-errors.yaml"))
    assert got == [
        {
            "sli": "availability",
            "indicator": {
                "bad": 'apiserver_request_total{job="apiserver",verb=~"LIST|GET",code=~"5.."}',
                "total": 'apiserver_request_total{job="apiserver",verb=~"LIST|GET"}',
            },
            "name": "apiserver-read-response-errors",
            "initiative": "portal",
            "target": 0.9999,  # "99.99" / 100
            "window": "2w",
        },
        {
            "sli": "availability",
            "indicator": {
                "bad": 'apiserver_request_total{job="apiserver",verb=~"POST|PUT|PATCH|DELETE",'
                'code=~"5.."}',
                "total": 'apiserver_request_total{job="apiserver",verb=~"POST|PUT|PATCH|DELETE"}',
            },
            "name": "apiserver-write-response-errors",
            "initiative": "portal",
            "target": 0.99,
            "window": "1w",
        },
    ]


@pytest.mark.parametrize(
    ("name", "slo", "target", "window"),
    [
        ("coredns-response-errors.yaml", "coredns-response-errors", 0.9999, "2w"),
        ("prometheus-http-errors.yaml", "prometheus-http-errors", 0.9999, "2w"),
        ("dynamic-burn-rate-ratio.yaml", "apiserver-requests-dynamic", 0.99, "28d"),
    ],
)
def test_pyrra_more_ratio_examples(name: str, slo: str, target: float, window: str) -> None:
    [got] = entries(load("pyrra", name))
    assert (got["name"], got["target"], got["window"], got["sli"]) == (
        slo,
        target,
        window,
        "availability",
    )
    assert set(got["indicator"]) == {"bad", "total"}


@pytest.mark.parametrize(
    ("name", "threshold_ms", "target", "window"),
    [
        ("coredns-request-latency.yaml", 32.0, 0.99, "2w"),  # le="0.032" s = 32 ms
        ("apiserver-request-latency.yaml", 1000.0, 0.99, "2w"),  # le="1" s = 1000 ms
        ("caddy-response-latency.yaml", 50.0, 0.9, "4w"),  # le="0.05" s = 50 ms; "90" % = 0.9
    ],
)
def test_pyrra_latency_examples(name: str, threshold_ms: float, target: float, window: str) -> None:
    [got] = entries(load("pyrra", name))
    assert got["sli"] == "latency"
    assert got["threshold_ms"] == threshold_ms
    assert (got["target"], got["window"]) == (target, window)
    assert got["indicator"]["good"].split("{")[0].endswith("_seconds_bucket")
    assert got["indicator"]["total"].split("{")[0].endswith("_seconds_count")


def test_pyrra_coredns_latency_indicator_verbatim() -> None:
    [got] = entries(load("pyrra", "coredns-request-latency.yaml"))
    assert got["indicator"] == {
        "good": 'coredns_dns_request_duration_seconds_bucket{job="coredns",le="0.032"}',
        "total": 'coredns_dns_request_duration_seconds_count{job="coredns"}',
    }


def test_pyrra_refusals() -> None:
    assert refusals(load("pyrra", "dynamic-burn-rate-latency-native.yaml")) == [
        (1, "spec.indicator.latencyNative", "pyrra-connect-native-latency-dynamic")
    ]
    assert refusals(load("pyrra", "dynamic-burn-rate-bool-gauge.yaml")) == [
        (1, "spec.indicator.bool_gauge", "prometheus-availability-dynamic")
    ]
    results = load("pyrra", "nginx.yaml")
    assert [e["name"] for r in results for e in (s.entry for s in r.slos)] == ["nginx-api-errors"]
    assert [(x.document, x.field) for r in results for x in r.refused] == [
        (2, "spec.latency"),  # not a Pyrra field
        (2, "spec.indicator.latency.success.metric"),  # no le matcher
    ]


def test_pyrra_grouping_unit_and_window_rules() -> None:
    base = yaml.safe_load((DATA / "pyrra" / "coredns-request-latency.yaml").read_text())
    grouped = {
        **base,
        "spec": {
            **base["spec"],
            "indicator": {"latency": {**base["spec"]["indicator"]["latency"], "grouping": ["job"]}},
        },
    }
    [refusal] = pyrra.import_document(grouped, "f", 1, "i").refused
    assert refusal.field == "spec.indicator.latency.grouping"
    unitless = yaml.safe_load(yaml.safe_dump(base).replace("_seconds_bucket", "_bucket"))
    [refusal] = pyrra.import_document(unitless, "f", 1, "i").refused
    assert "unit" in refusal.reason and refusal.field.endswith("success.metric")
    assert pyrra.pyrra_window("1w2d") == ("9d", "1w2d -> 9d (a Prometheus y is 365d)")  # 7 + 2
    assert pyrra.pyrra_window("90s")[0] is None  # 1.5 minutes
    assert pyrra.pyrra_window("1y")[0] == "365d"
