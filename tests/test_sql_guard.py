"""The SQL query guard: hostile queries refused per dialect, proven harmless when bypassed.

Each hostile example is refused by `check_query`; a second test runs it with the guard bypassed
on the real server to show which defence holds there (the regeneration, the driver, the read-only
session) or that the guard is the only one (the server really writes the file).
"""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import sqlglot
from sqlalchemy.pool import NullPool

from connectors.base import SourceConfigError, SourceSpec
from connectors.sql import SqlConnector
from connectors.sqlguard import QueryRefused, check_query, dialect_for
from connectors.sqlsession import mysql_write_grants, read_only, socket_timeouts

GLOT = {"sqlite": "sqlite", "postgresql": "postgres", "mariadb": "mysql"}

# (dialect, query, what the refusal says)
HOSTILE = [
    ("mysql", "SELECT 1 /*! INTO OUTFILE '/tmp/pw_x' */", "executable comments"),
    ("mysql", "SELECT 1 /*!50000 INTO OUTFILE '/tmp/pw_x' */", "executable comments"),
    ("mysql", "SELECT 1 /*M! INTO OUTFILE '/tmp/pw_x' */", "executable comments"),
    ("mysql", "SELECT 1 --1\nINTO OUTFILE '/tmp/pw_x'", "INTO OUTFILE writes a file"),
    ("mysql", "SELECT 1 # a comment\nINTO OUTFILE '/tmp/pw_x'", "INTO OUTFILE writes a file"),
    ("mysql", r"SELECT 'it\'s' INTO DUMPFILE '/tmp/pw_x'", "INTO DUMPFILE writes a file"),
    ("mysql", r"SELECT 'a\'; DROP TABLE t; -- ' AS x; DROP TABLE t", "only one statement"),
    ("mysql", "SELECT 1 INTO @x", "SELECT ... INTO"),
    ("mysql", "SELECT * FROM t LOCK IN SHARE MODE", "locking clauses"),
    ("mysql", "SELECT LOAD_FILE('/etc/passwd')", "function load_file()"),
    ("mysql", "SELECT SLEEP(100)", "function sleep()"),
    ("mysql", "SELECT BENCHMARK(100000000, MD5('a'))", "function benchmark()"),
    ("mysql", "SELECT GET_LOCK('a', 10)", "function get_lock()"),
    ("mysql", "SELECT sys_exec('id')", "function sys_exec()"),
    ("postgres", r"SELECT E'\'' ; COMMIT; CREATE TABLE pw_x (a int); --'", "only one statement"),
    ("postgres", "SELECT lo_export(16400, '/tmp/pw_x')", "function lo_export()"),
    ("postgres", "SELECT pg_catalog.LO_IMPORT('/etc/passwd')", "function lo_import()"),
    ("postgres", "SELECT pg_read_file('/etc/passwd')", "function pg_read_file()"),
    ("postgres", "SELECT pg_read_binary_file('/etc/passwd')", "function pg_read_binary_file()"),
    ("postgres", "SELECT * FROM pg_ls_dir('/')", "function pg_ls_dir()"),
    ("postgres", "SELECT pg_stat_file('/etc/passwd')", "function pg_stat_file()"),
    ("postgres", "SELECT * FROM dblink('host=x', 'DELETE FROM t') AS r(a int)", "dblink()"),
    ("postgres", "SELECT query_to_xml('DELETE FROM t', true, true, '')", "query_to_xml()"),
    ("postgres", "SELECT set_config('default_transaction_read_only', 'off', false)", "set_config"),
    ("postgres", "SELECT pg_terminate_backend(1)", "function pg_terminate_backend()"),
    ("postgres", "SELECT pg_advisory_lock(1)", "function pg_advisory_lock()"),
    ("postgres", "SELECT nextval('s')", "function nextval()"),
    ("postgres", "SELECT pg_sleep(100)", "function pg_sleep()"),
    ("postgres", "WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "DELETE"),
    ("postgres", "WITH n AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM n", "INSERT"),
    ("postgres", "SELECT * FROM t FOR UPDATE", "locking clauses"),
    ("postgres", "SELECT * FROM (SELECT * FROM t FOR SHARE) s", "locking clauses"),
    ("postgres", "SELECT * INTO backup FROM t", "SELECT ... INTO"),
    ("postgres", "SELECT 1; DROP TABLE t", "only one statement"),
    ("postgres", "DELETE FROM t", "not DELETE"),
    ("postgres", "EXPLAIN ANALYZE DELETE FROM t", "not EXPLAIN"),
    ("postgres", "VALUES (1)", "only a SELECT"),
    ("postgres", "", "empty"),
    ("sqlite", "SELECT load_extension('/tmp/evil.so')", "function load_extension()"),
    ("sqlite", "SELECT writefile('/tmp/pw_x', 'a')", "function writefile()"),
    ("sqlite", "SELECT readfile('/etc/passwd')", "function readfile()"),
    ("sqlite", "SELECT edit('a', 'vi')", "function edit()"),
    ("sqlite", "SELECT 1; ATTACH DATABASE '/tmp/x.db' AS x", "only one statement"),
    ("sqlite", "SELECT * FROM t WHERE a = ?", "positional"),
]


@pytest.mark.parametrize(("dialect", "query", "reason"), HOSTILE)
def test_hostile_queries_are_refused(dialect: str, query: str, reason: str) -> None:
    with pytest.raises(QueryRefused, match="(?i)" + re.escape(reason)):
        check_query(query, dialect)


@pytest.mark.parametrize(
    ("url", "query"),
    [
        ("mysql+pymysql://pw@127.0.0.1:1/test", "SELECT 1 /*! INTO OUTFILE '/tmp/pw_x' */"),
        ("mariadb+pymysql://pw@127.0.0.1:1/test", "SELECT 1 /*M! INTO OUTFILE '/tmp/pw_x' */"),
        ("postgresql+psycopg://pw@127.0.0.1:1/test", "SELECT lo_export(1, '/tmp/pw_x')"),
        ("sqlite:///nowhere.db", "SELECT load_extension('x')"),
    ],
)
def test_config_load_refuses_in_the_urls_dialect(url: str, query: str) -> None:
    issues = SqlConnector.settings_issues({"url": url, "query": query})
    assert len(issues) == 1
    assert issues[0][0] == ("query",)


def test_per_table_query_refusal_names_its_key_path() -> None:
    settings = {
        "url": "postgresql+psycopg://pw@127.0.0.1:1/test",
        "per_table": {"incidents": {"query": "SELECT 1; SELECT 2"}},
    }
    assert SqlConnector.settings_errors(settings) == [
        "settings.per_table.incidents.query: only one statement is allowed, found 2"
    ]


def test_parse_error_names_the_setting_and_sqlglots_message() -> None:
    spec = SourceSpec(
        name="db",
        type="sql",
        tables=("incidents",),
        settings={"url": "postgresql+psycopg://pw@127.0.0.1:1/test", "query": "SELECT (1"},
    )
    with pytest.raises(SourceConfigError, match=r"settings\.query: cannot parse it as postgres"):
        SqlConnector(spec).load()


def test_a_backend_without_a_dialect_cannot_use_query() -> None:
    assert dialect_for("firebird") is None
    assert SqlConnector.settings_errors({"url": "firebird://u@h/db", "query": "SELECT 1"}) == [
        "settings.query: this database backend has no SQL dialect pilotwatch can check a query "
        "in; use `table`"
    ]


def test_regeneration_drops_comments_and_keeps_bound_parameters() -> None:
    checked = check_query("SELECT a -- note\n FROM t /* x */ WHERE b = :since", "postgres")
    assert checked.sql == "SELECT a FROM t WHERE b = :since"
    assert checked.params == frozenset({"since"})
    # MySQL `--1` is minus minus one, not a comment: the regeneration says so explicitly
    assert check_query("SELECT 1 --1", "mysql").sql == "SELECT 1 - -1"


def _engine(db: Any) -> sa.Engine:
    kind = {"postgresql": "postgresql", "mariadb": "mysql", "sqlite": "sqlite"}[db.kind]
    driver = {"postgresql": "psycopg", "mariadb": "pymysql", "sqlite": "pysqlite"}[db.kind]
    args = socket_timeouts(kind, driver, 5, 10)
    return sa.create_engine(db.url, poolclass=NullPool, connect_args=args)


def _run(db: Any, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
    """Run `sql` as the connector would: regenerated by the guard, read-only session."""
    checked = check_query(sql, GLOT[db.kind])
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            read_only(conn, 10)
            return [tuple(r) for r in conn.execute(sa.text(checked.sql), params or {})]
    finally:
        engine.dispose()


def test_read_only_queries_still_run(sql_db: Any) -> None:
    name = sql_db.table(
        "pw_guard",
        {"ticket": sa.String(20), "app": sa.String(20), "sev": sa.Integer()},
        [
            {"ticket": "T-1", "app": "vt", "sev": 2},
            {"ticket": "T-2", "app": "rm", "sev": 1},
            {"ticket": "T-3", "app": "vt", "sev": 4},
        ],
    )
    cte = (
        f"WITH v AS (SELECT ticket, sev FROM {name} WHERE app = 'vt') "  # noqa: S608
        "SELECT ticket, sev, row_number() OVER (ORDER BY sev DESC) AS rk FROM v ORDER BY ticket"
    )
    assert _run(sql_db, cte) == [("T-1", 2, 2), ("T-3", 4, 1)]
    join = (
        f"SELECT a.ticket, b.ticket FROM {name} a JOIN {name} b ON a.sev = b.sev + 1 "  # noqa: S608
        "ORDER BY a.ticket"
    )
    assert _run(sql_db, join) == [("T-1", "T-2")]
    union = f"SELECT app FROM {name} UNION SELECT 'zz' ORDER BY 1"  # noqa: S608
    assert _run(sql_db, union) == [("rm",), ("vt",), ("zz",)]
    quoted = (
        "SELECT 'a; b' AS s1, '-- no' AS s2, '/*! INTO OUTFILE */' AS s3, "
        "'INTO x' AS s4, 'it''s' AS s5, 'x:y' AS s6, 'a%' AS s7"
    )
    assert _run(sql_db, quoted) == [
        ("a; b", "-- no", "/*! INTO OUTFILE */", "INTO x", "it's", "x:y", "a%")
    ]


def test_bound_parameters_round_trip_on_every_dialect(sql_db: Any) -> None:
    sql = "SELECT :app AS a, :n AS b, 'lit:eral' AS c WHERE :n > 1"
    assert _run(sql_db, sql, {"app": "vt' OR '1'='1", "n": 2}) == [("vt' OR '1'='1", 2, "lit:eral")]
    assert _run(sql_db, sql, {"app": "vt", "n": 0}) == []


@pytest.mark.services
def test_dollar_quoting_on_postgresql(make_sql_db: Any) -> None:
    db = make_sql_db("postgresql")
    sql = "SELECT $$a; DROP TABLE t; --$$ AS a, $q$it's /*! x */$q$ AS b"
    assert _run(db, sql) == [("a; DROP TABLE t; --", "it's /*! x */")]


@pytest.mark.services
def test_mysql_backslash_quotes_mean_what_mariadb_reads(make_sql_db: Any) -> None:
    db = make_sql_db("mariadb")
    # the old check ended the string at the backslash; MariaDB and sqlglot do not
    assert _run(db, r"SELECT 'a\'; DROP TABLE t; -- ' AS x") == [("a'; DROP TABLE t; -- ",)]


# ---- the guard bypassed: which defence holds on the real server ----


def _raw(db: Any, sql: str) -> Exception | None:
    """Run `sql` exactly as written (no guard) in the read-only session; the error, if any."""
    engine = _engine(db)
    try:
        with engine.connect() as conn:
            read_only(conn, 10)
            try:
                conn.execute(sa.text(sql))
            except sa.exc.DBAPIError as exc:
                return exc
            conn.commit()
    finally:
        engine.dispose()
    return None


def _tables(db: Any, like: str) -> list[str]:
    return [t for t in sa.inspect(db.engine).get_table_names() if t.startswith(like)]


@pytest.mark.services
def test_bypassed_executable_comment_writes_a_file_so_the_guard_refuses_it(
    make_sql_db: Any,
) -> None:
    db = make_sql_db("mariadb")
    target = Path(f"/tmp/pw_outfile_{uuid.uuid4().hex[:8]}")
    query = f"SELECT 1 /*! INTO OUTFILE '{target}' */"
    try:
        # sqlglot's regeneration alone (what the connector runs) has no comment left
        regenerated = sqlglot.parse_one(query, read="mysql").sql(dialect="mysql", comments=False)
        assert regenerated == "SELECT 1"
        assert _raw(db, regenerated) is None
        assert not target.exists()
        # the user's text, run as written, writes the file despite the read-only session
        assert _raw(db, query) is None
        assert target.exists()
        with pytest.raises(QueryRefused, match="executable comments"):
            check_query(query, "mysql")
    finally:
        if target.exists():
            os.remove(target)


@pytest.mark.services
def test_bypassed_multi_statement_is_refused_by_the_driver(make_sql_db: Any) -> None:
    db = make_sql_db("postgresql")
    table = f"pw_never_{uuid.uuid4().hex[:8]}"
    error = _raw(db, rf"SELECT E'\'' ; COMMIT; CREATE TABLE {table} (a int); --'")
    assert error is not None
    assert "cannot insert multiple commands into a prepared statement" in str(error)
    assert _tables(db, table) == []


@pytest.mark.services
def test_bypassed_multi_statement_is_refused_by_mariadb_driver(make_sql_db: Any) -> None:
    db = make_sql_db("mariadb")
    table = f"pw_never_{uuid.uuid4().hex[:8]}"
    error = _raw(db, f"SELECT 1; CREATE TABLE {table} (a int)")
    assert error is not None  # PyMySQL sends one statement; multi-statements are off
    assert _tables(db, table) == []


def test_bypassed_multi_statement_is_refused_by_sqlite(make_sql_db: Any) -> None:
    db = make_sql_db("sqlite")
    error = _raw(db, "SELECT 1; CREATE TABLE pw_never (a int)")
    assert error is not None
    assert "one statement at a time" in str(error)
    assert _tables(db, "pw_never") == []


@pytest.mark.services
def test_bypassed_lo_export_writes_a_file_as_superuser_so_the_guard_refuses_it(
    make_sql_db: Any,
) -> None:
    db = make_sql_db("postgresql")
    target = Path(f"/tmp/pw_lo_{uuid.uuid4().hex[:8]}")
    with db.engine.begin() as conn:
        oid = conn.execute(sa.text("SELECT lo_from_bytea(0, 'planted')")).scalar()
    query = f"SELECT lo_export({oid}, '{target}')"
    try:
        assert _raw(db, query) is None  # READ ONLY does not stop it
        assert target.read_bytes() == b"planted"
        with pytest.raises(QueryRefused, match=r"function lo_export\(\) is not allowed"):
            check_query(query, "postgres")
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"SELECT lo_unlink({oid})"))
        if target.exists():
            os.remove(target)


