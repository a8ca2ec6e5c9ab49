"""Shared conformance: raw source columns in, canonical columns plus `_reason` / `_loc` out.

Every connector hands its raw LazyFrame to `conform`. Parsing, time zones, defaults, derived
columns and the value rules of core/canonical.py live here, once, so every connector
quarantines the same rows for the same reasons. Nothing here collects: the result is a plan.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from connectors import phi
from connectors.base import BAD, LOCATION, REASON, SourceConfigError, SourceSpec
from connectors.parsing import (
    WIDE_INTEGERS,
    as_text,
    is_native,
    is_present,
    kind_of,
    may_fail,
    parse_native,
    parse_text,
    quote,
    refusal_of,
    utf8,
)
from connectors.rules import Rule, column_rules, value_rules
from core.canonical import DEFAULTS, REQUIRED, SCHEMAS

__all__ = ["conform", "conform_spec", "empty_conformed", "malformed", "value_rules"]

_SHOWN_COLUMNS = 25  # column names listed in a "required column missing" error


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
        refusal = refusal_of(dtype, name, target)
        if refusal is not None:
            raise SourceConfigError(
                source,
                f"{origin}: column {column!r} of type {dtype} cannot feed {table}.{name} "
                f"({kind_of(target)}): {refusal}",
            )
        if dtype == pl.Binary:  # bytes: used as UTF-8 text, anything else is quarantined
            undecoded = f"__pw_bytes_{name}"
            inputs.append(value.is_not_null().alias(undecoded))
            value = value.map_batches(utf8, return_dtype=pl.String, is_elementwise=True)
            dtype = pl.String()
            bad_bytes = pl.col(undecoded) & pl.col(held).is_null()
            rules.append(Rule(bad_bytes, f"{name}: not UTF-8 text"))
        if name not in values and target != pl.String and is_native(dtype, target):
            inputs.append(value.alias(held))
            parsed.append(parse_native(pl.col(held), dtype, target, timezone).alias(name))
            fails, present = may_fail(dtype, target), is_present(pl.col(held), dtype)

            def show_native(masked: pl.Expr, dtype: pl.DataType = dtype) -> pl.Expr:
                return quote(as_text(masked, dtype))

            show: Callable[[pl.Expr], pl.Expr] = show_native
        else:
            text = as_text(value, dtype, trim_text)
            if name in values:
                text = text.replace(_value_map(values[name]))
            inputs.append(text.alias(held))
            parsed.append(parse_text(pl.col(held), target, timezone).alias(name))
            fails, present, show = target != pl.String, pl.col(held).is_not_null(), quote
        flags.append((present & pl.col(name).is_null() if fails else pl.lit(False)).alias(flag))
        wide = dtype in WIDE_INTEGERS and target == pl.Int64  # beyond Int64: flagged, not nulled
        rules += column_rules(name, table, fails, show, wide)
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


def _error_from_status(error: pl.Expr) -> pl.Expr:
    return pl.coalesce(error, pl.col("status_code") >= 500, pl.lit(False))


def _value_from_counts(value: pl.Expr) -> pl.Expr:
    ratio = pl.col("numerator") / pl.col("denominator")
    return pl.coalesce(value, pl.when(pl.col("denominator") > 0).then(ratio))


# Derived columns (docs/connectors.md): filled from other columns where the source left them null.
_DERIVED: dict[tuple[str, str], Callable[[pl.Expr], pl.Expr]] = {
    ("requests", "error"): _error_from_status,
    ("kpi_observations", "value"): _value_from_counts,
}


def _finish(table: str) -> list[pl.Expr]:
    """Defaults for absent or null optional columns, derived columns, canonical dtypes."""
    out: list[pl.Expr] = []
    defaults = DEFAULTS.get(table, {})
    for name, target in SCHEMAS[table].items():
        expr = pl.col(name)
        if name in defaults:
            expr = expr.fill_null(pl.lit(defaults[name], dtype=target))
        derive = _DERIVED.get((table, name))
        if derive is not None:
            expr = derive(expr)
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
