"""The connector contract (connectors/testing.py) run against every built-in backend.

Each backend writes the suite's dataset in its own format (CSV, Parquet, NDJSON, SQL tables or a
SQL query) and must pass every test of `ConnectorContract`, exactly as a plugin's own tests do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from connectors import registry
from connectors.base import SourceSpec
from connectors.testing import COLUMNS, ROWS, ConnectorContract, as_text, contract_spec, records
from core.canonical import TABLES


class TestCsv(ConnectorContract):
    def write(self, root: Path) -> SourceSpec:
        for table in TABLES:
            lines = [",".join(COLUMNS[table])]
            lines += [",".join(as_text(v) for v in row) for row in ROWS[table]]
            (root / f"{table}.csv").write_text("\n".join(lines) + "\n")
        return contract_spec("file", {"paths": {t: f"{t}.csv" for t in TABLES}, "_root": str(root)})

    def location(self, table: str, row_id: int) -> str:
        return f"{table}.csv:{row_id + 2}"


class TestNdjson(ConnectorContract):
    def write(self, root: Path) -> SourceSpec:
        for table in TABLES:
            lines = [json.dumps(r, default=lambda v: v.isoformat()) for r in records(table)]
            (root / f"{table}.ndjson").write_text("\n".join(lines) + "\n")
        paths = {t: f"{t}.ndjson" for t in TABLES}
        return contract_spec("file", {"paths": paths, "_root": str(root)})

    def location(self, table: str, row_id: int) -> str:
        return f"{table}.ndjson:{row_id + 1}"


_POLARS = {
    "int": pl.Int64(),
    "float": pl.Float64(),
    "str": pl.String(),
    "bool": pl.Boolean(),
    "time": pl.Datetime("us", "UTC"),
}


class TestParquet(ConnectorContract):
    def write(self, root: Path) -> SourceSpec:
        for table in TABLES:
            schema = {name: _POLARS[kind] for name, kind in COLUMNS[table].items()}
            pl.DataFrame(ROWS[table], schema=schema, orient="row").write_parquet(
                root / f"{table}.parquet"
            )
        paths = {t: f"{t}.parquet" for t in TABLES}
        return contract_spec("file", {"paths": paths, "_root": str(root)})

    def location(self, table: str, row_id: int) -> str:
        return f"{table}.parquet#row {row_id}"


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


READER = "pw_contract_reader"


def _reader_url(url: str, kind: str, tables: list[str]) -> str:
    """The URL of a role that may only SELECT `tables` (docs/connectors.md, least privilege).

    Connecting as the servers' superuser would (rightly) add a "the role can write" warning.
    """
    if kind == "sqlite":
        return url
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        if kind == "postgresql":
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": READER}
            )
            if exists.first() is None:
                conn.execute(sa.text(f"CREATE ROLE {READER} LOGIN NOSUPERUSER"))
            for table in tables:
                conn.execute(sa.text(f"GRANT SELECT ON {table} TO {READER}"))
        else:
            conn.execute(sa.text(f"CREATE USER IF NOT EXISTS '{READER}'@'%'"))
            conn.execute(sa.text(f"CREATE USER IF NOT EXISTS '{READER}'@'localhost'"))
            for table in tables:
                for host in ("%", "localhost"):
                    conn.execute(sa.text(f"GRANT SELECT ON {table} TO '{READER}'@'{host}'"))
    engine.dispose()
    return sa.make_url(url).set(username=READER, password=None).render_as_string(False)


class SqlContract(ConnectorContract):
    """Tables in one database, read by table name (or by a SELECT * query)."""

    kind: ClassVar[str] = "sqlite"
    query: ClassVar[bool] = False
    names: ClassVar[dict[str, str]] = {}

    @pytest.fixture(scope="class")
    @classmethod
    def contract_source(
        cls,
        tmp_path_factory: pytest.TempPathFactory,
        make_sql_db_module: Callable[[str], Any],
    ) -> SourceSpec:
        db = make_sql_db_module(cls.kind)
        types = _sql_types(cls.kind)
        per_table: dict[str, dict[str, Any]] = {}
        names: dict[str, str] = {}
        for table in TABLES:
            columns = {name: types[kind] for name, kind in COLUMNS[table].items()}
            names[table] = db.table(f"pw_{table}", columns, _sql_rows(cls.kind, table))
            source: dict[str, Any] = (
                {"query": f"SELECT * FROM {names[table]}"}  # noqa: S608
                if cls.query
                else {"table": names[table]}
            )
            per_table[table] = {**source, "key": "row_id"}
        cls.names = names
        root = tmp_path_factory.mktemp("contract")
        url = _reader_url(db.url, cls.kind, list(names.values()))
        return contract_spec("sql", {"url": url, "per_table": per_table, "_root": str(root)})

    def location(self, table: str, row_id: int) -> str:
        where = f"query for {table}" if self.query else f"table {self.names[table]}"
        return f"{where} key row_id={row_id}"


class TestSqlite(SqlContract):
    kind = "sqlite"
    names: ClassVar[dict[str, str]] = {}


class TestSqliteQuery(SqlContract):
    kind = "sqlite"
    query = True
    names: ClassVar[dict[str, str]] = {}


@pytest.mark.services
class TestPostgresql(SqlContract):
    kind = "postgresql"
    names: ClassVar[dict[str, str]] = {}


@pytest.mark.services
class TestMariadb(SqlContract):
    kind = "mariadb"
    names: ClassVar[dict[str, str]] = {}


def test_every_registered_connector_is_in_the_contract() -> None:
    assert {"file", "sql"} <= set(registry.available())
