"""Steering review: a printable page of verdicts, what changed, top risks, milestones, exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from core.report import Report, iso
from metrics import series
from pilotwatch.render import SUMMARY_HEADER, render_html, summary_rows
from pilotwatch.render import VERDICT_LABEL as REPORT_VERDICT
from pilotwatch.report import compare, dumps
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.context import Context, context

COMPARE_DAYS = 28  # the default "last review": four weeks before the as-of
# the status words of each "what changed" list (before/after/status columns)
CHANGE_LABELS = {
    "verdicts": lb.VERDICT_LABEL,
    "new_breaches": lb.SLO_LABEL,
    "recovered": lb.SLO_LABEL,
    "new_gaps": lb.CONTROL_LABEL,
    "closed_gaps": lb.CONTROL_LABEL,
}


def change_row(section: str, row: dict[str, Any]) -> dict[str, Any]:
    """One row of a "what changed" list as shown: labelled statuses, scores to one decimal."""
    shown: dict[str, Any] = {"initiative": row["name"]}
    for column, value in row.items():
        if column in ("initiative", "name"):
            continue
        if section == "scores":
            sign = "+" if column == "delta" else ""
            shown[column] = fm.NA if value is None else f"{value:{sign}.1f}"
        elif column in ("before", "after", "status"):
            shown[column] = fm.label(CHANGE_LABELS[section], value)
        else:
            shown[column] = value
    return shown


def verdicts(ctx: Context, shown: Report, ids: list[str]) -> None:
    """Verdict, score and blockers per shown initiative (the HTML report's table)."""
    st.subheader("Verdicts")
    frame = pl.DataFrame(summary_rows(shown), schema=SUMMARY_HEADER, orient="row")
    frame = frame.with_columns(
        pl.col("Verdict").replace_strict(
            {REPORT_VERDICT[v]: lb.VERDICT_LABEL[v] for v in lb.VERDICT_LABEL},
            default=pl.col("Verdict"),
        )
    )
    w.static_table(frame)  # static tables: every column and word fits, and they print


def what_changed(ctx: Context, shown: Report, ids: list[str]) -> None:
    """What changed since an earlier as-of (the last review by default)."""
    st.subheader("What changed")
    default_day = (ctx.as_of - timedelta(days=COMPARE_DAYS)).date()
    day = st.date_input(
        "Compared with the as-of of (UTC, same time of day)",
        value=default_day,
        key="compare_date",
        bind="query-params",
    )
    earlier = datetime.combine(day or default_day, ctx.as_of.timetz()).astimezone(UTC)
    if earlier >= ctx.as_of:
        st.warning("Pick a date before the as-of to see what changed.", icon="⚠️")
    else:
        before = ctx.report_at(earlier)
        diff = compare.diff_reports(
            before.model_copy(
                update={"initiatives": [i for i in before.initiatives if i.id in ids]}
            ),
            shown,
        )
        st.caption(f"From {iso(before.as_of)} to {iso(ctx.report.as_of)}.")
        sections = [
            ("verdicts", "Verdict changes"),
            ("scores", "Score changes"),
            ("new_breaches", "New SLO breaches"),
            ("new_gaps", "New or changed compliance gaps"),
            ("recovered", "SLOs no longer breached"),
            ("closed_gaps", "Closed compliance gaps"),
            ("new_initiatives", "New initiatives"),
        ]
        # full width, one list after the other: the widest rows fit, and the page prints
        empty = [title for key, title in sections if not diff[key]]
        for key, title in sections:
            if diff[key]:
                st.markdown(f"**{title}**")
                w.static_table(
                    pl.DataFrame(
                        [change_row(key, row) for row in diff[key]], infer_schema_length=None
                    )
                )
        if empty:
            st.caption("Nothing to list under: " + "; ".join(empty) + ".")


def top_risks(ctx: Context, shown: Report, ids: list[str]) -> None:
    """The ten highest-ranked open risk signals of the shown initiatives."""
    st.subheader("Top risks")
    risks = compare.top_risks(ctx.report, limit=10, ids=ids)
    if not risks:
        st.success("No open risk signals for the shown initiatives.", icon="✅")
    else:
        w.static_table(
            pl.DataFrame(risks).select(
                pl.col("name").alias("initiative"),
                pl.col("verdict").replace_strict(lb.VERDICT_LABEL),
                pl.col("title").alias("risk"),
                pl.col("detail").alias("what to do"),
                "owner",
            )
        )
        st.caption(
            "Ranked: patient impact, gate blockers, paging burn rates, breached SLOs and open "
            "sev 1-2, compliance gaps, expiring waivers and stale data, undecided blocking checks."
        )


def milestones_due(ctx: Context, shown: Report, ids: list[str]) -> None:
    """Open milestones overdue or due within 90 days."""
    st.subheader("Milestones due")
    definitions = [ctx.config.initiative(i) for i in ids]
    milestones = series.milestone_table(definitions, ctx.as_of, horizon_days=90)
    due = milestones.filter(pl.col("state").is_in(["overdue", "due_soon"]))
    if milestones.height == 0:
        w.empty("milestones", "Add the 90/180/360-day plan to config/initiatives.yaml.")
    elif due.height == 0:
        st.caption("No open milestone is overdue or due within 90 days.")
    else:
        w.static_table(
            due.select(
                pl.col("state").replace_strict(lb.MILESTONE_LABEL).alias("state"),
                pl.col("name").alias("initiative"),
                "milestone",
                pl.col("due").dt.strftime("%Y-%m-%d").alias("due"),
                pl.col("days_to_due").alias("days to due"),
                "owner",
            )
        )


def downloads(ctx: Context, shown: Report, ids: list[str]) -> None:
    """The report JSON, the verdicts CSV and the printable HTML of the shown initiatives."""
    st.subheader("Downloads")
    stamp = iso(ctx.report.as_of).replace(":", "").replace("-", "")
    scope = "shown initiatives" if ctx.filters_active else "the whole portfolio"
    cols = st.columns(3)
    cols[0].download_button(
        "Report JSON (schema 1)",
        dumps(shown),
        file_name=f"pilotwatch-report-{stamp}.json",
        mime="application/json",
        help=f"The same JSON as `pilotwatch report --json`, for {scope}.",
        key="download_json",
    )
    cols[1].download_button(
        "Verdicts CSV",
        pl.DataFrame(summary_rows(shown), schema=SUMMARY_HEADER, orient="row").write_csv(),
        file_name=f"pilotwatch-verdicts-{stamp}.csv",
        mime="text/csv",
        key="download_csv",
    )
    cols[2].download_button(
        "Printable HTML report",
        render_html(shown),
        file_name=f"pilotwatch-steering-{stamp}.html",
        mime="text/html",
        key="download_html",
    )


def narrowed(ctx: Context) -> tuple[Report, list[str]]:
    """The report narrowed to the initiatives that pass the sidebar filters, and their ids."""
    items = ctx.items
    return ctx.report.model_copy(update={"initiatives": items}), [i.id for i in items]


def render(ctx: Context) -> None:
    """The steering review: verdicts, what changed, top risks, milestones, downloads."""
    w.header(ctx, "Steering review", "Go / Conditional / No-Go per stage gate, and what changed")
    st.caption(
        "To print: collapse the sidebar and use your browser's Print (Ctrl/Cmd+P), or download the "
        "printable HTML report at the bottom (the same document as `pilotwatch report --html`)."
    )
    if w.no_initiatives(ctx):
        return
    shown, ids = narrowed(ctx)
    for section in (verdicts, what_changed, top_risks, milestones_due, downloads):
        section(ctx, shown, ids)


render(context(__file__))
