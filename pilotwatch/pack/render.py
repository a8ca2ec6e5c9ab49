"""The pack's two renderings: HTML (Jinja2 templates) and PDF (WeasyPrint over that HTML)."""

from __future__ import annotations

from pilotwatch.pack.inputs import PackInputs


def render_html(inputs: PackInputs) -> str:
    """The pack as one self-contained HTML document (charts inline as SVG)."""
    raise NotImplementedError  # helper A


def render_pdf(inputs: PackInputs) -> bytes:
    """The pack as PDF: the same HTML typeset by WeasyPrint, deterministic bytes."""
    raise NotImplementedError  # helper A
