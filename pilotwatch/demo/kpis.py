"""Demo KPI observations: a history per KPI ending at the value the story needs.

Targets, directions and baselines come from config/initiatives.yaml; the plans below only say
where each KPI stands now. A KPI with no plan gets no observations (status `no_data`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from core.models import Initiative


@dataclass(frozen=True)
class KpiPlan:
    """Where a KPI stands at T. Count-based when `denominator` is set."""

    initiative: str
    kpi: str
    cadence: str  # monthly (period_end = 1st of the next month) or weekly (Mondays)
    latest: float  # the latest value (a rate for count-based KPIs)
    denominator: int | None = None
    numerator: int | None = None  # force the latest numerator (small cells)
    periods: int = 6


PLANS: tuple[KpiPlan, ...] = (
    # Patient self-scheduling: every KPI on track.
    KpiPlan("self-scheduling", "online_booking_share", "monthly", 0.386, denominator=14_020),
    KpiPlan("self-scheduling", "no_show_rate", "monthly", 0.0738, denominator=13_610),
    KpiPlan("self-scheduling", "call_center_minutes_saved", "monthly", 24_100),
    # E-prescribing: transmission errors off track (2 of 3 on track).
    KpiPlan("e-prescribing", "transmission_error_rate", "monthly", 0.011),
    KpiPlan("e-prescribing", "pharmacy_callbacks_per_1000", "monthly", 12.5),
    KpiPlan("e-prescribing", "electronic_prescribing_share", "monthly", 0.934, denominator=44_100),
    # Virtual nursing triage: ED diversion below target.
    KpiPlan("virtual-triage", "time_to_disposition_minutes", "weekly", 13.2, periods=12),
    KpiPlan("virtual-triage", "ed_diversion_rate", "monthly", 0.209, denominator=1_480),
    KpiPlan("virtual-triage", "nurse_hours_saved", "monthly", 455),
    # Remote BP: enrolment behind plan; ED visits are a small cell (7 of 690): suppressed.
    KpiPlan("remote-bp", "bp_controlled_share", "monthly", 0.606, denominator=680),
    KpiPlan("remote-bp", "enrolled_patients", "monthly", 690),
    KpiPlan("remote-bp", "readings_per_patient_week", "weekly", 4.6, periods=12),
    KpiPlan(
        "remote-bp", "hypertensive_ed_visit_rate", "monthly", 0.01, denominator=690, numerator=7
    ),
    # Sepsis model: mortality suppressed (4 of 38); only acknowledgement on track (1 of 3).
    KpiPlan("sepsis-ews", "time_to_antibiotics_minutes", "monthly", 72),
    KpiPlan("sepsis-ews", "sepsis_mortality_rate", "monthly", 0.105, denominator=38, numerator=4),
    KpiPlan("sepsis-ews", "alert_ppv", "monthly", 0.22, denominator=200),
    KpiPlan("sepsis-ews", "alert_acknowledged_15min_share", "monthly", 0.90, denominator=190),
    # Hospital at home: readmissions suppressed by the denominator rule (0 of 9 patients).
    KpiPlan("hah-telemetry", "device_uptime_share", "weekly", 0.985, periods=12),
    KpiPlan("hah-telemetry", "readmission_30d_rate", "monthly", 0.0, denominator=9, numerator=0),
    KpiPlan("hah-telemetry", "bed_days_avoided", "monthly", 96),
    # Prior authorization: auto_approval_rate has never been reported (no_data).
    KpiPlan("prior-auth", "turnaround_hours", "weekly", 40, periods=10),
    KpiPlan("prior-auth", "staff_hours_saved", "monthly", 120, periods=4),
)


def period_ends(cadence: str, as_of: datetime, periods: int) -> list[datetime]:
    """The last `periods` period ends strictly before T, oldest first."""
    if cadence == "weekly":
        monday = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC) - timedelta(
            days=as_of.weekday()
        )
        if monday >= as_of:
            monday -= timedelta(days=7)
        return [monday - timedelta(days=7 * i) for i in reversed(range(periods))]
    year, month = as_of.year, as_of.month
    ends: list[datetime] = []
    while len(ends) < periods:
        first = datetime(year, month, 1, tzinfo=UTC)
        if first < as_of:
            ends.append(first)
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(ends))


def observations(
    initiatives: list[Initiative], as_of: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """kpi_observations rows for every planned KPI that the configuration defines."""
    kpis = {(i.id, k.name): (i, k) for i in initiatives for k in i.kpis}
    rows: list[dict[str, Any]] = []
    for plan in PLANS:
        if (plan.initiative, plan.kpi) not in kpis:
            continue
        initiative, kpi = kpis[(plan.initiative, plan.kpi)]
        start = kpi.baseline if kpi.baseline is not None else plan.latest * 0.8
        ends = [
            e
            for e in period_ends(plan.cadence, as_of, plan.periods)
            if e.date() > initiative.started_on
        ]
        for n, end in enumerate(ends, start=1):
            last = n == len(ends)
            progress = n / len(ends)
            value = start + (plan.latest - start) * progress
            if not last:
                value += rng.gauss(0, 0.04) * abs(plan.latest - start)
            row: dict[str, Any] = {
                "initiative": plan.initiative,
                "kpi": plan.kpi,
                "period_end": end,
            }
            if plan.denominator is None:
                row["value"] = round(value, 4)
            else:
                denominator = (
                    plan.denominator
                    if last
                    else round(plan.denominator * (0.8 + 0.2 * progress) * rng.uniform(0.95, 1.05))
                )
                numerator = round(max(value, 0.0) * denominator)
                if last and plan.numerator is not None:
                    numerator = plan.numerator
                row["numerator"], row["denominator"] = numerator, denominator
            rows.append(row)
    return rows
