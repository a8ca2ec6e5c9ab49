"""The pack's charts: the app's Altair specifications (pilotwatch/chartspecs.py) as SVG.

Rendered by vl-convert (no browser), deterministic, colour-blind safe, never colour alone.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    """One chart for the pack: the SVG markup, its alt text and a caption."""

    svg: str
    alt: str
    caption: str

    @property
    def data_uri(self) -> str:
        """The SVG as a data URI for an `<img src>`."""
        import base64

        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


# The interface the templates use (helper B implements; helper A calls):
#
#   def initiative_figures(inputs: PackInputs, item: InitiativeReport) -> InitiativeFigures
#       burn_down: Figure | None   small multiples, one panel per SLO of the initiative
#       trend: Figure | None       score (and verdict by shape) over the history, None without one
#       outcomes: Figure | None    KPI value against target and baseline (optional; None if unsuited)
#   def cover_figures(inputs: PackInputs) -> CoverFigures
#       verdicts: Figure | None    verdict counts (label on every bar)
