"""The charts the app and the steering pack share: Altair specifications as functions of frames.

Pure: frames in (the view series of metrics/series.py, the history frame of
pilotwatch/history.py, the views of pilotwatch/report/views.py), an Altair chart out; no
Streamlit, no rendering. The app's pages (ui/charts.py, ui/trends.py) draw these in the browser;
the pack (pilotwatch/pack/charts.py) renders the same specifications to SVG.

Colour is never the only carrier: every line also has a dash pattern, every verdict point a
shape, every bar a text label, and the palette is Okabe-Ito (distinguishable with the common
colour-vision deficiencies).
"""

from __future__ import annotations

from collections.abc import Sequence

import altair as alt
import polars as pl

from metrics.slo import AT_RISK_BUDGET
from pilotwatch.render import VERDICT_LABEL

# Okabe-Ito: distinguishable with the common colour-vision deficiencies. Colour is never the
# only carrier of status: every chart also has a text label, a shape or a dash pattern.
OKABE = {
    "orange": "#E69F00",
    "sky": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
    "black": "#000000",
    "grey": "#BBBBBB",
}
VERDICTS = ("go", "conditional", "no_go")
# chart legends name verdicts in words (go -> GO, conditional -> CONDITIONAL, no_go -> NO-GO)
VERDICT_WORD = dict(VERDICT_LABEL)
VERDICT_WORDS = [VERDICT_WORD[v] for v in VERDICTS]
VERDICT_SCALE = alt.Scale(
    domain=VERDICT_WORDS, range=[OKABE["green"], OKABE["orange"], OKABE["vermillion"]]
)
VERDICT_SHAPE = alt.Scale(domain=VERDICT_WORDS, range=["circle", "triangle-up", "cross"])

# the burn-down's two lines: told apart by colour and by dash pattern, named in the legend
BURN_LINES = ("budget remaining", "steady pace")
BURN_COLOUR = alt.Scale(domain=list(BURN_LINES), range=[OKABE["blue"], OKABE["grey"]])
BURN_DASH = alt.Scale(domain=list(BURN_LINES), range=[[1, 0], [6, 4]])
BUDGET_LEVELS = (  # the at-risk and exhausted rules (docs/metrics.md, SLO status)
    (AT_RISK_BUDGET, "at risk below 25%"),
    (0.0, "budget exhausted"),
)


def _static_time_x(days: float, title: str | alt.UndefinedType | None = alt.Undefined) -> alt.X:
    """The pack's time axis over `days`: UTC (the same text on every machine), ticked on UTC
    midnights (a utc scale steps in UTC days), daily for a window up to two weeks, else on
    Sundays."""
    ticks = alt.TimeIntervalStep(interval="day" if days <= 14 else "week", step=1)
    axis = alt.Axis(format="%b %d", tickCount=ticks, labelOverlap=True)
    return alt.X("at:T", title=title, scale=alt.Scale(type="utc"), axis=axis)


