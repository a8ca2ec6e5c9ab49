"""Patient-identifier screening on column names: PHI never enters a canonical table.

Policy (docs/connectors.md, "PHI policy"):
- a source column whose *name* looks like a patient identifier is dropped before anything else
  is read from it, and the load carries a warning naming the column;
- a column mapping that would load such a column into a canonical column is refused with
  `PatientIdentifierRefused` (the whole source fails, clearly, before the source is touched).

Names are normalised first (`PatientMRN`, `patient.mrn`, `Patient MRN` -> `patient_mrn`) and split
into tokens. A name is a patient identifier when it matches one of the rules below. The lists are
deliberately conservative: a false positive only drops an unused column with a warning, while a
false negative could leak PHI.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

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
_NOT_A_PERSON_TOKENS = frozenset(
    {
        "owner", "author", "assignee", "reporter", "approver", "engineer", "staff", "employee",
        "committer", "oncall", "responder", "team", "vendor", "contact", "escalation",
        "server", "host", "service", "net", "network", "peer", "destination", "upstream",
    }
)  # fmt: skip

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def normalize(name: str) -> str:
    """`PatientMRN` / `patient.mrn` / `Patient MRN` -> `patient_mrn`."""
    spaced = _CAMEL.sub("_", name.strip())
    return _NON_ALNUM.sub("_", spaced.lower()).strip("_")


def _has_sequence(tokens: list[str], sequence: tuple[str, ...]) -> bool:
    width = len(sequence)
    return any(tuple(tokens[i : i + width]) == sequence for i in range(len(tokens) - width + 1))


def looks_like_patient_identifier(name: str) -> bool:
    """True when a column name looks like it holds a patient identifier (see module docstring)."""
    tokens = normalize(name).split("_")
    if _ALWAYS_TOKENS.intersection(tokens):
        return True
    if any(_has_sequence(tokens, seq) for seq in _ALWAYS_SEQUENCES):
        return True
    if _PERSON_TOKENS.intersection(tokens) and _IDENTIFYING_TOKENS.intersection(tokens):
        return True
    if _NOT_A_PERSON_TOKENS.intersection(tokens):
        return False
    return any(_has_sequence(tokens, seq) for seq in _PERSONAL_SEQUENCES)


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
