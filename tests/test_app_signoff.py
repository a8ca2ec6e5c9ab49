"""Sign-off in the app (ui/signoff.py, pages/steering.py, pages/initiative.py): the decision
form, the decision history, export logging and "what changed" since the last decision.

The widget tests run ui.signoff's section alone (AppTest.from_function) on a small hand-written
report with an audit log in a temporary SQLite file; the page tests run the whole app on the demo
data with PILOTWATCH_AUDIT_URL pointing at a temporary log.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from copy import deepcopy
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from app_helpers import AUTH, ROOT, download, ensure_demo, frame, new_app, open_page, unescape
from metrics_helpers import config, report
from streamlit.proto.WidgetStates_pb2 import WidgetState
from streamlit.testing.v1 import AppTest

from core.enums import Verdict
from core.report import Report
from pilotwatch import engine
from pilotwatch.access import Identity, local_demo_identity
from pilotwatch.audit.decisions import Condition, decisions, record_decision
from pilotwatch.audit.store import AuditLog
from pilotwatch.fingerprints import config_hash, data_fingerprint
from pilotwatch.report import compare
from ui import labels as lb
from ui import loaders, signoff

AS_OF = "2025-03-15T12:00:00Z"
_BLANK = report({}, config())["initiatives"][0]


def _check(cid: str, outcome: str, owner: str = "ops lead") -> dict[str, Any]:
    return {
        "id": cid,
        "metric": "incidents.open_sev12",
        "value": 1.0,
        "op": "==",
        "threshold": 0.0,
        "outcome": outcome,
        "blocking": True,
        "weight": 1.0,
        "dimension": "reliability",
        "remediation": f"fix {cid}",
        "owner": owner,
        "waiver": None,
    }


def _item(iid: str, verdict: str, score: float | None, checks: list[dict[str, Any]]) -> dict:
    item = deepcopy(_BLANK)
    item.update(id=iid, name=iid.title(), stage="pilot")
    blockers = [{"check": c["id"], "remediation": c["remediation"]} for c in checks]
    blockers = [b for b, c in zip(blockers, checks, strict=True) if c["outcome"] == "fail"]
    item["readiness"] = {
        "verdict": verdict,
        "score": score,
        "blockers": blockers,
        "blocker_count": len(blockers),
        "checks": checks,
    }
    return item


def _report(*items: dict[str, Any], as_of: str = AS_OF) -> Report:
    doc = {"schema": 1, "as_of": as_of, "initiatives": list(items), "sources": []}
    return Report.model_validate(doc)


# Two initiatives: alpha fails one blocking check (no_go), beta passes its one check.
REPORT = _report(
    _item("alpha", "no_go", 50.0, [_check("sev12", "fail"), _check("docs", "pass")]),
    _item("beta", "go", 100.0, [_check("uptime", "pass")]),
)


def _person(email: str, role: str | None, scope: frozenset[str] | None) -> Identity:
    return Identity(email, email, None, (), role, scope, True)  # type: ignore[arg-type]


APPROVER = _person("ann@example.org", "approver", frozenset({"alpha"}))
VIEWER = _person("vic@example.org", "viewer", None)


def _section(url: str, identity: object, report_json: dict) -> None:
    """The decision section of every initiative of the report (run as a Streamlit script)."""
    from core.report import Report
    from pilotwatch.audit.store import AuditLog
    from ui import signoff

    shown = Report.model_validate(report_json)
    log = AuditLog(url) if url else None  # no URL: a log that cannot be opened
    problem = "cannot open the audit log sqlite:///nowhere: disk I/O error"
    phi = (("ticket", r"ZX-\d+"),)  # an extra pattern, as settings.yaml's phi_patterns
    sign = signoff.Signing(log, identity, shown, "c" * 64, lambda: "d" * 64, problem, phi)
    for item in shown.initiatives:
        signoff.section(sign, item, "test")


def _widget_app(url: str, identity: Identity) -> AppTest:
    at = AppTest.from_function(
        _section, args=(url, identity, REPORT.to_jsonable()), default_timeout=30
    )
    return at.run()


@pytest.fixture
def audit_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.sqlite'}"


def texts(elements: Any) -> list[str]:
    """The text of markdown, captions, alerts ... as it reads on screen."""
    return [unescape(str(e.value)) for e in elements]


def _buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


# --- the pure parts: conditions, drafts, the baseline -------------------------------------


def test_parse_conditions_skips_blank_rows_and_names_bad_ones() -> None:
    rows = [
        {"condition": "Close INC-7", "owner": "ops", "due": date(2025, 4, 1), "check": "sev12"},
        {"condition": None, "owner": "", "due": None, "check": None},  # wholly empty: skipped
        {"condition": "Train staff", "owner": None, "due": "2025-04-02", "check": None},
        {"condition": "Audit", "owner": "cio", "due": "2025-04-03", "check": "nope"},
        {"condition": "Plan", "owner": "cio", "due": "not a date", "check": ""},
    ]
    conditions, problems = signoff.parse_conditions(rows, ["sev12", "docs"])
    assert conditions == [Condition("Close INC-7", "ops", date(2025, 4, 1), "sev12")]
    assert problems == [
        "Condition row 3: give owner.",
        "Condition row 4: 'nope' is not a check of this gate.",
        "Condition row 5: give due (a date).",
    ]


def test_accept_with_conditions_needs_a_condition_and_every_draft_a_rationale() -> None:
    assert signoff.draft_problems("accept_with_conditions", "ok", []) == [
        "Accept with conditions needs at least one condition (owner, due date)."
    ]
    assert signoff.draft_problems("hold", "  ", []) == [
        "Write the rationale: why the committee decided this."
    ]
    assert signoff.draft_problems("advance", "evidence is green", []) == []


def test_prefill_is_one_row_per_failing_or_undecided_check() -> None:
    item = REPORT.initiative("alpha")
    assert item is not None
    # as-of 2025-03-15 + 30 days = 2025-04-14; only sev12 fails (docs passes)
    assert signoff.prefill_rows(item, REPORT.as_of) == [
        {"condition": "fix sev12", "owner": "ops lead", "due": date(2025, 4, 14), "check": "sev12"}
    ]


def test_a_frozen_section_reads_back_and_replaces_the_dated_baseline() -> None:
    frozen = REPORT.initiative("alpha")
    assert frozen is not None
    parsed = compare.frozen_initiative(frozen.model_dump(mode="json", by_alias=True))
    assert parsed == frozen
    # now alpha passes (go, 90) and beta is unchanged; the dated report says alpha was go
    now = _report(
        _item("alpha", "go", 90.0, [_check("sev12", "pass"), _check("docs", "pass")]),
        _item("beta", "go", 100.0, [_check("uptime", "pass")]),
    )
    dated = now.model_copy(update={"as_of": datetime(2025, 3, 1, 12, tzinfo=UTC)})
    baseline = compare.with_baselines(dated, {"alpha": parsed}, REPORT.as_of)
    assert [i.id for i in baseline.initiatives] == ["alpha", "beta"]
    diff = compare.diff_reports(baseline, now)
    # since the decision (frozen: no_go, 50) alpha went to go, 90: delta 90 - 50 = +40
    assert diff["verdicts"] == [
        {"initiative": "alpha", "name": "Alpha", "before": "no_go", "after": "go"}
    ]
    assert diff["scores"] == [
        {"initiative": "alpha", "name": "Alpha", "before": 50.0, "after": 90.0, "delta": 40.0}
    ]
    # no dated report at all: the frozen sections alone, as of the given instant
    alone = compare.with_baselines(None, {"alpha": parsed}, REPORT.as_of)
    assert [i.id for i in alone.initiatives] == ["alpha"] and alone.as_of == REPORT.as_of


def test_a_frozen_section_that_does_not_read_names_the_field() -> None:
    frozen = REPORT.to_jsonable()["initiatives"][0]
    frozen["readiness"]["verdict"] = "maybe"
    with pytest.raises(compare.FrozenReportError, match=r"field readiness\.verdict"):
        compare.frozen_initiative(frozen)


def test_latest_decision_at_or_before_the_as_of(audit_url: str) -> None:
    log = AuditLog(audit_url)
    early = REPORT.model_copy(update={"as_of": datetime(2025, 3, 1, 12, tzinfo=UTC)})
    for shown in (early, REPORT):
        record_decision(
            log, APPROVER, shown, "alpha", "hold", "wait", config_hash="c", data_fingerprint="d"
        )
    records = decisions(log, "alpha")
    assert compare.baseline_decision(records, datetime(2025, 3, 10, tzinfo=UTC)).seq == 1
    assert compare.baseline_decision(records, REPORT.as_of).seq == 2
    assert compare.baseline_decision(records, datetime(2025, 2, 1, tzinfo=UTC)) is None


# --- the widgets ---------------------------------------------------------------------------


def test_an_approver_records_a_decision_and_the_history_shows_it(audit_url: str) -> None:
    at = _widget_app(audit_url, APPROVER)
    # one form: alpha's (the approver's scope); beta shows its empty history only
    assert [f.proto.form.form_id for f in at.get("form")] == ["decide_test_alpha"]
    assert [e.label for e in at.expander] == ["Record a decision on Alpha"]
    at.button(key="prefill_test_alpha").click().run()
    at.selectbox(key="outcome_test_alpha").set_value("accept_with_conditions")
    at.text_area(key="rationale_test_alpha").input("Pilot may continue; close INC-7 first")
    at.button(key="FormSubmitter:decide_test_alpha-" + signoff.PREVIEW_LABEL).click().run()
    assert not at.error, [e.value for e in at.error]
    preview = frame(at, "frozen", "value")
    shown = dict(zip(preview["frozen"], preview["value"], strict=True))
    assert shown["verdict"] == lb.VERDICT_LABEL["no_go"]
    # the score 50.0 in the project's number format (trailing zeros dropped)
    assert shown["score"] == "50" and shown["blockers"] == "sev12"
    assert shown["as of"] == AS_OF
    assert [c.value for c in at.code] == [
        f"report hash       {signoff.report_hash(REPORT)}\n"
        f"config hash       {'c' * 64}\n"
        f"data fingerprint  {'d' * 64}"
    ]
    assert shown["signed by"] == "ann@example.org"
    assert decisions(AuditLog(audit_url)) == []  # nothing recorded before the confirm
    at.button(key="sign_test_alpha").click().run()
    records = decisions(AuditLog(audit_url))
    assert len(records) == 1
    record = records[0]
    assert (record.initiative, record.outcome, record.approver) == (
        "alpha",
        "accept_with_conditions",
        "ann@example.org",
    )
    assert record.rationale == "Pilot may continue; close INC-7 first"
    assert record.conditions == (Condition("fix sev12", "ops lead", date(2025, 4, 14), "sev12"),)
    assert record.report["readiness"]["verdict"] == "no_go"
    kinds = [e.kind for e in AuditLog(audit_url).entries()]
    assert kinds == ["decision"]
    success = [s.value for s in at.success]
    assert success == [f"Decision recorded: entry #1, hash `{record.hash}`."]
    # the history: who, outcome, the condition still open (sev12 fails, due 2025-04-14 is
    # after the as-of date 2025-03-15)
    headline = [m for m in texts(at.markdown) if "entry #1" in m]
    assert headline and "Accept with conditions" in headline[0]
    assert "ann@example.org" in headline[0]
    history = frame(at, "status", "condition", "owner", "due", "check")
    assert history.to_dict("records") == [
        {
            "status": signoff.STATUS_LABEL["open"],
            "condition": "fix sev12",
            "owner": "ops lead",
            "due": "2025-04-14",
            "check": "sev12",
        }
    ]
    # the frozen report: the download serves alpha's section as recorded, and logs an export
    alpha = REPORT.initiative("alpha")
    assert alpha is not None
    frozen = json.loads(download(at, "frozen_test_1"))
    assert frozen == alpha.model_dump(mode="json", by_alias=True)
    assert AuditLog(audit_url).entries("export") == []
    _click_download(at, "frozen_test_1")
    [export] = AuditLog(audit_url).entries("export")
    assert (export.actor, export.body) == (
        "ann@example.org",
        {
            "what": "frozen_report",
            "format": "json",
            "path": "pilotwatch-decision-1-alpha.json",
            "decision": 1,
            "report_hash": signoff.report_hash(REPORT),
            "as_of": AS_OF,
            "initiatives": ["alpha"],
        },
    )


def test_free_text_is_screened_for_phi_before_it_is_stored(audit_url: str) -> None:
    at = _widget_app(audit_url, APPROVER)
    at.selectbox(key="outcome_test_alpha").set_value("hold")
    # an MRN (a default pattern) and a ticket id (the extra pattern passed to the form)
    at.text_area(key="rationale_test_alpha").input("Patient MRN 12345678 in ZX-42; hold")
    at.button(key="FormSubmitter:decide_test_alpha-" + signoff.PREVIEW_LABEL).click().run()
    at.button(key="sign_test_alpha").click().run()
    [record] = decisions(AuditLog(audit_url))
    assert record.rationale == "Patient [redacted] in [redacted]; hold"
    assert any("Rationale: Patient [redacted] in [redacted]; hold" in m for m in texts(at.markdown))


def test_a_viewer_never_sees_the_form(audit_url: str) -> None:
    at = _widget_app(audit_url, VIEWER)
    assert at.get("form") == []
    assert signoff.SIGN_LABEL not in _buttons(at)
    assert signoff.PREFILL_LABEL not in _buttons(at)
    assert not [e for e in at.expander if "Record a decision" in e.label]
    assert [c.value for c in at.caption] == [
        "No decision recorded for Alpha yet.",
        "No decision recorded for Beta yet.",
    ]


def test_accept_with_conditions_without_a_condition_is_refused(audit_url: str) -> None:
    at = _widget_app(audit_url, APPROVER)
    at.selectbox(key="outcome_test_alpha").set_value("accept_with_conditions")
    at.text_area(key="rationale_test_alpha").input("ok with conditions")
    at.button(key="FormSubmitter:decide_test_alpha-" + signoff.PREVIEW_LABEL).click().run()
    assert [e.value for e in at.error] == [
        "Not recorded: Accept with conditions needs at least one condition (owner, due date)."
    ]
    assert signoff.SIGN_LABEL not in _buttons(at)  # no confirm step for a refused draft
    assert AuditLog(audit_url).entries() == []


def test_a_log_that_cannot_be_opened_is_said_once_and_nothing_breaks() -> None:
    at = _widget_app("", APPROVER)
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The decision log cannot be read: cannot open the audit log sqlite:///nowhere: disk I/O "
        "error"
    ]
    at.selectbox(key="outcome_test_alpha").set_value("hold")
    at.text_area(key="rationale_test_alpha").input("wait")
    at.button(key="FormSubmitter:decide_test_alpha-" + signoff.PREVIEW_LABEL).click().run()
    at.button(key="sign_test_alpha").click().run()
    assert not at.exception
    assert [e.value for e in at.error][-1] == (
        "Not recorded: cannot open the audit log sqlite:///nowhere: disk I/O error"
    )


def test_local_demo_signer_is_marked_not_signed_in(audit_url: str) -> None:
    at = _widget_app(audit_url, local_demo_identity())
    assert any('recorded as "local-demo (not signed in)"' in i.value for i in at.info)
    at.selectbox(key="outcome_test_beta").set_value("advance")
    at.text_area(key="rationale_test_beta").input("all green")
    at.button(key="FormSubmitter:decide_test_beta-" + signoff.PREVIEW_LABEL).click().run()
    preview = frame(at, "frozen", "value")
    assert dict(zip(preview["frozen"], preview["value"], strict=True))["signed by"] == (
        "local-demo (not signed in)"
    )


def test_a_download_logs_an_export_entry(audit_url: str) -> None:
    log = AuditLog(audit_url)
    sign = signoff.Signing(log, APPROVER, REPORT, "c", lambda: "d")
    signoff.export_logger(sign, {"what": "json", "file": "r.json", "initiatives": ["alpha"]})()
    [entry] = log.entries()
    assert (entry.kind, entry.actor) == ("export", "ann@example.org")
    assert entry.body == {"what": "json", "file": "r.json", "initiatives": ["alpha"]}


# --- the pages, on the demo data -----------------------------------------------------------


@pytest.fixture
def demo_log(tmp_path: Path) -> Iterator[str]:
    ensure_demo()
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(loaders.CONFIG_ENV, raising=False)
        mp.setenv("PILOTWATCH_AUDIT_URL", url)
        yield url


def test_steering_what_changed_defaults_to_the_last_decision(demo_log: str) -> None:
    now = engine.run(ROOT / "config").report
    item = now.initiatives[0]
    # freeze a section that differs from today's in verdict and score, so the listed change
    # can only come from the frozen baseline
    other = "go" if item.readiness.verdict.value != "go" else "no_go"
    readiness = item.readiness.model_copy(update={"verdict": Verdict(other), "score": 12.5})
    frozen_item = item.model_copy(update={"readiness": readiness})
    frozen = now.model_copy(update={"initiatives": [frozen_item, *now.initiatives[1:]]})
    record = record_decision(
        AuditLog(demo_log),
        local_demo_identity(),
        frozen,
        item.id,
        "hold",
        "wait for the fix",
        config_hash="c",
        data_fingerprint="d",
    )
    at = new_app()
    open_page(at, "steering")
    assert not at.exception
    captions = texts(at.caption)
    when = record.at.strftime("%Y-%m-%d %H:%M UTC")
    assert f"{item.name}: since the decision of {when} by local-demo" in " ".join(captions)
    verdicts = frame(at, "initiative", "before", "after").to_dict("records")
    assert {
        "initiative": item.name,
        "before": lb.VERDICT_LABEL[other],
        "after": lb.VERDICT_LABEL[item.readiness.verdict.value],
    } in verdicts
    # the history of that initiative shows the decision, with its frozen report download
    assert any("entry #1" in m and "Hold" in m for m in texts(at.markdown))
    # the manual date stays an override: every initiative then compares with that as-of
    at.radio(key="compare_with").set_value("date").run()
    assert not any("since the decision" in c for c in texts(at.caption))


def test_initiative_page_has_the_form_in_local_demo_mode(demo_log: str) -> None:
    at = new_app()
    open_page(at, "initiative")
    assert not at.exception
    assert any(f.proto.form.form_id.startswith("decide_initiative_") for f in at.get("form"))
    assert any('"local-demo (not signed in)"' in i.value for i in at.info)


def _click_download(at: AppTest, key: str) -> AppTest:
    """Run the app as a browser does after a download: the button's trigger set, so its on_click
    runs first (AppTest has no click for download buttons)."""
    button = next(b for b in at.get("download_button") if b.proto.id.endswith(f"-{key}"))
    states = at._tree.get_widget_states()
    states.widgets.append(WidgetState(id=button.proto.id, trigger_value=True))
    return at._run(states)


def test_downloads_log_export_entries_on_click(demo_log: str) -> None:
    at = new_app()
    open_page(at, "steering")
    assert AuditLog(demo_log).entries("export") == []  # showing the buttons logs nothing
    _click_download(at, "download_csv")
    [entry] = AuditLog(demo_log).entries("export")
    report = engine.run(ROOT / "config").report  # no filter: the whole portfolio is shown
    assert entry.actor == "local-demo"
    assert entry.body == {
        "what": "report",
        "format": "csv",
        "path": "pilotwatch-verdicts-20261116T120000Z.csv",  # the demo as-of 2026-11-16T12:00Z
        "report_hash": signoff.report_hash(report),
        "as_of": "2026-11-16T12:00:00Z",
        "initiatives": [i.id for i in report.initiatives],
    }


# --- signed in through OpenID Connect (the seam of tests/test_app_access.py) ---------------

A = "sepsis-ews"
RULES = {
    "access": {
        "rules": [
            {"role": "approver", "emails": ["ann@example.org"], "initiatives": [A]},
            {"role": "viewer", "emails": ["vic@example.org"], "initiatives": "*"},
        ]
    }
}


@pytest.fixture
def signed_in(tmp_path: Path) -> Iterator[str]:
    """config/ with access rules (data/ linked so relative paths resolve) and a fresh log."""
    ensure_demo()
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "access.yaml").write_text(yaml.safe_dump(RULES), encoding="utf-8")
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    url = f"sqlite:///{tmp_path / 'audit.sqlite'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(loaders.CONFIG_ENV, str(tmp_path / "config"))
        mp.setenv("PILOTWATCH_AUDIT_URL", url)
        yield url


def _signed_in_app(email: str) -> AppTest:
    at = new_app()
    at.secrets = dict(AUTH)
    at.user = {"is_logged_in": True, "sub": email.split("@")[0], "email": email}
    return at


def test_a_signed_in_approver_signs_with_their_identity(signed_in: str) -> None:
    at = open_page(_signed_in_app("ann@example.org"), "steering")
    assert not at.exception, [e.value for e in at.exception]
    # every initiative is visible to ann only through her approver rule: A alone, one form
    assert [f.proto.form.form_id for f in at.get("form")] == [f"decide_steering_{A}"]
    assert not any("not signed in" in i for i in texts(at.info))
    at.selectbox(key=f"outcome_steering_{A}").set_value("hold")
    at.text_area(key=f"rationale_steering_{A}").input("Sev 1 still open")
    at.button(key=f"FormSubmitter:decide_steering_{A}-{signoff.PREVIEW_LABEL}").click().run()
    preview = frame(at, "frozen", "value")
    assert dict(zip(preview["frozen"], preview["value"], strict=True))["signed by"] == (
        "ann@example.org"
    )
    at.button(key=f"sign_steering_{A}").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [record] = decisions(AuditLog(signed_in))
    assert (record.initiative, record.outcome, record.rationale) == (A, "hold", "Sev 1 still open")
    assert (record.approver, record.approver_authenticated) == ("ann@example.org", True)
    assert record.conditions == ()
    assert [e.kind for e in AuditLog(signed_in).entries("decision")] == ["decision"]


def test_a_signed_in_viewer_reaches_no_decision_form(signed_in: str) -> None:
    at = open_page(_signed_in_app("vic@example.org"), "steering")
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("form") == [] and signoff.PREFILL_LABEL not in _buttons(at)
    assert not [e for e in at.expander if "Record a decision" in e.label]
    assert "Decisions" in [s.value for s in at.subheader]  # the history is there, the form not
    open_page(at, "initiative")
    assert not at.exception, [e.value for e in at.exception]
    assert at.get("form") == [] and signoff.PREFILL_LABEL not in _buttons(at)


# --- the screenshots of docs/governance.md ("Sign-off in the app") ----------------------------
#
#     .venv/bin/python tests/test_app_signoff.py docs/screenshots
#
# starts the real app (tests/test_browser.py's server and Debian chromium) on the demo data with
# a fresh audit log holding one decision on the Sepsis early-warning model, and saves
# decision-history.png (its Decisions tab) and signoff-form.png (the form, filled and previewed).

SHOT_ID = "sepsis-ews"


def _seed_decision(url: str) -> None:
    """One accept-with-conditions decision on the 2026-11-02 report: a condition met now, one
    open and one overdue at the demo as-of (2026-11-16)."""
    run = engine.run(ROOT / "config", datetime(2026, 11, 2, 12, tzinfo=UTC))
    conditions = [
        Condition("Change failure rate under 15%", "ML platform lead", date(2026, 12, 15),
                  "lp-change-failure-rate"),
        Condition("Publish the model card to the clinical safety board", "CMIO office",
                  date(2026, 11, 9)),
        Condition("No open severity 1-2 incident", "On-call lead", date(2026, 11, 30),
                  "lp-no-open-sev12"),
    ]  # fmt: skip
    record_decision(
        AuditLog(url),
        local_demo_identity(),
        run.report,
        SHOT_ID,
        "accept_with_conditions",
        "Early-warning alerts help the rapid-response team; continue the pilot while the "
        "deployment pipeline is fixed.",
        conditions,
        config_hash=config_hash(ROOT / "config"),
        data_fingerprint=data_fingerprint(run.data),
    )


def _idle(page: Any) -> None:
    page.wait_for_timeout(400)
    page.wait_for_function(
        """() => document.querySelector('[data-testid="stApp"]')
            ?.getAttribute('data-test-script-state') === 'notRunning'""",
        timeout=60_000,
    )
    page.wait_for_timeout(600)


def capture_screens(out_dir: Path) -> list[Path]:
    """Save decision-history.png and signoff-form.png of the Initiative page to `out_dir`."""
    import tempfile

    import test_browser as tb
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'audit.sqlite'}"
        os.environ["PILOTWATCH_AUDIT_URL"] = url  # the server inherits it
        _seed_decision(url)
        case = tb.PageCase("initiative", f"initiative?initiative={SHOT_ID}", "Initiative", "Gate")
        log = ROOT / "test-artifacts" / "streamlit-signoff-capture.log"
        with tb.StreamlitServer(log) as server, sync_playwright() as p:
            browser = tb.launch_browser(p)
            try:
                page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
                tb.open_page(page, server.base_url, case, tb.COLD_TIMEOUT)
                page.get_by_role("tab", name="Decisions").click()
                _idle(page)
                tb.full_page_screenshot(page, out_dir / "signoff-page.png")  # grows the viewport
                panel = page.locator('[role="tabpanel"]:visible')
                form = panel.locator('[data-testid="stExpander"]').first
                top, end = panel.bounding_box(), form.bounding_box()
                clip = {**top, "height": end["y"] - top["y"] - 8}
                page.screenshot(path=str(out_dir / "decision-history.png"), clip=clip)
                page.get_by_role("button", name=signoff.PREFILL_LABEL).click()
                _idle(page)
                panel.locator('[data-testid="stSelectbox"]').first.click()
                page.get_by_role("option", name="Accept with conditions").click()
                panel.get_by_label("Rationale").fill(
                    "Alerts are useful; continue while the pipeline and outcomes are fixed."
                )
                page.get_by_role("button", name=signoff.PREVIEW_LABEL).click()
                _idle(page)
                tb.full_page_screenshot(page, out_dir / "signoff-page.png")
                form.screenshot(path=str(out_dir / "signoff-form.png"))
                (out_dir / "signoff-page.png").unlink()
            finally:
                browser.close()
    paths = [out_dir / "decision-history.png", out_dir / "signoff-form.png"]
    return [tb.shrink_png(path) for path in paths]


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    for saved in capture_screens(Path(sys.argv[1] if len(sys.argv) > 1 else "test-artifacts")):
        print(saved)
