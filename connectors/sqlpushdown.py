"""`sli_buckets` counted in the database: one scan, one GROUP BY over the minute, bound values.

For a `sql` source whose `sli_buckets` plan is a `pushdown` (docs/connectors.md, "Aggregation in
the database"), the database reduces a requests table or query to per-minute counts for every SLO
the source serves: `SUM(CASE WHEN <match> THEN 1 ELSE 0 END) AS pw_total_<i>` and the same with
`AND <good>` as `pw_good_<i>`. The statement is a sqlglot expression tree whose every value
(filters, thresholds, the range) is a placeholder, rendered in the source's dialect and then run
through the read-only guard (`connectors.sqlguard.check_query`) like any user query, so the
server runs exactly one checked SELECT. The match and good rules are those of the raw requests
path (connectors/conform.py, core/canonical.py): text trimmed, blank environment is
`production`, blank operation is "", `error` else `status_code >= 500` else false, rows without a
service or a non-negative duration left out (the raw path quarantines them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
import sqlglot
from sqlalchemy.engine import Connection
from sqlglot import exp

from connectors import phi
from connectors.base import SourceConfigError, SourceSpec
from connectors.sqlguard import CheckedQuery, QueryRefused, check_query
from core.canonical import REQUIRED, SCHEMAS
from core.models import Slo

REQUEST_COLUMNS = tuple(SCHEMAS["requests"])
BUCKET = "pw_bucket_start"
DEFAULT_ENVIRONMENT = "production"  # core/canonical.py DEFAULTS["requests"]["environment"]


@dataclass(frozen=True)
class Columns:
    """The source's column for each canonical requests column (None when it has none)."""

    timestamp: str
    initiative: str
    service: str
    duration_ms: str
    operation: str | None = None
    environment: str | None = None
    status_code: str | None = None
    error: str | None = None


def pushdown_slos(spec: SourceSpec) -> list[Slo]:
    """The SLOs this source counts: no `indicator` (Prometheus's), within its `initiatives`."""
    wanted = set(spec.initiatives)
    return [s for s in spec.slos if s.indicator is None and (not wanted or s.initiative in wanted)]


def resolve_columns(spec: SourceSpec, present: Sequence[str], origin: str) -> Columns:
    """`columns.requests` resolved against the source's columns (matched case-insensitively)."""
    if spec.values.get("requests"):
        raise SourceConfigError(
            spec.name,
            "values.requests: value maps are not applied in the database; map the values in "
            "the pushdown query (CASE ... END AS ...) instead",
        )
    mapping = spec.columns.get("requests", {})
    unknown = sorted(set(mapping) - set(REQUEST_COLUMNS))
    if unknown:
        raise SourceConfigError(
            spec.name,
            f"columns.requests: unknown canonical column(s) {unknown} "
            f"(expected one of {list(REQUEST_COLUMNS)})",
        )
    by_lower = {name.lower(): name for name in present}
    shown = ", ".join(n for n in present if not phi.looks_like_patient_identifier(n))
    found: dict[str, str | None] = {}
    for canonical in REQUEST_COLUMNS:
        wanted = mapping.get(canonical, canonical)
        real = by_lower.get(wanted.lower())
        if real is None and (canonical in mapping or canonical in REQUIRED["requests"]):
            how = f"mapped from {wanted!r} by columns.requests.{canonical}"
            raise SourceConfigError(
                spec.name,
                f"{origin}: column {canonical!r} ({how if canonical in mapping else 'required'}) "
                f"is missing; found columns: {shown or '(none)'}",
            )
        found[canonical] = real
    return Columns(**found)  # type: ignore[arg-type]


def _col(name: str) -> exp.Column:
    return exp.column(name, quoted=True)


def _param(name: str, dialect: str) -> exp.Expr:
    value: exp.Expr = exp.Placeholder(this=name)
    return exp.cast(value, "BINARY") if dialect == "mysql" else value


def _text(name: str, dialect: str) -> exp.Expr:
    """The trimmed text of a column; MySQL compares bytes (its collations ignore case)."""
    trimmed: exp.Expr = exp.Trim(this=_col(name))
    return exp.cast(trimmed, "BINARY") if dialect == "mysql" else trimmed


