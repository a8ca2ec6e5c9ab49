"""The steering pack's charts (pilotwatch/pack/charts.py): vector SVG, deterministic, described.

One hand-made initiative with three SLOs over a 1-day window ending at T: one with its budget
half spent, one with no events, one overspent. Expected numbers are worked out by hand.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import altair as alt
import polars as pl
import pytest
import vl_convert as vlc
from metrics_helpers import DAY, MIN, T, buckets, config, initiative, slo

from core.models import Config, Kpi
from core.report import Outcome, Report
from metrics.portfolio import Portfolio, compute_portfolio
from pilotwatch.pack import charts
from pilotwatch.pack.inputs import PackInputs
from pilotwatch.report import build_report

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
# names as long as the demo's longest, so the width check below means something
HALF = "alpha-appointment-availability"
EMPTY = "alpha-booking-latency-under-2s"
OVER = "alpha-reminder-delivery-success"
MM_180 = 180 / 25.4 * 96  # the pack's text column in CSS pixels (96 per inch): 680.3


def _tables(extra_bad: int = 0) -> dict[str, pl.DataFrame]:
    rows = [
        # HALF, target 0.875: 248 events, allowance 31, 16 bad -> 15/31 = 48.4% remaining
        (HALF, T - 90 * MIN, 88 - extra_bad, 100),
        (HALF, T - 80 * MIN, 100, 100),
        (HALF, T - 30 * MIN, 44, 48),
        # OVER, target 0.99: 100 events, allowance 1, 5 bad -> 1 - 5 = -400% remaining
        (OVER, T - 5 * 60 * MIN, 95, 100),
        # EMPTY: no bucket at all
    ]
    return {"sli_buckets": buckets(rows)}


def _config() -> Config:
    kpis = [
        Kpi(name="wait_minutes", kind="operational", unit="minutes", direction="lower",
            target=60, baseline=95),
    ]  # fmt: skip
    return config(
        initiatives=[initiative(kpis=kpis)],
        slos=[
            slo(HALF, window="1d", target=0.875),
            slo(EMPTY, window="1d", target=0.99),
            slo(OVER, window="1d", target=0.99),
        ],
    )


def _report(tables: dict[str, pl.DataFrame], as_of: datetime = T) -> tuple[Report, Portfolio]:
    portfolio = compute_portfolio(dict(tables), _config(), as_of)
    return build_report(portfolio), portfolio


def inputs(extra_bad: int = 0, history: bool = False) -> PackInputs:
    """The hand-made pack inputs (also built by the time-zone child process below)."""
    tables = _tables(extra_bad)
    report, portfolio = _report(tables)
    earlier = [_report(tables, T - 7 * DAY)[0], _report(tables, T - DAY)[0]] if history else []
    return PackInputs(
        report=report,
        config=_config(),
        portfolio=portfolio,
        history=earlier,
    )


@pytest.fixture(scope="module")
def pack() -> PackInputs:
    return inputs()


@pytest.fixture(scope="module")
def figures(pack: PackInputs) -> charts.InitiativeFigures:
    return charts.initiative_figures(pack, pack.report.initiatives[0])


def _texts(svg: str) -> list[str]:
    return re.findall(r"<text\b[^>]*>([^<]*)</text>", svg)


def _assert_vector(svg: str) -> None:
    assert svg.startswith("<svg")
    assert "<path" in svg and "<text" in svg
    assert "<image" not in svg and "data:image/png" not in svg


def test_burn_down_is_one_vector_figure_with_a_panel_per_slo(
    figures: charts.InitiativeFigures,
) -> None:
    figure = figures.burn_down
    assert figure is not None
    _assert_vector(figure.svg)
    texts = _texts(figure.svg)
    for name in (HALF, EMPTY, OVER):
        assert texts.count(name) == 1, name  # each panel titled with its SLO's name
    assert "no events in the window" in texts  # the SLO without events, said in words
    assert {"budget remaining", "steady pace"} <= set(texts)  # the legend
    # one y scale for both drawn panels, though HALF never goes below 48%; OVER reaches -400%,
    # but the print floor is -100%: [-1 - 0.25 * 2, 1] = [-1.5, 1], so -100% is the lowest tick
    # on both axes and -500% (the unclamped scale's) on none
    assert texts.count("−100%") == 2 and "−500%" not in texts and "−200%" not in texts
    assert "runs off the bottom of its panel" in figure.caption
    # a 1-day window [Mar 14 12:00, Mar 15 12:00): one tick, on the UTC midnight
    assert texts.count("Mar 15") == 2 and "Mar 14" not in texts


def test_burn_down_panels_fit_the_180_mm_column(figures: charts.InitiativeFigures) -> None:
    assert figures.burn_down is not None
    width, height = figures.burn_down.size
    # three panels on one row (their titles side by side), within 180 mm
    assert width <= MM_180
    assert width > 3 * charts.PANEL[0] and height < 2 * charts.PANEL[1] + 80  # not stacked


def test_one_vl_convert_call_per_figure_read(
    pack: PackInputs, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = vlc.vegalite_to_svg

    def counted(spec: str, **options: str) -> str:
        calls.append(1)
        return real(spec, **options)

    monkeypatch.setattr(charts.vlc, "vegalite_to_svg", counted)
    figures = charts.initiative_figures(pack, pack.report.initiatives[0])
    assert calls == []  # nothing rendered until a template reads a figure
    assert figures.burn_down is not None and len(calls) == 1  # three panels, one call
    assert figures.burn_down is not None and len(calls) == 1  # rendered once
    assert figures.trend is None and len(calls) == 1  # no history: nothing to render
    assert figures.outcomes is not None and len(calls) == 2


def test_alt_text_names_each_slo_and_its_budget(figures: charts.InitiativeFigures) -> None:
    assert figures.burn_down is not None
    alt_text = figures.burn_down.alt
    assert f"{HALF}: 48.4% of the error budget remaining" in alt_text  # 15/31
    assert f"{EMPTY}: no events in the window, so no budget to report" in alt_text
    assert f"{OVER}: budget exhausted, −400.0% remaining (breached)" in alt_text
    assert "2025-03-15T12:00:00Z" in alt_text


def test_same_inputs_give_identical_bytes(pack: PackInputs) -> None:
    item = pack.report.initiatives[0]
    first = charts.initiative_figures(pack, item)
    again = charts.initiative_figures(inputs(), inputs().report.initiatives[0])
    assert first.burn_down is not None and again.burn_down is not None
    assert first.burn_down.svg == again.burn_down.svg
    assert first.outcomes == again.outcomes
    assert charts.cover_figures(pack) == charts.cover_figures(inputs())


def test_the_svg_changes_with_the_data(figures: charts.InitiativeFigures) -> None:
    # 4 more bad events of HALF: 20 bad of an allowance of 31 -> 11/31 = 35.5% remaining
    changed = inputs(extra_bad=4)
    other = charts.initiative_figures(changed, changed.report.initiatives[0]).burn_down
    assert other is not None and figures.burn_down is not None
    assert other.svg != figures.burn_down.svg
    assert f"{HALF}: 35.5% of the error budget remaining" in other.alt


def test_renumbered_ids_make_clipped_charts_repeatable() -> None:
    # Vega numbers clip paths over the whole process: the raw SVG differs call to call
    chart = (
        alt.Chart(pl.DataFrame({"x": [1, 3], "y": [2, 8]}))
        .mark_line(clip=True)
        .encode(x=alt.X("x:Q", scale=alt.Scale(domain=[0, 2])), y="y:Q")
    )
    spec = chart.to_dict()
    assert vlc.vegalite_to_svg(spec, vl_version="6.4") != vlc.vegalite_to_svg(
        spec, vl_version="6.4"
    )
    first, second = charts.render_svg(chart), charts.render_svg(chart)
    assert first == second
    assert 'id="pw1"' in first and 'clip-path="url(#pw1)"' in first


def test_trend_is_none_without_history(figures: charts.InitiativeFigures) -> None:
    assert figures.trend is None


def test_trend_over_the_history_ends_on_the_report() -> None:
    pack = inputs(history=True)
    item = pack.report.initiatives[0]
    trend = charts.initiative_figures(pack, item).trend
    assert trend is not None
    _assert_vector(trend.svg)
    assert trend.size[0] <= MM_180 / 2  # sized for half the column, beside the decision
    frame = charts.trend_frame(pack, item)
    # the two earlier reports and the pack's own, oldest first
    assert frame.get_column("as of").to_list() == [
        "2025-03-08 12:00",
        "2025-03-14 12:00",
        "2025-03-15 12:00",
    ]
    now = item.readiness
    score = "no score" if now.score is None else f"score {now.score:.1f}"
    word = {"go": "GO", "conditional": "CONDITIONAL", "no_go": "NO-GO"}[now.verdict]
    assert f"{score}, {word} at the as-of" in trend.alt
    assert "at 3 instants from 2025-03-08 12:00 to 2025-03-15 12:00 UTC" in trend.alt


def test_cover_counts_every_verdict_with_a_label(pack: PackInputs) -> None:
    figure = charts.cover_figures(pack).verdicts
    assert figure is not None
    _assert_vector(figure.svg)
    verdict = pack.report.initiatives[0].readiness.verdict
    counts = {v: int(v == verdict) for v in ("go", "conditional", "no_go")}
    words = ", ".join(
        f"{n} {w}" for n, w in zip(counts.values(), ["GO", "CONDITIONAL", "NO-GO"], strict=True)
    )
    assert figure.alt == f"Verdicts of the 1 initiative in this pack: {words}."
    # a text mark on every bar, the zero bars included
    labels = re.findall(r'aria-roledescription="text mark"[^>]*>([^<]*)</text>', figure.svg)
    assert sorted(labels) == ["0", "0", "1"]
    assert {"GO", "CONDITIONAL", "NO-GO"} <= set(_texts(figure.svg))


def test_outcome_rows_are_progress_from_baseline_to_target() -> None:
    def outcome(value: float | None, status: str, unit: str = "minutes") -> Outcome:
        return Outcome(kpi="k", kind="operational", value=value, target=60.0, baseline=95.0,
                       unit=unit, direction="lower", status=status, period_end=None)  # fmt: skip

    rows = charts.kpi_rows(
        [
            outcome(72.0, "off_track"),  # (72 - 95) / (60 - 95) = 23/35 of the way
            outcome(None, "suppressed"),
            outcome(None, "no_data"),
            outcome(0.209, "on_track", unit="share"),
        ],
        small_cell=11,
    )
    assert rows.get_column("progress").to_list()[:3] == pytest.approx([23 / 35, None, None])
    assert rows.get_column("label").to_list() == [
        "72 · off track",
        "<11 · suppressed",
        "no data",
        "20.9% · on track",
    ]


def test_outcomes_figure_shows_the_kpi(figures: charts.InitiativeFigures) -> None:
    figure = figures.outcomes
    assert figure is not None
    _assert_vector(figure.svg)
    texts = _texts(figure.svg)
    assert {"wait_minutes", "baseline", "target"} <= set(texts)
    assert "wait_minutes: no data" in figure.alt  # no observation in the hand-made data


_CHILD = """
import hashlib, sys
sys.path[:0] = [{tests!r}, {root!r}]
import test_pack_charts as t
from metrics import series
from pilotwatch import chartspecs as cs
from pilotwatch.pack import charts
pack = t.inputs()
fig = charts.initiative_figures(pack, pack.report.initiatives[0]).burn_down
print(hashlib.sha256(fig.svg.encode()).hexdigest())
s = next(d for d in pack.config.slos if d.name == t.HALF)
burn = series.budget_burn_down(pack.portfolio.buckets, s, t.T)
app = charts.render_svg(cs.burn_down(burn, series.ideal_burn(s, t.T)))
print(hashlib.sha256(app.encode()).hexdigest())
"""


def _child_hashes(zone: str) -> list[str]:
    code = _CHILD.format(tests=str(TESTS), root=str(ROOT))
    env = {**os.environ, "TZ": zone}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return run.stdout.split()


def test_burn_down_bytes_do_not_depend_on_the_time_zone(
    figures: charts.InitiativeFigures,
) -> None:
    assert figures.burn_down is not None
    here = hashlib.sha256(figures.burn_down.svg.encode()).hexdigest()
    utc, auckland = _child_hashes("UTC"), _child_hashes("Pacific/Auckland")
    assert utc[0] == auckland[0] == here  # the pack's form: UTC, the same bytes anywhere
    # the app's form draws local time: proof the second child really ran in another zone
    assert utc[1] != auckland[1]
