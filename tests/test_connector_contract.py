"""The connector contract: every connector, fed the same logical data, gives the same answer.

Each backend writes the dataset below in its own format (CSV, Parquet, NDJSON, SQL tables or a
SQL query), loads it through its connector and must produce exactly the hand-written canonical
rows, the canonical dtypes, and the same quarantined rows with its own kind of location.
A new connector joins the contract by adding a Backend here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from connectors import registry
from connectors.base import BAD, LOCATION, REASON, SourceSpec
from connectors.canonical import SCHEMAS, TABLES


def t(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# ---- the logical dataset: source columns (requests.timestamp arrives as `ts`) ------------------
COLUMNS: dict[str, dict[str, str]] = {
    "requests": {
        "row_id": "int", "ts": "time", "initiative": "str", "service": "str",
        "operation": "str", "environment": "str", "duration_ms": "float",
        "status_code": "int", "error": "bool",
    },
    "sli_buckets": {"row_id": "int", "slo": "str", "bucket_start": "time", "good": "int",
                    "total": "int"},
    "deployments": {
        "row_id": "int", "deploy_id": "str", "initiative": "str", "environment": "str",
        "finished_at": "time", "status": "str", "commit_at": "time", "version": "str",
    },
    "incidents": {
        "row_id": "int", "incident_id": "str", "initiative": "str", "severity": "int",
        "opened_at": "time", "acknowledged_at": "time", "resolved_at": "time",
        "deploy_id": "str", "patient_impact": "bool", "title": "str",
    },
    "kpi_observations": {
        "row_id": "int", "initiative": "str", "kpi": "str", "period_end": "time",
        "value": "float", "numerator": "int", "denominator": "int",
    },
    "evidence": {
        "row_id": "int", "initiative": "str", "control_id": "str", "status": "str",
        "collected_at": "time", "expires_at": "time", "owner": "str", "evidence_ref": "str",
        "justification": "str",
    },
}  # fmt: skip

ROWS: dict[str, list[tuple[Any, ...]]] = {
    "requests": [
        (0, t(1, 9), "vt", "api", "/triage", None, 120.5, 200, None),
        (1, t(1, 9, 1), "vt", "api", None, "staging", 80.0, 503, None),
        (2, t(1, 9, 2), "vt", "api", "/x", "production", 10.0, None, True),
        (3, None, "vt", "api", "/x", None, 5.0, 200, None),
        (4, t(1, 9, 4), "vt", "api", "/x", None, -1.0, 200, None),
        (5, t(1, 9, 5), "vt", None, "/x", None, 5.0, 200, None),
    ],
    "sli_buckets": [
        (0, "avail", t(1, 9), 10, 10),
        (1, "avail", t(1, 9, 1), 11, 10),
        (2, "avail", t(1, 9, 2), -1, 5),
    ],
    "deployments": [
        (0, "d1", "vt", None, t(1, 10), "ok", t(1, 8), "1.0"),
        (1, "d2", "vt", "production", t(1, 11), "rolled_back", None, None),
        (2, "d3", "vt", "production", t(1, 12), "done", None, None),
        (3, "d4", "vt", "production", None, "failed", None, None),
    ],
    "incidents": [
        (0, "i1", "vt", 2, t(1, 10, 30), t(1, 10, 35), None, "d1", None, None),
        (1, "i2", "vt", 1, t(1, 11), None, t(1, 12), None, True, "outage"),
        (2, "i3", "vt", 5, t(1, 13), None, None, None, False, "x"),
        (3, "i4", None, 3, t(1, 14), None, None, None, False, "y"),
    ],
    "kpi_observations": [
        (0, "vt", "wait", t(28, 0, month=2), 12.5, None, None),
        (1, "vt", "adoption", t(28, 0, month=2), None, 30, 40),
        (2, "vt", "x", t(28, 0, month=2), None, None, None),
        (3, "vt", "y", t(28, 0, month=2), None, 3, -4),
    ],
    "evidence": [
        (0, "vt", "HIPAA-1", "pass", t(1, 0, month=1), t(1, 0, month=12), "ann", "doc-1", None),
        (1, "vt", "HIPAA-2", "not_applicable", t(2, 0, month=1), None, "bob", "doc-2", None),
        (2, "vt", "HIPAA-3", "waived", t(3, 0, month=1), None, "cy", "doc-3", None),
        (3, "vt", None, "pass", t(4, 0, month=1), None, "dee", "doc-4", None),
    ],
}
MAPPING = {"requests": {"timestamp": "ts"}}
VALUES = {"deployments": {"status": {"ok": "success"}}}

# ---- what every connector must return, worked out by hand -----------------------------------
EXPECTED_GOOD: dict[str, dict[str, list[Any]]] = {
    "requests": {
        "timestamp": [t(1, 9), t(1, 9, 1), t(1, 9, 2)],
        "initiative": ["vt", "vt", "vt"],
        "service": ["api", "api", "api"],
        "operation": ["/triage", "", "/x"],  # default ""
        "environment": ["production", "staging", "production"],  # default production
        "duration_ms": [120.5, 80.0, 10.0],
        "status_code": [200, 503, None],
        "error": [False, True, True],  # derived: 503 >= 500; given: True
    },
    "sli_buckets": {"slo": ["avail"], "bucket_start": [t(1, 9)], "good": [10], "total": [10]},
    "deployments": {
        "deploy_id": ["d1", "d2"],
        "initiative": ["vt", "vt"],
        "environment": ["production", "production"],
        "finished_at": [t(1, 10), t(1, 11)],
        "status": ["success", "rolled_back"],  # "ok" mapped to success
        "commit_at": [t(1, 8), None],
        "version": ["1.0", None],
    },
    "incidents": {
        "incident_id": ["i1", "i2"],
        "initiative": ["vt", "vt"],
        "severity": [2, 1],
        "opened_at": [t(1, 10, 30), t(1, 11)],
        "acknowledged_at": [t(1, 10, 35), None],
        "resolved_at": [None, t(1, 12)],
        "deploy_id": ["d1", None],
        "patient_impact": [False, True],
        "title": ["", "outage"],
    },
    "kpi_observations": {
        "initiative": ["vt", "vt"],
        "kpi": ["wait", "adoption"],
        "period_end": [t(28, 0, month=2), t(28, 0, month=2)],
        "value": [12.5, 0.75],  # 30 / 40
        "numerator": [None, 30],
        "denominator": [None, 40],
    },
    "evidence": {
        "initiative": ["vt", "vt"],
        "control_id": ["HIPAA-1", "HIPAA-2"],
        "status": ["pass", "not_applicable"],  # unjustified n/a is a finding, not bad data
        "collected_at": [t(1, 0, month=1), t(2, 0, month=1)],
        "expires_at": [t(1, 0, month=12), None],
        "owner": ["ann", "bob"],
        "evidence_ref": ["doc-1", "doc-2"],
        "justification": [None, None],
    },
}
EXPECTED_BAD: dict[str, dict[int, str]] = {  # row_id -> reason
    "requests": {
        3: "timestamp: missing",
        4: "duration_ms: must be >= 0, got -1.0",
        5: "service: missing",
    },
    "sli_buckets": {1: "good: 11 > total 10", 2: "good: must be >= 0, got -1"},
    "deployments": {
        2: "status: 'done' not one of failed, rolled_back, success",
        3: "finished_at: missing",
    },
    "incidents": {2: "severity: 5 not in 1..4", 3: "initiative: missing"},
    "kpi_observations": {
        2: "value: missing (give value, or numerator and denominator)",
        3: "denominator: must be >= 0, got -4",
    },
    "evidence": {
        2: "status: 'waived' not one of fail, not_applicable, pass",
        3: "control_id: missing",
    },
}


def records(table: str) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS[table], row, strict=True)) for row in ROWS[table]]


# ---- backends ----------------------------------------------------------------------------------
@dataclass
class Backend:
    """Writes the dataset for one connector and says where each row will be located."""

    name: str
    write: Callable[[Path], SourceSpec]
    location: Callable[[str, int], str]


def _spec(type_name: str, settings: dict[str, Any]) -> SourceSpec:
    return SourceSpec(
        name="contract",
        type=type_name,
        tables=TABLES,
        settings=settings,
        columns=MAPPING,
        values=VALUES,
    )


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def write_csv(root: Path) -> SourceSpec:
    for table in TABLES:
        lines = [",".join(COLUMNS[table])]
        lines += [",".join(_text(v) for v in row) for row in ROWS[table]]
        (root / f"{table}.csv").write_text("\n".join(lines) + "\n")
    return _spec("file", {"paths": {t: f"{t}.csv" for t in TABLES}, "_root": str(root)})


def write_ndjson(root: Path) -> SourceSpec:
    for table in TABLES:
        lines = [json.dumps(r, default=lambda v: v.isoformat()) for r in records(table)]
        (root / f"{table}.ndjson").write_text("\n".join(lines) + "\n")
    return _spec("file", {"paths": {t: f"{t}.ndjson" for t in TABLES}, "_root": str(root)})


_POLARS = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "bool": pl.Boolean(),
    "time": pl.Datetime("us", "UTC"),
}


def write_parquet(root: Path) -> SourceSpec:
    for table in TABLES:
        schema = {name: _POLARS[kind] for name, kind in COLUMNS[table].items()}
        pl.DataFrame(ROWS[table], schema=schema, orient="row").write_parquet(
            root / f"{table}.parquet"
        )
    return _spec("file", {"paths": {t: f"{t}.parquet" for t in TABLES}, "_root": str(root)})


def _sql_types(kind: str) -> dict[str, Any]:
    return {
        "int": sa.BigInteger(),
        "float": sa.Double(),
        "str": sa.String(100),
        "bool": sa.Boolean(),
        "time": sa.DateTime(timezone=kind == "postgresql"),
    }


def _sql_rows(kind: str, table: str) -> list[dict[str, Any]]:
    out = records(table)
    if kind != "postgresql":  # no time-zone-aware column type: store naive UTC
        for row in out:
            for key, value in row.items():
                if isinstance(value, datetime):
                    row[key] = value.replace(tzinfo=None)
    return out


class SqlBackend:
    """Tables in one database, read by table name (or by a SELECT * query)."""

    def __init__(self, db: Any, query: bool = False) -> None:
        self.db, self.kind, self.query = db, db.kind, query
        self.names: dict[str, str] = {}

    def write(self, root: Path) -> SourceSpec:
        types = _sql_types(self.kind)
        per_table: dict[str, dict[str, Any]] = {}
        for table in TABLES:
            columns = {name: types[kind] for name, kind in COLUMNS[table].items()}
            name = self.db.table(f"pw_{table}", columns, _sql_rows(self.kind, table))
            self.names[table] = name
            source: dict[str, Any] = (
                {"query": f"SELECT * FROM {name}"} if self.query else {"table": name}  # noqa: S608
            )
            per_table[table] = {**source, "key": "row_id"}
        return _spec("sql", {"url": self.db.url, "per_table": per_table, "_root": str(root)})

    def location(self, table: str, row_id: int) -> str:
        where = f"query for {table}" if self.query else f"table {self.names[table]}"
        return f"{where} key row_id={row_id}"


def backends() -> list[Any]:
    file_backends = [
        Backend("file-csv", write_csv, lambda table, i: f"{table}.csv:{i + 2}"),
        Backend("file-parquet", write_parquet, lambda table, i: f"{table}.parquet#row {i}"),
        Backend("file-ndjson", write_ndjson, lambda table, i: f"{table}.ndjson:{i + 1}"),
    ]
    out: list[Any] = [pytest.param(b, id=b.name) for b in file_backends]
    for kind, query, marks in (
        ("sqlite", False, ()),
        ("sqlite", True, ()),
        ("postgresql", False, (pytest.mark.services,)),
        ("mariadb", False, (pytest.mark.services,)),
    ):
        label = f"sql-{kind}" + ("-query" if query else "")
        out.append(pytest.param(("sql", kind, query), id=label, marks=marks))
    return out


@pytest.fixture(scope="module", params=backends())
def loaded(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    make_sql_db_module: Callable[[str], Any],
) -> tuple[Any, Callable[[str, int], str]]:
    """(SourceLoad, location function) for one backend, written once per module."""
    param = request.param
    tmp_path = tmp_path_factory.mktemp("contract")
    if isinstance(param, Backend):
        spec = param.write(tmp_path)
        return registry.get(spec.type)(spec).load(), param.location
    _, kind, query = param
    backend = SqlBackend(make_sql_db_module(kind), query)
    spec = backend.write(tmp_path)
    return registry.get(spec.type)(spec).load(), backend.location


@pytest.mark.parametrize("table", TABLES)
def test_same_canonical_output(loaded: tuple[Any, Any], table: str) -> None:
    load, location = loaded
    frame = load.frames[table]
    assert isinstance(frame, pl.LazyFrame)
    got = frame.collect()
    assert dict(got.schema) == {
        **SCHEMAS[table],
        REASON: pl.String(),
        LOCATION: pl.String(),
        BAD: pl.Boolean(),
    }
    # the cheap flag and the reason text agree on every row
    assert got[BAD].to_list() == got[REASON].is_not_null().to_list()

    good = got.filter(pl.col(REASON).is_null()).drop(REASON, LOCATION, BAD)
    expected = pl.DataFrame(EXPECTED_GOOD[table], schema=SCHEMAS[table])
    assert_frame_equal(good, expected)

    bad = got.filter(pl.col(REASON).is_not_null())
    got_bad = sorted(zip(bad[LOCATION], bad[REASON], strict=True))
    want_bad = sorted((location(table, i), why) for i, why in EXPECTED_BAD[table].items())
    assert got_bad == want_bad
    assert load.warnings == []


def test_every_registered_connector_is_in_the_contract() -> None:
    assert {"file", "sql"} <= set(registry.available())
