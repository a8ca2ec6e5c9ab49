"""SqlConnector on SQLite, PostgreSQL and MariaDB: modes, params, safety, failures, timeouts."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from connectors.base import (
    LOCATION,
    REASON,
    PatientIdentifierRefused,
    SourceConfigError,
    SourceLoad,
    SourceSpec,
    SourceUnavailable,
)
from connectors.sql import SqlConnector, redact
from connectors.sqlguard import query_problem
from connectors.sqlsession import read_only


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def spec(
    settings: dict[str, Any], tables: tuple[str, ...] = ("incidents",), **extra: Any
) -> SourceSpec:
    return SourceSpec(name="db", type="sql", tables=tables, settings=settings, **extra)


def load(settings: dict[str, Any], **kwargs: Any) -> SourceLoad:
    return SqlConnector(spec(settings, **kwargs)).load()


def data_warnings(result: SourceLoad) -> list[str]:
    """The warnings about the data; the test servers' roles can write (tested elsewhere)."""
    return [w for w in result.warnings if not w.startswith("the database role can write")]


def split(frame: pl.LazyFrame) -> tuple[pl.DataFrame, list[tuple[str, str]]]:
    data = frame.collect()
    good = data.filter(pl.col(REASON).is_null())
    bad = data.filter(pl.col(REASON).is_not_null())
    return good, sorted(zip(bad[LOCATION], bad[REASON], strict=True))


INCIDENT_COLUMNS = {
    "ticket": sa.String(20),
    "app": sa.String(20),
    "sev": sa.Integer(),
    "opened": sa.DateTime(),
    "mrn": sa.String(20),
}
INCIDENT_ROWS = [
    {"ticket": "T-1", "app": "vt", "sev": 2, "opened": datetime(2026, 3, 1, 9), "mrn": "123"},
    {"ticket": "T-2", "app": "rm", "sev": 1, "opened": datetime(2026, 3, 1, 10), "mrn": "456"},
    {"ticket": "T-3", "app": "vt", "sev": 7, "opened": datetime(2026, 3, 1, 11), "mrn": "789"},
]
INCIDENT_MAPPING = {
    "incidents": {
        "incident_id": "ticket",
        "initiative": "app",
        "severity": "sev",
        "opened_at": "opened",
    }
}


def incidents_table(db: Any) -> str:
    return db.table("pw_inc", INCIDENT_COLUMNS, INCIDENT_ROWS)


def test_table_mode_selects_mapped_columns_and_locates_by_key(sql_db: Any) -> None:
    name = incidents_table(sql_db)
    result = load(
        {"url": sql_db.url, "table": name, "key": "ticket"},
        columns=INCIDENT_MAPPING,
        timezone="America/New_York",
    )
    assert data_warnings(result) == []  # `mrn` was never selected, so nothing had to be dropped
    good, bad = split(result.frames["incidents"])
    assert good["incident_id"].to_list() == ["T-1", "T-2"]
    assert good["severity"].to_list() == [2, 1]
    # naive DATETIME read in the source's zone: 09:00 EST -> 14:00Z
    assert good["opened_at"].to_list() == [utc(2026, 3, 1, 14), utc(2026, 3, 1, 15)]
    assert good[LOCATION].to_list() == [
        f"table {name} key ticket=T-1",
        f"table {name} key ticket=T-2",
    ]
    assert bad == [(f"table {name} key ticket=T-3", "severity: 7 not in 1..4")]


def test_query_mode_with_bound_params_drops_patient_columns(sql_db: Any) -> None:
    name = incidents_table(sql_db)
    result = load(
        {
            "url": sql_db.url,
            "query": f"SELECT * FROM {name} WHERE app = :app ORDER BY ticket",  # noqa: S608
            "params": {"app": "vt"},
        },
        columns=INCIDENT_MAPPING,
    )
    assert data_warnings(result) == [
        "dropped column 'mrn' (looks like a patient identifier; never loaded) from query for "
        "incidents"
    ]
    good, bad = split(result.frames["incidents"])
    assert good["incident_id"].to_list() == ["T-1"]
    assert bad == [("query for incidents row 1", "severity: 7 not in 1..4")]


def test_hostile_params_are_bound_not_formatted(sql_db: Any) -> None:
    name = incidents_table(sql_db)
    result = load(
        {
            "url": sql_db.url,
            "query": f"SELECT * FROM {name} WHERE app = :app",  # noqa: S608
            "params": {"app": "vt' OR '1'='1"},
        },
        columns=INCIDENT_MAPPING,
    )
    assert result.frames["incidents"].collect().height == 0


