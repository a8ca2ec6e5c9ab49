"""OpenSLO v1 and v2alpha `kind: SLO` documents to slos.yaml entries, or refusals.

One SLO per objective (docs/bring-your-slos.md, "OpenSLO"): a single objective keeps
`metadata.name`; with several, each is `<metadata.name>-<displayName or name or index>`.
Annotations (or labels) `pilotwatch/...` say what OpenSLO cannot. Every entry is validated with
`core.models.Slo`; anything that cannot be represented exactly is a located `Refusal`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from core.models import Slo
from core.windows import dump_window, parse_window
from pilotwatch.slo_import.mapping import ImportedSlo, ImportResult, Mapped, Note, Refusal
from pilotwatch.slo_import.openslo_indicator import Indicator, map_indicator
from pilotwatch.slo_import.openslo_parts import (
    Refuse,
    map_budgeting,
    map_target,
    map_window,
    normal_window,
    threshold_ms,
    window_document,
)

API_V1, API_V2 = "openslo/v1", "openslo.com/v2alpha"
PREFIX = "pilotwatch/"
ANNOTATIONS = (
    "initiative",
    "service",
    "operation",
    "environment",
    "sli",
    "threshold-unit",
    "source",
    "timezone",
    "window",
)
KINDS: tuple[str, ...] = ("SLO", "SLI", "DataSource", "Service", "AlertPolicy", "AlertCondition")
KINDS += ("AlertNotificationTarget", "BudgetAdjustment")
_SPEC_V1: tuple[str, ...] = ("description", "service", "indicator", "indicatorRef", "timeWindow")
_SPEC_V1 += ("budgetingMethod", "objectives", "alertPolicies")
_SPEC_V2: tuple[str, ...] = ("description", "service", "serviceRef", "sli", "sliRef", "timeWindow")
_SPEC_V2 += ("budgetingMethod", "objectives", "alertPolicies")
_OBJECTIVE: tuple[str, ...] = ("displayName", "name", "op", "value", "target", "targetPercent")
_OBJECTIVE += ("timeSliceTarget", "timeSliceWindow")
Docs = list[tuple[Any, str, int]]  # (document, file, 1-based document number)


def is_openslo(doc: Any) -> bool:
    """True for any OpenSLO document (`apiVersion: openslo/...` or `openslo.com/...`)."""
    if not isinstance(doc, dict):
        return False
    version = str(doc.get("apiVersion", ""))
    return version.startswith(("openslo/", "openslo.com/"))


class Refused(Exception):
    """Several independent problems of one document."""

    def __init__(self, problems: list[Refuse]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


def _annotations(doc: dict[str, Any]) -> dict[str, str]:
    """The `pilotwatch/...` annotations (then labels), unknown ones refused."""
    metadata = doc.get("metadata") or {}
    out: dict[str, str] = {}
    for bag_name in ("labels", "annotations"):  # annotations win over labels
        bag = metadata.get(bag_name) or {}
        if not isinstance(bag, dict):
            continue
        for key, value in bag.items():
            if not str(key).startswith(PREFIX):
                continue
            short = str(key)[len(PREFIX) :]
            where = f"metadata.{bag_name}.{key}"
            if short not in ANNOTATIONS:
                known = ", ".join(PREFIX + name for name in ANNOTATIONS)
                raise Refuse(where, f"unknown pilotwatch annotation (known: {known})")
            if not isinstance(value, str):
                raise Refuse(where, f"expected a string, got {value!r}")
            out[short] = value
    return out


def _where(doc: dict[str, Any], key: str) -> str:
    metadata = doc.get("metadata") or {}
    bag = "annotations" if PREFIX + key in (metadata.get("annotations") or {}) else "labels"
    return f"metadata.{bag}.{PREFIX}{key}"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _window(doc: dict[str, Any], spec: dict[str, Any], notes: dict[str, str]) -> list[Mapped]:
    """`window` and `timezone` Mapped lines (annotations pilotwatch/window, /timezone)."""
    derived, zone, note = map_window(spec)
    tz_note = notes.get("timezone")
    written = notes.get("window")
    if written is not None:
        where = _where(doc, "window")
        try:
            window = parse_window(json.loads(written) if written.startswith("{") else written)
        except ValueError as exc:
            raise Refuse(where, str(exc)) from None
        timezone = tz_note or "UTC"
        if window_document(window, timezone) != normal_window(spec["timeWindow"][0]):
            raise Refuse(where, f"{written!r} does not match spec.timeWindow[0]")
        value: Any = dump_window(window)
        mapped = [Mapped("window", value, f"{where} (matches spec.timeWindow[0])")]
    else:
        value = derived
        mapped = [Mapped("window", value, "spec.timeWindow[0]", note)]
        if zone:
            if tz_note is not None and tz_note != zone:
                raise Refuse(
                    _where(doc, "timezone"),
                    f"{tz_note!r} differs from calendar.timeZone {zone!r}",
                )
            mapped.append(Mapped("timezone", zone, "spec.timeWindow[0].calendar.timeZone"))
            return mapped
        timezone = tz_note or "UTC"
    if tz_note is not None:
        mapped.append(Mapped("timezone", timezone, _where(doc, "timezone")))
    return mapped


def _objective(
    doc: dict[str, Any],
    spec: dict[str, Any],
    index: int,
    name: str,
    notes: dict[str, str],
    indicator: Indicator,
    base: list[Mapped],
    initiative: str | None,
) -> list[Mapped]:
    at = f"spec.objectives[{index}]"
    objective = spec["objectives"][index]
    if not isinstance(objective, dict):
        raise Refuse(at, "expected a mapping")
    for key in objective:
        if key in ("sli", "sliRef", "compositeWeight"):
            raise Refuse(
                f"{at}.{key}", "a composite SLO (an SLI per objective) cannot be represented"
            )
        if key not in _OBJECTIVE:
            raise Refuse(f"{at}.{key}", "unknown field (it could change the objective)")
    mapped = [
        Mapped(
            "name",
            name,
            "metadata.name" if len(spec["objectives"]) == 1 else f"metadata.name + {at}",
        )
    ]
    if initiative:
        mapped.append(Mapped("initiative", initiative, "--initiative"))
    elif "initiative" in notes:
        mapped.append(Mapped("initiative", notes["initiative"], _where(doc, "initiative")))
    else:
        raise Refuse(
            f"metadata.annotations.{PREFIX}initiative",
            f"missing: add annotation {PREFIX}initiative or pass --initiative",
        )
    op, value = objective.get("op"), objective.get("value")
    sli_from: tuple[str, str] | None = None
    latency: list[Mapped] = []
    if value is not None:
        if op is None:
            raise Refuse(f"{at}.op", f"value {value} needs op (lte or lt)")
        if op in ("gt", "gte"):
            raise Refuse(
                f"{at}.op",
                f"{op}: good when above {value} cannot be represented (a pilotwatch latency "
                "SLO is good at or below its threshold: lte or lt)",
            )
        if op not in ("lte", "lt"):
            raise Refuse(f"{at}.op", f"{op!r} is not lte, lt, gt or gte")
        if indicator.kind == "ratio" and indicator.entry is None:
            raise Refuse(f"{at}.value", "the requests' availability has no threshold value")
        threshold, note = threshold_ms(value, notes.get("threshold-unit"), at)
        unit_from = _where(doc, "threshold-unit")
        latency = [
            Mapped("threshold_ms", threshold, f"{at}.value + {unit_from}", note),
            Mapped("threshold_op", "le" if op == "lte" else "lt", f"{at}.op", f"{op}"),
        ]
        sli_from = ("latency", f"{at}.op + value")
    elif op is not None and indicator.kind == "ratio":
        base = [
            *base,
            Mapped("", None, f"{at}.op", f"op {op} without value compares nothing; ignored"),
        ]
    elif indicator.kind == "threshold":
        raise Refuse(f"{at}.value", "a threshold metric needs op (lte or lt) and value")
    if sli_from is None and indicator.sli is not None:
        sli_from = (indicator.sli, indicator.source)
    if "sli" in notes:
        if sli_from is not None and notes["sli"] != sli_from[0]:
            raise Refuse(
                _where(doc, "sli"), f"{notes['sli']!r} contradicts {sli_from[1]} ({sli_from[0]})"
            )
        sli_from = (notes["sli"], _where(doc, "sli"))
    sli, sli_source = sli_from or ("availability", "default (a ratio indicator)")
    mapped.append(Mapped("sli", sli, sli_source))
    mapped.extend(latency)
    target, source, note = map_target(objective, at)
    mapped.append(Mapped("target", target, source, note))
    mapped.extend(base)
    budgeting = map_budgeting(spec, objective, at)
    mapped.append(
        Mapped("budgeting", budgeting["budgeting"], "spec.budgetingMethod", spec["budgetingMethod"])
    )
    if "timeslice" in budgeting:
        slice_source = f"{at}.timeSliceWindow" + (
            " + timeSliceTarget" if "target" in budgeting["timeslice"] else ""
        )
        mapped.append(Mapped("timeslice", budgeting["timeslice"], slice_source))
    elif "timeSliceWindow" in objective or "timeSliceTarget" in objective:
        mapped.append(
            Mapped(
                "", None, f"{at}.timeSliceWindow", "Occurrences counts events, not slices; ignored"
            )
        )
    return mapped


def _entry(mapped: list[Mapped]) -> dict[str, Any]:
    return {m.key: m.value for m in mapped if m.key}


def _refusal_from(exc: ValidationError, mapped: list[Mapped]) -> tuple[str, str]:
    first = exc.errors()[0]
    loc = [str(part) for part in first["loc"]]
    key = loc[0] if loc else ""
    source = next((m.source for m in mapped if m.key == key), key or "spec")
    where = ".".join(loc)
    return source, f"{where}: {first['msg']}" if where else first["msg"]


def _common(
    doc: dict[str, Any], v2: bool, slis: dict[str, Any], sources: dict[str, Any]
) -> tuple[str, dict[str, str], Indicator, list[Mapped]]:
    for key in doc:
        if key not in ("apiVersion", "kind", "metadata", "spec"):
            raise Refuse(key, "unknown top-level field")
    metadata = doc.get("metadata")
    if not isinstance(metadata, dict) or not isinstance(metadata.get("name"), str):
        raise Refuse("metadata.name", "missing: every SLO needs a name")
    for key in metadata:
        if key not in ("name", "displayName", "labels", "annotations"):
            raise Refuse(f"metadata.{key}", "unknown field")
    spec = doc.get("spec")
    if not isinstance(spec, dict):
        raise Refuse("spec", "missing: expected a mapping")
    for key in spec:
        if key not in (_SPEC_V2 if v2 else _SPEC_V1):
            raise Refuse(f"spec.{key}", "unknown field (it could change the SLO)")
    notes = _annotations(doc)
    # the window and the indicator are judged apart, so a document shows both problems at once
    problems: list[Refuse] = []
    try:
        indicator = map_indicator(spec, v2, slis, sources)
    except Refuse as exc:
        problems.append(exc)
    try:
        base = _window(doc, spec, notes)
    except Refuse as exc:
        problems.append(exc)
    if problems:
        raise Refused(problems)
    filters = {k: notes[k] for k in ("service", "operation", "environment") if k in notes}
    if filters:
        base.append(Mapped("filter", filters, ", ".join(_where(doc, k) for k in filters)))
    if indicator.entry is not None:
        entry = dict(indicator.entry)
        if "source" in notes:
            entry = {"source": notes["source"], **entry}
        base.append(Mapped("indicator", entry, indicator.source, "; ".join(indicator.notes)))
    else:
        base.append(
            Mapped("", None, indicator.source, "the initiative's request data (no indicator)")
        )
    if spec.get("description"):
        base.append(Mapped("description", spec["description"], "spec.description"))
    for key, why in (
        ("service", "OpenSLO's service grouping, not a request filter (use pilotwatch/service)"),
        ("serviceRef", "OpenSLO's service grouping, not a request filter"),
        ("alertPolicies", "pilotwatch applies its multiwindow burn-rate alerts (docs/metrics.md)"),
    ):
        if key in spec:
            base.append(Mapped("", None, f"spec.{key}", f"ignored: {why}"))
    return metadata["name"], notes, indicator, base


def _slo(
    doc: dict[str, Any],
    file: str,
    number: int,
    v2: bool,
    refs: tuple[dict[str, Any], dict[str, Any]],
    initiative: str | None,
) -> ImportResult:
    result = ImportResult()
    name = (
        (doc.get("metadata") or {}).get("name") if isinstance(doc.get("metadata"), dict) else None
    )
    try:
        base_name, notes, indicator, base = _common(doc, v2, *refs)
        objectives = doc["spec"].get("objectives")
        if not isinstance(objectives, list) or not objectives:
            raise Refuse("spec.objectives", "missing: an SLO needs at least one objective")
    except Refused as exc:
        for each in exc.problems:
            result.refused.append(Refusal(file, number, each.field, each.reason, name))
        return result
    except Refuse as exc:
        result.refused.append(Refusal(file, number, exc.field, exc.reason, name))
        return result
    seen: set[str] = set()
    for index, objective in enumerate(objectives):
        label = index
        if isinstance(objective, dict):
            label = objective.get("displayName") or objective.get("name") or index
        slo_name = (
            base_name if len(objectives) == 1 else f"{base_name}-{_slug(str(label)) or index}"
        )
        try:
            if slo_name in seen:
                raise Refuse(f"spec.objectives[{index}]", f"a second objective named {slo_name!r}")
            seen.add(slo_name)
            mapped = _objective(
                doc, doc["spec"], index, slo_name, notes, indicator, base, initiative
            )
            entry = _entry(mapped)
            try:
                Slo.model_validate(entry)
            except ValidationError as exc:
                raise Refuse(*_refusal_from(exc, mapped)) from None
        except Refuse as exc:
            result.refused.append(Refusal(file, number, exc.field, exc.reason, slo_name))
            continue
        result.slos.append(ImportedSlo(entry, file, number, mapped))
    return result


def import_openslo(docs: Docs, initiative: str | None = None) -> ImportResult:
    """Every OpenSLO document of a file set: SLOs mapped, references resolved, the rest noted."""
    result = ImportResult()
    refs: dict[bool, tuple[dict[str, Any], dict[str, Any]]] = {False: ({}, {}), True: ({}, {})}
    for doc, _, _ in docs:
        version, kind = str(doc.get("apiVersion")), doc.get("kind")
        name = (
            (doc.get("metadata") or {}).get("name")
            if isinstance(doc.get("metadata"), dict)
            else None
        )
        if version in (API_V1, API_V2) and kind in ("SLI", "DataSource") and name:
            refs[version == API_V2][0 if kind == "SLI" else 1][str(name)] = doc
    for doc, file, number in docs:
        version, kind = str(doc.get("apiVersion")), doc.get("kind")
        if version not in (API_V1, API_V2):
            reason = f"{version!r}: pilotwatch reads {API_V1} and {API_V2} documents"
            result.refused.append(Refusal(file, number, "apiVersion", reason))
        elif kind == "SLO":
            result.extend(
                _slo(doc, file, number, version == API_V2, refs[version == API_V2], initiative)
            )
        elif kind in KINDS:
            why = "read for references" if kind in ("SLI", "DataSource") else "ignored"
            result.notes.append(Note(file, number, "", f"kind: {kind} is not an SLO; {why}"))
        else:
            reason = f"{kind!r} is not an OpenSLO kind ({', '.join(KINDS)})"
            result.refused.append(Refusal(file, number, "kind", reason))
    return result
