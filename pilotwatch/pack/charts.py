"""The pack's charts: the app's Altair specifications (pilotwatch/chartspecs.py) as SVG.

Rendered by vl-convert (no browser), deterministic, colour-blind safe, never colour alone.
Each Figure is one vl-convert call. Sizes are CSS pixels (96 per inch): the pack's text column
is 180 mm (680 px) wide, so a burn-down panel with its axis takes a third of it.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from itertools import pairwise
from typing import Any

import altair as alt
import polars as pl
import vl_convert as vlc

from core.enums import SloStatus
from core.models import Slo
from core.report import InitiativeReport, Outcome, Report, SloEntry, iso
from metrics import series
from pilotwatch import chartspecs as cs
from pilotwatch.history import history_frame
from pilotwatch.pack.inputs import PackInputs
from pilotwatch.pack.style import FONT_DIR, FONT_FAMILY
from pilotwatch.report import views

VL_VERSION = "6.4"
COLUMNS = 3  # burn-down panels per row
PANEL = (150, 78)  # a burn-down panel's plot (width, height): with its axes a third of 180 mm
TREND = (265, 64)  # plot size: with its axis and legend half the 180 mm column (330 px)
VERDICTS = (220, 66)
KPI_WIDTH = 330
KPI_ROW = 18  # px per KPI row


_ROOT = re.compile(r'<svg\b[^>]*?\swidth="([\d.]+)"[^>]*?\sheight="([\d.]+)"')


@dataclass(frozen=True)
class Figure:
    """One chart for the pack: the SVG markup, its alt text and a caption."""

    svg: str
    alt: str
    caption: str

    @property
    def size(self) -> tuple[float, float]:
        """The SVG's (width, height) in CSS pixels (96 per inch): its size on the page."""
        root = _ROOT.match(self.svg)
        if root is None:
            raise ValueError("not an SVG with a width and a height")
        return float(root.group(1)), float(root.group(2))

    @property
    def data_uri(self) -> str:
        """The SVG as a data URI for an `<img src>`."""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()


class InitiativeFigures:
    """The charts of one initiative's page, each rendered when first read (a template that
    leaves one out costs no vl-convert call); None where there is nothing to draw."""

    def __init__(self, inputs: PackInputs, item: InitiativeReport) -> None:
        self._inputs, self._item = inputs, item

    @cached_property
    def burn_down(self) -> Figure | None:
        """Small multiples, one panel per SLO of the initiative; None without SLOs."""
        return burn_down_figure(self._inputs, self._item)

    @cached_property
    def trend(self) -> Figure | None:
        """Score (verdict by shape) over the history; None without one."""
        return trend_figure(self._inputs, self._item)

    @cached_property
    def outcomes(self) -> Figure | None:
        """KPI progress from baseline to target; None without KPIs."""
        return outcomes_figure(self._inputs, self._item)


@dataclass(frozen=True)
class CoverFigures:
    """The cover's charts."""

    verdicts: Figure | None  # verdict counts, a label on every bar; None without initiatives


@cache
def _fonts() -> bool:
    """Register the bundled font once a process; False (vl-convert's fallback) without it."""
    if not any(p.suffix.lower() in {".ttf", ".otf"} for p in FONT_DIR.glob("*")):
        return False
    vlc.register_font_directory(str(FONT_DIR))
    return True


_ID = re.compile(r'\bid="([^"]+)"')
# axis labels Vega hides to avoid overlap are drawn fully transparent: they would still be text
_HIDDEN_TEXT = re.compile(r'<text\b[^>]*\sopacity="0"[^>]*>[^<]*</text>')


def normalise(svg: str) -> str:
    """The SVG with its ids numbered in document order (Vega's clip ids count up over a
    process, so the same chart rendered twice would differ) and hidden labels removed."""
    names = {old: f"pw{n}" for n, old in enumerate(dict.fromkeys(_ID.findall(svg)), 1)}
    if names:
        pattern = re.compile(
            r'(\bid="|url\(#|href="#)(' + "|".join(map(re.escape, names)) + r')(?=[")])'
        )
        svg = pattern.sub(lambda m: m.group(1) + names[m.group(2)], svg)
    return _HIDDEN_TEXT.sub("", svg)


# the pack's type scale (px) for every chart, merged into the spec's config
CONFIG: dict[str, Any] = {
    "font": FONT_FAMILY,
    "title": {"fontSize": 11},
    "axis": {"labelFontSize": 9, "titleFontSize": 10},
    "legend": {"labelFontSize": 10},
}


