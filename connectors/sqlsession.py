"""The SQL connector's session defences: driver timeouts, a read-only session, role checks.

See docs/connectors.md, "The SQL connector", for what each driver can and cannot bound.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

_LIBPQ = ("psycopg", "psycopg2")
_MYSQL_DRIVERS = ("pymysql", "mysqldb", "mariadbconnector")
_READ_GRANTS = frozenset({"SELECT", "USAGE", "SHOW VIEW"})
_GRANT = re.compile(r"^GRANT\s+(?P<privs>.+?)\s+ON\s+(?P<what>\S+)", re.IGNORECASE | re.DOTALL)


def socket_timeouts(backend: str, driver: str, connect: float, read: float) -> dict[str, Any]:
    """Driver `connect_args` that bound connecting, and reading/writing where the driver can."""
    if backend == "postgresql" and driver in _LIBPQ:
        idle = max(1, math.ceil(read / 3))
        return {
            "connect_timeout": max(2, math.ceil(connect)),  # libpq treats less than 2 s as 2
            # a peer that vanishes (no TCP ACKs) is detected by keepalives and, for data we
            # sent, by tcp_user_timeout; a live server that never answers is not (the
            # source's load_timeout bounds that)
            "keepalives": 1,
            "keepalives_idle": idle,
            "keepalives_interval": idle,
            "keepalives_count": 3,
            "tcp_user_timeout": math.ceil(read * 1000),
            # prepared (extended protocol) for every statement: the server refuses a string
            # holding several statements even without bound parameters
            "prepare_threshold": 0,
        }
    if backend == "postgresql" and driver == "pg8000":
        return {"timeout": read}
    if backend in ("mysql", "mariadb") and driver in _MYSQL_DRIVERS:
        # every socket read and write is bounded, the handshake included
        return {
            "connect_timeout": max(1, math.ceil(connect)),
            "read_timeout": max(1, math.ceil(read)),
            "write_timeout": max(1, math.ceil(read)),
        }
    if backend == "sqlite":
        return {"timeout": connect}  # waiting for a lock held by a writer
    return {}


def read_only(conn: Connection, seconds: float) -> None:
    """Make the session read-only and time-boxed, in each database's own way."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}"))
        # the checked SQL is generated with standard strings; never let `\'` end one early
        conn.execute(sa.text("SET LOCAL standard_conforming_strings = on"))
    elif dialect in ("mysql", "mariadb"):
        conn.execute(sa.text("SET SESSION TRANSACTION READ ONLY"))
        if getattr(conn.dialect, "is_mariadb", False):
            conn.execute(sa.text(f"SET SESSION max_statement_time = {float(seconds):.3f}"))
        else:
            conn.execute(sa.text(f"SET SESSION max_execution_time = {round(seconds * 1000)}"))
        conn.commit()  # the next transaction starts read-only
    elif dialect == "sqlite":
        raw = conn.connection.driver_connection
        assert raw is not None  # an open sqlite connection always has its driver connection
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        conn.exec_driver_sql("PRAGMA query_only = ON")


_PG_WRITABLE = sa.text(
    """
    SELECT n.nspname || '.' || c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_toast%'
      AND (pg_has_role(c.relowner, 'MEMBER')
           OR has_table_privilege(c.oid, 'INSERT, UPDATE, DELETE, TRUNCATE'))
    ORDER BY 1
    """
)


def write_access(conn: Connection) -> str | None:
    """What lets the connected role write (superuser, grants, ownership), or None."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        superuser = conn.execute(
            sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        ).scalar()
        if superuser:
            return "it is a PostgreSQL superuser"
        tables = [row[0] for row in conn.execute(_PG_WRITABLE)]
        if tables:
            shown = ", ".join(tables[:3]) + (" ..." if len(tables) > 3 else "")
            return f"it owns or may modify {len(tables)} table(s): {shown}"
        return None
    if dialect in ("mysql", "mariadb"):
        grants = [str(row[0]) for row in conn.execute(sa.text("SHOW GRANTS"))]
        return mysql_write_grants(grants)
    return None


def mysql_write_grants(grants: list[str]) -> str | None:
    """The privileges beyond SELECT / USAGE / SHOW VIEW in `SHOW GRANTS` lines, or None."""
    found: list[str] = []
    for line in grants:
        match = _GRANT.match(line.strip())
        if not match:
            continue  # a role grant (`GRANT r TO u`): its privileges show under the role
        privileges = re.sub(r"\([^)]*\)", "", match["privs"])  # column lists: SELECT (a, b)
        for privilege in (p.strip().upper() for p in privileges.split(",")):
            if privilege and privilege not in _READ_GRANTS:
                found.append(f"{privilege} ON {match['what']}")
        if re.search(r"WITH\s+GRANT\s+OPTION", line, re.IGNORECASE):
            found.append(f"GRANT OPTION ON {match['what']}")
    if not found:
        return None
    return "it holds " + ", ".join(dict.fromkeys(found))
