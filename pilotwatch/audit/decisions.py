"""Steering decisions, waiver approvals and config changes as audit-log entries.

docs/governance.md, "What is recorded, and why": a decision freezes the initiative's report
section with the report hash, config hash and data fingerprint it was made on; free text is
screened for PHI before it is stored; only an identity that may decide on the initiative signs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from connectors.phi import patterns_for, redact_message
from core.enums import CheckOutcome
from core.models import Waiver
from core.phi_patterns import redact
from core.report import Report, iso
from pilotwatch.access import Identity
from pilotwatch.audit.store import AuditEntry, AuditLog
from pilotwatch.fingerprints import file_hash, report_hash

OUTCOMES = ("advance", "hold", "roll_back", "accept_with_conditions")
DECISION, WAIVER_APPROVAL, CONFIG_CHANGE = "decision", "waiver_approval", "config_change"
# the files whose change is governance (who may pass a gate, on which evidence)
GOVERNED_FILES = ("waivers.yaml", "gates.yaml", "controls.yaml")
ConditionStatus = Literal["met", "open", "overdue"]
_MET = frozenset({CheckOutcome.PASS, CheckOutcome.WAIVED})


class DecisionRefused(ValueError, PermissionError):
    """A decision that is not recorded: not allowed, or not a valid decision (message says)."""


@dataclass(frozen=True)
class Condition:
    """A condition of a decision: what, who, by when, and optionally the gate check proving it."""

    text: str
    owner: str
    due: date
    check: str | None = None

    def to_jsonable(self) -> dict[str, Any]:
        """The condition as stored in a decision's body."""
        return {
            "text": self.text,
            "owner": self.owner,
            "due": self.due.isoformat(),
            "check": self.check,
        }

    @classmethod
    def from_jsonable(cls, value: Mapping[str, Any]) -> Condition:
        """A condition read back from a decision's body."""
        return cls(
            text=str(value["text"]),
            owner=str(value["owner"]),
            due=date.fromisoformat(str(value["due"])),
            check=value.get("check"),
        )


@dataclass(frozen=True)
class DecisionRecord:
    """One recorded decision, read back from its audit entry."""

    seq: int
    at: datetime
    hash: str
    initiative: str
    gate: str
    outcome: str
    approver: str
    approver_subject: str
    approver_authenticated: bool
    rationale: str
    conditions: tuple[Condition, ...]
    as_of: datetime
    report_hash: str
    config_hash: str
    data_fingerprint: str
    report: dict[str, Any]


