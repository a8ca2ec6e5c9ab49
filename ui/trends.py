"""Readiness trends: the history (pilotwatch/history.py) as charts and text on three pages.

The history is the report at a series of as-of instants (docs/dashboard.md, "Readiness
trends"): each Monday 00:00 UTC of the last 13 weeks, every recorded decision's as-of, and this
view's as-of. Every number shown here is a row of `history_frame`, the same numbers a single
report at that instant shows. It is computed only when a trends section is opened (an expander
with `on_change="rerun"`), so no page waits for it on its first paint.

Colour is never the only carrier: a verdict is also a point's shape and a word in the tooltip
and tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import altair as alt
import polars as pl
import streamlit as st

from core.report import InitiativeReport, Report
from pilotwatch import chartspecs
from pilotwatch.audit.decisions import DecisionRecord
from pilotwatch.history import default_instants
from pilotwatch.report import compare
from ui import formats as fm
from ui import labels as lb
from ui import loaders, signoff
from ui import widgets as w
from ui.context import Context

HISTORY_WEEKS = 13
# without a decision, "the last review" is the newest instant of the history a week or more
# before the as-of (the Monday 00:00 of the as-of's own day would compare a report with itself)
REVIEW_GAP = timedelta(days=7)
VERDICTS = ("go", "conditional", "no_go")
VERDICT_SHAPE = chartspecs.VERDICT_SHAPE
SERIES = (  # (column, heading, axis title, axis format) of the Initiative page's four trends
    ("score", "Score", "score", "d"),
    ("min_budget_remaining", "Lowest SLO budget remaining", "budget remaining", "%"),
    ("open_sev12", "Open sev 1-2 incidents", "open sev 1-2", "d"),
    ("gap_count", "Compliance gaps", "gaps", "d"),
)


time_axis = chartspecs.time_axis


def instants(ctx: Context, records: Iterable[DecisionRecord] = ()) -> tuple[datetime, ...]:
    """The history's instants for this view: the default series, the decisions', this as-of."""
    decided = [r.as_of for r in records if r.as_of <= ctx.as_of]
    chosen = set(default_instants(ctx.as_of, HISTORY_WEEKS, decided)) | {ctx.as_of}
    return tuple(sorted(chosen))


def visible_decisions(ctx: Context, sign: signoff.Signing) -> list[DecisionRecord]:
    """The recorded decisions on the initiatives this identity sees (the log read once a run)."""
    return [r for item in ctx.report.initiatives for r in signoff.history(sign, item.id)]


def history(ctx: Context, sign: signoff.Signing | None = None) -> pl.DataFrame:
    """The history frame of this view's identity (cached; computed under a named spinner)."""
    sign = sign or signoff.signing(ctx)
    when = instants(ctx, visible_decisions(ctx, sign))
    # the full config and data, as for the report itself (compute_visible restricts them);
    # both loaders are cache hits here: build_context loaded them earlier in this run
    directory = str(ctx.config_dir)
    secrets = loaders.streamlit_secrets()
    config_fp = loaders.config_fingerprint(ctx.config_dir, secrets)
    full = loaders.load_config_cached(directory, config_fp, secrets)
    data_fp = loaders.data_fingerprint(full, st.session_state.get("_pw_nonce", 0))
    loaded = loaders.load_data_cached(directory, config_fp, data_fp, full)
    label = (
        f"Computing the readiness history: the report at {len(when)} as-of instants "
        f"({fm.day(when[0])} to {fm.day(when[-1])})…"
    )
    with st.spinner(label):
        return loaders.history_cached(
            directory,
            config_fp,
            data_fp,
            tuple(t.isoformat() for t in when),
            ctx.identity.scope_key,
            full,
            loaded,
            ctx.identity,
        )


def shown_rows(frame: pl.DataFrame, ids: Sequence[str]) -> pl.DataFrame:
    """The rows of `ids`, oldest first, with the verdict as a word and the instant as text."""
    return chartspecs.with_verdict_words(
        frame.filter(pl.col("initiative").is_in(list(ids))).sort("initiative", "as_of")
    )


def _score_layers(data: pl.DataFrame) -> alt.LayerChart:
    """Score as a grey line with a point per instant, coloured and shaped by the verdict."""
    return chartspecs.score_trend(data)


def portfolio_chart(frame: pl.DataFrame, items: Sequence[InitiativeReport]) -> None:
    """Per shown initiative, a small trend of score and verdict over the instants."""
    data = shown_rows(frame, [i.id for i in items])
    if data.height == 0:
        w.empty("readiness history", "The history needs at least one computed as-of instant.")
        return
    chart = (
        _score_layers(data)
        .properties(width=720, height=60)
        .facet(
            row=alt.Row(
                "name:N",
                title=None,
                sort=[i.name for i in items],
                header=alt.Header(labelOrient="top", labelAnchor="start", labelFontWeight="bold"),
            ),
            spacing=14,
        )
    )
    st.altair_chart(
        chart,
        width="content",
        alt="Score per initiative at each as-of instant of the history; each point's colour "
        "and shape give the verdict at that instant.",
    )


