"""The demo's deployments and incidents (see docs/demo.md), relative to the as-of T.

Day numbers count from T's date (T = Monday 2026-11-16 12:00 UTC in the shipped config, so
day -40 is Wednesday 2026-10-07). Incidents name the deployment that caused them through
`named`, because deploy ids are only known once the schedule is built.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from pilotwatch.demo.story import Deployment, Incident, at

# one planned production deployment: (finished, status, has a commit, story name or None)
Plan = list[tuple[datetime, str, bool, str | None]]
FAILED_THEN_SUCCESS = "failed_then_success"  # a failed attempt 40 minutes before the success


def _dates(as_of: datetime, weekdays: set[int]) -> list[date]:
    """Dates in the 90 days before T whose weekday (Monday = 0) is in `weekdays`."""
    start = as_of.date() - timedelta(days=90)
    days = (start + timedelta(days=i) for i in range(91))
    return [d for d in days if d.weekday() in weekdays]


class _Deployer:
    """One initiative's production deployments, each preceded by a staging deployment."""

    def __init__(
        self, initiative: str, prefix: str, rng: random.Random, lead_hours: tuple[float, float]
    ) -> None:
        self.initiative, self.prefix, self.rng, self.lead = initiative, prefix, rng, lead_hours
        self.rows: list[Deployment] = []
        self.released = 0

    def _row(
        self,
        environment: str,
        finished: datetime,
        status: str,
        commit: datetime | None,
        version: str,
    ) -> str:
        deploy_id = f"{self.prefix}-{len(self.rows) + 1:04d}"
        self.rows.append(
            Deployment(deploy_id, self.initiative, environment, finished, status, commit, version)
        )
        return deploy_id

    def ship(self, finished: datetime, status: str, has_commit: bool) -> str:
        """Stage, then release one change to production; returns the production deploy_id."""
        version = f"{finished:%Y.%m.%d}.{self.released}"
        self.released += 1
        staged = finished - timedelta(minutes=self.rng.randint(60, 180))
        committed = finished - timedelta(hours=self.rng.uniform(*self.lead))
        commit = min(committed, staged - timedelta(minutes=30)) if has_commit else None
        staging_status = "failed" if self.rng.random() < 0.05 else "success"
        self._row("staging", staged, staging_status, commit, version)
        if status == FAILED_THEN_SUCCESS:
            self._row("production", finished - timedelta(minutes=40), "failed", commit, version)
            status = "success"
        return self._row("production", finished, status, commit, version)


