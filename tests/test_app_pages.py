"""Every dashboard page on the demo data: it runs, shows its key elements, and its numbers are
the report's (`engine.run`'s report as JSON, i.e. `pilotwatch report --json`)."""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from html import escape
from typing import Any

import pytest
from app_helpers import (
    ROOT,
    chart_data,
    charts,
    download,
    ensure_demo,
    frame,
    new_app,
    open_page,
    texts,
)
from pdf_tools import pdf_info, pdf_text

from pilotwatch import engine
from pilotwatch.audit.store import AuditLog
from pilotwatch.fingerprints import report_hash
from pilotwatch.render import SUMMARY_HEADER, summary_rows
from pilotwatch.report import Report, dumps
from ui import formats as fm
from ui import labels as lb
from ui import loaders

EARLIER = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
UNLINKED_COLUMNS = ["incident_id", "initiative", "severity", "title", "opened_at"]


@pytest.fixture(scope="module", autouse=True)
def _demo_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    ensure_demo()
    # an empty audit log of this module's own: a decision recorded by another test would make
    # the steering page compare with that decision instead of the earlier as-of
    audit = tmp_path_factory.mktemp("pages-audit") / "audit.sqlite"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(loaders.CONFIG_ENV, raising=False)
        mp.setenv("PILOTWATCH_AUDIT_URL", f"sqlite:///{audit}")
        yield


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    return engine.run(ROOT / "config").report.to_jsonable()


def _item(report: dict[str, Any], iid: str) -> dict[str, Any]:
    return next(i for i in report["initiatives"] if i["id"] == iid)


def _same(shown: Any, expected: Any) -> bool:
    """A displayed number equals the report's (null shows as NaN/None in a dataframe)."""
    if expected is None:
        return shown is None or (isinstance(shown, float) and math.isnan(shown))
    return shown == expected