def burn_down(
    burn: pl.DataFrame,
    ideal: pl.DataFrame,
    *,
    static: bool = False,
    y_domain: Sequence[float] | None = None,
) -> alt.LayerChart:
    """The error budget remaining over the window against the steady pace, with the 25% and
    0% rules labelled.

    `burn` is `series.budget_burn_down` (at, consumed, budget_remaining), `ideal` is
    `series.ideal_burn` (at, budget_remaining). `y_domain` fixes the y scale (small multiples
    share one). `static` is the printed form (the pack): no tooltips, instants in UTC with
    day labels whatever the machine's time zone, smaller rule labels.
    """
    if static:  # the tooltip's column only
        burn = burn.select("at", "budget_remaining")
    span = ideal.select((pl.col("at").max() - pl.col("at").min()).dt.total_seconds()).item()
    days = float(span or 0) / 86_400
    actual_data = burn.with_columns(pl.lit(BURN_LINES[0]).alias("line"))
    pace_data = ideal.with_columns(pl.lit(BURN_LINES[1]).alias("line"))
    legend = alt.Legend(title=None, orient="top", symbolType="stroke", symbolStrokeWidth=2)
    colour = alt.Color("line:N", scale=BURN_COLOUR, legend=legend)
    dash = alt.StrokeDash("line:N", scale=BURN_DASH, legend=legend)
    y_scale = alt.Undefined if y_domain is None else alt.Scale(domain=list(y_domain))
    actual = (
        alt.Chart(actual_data)
        # a fixed y scale may end above the line's lowest point: draw inside the plot only
        .mark_line(
            interpolate="step-after",
            strokeWidth=2,
            clip=alt.Undefined if y_domain is None else True,
        )
        .encode(
            x=_static_time_x(days, None) if static else alt.X("at:T", title=None),
            y=alt.Y(
                "budget_remaining:Q",
                title="budget remaining",
                axis=alt.Axis(format="%"),
                scale=y_scale,
            ),
            color=colour,
            strokeDash=dash,
        )
    )
    if not static:
        actual = actual.encode(
            tooltip=[
                alt.Tooltip("at:T", title="until", format="%Y-%m-%d %H:%M"),
                alt.Tooltip("budget_remaining:Q", format=".1%"),
                alt.Tooltip("consumed:Q", format=".1%"),
            ]
        )
    pace = (
        alt.Chart(pace_data)
        .mark_line()
        .encode(
            x=_static_time_x(days) if static else alt.X("at:T"),
            y=alt.Y("budget_remaining:Q"),
            color=colour,
            strokeDash=dash,
        )
    )
    if not static:
        pace = pace.encode(tooltip=[alt.Tooltip("line")])
    levels = pl.DataFrame(
        {"y": [y for y, _ in BUDGET_LEVELS], "label": [label for _, label in BUDGET_LEVELS]}
    )
    rules = alt.Chart(levels).mark_rule(strokeDash=[2, 2], color="black").encode(y=alt.Y("y:Q"))
    size = 9 if static else alt.Undefined
    # the 25% label sits above its rule and the 0% label below its own, so the two
    # never collide, however far below 0 the axis runs
    above = (
        alt.Chart(levels.head(1))
        .mark_text(align="left", baseline="bottom", dy=-3, x=4, color="black", fontSize=size)
        .encode(y=alt.Y("y:Q"), text=alt.Text("label:N"))
    )
    below = (
        alt.Chart(levels.tail(1))
        .mark_text(align="left", baseline="top", dy=3, x=4, color="black", fontSize=size)
        .encode(y=alt.Y("y:Q"), text=alt.Text("label:N"))
    )
    layered: alt.LayerChart = actual + pace + rules + above + below
    return layered


def budget_domain(lowest: float) -> tuple[float, float]:
    """A burn-down y scale from `lowest` (or 0) to 1 with room under the 0% rule's label."""
    low = min(lowest, 0.0)
    return (low - 0.25 * (1.0 - low), 1.0)


def time_axis(data: pl.DataFrame) -> alt.X:
    """The history's instants in UTC, whatever the viewer's time zone, ticked on every other
    Monday 00:00 of the history (the default week ticks fall on Sundays)."""
    mondays = data.filter(pl.col("as_of").dt.hour() == 0).get_column("as_of").unique().sort()
    ticks = [
        alt.DateTime(year=t.year, month=t.month, date=t.day, utc=True)
        for t in mondays.to_list()[::-2]
    ]
    axis = alt.Axis(format="%b %d", values=ticks, labelOverlap=True)
    return alt.X("as_of:T", title=None, scale=alt.Scale(type="utc"), axis=axis)


def with_verdict_words(frame: pl.DataFrame) -> pl.DataFrame:
    """History rows with the verdict as a legend word and the instant as text (UTC)."""
    return frame.with_columns(
        pl.col("verdict")
        .replace_strict(VERDICT_WORD, default=pl.col("verdict"))
        .alias("verdict word"),
        pl.col("as_of").dt.strftime("%Y-%m-%d %H:%M").alias("as of"),
    )


def score_trend(data: pl.DataFrame, *, static: bool = False) -> alt.LayerChart:
    """Score as a grey line with a point per instant, coloured and shaped by the verdict.

    `data` is the history frame (pilotwatch.history.history_frame) with `with_verdict_words`;
    `static` (the pack) leaves out the tooltips.
    """
    base = alt.Chart(data).encode(x=time_axis(data))
    line = base.mark_line(color=OKABE["grey"]).encode(
        y=alt.Y("score:Q", title="score", scale=alt.Scale(domain=[0, 100]))
    )
    legend = alt.Legend(orient="top", title=None)
    points = base.mark_point(filled=True, size=70, opacity=1).encode(
        y=alt.Y("score:Q"),
        color=alt.Color("verdict word:N", scale=VERDICT_SCALE, legend=legend),
        shape=alt.Shape("verdict word:N", scale=VERDICT_SHAPE, legend=legend),
    )
    if not static:
        points = points.encode(
            tooltip=[
                alt.Tooltip("name"),
                alt.Tooltip("as of"),
                alt.Tooltip("verdict word"),
                alt.Tooltip("score:Q", format=".1f"),
            ]
        )
    layered: alt.LayerChart = line + points
    return layered


