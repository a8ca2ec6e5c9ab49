"""`pilotwatch decide`, `audit verify | export`, and `report`/`check` as the service identity.

Scenario (the portfolio of tests/test_cli.py) at T = 2026-11-16T12:00Z, gate `pilot`, checks
`slos-defined` (slo_summary.defined >= 1) and `no-open-sev12` (incidents.open_sev12 == 0):
- alpha: one SLO, no incident              -> slos-defined pass, no-open-sev12 pass
- beta:  one SLO, open sev 2               -> pass, fail
- gamma: one SLO, open sev 1, valid waiver -> pass, waived
access.yaml: bot@example.org approves alpha and beta, viewer@example.org views alpha,
admin@example.org administers everything. The audit log is the default
<project>/data/audit.sqlite (docs/governance.md, "Where the log lives").
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from cli_project import T, write_project

from pilotwatch.access import resolve
from pilotwatch.audit.decisions import (
    Condition,
    DecisionRefused,
    condition_status,
    decisions,
    log_config_change,
    record_decision,
    record_waiver_approval,
)
from pilotwatch.audit.store import AuditLog
from pilotwatch.cli import main
from pilotwatch.config import load_config
from pilotwatch.engine import parse_as_of, run

DOCS = Path(__file__).resolve().parent.parent / "docs" / "governance.md"

ACCESS = """access:
  service_identity: bot@example.org
  rules:
    - {role: approver, emails: [bot@example.org], initiatives: [alpha, beta]}
    - {role: viewer, emails: [viewer@example.org], initiatives: [alpha]}
    - {role: admin, emails: [admin@example.org]}