def _screen(text: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    return redact_message(text.strip(), extra)


def _screen_owner(text: str, extra: Sequence[tuple[str, str]] = ()) -> str:
    # an owner is a staff member: a staff e-mail is allowed, as for evidence owners
    import polars as pl

    patterns = patterns_for("evidence", "owner", extra)
    return str(pl.select(redact(pl.lit(text.strip(), dtype=pl.String), patterns)).item())


def _signer(identity: Identity) -> dict[str, Any]:
    return {
        "label": identity.label,
        "subject": identity.subject,
        "authenticated": identity.authenticated,
    }


def _conditions(
    conditions: Sequence[Condition], check_ids: set[str], extra: Sequence[tuple[str, str]]
) -> list[dict[str, Any]]:
    out = []
    for n, c in enumerate(conditions, start=1):
        if not c.text.strip() or not c.owner.strip():
            raise DecisionRefused(f"condition {n}: needs a text and an owner")
        if c.check is not None and c.check not in check_ids:
            known = ", ".join(sorted(check_ids)) or "none"
            raise DecisionRefused(
                f"condition {n}: {c.check!r} is not a check of this gate (checks: {known})"
            )
        screened = Condition(_screen(c.text, extra), _screen_owner(c.owner, extra), c.due, c.check)
        out.append(screened.to_jsonable())
    return out


def record_decision(
    log: AuditLog,
    identity: Identity,
    report: Report,
    initiative_id: str,
    outcome: str,
    rationale: str,
    conditions: Sequence[Condition] = (),
    *,
    config_hash: str,
    data_fingerprint: str,
    phi_patterns: Sequence[tuple[str, str]] = (),
) -> DecisionRecord:
    """Append a decision signed by `identity`; raises DecisionRefused when it may not be made."""
    item = report.initiative(initiative_id)
    if item is None:
        raise DecisionRefused(f"initiative {initiative_id!r} is not in the report")
    if not identity.may_decide(initiative_id):
        raise DecisionRefused(
            f"{identity.label} may not decide on {initiative_id} (an approver or admin role "
            "over it is needed; see config/access.yaml)"
        )
    if outcome not in OUTCOMES:
        raise DecisionRefused(f"unknown outcome {outcome!r}; one of: {', '.join(OUTCOMES)}")
    if not rationale.strip():
        raise DecisionRefused("a decision needs a rationale")
    if outcome == "accept_with_conditions" and not conditions:
        raise DecisionRefused("accept_with_conditions needs at least one condition")
    check_ids = {c.id for c in item.readiness.checks}
    body = {
        "initiative": initiative_id,
        "gate": str(item.gate),
        "outcome": outcome,
        "approver": _signer(identity),
        "rationale": _screen(rationale, phi_patterns),
        "conditions": _conditions(conditions, check_ids, phi_patterns),
        "as_of": iso(report.as_of),
        "report_hash": report_hash(report),
        "config_hash": config_hash,
        "data_fingerprint": data_fingerprint,
        "report": item.model_dump(mode="json", by_alias=True),
    }
    return _record(log.append(DECISION, identity.label, body))


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def _record(entry: AuditEntry) -> DecisionRecord:
    b = entry.body
    approver = b.get("approver") or {}
    return DecisionRecord(
        seq=entry.seq,
        at=entry.at_time,
        hash=entry.hash,
        initiative=str(b["initiative"]),
        gate=str(b["gate"]),
        outcome=str(b["outcome"]),
        approver=str(approver.get("label", entry.actor)),
        approver_subject=str(approver.get("subject", entry.actor)),
        approver_authenticated=bool(approver.get("authenticated", False)),
        rationale=str(b["rationale"]),
        conditions=tuple(Condition.from_jsonable(c) for c in b.get("conditions", [])),
        as_of=_instant(str(b["as_of"])),
        report_hash=str(b["report_hash"]),
        config_hash=str(b["config_hash"]),
        data_fingerprint=str(b["data_fingerprint"]),
        report=dict(b["report"]),
    )


def decisions(log: AuditLog, initiative_id: str | None = None) -> list[DecisionRecord]:
    """Recorded decisions (of one initiative), newest last."""
    out = []
    for entry in log.iter_entries(DECISION):
        if initiative_id is None or entry.body.get("initiative") == initiative_id:
            out.append(_record(entry))
    return out


def condition_status(
    condition: Condition, report: Report, initiative_id: str, today: date
) -> ConditionStatus:
    """met: its gate check passes or is waived in `report`; else overdue after `due`; else open."""
    item = report.initiative(initiative_id)
    if condition.check is not None and item is not None:
        for check in item.readiness.checks:
            if check.id == condition.check and check.outcome in _MET:
                return "met"
    return "overdue" if today > condition.due else "open"


def record_waiver_approval(
    log: AuditLog,
    identity: Identity,
    waiver: Waiver,
    config_hash: str,
    phi_patterns: Sequence[tuple[str, str]] = (),
) -> AuditEntry:
    """Append the approval of one waiver by `identity` (who may decide on its initiative)."""
    if not identity.may_decide(waiver.initiative):
        raise DecisionRefused(
            f"{identity.label} may not approve a waiver on {waiver.initiative} (an approver "
            "or admin role over it is needed)"
        )
    expires = waiver.expires_on
    body = {
        "initiative": waiver.initiative,
        "check": waiver.check,
        "reason": _screen(waiver.reason, phi_patterns),
        "approver_named": _screen_owner(waiver.approver, phi_patterns),
        "expires_on": iso(expires) if isinstance(expires, datetime) else expires.isoformat(),
        "approved_by": _signer(identity),
        "config_hash": config_hash,
    }
    return log.append(WAIVER_APPROVAL, identity.label, body)


def governed_hashes(config_dir: str | Path) -> dict[str, str | None]:
    """SHA-256 of waivers.yaml, gates.yaml and controls.yaml (None: the file is absent)."""
    root = Path(config_dir)
    return {name: file_hash(root / name) for name in GOVERNED_FILES}


def log_config_change(log: AuditLog, config_dir: str | Path, actor: str) -> AuditEntry | None:
    """Append `config_change` when a governed file's hash differs from the last one logged.

    The first call on a log records the baseline (every file listed as changed).
    """
    from pilotwatch.fingerprints import config_hash

    now = governed_hashes(config_dir)
    entries = log.entries(CONFIG_CHANGE)
    before: Mapping[str, Any] = entries[-1].body.get("files", {}) if entries else {}
    changed = [name for name in GOVERNED_FILES if not entries or before.get(name) != now[name]]
    if not changed:
        return None
    body = {
        "files": now,
        "changed": changed,
        "baseline": not entries,
        "config_hash": config_hash(config_dir),
    }
    return log.append(CONFIG_CHANGE, actor, body)
