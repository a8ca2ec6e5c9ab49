"""The schema-1 JSON (docs/metrics.md, "The report (JSON)"): keys, types, nulls, instants, order."""

from __future__ import annotations

import json
import math
import re
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from metrics_helpers import (
    DAY,
    HOUR,
    MIN,
    T,
    check,
    config,
    control,
    entry,
    frame,
    initiative,
    report,
    req_block,
    requests,
    slo,
    waiver,
)

from core.enums import Verdict
from core.models import Kpi, Source
from core.report import GATE_METRICS, Report
from pilotwatch.report import SCHEMA_PATH, dumps
from pilotwatch.report.schema import schema_text

SPEC_KEYS = {
    "initiative": {
        "id",
        "name",
        "stage",
        "gate",
        "readiness",
        "slos",
        "slo_summary",
        "delivery",
        "incidents",
        "outcomes",
        "outcomes_summary",
        "compliance",
        "data",
    },
    "readiness": {"verdict", "score", "blockers", "checks"},
    "check": {"id", "metric", "value", "op", "threshold", "outcome", "blocking"},
    "slo": {
        "name",
        "sli_type",
        "target",
        "window",
        "budgeting",
        "good",
        "total",
        "sli",
        "budget_remaining",
        "burn_rates",
        "alerts",
        "status",
    },
    "slo_summary": {"defined", "breached", "min_budget_remaining"},
    "delivery": {
        "deployments",
        "deployment_frequency_per_day",
        "deploy_days_per_week_median",
        "deploy_days_per_month_median",
        "lead_time_hours_median",
        "change_failure_rate",
        "recovery_time_hours_median",
        "unlinked_incidents",
        "levels",
    },
    "levels": {"frequency", "lead_time", "change_failure", "recovery"},
    "incidents": {
        "open_by_severity",
        "open_sev12",
        "mtta_minutes",
        "mttr_hours",
        "patient_impacting",
    },
    "outcome": {"kpi", "kind", "value", "target", "direction", "status", "period_end"},
    "compliance": {"required", "coverage", "gap_count", "gaps", "expiring"},
}


def _rich() -> dict[str, Any]:
    inits = [
        initiative(
            "zeta", "pilot", kpis=[Kpi(name="k", kind="clinical", direction="higher", target=0.5)]
        ),
        initiative("alpha", "production"),
    ]
    cfg = config(
        inits,
        slos=[
            slo("avail", initiative="zeta", target=0.75),
            slo("fed", initiative="zeta", target=0.75),
            slo("quiet", initiative="alpha"),
        ],
        controls=[control("c1"), control("c2")],
        gates={
            "limited_production": [
                check("slo", "slo_summary.defined", ">=", 1, blocking=True),
                check("cfr", "delivery.change_failure_rate", "<=", 0.3, weight=2),
            ],
            "production": [
                check(
                    "gaps",
                    "compliance.gap_count",
                    "==",
                    0,
                    blocking=True,
                    remediation="Collect evidence",
                )
            ],
        },
        waivers=[waiver("cfr", date(2025, 4, 1), iid="zeta")],
        sources=[Source(name="src", type="file", tables=["requests"])],
    )
    tables = {
        "requests": requests(req_block(T - HOUR, 8, bad=1, initiative="zeta")),
        # "fed" takes its buckets from this table alone (an estimate); "avail" from requests
        "sli_buckets": frame(
            "sli_buckets",
            [{"slo": "fed", "bucket_start": T - 2 * HOUR, "good": 3, "total": 4, "estimate": True}],
        ),
        "deployments": frame(
            "deployments",
            [
                {
                    "deploy_id": "d1",
                    "initiative": "zeta",
                    "finished_at": T - DAY,
                    "commit_at": T - DAY - HOUR,
                },
            ],
        ),
        "incidents": frame(
            "incidents",
            [
                {
                    "incident_id": "i1",
                    "initiative": "zeta",
                    "opened_at": T - DAY + MIN,
                    "severity": 1,
                    "acknowledged_at": T - DAY + 2 * MIN,
                },
            ],
        ),
        "kpi_observations": frame(
            "kpi_observations",
            [
                {"initiative": "zeta", "kpi": "k", "period_end": T - DAY, "value": 0.75},
            ],
        ),
        "evidence": frame(
            "evidence",
            [
                {
                    "initiative": "alpha",
                    "control_id": "c1",
                    "status": "pass",
                    "collected_at": T - DAY,
                    "expires_at": T + 10 * DAY,
                },
            ],
        ),
    }
    return report(tables, cfg)


@pytest.fixture(scope="module")
def rich() -> dict[str, Any]:
    return _rich()


def test_top_level_and_initiative_order(rich: dict[str, Any]) -> None:
    assert rich["schema"] == 1
    assert rich["as_of"] == "2025-03-15T12:00:00Z"
    assert [i["id"] for i in rich["initiatives"]] == ["zeta", "alpha"]  # configuration order