def _minute(name: str, dialect: str) -> exp.Expr:
    """The start of the timestamp's minute, exact in each dialect (docs/connectors.md)."""
    if dialect in ("mysql", "sqlite"):  # text `YYYY-MM-DD HH:MM:00`, read back by conform
        fmt = "%Y-%m-%d %H:%i:00" if dialect == "mysql" else "%Y-%m-%d %H:%M:00"
        return exp.Anonymous(
            this="DATE_FORMAT" if dialect == "mysql" else "STRFTIME",
            expressions=[_col(name), exp.Literal.string(fmt)]
            if dialect == "mysql"
            else [exp.Literal.string(fmt), _col(name)],
        )
    return exp.TimestampTrunc(this=_col(name), unit=exp.var("MINUTE"))


def _instant(name: str, dialect: str) -> exp.Expr:
    """The timestamp as compared with the range; SQLite's text is normalised first."""
    if dialect == "sqlite":
        return exp.Anonymous(
            this="STRFTIME", expressions=[exp.Literal.string("%Y-%m-%d %H:%M:%f"), _col(name)]
        )
    return _col(name)


def _is_error(cols: Columns, dialect: str) -> exp.Expr:
    """1 when the request failed: `error`, else `status_code >= 500`, else 0 (conform's rule)."""
    case = exp.Case()
    if cols.error is not None:
        err = _col(cols.error)
        if dialect in ("mysql", "sqlite"):  # 0/1 integers; other values fall through as null
            case = case.when(exp.EQ(this=err, expression=exp.Literal.number(1)), "1")
            case = case.when(exp.EQ(this=err.copy(), expression=exp.Literal.number(0)), "0")
        else:
            case = case.when(exp.Is(this=err, expression=exp.true()), "1")
            case = case.when(exp.Is(this=err.copy(), expression=exp.false()), "0")
    if cols.status_code is not None:
        status = exp.GTE(this=_col(cols.status_code), expression=exp.Literal.number(500))
        case = case.when(status, "1")
    if not case.args.get("ifs"):
        return exp.Literal.number(0)
    return case.else_("0")


def _match(slo: Slo, i: int, cols: Columns, dialect: str) -> exp.Expr:
    """The request belongs to the SLO: initiative, environment, optional service / operation."""
    conds: list[exp.Expr] = [
        exp.EQ(this=_text(cols.initiative, dialect), expression=_param(f"pw_i_{i}", dialect))
    ]
    if cols.environment is None:
        conds.append(exp.true() if slo.environment == DEFAULT_ENVIRONMENT else exp.false())
    else:
        env = exp.Coalesce(
            this=exp.Nullif(
                this=exp.Trim(this=_col(cols.environment)), expression=exp.Literal.string("")
            ),
            expressions=[exp.Placeholder(this="pw_env_default")],
        )
        env_text: exp.Expr = exp.cast(env, "BINARY") if dialect == "mysql" else env
        conds.append(exp.EQ(this=env_text, expression=_param(f"pw_e_{i}", dialect)))
    if slo.filter.service is not None:
        conds.append(
            exp.EQ(this=_text(cols.service, dialect), expression=_param(f"pw_s_{i}", dialect))
        )
    if slo.filter.operation is not None:
        if cols.operation is None:  # every request's operation is "" (the default)
            conds.append(exp.true() if slo.filter.operation == "" else exp.false())
        else:
            op = exp.Coalesce(
                this=exp.Trim(this=_col(cols.operation)), expressions=[exp.Literal.string("")]
            )
            op_text: exp.Expr = exp.cast(op, "BINARY") if dialect == "mysql" else op
            conds.append(exp.EQ(this=op_text, expression=_param(f"pw_o_{i}", dialect)))
    return exp.and_(*conds)


def _good(slo: Slo, i: int, cols: Columns, dialect: str) -> exp.Expr:
    """The request is good: not an error (availability) or fast enough (latency)."""
    if slo.sli == "availability":
        return exp.EQ(this=_is_error(cols, dialect), expression=exp.Literal.number(0))
    op = exp.LTE if slo.threshold_op == "le" else exp.LT
    return op(this=_col(cols.duration_ms), expression=exp.Placeholder(this=f"pw_t_{i}"))


def _count(condition: exp.Expr, alias: str) -> exp.Expr:
    case = exp.Case().when(condition, exp.Literal.number(1)).else_(exp.Literal.number(0))
    return exp.alias_(exp.Sum(this=case), alias)


def source_tree(table: str | None, query: str | None, dialect: str) -> exp.Expr:
    """The FROM item: a quoted (schema.)table, or the checked user query as subquery `q`."""
    if table is not None:
        schema, _, bare = table.rpartition(".")
        return exp.Table(
            this=exp.to_identifier(bare, quoted=True),
            db=exp.to_identifier(schema, quoted=True) if schema else None,
        )
    tree = sqlglot.parse_one(str(query), read=dialect)
    return exp.Subquery(this=tree, alias=exp.TableAlias(this=exp.to_identifier("q")))


