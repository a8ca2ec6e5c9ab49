"""Sign-off in the app: the decision form, the decision history and export logging
(docs/governance.md, "Sign-off in the app"). The signer is always the signed-in identity, never
a typed name; in local demo mode the local demo identity, shown as "local-demo (not signed in)".
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
import streamlit as st

from core.report import InitiativeReport, Report, iso
from pilotwatch.access import Identity
from pilotwatch.audit import decisions as dec
from pilotwatch.audit.decisions import Condition, DecisionRecord
from pilotwatch.audit.store import AuditError, AuditLog
from pilotwatch.fingerprints import config_hash, data_fingerprint, report_hash
from pilotwatch.sources import LoadedData
from ui import formats as fm
from ui import labels as lb
from ui import widgets as w
from ui.context import Context

DECISION_LABEL = {
    "advance": "Advance",
    "hold": "Hold",
    "roll_back": "Roll back",
    "accept_with_conditions": "Accept with conditions",
}
STATUS_LABEL = {"met": "✅ met", "open": "⏳ open", "overdue": "⛔ overdue"}
CONDITION_SCHEMA = {"condition": pl.String, "owner": pl.String, "due": pl.Date, "check": pl.String}
DEFAULT_DUE_DAYS = 30  # a prefilled condition is due about a month after the as-of
SIGN_LABEL = "Confirm and sign"
PREVIEW_LABEL = "Preview what will be frozen"
FINGERPRINT_KEY = "_pw_signoff_data_fingerprint"
EXPORT_PROBLEM_KEY = "_pw_export_problem"
PREFILL_LABEL = "Prefill a condition per failing or undecided check"


@dataclass(frozen=True)
class Evidence:
    """What a decision pins besides the initiative's report section (which the report hash
    covers, so an equal Evidence means the same verdict, score and blockers)."""

    as_of: datetime
    report_hash: str
    config_hash: str
    data_fingerprint: str
    signer: str

    def rows(self, item: InitiativeReport) -> list[tuple[str, str]]:
        """The preview of a decision on `item` as (what, value) rows."""
        readiness = item.readiness
        return [
            ("initiative", item.id),
            ("verdict", fm.label(lb.VERDICT_LABEL, readiness.verdict)),
            ("score", fm.num(readiness.score, 1)),
            ("blockers", ", ".join(b.check for b in readiness.blockers) or "none"),
            ("as of", iso(self.as_of)),
            ("signed by", self.signer),
        ]

    def hashes(self) -> str:
        """The three hashes, one a line (a code block: 64 hex digits never wrap in a table)."""
        pairs = [("report", self.report_hash), ("config", self.config_hash)]
        lines = [f"{name} hash".ljust(18) + value for name, value in pairs]
        return "\n".join([*lines, "data fingerprint".ljust(18) + self.data_fingerprint])


@dataclass(frozen=True)
class Signing:
    """Who signs, into which log, on which report and hashes (log None: it cannot be opened)."""

    log: AuditLog | None
    identity: Identity
    report: Report
    config_hash: str
    fingerprint: Callable[[], str]  # the data fingerprint, computed on first use (seconds)
    problem: str = ""
    phi: tuple[tuple[str, str], ...] = ()  # settings.yaml's extra PHI patterns (name, regex)
    records: dict[str, list[DecisionRecord]] = field(default_factory=dict, compare=False)

    @property
    def signer(self) -> str:
        """How the signer reads: the identity's label, marked when not signed in."""
        who = self.identity
        return who.label if who.authenticated else f"{who.label} (not signed in)"

    def audit(self) -> AuditLog:
        """The audit log; AuditError (naming it, never a password) when it cannot be opened."""
        if self.log is None:
            raise AuditError(self.problem)
        return self.log

    def evidence(self) -> Evidence:
        """The evidence a decision would pin now."""
        return Evidence(
            as_of=self.report.as_of,
            report_hash=report_hash(self.report),
            config_hash=self.config_hash,
            data_fingerprint=self.fingerprint(),
            signer=self.signer,
        )


