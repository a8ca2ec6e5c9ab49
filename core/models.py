"""Typed configuration models; every field is documented in docs/config.md."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, field_validator, model_validator
from pydantic_core import PydanticCustomError

from core.durations import Duration, DurationField
from core.phi_patterns import DEFAULT, regex_problem  # the same engine that will run it

STAGES: tuple[str, ...] = ("discovery", "pilot", "limited_production", "production")
Stage = Literal["discovery", "pilot", "limited_production", "production"]
KpiKind = Literal["clinical", "operational", "financial", "adoption"]
Op = Literal[">=", "<=", "==", "!=", ">", "<"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
CalendarMonth = Literal["calendar_month"]


def _slo_window(value: Any) -> Duration | CalendarMonth:
    """An SLO window: `calendar_month`, or a rolling `Nd` / `Nh` parsed to a Duration."""
    if isinstance(value, Duration):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    if value == "calendar_month":
        return "calendar_month"
    if not re.fullmatch(r"\d+[dh]", value) or int(value[:-1]) <= 0:
        raise ValueError("expected `Nd`, `Nh` (e.g. 28d, 6h) or `calendar_month`")
    return Duration(value)


def gate_of(stage: str) -> str:
    """The gate an initiative in `stage` is evaluated against: the next stage (production stays)."""
    index = STAGES.index(stage)
    return STAGES[min(index + 1, len(STAGES) - 1)]


class Strict(BaseModel):
    """Unknown keys are errors: a typo must never be silently ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Milestone(Strict):
    name: str
    due: date
    owner: str
    done: bool = False
    horizon_days: Literal[90, 180, 360] | None = None


class Kpi(Strict):
    name: str
    kind: KpiKind
    unit: str = ""
    direction: Literal["higher", "lower"]
    target: float
    baseline: float | None = None
    description: str = ""


class Initiative(Strict):
    id: str
    name: str
    stage: Stage
    owner: str
    sponsor: str
    clinical_area: str
    started_on: date
    description: str = ""
    milestones: list[Milestone] = Field(default_factory=list)
    kpis: list[Kpi] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("expected letters, digits, '_', '-' or '.' (no spaces)")
        return value

    @model_validator(mode="after")
    def _unique_kpis(self) -> Initiative:
        names = [k.name for k in self.kpis]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"KPI names must be unique per initiative, repeated: {dupes}")
        return self

    @property
    def gate(self) -> str:
        return gate_of(self.stage)


class SloFilter(Strict):
    service: str | None = None
    operation: str | None = None
    environment: str | None = None


class Timeslice(Strict):
    length: DurationField = Duration("1m")
    target: float = Field(gt=0, le=1)

    @field_validator("length")
    @classmethod
    def _minutes(cls, value: Duration) -> Duration:
        if value.seconds_total % 60:
            raise ValueError("timeslice length must be a whole number of minutes (buckets are 1m)")
        return value

    @property
    def length_seconds(self) -> int:
        """The slice length in whole seconds."""
        return self.length.seconds_total


class Slo(Strict):
    name: str
    initiative: str
    sli: Literal["availability", "latency"]
    threshold_ms: float | None = Field(default=None, ge=0)
    filter: SloFilter = Field(default_factory=SloFilter)
    target: float = Field(gt=0, lt=1)
    # a rolling window (`28d`, `6h`) or the literal `calendar_month` (docs/config.md)
    window: Annotated[Duration | CalendarMonth, PlainValidator(_slo_window)] = Duration("28d")
    budgeting: Literal["occurrences", "timeslices"] = "occurrences"
    timeslice: Timeslice | None = None
    description: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> Slo:
        if self.sli == "latency" and self.threshold_ms is None:
            raise ValueError("a latency SLO needs threshold_ms")
        if self.sli == "availability" and self.threshold_ms is not None:
            raise ValueError("threshold_ms only applies to latency SLOs")
        if self.budgeting == "timeslices" and self.timeslice is None:
            raise ValueError("timeslices budgeting needs `timeslice: {length: 1m, target: 0.95}`")
        return self

    @property
    def environment(self) -> str:
        return self.filter.environment or "production"

    @property
    def window_seconds(self) -> int | None:
        """Length of a rolling window; None for calendar_month."""
        return self.window.seconds_total if isinstance(self.window, Duration) else None

    @property
    def window_text(self) -> str:
        """The window as written in slos.yaml (`28d`, `calendar_month`)."""
        return str(self.window)


