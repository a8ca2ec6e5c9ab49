"""Value parsing for conformance: raw text or typed values -> canonical Polars dtypes.

Used by `connectors.conform` (docs/connectors.md, "Types"): ISO-8601 timestamps with offsets,
naive wall-clock times read in the source's time zone, whole numbers, booleans, and which
source types can feed which canonical column at all.
"""

from __future__ import annotations

import polars as pl

from core.canonical import UTC_US

_ISO = (
    r"^(?<date>\d{4}-\d{2}-\d{2})"
    r"(?:[Tt ](?<h>\d{2}):(?<m>\d{2})(?::(?<s>\d{2})(?:[.,](?<f>\d{1,9}))?)?)?"
    r"\s*(?:(?<z>[Zz])|(?<sign>[+-])(?<oh>\d{2}):?(?<om>\d{2})?)?$"
)
_TRUE = ("true", "t", "yes", "y", "1")
_FALSE = ("false", "f", "no", "n", "0")
_PREVIEW = 40  # characters of an offending value shown in a reason
_MAX_OFFSET_MIN = 18 * 60  # ISO 8601 / RFC 3339 offsets stay within +-18:00
WIDE_INTEGERS = (pl.UInt64, pl.Int128, pl.UInt128)  # may hold values beyond Int64


def quote(text: pl.Expr) -> pl.Expr:
    """`'value'` for reasons, cut to a short preview (never the whole row)."""
    cut = pl.when(text.str.len_chars() > _PREVIEW).then(text.str.slice(0, _PREVIEW) + pl.lit("…"))
    return pl.lit("'") + cut.otherwise(text) + pl.lit("'")


def as_text(expr: pl.Expr, dtype: pl.DataType, trim: bool = True) -> pl.Expr:
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
    return pl.when(has_offset).then(with_offset).otherwise(localize(naive, timezone))


def localize(naive: pl.Expr, timezone: str) -> pl.Expr:
    """Naive wall-clock -> UTC: DST-ambiguous times take the earlier instant, gaps are invalid."""
    local = naive.dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
    return local.dt.convert_time_zone("UTC")


def _whole(number: pl.Expr) -> pl.Expr:
    """A float that holds a whole number -> Int64 (null otherwise)."""
    ok = number.is_finite() & (number == number.floor()) & (number.abs() < 2.0**62)
    return pl.when(ok).then(number.cast(pl.Int64, strict=False))


def parse_text(text: pl.Expr, target: pl.DataType, timezone: str) -> pl.Expr:
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


def refusal_of(dtype: pl.DataType, name: str, target: pl.DataType) -> str | None:
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


def is_native(dtype: pl.DataType, target: pl.DataType) -> bool:
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


def may_fail(dtype: pl.DataType, target: pl.DataType) -> bool:
    """Whether a present native value of `dtype` can fail to convert to `target`."""
    if dtype == pl.Null or dtype == pl.Boolean or isinstance(dtype, pl.Duration):
        return False
    if target == UTC_US:  # naive wall-clock times can fall into a DST gap
        return dtype == pl.Date or getattr(dtype, "time_zone", None) is None
    if target == pl.Int64:  # fractions, non-finite floats and integers beyond 64 bits
        return not dtype.is_integer() or dtype in WIDE_INTEGERS
    if target == pl.Float64:  # +-inf is no measurement
        return dtype.is_float()
    return target == pl.Boolean


def parse_native(expr: pl.Expr, dtype: pl.DataType, target: pl.DataType, timezone: str) -> pl.Expr:
    """A native (typed) value -> canonical `target` (null where it does not convert)."""
    if dtype == pl.Null:
        return pl.lit(None, dtype=target)
    if dtype == target and target != pl.Float64:
        return expr  # already canonical: pass through, so predicates reach the scan
    if target == UTC_US:
        if dtype == pl.Date:
            return localize(expr.cast(pl.Datetime("us")), timezone)
        value = expr.dt.cast_time_unit("us")
        if getattr(dtype, "time_zone", None) is None:
            return localize(value, timezone)
        return value.dt.convert_time_zone("UTC")
    if isinstance(dtype, pl.Duration):  # duration_ms: a Parquet/SQL interval, in milliseconds
        return expr.dt.total_milliseconds(fractional=True)
    if target == pl.Int64:
        if dtype.is_integer() or dtype == pl.Boolean:
            return expr.cast(pl.Int64, strict=False)  # null beyond Int64: flagged by may_fail
        return _whole(expr.cast(pl.Float64))
    number = expr.cast(pl.Float64)
    if target == pl.Float64:
        return pl.when(number.is_finite()).then(number)  # NaN is missing, +-inf a bad value
    return pl.when(number == 1).then(True).when(number == 0).then(False)


def is_present(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A native value that is there (NaN counts as missing)."""
    if dtype.is_float():
        return expr.is_not_null() & ~expr.is_nan()
    return expr.is_not_null()


def utf8(series: pl.Series) -> pl.Series:
    """Binary values -> text; bytes that are not UTF-8 become null (and are quarantined)."""

    def decode(value: bytes | None) -> str | None:
        try:
            return None if value is None else value.decode("utf-8")
        except UnicodeDecodeError:
            return None

    return pl.Series(series.name, [decode(v) for v in series.to_list()], dtype=pl.String)


_KIND = {pl.Int64: "an integer", pl.Float64: "a number", pl.Boolean: "a boolean"}


def kind_of(target: pl.DataType) -> str:
    if target == UTC_US:
        return "a timestamp"
    return _KIND.get(type(target), "text")
