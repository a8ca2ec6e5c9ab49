"""Demo compliance evidence: every required control passes unless the story says otherwise.

Which controls an initiative needs comes from config/controls.yaml (`required_from` up to the
initiative's gate); their `max_age_days` decide how old a pass may be. The exceptions below
produce each compliance status of docs/metrics.md.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta
from typing import Any

from core.models import STAGES, Control, Initiative

# (initiative, control) -> what the latest evidence shows
EXCEPTIONS: dict[tuple[str, str], str] = {
    ("sepsis-ews", "hipaa-308a1-risk-analysis"): "expiring",  # by max_age_days, in 20 days
    ("self-scheduling", "hipaa-312e-encryption"): "expiring_at",  # certificate, in 12 days
    ("virtual-triage", "product-tested-backups"): "expiring",
    ("virtual-triage", "product-dr-drill"): "expired_age",  # the waived gap
    ("e-prescribing", "hipaa-312b-audit-controls"): "failing",
    ("e-prescribing", "hipaa-308a8-evaluation"): "expired_at",
    ("e-prescribing", "product-dr-drill"): "missing",
    ("e-prescribing", "hipaa-308a7-emergency-mode-plan"): "missing",
    ("hah-telemetry", "hipaa-310d-accountability"): "missing",
    ("hah-telemetry", "hipaa-310d-media-reuse"): "missing",
    ("hah-telemetry", "product-tested-backups"): "missing",
    ("hah-telemetry", "product-oncall-runbooks"): "missing",
    ("prior-auth", "hipaa-312a-automatic-logoff"): "na_unjustified",
    ("prior-auth", "product-role-based-access"): "failing",
    ("remote-bp", "hipaa-312b-audit-controls"): "fixed",  # an old fail superseded by a pass
    ("self-scheduling", "hipaa-310d-backup-storage"): "not_applicable",
}

JUSTIFICATIONS: dict[str, str] = {
    "hipaa-308a4-clearinghouse-isolation": (
        "The organization does not operate a health care clearinghouse; no clearinghouse "
        "functions exist in this initiative."
    ),
    "hipaa-314b-group-health-plans": (
        "Not a group health plan; the initiative receives no plan sponsor information."
    ),
    "hipaa-310d-backup-storage": (
        "No workstation or device used by this initiative stores ePHI; all data stays in the "
        "hosted database, whose backups are covered by product-tested-backups."
    ),
}

_OWNERS = {
    "administrative": "Security Office",
    "physical": "IT Operations",
    "organizational": "Legal and Contracts",
}
_CONTRACT_CONTROLS = (
    "hipaa-308b-ba-contracts",
    "hipaa-314a-ba-contract-terms",
    "product-baa-each-vendor",
)


def required(initiative: Initiative, controls: list[Control]) -> list[Control]:
    """Controls the initiative's gate requires (required_from at or before the gate stage)."""
    gate = STAGES.index(initiative.gate)
    return [c for c in controls if STAGES.index(c.required_from) <= gate]


class _Rows:
    """Evidence rows for one (initiative, control); days are counted back from T's date."""

    def __init__(
        self, initiative: Initiative, control: Control, as_of: datetime, rng: random.Random
    ) -> None:
        self.initiative, self.control, self.rng = initiative, control, rng
        self.midnight = datetime.combine(as_of.date(), time(0), tzinfo=UTC)
        self.rows: list[dict[str, Any]] = []

    def add(
        self,
        status: str,
        days_ago: int,
        expires_in: int | None = None,
        justification: str | None = None,
        ref: str = "",
    ) -> None:
        # collected during the working day in the eastern US (14:00-20:00 UTC)
        collected = self.midnight - timedelta(days=days_ago, minutes=-14 * 60)
        collected += timedelta(minutes=self.rng.randint(0, 360))
        expires = None if expires_in is None else self.midnight + timedelta(days=expires_in)
        self.rows.append(
            {
                "initiative": self.initiative.id,
                "control_id": self.control.id,
                "status": status,
                "collected_at": collected,
                "expires_at": expires,
                "owner": _OWNERS.get(self.control.category, self.initiative.owner),
                "evidence_ref": ref,
                "justification": justification,
            }
        )


def evidence(
    initiatives: list[Initiative], controls: list[Control], as_of: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    """evidence rows for every configured initiative the story knows (all but missing ones)."""
    rows: list[dict[str, Any]] = []
    counter = 10_000
    for initiative in initiatives:
        for control in required(initiative, controls):
            kind = EXCEPTIONS.get((initiative.id, control.id))
            if kind is None and control.id in JUSTIFICATIONS:
                kind = "not_applicable"
            if kind == "missing":
                continue
            out = _Rows(initiative, control, as_of, rng)
            age = control.max_age_days
            # evidence starts at most 60 days before the initiative did
            since_start = (as_of.date() - initiative.started_on).days + 60
            fresh = min(rng.randint(3, max(4, age - 45)), since_start)  # expires >= 45 days after T
            older = fresh + rng.randint(age // 2, age)
            if kind in (None, "not_applicable") and rng.random() < 0.5 and older <= since_start:
                out.add("pass", older)  # an older record, superseded
            if kind is None:
                contract = control.id in _CONTRACT_CONTROLS
                out.add("pass", fresh, expires_in=3 * 365 - fresh if contract else None)
            elif kind == "not_applicable":
                out.add("not_applicable", fresh, justification=JUSTIFICATIONS[control.id])
            elif kind == "na_unjustified":
                out.add("not_applicable", 12, justification=None)
            elif kind == "expiring":
                out.add("pass", age - 20)
            elif kind == "expiring_at":
                out.add("pass", 100, expires_in=12)
            elif kind == "expired_age":
                out.add("pass", age + 35)
            elif kind == "expired_at":
                out.add("pass", 200, expires_in=-5)
            elif kind == "failing":
                out.add("pass", 120)
                out.add("fail", 6, ref="finding")
            elif kind == "fixed":
                out.add("fail", 80, ref="finding")
                out.add("pass", 20)
            for row in out.rows:
                counter += 1
                folder = "findings" if row["evidence_ref"] == "finding" else "evidence"
                row["evidence_ref"] = f"https://grc.example.org/{folder}/{counter}"
            rows.extend(out.rows)
    return rows
