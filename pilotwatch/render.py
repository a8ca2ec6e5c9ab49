"""Shared report formats: how a number, a verdict and the verdicts table read for people.

The printable steering pack (HTML and PDF) is pilotwatch/pack; the app's pages and ui/ use
these for the same words.
"""

from __future__ import annotations

from typing import Any

from core.enums import Verdict
from core.report import Report

VERDICT_LABEL: dict[str, str] = {
    Verdict.GO: "GO",
    Verdict.CONDITIONAL: "CONDITIONAL",
    Verdict.NO_GO: "NO-GO",
}


def fmt(value: Any, digits: int = 3) -> str:
    """A number for people: `n/a` for null, trimmed floats."""
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return str(value)


def summary_rows(report: Report) -> list[list[str]]:
    """One row per initiative: the steering committee's overview."""
    rows = []
    for item in report.initiatives:
        readiness = item.readiness
        rows.append(
            [
                item.name,
                str(item.stage),
                str(item.gate),
                VERDICT_LABEL.get(readiness.verdict, readiness.verdict),
                fmt(readiness.score, 1),
                str(item.slo_summary.breached),
                str(item.incidents.open_sev12),
                str(item.compliance.gap_count),
                str(item.data.stale_sources),
            ]
        )
    return rows


SUMMARY_HEADER = [
    "Initiative",
    "Stage",
    "Gate",
    "Verdict",
    "Score",
    "SLOs breached",
    "Open sev 1-2",
    "Compliance gaps",
    "Stale sources",
]
