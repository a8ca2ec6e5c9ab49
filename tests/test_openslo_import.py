"""OpenSLO v1 / v2alpha import and export (docs/bring-your-slos.md).

Every published example (tests/data/slo_standards/openslo/SOURCES.md) imports to the SLOs
written out below by hand or is refused at the field we expect; exported SLOs import back
identical.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.models import Slo
from pilotwatch.slo_import.export_openslo import export_openslo, slo_document
from pilotwatch.slo_import.files import MISSING, import_documents, import_files, read_documents
from pilotwatch.slo_import.mapping import ImportResult

DATA = Path(__file__).parent / "data" / "slo_standards" / "openslo"


def one(text: str, initiative: str | None = None) -> ImportResult:
    """Import the YAML documents of `text` as one file."""
    docs = [(d, "t.yaml", i + 1) for i, d in enumerate(yaml.safe_load_all(text))]
    return import_documents(docs, initiative)


def refused(result: ImportResult) -> list[tuple[str, str]]:
    return [(r.field, r.reason) for r in result.refused]


# --- the published examples --------------------------------------------------------------

# (file, [(document, field, reason substring)]); every one of them is refused: their metric
# sources are placeholders (`Any`), Datadog, or DataSources the file does not hold
PUBLISHED: list[tuple[str, list[tuple[int, str, str]]]] = [
    (
        "spec-occurrences-slo.yaml",
        [(1, "spec.indicator.spec.thresholdMetric.metricSource.type", "type 'Any'")],
    ),
    (
        "spec-ratio-timeslices.yaml",
        [(1, "spec.indicator.spec.ratioMetric.good.metricSource.type", "type 'Any'")],
    ),
    (
        "spec-timeslices-slo.yaml",
        [
            (1, "spec.indicator.spec.ratioMetric.good.metricSource.type", "type 'Any'"),
            # `duration: 1m` with isRolling false: one calendar minute is no pilotwatch window
            (1, "spec.timeWindow[0].duration", "a calendar window of 1m cannot be represented"),
        ],
    ),
    (
        "spec-low-traffic-timeslices-slo.yaml",
        [(1, "spec.indicator.spec.ratioMetric.good.metricSource.type", "type 'Any'")],
    ),
    (
        "readme-inline-sli-slo.yaml",
        [
            (
                1,
                "spec.indicator.spec.ratioMetric.good.metricSource.metricSourceRef",
                "no kind: DataSource named 'datadog-datasource'",
            ),
            (1, "spec.timeWindow", "missing"),
        ],
    ),
    ("readme-other-kinds.yaml", []),
    (
        "sdk-v2alpha-slos.yaml",
        [
            (
                1,
                "spec.sli.spec.ratioMetric.good.dataSourceRef",
                "no kind: DataSource named 'my-prometheus'",
            )
        ],
    ),
    (
        "sdk-export-v1-slo.yaml",
        [
            (
                1,
                "SLI my-sli: spec.thresholdMetric.metricSource.metricSourceRef",
                "no kind: DataSource named 'my-prometheus'",
            )
        ],
    ),
    (
        "sdk-inline-v1-slo.yaml",
        [
            (
                1,
                "SLI my-sli: spec.thresholdMetric.metricSource.metricSourceRef",
                "no kind: DataSource named 'my-prometheus'",
            )
        ],
    ),
    (
        "sdk-encode-v1-slo.json",
        [
            (
                1,
                "spec.indicator.spec.ratioMetric.good.metricSource.metricSourceRef",
                "no kind: DataSource named 'thanos'",
            ),
            (1, "spec.timeWindow", "missing"),
        ],
    ),
    ("sdk-decode-sequence-of-objects.json", []),
]


@pytest.mark.parametrize(("name", "expected"), PUBLISHED, ids=[p[0] for p in PUBLISHED])
def test_each_published_example_is_refused_where_expected(
    name: str, expected: list[tuple[int, str, str]]
) -> None:
    result = import_files([DATA / name])
    assert result.slos == []  # none of them loads, so none loads with a changed meaning
    got = [(r.document, r.field, r.reason) for r in result.refused]
    assert [(d, f) for d, f, _ in got] == [(d, f) for d, f, _ in expected]
    for (_, _, reason), (_, _, part) in zip(got, expected, strict=True):
        assert part in reason
    assert all(r.file == str(DATA / name) for r in result.refused)


def test_every_fixture_file_is_listed_in_sources() -> None:
    listed = (DATA / "SOURCES.md").read_text()
    for path in DATA.iterdir():
        if path.name != "SOURCES.md":
            assert f"`{path.name}`" in listed, path.name
    assert {name for name, _ in PUBLISHED} | {"variants-v1.yaml", "variants-v2alpha.yaml"} == {
        p.name for p in DATA.iterdir() if p.name != "SOURCES.md"
    }


def test_other_kinds_are_noted_never_errors() -> None:
    result = import_files([DATA / "sdk-export-v1-slo.yaml"])
    notes = [(n.document, n.note) for n in result.notes]
    # documents 2..7 of the SDK's list: two policies, a target, a condition, the SLI, a target
    assert notes == [
        (2, "kind: AlertPolicy is not an SLO; ignored"),
        (3, "kind: AlertPolicy is not an SLO; ignored"),
        (4, "kind: AlertNotificationTarget is not an SLO; ignored"),
        (5, "kind: AlertCondition is not an SLO; ignored"),
        (6, "kind: SLI is not an SLO; read for references"),
        (7, "kind: AlertNotificationTarget is not an SLO; ignored"),
    ]


# --- the variants: the examples made importable, mapped by hand ---------------------------

UP = {"good": 'up_checks_total{result="ok"}', "total": "up_checks_total"}
NY_2022 = {"calendar": "1M", "start": "2022-01-01T12:00:00", "timezone": "America/New_York"}
VARIANTS: list[dict[str, Any]] = [
    {
        "name": "search-slo",
        "initiative": "web-shop",
        "sli": "latency",
        "threshold_ms": 500.0,  # value 500 with pilotwatch/threshold-unit: ms
        "threshold_op": "lt",  # op: lt
        "target": 0.99,
        "window": "2w",
        "indicator": {"histogram": 'search_duration_milliseconds{job="shop"}', "unit": "ms"},
        "description": "Searches answer within 500 ms.",
        "budgeting": "occurrences",
    },
    {
        "name": "main-page",
        "initiative": "web-shop",
        "sli": "availability",
        "target": 0.99,
        "window": "2w",
        "indicator": {
            "good": 'http_requests_total{page="main",code=~"2.."}',
            "total": 'http_requests_total{page="main"}',
        },
        "budgeting": "ratio_timeslices",  # RatioTimeslices stays ratio, never occurrences
        "timeslice": {"length": "1m"},
    },
    {
        # two objectives, two SLOs: <name>-<displayName slug>
        "name": "service-availability-internal-objective",
        "initiative": "web-availability",  # from the label
        "sli": "availability",
        "target": 0.995,
        "window": NY_2022,  # 12:00 is no natural start: the general form, zone kept
        "indicator": UP,  # indicatorRef resolved; `promql` read as the query
        "budgeting": "timeslices",
        "timeslice": {"length": "1m", "target": 0.99},
    },
    {
        "name": "service-availability-sla",
        "initiative": "web-availability",
        "sli": "availability",
        "target": 0.99,
        "window": NY_2022,
        "indicator": UP,
        "budgeting": "timeslices",
        "timeslice": {"length": "5m", "target": 0.99},  # timeSliceWindow: 5 means 5 minutes
    },
    {
        "name": "important-service",
        "initiative": "web-availability",
        "sli": "availability",
        "target": 0.9995,
        # 2022-01-01 was a Saturday: weeks from Saturday noon, not ISO weeks
        "window": {
            "calendar": "1w",
            "start": "2022-01-01T12:00:00",
            "timezone": "America/New_York",
        },
        "indicator": UP,
        "budgeting": "timeslices",
        "timeslice": {"length": "1m", "target": 0.95},
    },
    {
        "name": "checkout-30d",
        "initiative": "web-shop",
        "sli": "availability",
        "target": 0.999,  # targetPercent 99.9 / 100, exactly (not 0.9990000000000001)
        "window": "30d",  # 30d stays 30d
        "filter": {"service": "checkout", "environment": "staging"},
        "indicator": {
            "bad": "sum(increase(checkout_errors_total[1m]))",
            "total": "sum(increase(checkout_requests_total[1m]))",
        },
        "budgeting": "occurrences",
    },
    {
        "name": "checkout-monthly",
        "initiative": "web-shop",
        "sli": "availability",
        "target": 0.9995,  # 99.95 %
        "window": "calendar_month",  # 1 January 00:00 is a natural month start
        "timezone": "Europe/Paris",  # ... aligned in the calendar's zone
        "indicator": UP,
        "budgeting": "occurrences",
    },
    {
        "name": "checkout-quarterly",
        "initiative": "web-shop",
        "sli": "availability",
        "target": 0.98,
        "window": "calendar_quarter",  # 1 April 00:00 starts a quarter
        "timezone": "Asia/Tokyo",
        "indicator": UP,
        "budgeting": "occurrences",
    },
]
V2ALPHA = {
    "name": "web-availability",
    "initiative": "web",
    "sli": "availability",
    "target": 0.995,
    "window": {"calendar": "1w", "start": "2022-01-01T12:00:00", "timezone": "America/New_York"},
    "indicator": {
        "good": 'http_requests{k8s_cluster="prod",component="web",code=~"2xx|4xx"}',
        "total": 'http_requests{k8s_cluster="prod",component="web"}',
    },
    "description": "X% of search requests are successful",
    "budgeting": "timeslices",
    "timeslice": {"length": "1m", "target": 0.95},
}


def test_v1_variants_map_as_worked_out() -> None:
    result = import_files([DATA / "variants-v1.yaml"])
    assert result.refused == []
    assert [s.entry for s in result.slos] == VARIANTS
    assert [s.document for s in result.slos] == [2, 3, 4, 4, 6, 7, 8, 9]
    main_page = result.slos[1]
    notes = [m.note for m in main_page.mapped if not m.key]
    assert "op gt without value compares nothing; ignored" in notes
    target = next(m for m in result.slos[5].mapped if m.key == "target")
    assert (target.source, target.note) == ("spec.objectives[0].targetPercent", "99.9 % -> 0.999")


def test_v2alpha_variant_maps_as_worked_out() -> None:
    result = import_files([DATA / "variants-v2alpha.yaml"])
    assert result.refused == []
    assert [s.entry for s in result.slos] == [V2ALPHA]


def test_import_export_import_is_the_identity_for_every_example_that_imports() -> None:
    first = import_files([DATA / "variants-v1.yaml", DATA / "variants-v2alpha.yaml"])
    slos = [Slo.model_validate(s.entry) for s in first.slos]
    assert len(slos) == 9
    again = one(export_openslo(slos))
    assert again.refused == []
    assert [Slo.model_validate(s.entry) for s in again.slos] == slos
    assert [s.entry for s in again.slos] == [s.entry for s in first.slos]


# --- export: every form, back to the same SLOs --------------------------------------------

ALL_FORMS = [
    Slo(name="a", initiative="i", sli="availability", target=0.999, window="30d"),
    Slo(
        name="b",
        initiative="i",
        sli="latency",
        threshold_ms=250,
        threshold_op="lt",
        target=0.99,
        window="calendar_month",
        timezone="America/New_York",
        budgeting="timeslices",
        timeslice={"length": "5m", "target": 0.95},
        filter={"service": "s", "operation": "GET /x", "environment": "staging"},
    ),
    Slo(
        name="c",
        initiative="i",
        sli="availability",
        target=0.995,
        window={"calendar": "1Q", "start": "2026-02-01T00:00:00", "timezone": "Europe/Paris"},
        budgeting="ratio_timeslices",
        timeslice={"length": "1m"},
        indicator={"good": 'http_requests_total{code!~"5.."}', "total": "http_requests_total"},
    ),
    Slo(
        name="d",
        initiative="i",
        sli="latency",
        threshold_ms=300,
        target=0.9,
        window={"calendar": "2w"},  # natural start, the SLO's zone: kept by pilotwatch/window
        timezone="Asia/Tokyo",
        indicator={"source": "prom", "histogram": 'http_s{job="api"}', "unit": "s"},
        description="latency from a histogram",
    ),
    Slo(
        name="e",
        initiative="i",
        sli="latency",  # counted by good/total: no threshold
        target=0.9,
        window={"calendar": "1M", "start": "2026-01-01T00:00:00"},
        indicator={"bad": "sum(increase(x[1m]))", "total": "y"},  # mixed: no `counter` flag
    ),
    Slo(
        name="f", initiative="i", sli="availability", target=0.9, window="1w", timezone="Asia/Tokyo"
    ),
    Slo(name="g", initiative="i", sli="latency", threshold_ms=800, target=0.95, window="90m"),
    Slo(
        name="h",
        initiative="i",
        sli="availability",
        target=0.97,
        window="calendar_week",
        budgeting="timeslices",
        timeslice={"length": "1h", "target": 0.9},
    ),
    Slo(name="k", initiative="i", sli="availability", target=0.5, window="calendar_year"),
    Slo(
        name="m",
        initiative="i",
        sli="availability",
        target=0.99,
        window={"calendar": "3M", "start": "2026-03-15T08:30:00", "timezone": "UTC"},
        timezone="Europe/Paris",
        indicator={"good": "sum(increase(g[1m]))", "total": "sum(increase(t[1m]))"},
    ),
]


def test_export_then_import_gives_the_same_slos() -> None:
    result = one(export_openslo(ALL_FORMS))
    assert result.refused == []
    back = [Slo.model_validate(s.entry) for s in result.slos]
    assert back == ALL_FORMS
    # the written forms too (a Duration compares as a timedelta: 1w == 7d)
    assert [s.model_dump(mode="json") for s in back] == [
        s.model_dump(mode="json") for s in ALL_FORMS
    ]


def test_exported_documents_have_openslo_v1_required_fields() -> None:
    for doc in yaml.safe_load_all(export_openslo(ALL_FORMS)):
        assert (doc["apiVersion"], doc["kind"]) == ("openslo/v1", "SLO")
        assert set(doc) == {"apiVersion", "kind", "metadata", "spec"}
        spec = doc["spec"]
        assert {"service", "indicator", "timeWindow", "budgetingMethod", "objectives"} <= set(spec)
        assert spec["budgetingMethod"] in ("Occurrences", "Timeslices", "RatioTimeslices")
        (window,) = spec["timeWindow"]
        assert isinstance(window["isRolling"], bool)
        assert window["isRolling"] == ("calendar" not in window)
        indicator = spec["indicator"]["spec"]
        assert len(set(indicator) & {"ratioMetric", "thresholdMetric"}) == 1
        for objective in spec["objectives"]:
            assert 0 <= objective["target"] < 1
            assert ("op" in objective) == ("value" in objective)


def test_export_writes_what_openslo_cannot_say_as_annotations() -> None:
    doc = slo_document(ALL_FORMS[1])
    assert doc["metadata"]["annotations"] == {
        "pilotwatch/initiative": "i",
        "pilotwatch/sli": "latency",
        "pilotwatch/service": "s",
        "pilotwatch/operation": "GET /x",
        "pilotwatch/environment": "staging",
        "pilotwatch/threshold-unit": "ms",
    }
    assert doc["spec"]["objectives"] == [
        {
            "op": "lt",
            "value": 250.0,
            "target": 0.99,
            "timeSliceTarget": 0.95,
            "timeSliceWindow": "5m",
        }
    ]
    # calendar_month in New York: the natural start written in that zone
    assert doc["spec"]["timeWindow"] == [
        {
            "duration": "1M",
            "isRolling": False,
            "calendar": {"startTime": "1970-01-01 00:00:00", "timeZone": "America/New_York"},
        }
    ]
    ratio = doc["spec"]["indicator"]["spec"]["thresholdMetric"]["metricSource"]
    assert ratio == {"type": "pilotwatch", "spec": {"sli": "latency", "value": "duration_ms"}}


# --- refusals, one rule at a time ---------------------------------------------------------

BASE = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: x
  annotations: {pilotwatch/initiative: i}
spec:
  service: s
  indicator:
    metadata: {name: x}
    spec:
      ratioMetric:
        good: {metricSource: {type: Prometheus, spec: {query: 'ok_total'}}}
        total: {metricSource: {type: Prometheus, spec: {query: 'all_total'}}}
  timeWindow: [{duration: 28d, isRolling: true}]
  budgetingMethod: Occurrences
  objectives: [{target: 0.99}]
"""


