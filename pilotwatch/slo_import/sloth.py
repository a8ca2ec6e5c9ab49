"""Import Sloth `prometheus/v1` specs and `PrometheusServiceLevel` CRDs (docs/bring-your-slos.md).

One pilotwatch SLO per `slos[]` entry, named `<service>-<slo name>` (Sloth's own SLO id, so it
is unique across services). Sloth's SLI queries are templates over `{{.window}}`; they become the
SLO's `indicator` as follows (the `Mapped` note of `indicator` says which rule applied):

- `sum(rate(<selector>[{{.window}}]))`: the counter `<selector>` itself, counted exactly;
- error query `sum(rate(<count>[{{.window}}])) - sum(rate(<bucket>[{{.window}}]))` with the total
  query `sum(rate(<count>[{{.window}}]))`: `good: <bucket>`, `total: <count>`, exact;
- any other sum of window-additive terms (`rate`, `increase`, `sum_over_time`,
  `count_over_time` over `{{.window}}`): `rate` becomes `increase` and `{{.window}}` becomes `1m`,
  evaluated per minute as that minute's events, an estimate;
- anything else, `raw` ratios and `plugin` SLIs are refused with the reason.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from connectors.promselector import Selector
from core.models import Slo
from pilotwatch.slo_import.mapping import ImportedSlo, ImportResult, Mapped, Refusal
from pilotwatch.slo_import.sloth_queries import events_indicator

SLOTH_PERIOD = "30d"  # Sloth's default SLO period; its specs carry no period field
INITIATIVE_KEYS = ("pilotwatch/initiative", "pilotwatch_initiative")
ALERT_NOTE = "pilotwatch applies its own multiwindow alert policy (docs/metrics.md)"
# SLO plugins that only touch alerts or log (never the SLI), so the SLO stays the same
HARMLESS_PLUGINS = {
    "sloth.dev/contrib/alert_for/v1": "adds `for:` to Sloth's alerts",
    "sloth.dev/core/debug/v1": "logs a debug message",
}
_SPEC_KEYS = {"version", "service", "labels", "slos", "slo_plugins", "sloPlugins"}
_SLO_KEYS = {
    "name",
    "description",
    "objective",
    "labels",
    "infoLabels",
    "info_labels",
    "sli",
    "alerting",
    "interval",
    "plugins",
}
_CRD_KEYS = {"apiVersion", "kind", "metadata", "spec", "status"}


def is_sloth(doc: Any) -> bool:
    """True for a Sloth `prometheus/v1` spec or any `sloth.slok.dev` document."""
    if not isinstance(doc, dict):
        return False
    return doc.get("version") == "prometheus/v1" or str(doc.get("apiVersion", "")).startswith(
        "sloth.slok.dev/"
    )


def percent_target(value: Any) -> tuple[float | None, str]:
    """A percentage (99.9 or "99.9") as an exact fraction (0.999), or None and why not."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None, f"expected a percentage such as 99.9, got {value!r}"
    try:
        percent = Decimal(str(value).strip())
    except InvalidOperation:
        return None, f"expected a percentage such as 99.9, got {value!r}"
    if not Decimal(0) < percent < Decimal(100):
        return None, (
            f"{value} % leaves no error budget or no objective; pilotwatch needs a target "
            "strictly between 0 and 100 %"
        )
    return float(percent / 100), f"{value} % -> {percent / 100}"


def le_threshold_ms(selector: Selector) -> tuple[float | None, str]:
    """The threshold in ms of a `<name>_seconds_bucket{le=...}` (or `_milliseconds_`) selector.

    The unit is read from the metric name's suffix only; otherwise None and why.
    """
    values = [v for label, op, v in selector.matchers if label == "le" and op == "="]
    if len(values) != 1:
        return None, 'the bucket selector needs exactly one `le="..."` matcher'
    text = values[0][1:-1]
    try:
        bound = Decimal(text)
    except InvalidOperation:
        return None, f"le={values[0]} is not a number"
    if not bound.is_finite():
        return None, f"le={values[0]} counts every request; it is no latency threshold"
    name = selector.name or ""
    if name.endswith("_seconds_bucket"):
        return float(bound * 1000), f'le="{text}" s -> {bound * 1000} ms (name ends _seconds)'
    if name.endswith("_milliseconds_bucket"):
        return float(bound), f'le="{text}" ms (name ends _milliseconds)'
    return None, (
        f"the unit of le={values[0]} is unknown: the metric name {name!r} ends neither "
        "in _seconds_bucket nor in _milliseconds_bucket"
    )


def find_initiative(initiative: str | None, bags: list[tuple[str, Any]]) -> tuple[str | None, str]:
    """The initiative: the argument, else the first `pilotwatch/initiative` label of `bags`."""
    if initiative:
        return initiative, "the import's initiative argument"
    for where, bag in bags:
        if isinstance(bag, dict):
            for key in INITIATIVE_KEYS:
                if bag.get(key):
                    return str(bag[key]), f"{where}.{key}"
    return None, ""