def bucket_select(
    source: exp.Expr, cols: Columns, slos: Sequence[Slo], dialect: str, ranged: bool = True
) -> exp.Select:
    """The one SELECT: minute bucket, then pw_total_<i> / pw_good_<i> for each SLO."""
    counts: list[exp.Expr] = []
    for i, slo in enumerate(slos):
        match = _match(slo, i, cols, dialect)
        counts.append(_count(match, f"pw_total_{i}"))
        counts.append(_count(exp.and_(match.copy(), _good(slo, i, cols, dialect)), f"pw_good_{i}"))
    duration = _col(cols.duration_ms)
    where: list[exp.Expr] = [
        exp.Not(this=exp.Is(this=_col(cols.timestamp), expression=exp.null())),
        exp.GTE(this=duration, expression=exp.Literal.number(0)),  # null and negative: left out
        exp.NEQ(this=exp.Trim(this=_col(cols.service)), expression=exp.Literal.string("")),
    ]
    if ranged:
        stamp = _instant(cols.timestamp, dialect)
        where.insert(0, exp.GTE(this=stamp, expression=exp.Placeholder(this="pw_start")))
        where.insert(1, exp.LT(this=stamp.copy(), expression=exp.Placeholder(this="pw_end")))
    return (
        exp.select(exp.alias_(_minute(cols.timestamp, dialect), BUCKET), *counts)
        .from_(source)
        .where(exp.and_(*where))
        .group_by(exp.Literal.number(1))
    )


def checked_sql(select: exp.Select, dialect: str) -> CheckedQuery:
    """The generated tree through the read-only guard: proven one SELECT, `:name` binds."""
    try:
        return check_query(select.sql(dialect=dialect), dialect)
    except QueryRefused as refused:  # the generator's own bug, never the user's
        raise AssertionError(f"generated pushdown SQL refused by the guard: {refused}") from None


def _bound_instant(value: datetime, dialect: str, aware: bool, timezone: str) -> Any:
    """A range bound as the database compares it: UTC if aware, else local wall-clock time."""
    if aware:
        return value
    local = value.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
    if dialect == "sqlite":  # compared with STRFTIME('%Y-%m-%d %H:%M:%f', ts): milliseconds
        return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d}"
    return local


def bucket_params(
    slos: Sequence[Slo],
    fetch_range: tuple[datetime, datetime] | None,
    dialect: str,
    aware: bool,
    timezone: str,
) -> dict[str, Any]:
    """Every bound value of `bucket_select`'s statement."""
    params: dict[str, Any] = {"pw_env_default": DEFAULT_ENVIRONMENT}
    if fetch_range is not None:
        params["pw_start"] = _bound_instant(fetch_range[0], dialect, aware, timezone)
        params["pw_end"] = _bound_instant(fetch_range[1], dialect, aware, timezone)
    for i, slo in enumerate(slos):
        params[f"pw_i_{i}"] = slo.initiative
        params[f"pw_e_{i}"] = slo.environment
        if slo.filter.service is not None:
            params[f"pw_s_{i}"] = slo.filter.service
        if slo.filter.operation is not None:
            params[f"pw_o_{i}"] = slo.filter.operation
        if slo.sli == "latency":
            params[f"pw_t_{i}"] = float(slo.threshold_ms or 0)
    return params


_EMPTY = {"slo": pl.String, "bucket_start": pl.String, "good": pl.Int64, "total": pl.Int64}


def unpivot(
    names: Sequence[str], rows: Sequence[Sequence[Any]], slos: Sequence[Slo]
) -> pl.DataFrame:
    """Wide rows (bucket, total_i, good_i ...) -> long (slo, bucket_start, good, total > 0)."""
    index = {name.lower(): k for k, name in enumerate(names)}
    starts = [row[index[BUCKET]] for row in rows]
    kind = pl.String if starts and isinstance(starts[0], str) else None
    parts: list[pl.DataFrame] = []
    for i, slo in enumerate(slos):
        t, g = index[f"pw_total_{i}"], index[f"pw_good_{i}"]
        part = pl.DataFrame(
            {
                "slo": [slo.name] * len(rows),
                "bucket_start": pl.Series(starts, dtype=kind, strict=False),
                "good": pl.Series([int(r[g] or 0) for r in rows], dtype=pl.Int64),
                "total": pl.Series([int(r[t] or 0) for r in rows], dtype=pl.Int64),
            }
        )
        parts.append(part.filter(pl.col("total") > 0))
    if not parts:
        return pl.DataFrame(schema=_EMPTY)
    return pl.concat(parts, how="vertical_relaxed")


