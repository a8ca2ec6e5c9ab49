"""What a steering pack is made from (pure data; no rendering, no I/O but `gather`'s reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from core.report import Report

if TYPE_CHECKING:
    from core.models import Config
    from metrics.portfolio import Portfolio
    from pilotwatch.audit.decisions import DecisionRecord
    from pilotwatch.audit.store import AuditLog
    from pilotwatch.engine import Run

Paper = Literal["A4", "Letter"]


@dataclass(frozen=True)
class PackInputs:
    """Everything one pack is rendered from; every part is already filtered for the caller.

    - `report`: the typed report of the initiatives the caller may see (and the sidebar shows);
    - `config`: the same initiatives' configuration (owners, milestones, controls, SLOs);
    - `portfolio`: the computed frames of that report (SLO minute buckets for burn-downs);
    - `decisions`: the recorded decisions of those initiatives, oldest first;
    - `history`: reports at earlier instants (pilotwatch.history), oldest first, or empty;
    - `baseline`: the report "what changed" compares against; None = each initiative's last
      recorded decision's frozen report (pilotwatch.report.compare.with_baselines);
    - `paper`: "A4" or "Letter".
    """

    report: Report
    config: Config
    portfolio: Portfolio
    decisions: Sequence[DecisionRecord] = ()
    history: Sequence[Report] = ()
    baseline: Report | None = None
    paper: Paper = "A4"


def gather(
    run: Run,
    log: AuditLog | None,
    *,
    paper: Paper = "A4",
    baseline: Report | None = None,
    history: Sequence[Report] = (),
) -> PackInputs:
    """The pack's inputs from an engine run (already restricted) and the audit log.

    The decisions are those of the report's initiatives only (oldest first), so a pack never
    names an initiative its reader may not see; `log` None means no decision is known.
    """
    from pilotwatch.audit.decisions import decisions

    shown = {item.id for item in run.report.initiatives}
    records = () if log is None else tuple(d for d in decisions(log) if d.initiative in shown)
    return PackInputs(
        report=run.report,
        config=run.config,
        portfolio=run.portfolio,
        decisions=records,
        history=tuple(history),
        baseline=baseline,
        paper=paper,
    )


__all__ = ["PackInputs", "Paper", "gather"]