def render_svg(chart: alt.TopLevelMixin) -> str:
    """One vl-convert call: the chart in the pack's font as deterministic SVG."""
    _fonts()
    # validated where the specs are built and tested (tests/test_chartspecs.py), not again;
    # the config is merged into the dict: Altair's configure_* would copy the whole chart
    spec = chart.to_dict(validate=False)
    spec["config"] = {**spec.get("config", {}), **CONFIG}
    # as JSON text: vl-convert parses that faster than it converts a Python dict
    return normalise(vlc.vegalite_to_svg(json.dumps(spec), vl_version=VL_VERSION))


def _pct(value: float) -> str:
    return f"{value:.1%}".replace("-", "−")


PRINT_FLOOR = -1.0  # the printed burn-downs' lowest y: a budget overspent by 100%


def budget_words(slo: SloEntry) -> str:
    """One SLO's budget remaining in words, from the report."""
    left = slo.budget_remaining
    if left is None or slo.status == SloStatus.NO_DATA:
        return f"{slo.name}: no events in the window, so no budget to report"
    status = str(slo.status).replace("_", " ")  # healthy, at risk, breached
    if left <= 0:
        return f"{slo.name}: budget exhausted, {_pct(left)} remaining ({status})"
    return f"{slo.name}: {_pct(left)} of the error budget remaining ({status})"


def _definitions(inputs: PackInputs) -> Mapping[str, Slo]:
    return {s.name: s for s in inputs.config.slos}


def _no_events_panel(name: str) -> alt.Chart:
    note = pl.DataFrame({"text": ["no events in the window"]})
    panel: alt.Chart = (
        alt.Chart(note)
        .mark_text(color="black")
        .encode(text="text:N")
        .properties(width=PANEL[0], height=PANEL[1], title=name)
    )
    return panel


def burn_down_figure(inputs: PackInputs, item: InitiativeReport) -> Figure | None:
    """One panel per SLO of `item` (titled with its name, one y scale), as one Figure."""
    if not item.slos:
        return None
    definitions = _definitions(inputs)
    as_of = inputs.report.as_of
    burns: list[tuple[SloEntry, Slo, pl.DataFrame]] = []
    for slo in item.slos:
        definition = definitions.get(slo.name)
        if definition is None:
            raise LookupError(f"{item.id}: SLO {slo.name} is in the report but not the config")
        burns.append(
            (slo, definition, series.budget_burn_down(inputs.portfolio.buckets, definition, as_of))
        )
    # one y scale for every panel: from the lowest point of any of them (or 0) to 1, but never
    # below -100%: a budget overspent five times over would squash every other panel and pile
    # the 25% and 0% rules up at the top; its line runs off the bottom edge instead (clipped),
    # and the alt text and the SLO table give its value
    lowest = min([0.0, *(v for _, _, b in burns for v in b.get_column("budget_remaining"))])
    domain = cs.budget_domain(max(lowest, PRINT_FLOOR))
    panels: list[alt.Chart | alt.LayerChart] = []
    for slo, definition, burn in burns:
        if burn.height == 0:
            panels.append(_no_events_panel(slo.name))
            continue
        ideal = series.ideal_burn(definition, as_of)
        panel = cs.burn_down(burn, ideal, static=True, y_domain=domain)
        panels.append(panel.properties(width=PANEL[0], height=PANEL[1], title=slo.name))
    chart = alt.concat(*panels, columns=COLUMNS, spacing=12).resolve_scale(
        color="shared", strokeDash="shared"
    )
    words = "; ".join(budget_words(s) for s in item.slos)
    alt_text = (
        f"Error budget burn-down of each SLO of {item.name} over its window to "
        f"{iso(as_of)}, one panel per SLO on the same scale. {words}."
    )
    caption = (
        "Error budget remaining (solid blue) against the steady pace that spends it exactly "
        "by the as-of (dashed grey); dotted rules at 25% (at risk) and 0% (exhausted)."
    )
    if lowest < PRINT_FLOOR:
        caption += " A line below \u2212100% runs off the bottom of its panel; the table gives it."
    return Figure(render_svg(chart), alt_text, caption)


def _score_words(score: float | None, verdict: str) -> str:
    shown = "no score" if score is None else f"score {score:.1f}"
    return f"{shown}, {cs.VERDICT_WORD.get(verdict, verdict)}"


def trend_frame(inputs: PackInputs, item: InitiativeReport) -> pl.DataFrame:
    """The history frame of `item`, oldest first, ending on the pack's own report."""
    reports: list[Report] = list(inputs.history)
    if all(r.as_of != inputs.report.as_of for r in reports):
        reports.append(inputs.report)
    frame = history_frame(reports).filter(pl.col("initiative") == item.id).sort("as_of")
    return cs.with_verdict_words(frame)