def _clock(day: date, hhmm: str, spread_minutes: int, rng: random.Random) -> datetime:
    """`hhmm` UTC on `day`, plus 0..spread_minutes of jitter."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    start = datetime.combine(day, time(hours, minutes), tzinfo=UTC)
    return start + timedelta(minutes=rng.randint(0, spread_minutes))


def _plans(t: datetime, rng: random.Random) -> dict[tuple[str, str, tuple[float, float]], Plan]:
    """Per (initiative, id prefix, lead-time range in hours): the planned releases."""

    def day(offset: int) -> date:
        return t.date() + timedelta(days=offset)

    def offset(d: date) -> int:
        return (d - t.date()).days

    plans: dict[tuple[str, str, tuple[float, float]], Plan] = {}

    # Patient self-scheduling: every weekday, a second release on Tuesdays and Thursdays.
    plan: Plan = []
    for d in _dates(t, {0, 1, 2, 3, 4}):
        status = {
            -61: "rolled_back",
            -74: FAILED_THEN_SUCCESS,
            -33: FAILED_THEN_SUCCESS,
            -11: FAILED_THEN_SUCCESS,
        }.get(offset(d), "success")
        name = "ss-slot-search" if offset(d) == -40 else None
        plan.append((_clock(d, "13:00", 120, rng), status, rng.random() > 0.1, name))
        if d.weekday() in (1, 3):
            plan.append((_clock(d, "16:00", 60, rng), "success", True, None))
    for o in (-23, -51):  # Saturday hotfixes
        plan.append((_clock(day(o), "10:00", 60, rng), "success", True, None))
    plans[("self-scheduling", "ss", (2, 18))] = plan

    # E-prescribing: weekly Wednesday releases plus a few extras; a rough quarter.
    plan = []
    for d in _dates(t, {2}):
        o = offset(d)
        when = at(t, -12, "13:20") if o == -12 else _clock(d, "16:00", 60, rng)
        status = "rolled_back" if o == -68 else "success"
        plan.append((when, status, o != -33, "erx-gateway-release" if o == -12 else None))
    plan.append((at(t, -21, "18:00"), "success", True, None))  # config change before INC-2101
    plan.append((at(t, -47, "16:30"), "rolled_back", True, None))
    plan.append((at(t, -82, "16:30"), "success", False, None))
    plans[("e-prescribing", "erx", (48, 120))] = plan

    # Virtual nursing triage: Tuesday and Thursday evenings.
    plan = []
    for d in _dates(t, {1, 3}):
        status = "rolled_back" if offset(d) == -46 else "success"
        name = "vt-video" if offset(d) == -34 else None
        plan.append((_clock(d, "17:00", 60, rng), status, True, name))
    plans[("virtual-triage", "vt", (24, 96))] = plan

    # Remote BP: seven releases in the quarter after slow reviews (lead time about two weeks).
    plan = [
        (_clock(day(o), "15:00", 60, rng), "rolled_back" if o == -59 else "success", True, None)
        for o in (-87, -73, -59, -45, -24, -5, -3)
    ]
    plans[("remote-bp", "rbp", (8 * 24, 20 * 24))] = plan

    # Sepsis model: three model releases (too few for DORA levels).
    plan = [
        (at(t, -70, "14:00"), "success", True, None),
        (at(t, -40, "14:00"), FAILED_THEN_SUCCESS, True, None),
        (at(t, -17, "14:00"), "success", True, "sep-model-1.4"),
    ]
    plans[("sepsis-ews", "sep", (72, 240))] = plan

    # Hospital-at-home gateway: every two weeks.
    plan = [
        (_clock(day(o), "16:00", 30, rng), "success", True, None)
        for o in (-82, -68, -54, -40, -26, -12)
    ]
    plans[("hah-telemetry", "hah", (72, 144))] = plan

    # Prior authorization: one vendor drop, five deployments in nine days, long-lived branch.
    plan = []
    for o in (-72, -71, -69, -66, -64):
        status = "rolled_back" if o in (-71, -66) else "success"
        name = "pa-vendor-drop" if o == -69 else None
        plan.append((_clock(day(o), "18:00", 30, rng), status, True, name))
    plans[("prior-auth", "pa", (35 * 24, 60 * 24))] = plan
    return plans


def deployments(as_of: datetime, rng: random.Random) -> tuple[list[Deployment], dict[str, str]]:
    """Every deployment of the story, and the deploy ids that incidents refer to by name."""
    first = as_of - timedelta(days=90)
    named: dict[str, str] = {}
    out: list[Deployment] = []
    for (initiative, prefix, lead), plan in _plans(as_of, rng).items():
        deployer = _Deployer(initiative, prefix, rng, lead)
        for finished, status, has_commit, name in sorted(plan, key=lambda p: p[0]):
            if first <= finished < as_of:
                deploy_id = deployer.ship(finished, status, has_commit)
                if name:
                    named[name] = deploy_id
        out.extend(deployer.rows)
    return out, named


def incidents(as_of: datetime, named: dict[str, str]) -> list[Incident]:
    """Every incident of the story; `named` maps story names to generated deploy ids."""
    t = as_of

    def on(day: int, hhmm: str) -> datetime:
        return at(t, day, hhmm)

    def m(minutes: float) -> timedelta:
        return timedelta(minutes=minutes)

    def h(hours: float) -> timedelta:
        return timedelta(hours=hours)

    ss, erx, vt = (
        named.get("ss-slot-search"),
        named.get("erx-gateway-release"),
        named.get("vt-video"),
    )
    sep, pa = named.get("sep-model-1.4"), named.get("pa-vendor-drop")
    # id, initiative, severity, opened, to acknowledge, to resolve, deploy_id, patient impact,
    # title.  None for "to acknowledge" / "to resolve" means not (yet) done.
    # fmt: off
    rows = [
        # Patient self-scheduling: small, quickly fixed, mostly tied to releases.
        ("INC-2041", "self-scheduling", 3, on(-40, "15:12"), m(4), m(38), ss, False,
         "Slot search timing out after release"),
        ("INC-2107", "self-scheduling", 4, on(-18, "19:05"), m(9), m(50), None, False,
         "Appointment reminder texts delayed"),
        ("INC-2088", "self-scheduling", 4, on(-29, "10:20"), m(6), m(30), None, False,
         "Provider photos not loading from the CDN"),
        # E-prescribing: the outage that breached the availability SLO, and slow recoveries.
        ("INC-2139", "e-prescribing", 1, on(-12, "14:06"), m(5), m(189), erx, False,
         "Pharmacy network gateway rejecting new prescriptions"),
        ("INC-2101", "e-prescribing", 2, on(-20, "09:30"), m(12), h(30), None, False,
         "Formulary lookups failing for one pharmacy benefit manager"),
        ("INC-1977", "e-prescribing", 3, on(-55, "15:00"), m(20), h(50), None, False,
         "Medication history queries slow"),
        ("INC-1811", "e-prescribing", 3, on(-100, "11:00"), m(15), h(70), None, False,
         "Duplicate refill requests from one pharmacy chain"),
        # Virtual nursing triage: the page firing right now, plus two older ones.
        ("INC-2188", "virtual-triage", 3, t - m(113), m(9), None, None, False,
         "Elevated server errors on triage intake (burn-rate page)"),
        ("INC-2052", "virtual-triage", 3, on(-33, "09:00"), m(7), h(3), vt, False,
         "Video visits dropping after release"),
        ("INC-1934", "virtual-triage", 4, on(-70, "03:00"), m(25), h(5), None, False,
         "Interpreter service unavailable overnight"),
        # Remote BP: an open severity 2 that blocks the production gate.
        ("INC-2176", "remote-bp", 2, on(-1, "09:40"), m(12), None, None, False,
         "Cuff vendor gateway delaying blood-pressure readings by up to 40 minutes"),
        # Sepsis model: the patient-impacting incident after a model release.
        ("INC-2113", "sepsis-ews", 2, on(-17, "17:10"), m(4), h(5), sep, True,
         "Scores delayed up to 40 minutes after a model release; two alerts late"),
        # Hospital at home: the feed stopped and nobody acknowledged it.
        ("INC-2160", "hah-telemetry", 3, on(-3, "08:20"), None, None, None, False,
         "Device gateway stopped forwarding readings"),
        ("INC-1990", "hah-telemetry", 3, on(-53, "02:00"), m(25), h(40), None, False,
         "Pulse-oximeter readings duplicated after gateway update"),
        ("INC-2079", "hah-telemetry", 4, on(-30, "06:00"), h(2), h(20), None, False,
         "Cellular carrier outage in one county"),
        # Prior authorization: a nine-day fix and an open low-severity issue.
        ("INC-1925", "prior-auth", 3, on(-69, "21:00"), h(3), h(9 * 24), pa, False,
         "Submissions to one payer stuck in pending"),
        ("INC-2150", "prior-auth", 4, on(-8, "10:00"), h(26), None, None, False,
         "Status polling returns stale payer decisions"),
    ]
    # fmt: on
    return [
        Incident(
            incident_id=iid,
            initiative=initiative,
            severity=severity,
            opened_at=opened,
            acknowledged_at=None if ack is None else opened + ack,
            resolved_at=None if resolved is None else opened + resolved,
            deploy_id=deploy_id,
            patient_impact=impact,
            title=title,
        )
        for iid, initiative, severity, opened, ack, resolved, deploy_id, impact, title in rows
    ]
