"""SqlConnector: canonical tables from any SQLAlchemy database, read-only and time-boxed.

Each canonical table comes either from a database `table` (only the mapped canonical columns
are selected, identifiers quoted by SQLAlchemy) or from a read-only `query` with bound `params`.
The session is made read-only and given a statement timeout where the database supports it.
The connection URL is a secret: it never appears in a message, and passwords are redacted
from every driver error we pass on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import sqlalchemy as sa
from pydantic import ConfigDict
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, NoSuchTableError
from sqlalchemy.pool import NullPool

from connectors import phi
from connectors.base import (
    Connector,
    ConnectorSettings,
    IssuePath,
    PatientIdentifierRefused,
    RawPart,
    RawRead,
    SourceConfigError,
    SourceUnavailable,
    check_per_table,
    unknown_settings,
)
from connectors.canonical import REQUIRED, SCHEMAS, TABLES

_TOP_KEYS = frozenset(
    {"url", "statement_timeout", "connect_timeout", "table", "query", "params", "key", "per_table"}
)
_TABLE_KEYS = frozenset({"table", "query", "params", "key"})
_ROW = "__pw_row"
_WRITES = re.compile(
    r"\b(insert|update|delete|merge|upsert|truncate|drop|alter|create|grant|revoke|into|call"
    r"|copy|pragma|attach|detach|vacuum|reindex|comment|rename|exec|execute)\b",
    re.IGNORECASE,
)
_TIMEOUT = re.compile(r"interrupted|timeout|max_statement_time|max_execution_time", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.\-]*://[^:/@\s]*:)[^@\s]*(?=@)")


def redact(text: str, secrets: Sequence[str | None] = ()) -> str:
    """Remove passwords from `text`: `scheme://user:***@host` and any literal secret given."""
    text = _URL_PASSWORD.sub(r"\g<head>***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def _code_only(sql: str) -> str:
    """`sql` with comments removed and string literals / quoted identifiers blanked."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end
        elif sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            out.append(" ")
        elif ch in "'\"`":
            j = i + 1
            while j < n:
                if sql[j] == ch:
                    if j + 1 < n and sql[j + 1] == ch:  # doubled quote escapes itself
                        j += 2
                        continue
                    break
                j += 1
            out.append(" x ")
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def query_problem(sql: str) -> str | None:
    """Why `sql` is not a single read-only SELECT / WITH statement (None when it is)."""
    code = _code_only(sql).strip()
    while code.endswith(";"):
        code = code[:-1].rstrip()
    if not code:
        return "the query is empty"
    if ";" in code:
        return "only one statement is allowed"
    first = code.split(None, 1)[0].lower()
    if first not in ("select", "with"):
        return f"only SELECT or WITH queries are allowed, not {first.upper()}"
    found = _WRITES.search(code)
    if found:
        return f"the query must only read; found {found.group(1).upper()}"
    return None


