"""load_sources: isolation of failing sources, health numbers, quarantine, snapshots, tracing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import pilotwatch.sources as sources_module
from core.canonical import SCHEMAS, SOURCE_COLUMN, TABLES
from core.models import Config, Source
from pilotwatch.sources import load_sources

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
REQUESTS = (
    "timestamp,initiative,service,duration_ms,status_code\n"
    "2026-03-01T09:00:00Z,vt,api,10,200\n"  # line 2
    "2026-03-01T10:30:00Z,vt,api,20,500\n"  # line 3: newest good row
    "2026-03-01T11:00:00Z,vt,api,-5,200\n"  # line 4: bad, and newer: must not count as newest
    "2026-03-01T08:00:00Z,vt,api\n"  # line 5: malformed
)
INCIDENTS = (
    "incident_id,initiative,severity,opened_at\n"
    "i1,vt,2,2026-02-27T10:00:00Z\n"
    "i2,vt,3,2026-02-28T10:00:00Z\n"
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def file_source(name: str, tables: list[str], settings: dict[str, Any], **extra: Any) -> Source:
    return Source(name=name, type="file", tables=tables, settings=settings, **extra)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "requests.csv").write_text(REQUESTS, encoding="utf-8")
    (tmp_path / "data" / "incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    return tmp_path


def config(root: Path, *sources: Source) -> Config:
    return Config(sources=list(sources), root=str(root))


def test_health_numbers_and_quarantine(root: Path) -> None:
    data = load_sources(
        config(root, file_source("web", ["requests"], {"path": "data/requests.csv"})),
        None,
        now=NOW,
    )
    (health,) = data.health
    assert health.ok and health.last_error is None
    assert (health.rows, health.quarantined) == (2, 2)
    assert health.newest == utc(2026, 3, 1, 10, 30)
    assert health.last_success == NOW
    assert not health.using_snapshot
    assert sorted(data.quarantine.rows()) == [
        ("web", "requests", "data/requests.csv:4", "duration_ms: must be >= 0, got -5.0"),
        ("web", "requests", "data/requests.csv:5", "malformed line: expected 5 fields, got 3"),
    ]
    requests = data.tables["requests"]
    assert isinstance(requests, pl.LazyFrame)
    got = requests.collect()
    assert got.columns == [*SCHEMAS["requests"], SOURCE_COLUMN]
    assert got["duration_ms"].to_list() == [10.0, 20.0]
    assert got["error"].to_list() == [False, True]
    assert got[SOURCE_COLUMN].to_list() == ["web", "web"]


def test_every_table_is_present_even_when_no_source_feeds_it(root: Path) -> None:
    data = load_sources(config(root), None)
    assert set(data.tables) == set(TABLES)
    for table, frame in data.tables.items():
        assert dict(frame.collect_schema()) == {**SCHEMAS[table], SOURCE_COLUMN: pl.String()}
    assert data.health == []
    assert data.quarantine.columns == ["source", "table", "location", "reason"]


def test_a_failing_source_does_not_stop_the_others(root: Path) -> None:
    data = load_sources(
        config(
            root,
            file_source("gone", ["requests"], {"path": "data/missing.csv"}),
            Source(
                name="db",
                type="sql",
                tables=["deployments"],
                settings={"url": "postgresql+psycopg://u:topsecret@127.0.0.1:1/x", "table": "d"},
            ),
            file_source("ops", ["incidents"], {"path": "data/incidents.csv"}),
        ),
        None,
    )
    by_name = {h.source: h for h in data.health}
    assert not by_name["gone"].ok
    assert "file not found" in (by_name["gone"].last_error or "")
    assert "missing.csv" in (by_name["gone"].last_error or "")
    assert not by_name["db"].ok
    assert "cannot connect" in (by_name["db"].last_error or "")
    assert "topsecret" not in (by_name["db"].last_error or "")
    assert by_name["ops"].ok and by_name["ops"].rows == 2
    assert by_name["ops"].newest == utc(2026, 2, 28, 10)
    assert data.tables["incidents"].collect()["incident_id"].to_list() == ["i1", "i2"]
    assert data.tables["requests"].collect().height == 0


def test_snapshot_is_used_when_a_later_load_fails(root: Path, tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    sources = config(
        root,
        file_source(
            "web",
            ["requests", "incidents"],
            {"paths": {"requests": "data/requests.csv", "incidents": "data/incidents.csv"}},
        ),
    )
    first = load_sources(sources, snapshots, now=NOW)
    assert first.health[0].ok
    assert (snapshots / "web" / "requests.parquet").is_file()
    assert (snapshots / "web" / "incidents.parquet").is_file()

    (root / "data" / "requests.csv").unlink()
    later = load_sources(sources, snapshots, now=datetime(2026, 3, 3, tzinfo=UTC))
    (health,) = later.health
    assert not health.ok
    assert health.using_snapshot
    assert "file not found" in (health.last_error or "")
    assert health.last_success == NOW  # when the snapshot was taken
    assert health.rows == 4  # 2 requests + 2 incidents
    assert health.newest == utc(2026, 3, 1, 10, 30)
    assert any("last good data" in w for w in health.warnings)
    requests = later.tables["requests"].collect()
    assert requests["duration_ms"].to_list() == [10.0, 20.0]
    assert requests[SOURCE_COLUMN].to_list() == ["web", "web"]
    assert requests.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert later.tables["incidents"].collect().height == 2
    assert later.quarantine.height == 0


def test_without_a_snapshot_a_failed_source_has_no_rows(root: Path, tmp_path: Path) -> None:
    data = load_sources(
        config(root, file_source("gone", ["requests"], {"path": "nope/*.csv"})), tmp_path / "s"
    )
    (health,) = data.health
    assert not health.ok and not health.using_snapshot and health.rows == 0
    assert "no file matches" in (health.last_error or "")


def test_disabled_sources_are_skipped(root: Path) -> None:
    data = load_sources(
        config(root, file_source("off", ["requests"], {"path": "missing.csv"}, enabled=False)),
        None,
    )
    assert data.health == []


def test_unknown_connector_type_is_a_failed_source(root: Path) -> None:
    data = load_sources(
        config(root, Source(name="k", type="kafka", tables=["requests"], settings={})), None
    )
    (health,) = data.health
    assert not health.ok
    assert "unknown connector type 'kafka'" in (health.last_error or "")


def test_relative_paths_resolve_against_the_config_root(
    root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    data = load_sources(
        config(root, file_source("ops", ["incidents"], {"path": "data/incidents.csv"})), None
    )
    assert data.health[0].ok


def test_phi_warnings_reach_the_health(root: Path) -> None:
    (root / "data" / "inc2.csv").write_text(
        "incident_id,initiative,severity,opened_at,patient_name\ni9,vt,1,2026-03-01,Jane\n"
    )
    data = load_sources(
        config(root, file_source("ops", ["incidents"], {"path": "data/inc2.csv"})), None
    )
    assert data.health[0].warnings == [
        "dropped column 'patient_name' (looks like a patient identifier; never loaded) "
        "from data/inc2.csv"
    ]


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Capture pilotwatch's spans without touching the process-wide tracer provider."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(sources_module, "_tracer", provider.get_tracer("pilotwatch"))
    yield exporter
    provider.shutdown()


def test_each_source_load_is_traced(root: Path, spans: InMemorySpanExporter) -> None:
    load_sources(
        config(
            root,
            file_source("web", ["requests"], {"path": "data/requests.csv"}),
            file_source("gone", ["requests"], {"path": "data/missing.csv"}),
        ),
        None,
    )
    finished = [s for s in spans.get_finished_spans() if s.name == "pilotwatch.source.load"]
    by_source = {s.attributes["source"]: s for s in finished}
    web = by_source["web"].attributes
    assert (web["type"], web["rows"], web["quarantined"]) == ("file", 2, 2)
    assert by_source["gone"].status.status_code == trace.StatusCode.ERROR


def test_big_requests_tables_are_not_snapshotted(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sources_module, "SNAPSHOT_MAX_ROWS", 1)  # 2 good requests is "big"
    snapshots = tmp_path / "snapshots"
    sources = config(
        root,
        file_source(
            "web",
            ["requests", "incidents"],
            {"paths": {"requests": "data/requests.csv", "incidents": "data/incidents.csv"}},
        ),
    )
    load_sources(sources, snapshots)
    assert not (snapshots / "web" / "requests.parquet").exists()
    assert (snapshots / "web" / "incidents.parquet").is_file()

    (root / "data" / "requests.csv").unlink()
    (health,) = load_sources(sources, snapshots).health
    assert health.using_snapshot
    assert health.rows == 2  # the incidents only
    assert health.newest == utc(2026, 2, 28, 10)


def test_an_unchanged_snapshot_is_not_written_again(root: Path, tmp_path: Path) -> None:
    snapshots = tmp_path / "snapshots"
    sources = config(root, file_source("ops", ["incidents"], {"path": "data/incidents.csv"}))
    load_sources(sources, snapshots, now=NOW)
    target = snapshots / "ops" / "incidents.parquet"
    os.utime(target, ns=(1_000_000_000, 1_000_000_000))  # mark it: a rewrite gets a new mtime
    load_sources(sources, snapshots, now=NOW)
    assert target.stat().st_mtime_ns == 1_000_000_000  # same content: the file was kept

    # same row count and newest row, different content (i1 severity 2 -> 4): written again
    incidents = root / "data" / "incidents.csv"
    incidents.write_text(INCIDENTS.replace("i1,vt,2,", "i1,vt,4,"), encoding="utf-8")
    load_sources(sources, snapshots, now=NOW)
    assert target.stat().st_mtime_ns != 1_000_000_000
    assert pl.read_parquet(target)["severity"].to_list() == [4, 3]


def test_redactions_are_counted_in_the_health(root: Path) -> None:
    (root / "data" / "titled.csv").write_text(
        "incident_id,initiative,severity,opened_at,title\n"
        "i1,vt,2,2026-03-01T08:00:00Z,mail ana@example.org\n"  # 1 redaction
        "i2,vt,3,2026-03-01T09:00:00Z,ICD-10 code J18.9 after deploy v2.4.1\n"  # none
        "i3,vt,9,2026-03-01T10:00:00Z,SSN 123-45-6789\n"  # quarantined (severity 9), screened
    )
    data = load_sources(
        config(root, file_source("ops", ["incidents"], {"path": "data/titled.csv"})), None
    )
    (health,) = data.health
    assert (health.rows, health.quarantined, health.redacted) == (2, 1, 2)
    titles = data.tables["incidents"].collect()["title"].to_list()
    assert titles == ["mail [redacted]", "ICD-10 code J18.9 after deploy v2.4.1"]


def test_redactions_in_quarantined_requests_are_counted(root: Path) -> None:
    # requests have no free-text column: only a bad row's quoted value can carry PHI
    (root / "data" / "req.csv").write_text(
        "timestamp,initiative,service,duration_ms,status_code\n"
        "2026-03-01T08:00:00Z,vt,api,12.5,200\n"
        "2026-03-01T08:01:00Z,vt,api,call 555-123-4567,200\n"  # quarantined, 1 redaction
        "2026-03-01T08:02:00Z,vt,api,ann@example.org,200\n"  # quarantined, 1 redaction
        "2026-03-01T08:03:00Z,vt,api,-1,200\n"  # quarantined, nothing to redact
    )
    data = load_sources(
        config(root, file_source("web", ["requests"], {"path": "data/req.csv"})), None
    )
    (health,) = data.health
    assert (health.rows, health.quarantined, health.redacted) == (1, 3, 2)
    assert sorted(data.quarantine["reason"].to_list()) == [
        "duration_ms: must be >= 0, got -1.0",
        "duration_ms: not a number '[redacted]'",
        "duration_ms: not a number 'call [redacted]'",
    ]