def test_the_base_document_imports() -> None:
    result = one(BASE)
    assert refused(result) == []
    assert result.slos[0].entry == {
        "name": "x",
        "initiative": "i",
        "sli": "availability",
        "target": 0.99,
        "window": "28d",
        "indicator": {"good": "ok_total", "total": "all_total"},
        "budgeting": "occurrences",
    }


LATENCY = BASE.replace(
    "      ratioMetric:\n"
    "        good: {metricSource: {type: Prometheus, spec: {query: 'ok_total'}}}\n"
    "        total: {metricSource: {type: Prometheus, spec: {query: 'all_total'}}}\n",
    "      thresholdMetric: {metricSource: {type: Prometheus, spec: {histogram: h, unit: s}}}\n",
)

REFUSALS: list[tuple[str, str, str, str]] = [
    # (case, text, field, reason substring)
    (
        "rate",
        BASE.replace("query: 'ok_total'", "query: 'sum(rate(ok_total[5m]))'"),
        "spec.indicator.spec.ratioMetric.good.metricSource.spec.query",
        "a per-second rate is not a count of events",
    ),
    (
        "raw ratio",
        BASE.replace("        good:", "        rawType: success\n        raw:").replace(
            "        total: {metricSource: {type: Prometheus, spec: {query: 'all_total'}}}\n", ""
        ),
        "spec.indicator.spec.ratioMetric.raw",
        "a precomputed ratio",
    ),
    (
        "datadog",
        BASE.replace(
            "{type: Prometheus, spec: {query: 'ok_total'}}", "{type: Datadog, spec: {query: q}}"
        ),
        "spec.indicator.spec.ratioMetric.good.metricSource.type",
        "'Datadog'",
    ),
    (
        "quantile",
        LATENCY.replace("{histogram: h, unit: s}", "{query: 'histogram_quantile(0.9, x)'}"),
        "spec.indicator.spec.thresholdMetric.metricSource.spec.query",
        "not a count of good events",
    ),
    (
        "no unit",
        LATENCY.replace("[{target: 0.99}]", "[{op: lte, value: 250, target: 0.99}]"),
        "spec.objectives[0].value",
        "OpenSLO gives no unit for value 250; add annotation pilotwatch/threshold-unit",
    ),
    (
        "good when above",
        LATENCY.replace("[{target: 0.99}]", "[{op: gte, value: 250, target: 0.99}]").replace(
            "{pilotwatch/initiative: i}",
            "{pilotwatch/initiative: i, pilotwatch/threshold-unit: ms}",
        ),
        "spec.objectives[0].op",
        "good when above 250 cannot be represented",
    ),
    (
        "calendar day",
        BASE.replace(
            "[{duration: 28d, isRolling: true}]",
            "[{duration: 1d, isRolling: false, calendar: {startTime: '2022-01-01 00:00:00', "
            "timeZone: UTC}}]",
        ),
        "spec.timeWindow[0].duration",
        "a calendar window of 1d cannot be represented",
    ),
    (
        "rolling month",
        BASE.replace("duration: 28d", "duration: 1M"),
        "spec.timeWindow[0].duration",
        "a rolling 1M window has no fixed length",
    ),
    (
        "two windows",
        BASE.replace("[{duration: 28d, isRolling: true}]", "[{duration: 28d}, {duration: 7d}]"),
        "spec.timeWindow",
        "2 windows",
    ),
    (
        "seconds slice",
        BASE.replace("Occurrences", "Timeslices").replace(
            "[{target: 0.99}]", "[{target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 30s}]"
        ),
        "spec.objectives[0].timeSliceWindow",
        "not a whole number of minutes",
    ),
    (
        "ratio slice target",
        BASE.replace("Occurrences", "RatioTimeslices").replace(
            "[{target: 0.99}]", "[{target: 0.99, timeSliceTarget: 0.9, timeSliceWindow: 1m}]"
        ),
        "spec.objectives[0].timeSliceTarget",
        "RatioTimeslices averages the slices' ratios",
    ),
    (
        "unknown spec field",
        BASE.replace("  service: s\n", "  service: s\n  burnRateOverride: 2\n"),
        "spec.burnRateOverride",
        "unknown field",
    ),
    (
        "unknown annotation",
        BASE.replace(
            "{pilotwatch/initiative: i}", "{pilotwatch/initiative: i, pilotwatch/enviroment: x}"
        ),
        "metadata.annotations.pilotwatch/enviroment",
        "unknown pilotwatch annotation",
    ),
    (
        "no initiative",
        BASE.replace("  annotations: {pilotwatch/initiative: i}\n", ""),
        "metadata.annotations.pilotwatch/initiative",
        "pass --initiative",
    ),
    (
        "missing SLI",
        BASE.replace(
            BASE[BASE.index("  indicator:") : BASE.index("  timeWindow")],
            "  indicatorRef: nowhere\n",
        ),
        "spec.indicatorRef",
        "no kind: SLI named 'nowhere'",
    ),
    (
        "target 1",
        BASE.replace("[{target: 0.99}]", "[{target: 1}]"),
        "spec.objectives[0].target",
        "target: Input should be less than 1",
    ),
    (
        "counter flag on an expression",
        BASE.replace("query: 'ok_total'", "query: 'sum(ok_total)'").replace(
            "      ratioMetric:\n", "      ratioMetric:\n        counter: true\n"
        ),
        "spec.indicator.spec.ratioMetric.counter",
        "only a plain series selector is counted as one",
    ),
    (
        "composite",
        BASE.replace("apiVersion: openslo/v1", "apiVersion: openslo.com/v2alpha")
        .replace("  indicator:", "  sli:")
        .replace(
            "{metricSource: {type: Prometheus, spec: {query: 'ok_total'}}}",
            "{dataSourceSpec: {type: Prometheus}, spec: {query: ok_total}}",
        )
        .replace(
            "{metricSource: {type: Prometheus, spec: {query: 'all_total'}}}",
            "{dataSourceSpec: {type: Prometheus}, spec: {query: all_total}}",
        )
        .replace("[{target: 0.99}]", "[{target: 0.99, compositeWeight: 1}]"),
        "spec.objectives[0].compositeWeight",
        "a composite SLO",
    ),
    (
        "old version",
        BASE.replace("openslo/v1", "openslo/v1alpha"),
        "apiVersion",
        "pilotwatch reads openslo/v1 and openslo.com/v2alpha",
    ),
]