def _fingerprint(data: LoadedData) -> Callable[[], str]:
    """The data fingerprint of `data`, kept in the session while the loaded data stays."""

    def fingerprint() -> str:
        held = st.session_state.get(FINGERPRINT_KEY)
        if held is None or held[0] is not data:
            held = (data, data_fingerprint(data))
            st.session_state[FINGERPRINT_KEY] = held
        return str(held[1])

    return fingerprint


def signing(ctx: Context) -> Signing:
    """This run's signing context: the audit log, the identity and the evidence hashes."""
    log, problem = None, ""
    try:
        log = AuditLog.for_config(ctx.config)
    except AuditError as exc:  # its message hides any password
        problem = str(exc)
    phi = tuple((p.name, p.regex) for p in ctx.config.settings.phi_patterns)
    hashed = config_hash(ctx.config_dir)
    return Signing(log, ctx.identity, ctx.report, hashed, _fingerprint(ctx.data), problem, phi)


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _day(value: Any) -> date | None:
    if isinstance(value, date):  # a datetime is a date too
        return value.date() if isinstance(value, datetime) else value
    try:
        return None if _blank(value) else date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        return None


def parse_conditions(
    rows: Sequence[Mapping[str, Any]], check_ids: Sequence[str]
) -> tuple[list[Condition], list[str]]:
    """Conditions from the editor's rows, and a message per bad row (rows counted from 1).

    A wholly empty row is skipped; any other needs a condition, an owner and a due date, and its
    check (optional) must be one of the initiative's gate checks.
    """
    conditions: list[Condition] = []
    problems: list[str] = []
    for n, row in enumerate(rows, start=1):
        if all(_blank(row.get(c)) for c in CONDITION_SCHEMA):
            continue
        missing = [c for c in ("condition", "owner") if _blank(row.get(c))]
        due = _day(row.get("due"))
        if due is None:
            missing.append("due (a date)")
        check = None if _blank(row.get("check")) else str(row["check"]).strip()
        if missing or due is None:
            problems.append(f"Condition row {n}: give {', '.join(missing)}.")
        elif check is not None and check not in check_ids:
            problems.append(f"Condition row {n}: {check!r} is not a check of this gate.")
        else:
            text, owner = str(row["condition"]).strip(), str(row["owner"]).strip()
            conditions.append(Condition(text=text, owner=owner, due=due, check=check))
    return conditions, problems


def draft_problems(outcome: str, rationale: str, conditions: Sequence[Condition]) -> list[str]:
    """Why a draft decision cannot be signed (empty when it can)."""
    problems = []
    if not rationale.strip():
        problems.append("Write the rationale: why the committee decided this.")
    if outcome == "accept_with_conditions" and not conditions:
        problems.append("Accept with conditions needs at least one condition (owner, due date).")
    return problems


def prefill_rows(item: InitiativeReport, as_of: datetime) -> list[dict[str, Any]]:
    """A condition row per failing or undecided check: its remediation, owner and check id."""
    due = as_of.date() + timedelta(days=DEFAULT_DUE_DAYS)
    return [
        {"condition": c.remediation, "owner": c.owner or item.owner, "due": due, "check": c.id}
        for c in item.readiness.checks
        if c.outcome.value in ("fail", "insufficient_data")
    ]


def export_logger(signing: Signing, body: Mapping[str, Any]) -> Callable[[], None]:
    """A download button's on_click: one `export` entry in the audit log per download."""

    def logged() -> None:
        try:
            signing.audit().append("export", signing.identity.label, dict(body))
        except AuditError as exc:  # the download itself still works; say it was not logged
            st.session_state[EXPORT_PROBLEM_KEY] = f"The export was not logged: {exc}"

    return logged


def history(signing: Signing, iid: str) -> list[DecisionRecord]:
    """One initiative's decisions, newest last; the log is read once per run (an error shown
    when it cannot be)."""
    if "*" not in signing.records:
        signing.records["*"] = []
        try:
            for record in dec.decisions(signing.audit()):
                signing.records.setdefault(record.initiative, []).append(record)
        except AuditError as exc:
            st.error(f"The decision log cannot be read: {exc}", icon="⛔")
    return signing.records.get(iid, [])


