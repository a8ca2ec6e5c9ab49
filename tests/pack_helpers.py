"""The demo portfolio's steering pack, made once per test session (the pack tests share it).

The demo data (config/ + data/demo, written when missing) as of its configured instant, every
initiative, with the fullest pages the pack has: a readiness history (the reports at the two
Mondays before, exactly as `pilotwatch history` computes them) and, on the three initiatives
with the most blockers, a decision with three conditions. The PDF is A4 (`render_pdf`) and
Letter (the same built pack typeset on the other paper, so its charts are drawn once).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import cache

from app_helpers import ROOT, ensure_demo

from pilotwatch import engine
from pilotwatch.audit.decisions import Condition, DecisionRecord
from pilotwatch.history import compute_history, mondays
from pilotwatch.pack import PackInputs, content, gather, render_pdf
from pilotwatch.pack.render import html_of

# the decided initiatives: the most blockers of the demo (the longest pages)
DECIDED = ("e-prescribing", "prior-auth", "remote-bp")


def _decision(inputs: PackInputs, iid: str, seq: int) -> DecisionRecord:
    item = inputs.report.initiative(iid)
    assert item is not None
    checks = [c.id for c in item.readiness.checks]
    as_of = inputs.report.as_of - timedelta(days=7)
    return DecisionRecord(
        seq=seq,
        at=as_of + timedelta(hours=2),
        hash=f"h{seq}",
        initiative=iid,
        gate=str(item.gate),
        outcome="accept_with_conditions",
        approver="steering@example.org",
        approver_subject="steering",
        approver_authenticated=True,
        rationale="Proceed once the error budget recovers and the compliance gaps are closed.",
        conditions=(
            Condition("Close every compliance gap", item.owner, date(2026, 12, 1), checks[0]),
            Condition("Canary releases for every change", item.owner, date(2026, 11, 1)),
            Condition("Disaster-recovery drill signed off", item.owner, date(2026, 12, 15)),
        ),
        as_of=as_of,
        report_hash="0" * 64,
        config_hash="0" * 64,
        data_fingerprint="0" * 64,
        report=item.model_dump(mode="json", by_alias=True),
    )


@cache
def demo_inputs() -> PackInputs:
    """The demo run's pack inputs, with a two-instant history and three decisions."""
    ensure_demo()
    run = engine.run(ROOT / "config")
    as_of = run.report.as_of
    instants = [m for m in mondays(as_of, 3) if m < as_of][-2:]
    history = compute_history(run.config, run.data, instants)
    inputs = gather(run, None, history=history)
    decided = tuple(_decision(inputs, iid, n) for n, iid in enumerate(DECIDED, start=1))
    return replace(inputs, decisions=decided)


@cache
def demo_pack() -> content.Pack:
    """The built pack (charts drawn once)."""
    return content.build(demo_inputs())


@cache
def demo_html() -> str:
    """The pack's HTML (A4)."""
    return html_of(demo_pack())


@cache
def demo_pdf(paper: str = "A4") -> bytes:
    """The pack's PDF: A4 through `render_pdf`, Letter from the same built pack."""
    from pilotwatch.fingerprints import report_hash
    from pilotwatch.pack.pdf import typeset

    if paper == "A4":
        return render_pdf(demo_inputs(), html=demo_html())
    html = html_of(replace(demo_pack(), paper=paper))
    return typeset(html, identifier=report_hash(demo_inputs().report))
