"""Edges of conform and the file readers: nothing lost, no wrong numbers (docs/connectors.md).

Each test is one class of problem; expected rows, reasons and places are worked out by hand.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from connectors.base import BAD, LOCATION, REASON, ConnectorError, SourceConfigError, SourceSpec
from connectors.conform import conform, value_rules
from connectors.file import FileConnector
from core.canonical import SCHEMAS
from pilotwatch.sources import load_one

REQ = "timestamp,initiative,service,duration_ms\n"
T0 = datetime(2026, 3, 1, 9, tzinfo=UTC)


def file_spec(root: Path, name: str, table: str = "requests", **extra: Any) -> SourceSpec:
    settings = {"path": name, "_root": str(root)}
    return SourceSpec(name="files", type="file", tables=(table,), settings=settings, **extra)


def counts(spec: SourceSpec) -> tuple[int, int, list[tuple[str, str]]]:
    """(loaded, quarantined, sorted [(location, reason)]) as the loader counts them."""
    _, health, quarantine = load_one(spec)
    assert health.ok, health.last_error
    bad = sorted(zip(quarantine["location"], quarantine["reason"], strict=True))
    return health.rows, health.quarantined, bad


def frame(spec: SourceSpec, table: str = "requests") -> pl.DataFrame:
    return FileConnector(spec).load().frames[table].collect()


def parquet(path: Path, columns: dict[str, Any]) -> None:
    pq.write_table(pa.table(columns), path)


def request_columns(n: int) -> dict[str, Any]:
    return {
        "timestamp": pa.array([T0.replace(tzinfo=None)] * n, pa.timestamp("us")),
        "initiative": ["vt"] * n,
        "service": ["api"] * n,
    }


# --- class 7: a misspelt mapping, optional or not, is an error, never nulls -------------------


@pytest.mark.parametrize(
    ("mapping", "canonical", "wanted"),
    [
        ({"resolved_at": "resolved_when"}, "resolved_at", "resolved_when"),  # optional column
        ({"title": "summary"}, "title", "summary"),  # optional with a default
        ({"severity": "sev"}, "severity", "sev"),  # required column
    ],
)
def test_a_mapped_source_column_must_exist(
    tmp_path: Path, mapping: dict[str, str], canonical: str, wanted: str
) -> None:
    (tmp_path / "i.csv").write_text(
        "incident_id,initiative,severity,opened_at,resolved_at,patient_mrn\n"
        "1,vt,2,2026-03-01T09:00:00Z,2026-03-01T10:00:00Z,123\n"
    )
    spec = file_spec(tmp_path, "i.csv", "incidents", columns={"incidents": mapping})
    with pytest.raises(SourceConfigError) as caught:
        FileConnector(spec).load()
    message = str(caught.value)
    assert message.startswith(
        f"source 'files': i.csv: column '{canonical}' (mapped from '{wanted}')"
    )
    assert f"for table 'incidents' is missing (set by columns.incidents.{canonical})" in message
    assert message.endswith(
        "found columns: incident_id, initiative, severity, opened_at, resolved_at"
    )
    assert "patient_mrn" not in message  # patient identifiers are never named


def test_sqlite_table_with_a_misspelt_mapping_is_a_clear_error(
    tmp_path: Path, make_sql_db: Any
) -> None:
    db = make_sql_db("sqlite")
    table = db.table(
        "pw_inc",
        {
            "incident_id": sa.String(10),
            "initiative": sa.String(10),
            "severity": sa.Integer(),
            "opened_at": sa.String(30),
        },
        [{"incident_id": "1", "initiative": "vt", "severity": 2, "opened_at": "2026-03-01"}],
    )
    spec = SourceSpec(
        name="db",
        type="sql",
        tables=("incidents",),
        settings={"url": db.url, "table": table, "_root": str(tmp_path)},
        columns={"incidents": {"resolved_at": "resolved_when"}},
    )
    _, health, _ = load_one(spec)
    assert not health.ok
    assert health.last_error is not None
    assert "column 'resolved_at' (mapped from 'resolved_when')" in health.last_error
    assert "found columns: incident_id, initiative, severity, opened_at" in health.last_error


# --- class 8: one bad value is one quarantined row, never a failed source ---------------------


def test_ndjson_non_finite_and_overflowing_numbers_are_quarantined_per_line(tmp_path: Path) -> None:
    head = '{"timestamp":"2026-03-01T09:00:00Z","initiative":"vt","service":"api",'
    (tmp_path / "r.ndjson").write_text(
        head
        + '"duration_ms":NaN}\n'  # 1
        + head
        + '"duration_ms":Infinity}\n'  # 2
        + head
        + '"duration_ms":-Infinity}\n'  # 3
        + head
        + '"duration_ms":1e400}\n'  # 4
        + head
        + '"duration_ms":12.5,"status_code":123456789012345678901234567890}\n'  # 5
        + head
        + '"duration_ms":7,"status_code":200}\n'  # 6: the one good line
    )
    assert counts(file_spec(tmp_path, "r.ndjson")) == (
        1,
        5,
        [
            ("r.ndjson:1", "duration_ms: not a number 'NaN'"),
            ("r.ndjson:2", "duration_ms: not a number 'Infinity'"),
            ("r.ndjson:3", "duration_ms: not a number '-Infinity'"),
            ("r.ndjson:4", "duration_ms: not a number '1e400'"),
            ("r.ndjson:5", "status_code: not an integer '123456789012345678901234567890'"),
        ],
    )


def test_csv_quoted_field_longer_than_any_parser_limit_loads(tmp_path: Path) -> None:
    service = "x" * 200_000 + ',"\n' * 3  # 200,000 characters, delimiters and line breaks inside
    quoted = '"' + service.replace('"', '""') + '"'
    (tmp_path / "r.csv").write_text(
        REQ + f"2026-03-01T09:00:00Z,vt,{quoted},1\n2026-03-01T09:00:00Z,vt,api,2\n"
    )
    data = frame(file_spec(tmp_path, "r.csv"))
    assert data.filter(pl.col(BAD)).height == 0
    assert data["service"].to_list() == [service.strip(), "api"]
    assert data[LOCATION].to_list() == ["r.csv:2", "r.csv:6"]


@pytest.mark.parametrize(
    ("column", "kind", "why"),
    [
        (pa.array([[1.0], [2.0]]), "List(Float64)", "a nested value holds several values, not one"),
        (pa.array([{"ms": 1.0}, {"ms": 2.0}]), "Struct({'ms': Float64})", "a nested value"),
        (pa.array([datetime(2026, 3, 1)] * 2), "Datetime(time_unit='us', time_zone=None)",
         "a date or timestamp is not a number"),
    ],
)  # fmt: skip
def test_parquet_column_that_can_never_be_a_duration_is_refused_by_name_and_type(
    tmp_path: Path, column: pa.Array, kind: str, why: str
) -> None:
    parquet(tmp_path / "r.parquet", {**request_columns(2), "duration_ms": column})
    with pytest.raises(SourceConfigError) as caught:
        FileConnector(file_spec(tmp_path, "r.parquet")).load()
    assert str(caught.value).startswith(
        f"source 'files': r.parquet: column 'duration_ms' of type {kind} cannot feed "
        f"requests.duration_ms (a number): {why}"
    )


def test_parquet_time_of_day_cannot_be_a_timestamp(tmp_path: Path) -> None:
    columns = {**request_columns(1), "duration_ms": [1.0]}
    columns["timestamp"] = pa.array([9 * 3600 * 10**6], pa.time64("us"))
    parquet(tmp_path / "r.parquet", columns)
    with pytest.raises(SourceConfigError, match=r"column 'timestamp' of type Time cannot feed"):
        FileConnector(file_spec(tmp_path, "r.parquet")).load()


def test_parquet_duration_converts_to_milliseconds(tmp_path: Path) -> None:
    durations = pa.array([1_500_000, 250, None], pa.duration("us"))  # 1.5 s, 0.25 ms, missing
    parquet(tmp_path / "r.parquet", {**request_columns(3), "duration_ms": durations})
    loaded, quarantined, bad = counts(file_spec(tmp_path, "r.parquet"))
    assert (loaded, quarantined, bad) == (2, 1, [("r.parquet#row 2", "duration_ms: missing")])
    data = frame(file_spec(tmp_path, "r.parquet")).filter(~pl.col(BAD))
    assert data["duration_ms"].to_list() == [1500.0, 0.25]


def test_parquet_uncommon_types_load_or_quarantine_per_value(tmp_path: Path) -> None:
    parquet(
        tmp_path / "r.parquet",
        {
            **request_columns(3),
            "duration_ms": pa.array([1.25, 2, 3.5]).cast(pa.decimal128(5, 2)),
            "operation": pa.array([b"GET /a", b"\xff\xfe", None], pa.binary()),
            "environment": pa.array(["prod", "test", "prod"]).dictionary_encode(),
            "status_code": pa.array([200, 2**64 - 1, 2**63], pa.uint64()),
        },
    )
    loaded, quarantined, bad = counts(file_spec(tmp_path, "r.parquet"))
    assert (loaded, quarantined) == (1, 2)
    assert bad == [
        (
            "r.parquet#row 1",
            "operation: not UTF-8 text; "
            "status_code: outside the 64-bit integer range '18446744073709551615'",
        ),
        ("r.parquet#row 2", "status_code: outside the 64-bit integer range '9223372036854775808'"),
    ]
    good = frame(file_spec(tmp_path, "r.parquet")).filter(~pl.col(BAD))
    assert good.select("duration_ms", "operation", "environment", "status_code").row(0) == (
        1.25,
        "GET /a",
        "prod",
        200,
    )


# --- class 9: wrong numbers and silent loss -----------------------------------------------------


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"])
def test_every_line_end_loads_every_row(tmp_path: Path, end: str) -> None:
    text = REQ + '2026-03-01T09:00:00Z,vt,"a\nb",1\n2026-03-01T09:01:00Z,vt,api,x\n'
    (tmp_path / "r.csv").write_bytes(text.replace("\n", end).encode())
    assert counts(file_spec(tmp_path, "r.csv")) == (
        1,
        1,
        [("r.csv:4", "duration_ms: not a number 'x'")],  # the quoted record spans lines 2-3
    )
    assert frame(file_spec(tmp_path, "r.csv"))["service"][0] == f"a{end}b"


def test_cr_only_ndjson_loads_every_line(tmp_path: Path) -> None:
    row = '{"timestamp":"2026-03-01T09:00:00Z","initiative":"vt","service":"api","duration_ms":%s}'
    (tmp_path / "r.ndjson").write_bytes(f"{row % 1}\r{row % 2}\r{row % 'x'}\r".encode())
    assert counts(file_spec(tmp_path, "r.ndjson")) == (
        2,
        1,
        [("r.ndjson:3", "malformed line: invalid JSON (Expecting value)")],
    )


def test_offsets_beyond_18_hours_or_60_minutes_are_not_timestamps(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text(
        REQ + "2026-03-01T09:00:00+99:99,vt,api,1\n"  # 2
        "2026-03-01T09:00:00+18:00,vt,api,1\n"  # 3: the largest offset there is
        "2026-03-01T09:00:00-18:01,vt,api,1\n"  # 4
        "2026-03-01T09:00:00+05:60,vt,api,1\n"  # 5
        "2026-03-01T09:00:00-0330,vt,api,1\n"  # 6
        "2026-03-01T09:00:00+1900,vt,api,1\n"  # 7
    )
    loaded, quarantined, bad = counts(file_spec(tmp_path, "r.csv"))
    assert (loaded, quarantined) == (2, 4)
    assert [loc for loc, _ in bad] == ["r.csv:2", "r.csv:4", "r.csv:5", "r.csv:7"]
    assert bad[0][1] == "timestamp: not a timestamp '2026-03-01T09:00:00+99:99'"
    good = frame(file_spec(tmp_path, "r.csv")).filter(~pl.col(BAD))
    assert good["timestamp"].to_list() == [T0 - timedelta(hours=18), T0 + timedelta(hours=3.5)]


def test_parquet_non_finite_durations_are_quarantined_and_nan_is_missing(tmp_path: Path) -> None:
    durations = [math.inf, -math.inf, math.nan, 4.0]
    parquet(tmp_path / "r.parquet", {**request_columns(4), "duration_ms": durations})
    assert counts(file_spec(tmp_path, "r.parquet")) == (
        1,
        3,
        [
            ("r.parquet#row 0", "duration_ms: not a number 'inf'"),
            ("r.parquet#row 1", "duration_ms: not a number '-inf'"),
            ("r.parquet#row 2", "duration_ms: missing"),
        ],
    )


def test_parquet_int128_beyond_int64_is_quarantined(tmp_path: Path) -> None:
    raw = pl.LazyFrame(
        {"slo": ["a", "a"], "bucket_start": ["2026-03-01T09:00Z"] * 2, "good": [1, 2**70]},
        schema_overrides={"good": pl.Int128},
    ).with_columns(total=pl.lit(2**70, pl.Int128))
    out = conform(raw, "sli_buckets", source="s", origin="t", location=pl.lit("t"))
    reasons = out.collect()[REASON].to_list()
    big = f"'{2**70}'"
    assert reasons == [
        f"total: outside the 64-bit integer range {big}",
        f"good: outside the 64-bit integer range {big}; "
        f"total: outside the 64-bit integer range {big}",
    ]


def test_a_valid_record_of_any_length_is_one_row(tmp_path: Path) -> None:
    body = "line\n" * 250
    (tmp_path / "r.csv").write_text(
        REQ + f'2026-03-01T09:00:00Z,vt,"{body}",1\n2026-03-01T09:00:00Z,vt,api,2\n'
    )
    data = frame(file_spec(tmp_path, "r.csv"))
    assert data.filter(pl.col(BAD)).height == 0
    assert data[LOCATION].to_list() == ["r.csv:2", "r.csv:253"]  # 2 + 250 line breaks + 1
    assert data["service"][0] == body.strip()


def test_an_unbalanced_quote_costs_its_own_line_only(tmp_path: Path) -> None:
    good = "".join(f"2026-03-01T09:00:00Z,vt,api,{n}\n" for n in range(300))
    (tmp_path / "r.csv").write_text(REQ + '2026-03-01T09:00:00Z,vt,"broken,1\n' + good)
    assert counts(file_spec(tmp_path, "r.csv")) == (
        300,
        1,
        [("r.csv:2", "malformed line: unbalanced quote")],
    )


def test_two_stray_quotes_cost_two_lines_not_the_lines_between(tmp_path: Path) -> None:
    good = "".join(f"2026-03-01T09:00:00Z,vt,api,{n}\n" for n in range(5))
    stray = '2026-03-01T09:00:00Z,vt,5" pipe,1\n'
    (tmp_path / "r.csv").write_text(REQ + stray + good + stray)
    assert counts(file_spec(tmp_path, "r.csv")) == (
        5,
        2,
        [
            ("r.csv:2", "malformed line: broken quoting"),
            ("r.csv:8", "malformed line: unbalanced quote"),
        ],
    )


# --- one rule table: the flag and the reason can never disagree --------------------------------


def edge_values(dtype: pl.DataType) -> list[Any]:
    if dtype == pl.Int64:
        return [None, -1, 0, 1, 3, 4, 5]
    if dtype == pl.Float64:
        return [None, -1.0, 0.0, 0.5]
    if dtype == pl.Boolean:
        return [None, True, False]
    if dtype == pl.String:
        return [None, "success", "pass", "done", "not_applicable", "failed"]
    return [None, T0]


@pytest.mark.parametrize("table", list(SCHEMAS))
def test_every_value_rule_gives_a_reason_exactly_where_it_flags(table: str) -> None:
    pick = random.Random(table)  # fixed seed: the same frame on every run
    size = 300
    data = {
        name: pl.Series(name, [pick.choice(edge_values(dtype)) for _ in range(size)]).cast(dtype)
        for name, dtype in SCHEMAS[table].items()
    }
    frame_ = pl.DataFrame(data).with_columns(pl.lit(False).alias("__pw_failed_value"))
    rules = value_rules(table)
    assert rules, table
    for rule in rules:
        out = frame_.select(rule.when.fill_null(False).alias("flag"), rule.reason().alias("why"))
        assert out["flag"].sum() > 0, (table, rule.template)  # the edge values reach every rule
        assert out["flag"].to_list() == out["why"].is_not_null().to_list(), rule.template


def test_connector_errors_only(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text('"a\n')  # a header that is not CSV
    with pytest.raises(ConnectorError, match="the header line is not well-formed CSV"):
        FileConnector(file_spec(tmp_path, "r.csv")).load()


def test_ndjson_escape_of_half_a_character_is_one_quarantined_line(tmp_path: Path) -> None:
    head = '{"timestamp":"2026-03-01T09:00:00Z","initiative":"vt","duration_ms":1,'
    (tmp_path / "r.ndjson").write_text(
        head + '"service":"\\ud9e4"}\n' + head + '"service":"\\u00e9\\ud83d\\ude00"}\n'
    )
    assert counts(file_spec(tmp_path, "r.ndjson")) == (
        1,
        1,
        [("r.ndjson:1", "malformed line: \\u escape of no character")],
    )
    good = frame(file_spec(tmp_path, "r.ndjson")).filter(~pl.col(BAD))
    assert good["service"].to_list() == ["é😀"]
