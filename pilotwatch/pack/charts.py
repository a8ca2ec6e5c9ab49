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