def test_every_spec_key_is_present(rich: dict[str, Any]) -> None:
    for ini in rich["initiatives"]:
        assert SPEC_KEYS["initiative"] <= set(ini)
        assert SPEC_KEYS["readiness"] <= set(ini["readiness"])
        for c in ini["readiness"]["checks"]:
            assert SPEC_KEYS["check"] <= set(c)
        for b in ini["readiness"]["blockers"]:
            assert set(b) >= {"check", "remediation"}
        for s in ini["slos"]:
            assert SPEC_KEYS["slo"] <= set(s)
            assert list(s["burn_rates"]) == ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
            for a in s["alerts"]:
                assert set(a) >= {"severity", "long", "short"}
        assert SPEC_KEYS["slo_summary"] <= set(ini["slo_summary"])
        assert SPEC_KEYS["delivery"] <= set(ini["delivery"])
        assert SPEC_KEYS["levels"] <= set(ini["delivery"]["levels"])
        assert SPEC_KEYS["incidents"] <= set(ini["incidents"])
        assert set(ini["incidents"]["open_by_severity"]) == {"1", "2", "3", "4"}
        for o in ini["outcomes"]:
            assert SPEC_KEYS["outcome"] <= set(o)
        assert "on_track_share" in ini["outcomes_summary"]
        assert SPEC_KEYS["compliance"] <= set(ini["compliance"])
        assert "stale_sources" in ini["data"]


def test_values_of_the_rich_report(rich: dict[str, Any]) -> None:
    zeta, alpha = entry(rich, "zeta"), entry(rich, "alpha")
    assert (zeta["stage"], zeta["gate"], alpha["gate"]) == (
        "pilot",
        "limited_production",
        "production",
    )
    s, fed = zeta["slos"]
    # 8 requests (1 bad) -> 7 good of 8; consumed 1 / (0.25 * 8) = 0.5
    assert (s["good"], s["total"]) == (7, 8)
    assert s["budget_remaining"] == 0.5
    assert s["burn_rates"]["5m"] is None and s["burn_rates"]["1h"] == 0.5  # (1/8) / 0.25
    assert (s["estimate"], s["timezone"], s["threshold_ms"], s["threshold_op"]) == (
        False,
        "UTC",
        None,
        None,
    )
    # fed: the one provided bucket only (the requests never count for it): 3 of 4
    assert (fed["good"], fed["total"], fed["estimate"]) == (3, 4, True)
    assert entry(rich, "alpha")["slos"][0]["status"] == "no_data"
    # d1 is linked to i1 (opened a minute after it finished): cfr 1/1 > 0.3, but waived
    assert zeta["delivery"]["change_failure_rate"] == 1.0
    assert zeta["delivery"]["lead_time_hours_median"] == 1.0
    assert zeta["incidents"]["open_sev12"] == 1
    assert zeta["incidents"]["mtta_minutes"] == 1.0
    assert zeta["outcomes"][0]["status"] == "on_track"
    assert zeta["outcomes_summary"]["on_track_share"] == 1.0
    assert {c["id"]: c["outcome"] for c in zeta["readiness"]["checks"]} == {
        "slo": "pass",
        "cfr": "waived",
    }
    assert (zeta["readiness"]["score"], zeta["readiness"]["verdict"]) == (100.0, "go")
    # alpha: c1 ok (expiring in 10 days), c2 missing
    assert alpha["compliance"]["gaps"] == [{"control": "c2", "status": "missing"}]
    assert alpha["compliance"]["coverage"] == 0.5
    assert alpha["compliance"]["expiring"][0]["control"] == "c1"
    assert alpha["readiness"]["verdict"] == "no_go"
    assert alpha["readiness"]["blockers"] == [{"check": "gaps", "remediation": "Collect evidence"}]


def _walk(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _walk(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [x for n, v in enumerate(value) for x in _walk(v, f"{path}[{n}]")]
    return [(path, value)]


def test_only_json_types_and_no_nan(rich: dict[str, Any]) -> None:
    for path, leaf in _walk(rich):
        assert leaf is None or isinstance(leaf, str | int | float | bool), path
        if isinstance(leaf, float):
            assert math.isfinite(leaf), path
    text = dumps(rich)
    assert json.loads(text) == rich


def test_instants_are_iso_with_z(rich: dict[str, Any]) -> None:
    zeta, alpha = entry(rich, "zeta"), entry(rich, "alpha")
    assert zeta["outcomes"][0]["period_end"] == "2025-03-14T12:00:00Z"
    assert alpha["compliance"]["expiring"][0]["expires_at"] == "2025-03-25T12:00:00Z"


def test_report_matches_the_shipped_json_schema(rich: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.validate(rich, schema)
    jsonschema.validate(report({}, config()), schema)


def test_shipped_schema_is_the_generated_one() -> None:
    # regenerate with `.venv/bin/python -m pilotwatch.report.schema` (docs/metrics.md)
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()
    jsonschema.Draft202012Validator.check_schema(json.loads(schema_text()))


def test_json_comes_from_the_model_in_field_order(rich: dict[str, Any]) -> None:
    model = Report.model_validate(rich)
    text = dumps(model)
    assert text == json.dumps(rich, indent=2, allow_nan=False) + "\n"
    assert list(json.loads(text)) == ["schema", "as_of", "initiatives", "sources"]
    assert dumps(Report.model_validate_json(text)) == text  # the JSON reads back to the model
    assert model.as_of.isoformat() == "2025-03-15T12:00:00+00:00"
    assert model.initiatives[0].readiness.verdict == Verdict.GO == "go"


def test_gate_metrics_are_the_documented_ones() -> None:
    doc = (Path(__file__).parents[1] / "docs" / "metrics.md").read_text(encoding="utf-8")
    section = doc.split("### Gate metrics", 1)[1].split("\n## ", 1)[0]
    listed = re.findall(r"^\| `([a-z_]+\.[a-z0-9_]+)` \|", section, flags=re.MULTILINE)
    assert listed == list(GATE_METRICS)
    assert GATE_METRICS["delivery.change_failure_rate"] == ("delivery", "change_failure_rate")
    assert len(GATE_METRICS) == 20