def bucket_location() -> pl.Expr:
    """Where a bucket row came from: `sql pushdown <slo> <minute>`."""
    return pl.format("sql pushdown {} {}", pl.col("slo"), pl.col("bucket_start").cast(pl.String))


def probe_select(source: exp.Expr, timestamp: str | None, dialect: str) -> str:
    """A zero- or one-row SELECT: the source's column names, or one timestamp to see its type."""
    if timestamp is None:
        tree = exp.select("*").from_(source).where(exp.false())
    else:
        tree = (
            exp.select(_col(timestamp))
            .from_(source)
            .where(exp.Not(this=exp.Is(this=_col(timestamp), expression=exp.null())))
            .limit(1)
        )
    return checked_sql(tree, dialect).sql


Run = Callable[[str, Mapping[str, Any], str], tuple[list[str], Sequence[Sequence[Any]]]]


@dataclass(frozen=True)
class Pushed:
    """What one pushdown read produced: long bucket rows, their origin, and a health note."""

    frame: pl.DataFrame
    origin: str
    warning: str


def fetch_buckets(
    conn: Connection, spec: SourceSpec, pushdown: Mapping[str, Any], dialect: str, run: Run
) -> Pushed:
    """Count every served SLO's buckets in one statement; `run` executes checked SQL."""
    table, query = pushdown.get("table"), pushdown.get("query")
    origin = f"pushdown from table {table}" if table else "pushdown query for sli_buckets"
    source = source_tree(table, query, dialect)
    user = dict(pushdown.get("params") or {})
    # the column names from a zero-row SELECT: no row (and no patient value) is fetched, and it
    # works where reflection does not (duckdb-engine's needs a newer DuckDB's catalog)
    present = run(probe_select(source, None, dialect), user, origin)[0]
    cols = resolve_columns(spec, present, origin)
    slos = pushdown_slos(spec)
    if not slos:
        empty = unpivot([BUCKET], [], [])
        return Pushed(empty, origin, f"{origin}: no SLO to count (none without an indicator)")
    # aware timestamps compare with UTC instants; naive ones are wall-clock in spec.timezone
    sample = run(probe_select(source, cols.timestamp, dialect), user, origin)[1]
    aware = bool(sample) and getattr(sample[0][0], "tzinfo", None) is not None
    checked = checked_sql(
        bucket_select(source, cols, slos, dialect, spec.fetch_range is not None), dialect
    )
    params = {**user, **bucket_params(slos, spec.fetch_range, dialect, aware, spec.timezone)}
    names, rows = run(checked.sql, params, origin)
    frame = unpivot(names, rows, slos)
    note = (
        f"{origin}: {len(slos)} SLO(s) counted in the database "
        f"({frame.height} minute bucket(s) from {len(rows)} row(s))"
    )
    return Pushed(frame, origin, note)


DOCS_DIALECTS = {
    "PostgreSQL": "postgres",
    "MySQL / MariaDB": "mysql",
    "SQLite": "sqlite",
    "DuckDB": "duckdb",
    "Trino": "trino",
    "BigQuery": "bigquery",
    "Snowflake": "snowflake",
    "Databricks SQL": "databricks",
}


def docs_sql() -> dict[str, str]:
    """The statement docs/connectors.md prints per dialect: two example SLOs on `api_requests`."""
    cols = Columns(**{name: name for name in REQUEST_COLUMNS})
    slos = [
        Slo(name="avail", initiative="triage", sli="availability", target=0.999),
        Slo(
            name="fast",
            initiative="triage",
            sli="latency",
            threshold_ms=300,
            filter={"service": "api"},
            target=0.99,
        ),
    ]

    def as_bind(node: exp.Expr) -> exp.Expr:  # `:name`, as the connector hands it to sa.text
        return exp.var(f":{node.name}") if isinstance(node, exp.Placeholder) else node

    out: dict[str, str] = {}
    for label, dialect in DOCS_DIALECTS.items():
        tree = bucket_select(source_tree("api_requests", None, dialect), cols, slos, dialect)
        checked_sql(tree, dialect)  # the guard accepts it in this dialect too
        out[label] = tree.transform(as_bind).sql(dialect=dialect, pretty=True)
    return out
