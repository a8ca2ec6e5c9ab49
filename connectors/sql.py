"""SqlConnector: canonical tables from any SQLAlchemy database, read-only and time-boxed.

Each canonical table comes either from a database `table` (only the mapped canonical columns
are selected, identifiers quoted by SQLAlchemy) or from a read-only `query` with bound `params`;
`sli_buckets` may instead be counted by the database itself (`pushdown`, connectors/sqlpushdown.py).
The session is made read-only and given a statement timeout where the database supports it.
The connection URL is a secret: it never appears in a message, and passwords are redacted
from every driver error we pass on. The settings live in `connectors.sqlsettings`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, NoSuchTableError
from sqlalchemy.pool import NullPool

from connectors import phi
from connectors.base import (
    Connector,
    ConnectorSettings,
    PatientIdentifierRefused,
    RawPart,
    RawRead,
    SourceConfigError,
    SourceUnavailable,
    check_per_table,
)
from connectors.sqlguard import (
    CheckedQuery,
    QueryRefused,
    check_query,
    dialect_for,
)
from connectors.sqlpushdown import Pushed, bucket_location, fetch_buckets
from connectors.sqlsession import read_only, socket_timeouts, write_access
from connectors.sqlsettings import (
    PUSHDOWN_TABLE,
    ROW,
    SOCKET_TIMEOUT_ERROR,
    TABLE_KEYS,
    TIMEOUT_ERROR,
    SqlSettings,
    SqlTableSettings,
    redact,
)
from core.canonical import REQUIRED, SCHEMAS

__all__ = ["SqlConnector", "SqlSettings", "SqlTableSettings", "redact"]


class SqlConnector(Connector):
    """Reads canonical tables from a SQL database; see docs/connectors.md for every setting."""

    type_name: ClassVar[str] = "sql"
    settings_model: ClassVar[type[ConnectorSettings]] = SqlSettings

    def _sql_settings(self) -> SqlSettings:
        settings = self.settings
        assert isinstance(settings, SqlSettings)
        return settings

    def read(self) -> RawRead:
        """Run every table's plan in one read-only, time-boxed session."""
        plans = self._plans()
        url = self._url()
        for table, plan in plans.items():
            if "query" in plan:  # refused before connecting, in the URL's own dialect
                self._checked(table, plan, url.get_backend_name())
            if "query" in plan.get("pushdown", {}):
                self._checked(table, plan["pushdown"], url.get_backend_name(), ".pushdown")
        secrets = [url.password if isinstance(url.password, str) else None]
        parts: list[RawPart] = []
        warnings: list[str] = []
        engine = self._engine(url)
        try:
            with self._session(engine, secrets) as conn:
                for table, plan in plans.items():
                    if "pushdown" in plan:
                        pushed = self._pushdown(conn, plan["pushdown"], secrets)
                        warnings.append(pushed.warning)
                        parts.append(
                            RawPart(table, pushed.frame.lazy(), pushed.origin, bucket_location())
                        )
                        continue
                    raw, location, origin, notes = self._fetch(conn, table, plan, secrets)
                    warnings += notes
                    parts.append(RawPart(table, raw.lazy(), origin, location))
                note = self.writable_role_warning(conn)
                if note:
                    warnings.append(note)
        finally:
            engine.dispose()
        return RawRead(parts=parts, warnings=warnings)

    def writable_role_warning(self, conn: Connection) -> str | None:
        """A health warning when the connected role could write; None when it cannot."""
        if conn.dialect.name not in ("postgresql", "mysql", "mariadb"):
            return None  # SQLite: PRAGMA query_only is the defence; file modes are the OS's
        try:
            with conn.begin_nested():  # a failed check must not abort the read's transaction
                found = write_access(conn)
        except DBAPIError:
            return None
        if not found:
            return None
        return (
            f"the database role can write ({found}); pilotwatch only reads, but a read-only "
            "role is the last line of defence: see docs/connectors.md, 'Least-privilege role'"
        )

    def _prefix(self, table: str) -> str:
        return f"settings.per_table.{table}" if "per_table" in self.spec.settings else "settings"

    def _checked(
        self, table: str, plan: Mapping[str, Any], backend: str, under: str = ""
    ) -> CheckedQuery:
        """The query of `plan` proven read-only in `backend`'s dialect, or SourceConfigError."""
        where = self._prefix(table) + under
        dialect = dialect_for(backend)
        if dialect is None:
            raise SourceConfigError(
                self.spec.name,
                f"{where}.query: the {backend!r} backend has no SQL dialect pilotwatch can "
                "check a query in; use `table`",
            )
        try:
            checked = check_query(str(plan["query"]), dialect)
        except QueryRefused as refused:
            raise SourceConfigError(self.spec.name, f"{where}.query: {refused}") from refused
        given = set(plan.get("params") or {})
        missing, unused = sorted(checked.params - given), sorted(given - checked.params)
        if missing or unused:
            raise SourceConfigError(
                self.spec.name,
                f"{where}.params: "
                + "; ".join(
                    ([f"no value for {', '.join(':' + m for m in missing)}"] if missing else [])
                    + ([f"not used by the query: {unused}"] if unused else [])
                ),
            )
        return checked

    def _plans(self) -> dict[str, dict[str, Any]]:
        """Canonical table -> {table|query, params, key}, checked against the source's tables."""
        spec, settings = self.spec, self._sql_settings()
        if settings.per_table is not None:
            plans = {
                t: p.model_dump(exclude_none=True, include=set(TABLE_KEYS))
                for t, p in settings.per_table.items()
            }
            check_per_table(spec, plans, "per_table", "nothing given for")
            return plans
        if len(spec.tables) != 1:
            raise SourceConfigError(
                spec.name,
                f"top-level `table`/`query` feed one table but the source lists "
                f"{list(spec.tables)}; use `per_table`",
            )
        if settings.pushdown is not None and spec.tables[0] != PUSHDOWN_TABLE:
            raise SourceConfigError(
                spec.name,
                f"settings.pushdown computes {PUSHDOWN_TABLE}, but the source's table is "
                f"{spec.tables[0]!r}",
            )
        return {spec.tables[0]: settings.model_dump(exclude_none=True, include=set(TABLE_KEYS))}

    def _url(self) -> sa.URL:
        try:
            url = make_url(str(self.spec.settings["url"]))
        except (ArgumentError, ValueError) as exc:
            raise SourceConfigError(
                self.spec.name, "settings.url is not a valid SQLAlchemy URL (value not shown)"
            ) from exc
        root = self.spec.settings.get("_root")
        database = url.database
        special = database in (None, "", ":memory:") or str(database).startswith("file:")
        relative = not special and not Path(str(database)).is_absolute()
        if url.get_backend_name() == "sqlite" and root and relative:
            url = url.set(database=str(Path(root) / str(database)))
        # SQLite would silently create an empty database file
        if (
            url.get_backend_name() == "sqlite"
            and not special
            and not Path(str(url.database)).is_file()
        ):
            raise SourceUnavailable(
                self.spec.name, f"SQLite database file not found: {url.database!r}"
            )
        return url

    def _read_timeout(self) -> float:
        settings = self._sql_settings()
        return settings.read_timeout or settings.statement_timeout + 30

    def _engine(self, url: sa.URL) -> Engine:
        settings = self._sql_settings()
        backend = url.get_backend_name()
        connect_args = socket_timeouts(
            backend, url.get_driver_name(), settings.connect_timeout, self._read_timeout()
        )
        try:
            return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise SourceConfigError(
                self.spec.name, f"cannot use the database driver for {backend!r}: {exc}"
            ) from exc

    @contextmanager
    def _session(self, engine: Engine, secrets: list[str | None]) -> Iterator[Connection]:
        """A read-only, time-boxed connection; driver errors become SourceUnavailable."""
        seconds = self._sql_settings().statement_timeout
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            raise SourceUnavailable(
                self.spec.name, f"cannot connect: {self._explain(exc, secrets)}"
            ) from exc
        try:
            read_only(conn, seconds)
            yield conn
        except DBAPIError as exc:
            raise SourceUnavailable(
                self.spec.name, f"query failed: {self._explain(exc, secrets)}"
            ) from exc
        finally:
            with suppress(DBAPIError):
                conn.rollback()
            conn.close()

    def _explain(self, exc: DBAPIError, secrets: Sequence[str | None]) -> str:
        """The driver's first line, plus which setting bounded it when it is a timeout."""
        cause = _cause(exc, secrets)
        settings = self._sql_settings()
        if SOCKET_TIMEOUT_ERROR.search(cause):
            cause += (
                f" (settings.connect_timeout is {settings.connect_timeout:g}s, "
                f"settings.read_timeout is {self._read_timeout():g}s)"
            )
        elif TIMEOUT_ERROR.search(cause):
            cause += f" (settings.statement_timeout is {settings.statement_timeout:g}s)"
        return cause

    def _pushdown(
        self, conn: Connection, pushdown: Mapping[str, Any], secrets: list[str | None]
    ) -> Pushed:
        """The database counts sli_buckets (connectors/sqlpushdown.py); one checked SELECT."""
        dialect = dialect_for(conn.dialect.name)
        if dialect is None:
            raise SourceConfigError(
                self.spec.name,
                f"settings.pushdown: the {conn.dialect.name!r} backend has no SQL dialect "
                "pilotwatch can generate the bucket query in",
            )

        def run(
            sql: str, params: Mapping[str, Any], origin: str
        ) -> tuple[list[str], Sequence[Sequence[Any]]]:
            result = self._execute(conn, sa.text(sql), params, origin, secrets)
            return list(result.keys()), result.fetchall()

        return fetch_buckets(conn, self.spec, pushdown, dialect, run)

    def _execute(
        self,
        conn: Connection,
        statement: Any,
        params: Mapping[str, Any],
        origin: str,
        secrets: list[str | None],
    ) -> sa.CursorResult[Any]:
        """Run one statement; driver errors become SourceUnavailable, binding errors config."""
        try:
            return conn.execute(statement, dict(params))
        except sa.exc.StatementError as exc:
            if isinstance(exc, DBAPIError):
                cause = self._explain(exc, secrets)
                raise SourceUnavailable(self.spec.name, f"{origin} failed: {cause}") from exc
            raise SourceConfigError(
                self.spec.name, f"{origin}: {redact(str(exc.orig or exc), secrets)}"
            ) from exc

    def _fetch(
        self, conn: Connection, table: str, plan: Mapping[str, Any], secrets: list[str | None]
    ) -> tuple[pl.DataFrame, pl.Expr, str, list[str]]:
        """Run one plan: (raw frame, location expression, origin, warnings)."""
        key = plan.get("key")
        if key and phi.looks_like_patient_identifier(str(key)):
            raise PatientIdentifierRefused(
                self.spec.name,
                f"key {key!r} for {table} looks like a patient identifier; locations must not "
                "carry patient identifiers",
            )
        if "query" in plan:
            origin = f"query for {table}"
            # the server runs sqlglot's regeneration of the checked tree, never the raw text
            checked = self._checked(table, plan, conn.dialect.name)
            statement: Any = sa.text(checked.sql)
            params = dict(plan.get("params") or {})
        else:
            origin = f"table {plan['table']}"
            statement = self._select(conn, table, str(plan["table"]), key)
            params = {}
        result = self._execute(conn, statement, params, origin, secrets)
        names = list(result.keys())
        frame = _to_frame(names, result.fetchall(), self.spec.name, origin)
        warnings: list[str] = []
        if key and key not in frame.columns:
            raise SourceConfigError(
                self.spec.name, f"{origin}: key column {key!r} not in the result"
            )
        if key:
            location = pl.format(f"{origin} key {key}={{}}", pl.col(key).cast(pl.String))
        else:
            frame = frame.with_row_index(ROW)
            location = pl.format(f"{origin} row {{}}", pl.col(ROW))
        return frame, location, origin, warnings

    def _select(self, conn: Connection, table: str, name: str, key: str | None) -> sa.Select[Any]:
        """SELECT only the mapped canonical columns present in `name` (plus the key)."""
        schema, _, bare = name.rpartition(".")
        try:
            reflected = [
                c["name"] for c in sa.inspect(conn).get_columns(bare, schema=schema or None)
            ]
        except NoSuchTableError as exc:
            raise SourceUnavailable(self.spec.name, f"table {name!r} not found") from exc
        by_lower = {c.lower(): c for c in reflected}
        mapping = self.spec.columns.get(table, {})
        columns: dict[str, str] = {}  # label (name conform expects) -> real column name
        for canonical in SCHEMAS[table]:
            wanted = mapping.get(canonical, canonical)
            real = by_lower.get(wanted.lower())
            if real is not None:
                columns[wanted] = real
            elif canonical in REQUIRED[table]:
                shown = [c for c in reflected if not phi.looks_like_patient_identifier(c)]
                raise SourceConfigError(
                    self.spec.name,
                    f"table {name}: required column {wanted!r} for {table!r} is missing; "
                    f"found columns: {', '.join(shown)}",
                )
        if key:
            real_key = by_lower.get(key.lower())
            if real_key is None:
                raise SourceConfigError(self.spec.name, f"table {name}: no key column {key!r}")
            columns.setdefault(key, real_key)
        selected: list[sa.Label[Any]] = [
            sa.column(real).label(label) for label, real in columns.items()
        ]
        query = sa.select(*selected).select_from(sa.table(bare, schema=schema or None))
        return query.order_by(sa.column(columns[key])) if key else query


def _cause(exc: DBAPIError, secrets: Sequence[str | None]) -> str:
    """The driver's own first line of explanation, passwords redacted."""
    text = str(exc.orig if exc.orig is not None else exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return redact(first, secrets)


def _to_frame(
    names: list[str], rows: Sequence[Sequence[Any]], source: str, origin: str
) -> pl.DataFrame:
    """Cursor rows -> DataFrame; values Polars cannot type (UUID, JSON ...) become text."""
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SourceConfigError(source, f"{origin}: duplicate result column names {dupes}")
    data: dict[str, pl.Series] = {}
    for i, name in enumerate(names):
        values = [row[i] for row in rows]
        try:
            series = pl.Series(name, values, strict=False)
        except (TypeError, ValueError, pl.exceptions.PolarsError):
            series = pl.Series(name, [None] * len(values), dtype=pl.Object)
        if series.dtype == pl.Object:
            series = pl.Series(name, [None if v is None else str(v) for v in values], pl.String)
        data[name] = series
    return pl.DataFrame(data)