class Control(Strict):
    id: str
    title: str
    refs: list[str] = Field(default_factory=list)
    category: Literal["administrative", "physical", "technical", "organizational", "product"]
    implementation: Literal["required", "addressable", "product"]
    required_from: Stage
    max_age_days: int = Field(default=365, gt=0)
    description: str = ""


class GateCheck(Strict):
    id: str
    metric: str
    op: Op
    value: float
    blocking: bool = False
    weight: float = Field(default=1.0, gt=0)
    dimension: str = "general"
    remediation: str = ""
    owner: str | None = None


class Waiver(Strict):
    initiative: str
    check: str
    reason: str
    approver: str
    expires_on: date | datetime


class DoraThresholds(Strict):
    """DORA 2023 benchmark thresholds (configurable)."""

    frequency_elite_days_per_week: float = 5
    frequency_high_days_per_week: float = 1
    frequency_medium_days_per_month: float = 1
    lead_time_elite_hours: float = 24
    lead_time_high_hours: float = 24 * 7
    lead_time_medium_hours: float = 24 * 30
    change_failure_elite: float = 0.05
    change_failure_high: float = 0.10
    change_failure_medium: float = 0.15
    recovery_elite_hours: float = 1
    recovery_high_hours: float = 24
    recovery_medium_hours: float = 24 * 7
    min_deployments: int = 5


class PhiPattern(Strict):
    """An extra free-text PHI pattern (docs/config.md, `phi_patterns`); Polars regex syntax."""

    name: str
    regex: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("must be an id (letters, digits, _, - or .)")
        if value in {p.name for p in DEFAULT}:
            raise ValueError(f"{value!r} is a default pattern (defaults always apply)")
        return value

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str) -> str:
        problem = regex_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class Settings(Strict):
    """Metric parameters with their documented defaults (docs/config.md, settings)."""

    delivery_window: DurationField = Duration("90d")
    link_window: DurationField = Duration("24h")
    small_cell_threshold: int = Field(default=11, ge=11)
    expiring_within_days: int = Field(default=30, ge=0)
    low_traffic_budget_share: float = Field(default=0.1, gt=0, le=1)
    default_freshness: DurationField = Duration("24h")
    default_load_timeout: DurationField = Duration("60s")
    dora: DoraThresholds = Field(default_factory=DoraThresholds)
    demo_as_of: datetime | None = None
    phi_patterns: list[PhiPattern] = Field(default_factory=list)


class Source(Strict):
    name: str
    type: str
    tables: list[str]
    settings: dict[str, Any] = Field(default_factory=dict)
    columns: dict[str, dict[str, str]] = Field(default_factory=dict)
    values: dict[str, dict[str, dict[str, Any]]] = Field(default_factory=dict)
    timezone: str = "UTC"
    freshness: DurationField | None = None
    # how long one load may take before it is abandoned (default: settings.default_load_timeout)
    load_timeout: DurationField | None = None
    initiatives: list[str] = Field(default_factory=list)
    enabled: bool = True


class Config(BaseModel):
    """The whole validated configuration."""

    model_config = ConfigDict(frozen=True)

    initiatives: list[Initiative] = Field(default_factory=list)
    slos: list[Slo] = Field(default_factory=list)
    controls: list[Control] = Field(default_factory=list)
    gates: dict[str, list[GateCheck]] = Field(default_factory=dict)
    waivers: list[Waiver] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)
    root: str = "."

    def initiative(self, initiative_id: str) -> Initiative:
        for item in self.initiatives:
            if item.id == initiative_id:
                return item
        raise KeyError(initiative_id)
