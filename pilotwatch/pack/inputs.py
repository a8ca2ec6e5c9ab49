"""What a steering pack is made from (pure data; no rendering, no I/O but `gather`'s reads)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from core.report import Report
from pilotwatch.history import PACK_TREND_WEEKS

if TYPE_CHECKING:
    from core.models import Config
    from metrics.portfolio import Portfolio
    from pilotwatch.access import Identity
    from pilotwatch.audit.decisions import DecisionRecord
    from pilotwatch.audit.store import AuditLog
    from pilotwatch.engine import Run
    from pilotwatch.sources import LoadedData

Paper = Literal["A4", "Letter"]
TREND_WEEKS = PACK_TREND_WEEKS  # weeks of the pack's readiness trend (pilotwatch/history.py)


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


def trend_history(
    full: Config,
    data: LoadedData,
    as_of: datetime,
    identity: Identity,
    decided: Sequence[datetime] = (),
    weeks: int = TREND_WEEKS,
) -> list[Report]:
    """The trend's reports, oldest first: the Mondays of the last `weeks` weeks and the
    decisions' as-ofs (`decided`, of initiatives `identity` may see) before `as_of`.

    The as-of itself is the pack's own report, never computed a second time. Computed from the
    whole configuration and data, restricted to `identity` as the report itself is.
    """
    from pilotwatch.history import compute_visible_history, default_instants

    instants = [t for t in default_instants(as_of, weeks, decided) if t < as_of]
    return compute_visible_history(full, data, instants, identity)


__all__ = ["TREND_WEEKS", "PackInputs", "Paper", "gather", "trend_history"]
