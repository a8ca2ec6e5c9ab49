"""Sign-in and scopes in the app, driven headlessly with AppTest (ui/auth.py, docs/governance.md).

The seam: AppTest's own `at.secrets` (an `[auth]` section makes sign-in required, exactly as a
`.streamlit/secrets.toml` would) and `at.user` (what Streamlit's `st.user` returns after an
OpenID Connect sign-in). The app has no test-only switch: it reads the identity from `st.user`
alone, so these tests exercise the production path. The real provider is tested in the browser
tests.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from app_helpers import AUTH, MEDIA, ROOT, config_env, ensure_demo, new_app, open_page, texts

from pilotwatch.audit.store import AuditLog
from pilotwatch.config import load_config
from ui.registry import PAGES

A, B = "sepsis-ews", "prior-auth"
RULES = {
    "access": {
        "rules": [
            {"role": "viewer", "emails": ["viewer@example.org"], "initiatives": [A]},
            {"role": "approver", "groups": ["steering"], "initiatives": "*"},
        ]
    }
}


@pytest.fixture(scope="module")
def access_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """config/ with an access.yaml; data/ linked so the sources' relative paths still resolve."""
    ensure_demo()
    root = tmp_path_factory.mktemp("access")
    shutil.copytree(ROOT / "config", root / "config")
    (root / "config" / "access.yaml").write_text(yaml.safe_dump(RULES), encoding="utf-8")
    (root / "data").symlink_to(ROOT / "data", target_is_directory=True)
    old = os.environ.get("PILOTWATCH_AUDIT_URL")
    os.environ["PILOTWATCH_AUDIT_URL"] = f"sqlite:///{root / 'audit.db'}"
    with config_env(root / "config"):
        yield root / "config"
    if old is None:
        os.environ.pop("PILOTWATCH_AUDIT_URL", None)
    else:
        os.environ["PILOTWATCH_AUDIT_URL"] = old


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in getattr(node, "children", {}).values():
        yield from _walk(child)


def rendered(at: Any) -> str:
    """Every element's protobuf (text, tables as Arrow, chart specs, options) and downloads."""
    parts = [str(n.proto) for n in _walk(at._tree) if getattr(n, "proto", None) is not None]
    parts += [payload.decode("utf-8", "replace") for payload in MEDIA.values()]
    return "\n".join(parts)


def _app(user: dict[str, Any] | None) -> Any:
    at = new_app()
    at.secrets = dict(AUTH)
    if user is not None:
        at.user = user
    return at


def test_without_auth_the_demo_banner_shows_and_every_initiative_is_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_demo()
    monkeypatch.setenv("PILOTWATCH_AUDIT_URL", f"sqlite:///{tmp_path / 'audit.db'}")
    with config_env(ROOT / "config"):
        at = new_app()
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(t.startswith("Local demo mode: no sign-in is configured") for t in texts(at.info))
    ids = {i.id for i in load_config(ROOT / "config").initiatives}
    text = rendered(at)
    assert [i for i in sorted(ids) if i not in text] == []


def test_an_anonymous_visitor_sees_only_the_sign_in(access_dir: Path) -> None:
    at = _app({})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == ["Sign in to pilotwatch"]
    assert [b.label for b in at.button] == ["Sign in"]
    text = rendered(at)
    names = [i.name for i in load_config(access_dir).initiatives]
    assert [n for n in names if n in text] == [] and A not in text and B not in text
    assert not at.dataframe and not at.table and not at.sidebar.selectbox


def test_a_signed_in_user_without_a_rule_sees_no_access(access_dir: Path) -> None:
    at = _app({"is_logged_in": True, "sub": "s9", "email": "stranger@example.org"})
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert texts(at.error) == [
        "You are signed in as stranger@example.org but have no access; ask an admin to add "
        "you to config/access.yaml."
    ]
    assert [b.label for b in at.button] == ["Sign out"]
    assert B not in rendered(at) and A not in rendered(at)
    refused = AuditLog(os.environ["PILOTWATCH_AUDIT_URL"]).entries("sign_in")
    assert [e.body["role"] for e in refused if e.actor == "stranger@example.org"] == [None]


def test_a_viewer_of_a_finds_b_on_no_page(access_dir: Path) -> None:
    config = load_config(access_dir)
    a, b = config.initiative(A), config.initiative(B)
    user = {"is_logged_in": True, "sub": "s1", "email": "viewer@example.org", "name": "Vi"}
    at = _app(user)
    for spec in PAGES:
        MEDIA.clear()
        page = Path(spec.path).stem
        open_page(at, page)
        assert not at.exception, (page, [e.value for e in at.exception])
        text = rendered(at)
        assert b.id not in text and b.name not in text, page
        # and the page is not simply empty: initiative A is there (the Data sources page
        # lists sources, not initiatives)
        if page != "data_sources":
            assert a.id in text or a.name in text, page
    # 8 page runs, one session: one sign_in entry, with the claims summary (no token)
    log = AuditLog(os.environ["PILOTWATCH_AUDIT_URL"])
    mine = [e for e in log.entries("sign_in") if e.actor == "viewer@example.org"]
    assert [e.body for e in mine] == [
        {
            "subject": "s1",
            "email": "viewer@example.org",
            "groups": [],
            "role": "viewer",
            "scope": [A],
            "authenticated": True,
            "login": None,  # no `iat` in this token: one entry per session
        }
    ]
    sidebar = [m.value for m in at.sidebar.markdown]
    assert "**Signed in as** viewer@example.org" in sidebar
    assert not any(t.startswith("Local demo mode") for t in texts(at.info))


def test_an_approver_over_all_sees_b(access_dir: Path) -> None:
    user = {"is_logged_in": True, "sub": "s2", "email": "ap@example.org", "groups": ["steering"]}
    at = _app(user)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert B in rendered(at) and A in rendered(at)


def test_one_sign_in_entry_per_login_not_per_page_load(access_dir: Path) -> None:
    """Each full page load is a new session; the token's iat + nonce tell a reload from a login."""
    login = {
        "is_logged_in": True,
        "sub": "s-relogin",
        "email": "viewer@example.org",
        "iat": 1_700_000_000,
    }
    for claims in (
        {**login, "nonce": "n1"},  # the login
        {**login, "nonce": "n1"},  # a reload: the same token, a new session
        {**login, "nonce": "n2", "iat": 1_700_000_600},  # a second login
    ):
        at = _app(claims)
        at.run(timeout=60)
        assert not at.exception
    log = AuditLog(os.environ["PILOTWATCH_AUDIT_URL"])
    mine = [e.body["login"] for e in log.entries("sign_in") if e.body["subject"] == "s-relogin"]
    assert len(mine) == 2 and mine[0] != mine[1] and all(len(k) == 16 for k in mine)