def initiative_charts(frame: pl.DataFrame, item: InitiativeReport) -> None:
    """Score, lowest SLO budget, open sev 1-2 and compliance gaps of one initiative over time."""
    data = shown_rows(frame, [item.id])
    if data.height == 0:
        w.empty("readiness history", "The history needs at least one computed as-of instant.")
        return
    cells = [*st.columns(2), *st.columns(2)]  # two rows: each row's charts line up
    for cell, (column, heading, title, axis) in zip(cells, SERIES, strict=True):
        with cell:
            st.markdown(f"**{heading}**")
            if column == "score":
                spec: alt.Chart | alt.LayerChart = _score_layers(data)
            else:
                spec = (
                    alt.Chart(data)
                    .mark_line(point=True, color=lb.OKABE["blue"])
                    .encode(
                        x=time_axis(data),
                        y=alt.Y(f"{column}:Q", title=title, axis=alt.Axis(format=axis)),
                        tooltip=["as of", alt.Tooltip(f"{column}:Q", title=title)],
                    )
                )
            w.chart(spec.properties(height=160), f"{heading} of {item.name} per instant.")
    w.table(
        data.select(
            "as of",
            pl.col("verdict word").alias("verdict"),
            "score",
            pl.col("min_budget_remaining").alias("lowest budget"),
            pl.col("slos_breached").alias("SLOs breached"),
            pl.col("open_sev12").alias("open sev 1-2"),
            pl.col("gap_count").alias("gaps"),
            "blockers",
        ),
        {
            "as of": st.column_config.TextColumn("as of (UTC)", width=130),
            "verdict": st.column_config.TextColumn(width=110),
            "score": st.column_config.NumberColumn(format="%.1f", width=60),
            "lowest budget": st.column_config.NumberColumn(format="percent", width=90),
            "SLOs breached": st.column_config.NumberColumn(width=90),
            "open sev 1-2": st.column_config.NumberColumn(width=90),
            "gaps": st.column_config.NumberColumn(width=60),
            "blockers": st.column_config.NumberColumn(width=70),
        },
        key="initiative_trend_table",
    )


@dataclass(frozen=True)
class Change:
    """One initiative's score and verdict at the last review and now (two history rows)."""

    initiative: str
    name: str
    since: datetime
    basis: str  # "decision" or "a week earlier"
    verdict_then: str
    verdict_now: str
    score_then: float | None
    score_now: float | None

    @property
    def delta(self) -> float | None:
        """Score now minus score then; None when either is undecided."""
        if self.score_then is None or self.score_now is None:
            return None
        return self.score_now - self.score_then


def change_since(frame: pl.DataFrame, iid: str, now: datetime, then: datetime | None) -> Change:
    """The change of `iid` from `then` (None: the newest instant a week or more before `now`).

    Raises LookupError when the history has no row at one of the two instants.
    """
    rows = frame.filter(pl.col("initiative") == iid).sort("as_of")
    basis = "decision"
    if then is None:
        earlier = rows.filter(pl.col("as_of") <= now - REVIEW_GAP)
        if earlier.height == 0:
            raise LookupError(f"{iid}: no instant a week or more before {now.isoformat()}")
        then, basis = earlier.get_column("as_of")[-1], "a week earlier"
    picked = {}
    for at in (then, now):
        found = rows.filter(pl.col("as_of") == at)
        if found.height == 0:
            raise LookupError(f"{iid}: no history row as of {at.isoformat()}")
        picked[at] = found.row(0, named=True)
    before, after = picked[then], picked[now]
    return Change(
        initiative=iid,
        name=after["name"],
        since=then,
        basis=basis,
        verdict_then=before["verdict"],
        verdict_now=after["verdict"],
        score_then=before["score"],
        score_now=after["score"],
    )


def review_changes(
    ctx: Context, shown: Report, sign: signoff.Signing, frame: pl.DataFrame
) -> list[Change]:
    """Per shown initiative: the change since its last decision, else since a week earlier."""
    changes = []
    for item in shown.initiatives:
        record = compare.baseline_decision(signoff.history(sign, item.id), ctx.as_of)
        then = None if record is None else record.as_of
        try:
            changes.append(change_since(frame, item.id, ctx.as_of, then))
        except LookupError:
            continue  # the first instant of the history: nothing before it to compare with
    return changes


def change_rows(changes: Sequence[Change]) -> pl.DataFrame:
    """The changes as a printable table: since when, verdict then and now, the score's change."""
    return pl.DataFrame(
        [
            {
                "initiative": c.name,
                "since": f"{fm.when(c.since)} ({c.basis})",
                "verdict then": fm.label(lb.VERDICT_LABEL, c.verdict_then),
                "verdict now": fm.label(lb.VERDICT_LABEL, c.verdict_now),
                "score then": fm.num(c.score_then, 1),
                "score now": fm.num(c.score_now, 1),
                "change": fm.NA if c.delta is None else f"{c.delta:+.1f}",
            }
            for c in changes
        ],
        schema=dict.fromkeys(
            ("initiative", "since", "verdict then", "verdict now", "score then", "score now",
             "change"),
            pl.String(),
        ),
    )  # fmt: skip
