"""The steering pack's content (pilotwatch/pack/content.py and friends), without rendering a PDF.

Hand-made portfolio: tests/cli_project.py at T = 2026-11-16T12:00Z, gate `pilot`, checks
`slos-defined` (slo_summary.defined >= 1) and `no-open-sev12` (incidents.open_sev12 == 0):
alpha go (score 100), beta no_go (open sev 2; score 50: 1 pass of 2 equal weights), gamma
conditional (open sev 1, waived until 2026-12-01; score 100). Alpha gets a hand-made plan:
overdue (due 2026-11-10), due soon (2026-12-01), planned (2027-03-01), done (2026-10-01).
The demo portfolio (config/ + data/demo) checks the words, the glyphs and the HTML structure.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from html.parser import HTMLParser
from itertools import pairwise

import pack_helpers
import pytest
from app_helpers import ROOT
from cli_project import write_project
from fontTools.ttLib import TTFont

from core.report import Outcome, Report
from pilotwatch import engine
from pilotwatch.audit.decisions import Condition, DecisionRecord
from pilotwatch.pack import PackInputs, content, gather, style
from pilotwatch.pack.definitions import appendix_terms
from pilotwatch.pack.render import html_of

T = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
PLAN = """
    milestones:
      - {name: Overdue step, due: 2026-11-10, owner: Ann Lee, done: false, horizon_days: 90}
      - {name: Soon step, due: 2026-12-01, owner: Bo Chen, done: false, horizon_days: 90}
      - {name: Later step, due: 2027-03-01, owner: Ann Lee, done: false, horizon_days: 180}
      - {name: Done step, due: 2026-10-01, owner: Ann Lee, done: true, horizon_days: 90}
"""


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> PackInputs:
    root = write_project(tmp_path_factory.mktemp("pack"))
    initiatives = root / "config" / "initiatives.yaml"
    text = initiatives.read_text()
    # alpha's block ends before "  - id: beta": the plan goes there
    initiatives.write_text(text.replace("\n  - id: beta", PLAN.rstrip("\n") + "\n  - id: beta"))
    return gather(engine.run(root / "config", T), None)


@pytest.fixture(scope="module")
def demo() -> PackInputs:
    return pack_helpers.demo_inputs()


@pytest.fixture(scope="module")
def demo_html() -> str:
    return pack_helpers.demo_html()


def _page(pack: content.Pack, name: str) -> content.InitiativePage:
    return next(p for p in pack.pages if p.name == name)


def _with(inputs: PackInputs, report: Report, **changes: object) -> PackInputs:
    return replace(inputs, report=report, **changes)  # type: ignore[arg-type]


def _texts(table: content.Table) -> list[list[str]]:
    """Each row's cells as text (a badge as its symbol and word, a link as its text)."""
    return [
        [c.text if isinstance(c, style.Badge | content.Link) else c for c in row]
        for row in table.rows
    ]


def test_formats() -> None:
    assert content.score_text(55.55555555555556) == "55.6"
    assert content.score_text(100.0) == "100.0"
    assert content.score_text(None) == "n/a"
    assert content.pct(0.99512, 3) == "99.512%"
    assert content.pct(-5.518) == "-551.8%"
    assert content.when(T) == "2026-11-16 12:00 UTC"


def test_cover_as_of_and_verdict_counts(small: PackInputs) -> None:
    cover = content.build(small).cover
    assert cover.as_of == "Portfolio as of 2026-11-16 12:00 (UTC)"
    assert [(b.text, n) for b, n in cover.counts] == [
        ("✓ GO", 1),
        ("⚠ CONDITIONAL", 1),
        ("✗ NO-GO", 1),
    ]
    assert _texts(cover.portfolio)[1] == [
        "Beta",
        "✗ NO-GO",
        "50.0",
        "1",
        "discovery",
        "pilot",
        "owner-beta",
    ]
    assert cover.portfolio.rows[1][0] == content.Link("Beta", "#initiative-beta")


