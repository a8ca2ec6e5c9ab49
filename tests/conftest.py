"""Shared fixtures. Database servers: PostgreSQL and MariaDB on 127.0.0.1 (see README).

A test that needs a server it cannot reach is skipped with the reason, unless
PILOTWATCH_REQUIRE_SERVICES=1 (CI), where it fails instead.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
MARIADB_URL = "mysql+pymysql://root@127.0.0.1:3306/test"
_SERVICES = {
    "postgresql": ("127.0.0.1", 5432, POSTGRES_URL),
    "mariadb": ("127.0.0.1", 3306, MARIADB_URL),
}


def service_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(kind: str) -> str:
    """The URL of a running database server, or skip (fail with PILOTWATCH_REQUIRE_SERVICES=1)."""
    host, port, url = _SERVICES[kind]
    if not service_reachable(host, port):
        reason = f"{kind} is not accepting connections on {host}:{port}"
        if os.environ.get("PILOTWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (PILOTWATCH_REQUIRE_SERVICES=1)")
        pytest.skip(reason)
    return url


def unique_name(base: str) -> str:
    """A table name no other test run uses."""
    return f"{base}_{uuid.uuid4().hex[:10]}"


class SqlDb:
    """A database for one test: creates uniquely named tables and drops them afterwards."""

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.engine = sa.create_engine(url, poolclass=NullPool)
        self.engine.connect().close()  # an SQLite file exists from here on
        self._tables: list[sa.Table] = []

    def table(self, base: str, columns: dict[str, Any], rows: list[dict[str, Any]]) -> str:
        """Create a table `base_<random>` with SQLAlchemy column types and insert `rows`."""
        metadata = sa.MetaData()
        table = sa.Table(
            unique_name(base), metadata, *(sa.Column(n, t) for n, t in columns.items())
        )
        metadata.create_all(self.engine)
        self._tables.append(table)
        if rows:
            with self.engine.begin() as conn:
                conn.execute(table.insert(), rows)
        return table.name

    def drop(self) -> None:
        """Drop every table this helper created."""
        for table in self._tables:
            table.drop(self.engine, checkfirst=True)
        self.engine.dispose()


def make_db(kind: str, tmp_path: Path) -> SqlDb:
    """A SqlDb for `kind` in sqlite / postgresql / mariadb (skips when the server is down)."""
    if kind == "sqlite":
        return SqlDb(kind, f"sqlite:///{tmp_path / 'test.sqlite'}")
    return SqlDb(kind, require_service(kind))


SQL_KINDS = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.services),
    pytest.param("mariadb", marks=pytest.mark.services),
]


def _db_factory(folder: Path) -> Iterator[Callable[[str], SqlDb]]:
    made: list[SqlDb] = []

    def factory(kind: str) -> SqlDb:
        db = make_db(kind, folder)
        made.append(db)
        return db

    yield factory
    for db in made:
        db.drop()


@pytest.fixture
def make_sql_db(tmp_path: Path) -> Iterator[Callable[[str], SqlDb]]:
    """A factory kind -> SqlDb; every table created through it is dropped after the test."""
    yield from _db_factory(tmp_path)


@pytest.fixture(scope="module")
def make_sql_db_module(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Callable[[str], SqlDb]]:
    """`make_sql_db` for module-scoped fixtures; tables dropped after the module."""
    yield from _db_factory(tmp_path_factory.mktemp("sql"))


@pytest.fixture(params=SQL_KINDS)
def sql_db(request: pytest.FixtureRequest, make_sql_db: Callable[[str], SqlDb]) -> SqlDb:
    """Each SQL database in turn (sqlite, postgresql, mariadb); tables dropped afterwards."""
    return make_sql_db(request.param)


# every chart the app draws is validated against the Vega-Lite schema in the tests (the running
# app skips that per-run cost: ui/widgets.py::_unvalidated); inherited by the app servers
os.environ.setdefault("PILOTWATCH_VALIDATE_CHARTS", "1")


@pytest.fixture(scope="session", autouse=True)
def _private_audit_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every test session writes its audit entries to its own SQLite file, never data/."""
    if os.environ.get("PILOTWATCH_AUDIT_URL"):
        yield
        return
    path = tmp_path_factory.mktemp("audit") / "audit.sqlite"
    os.environ["PILOTWATCH_AUDIT_URL"] = f"sqlite:///{path}"
    try:
        yield
    finally:
        os.environ.pop("PILOTWATCH_AUDIT_URL", None)