def _positive(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _table_errors(prefix: str, settings: Mapping[str, Any]) -> list[str]:
    errors: list[str] = []
    has_table, has_query = "table" in settings, "query" in settings
    if has_table == has_query:
        errors.append(f"{prefix}: give exactly one of `table` or `query`")
    if has_table and (not isinstance(settings["table"], str) or not settings["table"].strip()):
        errors.append(f"{prefix}.table: expected a table name")
    if has_query:
        if not isinstance(settings["query"], str):
            errors.append(f"{prefix}.query: expected a SELECT statement")
        else:
            problem = query_problem(settings["query"])
            if problem:
                errors.append(f"{prefix}.query: {problem}")
    if "params" in settings:
        if not isinstance(settings["params"], dict):
            errors.append(f"{prefix}.params: expected a mapping of bound parameters")
        elif has_table:
            errors.append(f"{prefix}.params: only applies to `query`")
    if "key" in settings and (not isinstance(settings["key"], str) or not settings["key"]):
        errors.append(f"{prefix}.key: expected a column name")
    return errors


class _PermissiveSettings(ConnectorSettings):
    model_config = ConfigDict(extra="allow", frozen=True)


class SqlConnector(Connector):
    """Reads canonical tables from a SQL database; see docs/connectors.md for every setting."""

    type_name: ClassVar[str] = "sql"
    # TEMP (lead): permissive until SqlSettings replaces the hand-written settings_errors
    settings_model: ClassVar[type[ConnectorSettings]] = _PermissiveSettings

    @classmethod
    def settings_errors(cls, settings: dict[str, Any]) -> list[str]:
        """Every problem with `settings`; keys starting with `_` are injected by the loader."""
        errors = unknown_settings(settings, _TOP_KEYS)
        if not isinstance(settings.get("url"), str) or not settings.get("url", "").strip():
            errors.append("settings.url: required, a SQLAlchemy URL such as ${PILOTWATCH_DB_URL}")
        for key in ("statement_timeout", "connect_timeout"):
            if key in settings and not _positive(settings[key]):
                errors.append(f"settings.{key}: expected a positive number of seconds")
        per_table = settings.get("per_table")
        if per_table is None:
            if _TABLE_KEYS.intersection(settings):
                errors += _table_errors("settings", settings)
            else:
                errors.append("settings: give `table` or `query`, or `per_table: {table: {...}}`")
            return errors
        if _TABLE_KEYS.intersection(settings):
            errors.append("settings: use either top-level `table`/`query` or `per_table`, not both")
        if not isinstance(per_table, dict) or not per_table:
            return [*errors, "settings.per_table: expected a mapping {canonical table: {...}}"]
        for table, sub in per_table.items():
            prefix = f"settings.per_table.{table}"
            if table not in TABLES:
                errors.append(f"{prefix}: unknown table (expected one of {list(TABLES)})")
            if not isinstance(sub, dict):
                errors.append(f"{prefix}: expected a mapping with `table` or `query`")
                continue
            errors += [
                f"{prefix}.{key}: unknown key (expected one of {sorted(_TABLE_KEYS)})"
                for key in sub
                if key not in _TABLE_KEYS
            ]
            errors += _table_errors(prefix, sub)
        return errors

    @classmethod
    def settings_issues(cls, settings: Mapping[str, Any]) -> list[tuple[IssuePath, str]]:
        """The hand-written checks of `settings_errors`, as (path, message) pairs."""
        issues: list[tuple[IssuePath, str]] = []
        for error in cls.settings_errors(dict(settings)):
            where, _, message = error.partition(": ")
            path = tuple(where.split(".")[1:])
            issues.append((path, message))
        return issues

    def read(self) -> RawRead:
        """Run every table's plan in one read-only, time-boxed session."""
        plans = self._plans()
        url = self._url()
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
        finally:
            engine.dispose()
        return RawRead(parts=parts, warnings=warnings)

    def _plans(self) -> dict[str, dict[str, Any]]:
        """Canonical table -> {table|query, params, key}, checked against the source's tables."""
        spec, settings = self.spec, self.spec.settings
        if "per_table" in settings:
            plans = dict(settings["per_table"])
            check_per_table(spec, plans, "per_table", "nothing given for")
            return plans
        if len(spec.tables) != 1:
            raise SourceConfigError(
                spec.name,
                f"top-level `table`/`query` feed one table but the source lists "
                f"{list(spec.tables)}; use `per_table`",
            )
        return {spec.tables[0]: {k: v for k, v in settings.items() if k in _TABLE_KEYS}}

    def _url(self) -> sa.URL:
        try:
            url = make_url(str(self.spec.settings["url"]))
        except ArgumentError as exc:
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

    def _engine(self, url: sa.URL) -> Engine:
        timeout = self.spec.settings.get("connect_timeout", 10)
        backend = url.get_backend_name()
        connect_args: dict[str, Any] = {}
        if backend in ("postgresql", "mysql", "mariadb"):
            connect_args["connect_timeout"] = max(1, int(timeout))
        try:
            return sa.create_engine(url, poolclass=NullPool, connect_args=connect_args)
        except (ArgumentError, NoSuchModuleError, ImportError) as exc:
            raise SourceConfigError(
                self.spec.name, f"cannot use the database driver for {backend!r}: {exc}"
            ) from exc

    @contextmanager
    def _session(self, engine: Engine, secrets: list[str | None]) -> Iterator[Connection]:
        """A read-only, time-boxed connection; driver errors become SourceUnavailable."""
        seconds = float(self.spec.settings.get("statement_timeout", 30))
        try:
            conn = engine.connect()
        except DBAPIError as exc:
            raise SourceUnavailable(
                self.spec.name, f"cannot connect: {_cause(exc, secrets)}"
            ) from exc
        try:
            _read_only(conn, seconds)
            yield conn
        except DBAPIError as exc:
            raise SourceUnavailable(
                self.spec.name, f"query failed: {_cause(exc, secrets)}"
            ) from exc
        finally:
            with suppress(DBAPIError):
                conn.rollback()
            conn.close()

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
            statement: Any = sa.text(plan["query"])
            params = dict(plan.get("params") or {})
        else:
            origin = f"table {plan['table']}"
            statement = self._select(conn, table, str(plan["table"]), key)
            params = {}
        try:
            result = conn.execute(statement, params)
        except sa.exc.StatementError as exc:
            if isinstance(exc, DBAPIError):
                cause = _cause(exc, secrets)
                if _TIMEOUT.search(cause):
                    limit = self.spec.settings.get("statement_timeout", 30)
                    cause += f" (settings.statement_timeout is {limit}s)"
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


def _read_only(conn: Connection, seconds: float) -> None:
    """Make the session read-only and time-boxed, in each database's own way."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        conn.execute(sa.text("SET TRANSACTION READ ONLY"))
        conn.execute(sa.text(f"SET LOCAL statement_timeout = {max(1, round(seconds * 1000))}"))
    elif dialect in ("mysql", "mariadb"):
        conn.execute(sa.text("SET SESSION TRANSACTION READ ONLY"))
        if getattr(conn.dialect, "is_mariadb", False):
            conn.execute(sa.text(f"SET SESSION max_statement_time = {float(seconds):.3f}"))
        else:
            conn.execute(sa.text(f"SET SESSION max_execution_time = {round(seconds * 1000)}"))
        conn.commit()  # the next transaction starts read-only
    elif dialect == "sqlite":
        raw = conn.connection.driver_connection
        deadline = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 1000)
        conn.exec_driver_sql("PRAGMA query_only = ON")


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
