"""Browser test: sign-in with a real OpenID Connect provider, roles and scopes, end to end.

One module fixture starts panva's oidc-provider (tests/oidc/, see tests/oidc_server.py) and one
`streamlit run app.py` whose secrets (a temporary file passed with `--secrets.files`) hold the
`[auth]` section for it; the app reads a temporary copy of config/ with an access.yaml mapping
the provider's accounts to roles, and writes a temporary SQLite audit log
(PILOTWATCH_AUDIT_URL). Each test opens a fresh browser context (its own cookies, so its own
sign-in) in Debian's chromium:

1. an anonymous visitor sees only the sign-in screen;
2. the approver signs in, records a decision on the Initiative page; the audit log then holds
   the approver's `sign_in` and `decision` entries and `pilotwatch audit verify` exits 0;
3. the viewer of initiative A only finds initiative B on no page and in no download, and no
   decision form anywhere;
4. a signed-in user no rule matches sees the no-access message and nothing else.

Without chromium, Playwright, node or npm the tests skip with the reason, unless
PILOTWATCH_REQUIRE_SERVICES=1 (CI), where they fail.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from oidc_server import APPROVER, NO_ROLE, VIEWER, Account, OidcProvider, auth_secrets
from pdf_tools import pdf_text
from test_browser import (
    ARTIFACTS,
    COLD_TIMEOUT,
    PAGE_TIMEOUT,
    PAGES,
    READY_JS,
    ROOT,
    VIEWPORT,
    StreamlitServer,
    ensure_demo,
    full_page_screenshot,
    require_chromium,
    running_browser,
    streamlit_run,
)

from ui.registry import PAGES as APP_PAGES

# Initiative A (the viewer's) and B (not the viewer's), from the demo config/initiatives.yaml.
A_ID, A_NAME = "sepsis-ews", "Sepsis early-warning model"
B_ID, B_NAME = "prior-auth", "Prior-authorization automation"

ACCESS_YAML = f"""\
access:
  groups_claim: groups
  rules:
    - role: approver
      groups: [{APPROVER.groups[0]}]
      initiatives: "*"
    - role: viewer
      emails: [{VIEWER.email}]
      initiatives: [{A_ID}]
"""

# The app's texts this test drives or looks for (ui/auth.py, ui/signoff.py).
SIGN_IN_BUTTON = re.compile(r"sign in", re.IGNORECASE)
NO_ACCESS = re.compile(r"no access", re.IGNORECASE)
FORM_TEXTS = ("Record a decision", "Preview what will be frozen", "Confirm and sign")
DOWNLOADS = (
    "Report JSON (schema 1)",
    "Verdicts CSV",
    "Steering pack (PDF)",
    "Steering pack (HTML)",
)

# Every text in the app (hidden tabs and collapsed expanders included), sidebar and main.
APP_TEXT_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app ? app.textContent : '';
}"""
NAV_LINKS_JS = """() => document.querySelectorAll('[data-testid="stSidebarNavLink"]').length"""
# True once a script run finished and nothing is stale or loading (no page title needed).
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || main.querySelector('[data-stale="true"]')) return false;
  const shown = e => e.getClientRects().length > 0;
  return !Array.from(main.querySelectorAll('[data-testid="stSkeleton"]')).some(shown);
}"""


# ----------------------------------------------------------------------------- fixtures


class SignInServer(StreamlitServer):
    """`streamlit run app.py` with OIDC secrets, a config copy and an audit log of its own."""

    def __init__(self, log_path: Path, workdir: Path) -> None:
        super().__init__(log_path)
        # the redirect URI Streamlit registers with the provider: the browser must use this
        # origin (its auth cookie is set for it)
        self.base_url = f"http://localhost:{self.port}"
        self.redirect_uri = f"{self.base_url}/oauth2callback"
        self.workdir = workdir
        self.config_dir = workdir / "config"
        self.secrets_file = workdir / "secrets.toml"
        self.audit_path = workdir / "audit.sqlite"
        self.audit_url = f"sqlite:///{self.audit_path}"

    def prepare(self, provider: OidcProvider) -> None:
        """The config copy with the test's access.yaml, and the secrets for `provider`."""
        shutil.copytree(ROOT / "config", self.config_dir)
        (self.config_dir / "access.yaml").write_text(ACCESS_YAML)
        self.secrets_file.write_text(
            auth_secrets(self.redirect_uri, provider, secrets.token_hex(32))
        )

    def env(self) -> dict[str, str]:
        """The app's environment: the config copy, the demo data, the temporary audit log."""
        env = dict(os.environ)
        env.update(
            PYTHONUNBUFFERED="1",
            PILOTWATCH_CONFIG=str(self.config_dir),
            # the copy's data paths are relative to its parent: point them at the demo data
            PILOTWATCH_DATA=str(ensure_demo()),
            PILOTWATCH_AUDIT_URL=self.audit_url,
        )
        return env

    def start(self, timeout: float = 60.0) -> SignInServer:
        options = (
            "--secrets.files",
            str(self.secrets_file),
            # no "File change. Rerun" banner when the checkout changes under a running test
            "--server.fileWatcherType",
            "none",
        )
        self._launch(streamlit_run("app.py", self.port, *options), self.env(), timeout)
        return self


