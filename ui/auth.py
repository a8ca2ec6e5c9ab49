"""Sign-in through Streamlit's `st.login` (OpenID Connect) and the identity of this session.

With an `[auth]` section in the Streamlit secrets every visitor signs in and gets the role
config/access.yaml gives the ID token's e-mail or groups (docs/governance.md, "Sign-in (OpenID
Connect)", "Roles and scopes"). Without it the app runs in local demo mode and says so.
There is no other way in: the identity comes from `st.user` only, never from a URL, a form or
session state a visitor could set.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import streamlit as st

from core.models import Config
from pilotwatch.access import Identity, local_demo_identity, resolve
from ui.registry import PAGES

SIGNED_IN_KEY = "_pw_audited_sign_in"
CONFIG_LOGGED_KEY = "_pw_audited_config"
DEMO_BANNER = (
    "Local demo mode: no sign-in is configured; everyone sees every initiative. "
    "See docs/governance.md to configure OpenID Connect."
)


def _auth_section() -> Mapping[str, Any]:
    """The `[auth]` secrets section, or empty; a missing or unreadable secrets file is no error."""
    try:
        if not st.secrets.load_if_toml_exists():
            return {}
        section = st.secrets.get("auth")
    except (FileNotFoundError, OSError, ValueError, KeyError):
        return {}
    return section if isinstance(section, Mapping) else {}


def oidc_configured() -> bool:
    """True when the Streamlit secrets hold an `[auth]` section (sign-in is required)."""
    return bool(_auth_section())


def providers() -> list[str]:
    """Named providers (`[auth.NAME]` sub-sections); empty when `[auth]` configures one."""
    # Streamlit's own rule: a sub-table with a client_id is a provider; others (client_kwargs)
    # are settings of the single provider
    return sorted(
        k for k, v in _auth_section().items() if isinstance(v, Mapping) and "client_id" in v
    )


def _claims() -> dict[str, Any]:
    """The signed-in user's ID-token claims (empty for an anonymous visitor)."""
    return dict(st.user.to_dict())


def _hide_pages() -> None:
    """Register the pages hidden: an anonymous visitor gets no page list (see ui.context)."""
    st.navigation([st.Page(spec.path, title=spec.title) for spec in PAGES], position="hidden")


def _sign_in_screen() -> None:
    """Only a title, one sentence and the sign-in button(s); nothing of the data."""
    _hide_pages()
    st.title("Sign in to pilotwatch")
    st.write("pilotwatch shows pilot readiness only to signed-in staff with a role.")
    names = providers()
    if len(names) > 1:
        for name in names:
            st.button(f"Sign in with {name}", on_click=st.login, args=(name,), key=f"login_{name}")
    else:
        args = (names[0],) if names else ()
        st.button("Sign in", on_click=st.login, args=args, type="primary", key="login")


def _no_access(identity: Identity) -> None:
    _hide_pages()
    st.title("No access")
    st.error(
        f"You are signed in as {identity.label} but have no access; ask an admin to add you "
        "to config/access.yaml."
    )
    st.button("Sign out", on_click=st.logout, key="logout_no_access")


def _login_key(claims: Mapping[str, Any]) -> str | None:
    """A short digest of the ID token's `iat` and `nonce`: one value per actual sign-in.

    Every full page load is a new Streamlit session, so a per-session flag alone would log one
    "sign-in" per page load; the token's issue time and nonce tell a new login from a reload.
    """
    if claims.get("iat") is None:
        return None
    raw = f"{claims.get('iat')}:{claims.get('nonce', '')}".encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def _already_logged(log: Any, subject: str, login: str | None) -> bool:
    """True when the newest `sign_in` entry of `subject` is this same login."""
    if login is None:
        return False
    for entry in reversed(log.entries("sign_in")):
        if entry.body.get("subject") == subject:
            return bool(entry.body.get("login") == login)
    return False


def _log_sign_in(config: Config, identity: Identity, claims: Mapping[str, Any]) -> None:
    """One `sign_in` audit entry per login (not per page load); a failure to log only warns."""
    if st.session_state.get(SIGNED_IN_KEY) == identity.subject:
        return
    try:
        from pilotwatch.audit.store import AuditLog

        log = AuditLog.for_config(config)
        login = _login_key(claims)
        if not _already_logged(log, identity.subject, login):
            log.append("sign_in", identity.label, {**identity.summary(), "login": login})
        st.session_state[SIGNED_IN_KEY] = identity.subject
    except Exception as exc:  # the log may be unreachable: say so, keep the app usable
        st.warning(f"The sign-in could not be written to the audit log ({type(exc).__name__}).")


def _log_config(config: Config, config_dir: Path | None, identity: Identity) -> None:
    """Once per session: log a changed waivers/gates/controls file (H7's config hash)."""
    if config_dir is None or st.session_state.get(CONFIG_LOGGED_KEY):
        return
    try:
        from pilotwatch.audit.decisions import log_config_change
        from pilotwatch.audit.store import AuditLog

        log_config_change(AuditLog.for_config(config), config_dir, identity.label)
        st.session_state[CONFIG_LOGGED_KEY] = True
    except Exception as exc:
        st.warning(
            f"The configuration check could not be written to the audit log ({type(exc).__name__})."
        )


def current_identity(config: Config, config_dir: Path | None = None) -> Identity:
    """This session's identity; stops the run at the sign-in or no-access screen.

    Not configured: the local demo identity (everyone sees everything; a banner says so).
    Configured: an anonymous visitor sees only the sign-in screen; a signed-in user without a
    matching rule in access.yaml sees only "no access" and a sign-out button.
    """
    if not oidc_configured():
        # nobody signs in, so there is no sign-in to log; config changes still are
        identity = local_demo_identity()
        _log_config(config, config_dir, identity)
        return identity
    claims = _claims()
    if not claims.get("is_logged_in"):
        _sign_in_screen()
        st.stop()
    identity = resolve(config.access, claims)
    _log_sign_in(config, identity, claims)  # a refused sign-in is logged too (role: null)
    if identity.role is None:
        _no_access(identity)
        st.stop()
    _log_config(config, config_dir, identity)
    return identity