def checked(entry: dict[str, Any]) -> str | None:
    """None when `entry` is a valid slos.yaml SLO, else the first validation message."""
    try:
        Slo.model_validate(entry)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return f"{where}: {first['msg']}" if where else str(first["msg"])
    return None


def _get(bag: dict[str, Any], snake: str, camel: str) -> tuple[str, Any]:
    """The value under the snake_case or camelCase key (Sloth's two spellings) and its key."""
    if camel in bag:
        return camel, bag[camel]
    return snake, bag.get(snake)


class _Doc:
    """One document being imported: where refusals go and what every SLO shares."""

    def __init__(self, file: str, document: int, result: ImportResult) -> None:
        self.file, self.document, self.result = file, document, result

    def refuse(self, field: str, reason: str, slo: str | None = None) -> None:
        self.result.refused.append(Refusal(self.file, self.document, field, reason, slo))


def _plugins(doc: _Doc, bag: Any, field: str, slo: str | None) -> list[Mapped] | None:
    """Mapped notes for harmless SLO plugins; None (refused) when any could change the SLI."""
    chain = bag.get("chain") if isinstance(bag, dict) else None
    notes: list[Mapped] = []
    for i, plugin in enumerate(chain if isinstance(chain, list) else []):
        pid = plugin.get("id") if isinstance(plugin, dict) else None
        if pid in HARMLESS_PLUGINS:
            notes.append(
                Mapped(
                    "-",
                    None,
                    f"{field}.chain[{i}]",
                    f"not mapped: {pid} {HARMLESS_PLUGINS[str(pid)]}",
                )
            )
            continue
        doc.refuse(
            f"{field}.chain[{i}].id",
            f"SLO plugin {pid!r} can change the generated "
            "rules and pilotwatch cannot run it; remove it or write the SLI as queries",
            slo,
        )
        return None
    return notes


def import_document(
    doc: dict[str, Any], file: str, document: int, initiative: str | None
) -> ImportResult:
    """The SLOs of one Sloth document, or the located refusals."""
    result = ImportResult()
    where = _Doc(file, document, result)
    bags: list[tuple[str, Any]] = []
    if "apiVersion" in doc:
        if doc.get("kind") != "PrometheusServiceLevel":
            where.refuse(
                "kind",
                f"{doc.get('kind')!r} is not an SLO document (only "
                "PrometheusServiceLevel is); Sloth's AlertWindows set its own alert "
                "windows and period, and pilotwatch applies its own policy "
                "(docs/metrics.md)",
            )
            return result
        for key in sorted(set(doc) - _CRD_KEYS):
            where.refuse(key, "not a field of Sloth's PrometheusServiceLevel")
        spec, prefix = doc.get("spec"), "spec."
        raw_meta = doc.get("metadata")
        metadata: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        bags = [
            ("metadata.labels", metadata.get("labels")),
            ("metadata.annotations", metadata.get("annotations")),
        ]
        if not isinstance(spec, dict):
            where.refuse("spec", "a PrometheusServiceLevel needs a spec mapping")
            return result
        unknown = set(spec) - (_SPEC_KEYS - {"version"})
    else:
        spec, prefix = doc, ""
        unknown = set(spec) - _SPEC_KEYS
    for key in sorted(unknown):
        where.refuse(f"{prefix}{key}", "not a field of Sloth's prometheus/v1 spec")
    service = spec.get("service")
    if not isinstance(service, str) or not service:
        where.refuse(f"{prefix}service", "Sloth's service (a non-empty string) is required")
    slos = spec.get("slos")
    if not isinstance(slos, list) or not slos:
        where.refuse(f"{prefix}slos", "a Sloth spec needs a list of slos")
    if result.refused or not isinstance(slos, list):
        return result
    pkey, pbag = _get(spec, "slo_plugins", "sloPlugins")
    shared = _plugins(where, pbag, prefix + pkey, None)
    if shared is None:
        return result
    bags.insert(0, (f"{prefix}labels", spec.get("labels")))
    seen: set[str] = set()
    for i, slo in enumerate(slos):
        imported = _one(where, slo, f"{prefix}slos[{i}]", str(service), initiative, bags, shared)
        if imported is None:
            continue
        if imported.name in seen:
            where.refuse(
                f"{prefix}slos[{i}].name", "repeats an SLO name of this service", imported.name
            )
            continue
        seen.add(imported.name)
        result.slos.append(imported)
    return result


