"""An OpenSLO indicator as a pilotwatch `indicator` or the request data (docs/bring-your-slos.md).

Prometheus ratio metrics give `indicator: {good|bad, total}` with the queries verbatim; a
Prometheus threshold metric over a histogram (`spec: {histogram, unit}`) gives a histogram
indicator; the `pilotwatch` metric source the exporter writes means the initiative's requests.
Everything else is refused with the field and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pilotwatch.slo_import.openslo_parts import Refuse

PILOTWATCH = "pilotwatch"  # the metric source type of a requests-based SLO (no indicator)
_RATE = re.compile(r"\b(i?rate)\s*\(")
_NAME = re.compile(r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*$")
RATE_REASON = (
    "a per-second rate is not a count of events; use the counter selector (counted exactly) "
    "or increase(...[1m])"
)
# the pilotwatch metric source's spec, per part (what export_openslo writes)
REQUESTS = {
    "good": {"sli": "availability", "count": "good"},
    "total": {"sli": "availability", "count": "total"},
    "threshold": {"sli": "latency", "value": "duration_ms"},
}


@dataclass
class Indicator:
    """What the indicator says: an `indicator` entry (None: the requests) and notes."""

    entry: dict[str, Any] | None
    kind: str  # "ratio" or "threshold"
    source: str  # the document field it came from
    sli: str | None = None  # the sli the indicator implies, when it does
    notes: list[str] = field(default_factory=list)


def is_plain_selector(query: str) -> bool:
    """True when `query` is a plain series selector (counted exactly as a counter)."""
    try:
        from connectors.promselector import parse_selector
    except ImportError:  # pragma: no cover - the Prometheus connector ships it
        return bool(re.match(r"^\s*[a-zA-Z_:][a-zA-Z0-9_:]*\s*(\{[^{}()]*\})?\s*$", query))
    return parse_selector(query) is not None


@dataclass
class _Registry:
    slis: dict[str, dict[str, Any]]
    sources: dict[str, dict[str, Any]]


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise Refuse(where, "expected a mapping")
    return value


def _source_type(
    part: dict[str, Any], where: str, v2: bool, registry: _Registry
) -> tuple[str, dict[str, Any], str]:
    """(type, spec, field of the type) of one metric part of an SLI."""
    if v2:
        for key in part:
            if key not in ("dataSourceRef", "dataSourceSpec", "spec"):
                raise Refuse(f"{where}.{key}", "unknown field (it could change the query)")
        ref, inline, spec = part.get("dataSourceRef"), part.get("dataSourceSpec"), part.get("spec")
        ref_key, inline_type = f"{where}.dataSourceRef", None
        if inline is not None:
            inline_type = _mapping(inline, f"{where}.dataSourceSpec").get("type")
        type_field = f"{where}.dataSourceSpec.type"
    else:
        source = _mapping(part.get("metricSource"), f"{where}.metricSource")
        for key in part:
            if key != "metricSource":
                raise Refuse(f"{where}.{key}", "unknown field (it could change the query)")
        for key in source:
            if key not in ("metricSourceRef", "type", "spec"):
                raise Refuse(
                    f"{where}.metricSource.{key}", "unknown field (it could change the query)"
                )
        ref, inline_type, spec = (
            source.get("metricSourceRef"),
            source.get("type"),
            source.get("spec"),
        )
        ref_key, type_field = f"{where}.metricSource.metricSourceRef", f"{where}.metricSource.type"
        where = f"{where}.metricSource"
    kind = inline_type
    if ref is not None:
        doc = registry.sources.get(str(ref))
        if doc is None:
            raise Refuse(ref_key, f"no kind: DataSource named {ref!r} in the files given")
        ref_type = (doc.get("spec") or {}).get("type")
        if kind is not None and str(kind).lower() != str(ref_type).lower():
            raise Refuse(
                type_field, f"{kind!r} differs from DataSource {ref!r}'s type {ref_type!r}"
            )
        kind, type_field = ref_type, f"DataSource {ref}: spec.type"
    if kind is None:
        raise Refuse(type_field, "missing: the metric source type (e.g. Prometheus)")
    return str(kind), _mapping(spec if spec is not None else {}, f"{where}.spec"), type_field


def _query(spec: dict[str, Any], where: str) -> str:
    for key in spec:
        if key not in ("query", "promql"):
            raise Refuse(f"{where}.spec.{key}", "unknown field of a Prometheus query")
    if "query" in spec and "promql" in spec:
        raise Refuse(f"{where}.spec.promql", "give query or promql, not both")
    query = spec.get("query", spec.get("promql"))
    if not isinstance(query, str) or not query.strip():
        raise Refuse(f"{where}.spec.query", "missing: the PromQL query")
    query = query.strip()
    if _RATE.search(query):
        raise Refuse(f"{where}.spec.query", RATE_REASON)
    return query


def _ratio(metric: dict[str, Any], where: str, v2: bool, registry: _Registry) -> Indicator:
    for key in metric:
        if key not in ("counter", "good", "bad", "total", "raw", "rawType"):
            raise Refuse(f"{where}.{key}", "unknown field (it could change the indicator)")
    if "raw" in metric or "rawType" in metric:
        raise Refuse(
            f"{where}.raw",
            "a precomputed ratio cannot be counted as events; give good (or bad) and total",
        )
    if "good" in metric and "bad" in metric:
        raise Refuse(f"{where}.bad", "give good or bad, not both")
    if "total" not in metric or not ("good" in metric or "bad" in metric):
        raise Refuse(f"{where}.total", "a ratio needs total and one of good or bad")
    counter = metric.get("counter")
    numerator = "good" if "good" in metric else "bad"
    parts: dict[str, tuple[str, dict[str, Any], str]] = {}
    for name in (numerator, "total"):
        parts[name] = _source_type(
            _mapping(metric[name], f"{where}.{name}"), f"{where}.{name}", v2, registry
        )
    kinds = {kind.lower() for kind, _, _ in parts.values()}
    if kinds == {PILOTWATCH}:
        for name, (_, spec, _) in parts.items():
            if spec != REQUESTS.get(name):
                raise Refuse(
                    f"{where}.{name}",
                    f"a pilotwatch metric source here is exactly spec {REQUESTS['good']} / "
                    f"{REQUESTS['total']} (the initiative's requests)",
                )
        return Indicator(None, "ratio", where, "availability", ["the initiative's requests"])
    for kind, _, type_field in parts.values():
        if kind.lower() != "prometheus":
            raise Refuse(
                type_field,
                f"metric source type {kind!r}: pilotwatch runs Prometheus queries only "
                "(or the pilotwatch type for its own request data)",
            )
    entry: dict[str, Any] = {}
    notes: list[str] = []
    for name in (numerator, "total"):
        part_where = f"{where}.{name}" if v2 else f"{where}.{name}.metricSource"
        query = _query(parts[name][1], part_where)
        plain = is_plain_selector(query)
        if counter is True and not plain:
            raise Refuse(
                f"{where}.counter",
                f"counter: true says {name} is a cumulative counter, but only a plain series "
                "selector is counted as one; write the selector, or an expression giving the "
                "events per minute (increase(...[1m])) with counter: false",
            )
        if counter is False and plain:
            raise Refuse(
                f"{where}.counter",
                f"counter: false says {name} is a gauge, but a plain selector is counted as a "
                "counter; give an expression of the events per minute",
            )
        entry[name] = query
        notes.append(
            f"{name}: a plain selector, counted exactly"
            if plain
            else f"{name}: an expression, evaluated per minute as that minute's events (estimate)"
        )
    return Indicator(entry, "ratio", where, None, notes)


def _threshold(metric: dict[str, Any], where: str, v2: bool, registry: _Registry) -> Indicator:
    kind, spec, type_field = _source_type(metric, where, v2, registry)
    spec_where = f"{where}.spec" if v2 else f"{where}.metricSource.spec"
    if kind.lower() == PILOTWATCH:
        if spec != REQUESTS["threshold"]:
            raise Refuse(
                spec_where, f"a pilotwatch threshold metric is exactly spec {REQUESTS['threshold']}"
            )
        return Indicator(None, "threshold", where, "latency", ["the initiative's requests"])
    if kind.lower() != "prometheus":
        raise Refuse(
            type_field, f"metric source type {kind!r}: pilotwatch runs Prometheus queries only"
        )
    if "histogram" in spec:
        for key in spec:
            if key not in ("histogram", "unit"):
                raise Refuse(f"{spec_where}.{key}", "unknown field beside histogram")
        histogram, unit = spec["histogram"], spec.get("unit")
        if not isinstance(histogram, str) or not is_plain_selector(histogram):
            raise Refuse(f"{spec_where}.histogram", "expected the histogram's name and labels")
        if unit not in ("s", "ms"):
            raise Refuse(f"{spec_where}.unit", "the unit of the histogram's le bounds: s or ms")
        return Indicator(
            {"histogram": histogram.strip(), "unit": unit},
            "threshold",
            where,
            "latency",
            ["histogram _bucket{le=threshold} / _count, counted exactly"],
        )
    query = spec.get("query", spec.get("promql"))
    raise Refuse(
        f"{spec_where}.query",
        f"a threshold metric ({str(query).strip()!r}) compares a value such as a quantile with "
        "the objective, which is not a count of good events; use a ratioMetric with good and "
        "total counters, or spec {histogram: <name{labels}>, unit: s|ms}",
    )


def map_indicator(
    spec: dict[str, Any],
    v2: bool,
    slis: dict[str, dict[str, Any]],
    sources: dict[str, dict[str, Any]],
) -> Indicator:
    """The indicator of an SLO spec (inline or by reference); Refuse when not exact."""
    registry = _Registry(slis, sources)
    inline_key, ref_key = ("sli", "sliRef") if v2 else ("indicator", "indicatorRef")
    inline, ref = spec.get(inline_key), spec.get(ref_key)
    if inline is not None and ref is not None:
        raise Refuse(f"spec.{ref_key}", f"give {inline_key} or {ref_key}, not both")
    if ref is not None:
        doc = slis.get(str(ref))
        if doc is None:
            raise Refuse(f"spec.{ref_key}", f"no kind: SLI named {ref!r} in the files given")
        body, where = _mapping(doc.get("spec"), f"SLI {ref}: spec"), f"SLI {ref}: spec"
    elif inline is not None:
        body = _mapping(
            _mapping(inline, f"spec.{inline_key}").get("spec"), f"spec.{inline_key}.spec"
        )
        where = f"spec.{inline_key}.spec"
    else:
        raise Refuse(f"spec.{inline_key}", f"missing: an SLO needs {inline_key} or {ref_key}")
    for key in body:
        if key not in ("description", "ratioMetric", "thresholdMetric"):
            raise Refuse(f"{where}.{key}", "unknown field (it could change the indicator)")
    if "ratioMetric" in body and "thresholdMetric" in body:
        raise Refuse(f"{where}.thresholdMetric", "give ratioMetric or thresholdMetric, not both")
    if "ratioMetric" in body:
        return _ratio(
            _mapping(body["ratioMetric"], f"{where}.ratioMetric"),
            f"{where}.ratioMetric",
            v2,
            registry,
        )
    if "thresholdMetric" in body:
        metric = _mapping(body["thresholdMetric"], f"{where}.thresholdMetric")
        return _threshold(metric, f"{where}.thresholdMetric", v2, registry)
    raise Refuse(where, "the indicator needs ratioMetric or thresholdMetric")