@pytest.mark.parametrize(
    ("case", "text", "field", "reason"), REFUSALS, ids=[r[0] for r in REFUSALS]
)
def test_what_cannot_be_represented_is_refused_with_its_field(
    case: str, text: str, field: str, reason: str
) -> None:
    result = one(text)
    assert result.slos == []
    assert len(result.refused) == 1, refused(result)
    (refusal,) = result.refused
    assert refusal.field == field
    assert reason in refusal.reason
    assert (refusal.file, refusal.document) == ("t.yaml", 1)


def test_a_threshold_in_seconds_is_converted_exactly() -> None:
    text = LATENCY.replace("[{target: 0.99}]", "[{op: lte, value: 0.3, target: 0.99}]").replace(
        "{pilotwatch/initiative: i}", "{pilotwatch/initiative: i, pilotwatch/threshold-unit: s}"
    )
    (slo,) = one(text).slos
    # 0.3 s * 1000 = 300 ms exactly (0.3 * 1000 in floats is 300.00000000000006)
    assert (slo.entry["threshold_ms"], slo.entry["threshold_op"]) == (300.0, "le")
    assert slo.entry["indicator"] == {"histogram": "h", "unit": "s"}


def test_cli_initiative_wins_and_refusals_do_not_hide_good_objectives() -> None:
    text = BASE.replace(
        "[{target: 0.99}]", "[{displayName: Fast, target: 0.99}, {displayName: Broken, target: 2}]"
    )
    result = one(text, initiative="cli-id")
    assert [(s.name, s.entry["initiative"]) for s in result.slos] == [("x-fast", "cli-id")]
    assert [(r.slo, r.field) for r in result.refused] == [("x-broken", "spec.objectives[1].target")]