def section(signing: Signing, item: InitiativeReport, where: str, expanded: bool = True) -> None:
    """An initiative's decision history, then the decision form (approvers in scope only)."""
    decision_history(signing, item, where, history(signing, item.id))
    decision_form(signing, item, where, expanded)
    export_warning()


def export_warning() -> None:
    """Say once that the last download could not be logged (set by its on_click)."""
    if problem := st.session_state.pop(EXPORT_PROBLEM_KEY, None):
        st.warning(problem, icon="⚠️")


def _condition_frame(
    conditions: Sequence[Condition], statuses: Sequence[str] | None = None
) -> pl.DataFrame:
    rows = [(c.text, c.owner, c.due.isoformat(), c.check or "") for c in conditions]
    frame = pl.DataFrame(rows, schema=["condition", "owner", "due", "check"], orient="row")
    if statuses is None:
        return frame
    return frame.insert_column(0, pl.Series("status", [STATUS_LABEL[s] for s in statuses]))


def decision_history(
    signing: Signing, item: InitiativeReport, where: str, records: Sequence[DecisionRecord]
) -> None:
    """The decisions on `item`, newest first: who, when, outcome, rationale, conditions with
    their status today (the report's as-of date), and the frozen report as a logged download."""
    st.markdown("**Decision history**")
    if not records:
        st.caption(f"No decision recorded for {fm.plain(item.name)} yet.")
        return
    today = signing.report.as_of.date()
    for record in reversed(records):
        with st.container(border=True):
            st.markdown(
                f"**{DECISION_LABEL.get(record.outcome, record.outcome)}** at gate {record.gate}"
                f" · {fm.when(record.at)} · signed by **{fm.plain(record.approver)}** · "
                f"entry #{record.seq}"
            )
            st.markdown(f"Rationale: {fm.plain(record.rationale)}")
            if record.conditions:
                status = [
                    dec.condition_status(c, signing.report, item.id, today)
                    for c in record.conditions
                ]
                w.static_table(_condition_frame(record.conditions, status))
            name = f"pilotwatch-decision-{record.seq}-{item.id}.json"
            body = {"what": "frozen_report", "format": "json", "path": name, "decision": record.seq}
            body |= {"report_hash": record.report_hash, "as_of": iso(record.as_of)}
            st.download_button(
                f"Frozen report of entry #{record.seq} (as of {iso(record.as_of)})",
                json.dumps(record.report, indent=2, ensure_ascii=False),
                file_name=name,
                mime="application/json",
                key=f"frozen_{where}_{record.seq}",
                on_click=export_logger(signing, body | {"initiatives": [item.id]}),
            )
            st.caption(
                f"Report hash `{record.report_hash}` · config hash `{record.config_hash}` · "
                f"data fingerprint `{record.data_fingerprint}`"
            )


# a previewed draft: outcome, rationale, conditions and the evidence shown
Draft = tuple[str, str, list[Condition], Evidence]


def _key(kind: str, where: str, iid: str) -> str:
    return f"_pw_decision_{kind}_{where}_{iid}"


def decision_form(
    signing: Signing, item: InitiativeReport, where: str, expanded: bool = True
) -> None:
    """The "Record a decision" form (in an expander), only for an identity that may decide."""
    identity, iid = signing.identity, item.id
    if not identity.may_decide(iid):
        return
    if (done := st.session_state.pop(_key("done", where, iid), None)) is not None:
        st.success(f"Decision recorded: entry #{done[0]}, hash `{done[1]}`.", icon="✅")
    draft_key = _key("draft", where, iid)
    open_ = expanded or draft_key in st.session_state
    with st.expander(f"Record a decision on {fm.plain(item.name)}", expanded=open_, icon="✍️"):
        _form(signing, item, where, draft_key)


