"""Steering review: a printable page of verdicts, what changed, top risks, milestones, decisions
and exports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from core.report import InitiativeReport, Report, iso
from metrics import series
from pilotwatch.fingerprints import report_hash
from pilotwatch.pack import Paper
from pilotwatch.render import SUMMARY_HEADER, summary_rows
from pilotwatch.render import VERDICT_LABEL as REPORT_VERDICT
from pilotwatch.report import compare, dumps
from ui import formats as fm
from ui import labels as lb
from ui import pack, signoff, trends
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


BASELINES = {"decision": "each initiative's last decision", "date": "an earlier as-of"}
SECTIONS = [
    ("verdicts", "Verdict changes"),
    ("scores", "Score changes"),
    ("new_breaches", "New SLO breaches"),
    ("new_gaps", "New or changed compliance gaps"),
    ("recovered", "SLOs no longer breached"),
    ("closed_gaps", "Closed compliance gaps"),
    ("new_initiatives", "New initiatives"),
]


def decision_baselines(
    ctx: Context, sign: signoff.Signing, shown: Report
) -> dict[str, tuple[InitiativeReport, str]]:
    """Per shown initiative with a decision at or before the as-of: its frozen section, caption."""
    out: dict[str, tuple[InitiativeReport, str]] = {}
    for item in shown.initiatives:
        record = compare.baseline_decision(signoff.history(sign, item.id), ctx.as_of)
        if record is None:
            continue
        try:
            frozen = compare.frozen_initiative(record.report)
        except compare.FrozenReportError as exc:
            st.warning(f"{fm.plain(item.name)}: decision #{record.seq} not used ({exc}).")
            continue
        out[item.id] = (
            frozen,
            f"{item.name}: since the decision of {fm.when(record.at)} by {record.approver} "
            f"(its report as of {iso(record.as_of)})",
        )
    return out


def what_changed(
    ctx: Context, shown: Report, ids: list[str], sign: signoff.Signing
) -> Report | None:
    """What changed since each initiative's last decision, else since an earlier as-of.

    Returns the baseline an "earlier as-of" comparison chose (the steering pack compares with
    it too), or None: each initiative's last decision (the pack's default).
    """
    st.subheader("What changed")
    decided = decision_baselines(ctx, sign, shown)
    mode = "date"
    if decided:
        mode = (
            st.radio(
                "Compare with",
                list(BASELINES),
                format_func=BASELINES.__getitem__,
                horizontal=True,
                key="compare_with",
                bind="query-params",
            )
            or "decision"
        )
    if mode == "date":
        decided = {}
    default_day = (ctx.as_of - timedelta(days=COMPARE_DAYS)).date()
    day = st.date_input(
        "Compared with the as-of of (UTC, same time of day)"
        if not decided
        else "Initiatives without a decision: compared with the as-of of (UTC)",
        value=default_day,
        key="compare_date",
        bind="query-params",
    )
    earlier = datetime.combine(day or default_day, ctx.as_of.timetz()).astimezone(UTC)
    dated = [i for i in ids if i not in decided]
    before: Report | None = None
    if earlier >= ctx.as_of:
        st.warning("Pick a date before the as-of to see what changed.", icon="⚠️")
        dated = []
    elif dated:
        at_day = ctx.report_at(earlier)
        before = at_day.model_copy(
            update={"initiatives": [i for i in at_day.initiatives if i.id in dated]}
        )
    if not dated and not decided:
        return None
    frozen = {iid: pair[0] for iid, pair in decided.items()}
    baseline = compare.with_baselines(before, frozen, ctx.as_of)
    keep = set(dated) | set(decided)
    after = shown.model_copy(update={"initiatives": [i for i in shown.initiatives if i.id in keep]})
    diff = compare.diff_reports(baseline, after)
    for _, caption in decided.values():
        st.caption(fm.plain(caption) + ".")
    if before is not None:
        lead = "Initiatives without a decision: from" if decided else "From"
        st.caption(f"{lead} {iso(before.as_of)} to {iso(ctx.report.as_of)}.")
    # full width, one list after the other: the widest rows fit, and the page prints
    empty = [title for key, title in SECTIONS if not diff[key]]
    for key, title in SECTIONS:
        if diff[key]:
            st.markdown(f"**{title}**")
            w.static_table(
                pl.DataFrame([change_row(key, row) for row in diff[key]], infer_schema_length=None)
            )
    if empty:
        st.caption("Nothing to list under: " + "; ".join(empty) + ".")
    return before if mode == "date" else None


def since_last_review(ctx: Context, shown: Report, ids: list[str], sign: signoff.Signing) -> None:
    """Per shown initiative: score and verdict at its last decision (else a week earlier) and
    now; computed when opened."""
    box = st.expander(
        "Score and verdict since the last review", key="steering_trends", on_change="rerun"
    )
    if not box.open:  # the history is computed only when someone opens it
        return
    with box:
        changes = trends.review_changes(ctx, shown, sign, trends.history(ctx, sign))
        if not changes:
            st.caption("The history has no earlier instant to compare with.")
            return
        w.static_table(trends.change_rows(changes))
        st.caption(
            "Since each initiative's last decision at or before the as-of (its report as of "
            "that instant, recomputed from today's data), else since the newest instant of "
            "the readiness history a week or more before it (each Monday 00:00 UTC)."
        )


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


PAPERS = {"A4": "A4", "Letter": "US Letter"}
# (format, label, MIME type): the steering pack's two renderings (docs/steering-pack.md)
PACK_FILES = (
    ("pdf", "Steering pack (PDF)", "application/pdf"),
    ("html", "Steering pack (HTML)", "text/html"),
)


def downloads(
    ctx: Context,
    shown: Report,
    ids: list[str],
    sign: signoff.Signing,
    baseline: Report | None = None,
) -> None:
    """The report JSON, the verdicts CSV and the steering pack (PDF, HTML) of the shown
    initiatives.

    Each download is an export: its on_click logs an `export` entry in the audit log. The pack
    is rendered only when its button is clicked (a callable `data`), seconds for the PDF.
    """
    st.subheader("Downloads")
    stamp = iso(ctx.report.as_of).replace(":", "").replace("-", "")
    scope = "shown initiatives" if ctx.filters_active else "the whole portfolio"
    digest = report_hash(shown)  # the export entry names the report every file was made from
    base = {"what": "report", "report_hash": digest, "as_of": iso(shown.as_of), "initiatives": ids}
    files = [
        (
            "Report JSON (schema 1)",
            dumps(shown),
            f"pilotwatch-report-{stamp}.json",
            "application/json",
            f"The same JSON as `pilotwatch report --json`, for {scope}.",
            "download_json",
        ),
        (
            "Verdicts CSV",
            pl.DataFrame(summary_rows(shown), schema=SUMMARY_HEADER, orient="row").write_csv(),
            f"pilotwatch-verdicts-{stamp}.csv",
            "text/csv",
            None,
            "download_csv",
        ),
    ]
    for col, (label, data, name, mime, help_text, key) in zip(st.columns(3), files, strict=False):
        body = {**base, "format": key.removeprefix("download_"), "path": name}
        col.download_button(
            label,
            data,
            file_name=name,
            mime=mime,
            help=help_text,
            key=key,
            on_click=signoff.export_logger(sign, body),
        )
    st.markdown("**Steering pack**")
    st.caption(
        f"A board-ready pack of {scope}: a cover, one page per initiative and the definitions "
        "(the same document as `pilotwatch report --pdf/--html`; docs/steering-pack.md). "
        "It is prepared when you click, a few seconds for the PDF."
    )
    chosen = st.radio(
        "Paper", list(PAPERS), format_func=PAPERS.__getitem__, horizontal=True, key="pack_paper"
    )
    paper: Paper = "Letter" if chosen == "Letter" else "A4"
    key, source = pack.source(ctx, shown, ids, sign, baseline, paper)
    no_pdf = pack.pdf_unavailable()  # e.g. Pango missing: the HTML still works
    columns = st.columns(3)
    for col, (fmt, label, mime) in zip(columns, PACK_FILES, strict=False):
        name = f"pilotwatch-steering-{stamp}-{paper.lower()}.{fmt}"
        body = {**base, "format": fmt, "path": name}  # the name says the paper
        col.download_button(
            label,
            pack.file(key, source, fmt),
            file_name=name,
            mime=mime,
            key=f"download_{fmt}",
            on_click=signoff.export_logger(sign, body),
            disabled=fmt == "pdf" and no_pdf is not None,
            help=no_pdf if fmt == "pdf" else None,
        )
    if no_pdf is not None:
        st.caption(f"The PDF cannot be made on this server: {no_pdf}")


def decisions(ctx: Context, shown: Report, ids: list[str], sign: signoff.Signing) -> None:
    """Per shown initiative: its decision history and, for an approver, the decision form."""
    st.subheader("Decisions")
    for item in shown.initiatives:
        with st.container(border=True):
            st.markdown(f"#### {fm.plain(item.name)}")
            signoff.section(sign, item, "steering", expanded=False)


def narrowed(ctx: Context) -> tuple[Report, list[str]]:
    """The report narrowed to the initiatives that pass the sidebar filters, and their ids."""
    items = ctx.items
    return ctx.report.model_copy(update={"initiatives": items}), [i.id for i in items]


def render(ctx: Context) -> None:
    """The steering review: verdicts, what changed, risks, milestones, decisions, downloads."""
    w.header(ctx, "Steering review", "Go / Conditional / No-Go per stage gate, and what changed")
    st.caption(
        "To print: collapse the sidebar and use your browser's Print (Ctrl/Cmd+P), or download the "
        "steering pack at the bottom, as PDF or HTML (the same document as `pilotwatch report "
        "--pdf/--html`)."
    )
    if w.no_initiatives(ctx):
        return
    shown, ids = narrowed(ctx)
    sign = signoff.signing(ctx)
    verdicts(ctx, shown, ids)
    baseline = what_changed(ctx, shown, ids, sign)
    since_last_review(ctx, shown, ids, sign)
    for section in (top_risks, milestones_due):
        section(ctx, shown, ids)
    decisions(ctx, shown, ids, sign)
    downloads(ctx, shown, ids, sign, baseline)


render(context(__file__))
