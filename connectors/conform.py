"""Shared conformance: raw source columns in, canonical columns plus `_reason` / `_loc` out.

Every connector hands its raw LazyFrame to `conform`. Parsing, time zones, defaults, derived
columns and the value rules of connectors/canonical.py live here, once, so every connector
quarantines the same rows for the same reasons. Nothing here collects: the result is a plan.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors import phi
from connectors.base import BAD, LOCATION, REASON, SourceConfigError, SourceSpec
from connectors.canonical import ALLOWED_VALUES, DEFAULTS, REQUIRED, SCHEMAS, UTC_US

_ISO = (
    r"^(?<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?<h>\d{2}):(?<m>\d{2})(?::(?<s>\d{2})(?:[.,](?<f>\d{1,9}))?)?)?"
    r"\s*(?:(?<z>[Zz])|(?<sign>[+-])(?<oh>\d{2}):?(?<om>\d{2})?)?$"
)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_PREVIEW = 40  # characters of an offending value shown in a reason
_SHOWN_COLUMNS = 25  # column names listed in a "required column missing" error


def _quote(text: pl.Expr) -> pl.Expr:
    """`'value'` for reasons, cut to a short preview (never the whole row)."""
    cut = pl.when(text.str.len_chars() > _PREVIEW).then(text.str.slice(0, _PREVIEW) + pl.lit("…"))
    return pl.lit("'") + cut.otherwise(text) + pl.lit("'")


def _text(expr: pl.Expr, dtype: pl.DataType, trim: bool = True) -> pl.Expr:
    """Any raw value as text; blank strings count as missing.

    `trim` strips surrounding white space first (text formats such as CSV); typed sources
    (Parquet) skip it, which saves a string copy per value, and only "" counts as missing.
    """
    if dtype == pl.Null:
        return pl.lit(None, dtype=pl.String)
    if dtype.is_float():
        expr = pl.when(~expr.is_nan()).then(expr)  # NaN is the usual "missing" in Parquet
    text = expr if dtype == pl.String else expr.cast(pl.String, strict=False)
    if trim:
        text = text.str.strip_chars()
    return pl.when(text.str.len_bytes() > 0).then(text)


def _parse_datetime_text(text: pl.Expr, timezone: str) -> pl.Expr:
    """ISO-8601 text -> UTC; offsets honoured, naive values read in `timezone`."""
    g = text.str.extract_groups(_ISO)
    field = g.struct.field
    frac = field("f").fill_null("").str.pad_end(6, "0").str.slice(0, 6)
    stamp = pl.concat_str(
        field("date"),
        pl.lit(" "),
        field("h").fill_null("00"),
        pl.lit(":"),
        field("m").fill_null("00"),
        pl.lit(":"),
        field("s").fill_null("00"),
        pl.lit("."),
        frac,
    )
    naive = stamp.str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", strict=False)
    sign = pl.when(field("sign") == "-").then(-1).otherwise(1)
    offset_min = sign * (
        field("oh").cast(pl.Int64, strict=False) * 60
        + field("om").fill_null("0").cast(pl.Int64, strict=False)
    )
    has_offset = field("z").is_not_null() | field("sign").is_not_null()
    with_offset = naive.dt.replace_time_zone("UTC") - pl.duration(minutes=offset_min.fill_null(0))
    return pl.when(has_offset).then(with_offset).otherwise(_localize(naive, timezone))


def _localize(naive: pl.Expr, timezone: str) -> pl.Expr:
    """Naive wall-clock -> UTC: DST-ambiguous times take the earlier instant, gaps are invalid."""
    local = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def _whole(number: pl.Expr) -> pl.Expr:
    """A float that holds a whole number -> Int64 (null otherwise)."""
    ok = number.is_finite() & (number == number.floor()) & (number.abs() < 2.0**62)
    return pl.when(ok).then(number.cast(pl.Int64, strict=False))


def _parse_text(text: pl.Expr, target: pl.DataType, timezone: str) -> pl.Expr:
    """Stripped text -> canonical `target` (null where it does not parse)."""
    if target == UTC_US:
        return _parse_datetime_text(text, timezone)
    if target == pl.Int64:
        exact = text.cast(pl.Int64, strict=False)
        return pl.coalesce(exact, _whole(text.cast(pl.Float64, strict=False)))
    if target == pl.Float64:
        value = text.cast(pl.Float64, strict=False)
        return pl.when(value.is_finite()).then(value)
    if target == pl.Boolean:
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
    return text


def _native(dtype: pl.DataType, target: pl.DataType) -> bool:
    """Whether values of `dtype` convert to `target` directly (else they go through text)."""
    if dtype == pl.Null:
        return True
    if target == UTC_US:
        return isinstance(dtype, pl.Datetime) or dtype == pl.Date
    if target in (pl.Int64, pl.Float64, pl.Boolean):
        return dtype.is_numeric() or dtype == pl.Boolean
    return False


def _may_fail(dtype: pl.DataType, target: pl.DataType) -> bool:
    """Whether a present native value of `dtype` can fail to convert to `target`."""
    if dtype == pl.Null or dtype == pl.Boolean:
        return False
    if target == UTC_US:  # naive wall-clock times can fall into a DST gap
        return dtype == pl.Date or getattr(dtype, "time_zone", None) is None
    if target == pl.Int64:
        return not dtype.is_integer()
    return target == pl.Boolean


def _parse_native(expr: pl.Expr, dtype: pl.DataType, target: pl.DataType, timezone: str) -> pl.Expr:
    """A native (typed) value -> canonical `target` (null where it does not convert)."""
    if dtype == pl.Null:
        return pl.lit(None, dtype=target)
    if dtype == target and target != pl.Float64:
        return expr  # already canonical: pass through, so predicates reach the scan
    if target == UTC_US:
        if dtype == pl.Date:
            return _localize(expr.cast(pl.Datetime("us")), timezone)
        value = expr.dt.cast_time_unit("us")
        if getattr(dtype, "time_zone", None) is None:
            return _localize(value, timezone)
        return value.dt.convert_time_zone("UTC")
    if target == pl.Int64:
        if dtype.is_integer() or dtype == pl.Boolean:
            return expr.cast(pl.Int64, strict=False)
        return _whole(expr.cast(pl.Float64))
    number = expr.cast(pl.Float64)
    if target == pl.Float64:
        return pl.when(~number.is_nan()).then(number)  # NaN is the usual "missing" in Parquet
    return pl.when(number == 1).then(True).when(number == 0).then(False)


def _present(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A native value that is there (NaN counts as missing)."""
    if dtype.is_float():
        return expr.is_not_null() & ~expr.is_nan()
    return expr.is_not_null()


