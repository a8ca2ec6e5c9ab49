"""`prometheus_rules`: promtool accepts the file, and its unit tests prove the page and ticket
alerts fire on the burn rates worked out by hand (docs/metrics.md, burn-rate alerts)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from core.models import Slo
from pilotwatch.slo_import.export_rules import prometheus_rules

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"


def need_promtool() -> str:
    """promtool's path, or skip (fail with PILOTWATCH_REQUIRE_SERVICES=1, as tests/conftest.py)."""
    if not Path(PROMTOOL).exists():
        reason = "promtool is not installed"
        if os.environ.get("PILOTWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (PILOTWATCH_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return PROMTOOL


def slo(name: str, **extra: object) -> Slo:
    base: dict[str, object] = {"name": name, "initiative": "portal", "sli": "availability"}
    return Slo.model_validate({**base, "target": 0.999, **extra})


API = slo("api", indicator={"bad": 'errors_total{job="api"}', "total": 'requests_total{job="api"}'})
SLOS = [
    API,
    slo(
        "lat",
        sli="latency",
        threshold_ms=300,
        target=0.99,
        indicator={"histogram": 'http_seconds{job="api"}', "unit": "s"},
    ),
    slo("good", indicator={"good": "ok_total", "total": "all_total"}),
    slo("est", indicator={"bad": "sum(increase(e_total[1m]))", "total": "t_total"}),
    slo("rows"),
]


def test_rules_shape_and_notes() -> None:
    text, notes = prometheus_rules(SLOS)
    groups = yaml.safe_load(text)["groups"]
    assert [g["name"] for g in groups] == [
        "pilotwatch-slo-api",
        "pilotwatch-slo-lat",
        "pilotwatch-slo-good",
        "pilotwatch-slo-est",
    ]
    rules = groups[0]["rules"]
    # 7 burn windows recorded + 4 alert pairs
    assert len(rules) == 11
    assert rules[0] == {
        "record": "pilotwatch:slo_errors_per_request:ratio_rate5m",
        "expr": 'sum(increase(errors_total{job="api"}[5m])) / '
        'sum(increase(requests_total{job="api"}[5m]))',
        "labels": {"slo": "api", "initiative": "portal"},
    }
    alerts = [r for r in rules if "alert" in r]
    # thresholds: factor x (1 - 0.999): 14.4 x 0.001 = 0.0144, 6 -> 0.006, 3 -> 0.003, 1 -> 0.001
    assert [(a["labels"]["severity"], a["expr"].split(" >= ")[-1]) for a in alerts] == [
        ("page", "0.0144"),
        ("page", "0.006"),
        ("ticket", "0.003"),
        ("ticket", "0.001"),
    ]
    lat = groups[1]["rules"][0]["expr"]
    # 300 ms in seconds = 0.3; good = bucket{le=0.3}
    assert 'http_seconds_bucket{job="api", le=~"0\\\\.3"}[5m]' in lat
    assert lat.startswith('(sum(increase(http_seconds_count{job="api"}[5m])) - ')
    good = groups[2]["rules"][0]["expr"]
    assert good == (
        "(sum(increase(all_total[5m])) - sum(increase(ok_total[5m]))) / "
        "sum(increase(all_total[5m]))"
    )
    assert groups[3]["rules"][0]["expr"].startswith(
        "sum(sum_over_time((sum(increase(e_total[1m])))[5m:1m]))"
    )
    assert notes == [
        "est: exported with its expression summed per minute (sum_over_time over 1m steps): "
        "an estimate, like its buckets",
        "rows: not exported: it is computed from request rows, not from Prometheus series "
        "(no indicator)",
    ]


def test_promtool_check_rules(tmp_path: Path) -> None:
    promtool = need_promtool()
    path = tmp_path / "rules.yml"
    path.write_text(prometheus_rules(SLOS)[0])
    done = subprocess.run(
        [promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS: 44 rules found" in done.stdout  # 4 SLOs x 11 rules


def _alert(severity: str, long: str, short: str, factor: str) -> dict[str, object]:
    return {
        "exp_labels": {
            "alertname": "PilotwatchErrorBudgetBurn",
            "slo": "api",
            "initiative": "portal",
            "severity": severity,
            "long_window": long,
            "short_window": short,
        },
        "exp_annotations": {
            "summary": f"SLO api burns its error budget at {factor}x or more over {long} and "
            f"{short} ({severity})",
            "description": f"burn({long}) >= {factor} and burn({short}) >= {factor}, burn = "
            "error ratio / (1 - 0.999); the same rule as the pilotwatch dashboard "
            "(docs/metrics.md)",
        },
    }


PAGE = [_alert("page", "1h", "5m", "14.4"), _alert("page", "6h", "30m", "6")]
TICKET = [_alert("ticket", "1d", "2h", "3"), _alert("ticket", "3d", "6h", "1")]


def test_promtool_unit_tests_fire_page_at_20x_not_at_2x(tmp_path: Path) -> None:
    promtool = need_promtool()
    (tmp_path / "rules.yml").write_text(prometheus_rules([API])[0])
    # 100 requests a minute for 7h (420 samples). Budget 1 - 0.999 = 0.001.
    # 20x: 2 errors a minute -> ratio 2/100 = 0.02 = 20 x 0.001: every pair fires
    #      (0.02 >= 0.0144, 0.006, 0.003, 0.001).
    # 2x:  0.2 errors a minute -> 0.002 = 2 x 0.001: no page (0.002 < 0.0144 and < 0.006),
    #      no 1d/2h ticket (0.002 < 0.003), but the 3d/6h ticket (0.002 >= 0.001).
    cases = [("20x", "0+2x420", PAGE + TICKET), ("2x", "0+0.2x420", [TICKET[1]])]
    tests = []
    for job, errors, expected in cases:
        tests.append(
            {
                "interval": "1m",
                "input_series": [
                    {"series": 'errors_total{job="api"}', "values": errors},
                    {"series": 'requests_total{job="api"}', "values": "0+100x420"},
                ],
                "alert_rule_test": [
                    {
                        "eval_time": "7h",
                        "alertname": "PilotwatchErrorBudgetBurn",
                        "exp_alerts": expected,
                    }
                ],
                "name": f"burn {job}",
            }
        )
    (tmp_path / "test.yml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": tests})
    )
    done = subprocess.run(
        [promtool, "test", "rules", "test.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_promtool_unit_test_fails_when_the_page_is_expected_at_2x(tmp_path: Path) -> None:
    """The unit test above can fail: expecting a page at 2x makes promtool report it."""
    promtool = need_promtool()
    (tmp_path / "rules.yml").write_text(prometheus_rules([API])[0])
    test = {
        "interval": "1m",
        "input_series": [
            {"series": 'errors_total{job="api"}', "values": "0+0.2x420"},
            {"series": 'requests_total{job="api"}', "values": "0+100x420"},
        ],
        "alert_rule_test": [
            {"eval_time": "7h", "alertname": "PilotwatchErrorBudgetBurn", "exp_alerts": PAGE}
        ],
    }
    (tmp_path / "test.yml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yml"], "evaluation_interval": "1m", "tests": [test]})
    )
    done = subprocess.run(
        [promtool, "test", "rules", "test.yml"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode != 0
