"""Browser regression test: the first session after a server start changes the as-of date.

The bug (issue 11): on a fresh server, the first session's first run of app.py happens in
Streamlit's pages/-folder mode, where the sidebar widgets get other identities than in every
later run. Changing the as-of date in that session then reset the as-of time from the demo's
12:00 to the clock time (another report, silently) and the URL got no `as_of_date`; later
sessions kept 12:00. The fix is `ui.context.route_first_run` (called first thing by app.py).

Uses the server and browser helpers of tests/test_browser.py (Debian chromium, a free port).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import test_browser as tb

# config/settings.yaml: demo_as_of 2026-11-16T12:00:00Z (a Monday); one week earlier:
NEW_DATE = "2026-11-09"
SIDEBAR = '[data-testid="stSidebar"]'
DAY_FIELD = f'{SIDEBAR} [data-testid="stDateInput"] [role="spinbutton"][data-type="day"]'
DATE_VALUE = f'{SIDEBAR} [data-testid="stDateInput"] input[type="date"]'
TIME_VALUE = f'{SIDEBAR} [data-testid="stTimeInput"] input[type="hidden"]'

# True once the script finished a run whose sidebar caption names the given as-of.
CAPTION_JS = """(wanted) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const side = document.querySelector('[data-testid="stSidebar"]');
  return !!side && side.innerText.includes('As of ' + wanted);
}"""


@pytest.fixture
def first_page() -> Iterator[tuple[tb.StreamlitServer, Any]]:
    """A server no session has opened yet and one browser tab: the server's first session."""
    tb.require_chromium()
    from playwright.sync_api import sync_playwright

    log = tb.ROOT / "test-artifacts" / "streamlit-asof-first-session.log"
    with tb.StreamlitServer(log) as server, sync_playwright() as p:
        browser = tb.launch_browser(p)
        try:
            yield server, browser.new_context(viewport=tb.VIEWPORT).new_page()
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_first_session_date_change_keeps_time_and_url(
    first_page: tuple[tb.StreamlitServer, Any],
) -> None:
    server, page = first_page
    portfolio = tb.PAGES[0]
    try:
        tb.open_page(page, server.base_url, portfolio, tb.COLD_TIMEOUT)
    except Exception as exc:
        body = page.locator("body").inner_text()[:2000]
        pytest.fail(f"the first page did not render ({exc}):\n{body}\n{server.log_tail()}")
    assert page.locator(DATE_VALUE).input_value() == "2026-11-16"
    assert page.locator(TIME_VALUE).input_value() == "12:00:00"

    # type the day into the date field; leaving the field (a click on the title) commits it
    page.locator(DAY_FIELD).click()
    page.keyboard.type("09")
    page.locator('[data-testid="stMain"] h1').first.click()
    try:
        page.wait_for_function(CAPTION_JS, arg=f"{NEW_DATE}T", timeout=tb.PAGE_TIMEOUT * 1000)
        tb.wait_rendered(page, portfolio)
    except Exception as exc:
        side = page.locator(SIDEBAR).inner_text()
        pytest.fail(f"no rerun for the new date ({exc}); sidebar:\n{side}\n{server.log_tail()}")

    assert page.locator(DATE_VALUE).input_value() == NEW_DATE
    assert page.locator(TIME_VALUE).input_value() == "12:00:00", "the time left 12:00"
    query = parse_qs(urlsplit(page.url).query)
    assert query.get("as_of_date") == [NEW_DATE], page.url
    assert query.get("as_of_time") == ["12:00"], page.url
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert f"As of {NEW_DATE}T12:00:00Z" in main, main[:400]
    sidebar = page.locator(SIDEBAR).inner_text()
    assert f"As of {NEW_DATE}T12:00:00Z" in sidebar


def _progress_script() -> None:
    """Two sources load (the callback of ui/loaders.py), then the report step."""
    from datetime import UTC, datetime

    import streamlit as st

    from ui.context import LoadProgress

    progress = LoadProgress()
    if st.session_state.get("cold", True):  # a warm run: the cached loader never calls back
        progress("requests", 0, 2)
        progress("requests", 1, 2)
        progress("incidents", 2, 2)
    progress.computing(datetime(2026, 11, 16, 12, tzinfo=UTC))
    if st.session_state.get("finish", False):
        progress.finish()


def test_load_progress_names_each_source_then_the_report_step() -> None:
    """The first visit shows a status box naming every source, never a blank page."""
    from streamlit.testing.v1 import AppTest

    app = AppTest.from_function(_progress_script).run()
    assert not app.exception
    assert [s.proto.label for s in app.get("status")] == [
        "Computing the report as of 2026-11-16T12:00:00Z…"
    ]
    assert [m.value for m in app.markdown] == [
        "Loading **requests** …",
        "Loaded **requests** (1 of 2)",
        "Loaded **incidents** (2 of 2)",
    ]
    app.session_state["finish"] = True
    app.run()
    assert not app.get("status"), "the box stays after the report is computed"
    warm = AppTest.from_function(_progress_script)
    warm.session_state["cold"] = False
    warm.run()
    assert not warm.get("status") and not warm.markdown, "a warm visit shows a status box"
