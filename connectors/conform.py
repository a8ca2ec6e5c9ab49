"""Shared conformance: raw source columns in, canonical columns plus `_reason` / `_loc` out.

Every connector hands its raw LazyFrame to `conform`. Parsing, time zones, defaults, derived
columns and the value rules of core/canonical.py live here, once, so every connector
quarantines the same rows for the same reasons. Nothing here collects: the result is a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors import phi
from connectors.base import BAD, LOCATION, REASON, SourceConfigError, SourceSpec
from core.canonical import ALLOWED_VALUES, DEFAULTS, REQUIRED, SCHEMAS, UTC_US

_ISO = (
    r"^(?<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?<h>\d{2}):(?<m>\d{2})(?::(?<s>\d{2})(?:[.,](?<f>\d{1,9}))?)?)?"
    r"\s*(?:(?<z>[Zz])|(?<sign>[+-])(?<oh>\d{2}):?(?<om>\d{2})?)?$"
)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_PREVIEW = 40  # characters of an offending value shown in a reason
_SHOWN_COLUMNS = 25  # column names listed in a "required column missing" error
_MAX_OFFSET_MIN = 18 * 60  # ISO 8601 / RFC 3339 offsets stay within +-18:00
_WIDE_INTEGERS = (pl.UInt64, pl.Int128, pl.UInt128)  # may hold values beyond Int64


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
    minutes = field("om").fill_null("0").cast(pl.Int64, strict=False)
    size = field("oh").cast(pl.Int64, strict=False) * 60 + minutes
    offset_ok = field("z").is_not_null() | ((minutes < 60) & (size <= _MAX_OFFSET_MIN))
    shifted = naive.dt.replace_time_zone("UTC") - pl.duration(minutes=(sign * size).fill_null(0))
    with_offset = pl.when(offset_ok).then(shifted)  # `+99:99` is no offset: not a timestamp
    has_offset = field("z").is_not_null() | field("sign").is_not_null()
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


def _refusal(dtype: pl.DataType, name: str, target: pl.DataType) -> str | None:
    """Why no value of a `dtype` column can feed canonical `name` (None when some can)."""
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct)) or dtype == pl.Object:
        return "a nested value holds several values, not one"
    if isinstance(dtype, pl.Duration):
        return None if name == "duration_ms" else "a duration only feeds duration_ms"
    if dtype == pl.Time and target != pl.String:
        return "a time of day has no date"
    temporal = isinstance(dtype, pl.Datetime) or dtype == pl.Date
    if temporal and target in (pl.Int64, pl.Float64, pl.Boolean):
        return "a date or timestamp is not a number"
    return None


def _native(dtype: pl.DataType, target: pl.DataType) -> bool:
    """Whether values of `dtype` convert to `target` directly (else they go through text)."""
    if dtype == pl.Null:
        return True
    if target == UTC_US:
        return isinstance(dtype, pl.Datetime) or dtype == pl.Date
    if isinstance(dtype, pl.Duration):
        return target == pl.Float64
    if target in (pl.Int64, pl.Float64, pl.Boolean):
        return dtype.is_numeric() or dtype == pl.Boolean
    return False


def _may_fail(dtype: pl.DataType, target: pl.DataType) -> bool:
    """Whether a present native value of `dtype` can fail to convert to `target`."""
    if dtype == pl.Null or dtype == pl.Boolean or isinstance(dtype, pl.Duration):
        return False
    if target == UTC_US:  # naive wall-clock times can fall into a DST gap
        return dtype == pl.Date or getattr(dtype, "time_zone", None) is None
    if target == pl.Int64:  # fractions, non-finite floats and integers beyond 64 bits
        return not dtype.is_integer() or dtype in _WIDE_INTEGERS
    if target == pl.Float64:  # +-inf is no measurement
        return dtype.is_float()
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
    if isinstance(dtype, pl.Duration):  # duration_ms: a Parquet/SQL interval, in milliseconds
        return expr.dt.total_milliseconds(fractional=True)
    if target == pl.Int64:
        if dtype.is_integer() or dtype == pl.Boolean:
            return expr.cast(pl.Int64, strict=False)  # null beyond Int64: flagged by _may_fail
        return _whole(expr.cast(pl.Float64))
    number = expr.cast(pl.Float64)
    if target == pl.Float64:
        return pl.when(number.is_finite()).then(number)  # NaN is missing, +-inf a bad value
    return pl.when(number == 1).then(True).when(number == 0).then(False)


def _present(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A native value that is there (NaN counts as missing)."""
    if dtype.is_float():
        return expr.is_not_null() & ~expr.is_nan()
    return expr.is_not_null()


