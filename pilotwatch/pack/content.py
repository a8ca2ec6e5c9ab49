"""The pack's view-model: every page as plain records with every string already formatted.

Pure: `PackInputs` in, a `Pack` out, no rendering (the templates only lay these out), so the
words and numbers of the pack are unit-tested without a PDF (tests/test_pack_content.py). The
numbers are the report's own (docs/metrics.md); nothing here recomputes a metric.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from core.report import InitiativeReport, Report
from pilotwatch.pack import style
from pilotwatch.pack.charts import Figure
from pilotwatch.pack.definitions import APPENDIX, DefinitionGroup
from pilotwatch.pack.style import Badge
from pilotwatch.render import fmt

if TYPE_CHECKING:
    from pilotwatch.pack.inputs import PackInputs

NA = "n/a"
DASH = "—"
TITLE = "pilotwatch steering pack"
# the milestones the cover lists: overdue, or due within this many days of T's date
COVER_HORIZON_DAYS = 30
# at most this many rows of a list that can grow without bound, so every page fits one sheet;
# the table then says how many more there are (the app lists them all)
LIMITS = {"risks": 6, "cover_milestones": 8, "changes": 3, "gaps": 6, "expiring": 4}


@dataclass(frozen=True)
class Link:
    """A cell that links to an anchor of the pack (the PDF adds the page number)."""

    text: str
    href: str


Cell = str | Badge | Link


@dataclass(frozen=True)
class Column:
    """A table column: its header and how its cells set (`text`, `num`, `nowrap`)."""

    title: str
    kind: str = "text"


@dataclass(frozen=True)
class Table:
    """A table of formatted cells; `empty` is said instead when it has no rows, `more` under it."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    empty: str = ""
    more: str = ""


@dataclass(frozen=True)
class Change:
    """What changed for one initiative since its baseline, in sentences."""

    initiative: str
    since: str
    items: tuple[str, ...]


@dataclass(frozen=True)
class Cover:
    """The cover: as-of, verdict counts, portfolio, what changed, top risks, milestones."""

    title: str
    as_of: str
    scope: str
    counts: tuple[tuple[Badge, int], ...]
    verdict_figure: Figure | None
    portfolio: Table
    changes: tuple[Change, ...]
    changes_note: str
    undecided: str
    risks: Table
    milestones: Table


@dataclass(frozen=True)
class DecisionView:
    """The initiative's last recorded decision and its conditions' status at T."""

    summary: str
    rationale: str
    conditions: Table


@dataclass(frozen=True)
class InitiativePage:
    """One initiative's page: verdict, blockers, checklist and every signal behind it."""

    anchor: str
    name: str
    facts: tuple[tuple[str, str], ...]
    verdict: Badge
    score: str
    blocker_count: int
    blockers: Table
    checklist: Table
    slo_figure: Figure | None
    slos: Table
    delivery: Table
    incidents: str
    outcomes: Table
    outcomes_note: str
    compliance_note: str
    gaps: Table
    expiring: Table
    milestones: Table
    trend_figure: Figure | None
    trend: str
    decision: DecisionView | None


@dataclass(frozen=True)
class Appendix:
    """Every number's definition in plain words (pilotwatch/pack/definitions.py)."""

    groups: tuple[DefinitionGroup, ...]

    @property
    def columns(self) -> tuple[tuple[DefinitionGroup, ...], tuple[DefinitionGroup, ...]]:
        """The groups in two columns of about equal length (by number of definitions)."""
        sizes = [len(g.definitions) + 1 for g in self.groups]
        half, running, cut = sum(sizes) / 2, 0, len(self.groups)
        for n, size in enumerate(sizes):
            if running + size / 2 > half:
                cut = n
                break
            running += size
        return self.groups[:cut], self.groups[cut:]


@dataclass(frozen=True)
class Pack:
    """The whole pack: what the templates render, once as HTML and once typeset as PDF."""

    title: str
    as_of_iso: str
    as_of_text: str
    paper: str
    cover: Cover
    pages: tuple[InitiativePage, ...]
    appendix: Appendix


# ---------------------------------------------------------------- formats


def score_text(score: float | None) -> str:
    """A readiness score as the pack writes it: one decimal (`55.6`, `100.0`), `n/a` when null."""
    return NA if score is None else f"{score:.1f}"


def pct(value: float | None, digits: int = 1) -> str:
    """A share as a percentage (`99.512%`); `n/a` when null."""
    return NA if value is None else f"{value:.{digits}%}"


def num(value: Any, digits: int = 3) -> str:
    """A number for people (trimmed, as the app writes it); `n/a` when null."""
    return fmt(value, digits)


def day(value: date | datetime | None) -> str:
    """A date, or an instant's UTC date, as `YYYY-MM-DD`; `—` when null."""
    if value is None:
        return DASH
    if isinstance(value, datetime):
        value = value.astimezone(UTC).date()
    return value.isoformat()


def when(value: datetime) -> str:
    """An instant as `2026-11-16 12:00 UTC`."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def anchor(initiative_id: str) -> str:
    """The HTML id of an initiative's page (ids are letters, digits, `_`, `-`, `.`)."""
    return f"initiative-{initiative_id}"


def verdict_badge(verdict: str) -> Badge:
    """GO / CONDITIONAL / NO-GO with its symbol."""
    return style.badge(style.VERDICT, verdict)


def owner_of(check_owner: str | None, initiative_owner: str) -> str:
    """Who owns a check's remediation, saying whose owner it is."""
    if check_owner and check_owner.strip():
        return f"{check_owner} (check owner)"
    return f"{initiative_owner} (initiative owner)"


def more_text(left_out: int, what: str) -> str:
    """The line under a shortened table: how many rows were left out."""
    return f"… and {left_out} more {what} (the app lists every one)." if left_out > 0 else ""


def cols(*spec: str) -> tuple[Column, ...]:
    """Columns from `title` or `title:kind` strings."""
    out = []
    for text in spec:
        title, _, kind = text.partition(":")
        out.append(Column(title, kind or "text"))
    return tuple(out)


# ---------------------------------------------------------------- the pack


def build(inputs: PackInputs) -> Pack:
    """The pack's content from its inputs (every string formatted; nothing rendered)."""
    from pilotwatch.pack.cover import build_cover
    from pilotwatch.pack.initiative import build_page

    report = inputs.report
    return Pack(
        title=f"Steering pack as of {when(report.as_of)}",
        as_of_iso=_w3c(report.as_of),
        as_of_text=when(report.as_of),
        paper=inputs.paper,
        cover=build_cover(inputs),
        pages=tuple(build_page(inputs, item) for item in report.initiatives),
        appendix=Appendix(APPENDIX),
    )


def _w3c(value: datetime) -> str:
    """An instant as a W3C date-time (`2026-11-16T12:00:00Z`), as PDF metadata reads it."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def visible(reports: Sequence[Report], ids: set[str]) -> list[Report]:
    """Reports narrowed to the initiatives `ids` (the pack shows no other initiative)."""
    return [
        r.model_copy(update={"initiatives": [i for i in r.initiatives if i.id in ids]})
        for r in reports
    ]


def initiative_in(report: Report, initiative_id: str) -> InitiativeReport | None:
    """The initiative's block in `report`, or None."""
    return report.initiative(initiative_id)