@dataclass
class SignInSetup:
    """The running provider and app of this module."""

    provider: OidcProvider
    app: SignInServer


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SignInSetup]:
    """One provider and one app for the whole module, both stopped afterwards."""
    require_chromium()
    logs = ROOT / "test-artifacts"
    app = SignInServer(logs / "streamlit-signin-test.log", tmp_path_factory.mktemp("signin"))
    with OidcProvider([app.redirect_uri], logs / "oidc-provider.log") as provider:
        app.prepare(provider)
        with app:
            yield SignInSetup(provider, app)


@pytest.fixture(scope="module")
def browser(setup: SignInSetup) -> Iterator[Any]:
    """Headless Debian chromium, driven by Playwright."""
    with running_browser() as chromium:
        yield chromium


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context: no cookies, so nobody is signed in yet."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    tab = context.new_page()
    try:
        yield tab
    finally:
        context.close()


# ----------------------------------------------------------------------------- helpers


def fail_with_logs(setup: SignInSetup, page: Any, name: str, exc: BaseException) -> None:
    """Fail with a screenshot and both servers' logs."""
    with contextlib.suppress(Exception):
        full_page_screenshot(page, ARTIFACTS / f"signin-{name}-FAILED.png")
    pytest.fail(
        f"{name}: {type(exc).__name__}: {exc}\nstreamlit log:\n{setup.app.log_tail()}\n"
        f"provider log:\n{setup.provider.log_tail(1500)}"
    )