_KIND = {pl.Int64: "an integer", pl.Float64: "a number", pl.Boolean: "a boolean"}


def _kind(target: pl.DataType) -> str:
    if target == UTC_US:
        return "a timestamp"
    return _KIND.get(type(target), "text")


def _value_map(mapping: Mapping[Any, Any]) -> dict[str, str]:
    """YAML value maps may use numbers or booleans as keys; compare as canonical text."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value).strip()

    return {text(k): text(v) for k, v in mapping.items()}


def _check_mapping(
    table: str,
    source: str,
    columns: Mapping[str, str],
    values: Mapping[str, Mapping[Any, Any]],
    timezone: str,
) -> None:
    if table not in SCHEMAS:
        raise SourceConfigError(
            source, f"unknown table {table!r} (expected one of {list(SCHEMAS)})"
        )
    known = list(SCHEMAS[table])
    for kind, mapping in (("columns", columns), ("values", values)):
        for key in mapping:
            if key not in SCHEMAS[table]:
                raise SourceConfigError(
                    source,
                    f"{kind}.{table}.{key}: unknown canonical column (expected one of {known})",
                )
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise SourceConfigError(
            source, f"timezone {timezone!r} is not an IANA time zone such as America/New_York"
        ) from exc
    phi.refuse_mapping(source, table, columns)


def _resolve_columns(
    table: str, names: list[str], source: str, origin: str, columns: Mapping[str, str]
) -> dict[str, str | None]:
    """Canonical column -> source column present in the frame (None when absent)."""
    names = [name for name in names if not name.startswith("__pw_")]  # connector bookkeeping
    present = set(names)
    resolved: dict[str, str | None] = {}
    for canonical in SCHEMAS[table]:
        wanted = columns.get(canonical, canonical)
        resolved[canonical] = wanted if wanted in present else None
    for canonical in REQUIRED[table]:
        if resolved[canonical] is None:
            wanted = columns.get(canonical, canonical)
            mapped = f" (mapped from {wanted!r})" if wanted != canonical else ""
            shown = ", ".join(names[:_SHOWN_COLUMNS]) + (
                ", …" if len(names) > _SHOWN_COLUMNS else ""
            )
            raise SourceConfigError(
                source,
                f"{origin}: required column {canonical!r}{mapped} for table {table!r} is missing; "
                f"found columns: {shown or '(none)'}",
            )
    no_counts = resolved.get("numerator") is None or resolved.get("denominator") is None
    if table == "kpi_observations" and resolved["value"] is None and no_counts:
        raise SourceConfigError(
            source,
            f"{origin}: table 'kpi_observations' needs a 'value' column or both "
            "'numerator' and 'denominator' columns",
        )
    return resolved


def _only(condition: pl.Expr, value: pl.Expr) -> pl.Expr:
    """`value` where `condition` holds, else null.

    Reason text is built from masked values so that good rows (almost all of them) cost no
    string building: every string operation on a null stays null.
    """
    return pl.when(condition).then(value)


def _rules(table: str) -> list[pl.Expr]:
    """Value rules of the SPEC, as reason expressions over parsed canonical columns."""
    col = pl.col
    rules: list[pl.Expr] = []

    def non_negative(name: str) -> pl.Expr:
        return pl.format(f"{name}: must be >= 0, got {{}}", _only(col(name) < 0, col(name)))

    for (rule_table, name), allowed in ALLOWED_VALUES.items():
        if rule_table == table:
            choices = ", ".join(sorted(allowed))
            bad = _only(~col(name).is_in(sorted(allowed)), col(name))
            rules.append(pl.lit(f"{name}: ") + _quote(bad) + pl.lit(f" not one of {choices}"))
    if table == "requests":
        rules.append(non_negative("duration_ms"))
    elif table == "sli_buckets":
        rules += [non_negative("good"), non_negative("total")]
        over = _only(col("good") > col("total"), col("good"))
        rules.append(pl.format("good: {} > total {}", over, col("total")))
    elif table == "incidents":
        outside = _only(~col("severity").is_between(1, 4), col("severity"))
        rules.append(pl.format("severity: {} not in 1..4", outside))
    elif table == "kpi_observations":
        rules += [non_negative("numerator"), non_negative("denominator")]
        counts = col("numerator").is_not_null() & col("denominator").is_not_null()
        rules.append(
            pl.when(col("value").is_null() & ~counts & ~col("__pw_failed_value")).then(
                pl.lit("value: missing (give value, or numerator and denominator)")
            )
        )
    return rules


def _rule_conditions(table: str) -> list[pl.Expr]:
    """The same value rules as `_rules`, as cheap booleans (null counts as no problem)."""
    col = pl.col
    conds: list[pl.Expr] = [
        ~col(name).is_in(sorted(allowed))
        for (rule_table, name), allowed in ALLOWED_VALUES.items()
        if rule_table == table
    ]
    if table == "requests":
        conds.append(col("duration_ms") < 0)
    elif table == "sli_buckets":
        conds += [col("good") < 0, col("total") < 0, col("good") > col("total")]
    elif table == "incidents":
        conds.append(~col("severity").is_between(1, 4))
    elif table == "kpi_observations":
        counts = col("numerator").is_not_null() & col("denominator").is_not_null()
        conds += [
            col("numerator") < 0,
            col("denominator") < 0,
            col("value").is_null() & ~counts & ~col("__pw_failed_value"),
        ]
    return conds


def conform(
    raw: pl.LazyFrame,
    table: str,
    *,
    source: str,
    origin: str,
    location: pl.Expr,
    columns: Mapping[str, str] | None = None,
    values: Mapping[str, Mapping[Any, Any]] | None = None,
    timezone: str = "UTC",
    trim_text: bool = True,
) -> pl.LazyFrame:
    """Raw source columns -> canonical columns + REASON + LOCATION (lazy; see module docstring).

    `origin` names the file or table in error messages; `location` is evaluated on `raw`.
    Raises SourceConfigError when a required column is absent from the source.
    """
    columns = dict(columns or {})
    values = dict(values or {})
    _check_mapping(table, source, columns, values, timezone)
    schema = raw.collect_schema()
    resolved = _resolve_columns(table, schema.names(), source, origin, columns)

    # Stages keep every intermediate a plain column, so each is computed once per row.
    inputs: list[pl.Expr] = [location.cast(pl.String).alias(LOCATION)]
    parsed: list[pl.Expr] = []
    flags: list[pl.Expr] = []
    reasons: list[pl.Expr] = []
    problems: list[pl.Expr] = []  # one boolean per reason, so good rows cost no text
    for name, target in SCHEMAS[table].items():
        column, held, flag = resolved[name], f"__pw_in_{name}", f"__pw_failed_{name}"
        if column is None:
            parsed.append(pl.lit(None, dtype=target).alias(name))
            flags.append(pl.lit(False).alias(flag))
            continue
        dtype = schema[column]
        if name not in values and target != pl.String and _native(dtype, target):
            inputs.append(pl.col(column).alias(held))
            parsed.append(_parse_native(pl.col(held), dtype, target, timezone).alias(name))
            fails, present = _may_fail(dtype, target), _present(pl.col(held), dtype)
            shown = _text(_only(pl.col(flag), pl.col(held)), dtype)
        else:
            text = _text(pl.col(column), dtype, trim_text)
            if name in values:
                text = text.replace(_value_map(values[name]))
            inputs.append(text.alias(held))
            parsed.append(_parse_text(pl.col(held), target, timezone).alias(name))
            fails, present = target != pl.String, pl.col(held).is_not_null()
            shown = _only(pl.col(flag), pl.col(held))
        flags.append((present & pl.col(name).is_null() if fails else pl.lit(False)).alias(flag))
        problem = pl.lit(f"{name}: not {_kind(target)} ") + _quote(shown)
        if fails:
            problems.append(pl.col(flag))
        if name in REQUIRED[table]:
            missing = _only(pl.col(name).is_null(), pl.lit(f"{name}: missing"))
            problem = pl.coalesce(problem, missing) if fails else missing
            problems.append(pl.col(name).is_null())
        elif not fails:
            continue
        reasons.append(problem)

    joined = pl.concat_str([*reasons, *_rules(table)], separator="; ", ignore_nulls=True)
    bad = pl.any_horizontal([*problems, *_rule_conditions(table)]).fill_null(False)
    staged = (
        raw.select(*inputs)
        .with_columns(*parsed)
        .with_columns(*flags)
        .with_columns(bad.alias(BAD))
        .with_columns(pl.when(pl.col(BAD)).then(joined).alias(REASON))
    )
    return staged.select(*_finish(table), pl.col(REASON), pl.col(LOCATION), pl.col(BAD))


def _finish(table: str) -> list[pl.Expr]:
    """Defaults for absent or null optional columns, derived columns, canonical dtypes."""
    out: list[pl.Expr] = []
    defaults = DEFAULTS.get(table, {})
    for name, target in SCHEMAS[table].items():
        expr = pl.col(name)
        if name in defaults:
            expr = expr.fill_null(pl.lit(defaults[name], dtype=target))
        if table == "requests" and name == "error":
            expr = pl.coalesce(expr, pl.col("status_code") >= 500, pl.lit(False))
        if table == "kpi_observations" and name == "value":
            ratio = pl.col("numerator") / pl.col("denominator")
            expr = pl.coalesce(expr, pl.when(pl.col("denominator") > 0).then(ratio))
        out.append(expr.cast(target).alias(name))
    return out


def conform_spec(
    raw: pl.LazyFrame,
    table: str,
    spec: SourceSpec,
    *,
    origin: str,
    location: pl.Expr,
    trim_text: bool = True,
) -> pl.LazyFrame:
    """`conform` with the mapping, value mapping and time zone of `spec`."""
    return conform(
        raw,
        table,
        source=spec.name,
        origin=origin,
        location=location,
        columns=spec.columns.get(table, {}),
        values=spec.values.get(table, {}),
        timezone=spec.timezone,
        trim_text=trim_text,
    )


def empty_conformed(table: str) -> pl.LazyFrame:
    """A conformed frame with no rows."""
    schema = {**SCHEMAS[table], REASON: pl.String(), LOCATION: pl.String(), BAD: pl.Boolean()}
    return pl.LazyFrame(schema=schema)


def malformed(table: str, rows: list[tuple[str, str]]) -> pl.LazyFrame:
    """Quarantined rows for records that could not even be split into fields: (location, reason)."""
    if not rows:
        return empty_conformed(table)
    frame = pl.LazyFrame(
        {LOCATION: [loc for loc, _ in rows], REASON: [why for _, why in rows]},
        schema={LOCATION: pl.String(), REASON: pl.String()},
    )
    nulls = [pl.lit(None, dtype=dtype).alias(name) for name, dtype in SCHEMAS[table].items()]
    return frame.select(*nulls, pl.col(REASON), pl.col(LOCATION), pl.lit(True).alias(BAD))