@pytest.mark.services
@pytest.mark.parametrize(
    "query",
    [
        "WITH gone AS (DELETE FROM {t} RETURNING *) SELECT * FROM gone",
        "SELECT * FROM {t} FOR UPDATE",
        "SELECT nextval('{t}_seq')",
        "SELECT set_config('transaction_read_only', 'off', true); INSERT INTO {t} VALUES (1)",
    ],
)
def test_bypassed_postgres_writes_are_refused_by_the_read_only_session(
    make_sql_db: Any, query: str
) -> None:
    db = make_sql_db("postgresql")
    table = db.table("pw_ro", {"a": sa.Integer()}, [{"a": 1}])
    with db.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE SEQUENCE {table}_seq"))
    try:
        error = _raw(db, query.format(t=table))
        assert error is not None
        assert "read-only transaction" in str(error) or "multiple commands" in str(error)
        with db.engine.connect() as conn:
            assert conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() == 1  # noqa: S608
    finally:
        with db.engine.begin() as conn:
            conn.execute(sa.text(f"DROP SEQUENCE IF EXISTS {table}_seq"))


def test_bypassed_sqlite_load_extension_is_refused_by_the_driver(make_sql_db: Any) -> None:
    db = make_sql_db("sqlite")
    error = _raw(db, "SELECT load_extension('/tmp/pw_evil.so')")
    assert error is not None
    assert "not authorized" in str(error)


