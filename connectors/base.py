"""The connector contract: what every connector receives, returns and raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

import polars as pl

# Every frame a connector returns has the canonical columns of its table plus these two:
REASON = "_reason"  # null for a good row, else why the row is quarantined
LOCATION = "_loc"  # where the row came from: "path/file.csv:17", "table t key id=42", ...
# Optional, Boolean: true exactly when REASON is not null. The built-in connectors emit it so that
# counting and filtering good rows never builds reason text (the loader derives it when absent).
BAD = "_bad"


class ConnectorError(Exception):
    """A source could not be loaded; names the source and the cause."""

    def __init__(self, source: str, cause: str) -> None:
        super().__init__(f"source {source!r}: {cause}")
        self.source = source
        self.cause = cause


class SourceConfigError(ConnectorError):
    """The source's settings are wrong (unknown key, missing setting, bad mapping)."""


class SourceUnavailable(ConnectorError):
    """The source could not be reached or read (missing file, refused connection, bad password)."""


class PatientIdentifierRefused(ConnectorError):
    """A column mapping tried to load a patient identifier into a canonical table."""


@dataclass
class SourceSpec:
    """A named connector instance from config/sources.yaml, secrets already resolved."""

    name: str
    type: str
    tables: tuple[str, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    columns: dict[str, dict[str, str]] = field(default_factory=dict)  # table -> canonical <- source
    values: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)  # table->col->map
    timezone: str = "UTC"
    freshness_seconds: int | None = None
    initiatives: tuple[str, ...] = ()


@dataclass
class SourceLoad:
    """What one connector load produced.

    `frames[table]` is a LazyFrame with the canonical columns (canonical dtypes) plus
    REASON and LOCATION. Nothing is collected eagerly for large inputs.
    `warnings` carries human-readable notes such as dropped patient-identifier columns.
    """

    source: str
    frames: dict[str, pl.LazyFrame]
    warnings: list[str] = field(default_factory=list)


def unknown_settings(settings: dict[str, Any], known: set[str] | frozenset[str]) -> list[str]:
    """One error per unknown settings key; keys starting with `_` are the loader's own."""
    return [
        f"settings.{key}: unknown key (expected one of {sorted(known)})"
        for key in settings
        if key not in known and not str(key).startswith("_")
    ]


def check_per_table(spec: SourceSpec, given: dict[str, Any], key: str, absent: str) -> None:
    """Raise SourceConfigError unless `settings.<key>` names exactly the source's tables."""
    extra = sorted(set(given) - set(spec.tables))
    missing = sorted(set(spec.tables) - set(given))
    if extra or missing:
        raise SourceConfigError(
            spec.name,
            f"settings.{key} must name exactly the source's tables {list(spec.tables)}"
            + (f"; not listed in tables: {extra}" if extra else "")
            + (f"; {absent}: {missing}" if missing else ""),
        )


class Connector(ABC):
    """Base class for connectors; subclasses register under the `pilotwatch.connectors` group."""

    type_name: ClassVar[str]

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec

    @classmethod
    def settings_errors(cls, settings: dict[str, Any]) -> list[str]:
        """Every problem with `settings` (empty when valid); messages name the key."""
        return []

    @abstractmethod
    def load(self) -> SourceLoad:
        """Read the source into canonical frames or raise a ConnectorError."""


@dataclass
class SourceHealth:
    """Per-source health shown on the Data sources page and used for freshness."""

    source: str
    type: str
    tables: tuple[str, ...]
    ok: bool
    rows: int = 0
    quarantined: int = 0
    newest: datetime | None = None
    load_seconds: float = 0.0
    last_success: datetime | None = None
    last_error: str | None = None
    using_snapshot: bool = False
    warnings: list[str] = field(default_factory=list)
    newest_by_initiative: dict[str, datetime] = field(default_factory=dict)