def _ok(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_portfolio_matches_the_report(report: dict[str, Any]) -> None:
    at = new_app()
    at.run()
    _ok(at)
    assert [t.value for t in at.title] == ["Portfolio"]
    table = frame(at, "id", "score", "verdict")
    assert table["id"].tolist() == [i["id"] for i in report["initiatives"]]
    for row in table.to_dict("records"):
        item = _item(report, row["id"])
        readiness = item["readiness"]
        assert _same(row["score"], readiness["score"]), row["id"]
        assert row["verdict"] == lb.VERDICT_LABEL[readiness["verdict"]]
        assert row["open sev 1-2"] == item["incidents"]["open_sev12"]
        assert row["compliance gaps"] == item["compliance"]["gap_count"]
        assert row["stale sources"] == item["data"]["stale_sources"]
        assert row["SLOs breached"] == sum(s["status"] == "breached" for s in item["slos"])
        assert row["blockers"] == len(readiness["blockers"])
    # the blockers by name, with owner and area, in the table folded below it
    details = frame(at, "initiative", "blocking checks", "SLOs healthy", "SLOs no data")
    for row, item in zip(details.to_dict("records"), report["initiatives"], strict=True):
        blockers = item["readiness"]["blockers"]
        assert row["initiative"] == item["name"]
        assert row["blocking checks"] == (", ".join(b["check"] for b in blockers) or "—")
        assert row["SLOs no data"] == sum(s["status"] == "no_data" for s in item["slos"])
    # verdict tiles count the report's verdicts
    tiles = {m.label: int(m.value) for m in at.metric}
    for verdict, text in lb.VERDICT_LABEL.items():
        assert tiles[text] == sum(
            i["readiness"]["verdict"] == verdict for i in report["initiatives"]
        )
    # the reason behind each verdict is one click away: an expander per initiative
    titles = [e.label for e in at.expander if " · score " in e.label]
    assert len(titles) == len(report["initiatives"])
    no_go = next(i for i in report["initiatives"] if i["readiness"]["verdict"] == "no_go")
    expander = next(e for e in at.expander if no_go["name"] in e.label)
    body = " ".join(texts(expander.markdown))
    for blocker in no_go["readiness"]["blockers"]:
        assert fm.plain(blocker["check"]) in body
    # heatmap + funnel, with tooltips and the colour-blind-safe palette
    specs = charts(at)
    assert len(specs) == 2
    spec_text = json.dumps(specs)
    assert "tooltip" in spec_text and lb.OKABE["vermillion"] in spec_text


def test_initiative_checklist_shows_blockers_remediation_and_owners(
    report: dict[str, Any],
) -> None:
    item = next(i for i in report["initiatives"] if i["readiness"]["blockers"])
    at = new_app(initiative=item["id"])
    open_page(at, "initiative")
    _ok(at)
    assert at.selectbox(key="initiative").value == item["id"]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Score"] == fm.num(item["readiness"]["score"], 1)
    assert metrics["Gate verdict"] == lb.VERDICT_LABEL[item["readiness"]["verdict"]]
    checklist = frame(at, "outcome", "check", "value", "owner")
    assert checklist["check"].tolist() == [ch["id"] for ch in item["readiness"]["checks"]]
    for row, check in zip(checklist.to_dict("records"), item["readiness"]["checks"], strict=True):
        assert row["outcome"] == lb.OUTCOME_LABEL[check["outcome"]]
        assert _same(row["value"], check["value"])
        assert row["owner"] == check["owner"]
    # every check that does not pass, with its remediation in full (a wrapping table)
    todo = frame(at, "outcome", "check", "remediation", "waiver")
    open_checks = [ch for ch in item["readiness"]["checks"] if ch["outcome"] != "pass"]
    assert todo["check"].tolist() == [ch["id"] for ch in open_checks]
    assert todo["remediation"].tolist() == [ch["remediation"] for ch in open_checks]
    errors = texts(at.error)
    assert len(errors) == len(item["readiness"]["blockers"])
    for blocker, text in zip(item["readiness"]["blockers"], errors, strict=True):
        assert fm.plain(blocker["remediation"]) in text
    # SLO cards carry the report's budget remaining; milestones chart is on the page
    shown = [m.value for m in at.metric if m.label == "Error budget remaining"]
    assert shown == [fm.pct(s["budget_remaining"]) for s in item["slos"]]
    assert len(charts(at)) == 1  # the milestone timeline
    controls = frame(at, "control", "title", "expiry")
    assert len(controls) == item["compliance"]["required"]


def test_slos_sorted_by_budget_with_report_numbers(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "slos")
    _ok(at)
    table = frame(at, "slo", "budget remaining", "status")
    slos = {s["name"]: s for i in report["initiatives"] for s in i["slos"]}
    assert sorted(table["slo"]) == sorted(slos)
    values = [slos[name]["budget_remaining"] for name in table["slo"]]
    known = [v for v in values if v is not None]
    assert known == sorted(known) and values[: len(known)] == known  # nulls last
    for row in table.to_dict("records"):
        slo = slos[row["slo"]]
        assert _same(row["budget remaining"], slo["budget_remaining"])
        assert row["status"] == lb.SLO_LABEL[slo["status"]]
    # the first SLO (least budget) is selected: its cards, burn-down and alert pairs
    first = slos[table["slo"].iloc[0]]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Budget remaining"] == fm.pct(first["budget_remaining"])
    burn_down = chart_data(at, 0)[0]
    assert burn_down["budget_remaining"][-1] == pytest.approx(first["budget_remaining"])
    # deployments are drawn on the SLI chart, with their ids in the tooltip
    assert "deploy_id" in json.dumps(charts(at)[1])
    pairs = frame(at, "alert", "severity", "long window", "short window")
    firing = {(a["severity"], a["long"], a["short"]) for a in first["alerts"]}
    for row in pairs.to_dict("records"):
        key = (row["severity"], row["long window"], row["short window"])
        assert (row["alert"] == "🔥 FIRING") == (key in firing)
        assert _same(row["burn (long)"], first["burn_rates"][row["long window"]])


def test_slo_page_warns_on_low_traffic(report: dict[str, Any]) -> None:
    low = [s for i in report["initiatives"] for s in i["slos"] if s["low_traffic"]]
    if not low:
        pytest.skip("the demo has no low-traffic SLO")
    at = new_app(slo=low[0]["name"])
    open_page(at, "slos")
    _ok(at)
    assert any("Low traffic" in w for w in texts(at.warning))
    assert fm.pct(low[0]["one_bad_event_budget_share"]) in " ".join(texts(at.warning))


def test_delivery_four_keys_and_unlinked_incidents(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "delivery")
    _ok(at)
    keys = frame(at, "initiative", "deployments", "change failure rate", "lead time n")
    for row, item in zip(keys.to_dict("records"), report["initiatives"], strict=True):
        d = item["delivery"]
        assert row["initiative"] == item["name"]
        assert row["deployments"] == d["deployments"]
        assert _same(row["change failure rate"], d["change_failure_rate"])
        assert _same(row["lead time h (median)"], d["lead_time_hours_median"])
        assert row["frequency level"] == lb.LEVEL_LABEL[d["levels"]["frequency"]]
        assert row["lead time n"] == d["n"]["lead_time"]
    incidents = frame(at, "incident_id", "title", "link_method", "linked_deploy_id")
    assert "patient" not in " ".join(incidents.columns).replace("patient_impact", "")
    unlinked = [e.value for e in at.dataframe if list(e.value.columns) == UNLINKED_COLUMNS]
    assert unlinked, "the unlinked incident table is missing"
    total = sum(i["delivery"]["unlinked_incidents"] for i in report["initiatives"])
    assert len(unlinked[0]) == total
    assert set(unlinked[0]["incident_id"]) <= set(incidents["incident_id"])
    assert any("How incidents are linked" in e.label for e in at.expander)
    assert len(charts(at)) >= 1


def test_outcomes_suppress_small_cells(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "outcomes")
    _ok(at)
    table = frame(at, "kpi", "latest", "status")
    expected = [(i["name"], o) for i in report["initiatives"] for o in i["outcomes"]]
    assert len(table) == len(expected)
    for row, (name, o) in zip(table.to_dict("records"), expected, strict=True):
        assert (row["initiative"], row["kpi"]) == (name, o["kpi"])
        if o["status"] == "suppressed":
            assert row["latest"] == "<11"
        else:
            assert row["latest"] == fm.num(o["value"])
    assert any(o["status"] == "suppressed" for _, o in expected), "demo shows a suppressed cell"


def test_outcome_trend_chart_for_an_initiative_with_kpis(report: dict[str, Any]) -> None:
    item = next(
        i for i in report["initiatives"] if any(o["status"] == "suppressed" for o in i["outcomes"])
    )
    at = new_app(initiative=item["id"])
    open_page(at, "outcomes")
    _ok(at)
    specs = charts(at)
    assert len(specs) == len(item["outcomes"])
    shown = [d.to_dicts() for n in range(len(specs)) for d in chart_data(at, n)]
    assert "<11" in json.dumps(shown, default=str)  # suppressed periods are marked, not plotted


def test_compliance_gaps_and_matrix(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "compliance")
    _ok(at)
    coverage = frame(at, "initiative", "required", "coverage", "gaps")
    for row, item in zip(coverage.to_dict("records"), report["initiatives"], strict=True):
        assert row["required"] == item["compliance"]["required"]
        assert row["coverage"] == fm.pct(item["compliance"]["coverage"], 1)  # one format
        assert row["gaps"] == item["compliance"]["gap_count"]
    gaps = frame(at, "initiative", "status", "control", "owner", "expiry")
    assert len(gaps) == sum(i["compliance"]["gap_count"] for i in report["initiatives"])
    assert all(isinstance(o, str) and o for o in gaps["owner"])
    names = [i["name"] for i in report["initiatives"]]
    matrix = frame(at, "control", *names)
    assert list(matrix.columns) == ["control", *names]
    required = sum(i["compliance"]["required"] for i in report["initiatives"])
    assert sum((matrix[n] != lb.MATRIX_LABEL["not_required"]).sum() for n in names) == required


def test_steering_review_numbers_and_downloads(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "steering")
    _ok(at)
    verdicts = frame(at, *SUMMARY_HEADER)
    expected = summary_rows(Report.model_validate(report))
    assert len(verdicts) == len(expected)
    for row, want in zip(verdicts.to_dict("records"), expected, strict=True):
        for column, value in zip(SUMMARY_HEADER, want, strict=True):
            if column != "Verdict":
                assert row[column] == value
    assert download(at, "download_json").decode() == dumps(report)
    csv = download(at, "download_csv").decode().splitlines()
    assert csv[0].split(",")[:3] == SUMMARY_HEADER[:3]
    assert len(csv) == len(expected) + 1
    subheaders = [s.value for s in at.subheader]
    for title in ("Verdicts", "What changed", "Top risks", "Milestones due", "Downloads"):
        assert title in subheaders


def words(pdf: bytes) -> str:
    """The PDF's text (pdftotext) with one space between words and lines joined; a word broken
    after its hyphen at a line end joined again."""
    return " ".join(pdf_text(pdf).split()).replace("- ", "-")


def test_steering_pack_downloads_for_every_shown_initiative(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "steering")
    _ok(at)
    buttons = {b.proto.id.rsplit("-", 1)[-1]: b.proto for b in at.get("download_button")}
    assert buttons["download_pdf"].label == "Steering pack (PDF)"
    assert buttons["download_html"].label == "Steering pack (HTML)"
    for key in ("download_pdf", "download_html"):  # rendered when clicked, not on every run
        assert buttons[key].deferred_file_id and not buttons[key].url, key
    pdf, html = download(at, "download_pdf"), download(at, "download_html").decode()
    assert pdf.startswith(b"%PDF-")
    assert html.startswith("<!doctype html>")
    text = words(pdf)
    for item in report["initiatives"]:
        assert " ".join(item["name"].split()) in text, item["name"]
        assert escape(item["name"]) in html, item["name"]
    assert pdf_info(pdf)["Page size"].endswith("(A4)")
    # the trend, as `pilotwatch report` draws it: the 8 Mondays 2026-09-28 ... 2026-11-16 (all
    # before the demo's as-of, 2026-11-16 12:00 UTC) and the as-of itself
    assert html.count("<h3>Readiness trend</h3>") == len(report["initiatives"])
    assert html.count("9 instants since 2026-09-28.") == len(report["initiatives"])
    # "what changed" compares with what the page compares with: no decision in this module's
    # log, so the earlier as-of, by default four weeks before 2026-11-16 12:00 UTC
    assert "Compared with the chosen baseline, the report as of 2026-10-19 12:00 UTC." in html
    # one page per initiative with that baseline too: cover + 8 initiatives + the appendix
    assert pdf_info(pdf)["Pages"] == str(1 + len(report["initiatives"]) + 1)


def test_steering_pack_without_pango_offers_the_html_and_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reason = "PDF needs Pango: install libpango-1.0-0 and libpangoft2-1.0-0 (Debian/Ubuntu)"
    monkeypatch.setattr("ui.pack.pdf_unavailable", lambda: reason)
    at = new_app()
    open_page(at, "steering")
    _ok(at)
    buttons = {b.proto.id.rsplit("-", 1)[-1]: b.proto for b in at.get("download_button")}
    assert buttons["download_pdf"].disabled and buttons["download_pdf"].help == reason
    assert not buttons["download_html"].disabled
    assert f"The PDF cannot be made on this server: {reason}" in [c.value for c in at.caption]
    assert download(at, "download_html").startswith(b"<!doctype html>")


def test_steering_pack_holds_only_the_filtered_initiatives_and_logs_its_export(
    report: dict[str, Any],
) -> None:
    shown = [i for i in report["initiatives"] if i["readiness"]["verdict"] == "no_go"]
    hidden = [i for i in report["initiatives"] if i["readiness"]["verdict"] != "no_go"]
    assert shown and hidden  # the demo has both
    at = new_app()
    at.run()
    at.multiselect(key="f_verdict").set_value(["no_go"]).run()
    open_page(at, "steering")
    at.radio(key="pack_paper").set_value("Letter").run()
    _ok(at)
    pdf, html = download(at, "download_pdf"), download(at, "download_html").decode()
    text = words(pdf)
    for item in shown:
        assert " ".join(item["name"].split()) in text and escape(item["name"]) in html
    for item in hidden:  # not by name, not by id, in neither rendering
        for value in (item["name"], item["id"]):
            assert value not in text and escape(value) not in html, value
    # US Letter: 8.5 x 11 in = 612 x 792 pt
    assert pdf_info(pdf)["Page size"] == "612 x 792 pts (letter)"
    log = AuditLog(os.environ["PILOTWATCH_AUDIT_URL"])
    before = len(log.entries("export"))
    at.download_button(key="download_pdf").click().run()
    at.download_button(key="download_html").click().run()
    _ok(at)
    entries = log.entries("export")[before:]
    shown_report = Report.model_validate({**report, "initiatives": shown})
    stamp = report["as_of"].replace(":", "").replace("-", "")
    assert [e.body for e in entries] == [
        {
            "what": "report",
            "format": fmt,
            "path": f"pilotwatch-steering-{stamp}-letter.{fmt}",
            "report_hash": report_hash(shown_report),
            "as_of": report["as_of"],
            "initiatives": [i["id"] for i in shown],
        }
        for fmt in ("pdf", "html")
    ]


def test_steering_what_changed_uses_the_earlier_report(report: dict[str, Any]) -> None:
    earlier = engine.run(ROOT / "config", EARLIER).report.to_jsonable()
    changed = [
        (i["name"], _item(earlier, i["id"])["readiness"]["verdict"], i["readiness"]["verdict"])
        for i in report["initiatives"]
        if _item(earlier, i["id"])["readiness"]["verdict"] != i["readiness"]["verdict"]
    ]
    at = new_app()
    open_page(at, "steering")
    at.date_input(key="compare_date").set_value(EARLIER.date()).run()
    _ok(at)
    assert any(earlier["as_of"] in t for t in texts(at.caption))
    if changed:
        table = frame(at, "initiative", "before", "after")
        shown = [(r["initiative"], r["before"], r["after"]) for r in table.to_dict("records")]
        assert shown == [(n, lb.VERDICT_LABEL[b], lb.VERDICT_LABEL[a]) for n, b, a in changed]


def test_data_sources_page(report: dict[str, Any]) -> None:
    at = new_app()
    open_page(at, "data_sources")
    _ok(at)
    table = frame(at, "source", "load", "rows", "quarantined")
    stale = {s["source"]: s["stale"] for s in report["sources"]}
    assert set(table["source"]) == set(stale)
    for row in table.to_dict("records"):
        assert row["load"] == "✅ loaded"
    freshness = frame(at, "source", "newest before as-of", "stale")
    assert set(freshness["source"]) == set(stale)
    for row in freshness.to_dict("records"):
        assert (row["stale"] == "🕰️ stale") == stale[row["source"]]


def test_filters_change_what_is_shown(report: dict[str, Any]) -> None:
    at = new_app()
    at.run()
    at.multiselect(key="f_stage").set_value(["production"]).run()
    _ok(at)
    table = frame(at, "id", "score")
    assert table["id"].tolist() == [
        i["id"] for i in report["initiatives"] if i["stage"] == "production"
    ]
    at.multiselect(key="f_stage").set_value([]).run()
    at.multiselect(key="f_verdict").set_value(["no_go"]).run()
    table = frame(at, "id", "score")
    no_go = [i["id"] for i in report["initiatives"] if i["readiness"]["verdict"] == "no_go"]
    assert table["id"].tolist() == no_go
    # the filter follows the user to other pages
    open_page(at, "compliance")
    coverage = frame(at, "initiative", "required", "coverage")
    assert coverage["initiative"].tolist() == [_item(report, i)["name"] for i in no_go]


def test_as_of_changes_the_numbers(report: dict[str, Any]) -> None:
    earlier = engine.run(ROOT / "config", EARLIER).report.to_jsonable()
    at = new_app()
    at.run()
    at.date_input(key="as_of_date").set_value(EARLIER.date()).run()
    _ok(at)
    assert any(earlier["as_of"] in t for t in texts(at.caption))
    table = frame(at, "id", "score", "verdict")
    for row in table.to_dict("records"):
        assert _same(row["score"], _item(earlier, row["id"])["readiness"]["score"])
        assert row["verdict"] == lb.VERDICT_LABEL[_item(earlier, row["id"])["readiness"]["verdict"]]
    now = [_item(report, i)["readiness"]["score"] for i in table["id"]]
    assert [None if math.isnan(v) else v for v in table["score"]] != now


def test_role_preset_sets_landing_page_and_density() -> None:
    at = new_app(role="executive")
    at.run()
    _ok(at)
    assert [t.value for t in at.title] == ["Steering review"]
    at = new_app()
    at.run()
    at.selectbox(key="role").set_value("engineering_lead").run()
    _ok(at)
    assert [t.value for t in at.title] == ["SLOs"]
    assert "burn 5m" in frame(at, "slo", "good", "total").columns  # detailed density


def test_url_parameters_open_a_view() -> None:
    at = new_app()
    at.query_params["role"] = "Executive"
    at.query_params["f_stage"] = ["production"]
    at.run()
    _ok(at)
    assert [t.value for t in at.title] == ["Steering review"]
    assert frame(at, "Initiative", "Verdict")["Stage"].tolist() == ["production", "production"]
    at = new_app()
    at.query_params["initiative"] = "e-prescribing"
    at.query_params["as_of_date"] = EARLIER.date().isoformat()
    at.run()
    open_page(at, "initiative")
    assert at.selectbox(key="initiative").value == "e-prescribing"
    assert any("2026-11-09T12:00:00Z" in t for t in texts(at.caption))


def test_switching_role_with_bound_filters_does_not_fail() -> None:
    at = new_app()
    at.run()
    at.multiselect(key="f_stage").set_value(["pilot"]).run()
    at.selectbox(key="role").set_value("executive").run()
    _ok(at)
    assert [t.value for t in at.title] == ["Steering review"]
    assert set(frame(at, "Initiative", "Verdict")["Stage"]) == {"pilot"}