def test_missing_table_is_unavailable(sql_db: Any) -> None:
    missing = f"pw_missing_{uuid.uuid4().hex[:8]}"
    with pytest.raises(SourceUnavailable, match=f"table '{missing}' not found"):
        load({"url": sql_db.url, "table": missing})
    with pytest.raises(SourceUnavailable, match="query for incidents failed"):
        load({"url": sql_db.url, "query": f"SELECT * FROM {missing}"})  # noqa: S608


def test_missing_sqlite_file_is_unavailable_and_not_created(tmp_path: Path) -> None:
    with pytest.raises(SourceUnavailable, match="SQLite database file not found"):
        load({"url": "sqlite:///nope.db", "table": "t", "_root": str(tmp_path)})
    assert not (tmp_path / "nope.db").exists()


def test_missing_required_column_is_a_config_error(sql_db: Any) -> None:
    name = incidents_table(sql_db)
    mapping = {"incidents": {**INCIDENT_MAPPING["incidents"], "severity": "priority"}}
    with pytest.raises(SourceConfigError) as error:
        load({"url": sql_db.url, "table": name}, columns=mapping)
    message = str(error.value)
    assert f"table {name}" in message
    assert "required column 'priority'" in message
    assert "mrn" not in message  # patient-identifier names are not even listed


def test_statement_timeout_stops_a_slow_query(sql_db: Any) -> None:
    slow = {
        "sqlite": (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) "
            "SELECT count(*) AS incident_id FROM n"
        ),
        # pg_sleep() and SLEEP() are refused by the query guard, so burn CPU instead
        "postgresql": "SELECT count(*) AS incident_id FROM generate_series(1, 10000000000) g",
        "mariadb": "SELECT count(*) AS incident_id FROM seq_1_to_100000 a, seq_1_to_100000 b",
    }[sql_db.kind]
    with pytest.raises(SourceUnavailable, match=r"settings.statement_timeout is 0.5s"):
        load({"url": sql_db.url, "query": slow, "statement_timeout": 0.5})


def test_session_is_read_only(sql_db: Any) -> None:
    engine = sa.create_engine(sql_db.url, poolclass=NullPool)
    with engine.connect() as conn:
        read_only(conn, 5)
        with pytest.raises(sa.exc.DBAPIError):
            conn.execute(sa.text(f"CREATE TABLE pw_never_{uuid.uuid4().hex[:8]} (a INTEGER)"))
    engine.dispose()


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM incidents",
        "SELECT 1; DROP TABLE incidents",
        "WITH gone AS (DELETE FROM incidents RETURNING *) SELECT * FROM gone",
        "SELECT * INTO backup FROM incidents",
        "UPDATE incidents SET sev = 1",
        "",
    ],
)
def test_non_select_queries_are_refused_before_connecting(query: str) -> None:
    assert query_problem(query, "postgres") is not None
    unreachable = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    with pytest.raises(SourceConfigError, match=r"settings\.query"):
        load({"url": unreachable, "query": query})


@pytest.mark.parametrize(
    "query",
    [
        "select * from incidents;",
        "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
        "SELECT 'delete; drop' AS note, \"update\" FROM t -- insert\n",
        "SELECT last_update, created_by FROM t /* ; */",
    ],
)
def test_read_only_queries_are_accepted(query: str) -> None:
    assert query_problem(query, "postgres") is None


def test_unreachable_database_is_unavailable_and_password_redacted() -> None:
    url = "postgresql+psycopg://postgres:s3cr3t-pw@127.0.0.1:1/test"
    with pytest.raises(SourceUnavailable) as error:
        load({"url": url, "table": "incidents", "connect_timeout": 2})
    message = str(error.value)
    assert "cannot connect" in message
    assert "s3cr3t-pw" not in message


@pytest.mark.services
def test_wrong_password_is_unavailable_without_the_password(make_sql_db: Any) -> None:
    db = make_sql_db("mariadb")
    user = f"pw_{uuid.uuid4().hex[:8]}"
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'right-Pa55'"))
        conn.execute(sa.text(f"CREATE USER '{user}'@'localhost' IDENTIFIED BY 'right-Pa55'"))
    try:
        url = f"mysql+pymysql://{user}:wrong-Pa55@127.0.0.1:3306/test"
        with pytest.raises(SourceUnavailable) as error:
            load({"url": url, "table": "incidents"})
        message = str(error.value)
        assert "Access denied" in message
        assert "wrong-Pa55" not in message
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'%'"))
            conn.execute(sa.text(f"DROP USER IF EXISTS '{user}'@'localhost'"))