def _utf8(series: pl.Series) -> pl.Series:
    """Binary values -> text; bytes that are not UTF-8 become null (and are quarantined)."""

    def decode(value: bytes | None) -> str | None:
        try:
            return None if value is None else value.decode("utf-8")
        except UnicodeDecodeError:
            return None

    return pl.Series(series.name, [decode(v) for v in series.to_list()], dtype=pl.String)


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


def _found(names: list[str]) -> str:
    """The source's columns for an error message: patient identifiers never named, list cut."""
    shown = [name for name in names if not phi.looks_like_patient_identifier(name)]
    more = ", …" if len(shown) > _SHOWN_COLUMNS else ""
    return ", ".join(shown[:_SHOWN_COLUMNS]) + more or "(none)"


def _resolve_columns(
    table: str, names: list[str], source: str, origin: str, columns: Mapping[str, str]
) -> dict[str, str | None]:
    """Canonical column -> source column present in the frame (None when absent).

    Every explicitly mapped source column must exist, optional or not: a misspelt mapping must
    never turn silently into nulls.
    """
    names = [name for name in names if not name.startswith("__pw_")]  # connector bookkeeping
    present = set(names)
    for canonical, wanted in columns.items():
        if wanted not in present:
            raise SourceConfigError(
                source,
                f"{origin}: column {canonical!r} (mapped from {wanted!r}) for table "
                f"{table!r} is missing (set by columns.{table}.{canonical}); "
                f"found columns: {_found(names)}",
            )
    resolved: dict[str, str | None] = {}
    for canonical in SCHEMAS[table]:
        wanted = columns.get(canonical, canonical)
        resolved[canonical] = wanted if wanted in present else None
    for canonical in REQUIRED[table]:
        if resolved[canonical] is None:
            raise SourceConfigError(
                source,
                f"{origin}: required column {canonical!r} for table {table!r} is missing; "
                f"found columns: {_found(names)}",
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


@dataclass(frozen=True)
class Rule:
    """One quarantine rule: `when` flags a bad row (null = no problem), `template` says why.

    The flag and the reason come from the same object, so they can never disagree; the
    reason's arguments are masked to flagged rows first (see `_only`), then shown with `show`.
    """

    when: pl.Expr
    template: str
    args: tuple[pl.Expr, ...] = ()
    show: Callable[[pl.Expr], pl.Expr] | None = None

    def reason(self) -> pl.Expr:
        """The reason text on flagged rows, null elsewhere."""
        if not self.args:
            return _only(self.when, pl.lit(self.template))
        masked = [_only(self.when, arg) for arg in self.args]
        if self.show is not None:
            masked = [self.show(arg) for arg in masked]
        return pl.format(self.template, *masked)


def value_rules(table: str) -> list[Rule]:
    """The value rules of docs/connectors.md over parsed canonical columns of `table`."""
    col = pl.col

    def non_negative(name: str) -> Rule:
        return Rule(col(name) < 0, f"{name}: must be >= 0, got {{}}", (col(name),))

    rules = [
        Rule(
            ~col(name).is_in(sorted(allowed)),
            f"{name}: {{}} not one of {', '.join(sorted(allowed))}",
            (col(name),),
            _quote,
        )
        for (rule_table, name), allowed in ALLOWED_VALUES.items()
        if rule_table == table
    ]
    if table == "requests":
        rules.append(non_negative("duration_ms"))
    elif table == "sli_buckets":
        rules += [non_negative("good"), non_negative("total")]
        over = col("good") > col("total")
        rules.append(Rule(over, "good: {} > total {}", (col("good"), col("total"))))
    elif table == "incidents":
        outside = ~col("severity").is_between(1, 4)
        rules.append(Rule(outside, "severity: {} not in 1..4", (col("severity"),)))
    elif table == "kpi_observations":
        rules += [non_negative("numerator"), non_negative("denominator")]
        counts = col("numerator").is_not_null() & col("denominator").is_not_null()
        no_value = col("value").is_null() & ~counts & ~col("__pw_failed_value")
        rules.append(Rule(no_value, "value: missing (give value, or numerator and denominator)"))
    return rules


def _column_rules(
    name: str, table: str, fails: bool, show: Callable[[pl.Expr], pl.Expr], wide: bool = False
) -> list[Rule]:
    """Rules of one parsed column: does not parse (when it can fail), missing (when required)."""
    flag, held = pl.col(f"__pw_failed_{name}"), pl.col(f"__pw_in_{name}")
    what = "outside the 64-bit integer range" if wide else f"not {_kind(SCHEMAS[table][name])}"
    rules = [Rule(flag, f"{name}: {what} {{}}", (held,), show)] if fails else []
    if name in REQUIRED[table]:
        missing = pl.col(name).is_null() & ~flag if fails else pl.col(name).is_null()
        rules.append(Rule(missing, f"{name}: missing"))
    return rules


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
    Raises SourceConfigError when a mapped or required column is absent from the source, or a
    column's type cannot feed its canonical column at all (a List mapped to `duration_ms`).
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
    rules: list[Rule] = []
    for name, target in SCHEMAS[table].items():
        column, held, flag = resolved[name], f"__pw_in_{name}", f"__pw_failed_{name}"
        if column is None:
            parsed.append(pl.lit(None, dtype=target).alias(name))
            flags.append(pl.lit(False).alias(flag))
            continue
        dtype, value = schema[column], pl.col(column)
        refusal = _refusal(dtype, name, target)
        if refusal is not None:
            raise SourceConfigError(
                source,
                f"{origin}: column {column!r} of type {dtype} cannot feed {table}.{name} "
                f"({_kind(target)}): {refusal}",
            )
        if dtype == pl.Binary:  # bytes: used as UTF-8 text, anything else is quarantined
            undecoded = f"__pw_bytes_{name}"
            inputs.append(value.is_not_null().alias(undecoded))
            value = value.map_batches(_utf8, return_dtype=pl.String, is_elementwise=True)
            dtype = pl.String()
            bad_bytes = pl.col(undecoded) & pl.col(held).is_null()
            rules.append(Rule(bad_bytes, f"{name}: not UTF-8 text"))
        if name not in values and target != pl.String and _native(dtype, target):
            inputs.append(value.alias(held))
            parsed.append(_parse_native(pl.col(held), dtype, target, timezone).alias(name))
            fails, present = _may_fail(dtype, target), _present(pl.col(held), dtype)

            def show(masked: pl.Expr, dtype: pl.DataType = dtype) -> pl.Expr:
                return _quote(_text(masked, dtype))
        else:
            text = _text(value, dtype, trim_text)
            if name in values:
                text = text.replace(_value_map(values[name]))
            inputs.append(text.alias(held))
            parsed.append(_parse_text(pl.col(held), target, timezone).alias(name))
            fails, present, show = target != pl.String, pl.col(held).is_not_null(), _quote
        flags.append((present & pl.col(name).is_null() if fails else pl.lit(False)).alias(flag))
        wide = dtype in _WIDE_INTEGERS and target == pl.Int64  # beyond Int64: flagged, not nulled
        rules += _column_rules(name, table, fails, show, wide)
    rules += value_rules(table)

    joined = pl.concat_str([r.reason() for r in rules], separator="; ", ignore_nulls=True)
    bad = pl.any_horizontal([r.when for r in rules]).fill_null(False) if rules else pl.lit(False)
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
