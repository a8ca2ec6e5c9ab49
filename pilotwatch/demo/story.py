"""The demo portfolio's story: each initiative's traffic and degraded episodes, relative to T.

Also the record types shared by the demo modules. docs/demo.md tells the same story in prose;
keep the two in step. Initiative ids refer to config/initiatives.yaml; a profile whose
initiative the config does not define is simply not generated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta


@dataclass(frozen=True)
class Operation:
    """One low-cardinality route with its share of traffic and lognormal latency."""

    name: str
    share: float
    median_ms: float
    sigma: float
    kind: str = "GET"  # GET, POST, DELETE, or RPC (a gRPC span: no HTTP status code)


@dataclass(frozen=True)
class Episode:
    """A degraded interval [start, end): extra server errors and/or slow requests."""

    start: datetime
    end: datetime
    error_rate: float = 0.0
    slow_rate: float = 0.0


@dataclass(frozen=True)
class Traffic:
    """How one initiative's production requests look over the 90 days."""

    initiative: str
    service: str
    per_day: float  # production requests per day at scale 1
    operations: tuple[Operation, ...]
    error_rate: float  # baseline share of server errors
    slow_rate: float  # baseline share of requests slowed down by SLOW_FACTOR
    night: float  # traffic at the quietest hour relative to the busiest one (diurnal curve)
    weekend: float = 1.0  # weekend traffic relative to weekdays
    episodes: tuple[Episode, ...] = ()
    staging_share: float = 0.0  # extra share of rows sent from the staging environment
    scaled: bool = True  # False: volume stays fixed whatever --scale says (low-traffic story)
    ends: datetime | None = None  # the feed stops here (the stale device feed)
    feed: str = "requests"  # output folder under the demo directory


@dataclass(frozen=True)
class Deployment:
    deploy_id: str
    initiative: str
    environment: str
    finished_at: datetime
    status: str
    commit_at: datetime | None
    version: str


@dataclass(frozen=True)
class Incident:
    incident_id: str
    initiative: str
    severity: int
    opened_at: datetime
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    deploy_id: str | None
    patient_impact: bool
    title: str


SLOW_FACTOR = 8.0  # a "slow" request takes this many times its normal duration
TIMEOUT_SHARE = 0.25  # share of server errors that are timeouts (30 s) rather than fast failures


def at(as_of: datetime, day: int, clock: str) -> datetime:
    """The instant `clock` (HH:MM UTC) on the date `day` days from T's date."""
    hours, minutes = (int(x) for x in clock.split(":"))
    midnight = datetime.combine(as_of.date(), time(0), tzinfo=as_of.tzinfo)
    return midnight + timedelta(days=day, hours=hours, minutes=minutes)


def traffic(as_of: datetime) -> list[Traffic]:
    """Request profiles per initiative (discharge-chatbot has none: no telemetry yet)."""
    t = as_of

    def ago(minutes: int) -> datetime:
        return t - timedelta(minutes=minutes)

    return [
        Traffic(
            "self-scheduling",
            "scheduling-api",
            9_000,
            (
                Operation("GET /slots", 0.55, 140, 0.45),
                Operation("POST /appointments", 0.20, 260, 0.40, "POST"),
                Operation("GET /appointments/{id}", 0.15, 80, 0.40),
                Operation("DELETE /appointments/{id}", 0.05, 120, 0.40, "DELETE"),
                Operation("GET /providers", 0.05, 60, 0.35),
            ),
            error_rate=0.0002,
            slow_rate=0.001,
            night=0.06,
            weekend=0.55,
            episodes=(Episode(at(t, -40, "15:10"), at(t, -40, "15:45"), 0.08, 0.20),),
            staging_share=0.004,
        ),
        Traffic(
            "e-prescribing",
            "erx-gateway",
            6_000,
            (
                Operation("POST /prescriptions", 0.50, 420, 0.40, "POST"),
                Operation("GET /formulary", 0.30, 150, 0.40),
                Operation("GET /medication-history", 0.20, 380, 0.45),
            ),
            error_rate=0.0003,
            slow_rate=0.001,
            night=0.05,
            weekend=0.5,
            episodes=(
                Episode(at(t, -12, "14:00"), at(t, -12, "17:10"), error_rate=0.55),
                Episode(at(t, -20, "09:30"), at(t, -20, "13:30"), error_rate=0.04),
                Episode(at(t, -55, "15:00"), at(t, -55, "17:00"), slow_rate=0.20),
            ),
        ),
        Traffic(
            "virtual-triage",
            "triage-api",
            4_000,
            (
                Operation("POST /triage/intake", 0.35, 300, 0.40, "POST"),
                Operation("GET /triage/queue", 0.40, 90, 0.40),
                Operation("POST /triage/disposition", 0.15, 250, 0.40, "POST"),
                Operation("POST /video/session", 0.10, 600, 0.35, "POST"),
            ),
            error_rate=0.0012,
            slow_rate=0.0005,
            night=0.3,
            episodes=(
                Episode(at(t, -33, "09:00"), at(t, -33, "12:00"), error_rate=0.03),
                Episode(at(t, -70, "03:00"), at(t, -70, "08:00"), error_rate=0.01),
                # the burn-rate page: errors climbing over the last two hours before T
                Episode(ago(120), ago(5), error_rate=0.25),
                Episode(ago(5), t, error_rate=0.5),
            ),
            staging_share=0.004,
        ),
        Traffic(
            "remote-bp",
            "bp-ingest",
            3_000,
            (
                Operation("POST /readings", 0.80, 110, 0.40, "POST"),
                Operation("GET /patients/{id}/readings", 0.20, 160, 0.40),
            ),
            error_rate=0.0002,
            slow_rate=0.002,
            night=0.25,
            # slow burn: the cuff vendor's gateway slows ingestion over the last three days
            episodes=(Episode(at(t, -3, "12:00"), t, slow_rate=0.02),),
        ),
        Traffic(
            "sepsis-ews",
            "sepsis-scorer",
            1_500,
            (
                Operation("POST /v1/score", 0.80, 350, 0.40, "POST"),
                Operation("GET /v1/model/health", 0.20, 15, 0.30),
            ),
            error_rate=0.0008,
            slow_rate=0.001,
            night=0.9,
            episodes=(Episode(at(t, -17, "16:50"), at(t, -17, "22:10"), slow_rate=0.35),),
        ),
        Traffic(
            "hah-telemetry",
            "hah-gateway",
            1_400,
            (
                Operation("Ingest/PushVitals", 0.85, 90, 0.45, "RPC"),
                Operation("Ingest/Heartbeat", 0.15, 20, 0.35, "RPC"),
            ),
            error_rate=0.001,
            slow_rate=0.001,
            night=0.85,
            episodes=(Episode(at(t, -30, "06:00"), at(t, -30, "12:00"), error_rate=0.02),),
            ends=at(t, -3, "08:00"),
            feed="device-telemetry",
        ),
        Traffic(
            "prior-auth",
            "pa-service",
            24,
            (
                Operation("POST /pa/submit", 0.5, 1000, 0.6, "POST"),
                Operation("GET /pa/status", 0.5, 400, 0.5),
            ),
            error_rate=0.025,
            slow_rate=0.0,
            night=0.05,
            weekend=0.3,
            scaled=False,
        ),
    ]
