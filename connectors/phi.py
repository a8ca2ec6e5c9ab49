"""PHI screening: identifier column names are never loaded, free text is redacted before use.

Policy (docs/connectors.md, "PHI policy"): column names are screened by `connectors.phi_names`
(re-exported here); free text by the patterns of `core.phi_patterns` (re-exported here), applied
to each table's free-text columns and to bad rows' reason and location by `screen_frame`.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from connectors.base import BAD, LOCATION, REASON, REDACTED, REDACTED_BAD
from connectors.phi_names import (
    drop_patient_columns,
    dropped_warning,
    looks_like_patient_identifier,
    normalize,
    refuse_mapping,
    refuse_spec,
    screen,
    tokens,
)
from core.phi_patterns import DEFAULT, MASK, Pattern, combined, count, redact, regex_problem

__all__ = [
    "DEFAULT",
    "FREE_TEXT",
    "MASK",
    "Pattern",
    "combined",
    "count",
    "drop_patient_columns",
    "dropped_warning",
    "looks_like_patient_identifier",
    "normalize",
    "patterns_for",
    "redact",
    "redact_message",
    "refuse_mapping",
    "refuse_spec",
    "regex_problem",
    "screen",
    "screen_frame",
    "tokens",
]

# The free-text canonical columns of each table. Every other String column is an id, a name from
# configuration or an enum (initiative, service, deploy_id, status, version ...), checked by the
# conform rules instead.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "incidents": ("title",),
    "evidence": ("justification", "evidence_ref", "owner"),
}
# `owner` names the staff member accountable for the evidence: a staff e-mail address is allowed
# there, as the `owner_email` column name is; every other pattern still applies.
_SKIP: dict[tuple[str, str], frozenset[str]] = {("evidence", "owner"): frozenset({"email"})}


def patterns_for(
    table: str, column: str, extra: Sequence[tuple[str, str]] = ()
) -> tuple[Pattern, ...]:
    """The patterns for `table.column`: the defaults (minus documented skips), then `extra`."""
    skip = _SKIP.get((table, column), frozenset())
    every = (*DEFAULT, *(Pattern(name, regex) for name, regex in extra))
    return tuple(p for p in every if p.name not in skip)


def screen_frame(
    frame: pl.LazyFrame, table: str, extra: Sequence[tuple[str, str]] = ()
) -> pl.LazyFrame:
    """Redact PHI in `table`'s free-text columns and in bad rows' `_reason`/`_loc`.

    Adds two UInt32 counts per row: `_redacted` (free-text columns) and `_redacted_bad` (the
    reason and location of a quarantined row). They are separate so that counting a big table's
    redactions never formats its good rows' locations: the loader sums `_redacted_bad` only in
    its bad-row pass. The defaults always apply (they cannot be switched off); `extra` adds
    configured patterns. Lazy and vectorised: reasons and locations are only screened where
    `_bad` is true.
    """
    names = frame.collect_schema().names()
    bad = pl.col(BAD) if BAD in names else pl.col(REASON).is_not_null()
    counts: list[pl.Expr] = []
    bad_counts: list[pl.Expr] = []
    screened: list[pl.Expr] = []
    for column in FREE_TEXT.get(table, ()):
        if column not in names:
            continue
        patterns = patterns_for(table, column, extra)
        text = pl.col(column).cast(pl.String)  # a plugin's all-null column may be typed Null
        counts.append(count(text, patterns))
        screened.append(redact(text, patterns).alias(column))
    everything = patterns_for("", "", extra)
    for column in (REASON, LOCATION):
        if column not in names:
            continue
        # null on good rows, so the regex pass skips them: only bad rows carry quoted values
        masked = pl.when(bad).then(pl.col(column).cast(pl.String))
        found = count(masked, everything)
        bad_counts.append(found)
        # Polars skips a `then` branch whose condition holds nowhere: clean chunks cost no replace
        screened.append(
            pl.when(found > 0)
            .then(redact(masked, everything))
            .otherwise(pl.col(column))
            .alias(column)
        )
    return frame.with_columns(
        *screened, _total(counts).alias(REDACTED), _total(bad_counts).alias(REDACTED_BAD)
    )


def _total(counts: list[pl.Expr]) -> pl.Expr:
    return pl.sum_horizontal(counts).cast(pl.UInt32) if counts else pl.lit(0, dtype=pl.UInt32)


def redact_message(text: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    """A message (an error, a warning) with free-text PHI redacted, by the same patterns.

    Driver errors can quote a row's value ("invalid input syntax for type integer: ..."), so
    every message a source's health carries goes through this before it is stored or shown.
    """
    patterns = patterns_for("", "", extra)
    return str(pl.select(redact(pl.lit(text, dtype=pl.String), patterns)).item())