# ---- the writable-role warning ----


def test_mysql_grants_beyond_select_are_named() -> None:
    assert mysql_write_grants(["GRANT USAGE ON *.* TO `pw`@`%`"]) is None
    assert (
        mysql_write_grants(
            [
                "GRANT USAGE ON *.* TO `pw`@`%`",
                "GRANT SELECT, SHOW VIEW ON `itsm`.* TO `pw`@`%`",
                "GRANT SELECT (`a`, `b`) ON `itsm`.`t` TO `pw`@`%`",
            ]
        )
        is None
    )
    assert mysql_write_grants(
        [
            "GRANT SELECT, INSERT, UPDATE ON `itsm`.* TO `pw`@`%`",
            "GRANT ALL PRIVILEGES ON *.* TO `root`@`%` WITH GRANT OPTION",
        ]
    ) == (
        "it holds INSERT ON `itsm`.*, UPDATE ON `itsm`.*, ALL PRIVILEGES ON *.*, "
        "GRANT OPTION ON *.*"
    )


def _warning(url: str, query: str = "SELECT 1 AS incident_id") -> list[str]:
    spec = SourceSpec(name="db", type="sql", tables=("incidents",), settings={"url": url})
    connector = SqlConnector(spec)
    engine = sa.create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            read_only(conn, 10)
            note = connector.writable_role_warning(conn)
    finally:
        engine.dispose()
    return [note] if note else []


