"""Import Pyrra `ServiceLevelObjective` documents (pyrra.dev/v1alpha1; docs/bring-your-slos.md).

Pyrra's metrics are plain series selectors, so both supported indicators stay exact:
- `ratio {errors, total}` -> `indicator: {bad: <errors.metric>, total: <total.metric>}`;
- `latency {success, total}` -> sli latency with `indicator: {good: <success bucket>, total:
  <count>}` and `threshold_ms` from the bucket's `le`, its unit read from the metric name
  (`..._seconds_bucket` or `..._milliseconds_bucket`; any other name is refused).
`grouping`, `latencyNative` and `bool_gauge` are refused with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from connectors.promselector import parse_selector
from pilotwatch.slo_import.mapping import ImportedSlo, ImportResult, Mapped, Refusal
from pilotwatch.slo_import.sloth import (
    ALERT_NOTE,
    checked,
    find_initiative,
    le_threshold_ms,
    percent_target,
)

_TOP = {"apiVersion", "kind", "metadata", "spec", "status"}
_SPEC = {"description", "target", "window", "indicator", "alerting", "partial_response_strategy"}
_INDICATORS = ("ratio", "latency", "latencyNative", "bool_gauge")
# Prometheus durations (Pyrra parses spec.window with them): units and their seconds
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_REFUSED = {
    "latencyNative": "a native histogram's share of requests under a latency is not a count "
    "of classic _bucket/_count series, which is what pilotwatch counts exactly; use a classic "
    "histogram with the latency indicator",
    "bool_gauge": "a boolean gauge's samples are not request events (its SLI is the share of "
    "samples at 1), so they cannot be counted as good/total buckets",
}


def is_pyrra(doc: Any) -> bool:
    """True for a Pyrra document (`apiVersion: pyrra.dev/...`)."""
    return isinstance(doc, dict) and str(doc.get("apiVersion", "")).startswith("pyrra.dev/")


def pyrra_window(text: Any) -> tuple[str | None, str]:
    """A Pyrra (Prometheus) duration as a rolling slos.yaml window, or None and why."""
    if not isinstance(text, str) or not text:
        return None, "expected a Prometheus duration such as 4w or 28d"
    if re.fullmatch(r"[1-9]\d*[mhdw]", text):
        return text, ""
    if not re.fullmatch(rf"(?:{_PART.pattern})+", text):
        return None, f"{text!r} is not a Prometheus duration such as 4w or 28d"
    seconds = sum(int(n) * _UNITS[u] for n, u in _PART.findall(text))
    if seconds <= 0 or seconds % 60:
        return None, f"{text!r} is not a whole number of minutes (buckets are 1 minute)"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            value = f"{int(seconds // size)}{unit}"
            return value, f"{text} -> {value} (a Prometheus y is 365d)"
    raise AssertionError("unreachable: seconds is a whole number of minutes")


def import_document(
    doc: dict[str, Any], file: str, document: int, initiative: str | None
) -> ImportResult:
    """The SLO of one Pyrra document, or the located refusals."""
    result = ImportResult()
    raw_meta = doc.get("metadata")
    metadata: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
    name = metadata.get("name") if isinstance(metadata.get("name"), str) else None

    def refuse(field: str, reason: str) -> None:
        result.refused.append(Refusal(file, document, field, reason, name))

    if doc.get("kind") != "ServiceLevelObjective":
        refuse("kind", f"{doc.get('kind')!r} is not a Pyrra ServiceLevelObjective")
        return result
    for key in sorted(set(doc) - _TOP):
        refuse(key, "not a field of a Pyrra ServiceLevelObjective")
    spec = doc.get("spec")
    if not name:
        refuse("metadata.name", "a ServiceLevelObjective needs metadata.name")
    if not isinstance(spec, dict):
        refuse("spec", "a ServiceLevelObjective needs a spec mapping")
        return result
    for key in sorted(set(spec) - _SPEC):
        refuse(
            f"spec.{key}",
            "not a field of Pyrra's ServiceLevelObjective spec (Pyrra ignores it); remove it",
        )
    mapped = [Mapped("name", name, "metadata.name")]
    who, source = find_initiative(
        initiative,
        [
            ("metadata.labels", metadata.get("labels")),
            ("metadata.annotations", metadata.get("annotations")),
        ],
    )
    if who is None:
        refuse(
            "metadata.labels.pilotwatch/initiative",
            "no initiative: pass one to the import or set the label pilotwatch/initiative",
        )
    mapped.append(Mapped("initiative", who, source))
    target, how = percent_target(spec.get("target"))
    if target is None:
        refuse("spec.target", how)
    mapped.append(Mapped("target", target, "spec.target", how))
    window, why = pyrra_window(spec.get("window"))
    if window is None:
        refuse("spec.window", why)
    mapped.append(Mapped("window", window, "spec.window", why))
    entry = _indicator(spec.get("indicator"), refuse, mapped)
    if result.refused or entry is None:
        return result
    entry.update({"name": name, "initiative": who, "target": target, "window": window})
    if isinstance(spec.get("description"), str) and spec["description"]:
        entry["description"] = spec["description"]
        mapped.append(Mapped("description", spec["description"], "spec.description"))
    for key, what in (
        ("alerting", ALERT_NOTE),
        ("partial_response_strategy", "a Thanos Ruler setting"),
    ):
        if key in spec:
            mapped.append(Mapped("-", None, f"spec.{key}", f"not mapped: {what}"))
    if metadata.get("namespace"):
        mapped.append(
            Mapped("-", None, "metadata.namespace", "not mapped: the name alone names the SLO")
        )
    problem = checked(entry)
    if problem:
        refuse("spec", f"the SLO it maps to is invalid: {problem}")
        return result
    result.slos.append(ImportedSlo(entry, file, document, mapped))
    return result


def _metric(part: Any, field: str, refuse: Any) -> str | None:
    """The plain selector at `<part>.metric`, or None after refusing."""
    metric = part.get("metric") if isinstance(part, dict) else None
    if not isinstance(metric, str) or parse_selector(metric) is None:
        refuse(f"{field}.metric", f"expected a plain series selector, got {metric!r}")
        return None
    return metric.strip()


def _indicator(indicator: Any, refuse: Any, mapped: list[Mapped]) -> dict[str, Any] | None:
    """`sli`, `indicator` and maybe `threshold_ms` of the entry; None after refusing."""
    kinds = [k for k in _INDICATORS if isinstance(indicator, dict) and indicator.get(k)]
    if len(kinds) != 1:
        refuse("spec.indicator", f"give exactly one of {', '.join(_INDICATORS)}")
        return None
    kind = kinds[0]
    field = f"spec.indicator.{kind}"
    if kind in _REFUSED:
        refuse(field, _REFUSED[kind])
        return None
    body = indicator[kind]
    if body.get("grouping"):
        refuse(
            f"{field}.grouping",
            "grouping makes one SLO per label value, which a single "
            "pilotwatch SLO cannot represent; write one SLO per value with its selector",
        )
        return None
    if kind == "ratio":
        bad = _metric(body.get("errors"), f"{field}.errors", refuse)
        total = _metric(body.get("total"), f"{field}.total", refuse)
        if bad is None or total is None:
            return None
        out = {"bad": bad, "total": total}
        mapped.append(
            Mapped(
                "indicator",
                out,
                f"{field}.errors.metric, total.metric",
                "plain selectors: counters counted exactly",
            )
        )
        mapped.append(Mapped("sli", "availability", field))
        return {"sli": "availability", "indicator": out}
    good = _metric(body.get("success"), f"{field}.success", refuse)
    total = _metric(body.get("total"), f"{field}.total", refuse)
    if good is None or total is None:
        return None
    selector = parse_selector(good)
    assert selector is not None  # _metric checked it
    threshold, how = le_threshold_ms(selector)
    if threshold is None:
        refuse(f"{field}.success.metric", how)
        return None
    out = {"good": good, "total": total}
    mapped.append(
        Mapped(
            "indicator",
            out,
            f"{field}.success.metric, total.metric",
            "plain selectors: the bucket counts good requests exactly",
        )
    )
    mapped.append(Mapped("sli", "latency", field))
    mapped.append(Mapped("threshold_ms", threshold, f"{field}.success.metric", how))
    return {"sli": "latency", "threshold_ms": threshold, "indicator": out}
