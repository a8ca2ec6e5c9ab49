"""SqlConnector: canonical tables from any SQLAlchemy database, read-only and time-boxed.

Each canonical table comes either from a database `table` (only the mapped canonical columns
are selected, identifiers quoted by SQLAlchemy) or from a read-only `query` with bound `params`.
The session is made read-only and given a statement timeout where the database supports it.
The connection URL is a secret: it never appears in a message, and passwords are redacted
from every driver error we pass on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import sqlalchemy as sa
from pydantic import (
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError
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
    QueryUnparsable,
    check_query,
    dialect_for,
)
from connectors.sqlsession import read_only, socket_timeouts, write_access
from core.canonical import REQUIRED, SCHEMAS, TABLES

_TABLE_KEYS = frozenset({"table", "query", "params", "key"})
_ROW = "__pw_row"
_TIMEOUT = re.compile(r"interrupted|timeout|max_statement_time|max_execution_time", re.I)
_SOCKET_TIMEOUT = re.compile(r"timed out|timeout expired", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)[^@\s]*(?=@)")
# the dialect of the settings being validated, so that nested per-table queries see it
_DIALECT: ContextVar[str | None] = ContextVar("pilotwatch_sql_dialect", default=None)
_NO_DIALECT = "no-dialect"  # a valid URL whose backend sqlglot cannot parse for us


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """Remove passwords from `text`: `scheme://user:***@host` and any literal secret given."""
    text = _URL_PASSWORD.sub(r"\g<head>***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _dialect_of(url: Any) -> str | None:
    """The sqlglot dialect of a settings URL; None when it cannot be known at config load."""
    if not isinstance(url, str) or "${" in url:
        return None  # unresolved here: the query is checked at load time instead
    try:
        backend = make_url(url).get_backend_name()
    except (ArgumentError, ValueError):
        return None
    return dialect_for(backend) or _NO_DIALECT


def _check_query_setting(value: str) -> str:
    """A config-time check of `query` in the dialect of the settings' URL."""
    dialect = _DIALECT.get()
    if dialect == _NO_DIALECT:
        raise ValueError(
            "this database backend has no SQL dialect pilotwatch can check a query in; use `table`"
        )
    try:
        check_query(value, dialect or "")
    except QueryUnparsable:
        if dialect is not None:
            raise
        # no URL to take the dialect from: a generic parse may fail on dialect syntax, so only
        # its refusals count here; the query is checked in its own dialect at load time
    return value


class SqlTableSettings(ConnectorSettings):
    """What one canonical table is read from: a `table` or a read-only `query`."""

    table: str | None = None
    query: str | None = None
    params: dict[str, Any] | None = None
    key: str | None = None

    @field_validator("table", "key")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("expected a name")
        return value

    @field_validator("query")
    @classmethod
    def _query(cls, value: str | None) -> str | None:
        return None if value is None else _check_query_setting(value)

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, dict):
            raise ValueError("expected a mapping of bound parameters")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _shape(cls, data: Any, handler: ModelWrapValidatorHandler[SqlTableSettings]) -> Any:
        return _with_shape_problems(data, handler, _table_shape(data))


def _table_shape(data: Any) -> list[str]:
    """Which of `table` / `query` / `params` go together, from the raw settings mapping."""
    if not isinstance(data, Mapping):
        return []
    has_table, has_query = data.get("table") is not None, data.get("query") is not None
    problems = []
    if has_table == has_query:
        problems.append("give exactly one of `table` or `query`")
    if data.get("params") is not None and has_table:
        problems.append("`params` only applies to `query`")
    return problems


def _top_shape(data: Any) -> list[str]:
    if not isinstance(data, Mapping):
        return []
    flat = [k for k in sorted(_TABLE_KEYS) if data.get(k) is not None]
    if data.get("per_table") is None:
        if not flat:
            return ["give `table` or `query`, or `per_table: {table: {...}}`"]
        return _table_shape(data)
    if flat:
        return ["use either top-level `table`/`query` or `per_table`, not both"]
    return []


