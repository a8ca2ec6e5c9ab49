"""The SQL connector's settings: URL, per-table `table`, `query` or `pushdown`, checked at load.

Settings are validated when the configuration loads (docs/connectors.md, "sql"), in the URL's
own SQL dialect, so a write statement or an unparsable query is refused before any connection.
The connection URL is a secret: `redact` takes its password out of every message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from pydantic import (
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, InitErrorDetails, PydanticCustomError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from connectors.base import ConnectorSettings
from connectors.sqlguard import QueryUnparsable, check_query, dialect_for
from core.canonical import TABLES

TABLE_KEYS = frozenset({"table", "query", "params", "key", "pushdown"})
PUSHDOWN_TABLE = "sli_buckets"  # the one canonical table the database may compute itself
ROW = "__pw_row"
TIMEOUT_ERROR = re.compile(r"interrupted|timeout|max_statement_time|max_execution_time", re.I)
SOCKET_TIMEOUT_ERROR = re.compile(r"timed out|timeout expired", re.I)
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


def _named(cls: type, value: str | None) -> str | None:
    """A table or key name: not blank."""
    if value is not None and not value.strip():
        raise ValueError("expected a name")
    return value


def _checked_query(cls: type, value: str | None) -> str | None:
    """A query setting, checked as read-only at config load."""
    return None if value is None else _check_query_setting(value)


def _bound_params(cls: type, value: Any) -> Any:
    """Bound parameters: a mapping."""
    if value is not None and not isinstance(value, dict):
        raise ValueError("expected a mapping of bound parameters")
    return value


class SqlPushdownSettings(ConnectorSettings):
    """Where the database counts `sli_buckets` from: a requests `table` or a read-only `query`.

    The columns are named by the source's `columns.requests` mapping (docs/connectors.md,
    "Aggregation in the database").
    """

    table: str | None = None
    query: str | None = None
    params: dict[str, Any] | None = None

    _name = field_validator("table")(_named)
    _query = field_validator("query")(_checked_query)

    @field_validator("params", mode="before")
    @classmethod
    def _params(cls, value: Any) -> Any:
        value = _bound_params(cls, value)
        clashing = sorted(k for k in value or {} if str(k).startswith("pw_"))
        if clashing:
            raise ValueError(f"parameter names starting with `pw_` are reserved: {clashing}")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _shape(cls, data: Any, handler: ModelWrapValidatorHandler[SqlPushdownSettings]) -> Any:
        problems: list[str] = []
        if isinstance(data, Mapping):
            has_table, has_query = data.get("table") is not None, data.get("query") is not None
            if has_table == has_query:
                problems.append("give exactly one of `pushdown.table` or `pushdown.query`")
            if data.get("params") is not None and has_table:
                problems.append("`pushdown.params` only applies to `pushdown.query`")
        return _with_shape_problems(data, handler, problems)


class SqlTableSettings(ConnectorSettings):
    """What one canonical table is read from: a `table`, a read-only `query` or a `pushdown`."""

    table: str | None = None
    query: str | None = None
    params: dict[str, Any] | None = None
    key: str | None = None
    # sli_buckets only: the database counts the buckets from a requests table or query
    pushdown: SqlPushdownSettings | None = None

    _name = field_validator("table", "key")(_named)
    _query = field_validator("query")(_checked_query)
    _params = field_validator("params", mode="before")(_bound_params)

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
    if data.get("pushdown") is not None:
        if has_table or has_query or data.get("params") is not None or data.get("key"):
            problems.append(
                "`pushdown` replaces `table`, `query`, `params` and `key`; give it alone"
            )
        return problems
    if has_table == has_query:
        problems.append("give exactly one of `table` or `query`")
    if data.get("params") is not None and has_table:
        problems.append("`params` only applies to `query`")
    return problems


def _top_shape(data: Any) -> list[str]:
    if not isinstance(data, Mapping):
        return []
    flat = [k for k in sorted(TABLE_KEYS) if data.get(k) is not None]
    if data.get("per_table") is None:
        if not flat:
            return ["give `table` or `query`, or `per_table: {table: {...}}`"]
        return _table_shape(data)
    if flat:
        return ["use either top-level `table`/`query` or `per_table`, not both"]
    return []


def _init_details(error: ErrorDetails) -> InitErrorDetails:
    """A reported error as the input to rebuild it (its context kept when it has one)."""
    details = InitErrorDetails(type=error["type"], loc=error["loc"], input=error["input"])
    if "ctx" in error:
        details["ctx"] = error["ctx"]
    return details


def _with_shape_problems(data: Any, handler: Any, problems: list[str]) -> Any:
    """Run the field validation and report `problems` beside its errors, never instead."""
    shape: list[InitErrorDetails] = [
        {"type": PydanticCustomError("settings_shape", problem), "loc": (), "input": data}
        for problem in problems
    ]
    try:
        result = handler(data)
    except ValidationError as exc:
        if not shape:
            raise
        line = [_init_details(e) for e in exc.errors()]
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
    def _shape(cls, data: Any, handler: ModelWrapValidatorHandler[SqlSettings]) -> Any:
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
        pushed = [
            t
            for t, v in value.items()
            if t != PUSHDOWN_TABLE and isinstance(v, Mapping) and v.get("pushdown") is not None
        ]
        if pushed:
            raise ValueError(f"`pushdown` only computes {PUSHDOWN_TABLE}, not {pushed}")
        return value
