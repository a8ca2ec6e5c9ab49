"""Configured SLOs as OpenSLO v1 documents that import back to the same SLOs.

docs/bring-your-slos.md, "Exporting": what OpenSLO cannot say goes in `pilotwatch/...`
annotations: initiative, sli, filter, the threshold unit (always ms), the indicator's source,
and the SLO's timezone or exact window when the OpenSLO time window alone would read back
differently. A requests-based SLO (no
`indicator`) gets an inline indicator whose metric source type is `pilotwatch`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import yaml

from core.models import Slo
from core.windows import dump_window, parse_window
from pilotwatch.slo_import.openslo import API_V1, PREFIX
from pilotwatch.slo_import.openslo_indicator import PILOTWATCH, REQUESTS, is_plain_selector
from pilotwatch.slo_import.openslo_parts import map_window, window_document

_METHODS = {
    "occurrences": "Occurrences",
    "timeslices": "Timeslices",
    "ratio_timeslices": "RatioTimeslices",
}


def _source(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"metricSource": {"type": kind, "spec": spec}}


def _indicator(slo: Slo) -> dict[str, Any]:
    indicator = slo.indicator
    if indicator is None:
        if slo.sli == "latency":
            body: dict[str, Any] = {"thresholdMetric": _source(PILOTWATCH, REQUESTS["threshold"])}
        else:
            body = {
                "ratioMetric": {
                    "counter": True,
                    "good": _source(PILOTWATCH, REQUESTS["good"]),
                    "total": _source(PILOTWATCH, REQUESTS["total"]),
                }
            }
    elif indicator.histogram is not None:
        spec = {"histogram": indicator.histogram, "unit": indicator.unit}
        body = {"thresholdMetric": _source("Prometheus", spec)}
    else:
        parts = {"good": indicator.good, "bad": indicator.bad, "total": indicator.total}
        queries = {name: query for name, query in parts.items() if query}
        ratio: dict[str, Any] = {}
        plain = {is_plain_selector(query) for query in queries.values()}
        if len(plain) == 1:  # one `counter` flag can only speak for all queries alike
            ratio["counter"] = plain.pop()
        for name, query in queries.items():
            ratio[name] = _source("Prometheus", {"query": query})
        body = {"ratioMetric": ratio}
    return {"metadata": {"name": f"{slo.name}-sli"}, "spec": body}


def _window(slo: Slo, annotations: dict[str, str]) -> dict[str, Any]:
    """The timeWindow item, annotating what the importer would otherwise read differently."""
    item = window_document(slo.window, slo.timezone)
    derived, zone, _ = map_window({"timeWindow": [item]})
    wanted = dump_window(slo.window)
    if dump_window(parse_window(derived)) != wanted:
        annotations[PREFIX + "window"] = json.dumps(wanted) if isinstance(wanted, dict) else wanted
        zone = ""
    if not zone and slo.timezone != "UTC":
        annotations[PREFIX + "timezone"] = slo.timezone
    return item


def slo_document(slo: Slo) -> dict[str, Any]:
    """One OpenSLO v1 `kind: SLO` document for `slo`."""
    annotations = {PREFIX + "initiative": slo.initiative, PREFIX + "sli": slo.sli}
    for key in ("service", "operation", "environment"):
        value = getattr(slo.filter, key)
        if value is not None:
            annotations[PREFIX + key] = value
    if slo.indicator is not None and slo.indicator.source is not None:
        annotations[PREFIX + "source"] = slo.indicator.source
    objective: dict[str, Any] = {}
    if slo.threshold_ms is not None:
        annotations[PREFIX + "threshold-unit"] = "ms"
        objective["op"] = "lte" if slo.threshold_op == "le" else "lt"
        objective["value"] = slo.threshold_ms
    objective["target"] = slo.target
    if slo.timeslice is not None:
        if slo.timeslice.target is not None:
            objective["timeSliceTarget"] = slo.timeslice.target
        objective["timeSliceWindow"] = str(slo.timeslice.length)
    window = _window(slo, annotations)
    spec: dict[str, Any] = {}
    if slo.description:
        spec["description"] = slo.description
    spec["service"] = slo.initiative  # OpenSLO requires one; pilotwatch groups by initiative
    spec["indicator"] = _indicator(slo)
    spec["timeWindow"] = [window]
    spec["budgetingMethod"] = _METHODS[slo.budgeting]
    spec["objectives"] = [objective]
    return {
        "apiVersion": API_V1,
        "kind": "SLO",
        "metadata": {"name": slo.name, "annotations": annotations},
        "spec": spec,
    }


def export_openslo(slos: Sequence[Slo]) -> str:
    """Every SLO as an OpenSLO v1 YAML document, separated by `---`."""
    docs = [slo_document(slo) for slo in slos]
    return yaml.safe_dump_all(docs, sort_keys=False, allow_unicode=True, explicit_start=True)
