"""The pack's two renderings: HTML (Jinja2 templates) and PDF (WeasyPrint over that HTML).

One document: the HTML is exactly what WeasyPrint typesets. It stands alone (fonts and charts
inline as data URIs, no script, no external URL) and every value is escaped (autoescape).
"""

from __future__ import annotations

import base64
from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pilotwatch.pack import content, style
from pilotwatch.pack.charts import Figure
from pilotwatch.pack.inputs import PackInputs

TEMPLATES = Path(__file__).resolve().parent / "templates"
# CSS `size` of each paper
PAGE_SIZE = {"A4": "A4", "Letter": "letter"}


MM_PER_PX = 25.4 / 96  # CSS pixels are 96 per inch


def figure_mm(figure: Figure, scale: float = 1.0) -> float:
    """`scale` × the figure's own width (its SVG's, in CSS px), in mm."""
    return figure.size[0] * scale * MM_PER_PX


def figure_width(figure: Figure, scale: float) -> str:
    """The CSS width of a figure drawn at `scale` × its own size."""
    return f"width: {figure_mm(figure, scale):.2f}mm"


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["figure_width"] = figure_width
    env.filters["figure_mm"] = figure_mm
    return env


@cache
def font_faces() -> tuple[tuple[str, int, str], ...]:
    """(family, weight, data URI) of every bundled face, for the templates' @font-face."""
    out = []
    for family, weight, name in style.FONT_FACES:
        data = base64.b64encode((style.FONT_DIR / name).read_bytes()).decode("ascii")
        out.append((family, weight, f"data:font/ttf;base64,{data}"))
    return tuple(out)


def html_of(pack: content.Pack) -> str:
    """The HTML document of a built pack."""
    return (
        _environment()
        .get_template("pack.html.j2")
        .render(
            pack=pack,
            fonts=font_faces(),
            font=style.FONT_FAMILY,
            symbols=style.SYMBOL_FAMILY,
            tones=sorted(style.TONES.items()),
            page_size=PAGE_SIZE[pack.paper],
        )
    )


def render_html(inputs: PackInputs) -> str:
    """The pack as one self-contained HTML document (charts inline as SVG)."""
    return html_of(content.build(inputs))


def render_pdf(inputs: PackInputs, html: str | None = None) -> bytes:
    """The pack as PDF: the same HTML typeset by WeasyPrint, deterministic bytes.

    `html` is `render_html(inputs)` when the caller has it already (the CLI writes both).
    """
    from pilotwatch.fingerprints import report_hash
    from pilotwatch.pack.pdf import typeset

    document = render_html(inputs) if html is None else html
    return typeset(document, identifier=report_hash(inputs.report))