def _one(
    doc: _Doc,
    slo: Any,
    field: str,
    service: str,
    initiative: str | None,
    bags: list[tuple[str, Any]],
    shared: list[Mapped],
) -> ImportedSlo | None:
    """One `slos[]` entry as an ImportedSlo, or None after recording its refusals."""
    if not isinstance(slo, dict) or not isinstance(slo.get("name"), str) or not slo["name"]:
        doc.refuse(f"{field}.name", "every Sloth SLO needs a name")
        return None
    name = f"{service}-{slo['name']}"
    before = len(doc.result.refused)
    for key in sorted(set(slo) - _SLO_KEYS):
        doc.refuse(f"{field}.{key}", "not a field of a Sloth SLO", name)
    mapped = [Mapped("name", name, f"service + {field}.name", "Sloth's SLO id <service>-<name>")]
    who, source = find_initiative(initiative, [(f"{field}.labels", slo.get("labels")), *bags])
    if who is None:
        doc.refuse(
            f"{field}.labels.pilotwatch/initiative",
            "no initiative: pass one to the "
            "import or set the label pilotwatch/initiative (or pilotwatch_initiative)",
            name,
        )
    mapped.append(Mapped("initiative", who, source))
    target, how = percent_target(slo.get("objective"))
    if target is None:
        doc.refuse(f"{field}.objective", how, name)
    mapped.append(Mapped("target", target, f"{field}.objective", how))
    mapped.append(
        Mapped(
            "window",
            SLOTH_PERIOD,
            "-",
            "Sloth's default period (30d): a Sloth "
            "spec has no period field (sloth --default-slo-period changes it)",
        )
    )
    indicator, sli = _sli(doc, slo.get("sli"), f"{field}.sli", name, mapped)
    pkey, pbag = _get(slo, "plugins", "plugins")
    extra = _plugins(doc, pbag, f"{field}.{pkey}", name)
    if len(doc.result.refused) > before or indicator is None or extra is None:
        return None
    mapped.extend([*shared, *extra])
    for key, what in (
        ("alerting", ALERT_NOTE),
        ("labels", "Prometheus labels of Sloth's generated rules"),
        ("infoLabels", "labels of sloth_slo_info"),
        ("interval", "rule evaluation intervals; pilotwatch counts 1-minute buckets"),
    ):
        skey, value = _get(slo, key if key != "infoLabels" else "info_labels", key)
        if value:
            mapped.append(Mapped("-", None, f"{field}.{skey}", f"not mapped: {what}"))
    entry: dict[str, Any] = {
        "name": name,
        "initiative": who,
        "sli": sli,
        "target": target,
        "window": SLOTH_PERIOD,
        "indicator": indicator,
    }
    if isinstance(slo.get("description"), str) and slo["description"]:
        entry["description"] = slo["description"]
        mapped.append(Mapped("description", slo["description"], f"{field}.description"))
    problem = checked(entry)
    if problem:
        doc.refuse(field, f"the SLO it maps to is invalid: {problem}", name)
        return None
    return ImportedSlo(entry, doc.file, doc.document, mapped)


def _sli(
    doc: _Doc, sli: Any, field: str, name: str, mapped: list[Mapped]
) -> tuple[dict[str, str] | None, str]:
    """The indicator and sli type of a Sloth SLI, appending its Mapped lines; None if refused."""
    if (
        not isinstance(sli, dict)
        or len([k for k in ("raw", "events", "plugin") if sli.get(k)]) != 1
    ):
        doc.refuse(field, "give exactly one of events, raw or plugin", name)
        return None, "availability"
    if sli.get("raw"):
        doc.refuse(
            f"{field}.raw",
            "a raw error ratio has no event counts, so it cannot be "
            "reduced to good/total buckets; write it as events {error_query, total_query}",
            name,
        )
        return None, "availability"
    if sli.get("plugin"):
        doc.refuse(
            f"{field}.plugin",
            "an SLI plugin's query is generated by Sloth's plugin "
            "code, which pilotwatch cannot run; write the SLI as events queries",
            name,
        )
        return None, "availability"
    events = sli["events"]
    ekey, error_q = _get(events, "error_query", "errorQuery")
    tkey, total_q = _get(events, "total_query", "totalQuery")
    if not isinstance(error_q, str) or not isinstance(total_q, str):
        doc.refuse(f"{field}.events", "events needs error_query and total_query", name)
        return None, "availability"
    indicator, sli_type, note = events_indicator(error_q, total_q)
    if indicator is None:
        which, why = note.split(": ", 1)
        key = ekey if which == "error_query" else tkey
        doc.refuse(f"{field}.events.{key}", f"{why}; pilotwatch cannot count it", name)
        return None, sli_type
    mapped.append(Mapped("indicator", indicator, f"{field}.events.{ekey}, {tkey}", note))
    mapped.append(
        Mapped(
            "sli",
            sli_type,
            f"{field}.events",
            "latency: the queries read a histogram _bucket{le=...}"
            if sli_type == "latency"
            else "availability: no histogram bucket in the queries",
        )
    )
    return indicator, sli_type
