"""The pack's appendix: every number and status it shows, defined in plain words.

Each definition names the term under which docs/metrics.md defines it (a heading, a **bold**
term, a `code` name or a table row's first cell); tests/test_pack_content.py checks that every
one of them is there, so the appendix and the contract never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    """One term of the appendix: as the pack shows it, in plain words, and its docs term."""

    term: str
    words: str
    doc_term: str


@dataclass(frozen=True)
class DefinitionGroup:
    """A titled group of definitions (one of docs/metrics.md's sections)."""

    title: str
    definitions: tuple[Definition, ...]


def _d(term: str, words: str, doc_term: str | None = None) -> Definition:
    return Definition(term, words, doc_term or term)


APPENDIX: tuple[DefinitionGroup, ...] = (
    DefinitionGroup(
        "Time and readiness",
        (
            _d(
                "As of",
                "Every number is computed as of one instant T (UTC, whole minutes); nothing at "
                "or after T counts, so the same data and T always give the same numbers.",
                "as-of instant T",
            ),
            _d(
                "Gate",
                "The stage the initiative is judged against: its next stage (production "
                "stays judged against the production gate).",
                "gate",
            ),
            _d(
                "Verdict",
                "NO-GO when a blocking check fails; CONDITIONAL when a blocking check is "
                "waived or has no data, or the score is below 70; otherwise GO.",
            ),
            _d(
                "Score",
                "100 × the weight of the passed and waived checks / the weight of every "
                "scored check (pass, fail, waived); n/a when no check could be scored.",
            ),
            _d(
                "Blockers",
                "Every failing blocking check, with its remediation and its owner (the "
                "check's owner, else the initiative owner).",
            ),
            _d(
                "Check outcome",
                "pass or fail by comparing the metric with the rule; no data when the metric "
                "is undefined; waived when it fails but an approved waiver is valid at T.",
            ),
        ),
    ),
    DefinitionGroup(
        "SLOs",
        (
            _d(
                "SLI",
                "The share of good requests (or good time slices) in the SLO's window.",
            ),
            _d(
                "Target",
                "The promised share of good requests; 1 − target is the error budget, the "
                "failure the promise allows.",
                "budget",
            ),
            _d(
                "Budget remaining",
                "How much of the allowed failure is still unspent: 100% untouched, 0% spent, "
                "negative overspent.",
                "budget remaining",
            ),
            _d(
                "SLO status",
                "no data (no events), breached (SLI below target), at risk (under 25% of the "
                "budget left, or a paging alert), otherwise healthy.",
                "status",
            ),
            _d(
                "Alerts",
                "Burn-rate alerts firing at T: page (wake someone up) or ticket (fix this "
                "week), with the long/short window pair that fired.",
                "alerts",
            ),
            _d(
                "Burn-down",
                "The budget remaining through the window, against the steady pace that would "
                "spend it exactly by its end; the line ends at the budget remaining.",
            ),
        ),
    ),
    DefinitionGroup(
        "Delivery (the four keys)",
        (
            _d(
                "Deploy days per week",
                "On a typical week (the median of the window's weeks), on how many days a "
                "production change shipped.",
                "deploy days per week (median)",
            ),
            _d(
                "Lead time",
                "The median hours from commit to production.",
                "lead time (median hours)",
            ),
            _d(
                "Change failure rate",
                "The share of production changes that were rolled back or linked to an incident.",
                "change failure rate",
            ),
            _d(
                "Time to restore",
                "The median hours from an incident opening to its resolution.",
                "recovery time (median hours)",
            ),
            _d(
                "Level and n",
                "The DORA 2023 level of each key (elite, high, medium, low); n is the number "
                "of events behind the value, and with fewer than 5 deployments no level is "
                "given (too few).",
                "Levels",
            ),
        ),
    ),
    DefinitionGroup(
        "Incidents",
        (
            _d(
                "Open by severity",
                "Incidents opened before T and not resolved before T, per severity (1 is the "
                "most severe).",
                "open_by_severity",
            ),
            _d(
                "MTTA",
                "The mean minutes to acknowledge an incident opened in the window.",
                "mtta_minutes",
            ),
            _d(
                "MTTR",
                "The mean hours to resolve an incident resolved in the window.",
                "mttr_hours",
            ),
            _d(
                "Patient-impacting",
                "Incidents opened in the window that affected patients.",
                "patient_impacting",
            ),
        ),
    ),
    DefinitionGroup(
        "Outcomes",
        (
            _d(
                "KPI value",
                "The latest observation before T: the value, or numerator / denominator "
                "when counts are given.",
            ),
            _d(
                "KPI target and baseline",
                "The value the initiative promised, and the value before it started, both "
                "as configured.",
                "baseline",
            ),
            _d(
                "KPI status",
                "on track when the value meets the target in its direction, off track when "
                "not, no data without an observation, suppressed for a small cell.",
                "KPI status",
            ),
            _d(
                "<11",
                "Small-cell suppression: a count-based value from fewer than 11 people (or "
                "a numerator of 1 to 10) is never shown or exported.",
                "Small-cell suppression",
            ),
            _d(
                "On-track share",
                "On-track KPIs / KPIs rated on track or off track.",
                "on_track_share",
            ),
        ),
    ),
    DefinitionGroup(
        "Compliance and data",
        (
            _d(
                "Coverage",
                "The share of required controls satisfied (ok or justified as not applicable).",
                "coverage",
            ),
            _d(
                "Gap",
                "A required control that is missing, failing, not applicable without a "
                "justification, or expired.",
                "gap_count",
            ),
            _d(
                "Expiring",
                "A control whose passing evidence expires within 30 days after T.",
                "expiring",
            ),
            _d(
                "Stale source",
                "A data source whose newest row is older than its freshness budget: "
                "decisions would use old data.",
                "stale",
            ),
        ),
    ),
    DefinitionGroup(
        "Plans, decisions and trend",
        (
            _d(
                "Milestone state",
                "done; overdue when not done and due before T's date; due soon when due "
                "within 30 days; otherwise planned.",
            ),
            _d(
                "Condition status",
                "A decision's condition is met while its gate check passes or is waived; "
                "otherwise overdue after its due date and open until then.",
            ),
            _d(
                "Readiness trend",
                "The score and verdict at each Monday of the last weeks, each decision's "
                "as-of and T, each exactly the report at that instant.",
                "The trend",
            ),
        ),
    ),
)


def appendix_terms() -> list[Definition]:
    """Every definition of the appendix, in order."""
    return [d for group in APPENDIX for d in group.definitions]