def _form(signing: Signing, item: InitiativeReport, where: str, draft_key: str) -> None:
    """Step one: outcome, rationale, conditions, and a preview of what will be frozen; step two
    ("Confirm and sign") records exactly the previewed evidence, signed by the identity."""
    identity, iid, k = signing.identity, item.id, f"{where}_{item.id}"
    if not identity.authenticated:
        st.info(
            f'Local demo mode: decisions are recorded as "{signing.signer}". Configure '
            "sign-in to sign them with your identity (docs/governance.md).",
            icon="🧪",
        )
    rows_key = _key("rows", where, iid)
    if st.button(PREFILL_LABEL, key=f"prefill_{k}"):
        st.session_state[rows_key] = prefill_rows(item, signing.report.as_of)
    checks = [c.id for c in item.readiness.checks]
    with st.form(key=f"decide_{k}"):
        outcome = st.selectbox(
            "Outcome", dec.OUTCOMES, format_func=DECISION_LABEL.__getitem__, key=f"outcome_{k}"
        )
        rationale = st.text_area("Rationale", key=f"rationale_{k}")
        edited = st.data_editor(
            pl.DataFrame(st.session_state.get(rows_key, []), schema=CONDITION_SCHEMA),
            num_rows="dynamic",
            column_config={
                "condition": st.column_config.TextColumn(width="large"),
                "due": st.column_config.DateColumn("due (date)", format="YYYY-MM-DD"),
                "check": st.column_config.SelectboxColumn("gate check (optional)", options=checks),
            },
            key=f"conditions_{k}",
        )
        previewed = st.form_submit_button(PREVIEW_LABEL)
    if previewed:
        conditions, problems = parse_conditions(pl.DataFrame(edited).to_dicts(), checks)
        problems += draft_problems(str(outcome), rationale or "", conditions)
        st.session_state.pop(draft_key, None)
        if problems:
            st.error("Not recorded: " + " ".join(problems), icon="⛔")
        else:
            text = (rationale or "").strip()
            st.session_state[draft_key] = (str(outcome), text, conditions, signing.evidence())
    if (draft := st.session_state.get(draft_key)) is not None:
        _preview_and_sign(signing, item, where, draft)


def _preview_and_sign(signing: Signing, item: InitiativeReport, where: str, draft: Draft) -> None:
    """The preview of a draft decision and its "Confirm and sign" step."""
    outcome, rationale, conditions, proof = draft
    with st.container(border=True):
        st.markdown(
            f"**About to sign: {DECISION_LABEL[outcome]}** on {fm.plain(item.name)}, gate "
            f"{item.gate}. Rationale: {fm.plain(rationale)}"
        )
        w.static_table(pl.DataFrame(proof.rows(item), schema=["frozen", "value"], orient="row"))
        st.code(proof.hashes(), language=None)
        if conditions:
            w.static_table(_condition_frame(conditions))
        st.caption(
            "With these, the initiative's whole report section at this as-of is frozen into the "
            "hash-chained audit log; a recorded decision is never edited, only followed by another."
        )
        cols = st.columns(2)
        sign = cols[0].button(SIGN_LABEL, type="primary", key=f"sign_{where}_{item.id}")
        discard = cols[1].button("Discard the draft", key=f"discard_{where}_{item.id}")
    draft_key = _key("draft", where, item.id)
    if discard:
        st.session_state.pop(draft_key, None)
        st.rerun()
    if not sign:
        return
    st.session_state.pop(draft_key, None)
    if signing.evidence() != proof:  # data or config moved since the preview
        st.warning("The evidence changed since the preview; preview the decision again.")
        return
    try:
        record = dec.record_decision(
            signing.audit(),
            signing.identity,
            signing.report,
            item.id,
            outcome,
            rationale,
            conditions,
            config_hash=proof.config_hash,
            data_fingerprint=proof.data_fingerprint,
            phi_patterns=signing.phi,
        )
    except (AuditError, PermissionError, ValueError) as exc:
        st.error(f"Not recorded: {fm.plain(exc)}", icon="⛔")
        return
    st.session_state.pop(_key("rows", where, item.id), None)
    st.session_state[_key("done", where, item.id)] = (record.seq, record.hash)
    st.rerun()
