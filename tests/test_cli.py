"""`pilotwatch validate | report | check` on a small hand-made portfolio (expected by hand).

Scenario at T = 2026-11-16T12:00Z, gate `pilot` with two blocking checks
(`slo_summary.defined >= 1`, `incidents.open_sev12 == 0`):
- alpha: one SLO, no incident              -> pass, pass            -> go (exit 0)
- beta:  one SLO, open sev 2 incident      -> pass, fail            -> no_go (exit 1)
- gamma: one SLO, open sev 1, valid waiver -> pass, waived          -> conditional (exit 2)
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from cli_project import T, write_project

from pilotwatch.cli import main
from pilotwatch.report import SCHEMA_PATH


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    return write_project(tmp_path)


def _run(project: Path, *args: str) -> int:
    return main([*args, "--config", str(project / "config")])


def test_check_exit_codes(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(project, "check", "alpha", "--as-of", T) == 0
    assert "verdict GO" in capsys.readouterr().out
    assert _run(project, "check", "beta", "--as-of", T) == 1
    out = capsys.readouterr().out
    assert "verdict NO_GO" in out
    assert "BLOCKER no-open-sev12: Resolve open sev 1-2 incidents" in out
    assert _run(project, "check", "gamma", "--as-of", T) == 2
    assert "[           waived] no-open-sev12" in capsys.readouterr().out
    # after the waiver expires (2026-12-01 00:00 UTC) gamma's open sev 1 blocks
    assert _run(project, "check", "gamma", "--as-of", "2026-12-01T00:00:00Z") == 1
    assert _run(project, "check", "nobody", "--as-of", T) == 3


def test_report_json_matches_schema_and_hand_values(project: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    html, pdf = tmp_path / "r.html", tmp_path / "r.pdf"
    args = ("report", "--as-of", "2026-11-16T12:00:59Z", "--json", str(out))
    assert _run(project, *args, "--html", str(html), "--pdf", str(pdf)) == 0
    report = json.loads(out.read_text())
    jsonschema.validate(report, json.loads(SCHEMA_PATH.read_text()))
    assert report["as_of"] == T  # seconds truncated down
    by_id = {i["id"]: i for i in report["initiatives"]}
    assert [by_id[i]["readiness"]["verdict"] for i in ("alpha", "beta", "gamma")] == [
        "go",
        "no_go",
        "conditional",
    ]
    assert by_id["beta"]["readiness"]["score"] == 50.0  # 1 pass of 2 scored, equal weights
    assert by_id["beta"]["readiness"]["blocker_count"] == 1  # no-open-sev12 fails, blocking
    assert by_id["gamma"]["readiness"]["blocker_count"] == 0  # waived is not a blocker
    assert by_id["gamma"]["readiness"]["score"] == 100.0  # waived counts as credit
    assert by_id["beta"]["incidents"]["open_by_severity"] == {"1": 0, "2": 1, "3": 0, "4": 0}
    # gamma: opened 09:00, acknowledged 09:30 -> 30 minutes
    assert by_id["gamma"]["incidents"]["mtta_minutes"] == 30.0
    assert by_id["alpha"]["slos"][0]["status"] == "no_data"
    # the steering pack (tests/test_pack_pdf.py reads it back): beta's blocker and its owner
    assert pdf.read_bytes().startswith(b"%PDF-")
    page = html.read_text()
    assert page.startswith('<!doctype html>\n<html lang="en">')
    assert "Resolve open sev 1-2 incidents" in page and "owner-beta (initiative owner)" in page


def test_validate_reports_config_errors(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(project, "validate") == 0
    gates = project / "config" / "gates.yaml"
    gates.write_text(gates.read_text().replace("op: '=='", "op: '=~'"))
    assert _run(project, "validate") == 1
    err = capsys.readouterr().err
    assert "gates.yaml" in err and "gates.pilot[1].op" in err


def test_validate_fails_on_a_broken_source(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(project / "data")
    assert _run(project, "validate") == 1
    assert "FAILED" in capsys.readouterr().out


# exit 3, "cannot decide": a CI release gate must never read an error as no-go (1) or
# conditional (2); argparse's own usage exit code (2) would read as "conditional"
@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("check", "alpha", "--as-of", "garbage"), "not an ISO 8601 instant: 'garbage'"),
        (("check", "alpha", "--as-of", "2026-13-01"), "not an ISO 8601 instant"),
        (("check", "alpha", "--frobnicate"), "unrecognized arguments: --frobnicate"),
        (("check",), "the following arguments are required: initiative"),
        (("check", "nobody", "--as-of", T), "unknown initiative 'nobody'; known: alpha"),
        (("report", "--as-of", "yesterday"), "not an ISO 8601 instant: 'yesterday'"),
        (("report", "--pdf", "r.pdf", "--paper", "a5"), "argument --paper: invalid choice: 'a5'"),
        (("report", "--trend-weeks", "0"), "expected a whole number of weeks >= 1, got '0'"),
        (("report", "--since", "soon"), "not an ISO 8601 instant: 'soon'"),
        (("validate", "--show", "many"), "argument --show: invalid int value: 'many'"),
        (("demo", "--scale", "big"), "argument --scale: invalid float value: 'big'"),
        (("frobnicate",), "invalid choice: 'frobnicate'"),
    ],
)
def test_every_usage_error_exits_3_without_a_traceback(
    project: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], says: str
) -> None:
    assert _run(project, *args) == 3
    err = capsys.readouterr().err
    assert says in err
    assert "Traceback" not in err


def test_no_command_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 3
    assert "the following arguments are required: command" in capsys.readouterr().err


def test_help_still_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--help"]) == 0
    assert "3 cannot decide" in capsys.readouterr().out


def test_an_invalid_configuration_cannot_be_decided(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gates = project / "config" / "gates.yaml"
    gates.write_text(gates.read_text().replace("op: '=='", "op: '=~'"))
    assert _run(project, "check", "alpha", "--as-of", T) == 3
    assert _run(project, "report", "--as-of", T) == 3
    err = capsys.readouterr().err
    assert err.count("gates.pilot[1].op") == 2
    assert "Traceback" not in err


@pytest.mark.parametrize("command", ["check", "report", "validate"])
def test_an_internal_error_is_one_line_and_exit_3(
    project: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    command: str,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise ZeroDivisionError("a bug in the engine")

    monkeypatch.setattr("pilotwatch.engine.run", broken)
    monkeypatch.setattr("pilotwatch.sources.load_sources", broken)
    monkeypatch.delenv("PILOTWATCH_DEBUG", raising=False)
    args = ("check", "alpha") if command == "check" else (command,)
    assert _run(project, *args) == 3
    err = capsys.readouterr().err
    assert err == "internal error: ZeroDivisionError: a bug in the engine\n"

    monkeypatch.setenv("PILOTWATCH_DEBUG", "1")
    assert _run(project, *args) == 3
    assert "Traceback" in capsys.readouterr().err  # the maintainer's view, on request only


def test_report_to_an_unwritable_path_exits_3(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "no" / "such" / "dir" / "report.json"
    assert _run(project, "report", "--as-of", T, "--json", str(missing)) == 3
    err = capsys.readouterr().err
    assert f"cannot write the JSON report to {missing}: No such file or directory" in err
    under_a_file = tmp_path / "config-file" / "r.html"
    (tmp_path / "config-file").write_text("not a directory")
    assert _run(project, "report", "--as-of", T, "--html", str(under_a_file)) == 3
    err = capsys.readouterr().err
    assert f"cannot write the HTML report to {under_a_file}: Not a directory" in err
    assert "Traceback" not in err


def test_report_pack_since_must_be_before_the_as_of(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "r.html"
    args = ("report", "--as-of", T, "--html", str(out), "--since", "2026-11-17T00:00:00Z")
    assert _run(project, *args) == 3
    err = capsys.readouterr().err
    assert "--since 2026-11-17T00:00:00Z is not before the as-of 2026-11-16T12:00:00Z" in err
    assert not out.exists()
    since = ("report", "--as-of", T, "--html", str(out), "--since", "2026-11-16T08:00:00Z")
    assert _run(project, *since) == 0
    # before 08:00 gamma had no open incident: it was GO with its score of 100
    page = out.read_text()
    # one baseline for every initiative: the note names it once (no "Compared with" column)
    assert "Compared with the chosen baseline, the report as of 2026-11-16 08:00 UTC." in page
    assert "Compared with</th>" not in page
    assert "Verdict from ✓ GO to ⚠ CONDITIONAL." in page


def test_check_names_a_failed_source_on_stderr(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.rmtree(project / "data")
    assert _run(project, "check", "alpha", "--as-of", T) == 0  # alpha needs no incident data
    err = capsys.readouterr().err
    assert "warning: source incidents failed to load (source 'incidents': file not found" in err
    assert "using no data" in err