"""


@pytest.fixture()
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("PILOTWATCH_AUDIT_URL", raising=False)
    monkeypatch.delenv("PILOTWATCH_IDENTITY", raising=False)
    write_project(tmp_path)
    (tmp_path / "config" / "access.yaml").write_text(ACCESS)
    return tmp_path


def _cli(project: Path, *args: str) -> int:
    return main([*args, "--config", str(project / "config")])


def _log(project: Path) -> AuditLog:
    return AuditLog(f"sqlite:///{project / 'data' / 'audit.sqlite'}")


def _canonical_sha256(value: object) -> str:
    # the documented formula, written out here rather than taken from pilotwatch
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _config_sha256(config: Path) -> str:
    # docs/governance.md: SHA-256 over every YAML file's relative path and bytes, in path order
    digest = hashlib.sha256()
    for path in sorted(config.rglob("*.yaml")):
        digest.update(path.relative_to(config).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def test_decide_records_the_decision_with_its_frozen_evidence(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # the report the decision is made on, as the same identity sees it (alpha and beta)
    report_file = project / "report.json"
    assert _cli(project, "report", "--as-of", T, "--json", str(report_file)) == 0
    report = json.loads(report_file.read_text())
    capsys.readouterr()
    code = _cli(
        project,
        "decide",
        "beta",
        "--outcome",
        "accept_with_conditions",
        "--rationale",
        "Hold the rollout for MRN 1234567; ask jane.doe@example.org",
        "--condition",
        "Resolve the queue stall|ops-lead@example.org|2026-11-30|no-open-sev12",
        "--condition",
        "Brief the ward|nurse manager|2026-12-15",
        "--as-of",
        T,
    )
    out = capsys.readouterr().out
    assert code == 0
    log = _log(project)
    entries = log.entries()
    # 1 config_change baseline (report), 2 export of report.json, 3 the decision
    assert [e.kind for e in entries] == ["config_change", "export", "decision"]
    decision = entries[2]
    assert out.splitlines() == [
        "recorded decision #3: beta accept_with_conditions at gate pilot, as of "
        f"{T}, signed by bot@example.org",
        f"hash {decision.hash}",
    ]
    body = decision.body
    assert decision.actor == "bot@example.org"
    assert body["approver"] == {
        "label": "bot@example.org",
        "subject": "bot@example.org",
        "authenticated": False,  # a configured service identity, not an identity provider's
    }
    assert (body["initiative"], body["gate"], body["outcome"], body["as_of"]) == (
        "beta",
        "pilot",
        "accept_with_conditions",
        T,
    )
    # PHI screen: the MRN and the patient's e-mail never reach the log
    assert "1234567" not in body["rationale"] and "jane.doe" not in body["rationale"]
    assert body["rationale"].startswith("Hold the rollout for ")
    assert body["conditions"] == [
        {
            "text": "Resolve the queue stall",
            "owner": "ops-lead@example.org",  # a staff owner's e-mail is allowed
            "due": "2026-11-30",
            "check": "no-open-sev12",
        },
        {"text": "Brief the ward", "owner": "nurse manager", "due": "2026-12-15", "check": None},
    ]
    assert body["report_hash"] == _canonical_sha256(report)
    assert body["report"] == next(i for i in report["initiatives"] if i["id"] == "beta")
    assert body["config_hash"] == _config_sha256(project / "config")
    assert re.fullmatch(r"[0-9a-f]{64}", body["data_fingerprint"])
    [record] = decisions(log, "beta")
    assert (record.seq, record.outcome, record.approver, record.gate) == (
        3,
        "accept_with_conditions",
        "bot@example.org",
        "pilot",
    )
    assert record.conditions[1] == Condition("Brief the ward", "nurse manager", date(2026, 12, 15))
    assert decisions(log, "alpha") == []


def test_decide_refuses_what_the_identity_may_not_sign(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def decide(iid: str, *extra: str) -> tuple[int, str]:
        code = _cli(project, "decide", iid, "--as-of", T, *extra)
        return code, capsys.readouterr().err

    ok = ("--outcome", "hold", "--rationale", "not yet")
    code, err = decide("gamma", *ok)  # bot approves alpha and beta only
    assert code == 1 and "bot@example.org may not decide on gamma" in err
    code, err = decide("beta", "--outcome", "ship-it", "--rationale", "x")
    assert code == 1 and "unknown outcome 'ship-it'" in err
    code, err = decide("beta", "--outcome", "hold", "--rationale", "  ")
    assert code == 1 and "a decision needs a rationale" in err
    code, err = decide("beta", "--outcome", "accept_with_conditions", "--rationale", "ok")
    assert code == 1 and "accept_with_conditions needs at least one condition" in err
    code, err = decide("beta", *ok, "--condition", "x|me|2026-12-01|no-such-check")
    assert code == 1 and "'no-such-check' is not a check of this gate" in err
    code, err = decide("beta", *ok, "--condition", "x|me|next week")
    assert code == 3 and "is not YYYY-MM-DD" in err
    code, err = decide("nobody", *ok)
    assert code == 3 and "unknown initiative 'nobody'" in err
    monkeypatch.setenv("PILOTWATCH_IDENTITY", "viewer@example.org")
    code, err = decide("alpha", *ok)
    assert code == 1 and "viewer@example.org may not decide on alpha" in err
    assert "Traceback" not in err
    assert decisions(_log(project)) == []


def test_report_and_check_show_only_what_the_service_identity_may_see(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOTWATCH_IDENTITY", "viewer@example.org")
    out = project / "r.json"
    html = project / "r.html"
    pdf = project / "r.pdf"
    files = ("--json", str(out), "--html", str(html), "--pdf", str(pdf))
    assert _cli(project, "report", "--as-of", T, *files, "--no-trend") == 0
    report = json.loads(out.read_text())
    assert [i["id"] for i in report["initiatives"]] == ["alpha"]
    # the pack's text, without its fonts and charts (data URIs, whose base64 could spell a name)
    pack = re.sub(r"data:[^\"')]+", "", html.read_text()).lower()
    assert "beta" not in out.read_text() and "gamma" not in pack and "alpha" in pack
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert "acting as viewer@example.org (viewer): showing alpha" in capsys.readouterr().err
    exports = _log(project).entries("export")
    assert [(e.actor, e.body["format"], e.body["path"]) for e in exports] == [
        ("viewer@example.org", "json", "r.json"),
        ("viewer@example.org", "html", "r.html"),
        ("viewer@example.org", "pdf", "r.pdf"),
    ]
    assert exports[0].body["report_hash"] == _canonical_sha256(report)
    assert exports[0].body["initiatives"] == ["alpha"]
    assert _cli(project, "check", "alpha", "--as-of", T) == 0
    assert _cli(project, "check", "beta", "--as-of", T) == 3
    err = capsys.readouterr().err
    assert "unknown initiative 'beta'; known: alpha" in err and "gamma" not in err


def test_verify_export_and_the_auditors_recipe(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for outcome in ("hold", "advance"):
        args = ("decide", "alpha", "--outcome", outcome, "--rationale", "r", "--as-of", T)
        assert _cli(project, *args) == 0
    capsys.readouterr()
    log = _log(project)
    head = log.head()
    # 1 config_change baseline + 2 decisions
    assert _cli(project, "audit", "verify") == 0
    assert capsys.readouterr().out == f"audit log intact: 3 entries checked; head {head}\n"

    assert _cli(project, "audit", "export", "--output", str(tmp_path / "x.jsonl")) == 1
    assert "bot@example.org may not export" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()

    monkeypatch.setenv("PILOTWATCH_IDENTITY", "admin@example.org")
    export = tmp_path / "audit.jsonl"
    assert _cli(project, "audit", "export", "--output", str(export)) == 0
    err = capsys.readouterr().err
    assert f"head {head}\n" in err
    lines = [json.loads(line) for line in export.read_text().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert set(lines[0]) == {"seq", "at", "kind", "actor", "body", "prev_hash", "hash"}
    assert lines[-1]["hash"] == head
    # the export is logged after the file was written: entry 4, not in the file
    last = log.entries()[-1]
    assert (last.seq, last.kind, last.actor) == (4, "export", "admin@example.org")
    assert last.body == {
        "what": "audit_log",
        "format": "jsonl",
        "path": "audit.jsonl",
        "entries": 3,
        "head": head,
    }

    # the documented lines of Python verify the export without pilotwatch
    section = DOCS.read_text().split("## The hash chain and how to verify it")[1]
    recipe = tmp_path / "recipe.py"
    recipe.write_text(section.split("```python\n")[1].split("```")[0])
    done = subprocess.run(
        [sys.executable, str(recipe), str(export)], capture_output=True, text=True
    )
    assert (done.returncode, done.stdout) == (0, f"3 entries intact; head {head}\n")
    lines[1]["body"]["outcome"] = "advance"  # entry 2 was a hold
    export.write_text("".join(json.dumps(line) + "\n" for line in lines))
    done = subprocess.run(
        [sys.executable, str(recipe), str(export)], capture_output=True, text=True
    )
    assert done.returncode == 1 and done.stderr == "entry 2: does not verify\n"


def test_verify_names_tampering_and_checks_an_anchor(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for outcome in ("hold", "advance", "hold"):
        args = ("decide", "beta", "--outcome", outcome, "--rationale", "r", "--as-of", T)
        assert _cli(project, *args) == 0
    log = _log(project)
    anchored = log.head()  # entry 4 (1 baseline + 3 decisions)
    capsys.readouterr()
    assert _cli(project, "audit", "verify", "--anchor", str(anchored)) == 0
    assert "anchored hash found at entry 4" in capsys.readouterr().out
    db = sqlite3.connect(project / "data" / "audit.sqlite")
    with db:
        db.execute("DELETE FROM pilotwatch_audit WHERE seq = 4")  # cut the end off
    # the rest still chains, but the anchored head is gone
    assert _cli(project, "audit", "verify") == 0
    assert _cli(project, "audit", "verify", "--anchor", str(anchored)) == 1
    assert f"the anchored hash {anchored} is in no entry" in capsys.readouterr().out
    with db:
        db.execute("UPDATE pilotwatch_audit SET actor = 'someone-else' WHERE seq = 2")
    db.close()
    assert _cli(project, "audit", "verify") == 1
    assert capsys.readouterr().out == (
        "audit log TAMPERED: entry 2: edited (stored hash does not match its content)\n"
        "1 entries verified before entry 2\n"
    )


def test_an_unreachable_log_exits_3_without_its_password(
    project: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PILOTWATCH_AUDIT_URL", "postgresql+psycopg://u:s3cret@127.0.0.1:1/x")
    assert _cli(project, "audit", "verify") == 3
    args = ("decide", "beta", "--outcome", "hold", "--rationale", "r", "--as-of", T)
    assert _cli(project, *args) == 3
    assert _cli(project, "report", "--as-of", T, "--json", str(project / "r.json")) == 3
    err = capsys.readouterr().err
    assert "cannot open the audit log postgresql+psycopg://u:***@127.0.0.1:1/x" in err
    assert "s3cret" not in err and "Traceback" not in err
    assert not (project / "r.json").exists()  # no report leaves unlogged


def test_condition_status_met_open_overdue(project: Path) -> None:
    result = run(project / "config", parse_as_of(T))  # the waiver expires on 2026-12-01
    report = result.report
    # beta: no-open-sev12 fails (open sev 2), slos-defined passes; gamma: no-open-sev12 waived
    failing = Condition("close I-1", "ops", date(2026, 11, 20), "no-open-sev12")
    assert condition_status(failing, report, "beta", date(2026, 11, 20)) == "open"  # due today
    assert condition_status(failing, report, "beta", date(2026, 11, 21)) == "overdue"
    assert condition_status(failing, report, "gamma", date(2026, 11, 21)) == "met"  # waived
    passing = Condition("define SLOs", "ops", date(2026, 11, 1), "slos-defined")
    assert condition_status(passing, report, "beta", date(2026, 11, 21)) == "met"
    manual = Condition("brief the ward", "ops", date(2026, 11, 20))
    assert condition_status(manual, report, "alpha", date(2026, 11, 19)) == "open"
    assert condition_status(manual, report, "alpha", date(2026, 11, 21)) == "overdue"


def test_record_decision_refuses_a_viewer_and_signs_as_the_identity(project: Path) -> None:
    result = run(project / "config", parse_as_of(T))
    config = load_config(project / "config")
    log = _log(project)
    viewer = resolve(config.access, {"sub": "v1", "email": "viewer@example.org"})
    with pytest.raises(PermissionError, match=r"viewer@example\.org may not decide on alpha"):
        record_decision(
            log, viewer, result.report, "alpha", "hold", "r", config_hash="c", data_fingerprint="d"
        )
    admin = resolve(config.access, {"sub": "a1", "email": "admin@example.org"})
    record = record_decision(
        log, admin, result.report, "gamma", "advance", "ok", config_hash="c", data_fingerprint="d"
    )
    assert (record.approver, record.approver_subject, record.approver_authenticated) == (
        "admin@example.org",
        "a1",
        True,
    )
    assert record.report["id"] == "gamma"
    with pytest.raises(DecisionRefused, match="not in the report"):
        record_decision(
            log, admin, result.report, "zeta", "hold", "r", config_hash="c", data_fingerprint="d"
        )


def test_waiver_approval_and_config_changes_are_logged(project: Path) -> None:
    config = load_config(project / "config")
    log = _log(project)
    bot = resolve(config.access, {"sub": "bot", "email": "bot@example.org"})
    admin = resolve(config.access, {"sub": "a1", "email": "admin@example.org"})
    [waiver] = config.waivers  # gamma / no-open-sev12
    with pytest.raises(PermissionError, match="may not approve a waiver on gamma"):
        record_waiver_approval(log, bot, waiver, "c")
    entry = record_waiver_approval(log, admin, waiver, "c")
    assert (entry.kind, entry.actor) == ("waiver_approval", "admin@example.org")
    assert entry.body == {
        "initiative": "gamma",
        "check": "no-open-sev12",
        "reason": "vendor fix scheduled",
        "approver_named": "CMIO",
        "expires_on": "2026-12-01",
        "approved_by": {"label": "admin@example.org", "subject": "a1", "authenticated": True},
        "config_hash": "c",
    }

    config_dir = project / "config"
    baseline = log_config_change(log, config_dir, "admin@example.org")
    assert baseline is not None and baseline.body["baseline"] is True
    sha = hashlib.sha256((config_dir / "gates.yaml").read_bytes()).hexdigest()
    assert baseline.body["files"]["gates.yaml"] == sha
    assert baseline.body["changed"] == ["waivers.yaml", "gates.yaml", "controls.yaml"]
    assert baseline.body["files"]["controls.yaml"] is None  # not in this project
    assert log_config_change(log, config_dir, "admin@example.org") is None  # nothing changed
    (config_dir / "initiatives.yaml").write_text(  # not a governed file
        (config_dir / "initiatives.yaml").read_text() + "\n"
    )
    assert log_config_change(log, config_dir, "admin@example.org") is None
    (config_dir / "waivers.yaml").write_text("waivers: []\n")
    change = log_config_change(log, config_dir, "admin@example.org")
    assert change is not None
    assert (change.body["changed"], change.body["baseline"]) == (["waivers.yaml"], False)
    assert log.verify().ok


def test_local_demo_mode_signs_as_local_demo(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (project / "config" / "access.yaml").write_text("access:\n  rules: []\n")
    args = ("decide", "gamma", "--outcome", "hold", "--rationale", "r", "--as-of", T)
    assert _cli(project, *args) == 0
    [record] = decisions(_log(project))
    assert (record.approver, record.approver_authenticated) == ("local-demo", False)