@pytest.mark.services
def test_superuser_and_write_grants_warn_and_a_read_only_role_does_not(
    make_sql_db: Any,
) -> None:
    pg = make_sql_db("postgresql")
    notes = _warning(pg.url.replace("postgres@", "postgres:Secr3t-pw@"))
    assert len(notes) == 1
    assert "it is a PostgreSQL superuser" in notes[0]
    assert "Secr3t" not in notes[0]
    table = pg.table("pw_role", {"a": sa.Integer()}, [])
    role = f"pw_reader_{uuid.uuid4().hex[:8]}"
    with pg.engine.begin() as conn:
        conn.execute(sa.text(f"CREATE ROLE {role} LOGIN"))
        conn.execute(sa.text(f"GRANT SELECT ON {table} TO {role}"))
    reader = pg.url.replace("postgres@", f"{role}@")
    try:
        assert _warning(reader) == []
        with pg.engine.begin() as conn:
            conn.execute(sa.text(f"GRANT INSERT ON {table} TO {role}"))
        assert _warning(reader) == [
            f"the database role can write (it owns or may modify 1 table(s): public.{table}); "
            "pilotwatch only reads, but a read-only role is the last line of defence: see "
            "docs/connectors.md, 'Least-privilege role'"
        ]
    finally:
        with pg.engine.begin() as conn:
            conn.execute(sa.text(f"REVOKE ALL ON {table} FROM {role}"))
            conn.execute(sa.text(f"DROP ROLE {role}"))


@pytest.mark.services
def test_mariadb_root_warns(make_sql_db: Any) -> None:
    db = make_sql_db("mariadb")
    notes = _warning(db.url)
    assert len(notes) == 1
    assert "ALL PRIVILEGES ON *.*" in notes[0]
