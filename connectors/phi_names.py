"""PHI screening of column names: a patient identifier column is never loaded.

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
from collections.abc import Iterable, Mapping
from functools import lru_cache

import polars as pl

from connectors.base import PatientIdentifierRefused, SourceSpec

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
