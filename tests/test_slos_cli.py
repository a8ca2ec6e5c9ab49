"""`pilotwatch slos import | export` (docs/bring-your-slos.md): reports, exit codes, round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from core.models import Slo
from pilotwatch.cli import main

DATA = Path(__file__).parent / "data" / "slo_standards" / "openslo"
INITIATIVE = """\
initiatives:
  - id: web-shop
    name: Web shop
    stage: pilot
    owner: a
    sponsor: b
    clinical_area: c
    started_on: 2026-01-05
"""
SLOS = """\
slos:
  - {name: up, initiative: web-shop, sli: availability, target: 0.999, window: 30d}
  - name: fast
    initiative: web-shop
    sli: latency
    threshold_ms: 250
    threshold_op: lt
    target: 0.99
    window: {calendar: 1M, start: "2026-01-15T08:00:00", timezone: America/New_York}
    budgeting: ratio_timeslices
    timeslice: {length: 5m}
    filter: {operation: GET /slots}
"""


def test_import_prints_each_key_with_its_source(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["slos", "import", str(DATA / "variants-v1.yaml")]) == 0
    out = capsys.readouterr().out
    assert f"SLO checkout-30d ({DATA / 'variants-v1.yaml'}, document 7): mapped" in out
    assert "  target: 0.999  <- spec.objectives[0].targetPercent  (99.9 % -> 0.999)" in out
    assert "  window: 30d  <- spec.timeWindow[0]  (rolling)" in out
    assert "note: " in out and "kind: DataSource is not an SLO; read for references" in out
    assert out.rstrip().endswith("8 SLO(s) mapped, 0 refused")


def test_import_json_gives_pastable_slos_and_exit_1_on_a_refusal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = [str(DATA / "variants-v2alpha.yaml"), str(DATA / "spec-timeslices-slo.yaml")]
    assert main(["slos", "import", *files, "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert set(report) == {"slos", "refused"}
    (slo,) = report["slos"]
    assert Slo.model_validate(slo).name == "web-availability"  # exactly what slos.yaml takes
    assert [(r["document"], r["field"], r["slo"]) for r in report["refused"]] == [
        (1, "spec.indicator.spec.ratioMetric.good.metricSource.type", "service-availability"),
        (1, "spec.timeWindow[0].duration", "service-availability"),
    ]
    assert report["refused"][0]["file"] == files[1]


def test_initiative_option_is_applied(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["slos", "import", str(DATA / "variants-v2alpha.yaml"), "--initiative", "z", "--json"])
        == 0
    )
    assert json.loads(capsys.readouterr().out)["slos"][0]["initiative"] == "z"


def test_unreadable_file_and_usage_errors_exit_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["slos", "import", str(tmp_path / "missing.yaml")]) == 3
    err = capsys.readouterr().err
    assert "cannot read" in err and "no such file" in err and "Traceback" not in err
    assert main(["slos", "import", str(tmp_path)]) == 3  # a folder is not a file
    assert main(["slos"]) == 3
    assert main(["slos", "export", "--format", "csv"]) == 3


def _config(tmp_path: Path) -> Path:
    root = tmp_path / "config"
    root.mkdir(parents=True)
    (root / "initiatives.yaml").write_text(INITIATIVE)
    (root / "slos.yaml").write_text(SLOS)
    return root


def test_export_openslo_imports_back_to_the_configured_slos(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _config(tmp_path)
    out = tmp_path / "openslo.yaml"
    assert (
        main(["slos", "export", "--format", "openslo", "--config", str(root), "--output", str(out)])
        == 0
    )
    docs = list(yaml.safe_load_all(out.read_text()))
    assert [d["metadata"]["name"] for d in docs] == ["up", "fast"]
    assert docs[1]["spec"]["budgetingMethod"] == "RatioTimeslices"
    assert docs[1]["spec"]["timeWindow"][0]["calendar"] == {
        "startTime": "2026-01-15 08:00:00",
        "timeZone": "America/New_York",
    }
    capsys.readouterr()
    assert main(["slos", "import", str(out), "--json"]) == 0
    back = [Slo.model_validate(s) for s in json.loads(capsys.readouterr().out)["slos"]]
    expected = [Slo.model_validate(s) for s in yaml.safe_load(SLOS)["slos"]]
    assert back == expected


def test_export_to_stdout_and_an_invalid_config_exits_3(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _config(tmp_path)
    assert main(["slos", "export", "--config", str(root)]) == 0
    assert capsys.readouterr().out.startswith("---\napiVersion: openslo/v1\nkind: SLO\n")
    (root / "slos.yaml").write_text("slos:\n  - {name: x}\n")
    assert main(["slos", "export", "--config", str(root)]) == 3
    assert "configuration error" in capsys.readouterr().err
    assert (
        main(
            ["slos", "export", "--config", str(_config(tmp_path / "b")), "--output", str(tmp_path)]
        )
        == 3
    )
    assert "cannot write the export" in capsys.readouterr().err


def test_export_prometheus_rules_calls_the_rules_exporter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _config(tmp_path)
    (root / "slos.yaml").write_text(
        "slos:\n"
        "  - {name: up, initiative: web-shop, sli: availability, target: 0.999,\n"
        "     indicator: {bad: 'errors_total', total: 'requests_total'}}\n"
        "  - {name: rows, initiative: web-shop, sli: availability, target: 0.99}\n"
    )
    assert main(["slos", "export", "--format", "prometheus-rules", "--config", str(root)]) == 0
    captured = capsys.readouterr()
    groups = yaml.safe_load(captured.out)["groups"]
    assert [g["name"] for g in groups] == ["pilotwatch-slo-up"]  # `rows` has no Prometheus data
    assert "note: rows: not exported" in captured.err