def trend_figure(inputs: PackInputs, item: InitiativeReport) -> Figure | None:
    """The readiness score over the history, verdict by shape; None without a history."""
    if not inputs.history:
        return None
    data = trend_frame(inputs, item)
    if data.height == 0:  # a history at the pack's own as-of without this initiative
        return None
    chart = cs.score_trend(data, static=True).properties(width=TREND[0], height=TREND[1])
    rows = data.rows(named=True)
    first, last = rows[0], rows[-1]
    changes = sum(1 for a, b in pairwise(rows) if a["verdict"] != b["verdict"])
    alt_text = (
        f"Readiness score of {item.name} at {len(rows)} instants from {first['as of']} to "
        f"{last['as of']} UTC: {_score_words(first['score'], first['verdict'])} at the start, "
        f"{_score_words(last['score'], last['verdict'])} at the as-of; the verdict changed "
        f"{changes} time{'' if changes == 1 else 's'}."
    )
    caption = (
        "Readiness score at each instant of the history (UTC); a point's shape gives the "
        "verdict: circle GO, triangle CONDITIONAL, cross NO-GO."
    )
    return Figure(render_svg(chart), alt_text, caption)


def _value_text(value: float, unit: str) -> str:
    if unit == "share":
        return f"{value:.1%}"
    return f"{value:,.1f}".removesuffix(".0")


def kpi_rows(outcomes: Sequence[Outcome], small_cell: int) -> pl.DataFrame:
    """Per KPI: progress from baseline to target and the label at its bar (chartspecs)."""
    rows: list[dict[str, Any]] = []
    for o in outcomes:
        status = str(o.status).replace("_", " ")
        progress = None
        if o.status == "suppressed":
            label = f"<{small_cell} · suppressed"
        elif o.value is None:
            label = "no data"
        else:
            label = f"{_value_text(o.value, o.unit)} · {status}"
            if o.target is not None and o.baseline is not None and o.target != o.baseline:
                progress = (o.value - o.baseline) / (o.target - o.baseline)
        rows.append({"kpi": o.kpi, "progress": progress, "status": status, "label": label})
    schema = {
        "kpi": pl.String(),
        "progress": pl.Float64(),
        "status": pl.String(),
        "label": pl.String(),
    }
    return pl.DataFrame(rows, schema=schema)


def outcomes_figure(inputs: PackInputs, item: InitiativeReport) -> Figure | None:
    """The outcome KPIs from baseline to target on one scale; None without KPIs."""
    if not item.outcomes:
        return None
    small_cell = inputs.config.settings.small_cell_threshold
    rows = kpi_rows(item.outcomes, small_cell)
    chart = cs.kpi_progress(rows, KPI_WIDTH).properties(height=KPI_ROW * rows.height)
    words = "; ".join(f"{r['kpi']}: {r['label']}" for r in rows.iter_rows(named=True))
    alt_text = f"Outcome KPIs of {item.name} from their baseline (0) to their target (1): {words}."
    caption = (
        "Each bar runs from the KPI's baseline to its value, on a scale where the baseline is "
        f"0 and the target 1; suppressed small cells show as <{small_cell}."
    )
    return Figure(render_svg(chart), alt_text, caption)


def verdicts_figure(inputs: PackInputs) -> Figure | None:
    """The cover's verdict counts, a label on every bar; None without initiatives."""
    items = inputs.report.initiatives
    if not items:
        return None
    counts = views.verdict_counts(items)
    chart = cs.verdict_bars(counts).properties(width=VERDICTS[0], height=VERDICTS[1])
    words = ", ".join(
        f"{r['count']} {cs.VERDICT_WORD[r['verdict']]}" for r in counts.iter_rows(named=True)
    )
    noun = "initiative" if len(items) == 1 else "initiatives"
    alt_text = f"Verdicts of the {len(items)} {noun} in this pack: {words}."
    caption = "Initiatives per verdict at the as-of; every bar is labelled with its count."
    return Figure(render_svg(chart), alt_text, caption)


def initiative_figures(inputs: PackInputs, item: InitiativeReport) -> InitiativeFigures:
    """The burn-down small multiples, the readiness trend and the KPI chart of `item`."""
    return InitiativeFigures(inputs, item)


def cover_figures(inputs: PackInputs) -> CoverFigures:
    """The cover's charts."""
    return CoverFigures(verdicts=verdicts_figure(inputs))
