"""The connector contract: what every connector receives, returns and raises."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from core.models import Slo

# Every frame a connector returns has the canonical columns of its table plus these two:
REASON = "_reason"  # null for a good row, else why the row is quarantined
LOCATION = "_loc"  # where the row came from: "path/file.csv:17", "table t key id=42", ...
# Optional, Boolean: true exactly when REASON is not null. The built-in connectors emit it so that
# counting and filtering good rows never builds reason text (the loader derives it when absent).
BAD = "_bad"
# UInt32, added by phi.screen_frame: how many PHI matches were replaced by `[redacted]` in the
# row's free-text columns; summed into SourceHealth.redacted.
REDACTED = "_redacted"
# UInt32: the same for a quarantined row's reason and location (the loader sums it in its bad-row
# pass only, so a big table's good rows never have their locations formatted just to be counted).
REDACTED_BAD = "_redacted_bad"


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
    # extra free-text PHI patterns from settings.yaml (name, regex), on top of phi's defaults
    phi_patterns: tuple[tuple[str, str], ...] = ()
    # the configured SLOs, for connectors that count sli_buckets themselves (prometheus, sql
    # pushdown, otlp metrics), and the half-open range [start, end) their windows need
    slos: tuple[Slo, ...] = ()
    fetch_range: tuple[datetime, datetime] | None = None


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


class ConnectorSettings(BaseModel):
    """Base of every connector's settings model: unknown keys are errors, values are strict."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass
class RawPart:
    """One piece of raw source data a connector read: a file, a table, a query result.

    `frame` holds the source's own columns; `location` is evaluated on it and names each row's
    place ("file.csv:17", "table t key id=42"); `malformed` lists records that never became a
    row (location, reason). The base class conforms, screens and counts it.
    """

    table: str
    frame: pl.LazyFrame | None  # None: nothing could be split into fields, only `malformed`
    origin: str
    location: pl.Expr
    trim_text: bool = True
    malformed: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class RawRead:
    """What `Connector.read` returns: the raw parts and the connector's own warnings."""

    parts: list[RawPart]
    warnings: list[str] = field(default_factory=list)


IssuePath = tuple[str | int, ...]


def _issue_message(error: Any, model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown key (expected one of {sorted(model.model_fields)})"
    if kind == "missing":
        return "required key is missing"
    return str(error["msg"]).removeprefix("Value error, ")


def format_issue_path(path: IssuePath) -> str:
    """`("per_table", "incidents", "query")` -> `settings.per_table.incidents.query`."""
    out = "settings"
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


class Connector(ABC):
    """Base class of every connector; subclasses register under the `pilotwatch.connectors` group.

    A subclass declares `settings_model` (a ConnectorSettings subclass) and implements `read`.
    `load` is the one fixed sequence every connector runs, and no subclass may override it:
    validate settings, refuse identifier mappings, read, drop identifier columns, conform,
    screen free text. The loader then counts loaded and quarantined rows (docs/connectors.md,
    "The connector contract").
    """

    type_name: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "load" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides Connector.load(); implement read() instead, so the "
                "contract's steps (settings, PHI screening, conform, counts) cannot be skipped"
            )

    def __init__(self, spec: SourceSpec) -> None:
        self.spec = spec
        self.root = Path(str(spec.settings.get("_root") or "."))
        self._settings: ConnectorSettings | None = None

    @property
    def settings(self) -> ConnectorSettings:
        """The validated settings (available inside `read`)."""
        if self._settings is None:
            self._settings = self.validated(self.spec.name, self.spec.settings)
        return self._settings

    @staticmethod
    def own_settings(settings: Mapping[str, Any]) -> dict[str, Any]:
        """`settings` without the loader's own keys (those starting with `_`, e.g. `_root`)."""
        return {k: v for k, v in settings.items() if not str(k).startswith("_")}

    @classmethod
    def settings_issues(cls, settings: Mapping[str, Any]) -> list[tuple[IssuePath, str]]:
        """Every problem with `settings` as (key path under `settings`, message); [] when valid."""
        try:
            cls.settings_model.model_validate(cls.own_settings(settings))
        except ValidationError as exc:
            return [
                (
                    tuple(part for part in error["loc"] if part != "[key]"),
                    _issue_message(error, cls.settings_model),
                )
                for error in exc.errors()
            ]
        return []

    @classmethod
    def settings_errors(cls, settings: Mapping[str, Any]) -> list[str]:
        """`settings_issues` as text: `settings.url: required key is missing`."""
        return [f"{format_issue_path(p)}: {m}" for p, m in cls.settings_issues(settings)]

    @classmethod
    def validated(cls, source: str, settings: Mapping[str, Any]) -> ConnectorSettings:
        """The settings model for `settings`; SourceConfigError listing every problem."""
        errors = cls.settings_errors(settings)
        if errors:
            raise SourceConfigError(source, "; ".join(errors))
        return cls.settings_model.model_validate(cls.own_settings(settings))

    @abstractmethod
    def read(self) -> RawRead:
        """Read the source's raw parts (lazily where possible) or raise a ConnectorError."""

    def load(self) -> SourceLoad:
        """The fixed sequence: settings, identifier refusal, read, drop, conform, screen."""
        from connectors import phi  # the contract's steps import this module
        from connectors.conform import conform_spec, empty_conformed, malformed

        spec = self.spec
        self._settings = self.validated(spec.name, spec.settings)
        phi.refuse_spec(spec)
        read = self.read()
        warnings = list(read.warnings)
        parts: dict[str, list[pl.LazyFrame]] = {}
        for part in read.parts:
            if part.table not in spec.tables:
                raise SourceConfigError(
                    spec.name, f"the connector read table {part.table!r}, not in {spec.tables}"
                )
            pieces = parts.setdefault(part.table, [])
            if part.frame is not None:
                raw, dropped = phi.drop_patient_columns(part.frame, part.origin)
                warnings += [note for note in dropped if note not in warnings]
                conformed = conform_spec(
                    raw,
                    part.table,
                    spec,
                    origin=part.origin,
                    location=part.location,
                    trim_text=part.trim_text,
                )
                pieces.append(conformed)
            if part.malformed:
                pieces.append(malformed(part.table, part.malformed))
        frames: dict[str, pl.LazyFrame] = {}
        for table in spec.tables:
            pieces = parts.get(table) or [empty_conformed(table)]
            frame = pieces[0] if len(pieces) == 1 else pl.concat(pieces, how="vertical")
            frames[table] = phi.screen_frame(frame, table, spec.phi_patterns)
        return SourceLoad(source=spec.name, frames=frames, warnings=warnings)


@dataclass
class SourceHealth:
    """Per-source health shown on the Data sources page and used for freshness."""

    source: str
    type: str
    tables: tuple[str, ...]
    ok: bool
    rows: int = 0
    quarantined: int = 0
    redacted: int = 0  # free-text values replaced by the PHI screen (sum of REDACTED)
    newest: datetime | None = None
    load_seconds: float = 0.0
    last_success: datetime | None = None
    last_error: str | None = None
    using_snapshot: bool = False
    warnings: list[str] = field(default_factory=list)
    newest_by_initiative: dict[str, datetime] = field(default_factory=dict)
