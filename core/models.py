"""Typed configuration models; every field is documented in docs/config.md."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    field_validator,
    model_validator,
)

from core.durations import Duration, DurationField
from core.phi_patterns import DEFAULT, regex_problem  # the same engine that will run it
from core.windows import SloWindow, check_timezone, dump_window, parse_window

STAGES: tuple[str, ...] = ("discovery", "pilot", "limited_production", "production")
Stage = Literal["discovery", "pilot", "limited_production", "production"]
KpiKind = Literal["clinical", "operational", "financial", "adoption"]
Op = Literal[">=", "<=", "==", "!=", ">", "<"]

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


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
    # required for `timeslices`; `ratio_timeslices` has no per-slice target
    target: float | None = Field(default=None, gt=0, le=1)

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


class Indicator(Strict):
    """Where a Prometheus-compatible source finds an SLO's events (docs/config.md, `indicator`).

    Each query is either a plain series selector (`http_requests_total{job="api"}`): a counter,
    counted exactly; or any other PromQL expression, evaluated once per minute as the number of
    events in that minute, whose buckets are marked as estimates. Availability takes `total` and
    one of `good` / `bad`; latency takes `histogram` (the histogram's base name with its labels,
    read as `_bucket{le=...}` and `_count`) and `unit`, the unit of its `le` boundaries.
    """

    source: str | None = None  # a source name; default: the only prometheus source
    good: str | None = None
    bad: str | None = None
    total: str | None = None
    histogram: str | None = None
    unit: Literal["s", "ms"] | None = None

    @model_validator(mode="after")
    def _shape(self) -> Indicator:
        if self.histogram is not None:
            if self.unit is None:
                raise ValueError("a histogram indicator needs `unit` (s or ms) of its `le` bounds")
            if self.good or self.bad or self.total:
                raise ValueError("give either `histogram` or good/bad/total queries, not both")
            return self
        if self.unit is not None:
            raise ValueError("`unit` only applies to a `histogram` indicator")
        if not self.total:
            raise ValueError("an indicator needs `total` and one of `good` or `bad`")
        if bool(self.good) == bool(self.bad):
            raise ValueError("give exactly one of `good` or `bad` with `total`")
        return self


Budgeting = Literal["occurrences", "timeslices", "ratio_timeslices"]


class Slo(Strict):
    name: str
    initiative: str
    sli: Literal["availability", "latency"]
    threshold_ms: float | None = Field(default=None, ge=0)
    # latency: good when duration_ms <= threshold_ms (`le`) or < threshold_ms (`lt`)
    threshold_op: Literal["le", "lt"] = "le"
    filter: SloFilter = Field(default_factory=SloFilter)
    target: float = Field(gt=0, lt=1)
    # rolling (`28d`), a calendar shorthand (`calendar_month`) or the general calendar form
    window: Annotated[SloWindow, PlainValidator(parse_window), PlainSerializer(dump_window)] = (
        Duration("28d")
    )
    timezone: str = "UTC"  # IANA zone calendar windows align in
    budgeting: Budgeting = "occurrences"
    timeslice: Timeslice | None = None
    indicator: Indicator | None = None
    description: str = ""

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return check_timezone(value)

    @model_validator(mode="after")
    def _consistent(self) -> Slo:
        counted = self.indicator is not None and self.indicator.histogram is None
        if self.sli == "latency" and self.threshold_ms is None and not counted:
            # a good/total indicator counts the good events itself; otherwise the
            # threshold decides which requests (or histogram buckets) are good
            raise ValueError("a latency SLO needs threshold_ms")
        if self.sli == "availability" and self.threshold_ms is not None:
            raise ValueError("threshold_ms only applies to latency SLOs")
        if self.sli == "availability" and self.threshold_op != "le":
            raise ValueError("threshold_op only applies to latency SLOs")
        if self.budgeting == "timeslices" and (
            self.timeslice is None or self.timeslice.target is None
        ):
            raise ValueError("timeslices budgeting needs `timeslice: {length: 1m, target: 0.95}`")
        if self.budgeting == "ratio_timeslices":
            if self.timeslice is None:
                raise ValueError("ratio_timeslices budgeting needs `timeslice: {length: 1m}`")
            if self.timeslice.target is not None:
                raise ValueError(
                    "timeslice.target applies only to timeslices budgeting (ratio_timeslices "
                    "averages the slices' ratios)"
                )
        if self.budgeting == "occurrences" and self.timeslice is not None:
            raise ValueError("timeslice applies only to timeslices or ratio_timeslices budgeting")
        if self.sli == "availability" and self.indicator and self.indicator.histogram:
            raise ValueError("a histogram indicator is for latency SLOs")
        return self

    @property
    def environment(self) -> str:
        return self.filter.environment or "production"

    @property
    def window_seconds(self) -> int | None:
        """Length of a rolling window; None for calendar windows."""
        return self.window.seconds_total if isinstance(self.window, Duration) else None

    @property
    def window_text(self) -> str:
        """The window as written in slos.yaml (`28d`, `calendar_month`, `calendar 1M from ...`)."""
        return str(self.window)

    @property
    def window_timezone(self) -> str:
        """The zone a calendar window aligns in: its own `timezone`, else the SLO's."""
        if isinstance(self.window, Duration) or self.window.timezone is None:
            return self.timezone
        return self.window.timezone


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
    # where the decision log lives (SQLAlchemy URL, `${ENV}` allowed); default: an SQLite file
    # beside the snapshots (docs/governance.md); PILOTWATCH_AUDIT_URL overrides it
    audit_url: str | None = None


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


AccessRole = Literal["viewer", "approver", "admin"]


class AccessRule(Strict):
    """Who gets a role, over which initiatives (docs/governance.md, roles and scopes).

    An identity matches when its ID-token e-mail is in `emails` (case-insensitive) or one of its
    group claims is in `groups`. `initiatives` is `"*"` (all) or a list of initiative ids.
    """

    role: AccessRole
    emails: list[str] = Field(default_factory=list)
    groups: list[str] = Field(default_factory=list)
    initiatives: Literal["*"] | list[str] = "*"

    @model_validator(mode="after")
    def _someone(self) -> AccessRule:
        if not self.emails and not self.groups:
            raise ValueError("a rule needs `emails` or `groups`")
        return self


class Access(Strict):
    """config/access.yaml: claims -> roles. Empty means nobody signs in (local demo mode)."""

    # the ID-token claim holding the identity's groups (Entra ID, Okta and Keycloak differ)
    groups_claim: str = "groups"
    rules: list[AccessRule] = Field(default_factory=list)
    # the identity the CLI (`pilotwatch decide`, `report`) acts as; its role comes from `rules`
    service_identity: str | None = None


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
    access: Access = Field(default_factory=Access)
    root: str = "."

    def initiative(self, initiative_id: str) -> Initiative:
        for item in self.initiatives:
            if item.id == initiative_id:
                return item
        raise KeyError(initiative_id)
