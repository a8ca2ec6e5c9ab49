"""The shared sidebar: who is signed in, view, as-of instant and filters (bound to the URL)."""

from __future__ import annotations

from datetime import UTC, datetime
from datetime import time as dtime

import streamlit as st

from core.models import STAGES
from metrics.timewin import as_of_instant
from pilotwatch.access import Identity
from pilotwatch.config import Config
from pilotwatch.render import VERDICT_LABEL as REPORT_VERDICT
from ui.labels import VERDICT_LABEL
from ui.registry import ROLES

Filters = dict[str, list[str]]


def _on_role_change() -> None:
    st.session_state["_pw_go_landing"] = True


def _set_as_of(value: datetime) -> None:
    st.session_state["as_of_date"] = value.date()
    st.session_state["as_of_time"] = value.time().replace(tzinfo=None)


def _pin() -> None:
    """Re-set both as-of widgets to their values, so the URL carries the date and the time."""
    # the user's change alone would put only that widget in the URL, and a link with the date
    # alone opens at the recipient's default time: another instant than the one shown here.
    # Both are set: the server's copy of the URL would otherwise drop the one just changed.
    for key in ("as_of_date", "as_of_time"):
        if key in st.session_state:
            st.session_state[key] = st.session_state[key]


def _reload() -> None:
    st.session_state["_pw_nonce"] = st.session_state.get("_pw_nonce", 0) + 1


def _role() -> str:
    """The role selectbox and its blurb."""
    role: str = st.sidebar.selectbox(
        "Role",
        list(ROLES),
        format_func=lambda k: ROLES[k].label,
        key="role",
        bind="query-params",
        on_change=_on_role_change,
        help="Sets the landing page and how much detail the pages show.",
    )
    st.sidebar.caption(ROLES[role].blurb)
    # the persona is a view density and landing page, not a permission: access is access.yaml's
    st.sidebar.caption(
        "This view only sets the detail shown; what you may see and sign comes from your "
        "sign-in (docs/governance.md)."
    )
    return role


def _who(identity: Identity) -> None:
    """Who this session is, its role and scope, and the sign-out button."""
    side = st.sidebar
    if not identity.authenticated:
        side.markdown("**Local demo mode** (no sign-in)")
        return
    side.markdown(f"**Signed in as** {identity.label}")
    side.caption(f"Role: {identity.role or 'none'} · sees {identity.scope_label}")
    side.button("Sign out", on_click=st.logout, key="logout", width="stretch")


def _as_of(fallback: datetime) -> datetime:
    """The as-of date and time widgets (UTC) and the reset button."""
    side = st.sidebar
    side.markdown("**As of (UTC)**")
    # Seeded through session state (not `value=`) so that a URL parameter can override the
    # default and the reset button can set it back without a "default and state" conflict.
    if "as_of_date" not in st.session_state and "as_of_date" not in st.query_params:
        st.session_state["as_of_date"] = fallback.date()
    if "as_of_time" not in st.session_state and "as_of_time" not in st.query_params:
        st.session_state["as_of_time"] = fallback.time().replace(tzinfo=None)
    # value=None: the widgets' own default is "empty", never today or the clock time, so a
    # chosen as-of always differs from it and the bound widget always writes it to the URL
    day = side.date_input(
        "As-of date (UTC)",
        value=None,
        key="as_of_date",
        bind="query-params",
        on_change=_pin,
    )
    moment = side.time_input(
        "As-of time (UTC)",
        value=None,
        key="as_of_time",
        step=60,
        bind="query-params",
        on_change=_pin,
    )
    side.button("Reset as-of to default", on_click=_set_as_of, args=(fallback,), width="stretch")
    return as_of_instant(datetime.combine(day or fallback.date(), moment or dtime(0), UTC))


def _filters(config: Config) -> Filters:
    """The stage, owner, clinical-area and verdict filters (empty = all)."""
    side = st.sidebar
    side.markdown("**Filters**")
    owners = sorted({i.owner for i in config.initiatives})
    areas = sorted({i.clinical_area for i in config.initiatives})
    return {
        "stage": side.multiselect(
            "Stage", list(STAGES), key="f_stage", placeholder="All stages", bind="query-params"
        ),
        "owner": side.multiselect(
            "Owner", owners, key="f_owner", placeholder="All owners", bind="query-params"
        ),
        "clinical_area": side.multiselect(
            "Clinical area", areas, key="f_area", placeholder="All areas", bind="query-params"
        ),
        "verdict": side.multiselect(
            "Gate verdict",
            list(VERDICT_LABEL),
            format_func=lambda v: REPORT_VERDICT.get(v, v),  # GO, CONDITIONAL, NO-GO: URL words
            key="f_verdict",
            placeholder="All verdicts",
            bind="query-params",
        ),
    }


def sidebar(
    config: Config, fallback: datetime, identity: Identity
) -> tuple[str, datetime, Filters]:
    """Role, as-of and filters from the sidebar widgets (bound to the URL for sharing).

    `config` is already restricted to the identity's initiatives, so the filter options name
    only those.
    """
    _who(identity)
    role = _role()
    as_of = _as_of(fallback)
    filters = _filters(config)
    st.sidebar.button(
        "Reload data",
        on_click=_reload,
        width="stretch",
        help="Re-read every source now (files are re-read automatically when they change).",
    )
    return role, as_of, filters