def test_every_blocker_with_its_remediation_and_whose_owner(small: PackInputs) -> None:
    page = _page(content.build(small), "Beta")
    assert page.verdict.text == "✗ NO-GO" and page.score == "50.0"
    # the gate check has no owner: the initiative owner, saying so
    assert _texts(page.blockers) == [
        ["no-open-sev12", "Resolve open sev 1-2 incidents", "owner-beta (initiative owner)"]
    ]
    # with a check owner, the check's owner
    beta = small.report.initiative("beta")
    assert beta is not None
    checks = [
        c.model_copy(update={"owner": "Ops Lead"}) if c.id == "no-open-sev12" else c
        for c in beta.readiness.checks
    ]
    owned = beta.model_copy(
        update={"readiness": beta.readiness.model_copy(update={"checks": checks})}
    )
    report = small.report.model_copy(update={"initiatives": [owned]})
    page = content.build(_with(small, report)).pages[0]
    assert _texts(page.blockers)[0][2] == "Ops Lead (check owner)"
    assert _page(content.build(small), "Alpha").blockers.rows == ()


def test_gate_checklist_rows(small: PackInputs) -> None:
    page = _page(content.build(small), "Gamma")
    assert [c.title for c in page.checklist.columns] == [
        "Check",
        "Metric",
        "Value",
        "Rule",
        "Outcome",
        "Kind",
        "Waiver",
    ]
    assert _texts(page.checklist) == [
        ["slos-defined", "slo_summary.defined", "1", ">= 1", "✓ pass", "blocking", "—"],
        [
            "no-open-sev12",
            "incidents.open_sev12",
            "1",
            "== 0",
            "◐ waived",
            "blocking",
            "vendor fix scheduled (approved by CMIO, until 2026-12-01)",
        ],
    ]


def test_open_incidents_by_severity(small: PackInputs) -> None:
    # gamma: sev 1 opened 09:00, acknowledged 09:30, open at T
    page = _page(content.build(small), "Gamma")
    assert page.incidents == (
        "Open: sev 1: 1, sev 2: 0, sev 3: 0, sev 4: 0. MTTA 30 min, MTTR n/a; "
        "0 patient-impacting in the window."
    )


def test_suppressed_kpi_shows_under_the_small_cell_threshold(small: PackInputs) -> None:
    kpis = [
        Outcome(
            kpi="readmission_30d_rate",
            kind="clinical",
            value=None,
            target=0.12,
            baseline=0.15,
            unit="share",
            direction="lower",
            status="suppressed",
            period_end=T - timedelta(days=3),
        ),
        Outcome(
            kpi="turnaround",
            kind="operational",
            value=30.0,
            target=24.0,
            baseline=72.0,
            unit="hours",
            direction="lower",
            status="off_track",
            period_end=T - timedelta(days=3),
        ),
    ]
    alpha = small.report.initiatives[0].model_copy(update={"outcomes": kpis})
    report = small.report.model_copy(update={"initiatives": [alpha]})
    page = content.build(_with(small, report)).pages[0]
    assert _texts(page.outcomes) == [
        ["readmission 30d rate", "<11", "12.0%", "15.0%", "◐ suppressed"],
        ["turnaround (hours)", "30", "24", "72", "✗ off track"],
    ]


def test_milestones_with_overdue_flags(small: PackInputs) -> None:
    pack = content.build(small)
    assert _texts(_page(pack, "Alpha").milestones) == [
        ["90 days", "Done step", "2026-10-01", "✓ done", "Ann Lee"],
        ["90 days", "Overdue step", "2026-11-10, 6 days late", "✗ overdue", "Ann Lee"],
        ["90 days", "Soon step", "2026-12-01, in 15 days", "⏳ due soon", "Bo Chen"],
        ["180 days", "Later step", "2027-03-01, in 105 days", "○ planned", "Ann Lee"],
    ]
    # the cover: open milestones overdue or due within 30 days of T's date, owners shown
    assert _texts(pack.cover.milestones) == [
        ["✗ overdue", "Alpha", "Overdue step", "2026-11-10, 6 days late", "Ann Lee"],
        ["⏳ due soon", "Alpha", "Soon step", "2026-12-01, in 15 days", "Bo Chen"],
    ]


def _decision(inputs: PackInputs, iid: str, **changes: object) -> DecisionRecord:
    item = inputs.report.initiative(iid)
    assert item is not None
    frozen = item.model_dump(mode="json", by_alias=True)
    frozen["readiness"] = {**frozen["readiness"], **changes}
    return DecisionRecord(
        seq=7,
        at=datetime(2026, 11, 10, 9, 30, tzinfo=UTC),
        hash="h",
        initiative=iid,
        gate="pilot",
        outcome="accept_with_conditions",
        approver="cmio@example.org",
        approver_subject="s",
        approver_authenticated=True,
        rationale="Go ahead once the queue is fixed.",
        conditions=(
            Condition("Waive or fix sev 1", "Ops Lead", date(2026, 12, 1), "no-open-sev12"),
            Condition("Queue runbook", "Ops Lead", date(2026, 11, 1)),
            Condition("Pager drill", "Ops Lead", date(2026, 12, 20)),
        ),
        as_of=datetime(2026, 11, 9, 12, 0, tzinfo=UTC),
        report_hash="r",
        config_hash="c",
        data_fingerprint="d",
        report=frozen,
    )


