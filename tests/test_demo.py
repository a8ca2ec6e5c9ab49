"""The seeded demo portfolio: deterministic bytes, canonical schemas, volume, and its story."""

from __future__ import annotations

import sqlite3
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import pilotwatch.demo.requests as demo_requests
from core.canonical import SCHEMAS
from metrics.portfolio import Portfolio, compute_portfolio
from pilotwatch.config import load_config
from pilotwatch.demo import DemoSummary, request_rows, write_demo
from pilotwatch.demo.records import ISO_Z, read_incidents
from pilotwatch.report import build_report

ROOT = Path(__file__).resolve().parents[1]
AS_OF = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # settings.demo_as_of in config/
SMALL = 0.02  # a fiftieth of the traffic: enough to exercise every code path quickly
CSV_TABLES = {
    "deployments.csv": "deployments",
    "kpi_observations.csv": "kpi_observations",
    "evidence.csv": "evidence",
}


def contents(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def read_csv(path: Path, table: str) -> pl.DataFrame:
    """A demo CSV parsed strictly into its canonical dtypes (fails on any bad value)."""
    schema = SCHEMAS[table]
    raw = pl.read_csv(path, schema=dict.fromkeys(schema, pl.String()))
    return raw.select(
        pl.col(name).str.to_datetime(ISO_Z, time_zone="UTC", time_unit="us", strict=True)
        if isinstance(dtype, pl.Datetime)
        else pl.col(name).cast(dtype, strict=True)
        for name, dtype in schema.items()
    )


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    """The demo at scale 1 with the default seed, written once per test session."""
    return write_demo(tmp_path_factory.mktemp("demo") / "demo")


@pytest.fixture(scope="session")
def portfolio(demo: DemoSummary) -> Portfolio:
    """The demo's metrics, computed straight from its files (no connectors involved)."""
    out = demo.out_dir

    def tagged(frame: pl.DataFrame | pl.LazyFrame, source: str) -> pl.LazyFrame:
        return frame.lazy().with_columns(pl.lit(source).alias("source"))

    tables = {
        "requests": pl.concat(
            [
                tagged(pl.scan_parquet(out / "requests" / "*.parquet"), "demo-requests"),
                tagged(
                    pl.scan_parquet(out / "device-telemetry" / "*.parquet"),
                    "hah-device-telemetry",
                ),
            ]
        ),
        "deployments": tagged(read_csv(out / "deployments.csv", "deployments"), "demo-deployments"),
        "incidents": tagged(read_incidents(out / "demo.db"), "demo-incidents"),
        "kpi_observations": tagged(
            read_csv(out / "kpi_observations.csv", "kpi_observations"), "demo-kpis"
        ),
        "evidence": tagged(read_csv(out / "evidence.csv", "evidence"), "demo-evidence"),
    }
    config = load_config(ROOT / "config", env={})
    return compute_portfolio(tables, config, AS_OF)


@pytest.fixture(scope="session")
def report(portfolio: Portfolio) -> dict[str, dict[str, Any]]:
    """The schema-1 report of the demo, by initiative id."""
    return {i["id"]: i for i in build_report(portfolio).to_jsonable()["initiatives"]}


# --- determinism, volume, layout -----------------------------------------------------------


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_demo(tmp_path / "a", scale=SMALL, seed=7)
    second = write_demo(tmp_path / "b", scale=SMALL, seed=7)
    assert first.rows == second.rows
    a, b = contents(tmp_path / "a"), contents(tmp_path / "b")
    assert sorted(a) == sorted(b)
    assert [name for name in a if a[name] != b[name]] == []


def test_another_seed_changes_the_noise_not_the_story(tmp_path: Path) -> None:
    write_demo(tmp_path / "a", scale=SMALL, seed=7)
    write_demo(tmp_path / "b", scale=SMALL, seed=8)
    a, b = contents(tmp_path / "a"), contents(tmp_path / "b")
    assert a["requests/2026-11-01.parquet"] != b["requests/2026-11-01.parquet"]
    # incidents are written by hand: the same story whatever the seed
    assert a["demo.db"] == b["demo.db"]


def test_chunking_never_changes_a_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_demo(tmp_path / "whole", scale=SMALL)
    monkeypatch.setattr(demo_requests, "_CHUNK_ROWS", 200)  # split every day into parts
    write_demo(tmp_path / "parts", scale=SMALL)
    parts = sorted((tmp_path / "parts" / "requests").glob("*.parquet"))
    assert any("_" in p.stem for p in parts)
    whole = pl.read_parquet(tmp_path / "whole" / "requests" / "*.parquet")
    assert whole.equals(pl.read_parquet(parts))


def test_row_count_formula_matches_what_is_written(tmp_path: Path) -> None:
    summary = write_demo(tmp_path / "d", scale=SMALL)
    files = list((tmp_path / "d").glob("*/*.parquet"))
    written = pl.scan_parquet(files).select(pl.len()).collect().item()
    assert summary.rows["requests"] == written == request_rows(SMALL)


def test_scale_one_has_at_least_two_million_requests(demo: DemoSummary) -> None:
    assert demo.rows["requests"] >= 2_000_000
    assert demo.rows["requests"] == request_rows(1.0)
    assert request_rows(10.0) >= 20_000_000


def test_requests_are_written_one_file_per_day(demo: DemoSummary) -> None:
    days = sorted(p.stem for p in (demo.out_dir / "requests").glob("*.parquet"))
    # 90 days ending at 12:00 UTC touch 91 calendar dates
    assert (days[0], days[-1], len(days)) == ("2026-08-18", "2026-11-16", 91)


# --- canonical schemas ---------------------------------------------------------------------


def test_request_files_have_the_canonical_schema(demo: DemoSummary) -> None:
    for path in demo.out_dir.glob("*/*.parquet"):
        assert dict(pl.read_parquet_schema(path)) == SCHEMAS["requests"], path


@pytest.mark.parametrize(("name", "table"), sorted(CSV_TABLES.items()))
def test_csv_files_have_canonical_columns_and_values(
    demo: DemoSummary, name: str, table: str
) -> None:
    path = demo.out_dir / name
    header = path.read_text().splitlines()[0].split(",")
    assert header == list(SCHEMAS[table])
    frame = read_csv(path, table)  # strict: any value that is not of its dtype raises
    assert frame.schema == pl.Schema(SCHEMAS[table])
    assert frame.height > 0


def test_incident_database_has_the_canonical_columns(demo: DemoSummary) -> None:
    with sqlite3.connect(demo.out_dir / "demo.db") as connection:
        names = [row[1] for row in connection.execute("PRAGMA table_info(incidents)")]
    assert names == list(SCHEMAS["incidents"])
    assert read_incidents(demo.out_dir / "demo.db").schema == pl.Schema(SCHEMAS["incidents"])


def test_nothing_happens_at_or_after_the_as_of_instant(demo: DemoSummary) -> None:
    out = demo.out_dir
    stamps = pl.scan_parquet(list(out.glob("*/*.parquet"))).select(
        pl.col("timestamp").min().alias("first"), pl.col("timestamp").max().alias("last")
    )
    first, last = stamps.collect().row(0)
    assert AS_OF - timedelta(days=90) <= first and last < AS_OF
    assert read_csv(out / "deployments.csv", "deployments")["finished_at"].max() < AS_OF
    assert read_incidents(out / "demo.db")["opened_at"].max() < AS_OF
    assert read_csv(out / "kpi_observations.csv", "kpi_observations")["period_end"].max() < AS_OF
    assert read_csv(out / "evidence.csv", "evidence")["collected_at"].max() < AS_OF


def test_a_few_staging_requests_and_nullable_status_codes(demo: DemoSummary) -> None:
    frame = pl.scan_parquet(list(demo.out_dir.glob("*/*.parquet")))
    counts = frame.select(
        (pl.col("environment") == "staging").sum().alias("staging"),
        pl.col("status_code").is_null().sum().alias("no_status"),
        pl.len().alias("rows"),
    ).collect()
    staging, no_status, rows = counts.row(0)
    assert 0 < staging < rows * 0.01
    assert no_status > 0  # gRPC spans from the device gateway carry no HTTP status


def test_shipped_sources_read_the_demo_layout(demo: DemoSummary) -> None:
    config = load_config(ROOT / "config", env={})
    for source in config.sources:
        pattern = source.settings.get("path")
        if pattern is None:
            assert source.settings["url"] == "sqlite:///data/demo/demo.db"
            continue
        assert pattern.startswith("data/demo/"), pattern
        assert list(demo.out_dir.glob(pattern.removeprefix("data/demo/"))), pattern


# --- the story (docs/demo.md) --------------------------------------------------------------

VERDICTS = {
    "discharge-chatbot": "go",
    "sepsis-ews": "conditional",
    "prior-auth": "no_go",
    "hah-telemetry": "no_go",
    "virtual-triage": "conditional",
    "remote-bp": "no_go",
    "self-scheduling": "go",
    "e-prescribing": "no_go",
}


def test_story_verdicts(report: dict[str, dict[str, Any]]) -> None:
    assert {i: r["readiness"]["verdict"] for i, r in report.items()} == VERDICTS
    # sepsis: blocking checks pass; two weighted misses of weight 2: 100 * 5 / 9
    assert report["sepsis-ews"]["readiness"]["score"] == pytest.approx(500 / 9)


def test_story_checks(report: dict[str, dict[str, Any]]) -> None:
    def outcome(initiative: str, check: str) -> str:
        checks = report[initiative]["readiness"]["checks"]
        return next(c["outcome"] for c in checks if c["id"] == check)

    assert outcome("virtual-triage", "prod-compliance-gaps") == "waived"
    assert outcome("e-prescribing", "prod-change-failure-rate") == "fail"  # its waiver expired
    assert outcome("remote-bp", "prod-no-open-sev12") == "fail"
    assert outcome("remote-bp", "prod-recovery-time") == "insufficient_data"
    assert outcome("hah-telemetry", "lp-no-stale-sources") == "fail"
    assert report["hah-telemetry"]["data"]["stale_sources"] == 1
    assert sum(r["data"]["stale_sources"] for r in report.values()) == 1


def test_story_slos(report: dict[str, dict[str, Any]]) -> None:
    slos = {s["name"]: s for r in report.values() for s in r["slos"]}
    statuses = {name: s["status"] for name, s in slos.items()}
    assert statuses.pop("discharge-chatbot-availability") == "no_data"
    assert statuses.pop("e-prescribing-availability") == "breached"
    assert statuses.pop("prior-auth-availability") == "breached"
    assert statuses.pop("virtual-triage-availability") == "at_risk"
    assert set(statuses.values()) == {"healthy"}
    assert slos["prior-auth-availability"].get("low_traffic", True) is True
    page = {
        (a["severity"], a["long"], a["short"])
        for a in slos["virtual-triage-availability"]["alerts"]
    }
    assert ("page", "1h", "5m") in page
    ticket = {(a["severity"], a["long"]) for a in slos["remote-bp-ingest-latency"]["alerts"]}
    assert ticket == {("ticket", "3d")}


def test_story_delivery_levels(report: dict[str, dict[str, Any]]) -> None:
    levels = {i: r["delivery"]["levels"] for i, r in report.items()}
    assert set(levels["self-scheduling"].values()) == {"elite"}
    assert set(levels["virtual-triage"].values()) == {"high"}
    assert set(levels["prior-auth"].values()) == {"low"}
    assert set(levels["sepsis-ews"].values()) == {"insufficient_data"}  # three deployments
    assert levels["remote-bp"] == {
        "frequency": "medium",
        "lead_time": "medium",
        "change_failure": "medium",
        "recovery": "insufficient_data",  # nothing resolved in the window
    }


def test_story_incidents(report: dict[str, dict[str, Any]]) -> None:
    assert report["remote-bp"]["incidents"]["open_sev12"] == 1
    assert report["sepsis-ews"]["incidents"]["patient_impacting"] == 1
    # unlinked: the feed outage and the carrier outage; INC-1977 only (INC-1811 predates the
    # window); the Sunday CDN incident, 44 h after Friday's release
    unlinked = {i: r["delivery"]["unlinked_incidents"] for i, r in report.items()}
    assert (unlinked["hah-telemetry"], unlinked["e-prescribing"], unlinked["self-scheduling"]) == (
        2,
        1,
        1,
    )


def test_story_outcomes(report: dict[str, dict[str, Any]]) -> None:
    statuses = Counter(o["status"] for r in report.values() for o in r["outcomes"])
    assert set(statuses) == {"on_track", "off_track", "no_data", "suppressed"}
    suppressed = [o for r in report.values() for o in r["outcomes"] if o["status"] == "suppressed"]
    assert all(o["value"] is None for o in suppressed)
    assert report["self-scheduling"]["outcomes_summary"]["on_track_share"] == 1.0
    assert report["discharge-chatbot"]["outcomes_summary"]["on_track_share"] is None


def test_story_compliance(report: dict[str, dict[str, Any]], portfolio: Portfolio) -> None:
    gaps = {
        (i, g["control"]): g["status"] for i, r in report.items() for g in r["compliance"]["gaps"]
    }
    assert gaps == {
        ("prior-auth", "hipaa-312a-automatic-logoff"): "na_unjustified",
        ("prior-auth", "product-role-based-access"): "failing",
        ("hah-telemetry", "hipaa-310d-accountability"): "missing",
        ("hah-telemetry", "hipaa-310d-media-reuse"): "missing",
        ("hah-telemetry", "product-oncall-runbooks"): "missing",
        ("hah-telemetry", "product-tested-backups"): "missing",
        ("virtual-triage", "product-dr-drill"): "expired",
        ("e-prescribing", "hipaa-308a7-emergency-mode-plan"): "missing",
        ("e-prescribing", "hipaa-308a8-evaluation"): "expired",
        ("e-prescribing", "hipaa-312b-audit-controls"): "failing",
        ("e-prescribing", "product-dr-drill"): "missing",
    }
    expiring = {(i, e["control"]) for i, r in report.items() for e in r["compliance"]["expiring"]}
    assert expiring == {
        ("sepsis-ews", "hipaa-308a1-risk-analysis"),
        ("self-scheduling", "hipaa-312e-encryption"),
        ("virtual-triage", "product-tested-backups"),
    }
    statuses = set(portfolio.controls.get_column("status").to_list())
    assert {"ok", "not_applicable"} <= statuses


def test_demo_report_validates_against_the_shipped_schema(portfolio: Portfolio) -> None:
    import json

    import jsonschema

    from pilotwatch.report import SCHEMA_PATH

    document = build_report(portfolio).to_jsonable()
    jsonschema.validate(document, json.loads(SCHEMA_PATH.read_text()))
    assert document["as_of"] == "2026-11-16T12:00:00Z"
    assert len(document["initiatives"]) == 8
