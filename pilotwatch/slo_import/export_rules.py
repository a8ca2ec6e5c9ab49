"""Export SLOs with a Prometheus `indicator` as a Prometheus rules file (docs/bring-your-slos.md).

Per SLO one group: a recording rule `pilotwatch:slo_errors_per_request:ratio_rate<w>` for every
burn window of metrics.timewin.BURN_WINDOWS, and one alerting rule per multiwindow pair of
metrics.slo.ALERT_PAIRS (both windows' error ratio >= factor x (1 - target)), so Prometheus pages
and tickets exactly when the dashboard does (docs/metrics.md, burn-rate alerts).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import yaml

from connectors.promselector import parse_selector
from core.models import Indicator, Slo
from metrics.slo import ALERT_PAIRS
from metrics.timewin import BURN_WINDOWS

RECORD = "pilotwatch:slo_errors_per_request:ratio_rate{window}"
ALERT = "PilotwatchErrorBudgetBurn"


def _string(value: str) -> str:
    """`value` as a PromQL double-quoted string."""
    return json.dumps(value, ensure_ascii=False)


def _count(query: str, window: str) -> str:
    """Events of `query` over `window`: a counter's increase, or an expression's per-minute sum."""
    if parse_selector(query) is not None:
        return f"sum(increase({query}[{window}]))"
    # an expression is the number of events in each minute (docs/config.md, `indicator`)
    return f"sum(sum_over_time(({query})[{window}:1m]))"


def _le_values(threshold_ms: float, unit: str) -> str:
    """A quoted regex matching the ways exporters write the threshold's `le` (`1`, `1.0`)."""
    bound = Decimal(str(threshold_ms)) / (1000 if unit == "s" else 1)
    text = format(bound.normalize(), "f")
    forms = [text, f"{text}.0"] if "." not in text else [text]
    return _string("|".join(re.escape(f) for f in forms))


def _parts(indicator: Indicator, slo: Slo) -> tuple[str, str, str] | str:
    """(kind, errors-or-good query, total query) of the indicator, or why it cannot be exported."""
    if indicator.histogram is not None:
        if slo.threshold_ms is None or indicator.unit is None:
            return "a histogram indicator needs threshold_ms"
        if slo.threshold_op == "lt":
            return "threshold_op lt cannot be read from cumulative le buckets (le is <=)"
        base = parse_selector(indicator.histogram)
        if base is None:
            return "its histogram is not a plain selector"
        le = ("le", "=~", _le_values(slo.threshold_ms, indicator.unit))
        return "good", base.render("_bucket", (le,)), base.render("_count")
    assert indicator.total is not None  # Indicator's validator: total with good or bad
    if indicator.bad:
        return "bad", indicator.bad, indicator.total
    assert indicator.good is not None
    return "good", indicator.good, indicator.total


def _ratio(kind: str, part: str, total: str, window: str) -> str:
    """The error ratio expression over `window`."""
    all_events = _count(total, window)
    if kind == "bad":
        return f"{_count(part, window)} / {all_events}"
    return f"({all_events} - {_count(part, window)}) / {all_events}"


def _group(slo: Slo, kind: str, part: str, total: str) -> dict[str, Any]:
    """The rule group of one SLO."""
    labels = {"slo": slo.name, "initiative": slo.initiative}
    rules: list[dict[str, Any]] = [
        {
            "record": RECORD.format(window=name),
            "expr": _ratio(kind, part, total, name),
            "labels": dict(labels),
        }
        for name in BURN_WINDOWS
    ]
    budget = Decimal(1) - Decimal(str(slo.target))
    match = f"{{slo={_string(slo.name)}}}"
    for pair in ALERT_PAIRS:
        # exact decimal, so a ratio of exactly factor x budget fires as burn >= factor does
        threshold = format((Decimal(str(pair.factor)) * budget).normalize(), "f")
        long_rule = RECORD.format(window=pair.long) + match
        short_rule = RECORD.format(window=pair.short) + match
        rules.append(
            {
                "alert": ALERT,
                "expr": f"{long_rule} >= {threshold} and {short_rule} >= {threshold}",
                "labels": {
                    **labels,
                    "severity": pair.severity,
                    "long_window": pair.long,
                    "short_window": pair.short,
                },
                "annotations": {
                    "summary": f"SLO {slo.name} burns its error budget at {pair.factor:g}x or "
                    f"more over {pair.long} and {pair.short} ({pair.severity})",
                    "description": f"burn({pair.long}) >= {pair.factor:g} and burn({pair.short})"
                    f" >= {pair.factor:g}, burn = error ratio / (1 - {slo.target:g}); "
                    "the same rule as the pilotwatch dashboard (docs/metrics.md)",
                },
            }
        )
    return {"name": f"pilotwatch-slo-{slo.name}", "rules": rules}


def prometheus_rules(slos: Sequence[Slo]) -> tuple[str, list[str]]:
    """The rules file as YAML text, and notes naming every SLO not exported (and estimates)."""
    groups: list[dict[str, Any]] = []
    notes: list[str] = []
    for slo in slos:
        if slo.indicator is None:
            notes.append(
                f"{slo.name}: not exported: it is computed from request rows, not from "
                "Prometheus series (no indicator)"
            )
            continue
        parts = _parts(slo.indicator, slo)
        if isinstance(parts, str):
            notes.append(f"{slo.name}: not exported: {parts}")
            continue
        kind, part, total = parts
        if parse_selector(part) is None or parse_selector(total) is None:
            notes.append(
                f"{slo.name}: exported with its expression summed per minute "
                "(sum_over_time over 1m steps): an estimate, like its buckets"
            )
        groups.append(_group(slo, kind, part, total))
    text = yaml.safe_dump({"groups": groups}, sort_keys=False, allow_unicode=True, width=1000)
    return text, notes