def test_what_changed_since_the_last_decision(small: PackInputs) -> None:
    # beta was GO with score 100 at its decision; now NO-GO at 50
    record = _decision(small, "beta", verdict="go", score=100.0, blockers=[], blocker_count=0)
    cover = content.build(replace(small, decisions=(record,))).cover
    assert [(c.initiative, c.items) for c in cover.changes] == [
        ("Beta", ("Verdict from ✓ GO to ✗ NO-GO.", "Score from 100.0 to 50.0 (-50.0)."))
    ]
    assert cover.changes[0].since == (
        "since the decision of 2026-11-10 (accept with conditions, by cmio@example.org; "
        "its report as of 2026-11-09 12:00 UTC)"
    )
    assert cover.undecided == "No recorded decision yet: Alpha, Gamma."


def test_a_decision_after_the_as_of_is_no_baseline(small: PackInputs) -> None:
    later = replace(_decision(small, "beta"), as_of=T + timedelta(days=1))
    cover = content.build(replace(small, decisions=(later,))).cover
    assert cover.changes == ()
    assert cover.undecided == "No recorded decision yet: Alpha, Beta, Gamma."


def test_what_changed_since_a_chosen_baseline(small: PackInputs) -> None:
    gamma = small.report.initiatives[2]
    before = gamma.model_copy(
        update={"readiness": gamma.readiness.model_copy(update={"score": 80.0})}
    )
    baseline = small.report.model_copy(
        update={"as_of": T - timedelta(days=28), "initiatives": [before]}
    )
    cover = content.build(replace(small, baseline=baseline)).cover
    assert [(c.initiative, c.items) for c in cover.changes] == [
        ("Alpha", ("New since the baseline.",)),
        ("Beta", ("New since the baseline.",)),
        ("Gamma", ("Score from 80.0 to 100.0 (+20.0).",)),
    ]
    assert {c.since for c in cover.changes} == {"since the report as of 2026-10-19 12:00 UTC"}
    assert cover.undecided == ""


def test_last_decision_with_each_conditions_status(small: PackInputs) -> None:
    record = _decision(small, "gamma")
    page = _page(content.build(replace(small, decisions=(record,))), "Gamma")
    assert page.decision is not None
    assert page.decision.summary == (
        "Accept with conditions (pilot gate), by cmio@example.org on 2026-11-10, on the "
        "report as of 2026-11-09 12:00 UTC (audit entry #7)."
    )
    assert page.decision.rationale == "Go ahead once the queue is fixed."
    # no-open-sev12 is waived at T: met; 2026-11-01 is past: overdue; 2026-12-20: open
    assert _texts(page.decision.conditions) == [
        ["Waive or fix sev 1", "Ops Lead", "2026-12-01", "✓ met"],
        ["Queue runbook", "Ops Lead", "2026-11-01", "✗ overdue"],
        ["Pager drill", "Ops Lead", "2026-12-20", "○ open"],
    ]
    assert _page(content.build(small), "Gamma").decision is None


def test_trend_in_words(small: PackInputs) -> None:
    beta = small.report.initiatives[1]

    def at(days: int, score: float, verdict: str) -> Report:
        item = beta.model_copy(
            update={
                "readiness": beta.readiness.model_copy(update={"score": score, "verdict": verdict})
            }
        )
        return small.report.model_copy(
            update={"as_of": T - timedelta(days=days), "initiatives": [item]}
        )

    history = (at(14, 100.0, "go"), at(7, 75.0, "conditional"), at(2, 60.0, "conditional"))
    page = _page(content.build(replace(small, history=history)), "Beta")
    # the newest instant a week or more before T is T - 7 days
    assert page.trend == (
        "Score 50.0 (✗ NO-GO) now; 75.0 (⚠ CONDITIONAL) on 2026-11-09, 7 days before; "
        "4 instants since 2026-11-02."
    )
    assert _page(content.build(small), "Beta").trend == ""


