"""Every status word the report uses, one enum each (docs/metrics.md defines them).

`StrEnum`, so a member compares equal to its string and the JSON keeps the same words.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    """An initiative's lifecycle stage, in order."""

    DISCOVERY = "discovery"
    PILOT = "pilot"
    LIMITED_PRODUCTION = "limited_production"
    PRODUCTION = "production"


class Gate(StrEnum):
    """The stage gate an initiative must pass next."""

    PILOT = "pilot"
    LIMITED_PRODUCTION = "limited_production"
    PRODUCTION = "production"


class Verdict(StrEnum):
    """The gate verdict of one initiative."""

    GO = "go"
    CONDITIONAL = "conditional"
    NO_GO = "no_go"


class CheckOutcome(StrEnum):
    """The outcome of one gate check."""

    PASS = "pass"  # noqa: S105 (an outcome word, not a secret)
    FAIL = "fail"
    INSUFFICIENT_DATA = "insufficient_data"
    WAIVED = "waived"


class Op(StrEnum):
    """A gate check's comparison."""

    GE = ">="
    LE = "<="
    EQ = "=="
    NE = "!="
    GT = ">"
    LT = "<"


class SliType(StrEnum):
    """What an SLO's indicator counts."""

    AVAILABILITY = "availability"
    LATENCY = "latency"


class Budgeting(StrEnum):
    """How an SLO's error budget counts: events, good time slices, or the mean slice ratio."""

    OCCURRENCES = "occurrences"
    TIMESLICES = "timeslices"
    RATIO_TIMESLICES = "ratio_timeslices"


class SloStatus(StrEnum):
    """An SLO's state at T."""

    NO_DATA = "no_data"
    BREACHED = "breached"
    AT_RISK = "at_risk"
    HEALTHY = "healthy"


class AlertSeverity(StrEnum):
    """A multiwindow burn-rate alert's severity."""

    PAGE = "page"
    TICKET = "ticket"


class DoraLevel(StrEnum):
    """A DORA performance level of one delivery metric."""

    ELITE = "elite"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INSUFFICIENT_DATA = "insufficient_data"


class KpiKind(StrEnum):
    """The family of an outcome KPI."""

    CLINICAL = "clinical"
    OPERATIONAL = "operational"
    FINANCIAL = "financial"
    ADOPTION = "adoption"


class Direction(StrEnum):
    """Which way a KPI improves."""

    HIGHER = "higher"
    LOWER = "lower"


class KpiStatus(StrEnum):
    """A KPI's state at T (suppressed: a small cell, value withheld)."""

    ON_TRACK = "on_track"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"
    SUPPRESSED = "suppressed"


class ControlStatus(StrEnum):
    """A compliance control's state at T; the first four are gaps."""

    MISSING = "missing"
    FAILING = "failing"
    NA_UNJUSTIFIED = "na_unjustified"
    EXPIRED = "expired"
    NOT_APPLICABLE = "not_applicable"
    OK = "ok"


GAP_STATUSES: tuple[ControlStatus, ...] = (
    ControlStatus.MISSING,
    ControlStatus.FAILING,
    ControlStatus.NA_UNJUSTIFIED,
    ControlStatus.EXPIRED,
)
