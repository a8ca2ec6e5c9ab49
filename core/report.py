"""The schema-1 report as typed records, every section and row a model (docs/metrics.md,
"The report (JSON)"). The JSON that `pilotwatch report --json` writes is this model dumped
in field order; the JSON Schema in pilotwatch/schema/report.schema.json is generated from it.

Instants are `datetime` here and `...Z` text in JSON; numbers that are undefined are `None`
(JSON null). Fields marked as gate metrics are the paths a gate check may name (GATE_METRICS).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from core.enums import (
    AlertSeverity,
    Budgeting,
    CheckOutcome,
    ControlStatus,
    Direction,
    DoraLevel,
    Gate,
    KpiKind,
    KpiStatus,
    Op,
    SliType,
    SloStatus,
    Stage,
    Verdict,
)

SCHEMA_VERSION: Literal[1] = 1
GATE_KEY = "x-gate-metric"


def iso(value: datetime) -> str:
    """ISO 8601 UTC with `Z` (fractional seconds only when present)."""
    value = value.astimezone(UTC)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond:06d}".rstrip("0")
    return text + "Z"


# An instant: a datetime in Python, `2026-11-16T12:00:00Z` in JSON.
Instant = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": "Z$"}),
]
# T is truncated to the minute (docs/metrics.md, "Time, in one paragraph").
AsOf = Annotated[
    datetime,
    PlainSerializer(iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:00Z$"}),
]
Count = Annotated[int, Field(ge=0)]
Share = Annotated[float, Field(ge=0, le=1)]


def gate_metric(description: str) -> Any:
    """A field a gate check may address as `<section>.<field>`."""
    return Field(description=description, json_schema_extra={GATE_KEY: True})


class Row(BaseModel):
    """Base of every report record: immutable, no unknown fields, JSON keys by alias."""

    # forbid: a typo in the builder fails loudly; the schema still allows added fields, the
    # report's compatibility promise (docs/metrics.md, "The report (JSON)")
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        json_schema_extra={"additionalProperties": True},
    )


class Blocker(Row):
    """A blocking check that failed, with what to do about it."""

    check: str
    remediation: str


class CheckWaiver(Row):
    """The active waiver that turned a failed check into `waived`."""

    reason: str
    approver: str
    expires_on: Instant


class Check(Row):
    """One gate check of the initiative's gate, evaluated at T."""

    id: str
    metric: str
    value: float | None
    op: Op
    threshold: float | None
    outcome: CheckOutcome
    blocking: bool
    weight: float
    dimension: str
    remediation: str
    owner: str | None
    waiver: CheckWaiver | None


class Readiness(Row):
    """The gate verdict, its score (0..100, null when nothing was scored) and its checks."""

    verdict: Verdict
    score: Annotated[float, Field(ge=0, le=100)] | None
    blockers: list[Blocker]
    blocker_count: Count
    checks: list[Check]


class Alert(Row):
    """A multiwindow burn-rate alert that fires at T."""

    severity: AlertSeverity
    long: str
    short: str


class BurnRates(Row):
    """Burn rate per window (error rate / allowed error rate); null without events."""

    # exactly the seven windows, no others
    model_config = ConfigDict(json_schema_extra={"additionalProperties": False})

    m5: float | None = Field(alias="5m")
    m30: float | None = Field(alias="30m")
    h1: float | None = Field(alias="1h")
    h2: float | None = Field(alias="2h")
    h6: float | None = Field(alias="6h")
    d1: float | None = Field(alias="1d")
    d3: float | None = Field(alias="3d")

    @classmethod
    def windows(cls) -> list[str]:
        """The windows in report order (`5m` ... `3d`)."""
        return [f.alias or name for name, f in cls.model_fields.items()]

    def rate(self, window: str) -> float | None:
        """The burn rate over `window` (`5m` ... `3d`)."""
        value: float | None = self.model_dump(by_alias=True)[window]
        return value


class SloEntry(Row):
    """One SLO at T: counts, SLI, error budget, burn rates and firing alerts.

    `good` is null for ratio_timeslices (its SLI is a mean of slice ratios, docs/metrics.md).
    The fields after `low_traffic` were added later; their defaults let older JSON read back,
    and the schema still lists them as always present.
    """

    # added fields have defaults, yet the builder always writes them: required in the schema
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    name: str
    sli_type: SliType
    target: Annotated[float, Field(gt=0, lt=1)]
    window: str
    budgeting: Budgeting
    good: Count | None
    total: Count
    sli: Share | None
    budget_remaining: float | None
    budget_consumed: float | None
    burn_rates: BurnRates
    alerts: list[Alert]
    status: SloStatus
    one_bad_event_budget_share: float | None
    low_traffic: bool
    timezone: str = Field(
        default="UTC", description="The IANA zone a calendar window aligns in (rolling: the SLO's)"
    )
    threshold_ms: float | None = Field(
        default=None, description="Latency threshold; null for availability or an indicator"
    )
    threshold_op: Literal["le", "lt"] | None = Field(
        default=None, description="le: good when duration <= threshold; lt: when <; null without"
    )
    estimate: bool = Field(
        default=False,
        description="True when any bucket counted (window or burn windows) is an estimate",
    )


