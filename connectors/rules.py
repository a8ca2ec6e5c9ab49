"""Quarantine rules for conformance: one `Rule` per reason a row is bad (docs/connectors.md).

A rule's flag and its reason come from the same object, so they can never disagree. The
table-specific value rules are data (`_NON_NEGATIVE`, `_TABLE_RULES`), read by `value_rules`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from connectors.parsing import kind_of, quote
from core.canonical import ALLOWED_VALUES, REQUIRED, SCHEMAS


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


def _non_negative(name: str) -> Rule:
    return Rule(pl.col(name) < 0, f"{name}: must be >= 0, got {{}}", (pl.col(name),))


def _good_over_total() -> Rule:
    over = pl.col("good") > pl.col("total")
    return Rule(over, "good: {} > total {}", (pl.col("good"), pl.col("total")))


def _severity_range() -> Rule:
    outside = ~pl.col("severity").is_between(1, 4)
    return Rule(outside, "severity: {} not in 1..4", (pl.col("severity"),))


def _kpi_needs_a_value() -> Rule:
    counts = pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null()
    no_value = pl.col("value").is_null() & ~counts & ~pl.col("__pw_failed_value")
    return Rule(no_value, "value: missing (give value, or numerator and denominator)")


# Columns that must be >= 0, per table (docs/connectors.md, value rules).
_NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "requests": ("duration_ms",),
    "sli_buckets": ("good", "total"),
    "kpi_observations": ("numerator", "denominator"),
}
# Rules across columns, per table, after the non-negative ones.
_TABLE_RULES: dict[str, tuple[Callable[[], Rule], ...]] = {
    "sli_buckets": (_good_over_total,),
    "incidents": (_severity_range,),
    "kpi_observations": (_kpi_needs_a_value,),
}


def value_rules(table: str) -> list[Rule]:
    """The value rules of docs/connectors.md over parsed canonical columns of `table`."""
    rules = [
        Rule(
            ~pl.col(name).is_in(sorted(allowed)),
            f"{name}: {{}} not one of {', '.join(sorted(allowed))}",
            (pl.col(name),),
            quote,
        )
        for (rule_table, name), allowed in ALLOWED_VALUES.items()
        if rule_table == table
    ]
    rules += [_non_negative(name) for name in _NON_NEGATIVE.get(table, ())]
    rules += [make() for make in _TABLE_RULES.get(table, ())]
    return rules


def column_rules(
    name: str, table: str, fails: bool, show: Callable[[pl.Expr], pl.Expr], wide: bool = False
) -> list[Rule]:
    """Rules of one parsed column: does not parse (when it can fail), missing (when required)."""
    flag, held = pl.col(f"__pw_failed_{name}"), pl.col(f"__pw_in_{name}")
    what = "outside the 64-bit integer range" if wide else f"not {kind_of(SCHEMAS[table][name])}"
    rules = [Rule(flag, f"{name}: {what} {{}}", (held,), show)] if fails else []
    if name in REQUIRED[table]:
        missing = pl.col(name).is_null() & ~flag if fails else pl.col(name).is_null()
        rules.append(Rule(missing, f"{name}: missing"))
    return rules