def _with_shape_problems(data: Any, handler: Any, problems: list[str]) -> Any:
    """Run the field validation and report `problems` beside its errors, never instead."""
    shape = [
        {"type": PydanticCustomError("settings_shape", problem), "loc": (), "input": data}
        for problem in problems
    ]
    try:
        result = handler(data)
    except ValidationError as exc:
        if not shape:
            raise
        line = [
            {"type": e["type"], "loc": e["loc"], "input": e["input"]}
            | ({"ctx": e["ctx"]} if "ctx" in e else {})
            for e in exc.errors()
        ]
        raise ValidationError.from_exception_data(exc.title, [*line, *shape]) from None
    if shape:
        raise ValidationError.from_exception_data("SqlSettings", shape)
    return result


class SqlSettings(SqlTableSettings):
    """Settings of a `sql` source (docs/connectors.md, "The SQL connector")."""

    url: str
    statement_timeout: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float | None = None  # default: statement_timeout + 30 s
    per_table: dict[str, SqlTableSettings] | None = None

    @field_validator("statement_timeout", "connect_timeout", "read_timeout", mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        positive = isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        if value is not None and not positive:
            raise ValueError("expected a positive number of seconds")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _shape(cls, data: Any, handler: ModelWrapValidatorHandler[SqlSettings]) -> Any:  # type: ignore[override]
        # the URL's dialect, for the queries validated inside (per-table ones included)
        url = data.get("url") if isinstance(data, Mapping) else None
        token = _DIALECT.set(_dialect_of(url))
        try:
            return _with_shape_problems(data, handler, _top_shape(data))
        finally:
            _DIALECT.reset(token)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("required, a SQLAlchemy URL such as ${PILOTWATCH_DB_URL}")
        if "${" not in value:
            try:
                make_url(value)
            except (ArgumentError, ValueError):
                raise ValueError("not a valid SQLAlchemy URL (value not shown)") from None
        return value

    @field_validator("per_table", mode="before")
    @classmethod
    def _tables(cls, value: Any) -> Any:
        if value is None:
            return value
        if not isinstance(value, dict) or not value:
            raise ValueError("expected a mapping {canonical table: {table or query ...}}")
        unknown = [t for t in value if t not in TABLES]
        if unknown:
            raise ValueError(f"unknown table(s) {unknown} (expected one of {list(TABLES)})")
        return value


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
        secrets = [url.password if isinstance(url.password, str) else None]
        parts: list[RawPart] = []
        warnings: list[str] = []
        engine = self._engine(url)
        try:
            with self._session(engine, secrets) as conn:
                for table, plan in plans.items():
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

    def _checked(self, table: str, plan: Mapping[str, Any], backend: str) -> CheckedQuery:
        """The query of `plan` proven read-only in `backend`'s dialect, or SourceConfigError."""
        where = self._prefix(table)
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
                t: p.model_dump(exclude_none=True, include=set(_TABLE_KEYS))
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
        return {spec.tables[0]: settings.model_dump(exclude_none=True, include=set(_TABLE_KEYS))}

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
        if _SOCKET_TIMEOUT.search(cause):
            cause += (
                f" (settings.connect_timeout is {settings.connect_timeout:g}s, "
                f"settings.read_timeout is {self._read_timeout():g}s)"
            )
        elif _TIMEOUT.search(cause):
            cause += f" (settings.statement_timeout is {settings.statement_timeout:g}s)"
        return cause

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
        try:
            result = conn.execute(statement, params)
        except sa.exc.StatementError as exc:
            if isinstance(exc, DBAPIError):
                cause = self._explain(exc, secrets)
                raise SourceUnavailable(self.spec.name, f"{origin} failed: {cause}") from exc
            raise SourceConfigError(
                self.spec.name, f"{origin}: {redact(str(exc.orig or exc), secrets)}"
            ) from exc
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
            frame = frame.with_row_index(_ROW)
            location = pl.format(f"{origin} row {{}}", pl.col(_ROW))
        return frame, location, origin, warnings

    def _select(self, conn: Connection, table: str, name: str, key: str | None) -> sa.Select:
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
        selected = [sa.column(real).label(label) for label, real in columns.items()]
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