class SloSummary(Row):
    """The initiative's SLOs in three numbers."""

    defined: Count = gate_metric("SLOs defined for the initiative")
    breached: Count = gate_metric("SLOs breached at T")
    min_budget_remaining: float | None = gate_metric("Lowest budget remaining of its SLOs")


class DoraLevels(Row):
    """The DORA level of each delivery metric."""

    frequency: DoraLevel | None
    lead_time: DoraLevel | None
    change_failure: DoraLevel | None
    recovery: DoraLevel | None


class DeliveryCounts(Row):
    """The n behind each delivery value."""

    deployments: int | None
    failed_deployments: int | None
    lead_time: int | None
    recovery: int | None


class Delivery(Row):
    """The DORA block over the delivery window, with levels and the n behind each value."""

    deployments: Count | None = gate_metric("Production deployments in the window")
    deployment_frequency_per_day: float | None = gate_metric("Deployments per day")
    deploy_days_per_week_median: float | None = gate_metric("Median deploy days per week")
    deploy_days_per_month_median: float | None = gate_metric("Median deploy days per 30 days")
    lead_time_hours_median: float | None = gate_metric("Median commit-to-production hours")
    change_failure_rate: Share | None = gate_metric("Failed deployments / deployments")
    recovery_time_hours_median: float | None = gate_metric("Median hours to restore service")
    unlinked_incidents: Count | None = gate_metric("Incidents not linked to a deployment")
    levels: DoraLevels
    n: DeliveryCounts


class OpenBySeverity(Row):
    """Incidents open at T per severity (1 is the most severe)."""

    sev1: Count = Field(alias="1")
    sev2: Count = Field(alias="2")
    sev3: Count = Field(alias="3")
    sev4: Count = Field(alias="4")


class Incidents(Row):
    """Open incidents by severity, MTTA, MTTR and patient impact."""

    open_by_severity: OpenBySeverity
    open_sev12: Count = gate_metric("Severity 1-2 incidents open at T")
    mtta_minutes: float | None = gate_metric("Mean minutes to acknowledge")
    mttr_hours: float | None = gate_metric("Mean hours to resolve")
    patient_impacting: Count = gate_metric("Patient-impacting incidents in the window")


class Outcome(Row):
    """One KPI's latest value before T; a suppressed (small-cell) value is null."""

    kpi: str
    kind: KpiKind
    value: float | None
    target: float | None
    baseline: float | None
    unit: str
    direction: Direction
    status: KpiStatus
    period_end: Instant | None


class OutcomesSummary(Row):
    """The share of rated KPIs that are on track."""

    on_track_share: Share | None = gate_metric("On-track KPIs / rated KPIs")


class Gap(Row):
    """A required control in a gap status."""

    control: str
    status: ControlStatus


class Expiring(Row):
    """A control whose evidence expires soon."""

    control: str
    expires_at: Instant | None


class Compliance(Row):
    """Required controls, coverage, gaps and expiring evidence."""

    required: Count = gate_metric("Controls required of the initiative")
    coverage: Share | None = gate_metric("Share of required controls satisfied")
    gap_count: Count = gate_metric("Required controls in a gap status")
    expiring_count: Count
    gaps: list[Gap]
    expiring: list[Expiring]


class DataHealth(Row):
    """Stale sources among the sources that serve the initiative."""

    stale_sources: Count = gate_metric("Stale sources serving the initiative")
    sources: list[str]


class InitiativeReport(Row):
    """Everything the report says about one initiative."""

    id: str
    name: str
    stage: Stage
    gate: Gate
    owner: str
    sponsor: str
    clinical_area: str
    readiness: Readiness
    slos: list[SloEntry]
    slo_summary: SloSummary
    delivery: Delivery
    incidents: Incidents
    outcomes: list[Outcome]
    outcomes_summary: OutcomesSummary
    compliance: Compliance
    data: DataHealth


class SourceEntry(Row):
    """One enabled source: its newest row before T and whether it is stale."""

    source: str
    newest: Instant | None
    freshness_seconds: int
    stale: bool
    serves: list[str]


class Report(Row):
    """pilotwatch report, schema version 1."""

    schema_version: Literal[1] = Field(default=SCHEMA_VERSION, alias="schema")
    as_of: AsOf
    initiatives: list[InitiativeReport]
    sources: list[SourceEntry]

    def initiative(self, iid: str) -> InitiativeReport | None:
        """The block of initiative `iid`, or None."""
        return next((i for i in self.initiatives if i.id == iid), None)

    def to_jsonable(self) -> dict[str, Any]:
        """The report as JSON-ready dicts and lists, keys in report order."""
        return self.model_dump(mode="json", by_alias=True)


def _gate_metrics() -> dict[str, tuple[str, str]]:
    """`<section>.<field>` -> (section, field) for every field marked with `gate_metric`."""
    out: dict[str, tuple[str, str]] = {}
    for section, info in InitiativeReport.model_fields.items():
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            continue
        for name, field in model.model_fields.items():
            extra = field.json_schema_extra
            if isinstance(extra, dict) and extra.get(GATE_KEY):
                out[f"{section}.{name}"] = (section, name)
    return out


# The metric paths a gate check may name, and the summary frame and column each reads
# (docs/metrics.md, "Gate metrics"): the one vocabulary of config, readiness and docs.
GATE_METRICS: dict[str, tuple[str, str]] = _gate_metrics()
