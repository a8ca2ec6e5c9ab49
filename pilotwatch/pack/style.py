"""The pack's typography, shared by the HTML/PDF templates and the SVG charts."""

from __future__ import annotations

from pathlib import Path

FONT_DIR = Path(__file__).resolve().parent / "fonts"
# bundled with its licence in FONT_DIR, so every machine typesets the same bytes
FONT_FAMILY = "Atkinson Hyperlegible"