@pytest.mark.services
def test_unknown_postgres_user_is_unavailable(make_sql_db: Any) -> None:
    make_sql_db("postgresql")  # skips when the server is down
    url = "postgresql+psycopg://nobody_here:pw-Secret@127.0.0.1:5432/test"
    with pytest.raises(SourceUnavailable) as error:
        load({"url": url, "table": "incidents"})
    assert "nobody_here" in str(error.value)
    assert "pw-Secret" not in str(error.value)


def test_key_that_looks_like_a_patient_identifier_is_refused(sql_db: Any) -> None:
    name = incidents_table(sql_db)
    with pytest.raises(PatientIdentifierRefused, match="'mrn'"):
        load({"url": sql_db.url, "table": name, "key": "mrn"}, columns=INCIDENT_MAPPING)


def test_mapping_a_patient_identifier_is_refused_before_connecting() -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:1/test"
    with pytest.raises(PatientIdentifierRefused):
        load({"url": url, "table": "t"}, columns={"incidents": {"title": "patient_name"}})


def test_per_table_settings_feed_several_tables(tmp_path: Path, make_sql_db: Any) -> None:
    db = make_sql_db("sqlite")
    incidents = incidents_table(db)
    buckets = db.table(
        "pw_buckets",
        {
            "slo": sa.String(20),
            "minute": sa.String(30),
            "good": sa.Integer(),
            "total": sa.Integer(),
        },
        [{"slo": "a", "minute": "2026-03-01T09:00:00+01:00", "good": 3, "total": 4}],
    )
    result = load(
        {
            "url": f"sqlite:///{Path(db.url.removeprefix('sqlite:///')).name}",
            "_root": str(tmp_path),  # a relative SQLite path resolves against the config root
            "per_table": {
                "incidents": {"table": incidents},
                "sli_buckets": {"query": f"SELECT * FROM {buckets}"},  # noqa: S608
            },
        },
        tables=("incidents", "sli_buckets"),
        columns={**INCIDENT_MAPPING, "sli_buckets": {"bucket_start": "minute"}},
    )
    good, _ = split(result.frames["sli_buckets"])
    assert good["bucket_start"].to_list() == [utc(2026, 3, 1, 8)]
    incidents_good, bad = split(result.frames["incidents"])
    assert incidents_good.height == 2
    assert bad == [(f"table {incidents} row 2", "severity: 7 not in 1..4")]


def test_settings_errors_report_every_problem() -> None:
    errors = SqlConnector.settings_errors(
        {
            "table": "t",
            "query": "DROP TABLE t",
            "statement_timeout": -1,
            "params": [1],
            "passwd": "x",
        }
    )
    # no URL, so the query is parsed generically: its refusal still counts at config load
    assert errors == [
        "settings.query: only a SELECT (or WITH ... SELECT) is allowed, not DROP",
        "settings.params: expected a mapping of bound parameters",
        "settings.url: required key is missing",
        "settings.statement_timeout: expected a positive number of seconds",
        "settings.passwd: unknown key (expected one of ['connect_timeout', 'key', 'params', "
        "'per_table', 'pushdown', 'query', 'read_timeout', 'statement_timeout', 'table', 'url'])",
        "settings: give exactly one of `table` or `query`",
        "settings: `params` only applies to `query`",
    ]
    assert SqlConnector.settings_errors({"url": "sqlite://", "table": "t", "_root": "."}) == []


def test_invalid_url_is_a_config_error_that_does_not_echo_it() -> None:
    with pytest.raises(SourceConfigError) as error:
        load({"url": "not a url with pass:w0rd", "table": "t"})
    assert "w0rd" not in str(error.value)


def test_redact_removes_url_passwords() -> None:
    text = "failed for postgresql://ann:hunter2@db:5432/x and mysql+pymysql://root:pw@h/db"
    assert (
        redact(text)
        == "failed for postgresql://ann:***@db:5432/x and mysql+pymysql://root:***@h/db"
    )
    assert redact("token abc123 leaked", ["abc123"]) == "token *** leaked"
