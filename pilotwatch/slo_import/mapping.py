"""The records every importer returns: mapped SLOs with their provenance, and refusals."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Mapped:
    """One slos.yaml key of an imported SLO and where its value came from."""

    key: str  # slos.yaml key path, e.g. "window" or "timeslice.length"
    value: Any  # the value in slos.yaml form
    source: str  # the document field(s) it came from, e.g. "spec.timeWindow[0].duration"
    note: str = ""  # how it was read, when not verbatim (e.g. "99.9 % -> 0.999")


@dataclass(frozen=True)
class Refusal:
    """What could not be represented exactly, located."""

    file: str
    document: int  # 1-based document (or list item) number within the file
    field: str  # the document field, e.g. "spec.objectives[1].op"
    reason: str
    slo: str | None = None  # the SLO (or objective) name, when known

    def __str__(self) -> str:
        who = f" ({self.slo})" if self.slo else ""
        return f"{self.file}: document {self.document}{who}: {self.field}: {self.reason}"


@dataclass(frozen=True)
class Note:
    """A document (or part of one) read but deliberately not mapped, and why (never an error)."""

    file: str
    document: int
    field: str  # "" for the whole document
    note: str

    def __str__(self) -> str:
        where = f": {self.field}" if self.field else ""
        return f"{self.file}: document {self.document}{where}: {self.note}"


@dataclass
class ImportedSlo:
    """One SLO in the keys of slos.yaml, with a Mapped line per key."""

    entry: dict[str, Any]
    file: str
    document: int
    mapped: list[Mapped] = field(default_factory=list)

    @property
    def name(self) -> str:
        return str(self.entry.get("name", ""))


@dataclass
class ImportResult:
    """Everything one or more files gave: SLOs and refusals, in file and document order."""

    slos: list[ImportedSlo] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)  # ignored documents and fields, with why

    def extend(self, other: ImportResult) -> None:
        self.slos.extend(other.slos)
        self.refused.extend(other.refused)
        self.notes.extend(other.notes)

    @property
    def ok(self) -> bool:
        return not self.refused
