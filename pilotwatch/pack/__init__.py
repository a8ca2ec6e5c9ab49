"""The steering pack: one document for a steering review, rendered as HTML and as PDF.

Built from the typed report (already restricted to what the caller may see), the config of
the same initiatives, the SLO minute buckets (burn-down charts), the recorded decisions and,
when given, the readiness history. Deterministic: the same inputs give byte-identical HTML and
PDF (docs/steering-pack.md).

Public API (the CLI and the Steering review page use only these):

- `PackInputs`: everything a pack is made from;
- `gather(run, log, ...)`: the inputs from an engine run and the audit log;
- `render_html(inputs) -> str` and `render_pdf(inputs) -> bytes`.
"""

from __future__ import annotations

from pilotwatch.pack.inputs import TREND_WEEKS, PackInputs, Paper, gather, trend_history
from pilotwatch.pack.render import render_html, render_pdf

__all__ = [
    "TREND_WEEKS",
    "PackInputs",
    "Paper",
    "gather",
    "render_html",
    "render_pdf",
    "trend_history",
]
