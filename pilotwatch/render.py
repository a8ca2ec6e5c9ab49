"""Printable steering reports (HTML and PDF) rendered from the schema-1 report model."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from core.enums import Verdict
from core.report import Report, iso

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


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: Report) -> str:
    """A self-contained, printable HTML page; every value is escaped."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>pilotwatch steering report</title><style>",
        "body{font-family:system-ui,sans-serif;margin:2em;color:#222}",
        "table{border-collapse:collapse;margin:.5em 0 1.5em}",
        "td,th{border:1px solid #999;padding:.25em .5em;text-align:left}",
        "h2{page-break-before:auto;margin-top:1.5em}",
        "</style></head><body>",
        "<h1>pilotwatch steering report</h1>",
        f"<p>As of {escape(iso(report.as_of))} (UTC). Verdicts: GO, CONDITIONAL, NO-GO per stage "
        "gate; every number is defined in docs/metrics.md.</p>",
        _table(SUMMARY_HEADER, summary_rows(report)),
    ]
    for item in report.initiatives:
        readiness = item.readiness
        parts.append(f"<h2>{escape(item.name)} ({escape(item.id)})</h2>")
        parts.append(
            f"<p>Stage {escape(item.stage)}, gate {escape(item.gate)}: "
            f"<strong>{escape(VERDICT_LABEL.get(readiness.verdict, ''))}</strong>, "
            f"score {escape(fmt(readiness.score, 1))}.</p>"
        )
        if readiness.blockers:
            parts.append("<h3>Blockers</h3><ul>")
            parts += [
                f"<li><strong>{escape(b.check)}</strong>: {escape(b.remediation)}</li>"
                for b in readiness.blockers
            ]
            parts.append("</ul>")
        parts.append("<h3>Gate checks</h3>")
        parts.append(
            _table(
                ["Check", "Metric", "Value", "Rule", "Outcome", "Blocking"],
                [
                    [
                        c.id,
                        c.metric,
                        fmt(c.value),
                        f"{c.op} {fmt(c.threshold)}",
                        str(c.outcome),
                        "yes" if c.blocking else "no",
                    ]
                    for c in readiness.checks
                ],
            )
        )
        if item.slos:
            parts.append("<h3>SLOs</h3>")
            parts.append(
                _table(
                    ["SLO", "Target", "SLI", "Budget remaining", "Status", "Alerts"],
                    [
                        [
                            s.name,
                            fmt(s.target, 4),
                            fmt(s.sli, 5),
                            fmt(s.budget_remaining),
                            str(s.status),
                            ", ".join(f"{a.severity} {a.long}/{a.short}" for a in s.alerts)
                            or "none",
                        ]
                        for s in item.slos
                    ],
                )
            )
        gaps = item.compliance.gaps
        if gaps:
            parts.append("<h3>Compliance gaps</h3>")
            parts.append(_table(["Control", "Status"], [[g.control, str(g.status)] for g in gaps]))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_html(report: Report, path: Path) -> None:
    """Write the HTML steering report."""
    path.write_text(render_html(report), encoding="utf-8")


def _latin1(text: str) -> str:
    return text.encode("latin-1", "replace").decode("latin-1")


def write_pdf(report: Report, path: Path) -> None:
    """Write a PDF steering report (portfolio table, then blockers per initiative)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L", format="A4")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 16)
    pdf.cell(0, 10, "pilotwatch steering report", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=10)
    pdf.cell(0, 6, _latin1(f"As of {iso(report.as_of)} (UTC)"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    with pdf.table(col_widths=(60, 25, 30, 25, 15, 20, 20, 22, 20), text_align="LEFT") as table:
        table.row([_latin1(h) for h in SUMMARY_HEADER])
        for row in summary_rows(report):
            table.row([_latin1(c) for c in row])
    for item in report.initiatives:
        readiness = item.readiness
        pdf.ln(4)
        pdf.set_font("Helvetica", "B", 12)
        label = VERDICT_LABEL.get(readiness.verdict, "")
        pdf.cell(
            0,
            7,
            _latin1(f"{item.name}: {label} (gate {item.gate})"),
            new_x="LMARGIN",
            new_y="NEXT",
        )
        pdf.set_font("Helvetica", size=9)
        for blocker in readiness.blockers:
            pdf.multi_cell(
                0,
                5,
                _latin1(f"- {blocker.check}: {blocker.remediation}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
        if not readiness.blockers:
            pdf.cell(0, 5, "No blockers.", new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