def wait_idle(page: Any, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until the script run finished and the page settled."""
    page.wait_for_function(IDLE_JS, timeout=timeout * 1000)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=5000)


def app_text(page: Any) -> str:
    """Every text of the app on screen, including hidden tabs and folded expanders."""
    return str(page.evaluate(APP_TEXT_JS))


def sign_in(page: Any, setup: SignInSetup, account: Account) -> None:
    """From the app's sign-in screen through the provider's login form and back."""
    page.goto(f"{setup.app.base_url}/", wait_until="commit", timeout=COLD_TIMEOUT * 1000)
    button = page.get_by_role("button", name=SIGN_IN_BUTTON)
    button.wait_for(timeout=COLD_TIMEOUT * 1000)
    button.click()
    # oidc-provider's development login form: any password for a known account
    page.wait_for_url(f"{setup.provider.issuer}/**", timeout=PAGE_TIMEOUT * 1000)
    page.locator("input[name=login]").fill(account.login)
    page.locator("input[name=password]").fill("any password will do")
    page.locator("button[type=submit]").click()
    page.wait_for_url(f"{setup.app.base_url}/**", timeout=PAGE_TIMEOUT * 1000)
    wait_idle(page, COLD_TIMEOUT)


def open_case(page: Any, setup: SignInSetup, path: str, title: str) -> None:
    """Open an app page by URL path and wait until its title shows and the run finished."""
    page.goto(f"{setup.app.base_url}/{path}", wait_until="commit", timeout=PAGE_TIMEOUT * 1000)
    # the title as its own marker: some pages have little to show for a narrow scope
    page.wait_for_function(READY_JS, arg=[title, title], timeout=COLD_TIMEOUT * 1000)
    wait_idle(page)


def choose(page: Any, within: Any, label: str, option: str) -> None:
    """Pick `option` in the Streamlit selectbox labelled `label` (it opens a list)."""
    box = within.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    wanted = page.get_by_role("option", name=option, exact=True)
    for _ in range(3):  # a rerun that lands just after the click closes the list: open it again
        box.get_by_role("combobox").click()
        try:
            wanted.wait_for(timeout=5000)
            break
        except Exception:
            wait_idle(page)
    wanted.click()
    wait_idle(page)


def audit_entries(setup: SignInSetup) -> list[Any]:
    """The app's audit log, read back through the project's own store."""
    from pilotwatch.audit.store import AuditLog

    return list(AuditLog(setup.app.audit_url).entries())


def run_cli(setup: SignInSetup, *args: str) -> subprocess.CompletedProcess[str]:
    """`pilotwatch ARGS` against the app's config copy and audit log."""
    cli = Path(sys.executable).with_name("pilotwatch")
    command = [str(cli)] if cli.exists() else [sys.executable, "-m", "pilotwatch.cli"]
    return subprocess.run(
        [*command, *args],
        cwd=ROOT,
        env=setup.app.env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# ----------------------------------------------------------------------------- tests


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_anonymous_visitor_sees_only_the_sign_in(page: Any, setup: SignInSetup) -> None:
    """No initiative, no page list: only the sign-in, also behind a deep link."""
    from pilotwatch.config import load_config

    names = [(i.id, i.name) for i in load_config(setup.app.config_dir).initiatives]
    assert (B_ID, B_NAME) in names and (A_ID, A_NAME) in names  # the demo config, as assumed
    for path in ("", "steering", f"initiative?initiative={B_ID}"):
        try:
            page.goto(f"{setup.app.base_url}/{path}", wait_until="commit")
            page.get_by_role("button", name=SIGN_IN_BUTTON).wait_for(timeout=COLD_TIMEOUT * 1000)
            wait_idle(page, COLD_TIMEOUT)
        except Exception as exc:
            fail_with_logs(setup, page, "anonymous", exc)
        text = app_text(page)
        shown = [f"{iid} / {name}" for iid, name in names if iid in text or name in text]
        assert shown == [], f"/{path}: an anonymous visitor sees {shown}"
        assert page.evaluate(NAV_LINKS_JS) == 0, f"/{path}: the page list is shown"
        for form_text in FORM_TEXTS:
            assert form_text not in text
    full_page_screenshot(page, ARTIFACTS / "signin-anonymous.png")


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_approver_signs_in_and_records_a_decision(page: Any, setup: SignInSetup) -> None:
    """The decision is signed by the signed-in e-mail; the chain verifies."""
    before = audit_entries(setup) if setup.app.audit_path.exists() else []
    rationale = "Silent-mode validation passed; hold until the ICU alert PPV is reviewed."
    try:
        sign_in(page, setup, APPROVER)
        # through the app's own navigation, not a reload: one session, so one sign-in entry
        page.locator('[data-testid="stSidebarNavLink"]', has_text="Initiative").click()
        page.wait_for_function(READY_JS, arg=["Initiative", "Gate checklist"], timeout=60_000)
        wait_idle(page)
        choose(page, page.locator('[data-testid="stMain"]'), "Initiative", A_ID)
        page.get_by_text(A_NAME).first.wait_for(timeout=PAGE_TIMEOUT * 1000)
        wait_idle(page)
        page.get_by_role("tab", name="Decisions").click()
        form = page.locator('[data-testid="stForm"]')
        form.wait_for(timeout=PAGE_TIMEOUT * 1000)
        choose(page, form, "Outcome", "Hold")
        form.get_by_label("Rationale").fill(rationale)
        form.get_by_role("button", name="Preview what will be frozen").click()
        page.get_by_text("About to sign: Hold").wait_for(timeout=PAGE_TIMEOUT * 1000)
        wait_idle(page)
        preview = app_text(page)
        full_page_screenshot(page, ARTIFACTS / "signin-approver-preview.png")
        page.get_by_role("button", name="Confirm and sign").click()
        page.get_by_text(re.compile(r"Decision recorded: entry #\d+")).wait_for(
            timeout=PAGE_TIMEOUT * 1000
        )
        wait_idle(page)
        full_page_screenshot(page, ARTIFACTS / "signin-approver-decision.png")
    except Exception as exc:
        fail_with_logs(setup, page, "approver", exc)
    assert APPROVER.email in preview  # the preview names the signer: the signed-in e-mail

    new = audit_entries(setup)[len(before) :]
    mine = [(e.kind, e.actor) for e in new if e.kind in ("sign_in", "decision")]
    assert mine == [("sign_in", APPROVER.email), ("decision", APPROVER.email)], new
    decision = next(e for e in new if e.kind == "decision")
    assert decision.body["initiative"] == A_ID
    assert decision.body["outcome"] == "hold"
    assert decision.body["rationale"] == rationale

    verified = run_cli(setup, "audit", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr


@pytest.mark.browser
@pytest.mark.timeout(300)
def test_viewer_of_one_initiative_finds_the_other_nowhere(page: Any, setup: SignInSetup) -> None:
    """Every page, a deep link to B and every steering download: nothing of B, no form."""
    assert len(PAGES) == len(APP_PAGES)  # every page of the app is visited
    cases = [(c.path, c.title) for c in PAGES]
    cases.append((f"initiative?initiative={B_ID}", "Initiative"))  # a deep link to B
    try:
        sign_in(page, setup, VIEWER)
    except Exception as exc:
        fail_with_logs(setup, page, "viewer-sign-in", exc)
    seen_a = []
    for path, title in cases:
        try:
            open_case(page, setup, path, title)
        except Exception as exc:
            fail_with_logs(setup, page, f"viewer-{title}", exc)
        text = app_text(page)
        assert B_ID not in text and B_NAME not in text, f"/{path} shows initiative B"
        for form_text in FORM_TEXTS:
            assert form_text not in text, f"/{path} shows the decision form ({form_text!r})"
        seen_a.append(A_NAME in text)
    assert any(seen_a), "initiative A appears on no page: the scope check proves nothing"

    open_case(page, setup, "steering", "Steering review")
    exported = len([e for e in audit_entries(setup) if e.kind == "export"])
    for label in DOWNLOADS:
        with page.expect_download(timeout=PAGE_TIMEOUT * 1000) as info:
            page.get_by_role("button", name=label).click()
        data = Path(info.value.path()).read_bytes()
        content = pdf_text(data) if data.startswith(b"%PDF") else data.decode("utf-8")
        assert A_ID in content or A_NAME in content, f"{label}: initiative A is missing"
        assert B_ID not in content and B_NAME not in content, f"{label} holds initiative B"
        wait_idle(page)
    # each download is an export in the chain, by the viewer, of initiative A only; the
    # download's on_click runs in the rerun the click starts, which may finish after the file
    # arrived: wait for it (a missing entry still fails after the deadline)
    deadline = time.monotonic() + PAGE_TIMEOUT
    while True:
        exports = [e for e in audit_entries(setup) if e.kind == "export"][exported:]
        if len(exports) >= len(DOWNLOADS) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    expected = [(VIEWER.email, [A_ID])] * len(DOWNLOADS)
    assert [(e.actor, e.body.get("initiatives")) for e in exports] == expected


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_user_without_a_role_sees_no_access(page: Any, setup: SignInSetup) -> None:
    """Signed in, but no rule matches: the no-access message, no initiative, no page list."""
    try:
        sign_in(page, setup, NO_ROLE)
        page.get_by_text(NO_ACCESS).first.wait_for(timeout=PAGE_TIMEOUT * 1000)
    except Exception as exc:
        fail_with_logs(setup, page, "norole", exc)
    text = app_text(page)
    assert A_NAME not in text and B_NAME not in text
    assert page.evaluate(NAV_LINKS_JS) == 0
    full_page_screenshot(page, ARTIFACTS / "signin-no-access.png")