def test_long_lists_are_shortened_with_a_count(small: PackInputs) -> None:
    from core.report import Gap

    alpha = small.report.initiatives[0]
    gaps = [Gap(control=f"control-{n}", status="missing") for n in range(9)]
    compliance = alpha.compliance.model_copy(update={"gaps": gaps, "gap_count": 9})
    report = small.report.model_copy(
        update={"initiatives": [alpha.model_copy(update={"compliance": compliance})]}
    )
    page = content.build(_with(small, report)).pages[0]
    assert len(page.gaps.rows) == content.LIMITS["gaps"] == 6
    assert page.gaps.more == "… and 3 more gaps (the app lists every one)."
    # no evidence owner: the initiative owner, marked, and the note says what the mark means
    assert _texts(page.gaps)[0] == ["control-0", "✗ missing", "owner-alpha*", "no evidence"]
    assert "* the initiative owner" in page.compliance_note


def test_humane_labels_and_no_broken_words(demo: PackInputs, demo_html: str) -> None:
    text = _visible_text(demo_html)
    assert "limited production" in text and "limited_production" not in text
    assert "hyphens: manual" in demo_html and "overflow-wrap: normal" in demo_html
    assert "word-break: normal" in demo_html


def test_every_appendix_term_is_defined_in_docs_metrics() -> None:
    doc = (ROOT / "docs" / "metrics.md").read_text()
    defined = set()
    defined |= {m.lower() for m in re.findall(r"^#+ (.+)$", doc, flags=re.M)}
    defined |= {m.lower() for m in re.findall(r"\*\*([^*]+)\*\*", doc)}
    defined |= {m.lower() for m in re.findall(r"`([^`]+)`", doc)}
    defined |= {m.strip().lower() for m in re.findall(r"^\| ([^|]+)\|", doc, flags=re.M)}
    missing = [d.doc_term for d in appendix_terms() if d.doc_term.lower() not in defined]
    assert missing == []
    assert len(appendix_terms()) >= 30


def test_every_glyph_is_in_the_bundled_fonts(demo_html: str) -> None:
    """No character falls back to a system font (the PDF would differ between machines)."""
    covered: set[int] = set()
    for _, _, name in style.FONT_FACES:
        covered |= set(TTFont(style.FONT_DIR / name).getBestCmap())
    text = _visible_text(demo_html)
    missing = sorted({ch for ch in text if ord(ch) not in covered and not ch.isspace()})
    assert missing == []


class _Structure(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        self.tags.append(("/" + tag, {}))
        self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def _parse(html: str) -> _Structure:
    parser = _Structure()
    parser.feed(html)
    return parser


def _visible_text(html: str) -> str:
    return " ".join(_parse(html).text)


def test_html_headings_tables_figures_and_no_external_urls(
    demo: PackInputs, demo_html: str
) -> None:
    parsed = _parse(demo_html)
    tags = parsed.tags
    names = [t for t, _ in tags]
    assert demo_html.startswith('<!doctype html>\n<html lang="en">')
    assert names.count("title") == 1 and names.count("h1") == 1
    assert "script" not in names
    # one h2 per initiative (its name), after the cover's and before the appendix's
    h2_ids = [a.get("id") for t, a in tags if t == "h2"]
    expected = [f"initiative-{i.id}-title" for i in demo.report.initiatives]
    assert [i for i in h2_ids if i and i.startswith("initiative-")] == expected
    levels = [int(t[1]) for t in names if re.fullmatch(r"h[1-6]", t)]
    assert levels[0] == 1 and all(b - a <= 1 for a, b in pairwise(levels))
    ths = [a for t, a in tags if t == "th"]
    assert ths and all(a.get("scope") == "col" for a in ths)
    imgs = [a for t, a in tags if t == "img"]
    assert len(imgs) >= len(demo.report.initiatives)  # a burn-down each, and the cover's
    assert all(
        a.get("alt") and str(a.get("src")).startswith("data:image/svg+xml;base64,") for a in imgs
    )
    # each img sits in a figure with a caption
    assert names.count("figure") == len(imgs) == names.count("figcaption")
    for tag, attrs in tags:
        for key in ("src", "href"):
            value = attrs.get(key)
            if value is not None:
                assert value.startswith(("data:", "#")), (tag, key, value[:40])
    # base64 has no ":", so no URL hides in a data URI either
    assert "http://" not in demo_html and "https://" not in demo_html


def test_paper_sets_the_page_size(small: PackInputs) -> None:
    pack = content.build(small)
    assert "size: A4 portrait" in html_of(pack)
    assert "size: letter portrait" in html_of(replace(pack, paper="Letter"))
