"""FileConnector: CSV line accounting, parsing, time zones, mapping, PHI, laziness, errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors.base import (
    LOCATION,
    REASON,
    PatientIdentifierRefused,
    SourceConfigError,
    SourceLoad,
    SourceSpec,
    SourceUnavailable,
)
from connectors.conform import conform
from connectors.file import FileConnector
from connectors.records import csv_records

HEADER = "timestamp,initiative,service,duration_ms,status_code"


def spec(
    root: Path,
    settings: dict[str, Any],
    tables: tuple[str, ...] = ("requests",),
    **extra: Any,
) -> SourceSpec:
    return SourceSpec(
        name="files", type="file", tables=tables, settings={**settings, "_root": str(root)}, **extra
    )


def load(root: Path, settings: dict[str, Any], **kwargs: Any) -> SourceLoad:
    return FileConnector(spec(root, settings, **kwargs)).load()


def split(frame: pl.LazyFrame) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    """(good rows, sorted [(location, reason)])."""
    data = frame.collect()
    good = data.filter(pl.col(REASON).is_null())
    bad = data.filter(pl.col(REASON).is_not_null())
    return good, sorted(zip(bad[LOCATION], bad[REASON], strict=True))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_malformed_csv_lines_are_quarantined_with_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path / "r.csv",
        HEADER + "\n"  # line 1
        "2026-03-01T09:00:00Z,vt,api,10,200\n"  # 2 good
        "2026-03-01T09:01:00Z,vt,api,10\n"  # 3 too few fields
        '2026-03-01T09:02:00Z,vt,"api\nv2",11,200\n'  # 4-5 good, quoted newline
        "2026-03-01T09:03:00Z,vt,api,12,200,extra\n"  # 6 too many fields
        '2026-03-01T09:04:00Z,vt,"broken,13,200\n'  # 7 quote never closed
        "\n"  # 8 blank: ignored
        "2026-03-01T09:05:00Z,vt,api,14,200\n",  # 9 good
    )
    good, bad = split(load(tmp_path, {"path": "r.csv"}).frames["requests"])
    assert good["duration_ms"].to_list() == [10.0, 11.0, 14.0]
    assert good["service"].to_list() == ["api", "api\nv2", "api"]
    assert good[LOCATION].to_list() == ["r.csv:2", "r.csv:4", "r.csv:9"]
    assert bad == [
        ("r.csv:3", "malformed line: expected 5 fields, got 4"),
        ("r.csv:6", "malformed line: expected 5 fields, got 6"),
        ("r.csv:7", "malformed line: unbalanced quote"),
    ]


def test_stray_quote_inside_a_field_is_quarantined_not_a_crash(tmp_path: Path) -> None:
    write(
        tmp_path / "r.csv",
        HEADER + '\n2026-03-01T09:00:00Z,vt,ap"i",1,200\n2026-03-01T09:01:00Z,vt,api,2,200\n',
    )
    good, bad = split(load(tmp_path, {"path": "r.csv"}).frames["requests"])
    assert good["duration_ms"].to_list() == [2.0]
    assert bad == [("r.csv:2", "malformed line: broken quoting")]


def test_csv_records_counts_physical_lines_with_crlf() -> None:
    header, good, bad = csv_records('a,b\r\n1,"x\r\ny"\r\n2\r\n3,z\r\n')
    assert header == ["a", "b"]
    assert [line for line, _ in good] == [2, 5]
    assert bad == [(4, "malformed line: expected 2 fields, got 1")]


def test_wrong_types_are_quarantined_naming_the_column(tmp_path: Path) -> None:
    write(
        tmp_path / "r.csv",
        HEADER + ",error\n"
        "2026-03-01T09:00:00Z,vt,api,abc,200,\n"
        "yesterday,vt,api,1,200,\n"
        "2026-03-01T09:00:00Z,vt,api,1,2xx,\n"
        "2026-03-01T09:00:00Z,vt,api,1,200,maybe\n"
        "2026-03-01T09:00:00Z,vt,api,1,200.0,no\n",
    )
    good, bad = split(load(tmp_path, {"path": "r.csv"}).frames["requests"])
    assert bad == [
        ("r.csv:2", "duration_ms: not a number 'abc'"),
        ("r.csv:3", "timestamp: not a timestamp 'yesterday'"),
        ("r.csv:4", "status_code: not an integer '2xx'"),
        ("r.csv:5", "error: not a boolean 'maybe'"),
    ]
    assert good["status_code"].to_list() == [200]  # "200.0" is a whole number
    assert good["error"].to_list() == [False]


def test_long_bad_values_are_cut_in_the_reason(tmp_path: Path) -> None:
    write(
        tmp_path / "r.csv", HEADER + "\n2026-03-01T09:00:00Z,vt,api," + "9" * 30 + "x" * 30 + ",1\n"
    )
    _, bad = split(load(tmp_path, {"path": "r.csv"}).frames["requests"])
    assert bad == [("r.csv:2", "duration_ms: not a number '" + "9" * 30 + "x" * 10 + "…'")]


def test_missing_required_column_names_column_and_file(tmp_path: Path) -> None:
    write(tmp_path / "r.csv", "timestamp,initiative,duration_ms\n2026-03-01,vt,1\n")
    with pytest.raises(SourceConfigError) as error:
        load(tmp_path, {"path": "r.csv"})
    message = str(error.value)
    assert "source 'files'" in message
    assert "r.csv" in message
    assert "required column 'service'" in message


def test_missing_mapped_column_says_what_it_was_mapped_from(tmp_path: Path) -> None:
    write(tmp_path / "r.csv", HEADER + "\n")
    with pytest.raises(SourceConfigError, match=r"'timestamp' \(mapped from 'start'\)"):
        load(tmp_path, {"path": "r.csv"}, columns={"requests": {"timestamp": "start"}})


def test_naive_times_use_the_source_time_zone_offsets_are_honoured(tmp_path: Path) -> None:
    write(
        tmp_path / "r.csv",
        HEADER + "\n"
        "2026-03-01 09:00,vt,api,1,200\n"  # EST (UTC-5): 14:00Z
        "2026-07-01T09:00:00,vt,api,1,200\n"  # EDT (UTC-4): 13:00Z
        "2026-03-01T09:00:00+02:00,vt,api,1,200\n"  # offset wins: 07:00Z
        "2026-03-01T09:00:00.250Z,vt,api,1,200\n"  # Z, fractional: 09:00:00.25Z
        "2026-03-01T09:00:00-0330,vt,api,1,200\n"  # offset without colon: 12:30Z
        "2026-03-08 02:30:00,vt,api,1,200\n",  # skipped by DST in New York: invalid
    )
    good, bad = split(
        load(tmp_path, {"path": "r.csv"}, timezone="America/New_York").frames["requests"]
    )
    assert good["timestamp"].to_list() == [
        utc(2026, 3, 1, 14),
        utc(2026, 7, 1, 13),
        utc(2026, 3, 1, 7),
        datetime(2026, 3, 1, 9, 0, 0, 250000, tzinfo=UTC),
        utc(2026, 3, 1, 12, 30),
    ]
    assert good.schema["timestamp"] == pl.Datetime("us", "UTC")
    assert bad == [("r.csv:7", "timestamp: not a timestamp '2026-03-08 02:30:00'")]


def test_date_only_values_are_midnight_in_the_source_time_zone(tmp_path: Path) -> None:
    write(tmp_path / "k.csv", "initiative,kpi,period_end,value\nvt,wait,2026-03-31,4.5\n")
    frame = load(
        tmp_path, {"path": "k.csv"}, tables=("kpi_observations",), timezone="America/New_York"
    ).frames["kpi_observations"]
    good, bad = split(frame)
    assert bad == []
    assert good["period_end"].to_list() == [utc(2026, 3, 31, 4)]  # EDT midnight


def test_unknown_time_zone_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "r.csv", HEADER + "\n")
    with pytest.raises(SourceConfigError, match="Mars/Olympus"):
        load(tmp_path, {"path": "r.csv"}, timezone="Mars/Olympus")


def test_empty_and_header_only_files_give_zero_rows(tmp_path: Path) -> None:
    write(tmp_path / "empty.csv", "")
    write(tmp_path / "header.csv", HEADER + "\n")
    write(tmp_path / "empty.ndjson", "\n\n")
    (tmp_path / "empty.parquet").write_bytes(b"")
    for name in ("empty.csv", "header.csv", "empty.ndjson", "empty.parquet"):
        frame = load(tmp_path, {"path": name}).frames["requests"].collect()
        assert frame.height == 0, name
        assert frame.schema["timestamp"] == pl.Datetime("us", "UTC")


def test_missing_file_and_empty_glob_are_unavailable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match=r"file not found: .*nope\.csv"):
        load(tmp_path, {"path": "nope.csv"})
    with pytest.raises(SourceUnavailable, match=r"no file matches .*logs/\*\.csv"):
        load(tmp_path, {"path": "logs/*.csv"})


def test_glob_over_several_files_unions_rows_with_their_own_locations(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir()
    write(tmp_path / "logs" / "a.csv", HEADER + "\n2026-03-01T09:00:00Z,vt,api,1,200\n")
    write(
        tmp_path / "logs" / "b.csv",
        HEADER + "\n2026-03-01T10:00:00Z,vt,api,2,200\n2026-03-01T11:00:00Z,vt,api,-3,200\n",
    )
    good, bad = split(load(tmp_path, {"path": "logs/*.csv"}).frames["requests"])
    assert good[LOCATION].to_list() == ["logs/a.csv:2", "logs/b.csv:2"]
    assert good["duration_ms"].to_list() == [1.0, 2.0]
    assert bad == [("logs/b.csv:3", "duration_ms: must be >= 0, got -3.0")]


def test_column_and_value_mapping(tmp_path: Path) -> None:
    write(
        tmp_path / "deploys.csv",
        "id,app,done,result\n"
        "a1,vt,2026-03-01T10:00:00Z,OK\n"
        "a2,vt,2026-03-02T10:00:00Z,reverted\n"
        "a3,vt,2026-03-03T10:00:00Z,failed\n"
        "a4,vt,2026-03-04T10:00:00Z,weird\n",
    )
    frame = load(
        tmp_path,
        {"path": "deploys.csv"},
        tables=("deployments",),
        columns={
            "deployments": {
                "deploy_id": "id",
                "initiative": "app",
                "finished_at": "done",
                "status": "result",
            }
        },
        values={"deployments": {"status": {"OK": "success", "reverted": "rolled_back"}}},
    ).frames["deployments"]
    good, bad = split(frame)
    assert good["deploy_id"].to_list() == ["a1", "a2", "a3"]
    assert good["status"].to_list() == ["success", "rolled_back", "failed"]
    assert good["environment"].to_list() == ["production"] * 3
    assert bad == [("deploys.csv:5", "status: 'weird' not one of failed, rolled_back, success")]


def test_value_mapping_into_numbers_and_booleans(tmp_path: Path) -> None:
    write(
        tmp_path / "inc.csv",
        "incident_id,initiative,severity,opened_at,patient_impact\n"
        "i1,vt,SEV1,2026-03-01T10:00:00Z,Y\n"
        "i2,vt,SEV4,2026-03-01T11:00:00Z,N\n",
    )
    frame = load(
        tmp_path,
        {"path": "inc.csv"},
        tables=("incidents",),
        values={
            "incidents": {
                "severity": {"SEV1": 1, "SEV4": 4},
                "patient_impact": {"Y": True, "N": False},
            }
        },
    ).frames["incidents"]
    good, bad = split(frame)
    assert bad == []
    assert good["severity"].to_list() == [1, 4]
    assert good["patient_impact"].to_list() == [True, False]
    assert good["title"].to_list() == ["", ""]


def test_patient_identifier_columns_are_dropped_with_a_warning(tmp_path: Path) -> None:
    write(
        tmp_path / "r.csv",
        HEADER + ",mrn,PatientName\n2026-03-01T09:00:00Z,vt,api,1,200,123456,Jane Doe\n",
    )
    result = load(tmp_path, {"path": "r.csv"})
    assert result.warnings == [
        "dropped column 'mrn' (looks like a patient identifier; never loaded) from r.csv",
        "dropped column 'PatientName' (looks like a patient identifier; never loaded) from r.csv",
    ]
    data = result.frames["requests"].collect()
    assert "123456" not in str(data.rows()) and "Jane" not in str(data.rows())


def test_mapping_a_patient_identifier_is_refused(tmp_path: Path) -> None:
    write(tmp_path / "r.csv", HEADER + ",patient_id\n")
    with pytest.raises(PatientIdentifierRefused, match=r"'patient_id'.*patient identifier"):
        load(tmp_path, {"path": "r.csv"}, columns={"requests": {"service": "patient_id"}})


def test_parquet_is_scanned_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pl.DataFrame(
        {
            "timestamp": [utc(2026, 3, 1, 9), None],
            "initiative": ["vt", "vt"],
            "service": ["api", "api"],
            "duration_ms": [3.0, 4.0],
        }
    ).write_parquet(tmp_path / "r.parquet")

    def refuse(*_: Any, **__: Any) -> None:
        raise AssertionError("the connector must not read data while loading")

    monkeypatch.setattr(pl.LazyFrame, "collect", refuse)
    monkeypatch.setattr(pl, "read_parquet", refuse)
    frame = load(tmp_path, {"path": "r.parquet"}).frames["requests"]
    monkeypatch.undo()
    assert isinstance(frame, pl.LazyFrame)
    assert "Parquet SCAN" in frame.explain()
    good, bad = split(frame)
    assert good["duration_ms"].to_list() == [3.0]
    assert bad == [("r.parquet#row 1", "timestamp: missing")]


def test_parquet_naive_datetimes_use_the_source_time_zone(tmp_path: Path) -> None:
    pl.DataFrame(
        {
            "slo": ["a"],
            "bucket_start": [datetime(2026, 3, 1, 9)],
            "good": [1],
            "total": [2],
        }
    ).write_parquet(tmp_path / "b.parquet")
    frame = load(
        tmp_path, {"path": "b.parquet"}, tables=("sli_buckets",), timezone="Europe/Berlin"
    ).frames["sli_buckets"]
    good, _ = split(frame)
    assert good["bucket_start"].to_list() == [utc(2026, 3, 1, 8)]


def test_ndjson_bad_lines_are_quarantined(tmp_path: Path) -> None:
    write(
        tmp_path / "r.ndjson",
        '{"timestamp": "2026-03-01T09:00:00Z", "initiative": "vt", "service": "api", '
        '"duration_ms": 5, "status_code": 502}\n'
        "{not json}\n"
        "[1, 2]\n"
        "\n"
        '{"timestamp": "2026-03-01T09:01:00Z", "initiative": "vt", "service": "api", '
        '"duration_ms": "slow"}\n',
    )
    good, bad = split(load(tmp_path, {"path": "r.ndjson"}).frames["requests"])
    assert good["error"].to_list() == [True]  # derived from 502
    assert bad == [
        (
            "r.ndjson:2",
            "malformed line: invalid JSON (Expecting property name enclosed in double quotes)",
        ),
        ("r.ndjson:3", "malformed line: not a JSON object"),
        ("r.ndjson:5", "duration_ms: not a number 'slow'"),
    ]


def test_several_tables_from_one_source(tmp_path: Path) -> None:
    write(tmp_path / "r.tsv", HEADER.replace(",", "\t") + "\n2026-03-01\tvt\tapi\t1\t200\n")
    write(tmp_path / "b.txt", "slo,bucket_start,good,total\na,2026-03-01T09:00Z,1,1\n")
    result = load(
        tmp_path,
        {"paths": {"requests": "r.tsv", "sli_buckets": "b.txt"}, "format": "csv"},
        tables=("requests", "sli_buckets"),
    )
    requests, _ = split(result.frames["requests"])
    buckets, _ = split(result.frames["sli_buckets"])
    assert requests["timestamp"].to_list() == [utc(2026, 3, 1)]  # .tsv: tab-separated
    assert buckets["bucket_start"].to_list() == [utc(2026, 3, 1, 9)]


def test_delimiter_setting(tmp_path: Path) -> None:
    write(tmp_path / "r.csv", HEADER.replace(",", ";") + "\n2026-03-01;vt;api;1.5;200\n")
    good, _ = split(load(tmp_path, {"path": "r.csv", "delimiter": ";"}).frames["requests"])
    assert good["service"].to_list() == ["api"]
    assert good["duration_ms"].to_list() == [1.5]


def test_settings_errors_report_every_problem() -> None:
    errors = FileConnector.settings_errors(
        {
            "paths": {"requests": "", "nope": "x.csv"},
            "format": "xlsx",
            "delimiter": ";;",
            "colour": 1,
        }
    )
    assert errors == [
        "settings.paths.requests: expected a file name or glob",
        "settings.paths.nope: unknown table (expected one of ['requests', 'sli_buckets', "
        "'deployments', 'incidents', 'kpi_observations', 'evidence'])",
        "settings.format: Input should be 'csv', 'parquet' or 'ndjson'",
        "settings.delimiter: expected a single character",
        "settings.colour: unknown key (expected one of "
        "['delimiter', 'encoding', 'format', 'path', 'paths', 'quote_char', 'table'])",
    ]
    assert FileConnector.settings_errors({"path": "x.csv", "_root": "/tmp"}) == []


def test_path_for_a_source_with_several_tables_is_a_config_error(tmp_path: Path) -> None:
    write(tmp_path / "r.csv", HEADER + "\n")
    with pytest.raises(SourceConfigError, match="use `paths"):
        load(tmp_path, {"path": "r.csv"}, tables=("requests", "incidents"))


def test_unknown_extension_needs_a_format(tmp_path: Path) -> None:
    write(tmp_path / "r.data", HEADER + "\n")
    with pytest.raises(SourceConfigError, match=r"set settings\.format"):
        load(tmp_path, {"path": "r.data"})
    assert (
        load(tmp_path, {"path": "r.data", "format": "csv"}).frames["requests"].collect().height == 0
    )


def test_not_utf8_is_a_clear_config_error(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_bytes((HEADER + "\n2026-03-01,vt,caf\xe9,1,200\n").encode("latin-1"))
    with pytest.raises(SourceConfigError, match="not valid utf-8"):
        load(tmp_path, {"path": "r.csv"})
    good, _ = split(load(tmp_path, {"path": "r.csv", "encoding": "latin-1"}).frames["requests"])
    assert good["service"].to_list() == ["café"]


def test_unjustified_not_applicable_evidence_is_not_quarantined(tmp_path: Path) -> None:
    write(
        tmp_path / "e.csv",
        "initiative,control_id,status,collected_at\nvt,C1,not_applicable,2026-01-01\n",
    )
    good, bad = split(load(tmp_path, {"path": "e.csv"}, tables=("evidence",)).frames["evidence"])
    assert bad == []
    assert good["justification"].to_list() == [None]
    assert good["owner"].to_list() == [""]


@settings(max_examples=150, deadline=None)
@given(
    instant=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
    ),
    offset_minutes=st.integers(-14 * 60, 14 * 60).map(lambda m: m - m % 15),
    separator=st.sampled_from(["T", " "]),
    colon=st.booleans(),
)
def test_iso_text_with_any_offset_parses_to_the_same_instant(
    instant: datetime, offset_minutes: int, separator: str, colon: bool
) -> None:
    # the oracle is Python's own datetime arithmetic, not the code under test
    local = instant.astimezone(timezone(timedelta(minutes=offset_minutes)))
    sign = "-" if offset_minutes < 0 else "+"
    hours, minutes = divmod(abs(offset_minutes), 60)
    text = local.strftime(f"%Y-%m-%d{separator}%H:%M:%S.%f") + (
        f"{sign}{hours:02d}{':' if colon else ''}{minutes:02d}"
    )
    raw = pl.LazyFrame(
        {"slo": ["a"], "bucket_start": [text], "good": ["1"], "total": ["1"]}
    ).with_row_index("n")
    out = conform(
        raw, "sli_buckets", source="s", origin="o", location=pl.col("n"), timezone="Asia/Tokyo"
    ).collect()
    assert out[REASON].to_list() == [None]
    assert out["bucket_start"].to_list() == [instant]
