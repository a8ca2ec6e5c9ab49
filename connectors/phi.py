"""PHI screening: identifier column names are never loaded, free text is redacted before use.

Policy (docs/connectors.md, "PHI policy"):
- a source column whose *name* looks like a patient identifier is dropped before anything else
  is read from it, and the load carries a warning naming the column;
- a column mapping that would load such a column into a canonical column is refused with
  `PatientIdentifierRefused` (the whole source fails, clearly, before the source is touched);
- the free-text canonical columns (`FREE_TEXT`) and the quarantine reason and location of bad
  rows are screened by `screen_frame`: e-mail addresses, SSNs, phone numbers, labelled MRNs,
  patient ids and dates of birth (and configured patterns) become `[redacted]`, counted per row
  in the `_redacted` column.

Names are normalised first (`PatientMRN`, `patient.mrn`, `PATIENTMRN` -> `patient_mrn`) and split
into tokens. A name is a patient identifier when it matches one of the rules below. The lists are
deliberately conservative: a false positive only drops an unused column with a warning, while a
false negative could leak PHI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from typing import NamedTuple

import polars as pl

from connectors.base import (
    BAD,
    LOCATION,
    REASON,
    REDACTED,
    REDACTED_BAD,
    PatientIdentifierRefused,
    SourceSpec,
)

# Always a patient identifier when the token appears anywhere in the name.
_ALWAYS_TOKENS = frozenset(
    {"mrn", "ssn", "dob", "birthdate", "birthday", "birthdt", "mrno", "nhs", "medicare", "medicaid"}
)
# Always a patient identifier when this token sequence appears anywhere in the name.
_ALWAYS_SEQUENCES: tuple[tuple[str, ...], ...] = (
    ("medical", "record"),
    ("med", "rec"),
    ("social", "security"),
    ("social", "sec"),
    ("date", "of", "birth"),
    ("birth", "date"),
    ("birth", "dt"),
    ("date", "of", "death"),
    ("death", "date"),
    ("admission", "date"),
    ("admit", "date"),
    ("discharge", "date"),
    ("health", "plan"),
    ("insurance", "id"),
    ("policy", "number"),
    ("account", "number"),
    ("drivers", "license"),
    ("driver", "license"),
    ("license", "plate"),
    ("national", "id"),
    ("passport",),
    ("fingerprint",),
    ("face", "image"),
    ("photo",),
    ("device", "serial"),
    ("vin",),
)
# A person-ish token combined with an identifying token: patient_id, member_name, pt_dob, ...
_PERSON_TOKENS = frozenset(
    {"patient", "patients", "pt", "member", "beneficiary", "subscriber", "guarantor", "enrollee"}
)
_IDENTIFYING_TOKENS = frozenset(
    {
        "id", "identifier", "key", "uuid", "guid", "number", "no", "num", "nbr",
        "name", "first", "last", "full", "given", "family", "surname", "middle", "initials",
        "address", "addr", "street", "city", "zip", "zipcode", "postal", "postcode",
        "phone", "telephone", "mobile", "cell", "fax", "email", "mail",
        "birth", "dob", "age", "ssn", "mrn",
    }
)  # fmt: skip
# Personal data about *someone*: flagged unless the name says it is about staff or a machine.
_PERSONAL_SEQUENCES: tuple[tuple[str, ...], ...] = (
    ("first", "name"),
    ("last", "name"),
    ("full", "name"),
    ("given", "name"),
    ("family", "name"),
    ("middle", "name"),
    ("maiden", "name"),
    ("surname",),
    ("firstname",),
    ("lastname",),
    ("fullname",),
    ("email",),
    ("e", "mail"),
    ("phone",),
    ("telephone",),
    ("mobile", "number"),
    ("mobile", "phone"),
    ("cell", "phone"),
    ("cell", "number"),
    ("fax",),
    ("address",),
    ("addr",),
    ("street",),
    ("city",),
    ("zip",),
    ("zipcode",),
    ("zip", "code"),
    ("postal", "code"),
    ("postcode",),
    ("ip",),
)
# Staff and machines: `owner_email`, `assignee_name`, `server.address` describe no patient.
_NOT_A_PERSON_TOKENS = frozenset(
    {
        "owner", "author", "assignee", "reporter", "approver", "engineer", "staff", "employee",
        "committer", "oncall", "responder", "team", "vendor", "contact", "escalation",
        "server", "host", "service", "net", "network", "peer", "destination", "upstream",
    }
)  # fmt: skip
# Extra words that only help to split compounds written without separators (`medicalrecordnumber`,
# `socialsecuritynumber`, `patientidhash`); they flag nothing by themselves.
_SPLIT_ONLY_WORDS = frozenset(
    {
        "of", "code", "hash", "hashed", "date", "record", "records", "security", "social",
        "medical", "health", "plan", "insurance", "policy", "account", "death", "admission",
        "discharge", "national", "driver", "drivers", "license", "device", "serial", "mobile",
        "home", "work", "primary", "secondary", "contact", "owner", "staff", "server", "host",
        "text", "value", "raw", "enc", "encrypted", "masked", "token", "ref", "line", "type",
    }
)  # fmt: skip
_VOCABULARY: frozenset[str] = frozenset(
    word
    for word in (
        *_ALWAYS_TOKENS,
        *(w for seq in (*_ALWAYS_SEQUENCES, *_PERSONAL_SEQUENCES) for w in seq),
        *_PERSON_TOKENS,
        *_IDENTIFYING_TOKENS,
        *_NOT_A_PERSON_TOKENS,
        *_SPLIT_ONLY_WORDS,
    )
    if len(word) >= 2  # single letters would split almost anything
)
# Words long enough to be recognised inside an unknown token (`outpatientid` -> out patient id);
# short words (`id`, `pt`, `no`, `age`) only count when the whole token splits into known words,
# so `script`, `video` and `usage` stay whole.
_EMBEDDED_MIN = 5
_EMBEDDED = sorted((w for w in _VOCABULARY if len(w) >= _EMBEDDED_MIN), key=len, reverse=True)

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_DIGITS = re.compile(r"(?<=[a-z])(?=[0-9])|(?<=[0-9])(?=[a-z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=4096)
def _split_known(token: str) -> tuple[str, ...] | None:
    """`patientid` -> (patient, id): the fewest known words covering all of `token`, or None."""
    best: list[tuple[str, ...] | None] = [None] * (len(token) + 1)
    best[0] = ()
    for end in range(1, len(token) + 1):
        for start in range(end):
            head, word = best[start], token[start:end]
            if head is not None and word in _VOCABULARY:
                candidate = (*head, word)
                current = best[end]
                if current is None or len(candidate) < len(current):
                    best[end] = candidate
    return best[len(token)]


@lru_cache(maxsize=4096)
def _split_token(token: str) -> tuple[str, ...]:
    """Split one lower-case token into known words where it can be, else keep it whole."""
    if token in _VOCABULARY or token.isdigit():
        return (token,)
    known = _split_known(token)
    if known is not None:
        return known
    for word in _EMBEDDED:  # longest first: `subscriber` before `scribe`-like fragments
        at = token.find(word)
        if at >= 0:
            before, after = token[:at], token[at + len(word) :]
            return (
                *(_split_token(before) if before else ()),
                word,
                *(_split_token(after) if after else ()),
            )
    return (token,)


def tokens(name: str) -> list[str]:
    """The words of a column name: case, separators, camel case, digits and compounds split."""
    spaced = _CAMEL.sub("_", name.strip()).lower()
    spaced = _DIGITS.sub("_", spaced)
    return [word for part in _NON_ALNUM.split(spaced) if part for word in _split_token(part)]


def normalize(name: str) -> str:
    """`PatientMRN` / `patient.mrn` / `Patient MRN` / `PATIENTMRN` -> `patient_mrn`."""
    return "_".join(tokens(name))


def _has_sequence(words: list[str], sequence: tuple[str, ...]) -> bool:
    width = len(sequence)
    return any(tuple(words[i : i + width]) == sequence for i in range(len(words) - width + 1))


def looks_like_patient_identifier(name: str) -> bool:
    """True when a column name looks like it holds a patient identifier (see module docstring)."""
    words = tokens(name)
    if _ALWAYS_TOKENS.intersection(words):
        return True
    if any(_has_sequence(words, seq) for seq in _ALWAYS_SEQUENCES):
        return True
    if _PERSON_TOKENS.intersection(words) and _IDENTIFYING_TOKENS.intersection(words):
        return True
    if _NOT_A_PERSON_TOKENS.intersection(words):
        return False
    return any(_has_sequence(words, seq) for seq in _PERSONAL_SEQUENCES)


def dropped_warning(column: str, origin: str) -> str:
    """The warning added to SourceLoad.warnings for a dropped column."""
    return (
        f"dropped column {column!r} (looks like a patient identifier; never loaded) from {origin}"
    )


def screen(names: Iterable[str]) -> tuple[list[str], list[str]]:
    """Split column names into (kept, patient identifiers)."""
    kept: list[str] = []
    dropped: list[str] = []
    for name in names:
        (dropped if looks_like_patient_identifier(name) else kept).append(name)
    return kept, dropped


def drop_patient_columns(frame: pl.LazyFrame, origin: str) -> tuple[pl.LazyFrame, list[str]]:
    """Drop patient-identifier columns (schema only, nothing is read); one warning per column."""
    _, dropped = screen(frame.collect_schema().names())
    if not dropped:
        return frame, []
    return frame.drop(dropped), [dropped_warning(name, origin) for name in dropped]


def refuse_mapping(source: str, table: str, columns: Mapping[str, str]) -> None:
    """Raise PatientIdentifierRefused when a mapping loads a patient identifier column."""
    for canonical, column in columns.items():
        if looks_like_patient_identifier(column):
            raise PatientIdentifierRefused(
                source,
                f"columns.{table}.{canonical} maps {column!r}, which looks like a patient "
                "identifier; pilotwatch never loads patient identifiers (docs/connectors.md, "
                "PHI policy)",
            )


def refuse_spec(spec: SourceSpec) -> None:
    """Check every table's column mapping of a source (call before touching the source)."""
    for table, columns in spec.columns.items():
        refuse_mapping(spec.name, table, columns)


# --- free text ------------------------------------------------------------------------------


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