# --- files ---------------------------------------------------------------------------------


def test_yaml_lists_json_lists_and_documents_are_numbered_in_order(tmp_path: Path) -> None:
    docs, problems = read_documents(DATA / "sdk-export-v1-slo.yaml")
    assert problems == [] and [n for _, _, n in docs] == [1, 2, 3, 4, 5, 6, 7]
    docs, _ = read_documents(DATA / "sdk-decode-sequence-of-objects.json")
    assert [d["metadata"]["name"] for d, _, _ in docs] == ["users-auth", "users-login"]
    several = tmp_path / "several.yaml"
    several.write_text(BASE + "---\n" + BASE.replace("name: x\n", "name: y\n"))
    assert [s.name for s in import_files([several]).slos] == ["x", "y"]


def test_a_yaml_error_or_duplicate_key_is_a_located_refusal(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: [}\n")
    (refusal,) = import_files([broken]).refused
    assert refusal.file == str(broken) and "line 3" in refusal.reason
    assert "invalid YAML" in refusal.reason
    dupe = tmp_path / "dupe.yaml"
    dupe.write_text(
        BASE.replace(
            "  budgetingMethod: Occurrences\n",
            "  budgetingMethod: Occurrences\n  budgetingMethod: Timeslices\n",
        )
    )
    result = import_files([dupe])
    assert result.slos == []  # refused as a whole, never read with one of the two values
    # BASE's line 15 is budgetingMethod; the repeat is line 16
    assert any(
        "duplicate key `budgetingMethod`" in r.reason and "line 16" in r.reason
        for r in result.refused
    )
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"apiVersion": "openslo/v1", "apiVersion": "x"}')
    (refusal,) = import_files([bad_json]).refused
    assert "duplicate key 'apiVersion'" in refusal.reason


def test_an_unknown_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text("hello: world\n")
    (refusal,) = import_files([path]).refused
    assert "not an OpenSLO, Sloth" in refusal.reason


def test_sloth_without_its_importer_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    import pilotwatch.slo_import as package

    monkeypatch.setitem(sys.modules, "pilotwatch.slo_import.sloth", None)  # import fails
    monkeypatch.delattr(package, "sloth", raising=False)  # ... even once imported elsewhere
    docs = [({"version": "prometheus/v1", "service": "x", "slos": []}, "s.yaml", 1)]
    result = import_documents(docs)
    assert [(r.field, r.reason) for r in result.refused] == [("<document>", MISSING)]
