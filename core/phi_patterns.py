"""Free-text PHI patterns: the named regexes, the mask, and their checks (docs/connectors.md).

They live in the base package because the configuration validates an extra `phi_patterns`
entry with the very engine the connectors will run it in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import polars as pl


class Pattern(NamedTuple):
    """A named free-text PHI pattern in Rust `regex` syntax (Polars' engine: no look-around)."""

    name: str
    regex: str


MASK = "[redacted]"

# Month names for written dates of birth ("born 3 March 1980", "DOB: Mar 3, 1980").
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE = (
    r"(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}"  # 1980-02-03
    r"|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}"  # 02/03/1980, 3/2/80
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+{_MONTH},?\s+\d{{4}}"  # 3 March 1980
    rf"|{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}})"  # March 3, 1980
)
# A label's value: an optional short letter prefix, then a digit, then id characters (A12345).
_ID_VALUE = r"[a-z]{0,3}\d[a-z0-9\-]*"
_SEP = r"\s*(?:[:#=]|is|was)?\s*"

# Order matters only where two patterns can start at the same place: the first one wins, so the
# labelled forms come before the bare SSN and phone shapes they contain.
DEFAULT: tuple[Pattern, ...] = (
    Pattern("email", r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}"),
    # "SSN 123456789", "ssn: 123-45-6789", "social security number 123 45 6789"
    Pattern(
        "labelled_ssn",
        r"(?i)\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|num|#))?)"
        rf"{_SEP}\d{{3}}[\s\-]?\d{{2}}[\s\-]?\d{{4}}\b",
    ),
    # "MRN 1234567", "MRN: A12345", "medical record number 12345", "MR# 1234"
    Pattern(
        "labelled_mrn",
        r"(?i)(?:\b(?:mrn|mr\s*no\.?|medical\s+record(?:\s+(?:number|no\.?|num|#))?)|\bmr\s*#)"
        rf"{_SEP}{_ID_VALUE}",
    ),
    # "patient id 88231", "pt #4521", "member number: X99812"
    Pattern(
        "labelled_patient_id",
        r"(?i)\b(?:patient|pt|member|subscriber|beneficiary)\s*(?:id|identifier|number|no\.?|num|#)"
        rf"{_SEP}{_ID_VALUE}",
    ),
    # "DOB 1980-02-03", "date of birth: 02/03/1980", "born 3/2/1980", "d.o.b. Mar 3, 1980"
    Pattern(
        "labelled_dob",
        r"(?i)(?:\b(?:dob|date\s+of\s+birth|birth\s*date|birthday|born(?:\s+on)?)|\bd\.o\.b\.?)"
        rf"{_SEP}{_DATE}",
    ),
    # 123-45-6789 and 123 45 6789 (never 9 bare digits: those are ids and counters)
    Pattern("ssn", r"\b\d{3}[\- ]\d{2}[\- ]\d{4}\b"),
    # (555) 123-4567, 555-123-4567, +1 555 123 4567, 555.123.4567, 1-555-123-4567
    Pattern(
        "us_phone",
        r"(?:\+1[\s.\-]?|\b1[\s.\-])?(?:\(\d{3}\)\s?|\b\d{3}[\s.\-])\d{3}[\s.\-]\d{4}\b",
    ),
)

# Probe strings for patterns that match nothing at some position (`a*`, `x|`): such a pattern
# would insert the mask between every character.
_EMPTY_PROBES = ("", "a", "Ab 1-2.x@y_z/", "[redacted]")


def _polars_error(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines()]
    causes = [line.removeprefix("error: ") for line in lines if line.startswith("error:")]
    return causes[0] if causes else (lines[0] if lines else type(exc).__name__)


def regex_problem(regex: str) -> str | None:
    """Why `regex` cannot be a PHI pattern in Polars' engine, or None when it can."""
    probes = pl.Series("probe", _EMPTY_PROBES, dtype=pl.String)
    try:
        found = pl.select(probes.str.extract_all(regex)).to_series().explode()
    except pl.exceptions.PolarsError as exc:
        return (
            f"not a valid regex for Polars' engine (Rust regex syntax, no look-around or "
            f"back-references): {_polars_error(exc)}"
        )
    if (found.str.len_chars() == 0).any():
        return "matches the empty string, so it would redact between every character"
    return None


def combined(patterns: Sequence[tuple[str, str]]) -> str:
    """One alternation of every pattern (each in its own group, so inline flags stay local)."""
    return "|".join(f"(?:{regex})" for _, regex in patterns)


def redact(expr: pl.Expr, patterns: Sequence[tuple[str, str]] = DEFAULT) -> pl.Expr:
    """`expr` with every match of `patterns` replaced by `[redacted]` (one regex pass)."""
    if not patterns:
        return expr
    return expr.str.replace_all(combined(patterns), MASK)


def count(expr: pl.Expr, patterns: Sequence[tuple[str, str]] = DEFAULT) -> pl.Expr:
    """The number of redactions `redact` makes in `expr` (UInt32; 0 for null)."""
    if not patterns:
        return pl.lit(0, dtype=pl.UInt32)
    return expr.str.count_matches(combined(patterns)).fill_null(0).cast(pl.UInt32)