def verdict_bars(counts: pl.DataFrame) -> alt.LayerChart:
    """Initiatives per verdict as horizontal bars, each named on the axis and labelled with its
    count (a bar of 0 too).

    `counts` is `pilotwatch.report.views.verdict_counts` (verdict, count).
    """
    data = counts.with_columns(
        pl.col("verdict").replace_strict(VERDICT_WORD, default=pl.col("verdict")).alias("word")
    )
    y = alt.Y("word:N", title=None, sort=VERDICT_WORDS, scale=alt.Scale(domain=VERDICT_WORDS))
    x = alt.X("count:Q", title="initiatives", axis=alt.Axis(tickMinStep=1, format="d"))
    base = alt.Chart(data).encode(y=y, x=x)
    bars = base.mark_bar().encode(
        color=alt.Color("word:N", scale=VERDICT_SCALE, legend=None),
    )
    labels = base.mark_text(align="left", dx=4, color="black", fontWeight="bold").encode(
        text=alt.Text("count:Q", format="d")
    )
    layered: alt.LayerChart = bars + labels
    return layered


KPI_STATUS_COLOUR = alt.Scale(
    domain=["on track", "off track"], range=[OKABE["green"], OKABE["vermillion"]]
)


def kpi_progress(rows: pl.DataFrame, width: int) -> alt.LayerChart:
    """Outcome KPIs on one unit-free scale: 0 is the baseline, 1 the target (both ruled and
    named); a bar per KPI from the baseline to its value, its value and status written in a
    column on the right.

    `rows`: kpi, progress ((value - baseline) / (target - baseline), null when there is no
    value to draw), status (a word: "on track", "off track", ...) and label (the text of its
    row, e.g. "72 · off track" or "<11 · suppressed"). Progress past 1 is past the target,
    below 0 worse than the baseline, whichever way the KPI improves. `width` is the plot's.
    """
    drawn = rows.get_column("progress").drop_nulls().to_list()
    low, high = min([0.0, *drawn]), max([1.0, *drawn])
    # the bars take the left 60% of the plot, the labels the right 40%
    span = (high - low) / 0.6
    scale = alt.Scale(domain=[low - 0.02 * span, low + span], nice=False)
    order = rows.get_column("kpi").to_list()
    y = alt.Y("kpi:N", title=None, sort=order, axis=alt.Axis(labelLimit=200))
    x = alt.X(
        "progress:Q",
        title="progress from baseline (0) to target (1)",
        scale=scale,
        axis=alt.Axis(values=[0, 1], format=".0f", grid=False),
    )
    bars = (
        alt.Chart(rows)
        .mark_bar(height=10)
        .encode(
            y=y,
            x=x,
            x2=alt.X2(datum=0),
            color=alt.Color("status:N", scale=KPI_STATUS_COLOUR, legend=None),
        )
    )
    labels = (
        alt.Chart(rows)
        .mark_text(align="right", dx=-2, color="black")
        .encode(y=y, x=alt.value(width), text=alt.Text("label:N"))
    )
    references = pl.DataFrame({"at": [0.0, 1.0], "name": ["baseline", "target"]})
    rules = (
        alt.Chart(references)
        .mark_rule(color="black")
        .encode(
            x=alt.X("at:Q", scale=scale),
            strokeDash=alt.StrokeDash(
                "name:N",
                scale=alt.Scale(domain=["baseline", "target"], range=[[2, 2], [1, 0]]),
                legend=None,
            ),
        )
    )
    names = (
        alt.Chart(references)
        .mark_text(baseline="bottom", dy=-2, color="black", fontWeight="bold")
        .encode(x=alt.X("at:Q", scale=scale), y=alt.value(0), text=alt.Text("name:N"))
    )
    layered: alt.LayerChart = (bars + rules + labels + names).properties(width=width)
    return layered
