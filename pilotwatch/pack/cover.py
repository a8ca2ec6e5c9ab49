"""The pack's cover: portfolio as of T, verdict counts, what changed, top risks, milestones due.

What changed compares with `inputs.baseline` when one is given, else with each initiative's
last recorded decision at or before T (its frozen report section, docs/governance.md); the top
risks are `compare.top_risks`; the milestones are `series.milestone_table` at a 30-day horizon.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from core.report import InitiativeReport, Report
from metrics import series
from pilotwatch.audit.decisions import DecisionRecord
from pilotwatch.pack import style
from pilotwatch.pack.charts import cover_figures
from pilotwatch.pack.content import (
    COVER_HORIZON_DAYS,
    LIMITS,
    Change,
    Cover,
    Link,
    Table,
    anchor,
    cols,
    day,
    more_text,
    score_text,
    verdict_badge,
    when,
)
from pilotwatch.pack.inputs import PackInputs
from pilotwatch.report import compare

NO_DECISION = "no recorded decision yet"
NO_CHANGE = "No change in verdict, score, SLO breaches or compliance gaps."


def build_cover(inputs: PackInputs) -> Cover:
    """The cover of the pack."""
    report = inputs.report
    items = report.initiatives
    counts = tuple(
        (verdict_badge(v), sum(1 for i in items if i.readiness.verdict == v))
        for v in ("go", "conditional", "no_go")
    )
    changes, note = what_changed(inputs)
    undecided = [c.initiative for c in changes if c.since == NO_DECISION]
    n = len(items)
    return Cover(
        title="Steering pack",
        as_of=f"Portfolio as of {when(report.as_of).removesuffix(' UTC')} (UTC)",
        scope=f"{n} initiative{'' if n == 1 else 's'}, one page each, then the definitions.",
        counts=counts,
        verdict_figure=cover_figures(inputs).verdicts,
        portfolio=portfolio_table(items),
        changes=tuple(c for c in changes if c.since != NO_DECISION),
        changes_note=note,
        undecided=f"{NO_DECISION.capitalize()}: {', '.join(undecided)}." if undecided else "",
        risks=risks_table(report),
        milestones=milestones_table(inputs),
    )


def portfolio_table(items: Sequence[InitiativeReport]) -> Table:
    """One row per initiative: verdict, score, blockers, stage and gate, owner."""
    rows = tuple(
        (
            Link(i.name, "#" + anchor(i.id)),
            verdict_badge(i.readiness.verdict),
            score_text(i.readiness.score),
            str(i.readiness.blocker_count),
            style.humane(i.stage),
            style.humane(i.gate),
            i.owner,
        )
        for i in items
    )
    return Table(
        cols("Initiative", "Verdict:nowrap", "Score:num", "Blockers:num", "Stage", "Gate", "Owner"),
        rows,
        empty="No initiative is visible to this identity.",
    )


# ---------------------------------------------------------------- what changed


def _decision_baselines(
    inputs: PackInputs,
) -> tuple[dict[str, tuple[InitiativeReport, DecisionRecord]], list[str]]:
    """Per initiative: its last decision at or before T, read back; and notes on unusable ones."""
    report = inputs.report
    out: dict[str, tuple[InitiativeReport, DecisionRecord]] = {}
    notes = []
    for item in report.initiatives:
        mine = [d for d in inputs.decisions if d.initiative == item.id]
        record = compare.baseline_decision(mine, report.as_of)
        if record is None:
            continue
        try:
            out[item.id] = (compare.frozen_initiative(record.report), record)
        except compare.FrozenReportError as exc:
            notes.append(f"{item.name}: decision #{record.seq} not used ({exc}).")
    return out, notes


def _grouped(diff: dict[str, list[dict[str, Any]]]) -> dict[str, list[str]]:
    """The diff's entries as sentences, per initiative id, in the diff's order."""
    out: dict[str, list[str]] = {}

    def say(iid: str, text: str) -> None:
        out.setdefault(iid, []).append(text)

    for row in diff["verdicts"]:
        before, after = verdict_badge(row["before"]).text, verdict_badge(row["after"]).text
        say(row["initiative"], f"Verdict from {before} to {after}.")
    for row in diff["scores"]:
        delta = row["delta"]
        moved = "" if delta is None else f" ({delta:+.1f})"
        say(
            row["initiative"],
            f"Score from {score_text(row['before'])} to {score_text(row['after'])}{moved}.",
        )
    for row in diff["new_breaches"]:
        say(row["initiative"], f"SLO {row['slo']} newly breached.")
    for row in diff["recovered"]:
        now = style.badge(style.SLO, row["after"]).word
        say(row["initiative"], f"SLO {row['slo']} no longer breached (now {now}).")
    for row in diff["new_gaps"]:
        status = style.badge(style.CONTROL, row["status"]).word
        was = "" if row["before"] is None else f" (was {style.humane(row['before'])})"
        say(row["initiative"], f"Control {row['control']} now {status}{was}.")
    for row in diff["closed_gaps"]:
        was = style.badge(style.CONTROL, row["before"]).word
        say(row["initiative"], f"Control {row['control']} no longer a gap (was {was}).")
    for row in diff["new_initiatives"]:
        say(row["initiative"], "New since the baseline.")
    return out


def _shorten(items: list[str]) -> tuple[str, ...]:
    limit = LIMITS["changes"]
    if len(items) <= limit:
        return tuple(items)
    return (*items[: limit - 1], f"… and {len(items) - limit + 1} more.")


def what_changed(inputs: PackInputs) -> tuple[tuple[Change, ...], str]:
    """Per initiative: what changed since the chosen baseline or its last decision; a note."""
    report = inputs.report
    if inputs.baseline is not None:
        base = inputs.baseline
        grouped = _grouped(compare.diff_reports(base, report))
        since = f"since the report as of {when(base.as_of)}"
        changes = tuple(
            Change(i.name, since, _shorten(grouped.get(i.id, [])) or (NO_CHANGE,))
            for i in report.initiatives
        )
        return changes, f"Compared with the chosen baseline, the report as of {when(base.as_of)}."
    decided, notes = _decision_baselines(inputs)
    frozen = {iid: pair[0] for iid, pair in decided.items()}
    after = report.model_copy(
        update={"initiatives": [i for i in report.initiatives if i.id in frozen]}
    )
    base = compare.with_baselines(None, frozen, report.as_of)
    grouped = _grouped(compare.diff_reports(base, after))
    out = []
    for item in report.initiatives:
        if item.id not in decided:
            out.append(Change(item.name, NO_DECISION, ()))
            continue
        record = decided[item.id][1]
        since = (
            f"since the decision of {day(record.at)} ({style.humane(record.outcome)}, "
            f"by {record.approver}; its report as of {when(record.as_of)})"
        )
        out.append(Change(item.name, since, _shorten(grouped.get(item.id, [])) or (NO_CHANGE,)))
    note = "Since each initiative's last recorded decision at or before the as-of."
    return tuple(out), " ".join([note, *notes])


# ---------------------------------------------------------------- risks, milestones


def risks_table(report: Report) -> Table:
    """The most urgent risk signals (compare.top_risks), owners shown."""
    every = compare.top_risks(report, limit=len(report.initiatives) * 50 + 50)
    shown = every[: LIMITS["risks"]]
    rows = tuple(
        (r["name"], verdict_badge(r["verdict"]), r["title"], r["detail"] or "—", r["owner"])
        for r in shown
    )
    return Table(
        cols("Initiative", "Verdict:nowrap", "Risk", "What to do", "Owner"),
        rows,
        empty="No open risk signal.",
        more=more_text(len(every) - len(shown), "risks"),
    )


def milestones_table(inputs: PackInputs) -> Table:
    """Open milestones overdue or due within 30 days of T's date, owners shown."""
    report = inputs.report
    known = {i.id for i in inputs.config.initiatives}
    definitions = [inputs.config.initiative(i.id) for i in report.initiatives if i.id in known]
    table = series.milestone_table(definitions, report.as_of, horizon_days=COVER_HORIZON_DAYS)
    due = table.filter(pl.col("state").is_in(["overdue", "due_soon"]))
    shown = due.head(LIMITS["cover_milestones"])
    rows = tuple(
        (
            style.badge(style.MILESTONE, r["state"]),
            r["name"],
            r["milestone"],
            due_text(r["due"], r["days_to_due"]),
            r["owner"],
        )
        for r in shown.iter_rows(named=True)
    )
    return Table(
        cols("State:nowrap", "Initiative", "Milestone", "Due", "Owner"),
        rows,
        empty=f"No open milestone is overdue or due within {COVER_HORIZON_DAYS} days.",
        more=more_text(due.height - shown.height, "milestones"),
    )


def due_text(due: Any, days_to_due: int) -> str:
    """`2026-12-11, in 25 days`, `2026-11-07, 9 days late`, `2026-11-16, today`."""
    if days_to_due == 0:
        return f"{day(due)}, today"
    if days_to_due < 0:
        late = -days_to_due
        return f"{day(due)}, {late} day{'' if late == 1 else 's'} late"
    return f"{day(due)}, in {days_to_due} day{'' if days_to_due == 1 else 's'}"
