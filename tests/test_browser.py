"""Browser test: every page of the real app, served by `streamlit run`, in headless chromium.

A module fixture starts `streamlit run app.py` on a free port of 127.0.0.1 (config/ and the demo
data in data/demo, written first when missing), waits for `/_stcore/health` and stops the
server again afterwards, also when a test fails. Each page is opened in a fresh browser session
with Playwright driving Debian's /usr/bin/chromium (never a downloaded browser) and must render
its main content (title, a page-specific text late in the page, every chart drawn, Streamlit
idle) without an exception or an error box; a screenshot per page goes to
test-artifacts/screenshots/ (gitignored).

Warning and info banners are legitimate (the demo has a stale source). The red boxes the
Initiative page shows for gate blockers ("Blocker <check>: ...") are content, not failures; one
case opens a no-go initiative to check that they render.

Without /usr/bin/chromium the tests skip with the reason, unless PILOTWATCH_REQUIRE_SERVICES=1
(CI), where they fail. The same flow regenerates the README's screenshots:

    .venv/bin/python tests/test_browser.py docs/screenshots

`benchmarks/bench_pages.py` reuses the server and page helpers of this module.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from managed_process import ManagedProcess, free_port

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
HEALTH_TIMEOUT = 60.0  # seconds until /_stcore/health answers "ok"
COLD_TIMEOUT = 90.0  # the first page a server renders loads every source and computes
PAGE_TIMEOUT = 45.0


@dataclass(frozen=True)
class PageCase:
    """A page to open: its name, URL path, the title (h1) and a text its script writes late."""

    name: str
    path: str
    title: str
    marker: str

    def url(self, base: str) -> str:
        return f"{base}/{self.path}"


# The Portfolio page is the default landing page (innovation leader): it lives at "/".
PAGES: tuple[PageCase, ...] = (
    PageCase("portfolio", "", "Portfolio", "Stage funnel"),
    PageCase("initiative", "initiative", "Initiative", "Gate checklist"),
    PageCase("slos", "slos", "SLOs", "Burn rates and multiwindow alerts"),
    PageCase("delivery", "delivery", "Delivery and incidents", "How incidents are linked"),
    PageCase("outcomes", "outcomes", "Outcomes", "Trends"),
    PageCase("compliance", "compliance", "Compliance", "Controls by initiative"),
    PageCase("steering", "steering", "Steering review", "Downloads"),
    PageCase("data_sources", "data_sources", "Data sources", "Quarantined rows"),
)
# A no-go initiative (demo data): its blocker boxes are st.error by design.
BLOCKERS = PageCase(
    "initiative_blockers", "initiative?initiative=prior-auth", "Initiative", "Gate checklist"
)

# True once the page's script finished and its main content is on screen.
READY_JS = """([title, marker]) => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  if (app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  if (status && status.innerText.trim() !== '') return false;
  const main = document.querySelector('[data-testid="stMain"]');
  if (!main || main.querySelector('[data-stale="true"]')) return false;
  // lazily loaded elements (charts, tables, metrics ...) are skeletons until their code loaded;
  // those in a tab that is not shown stay skeletons until the tab opens
  const shown = e => e.getClientRects().length > 0;
  if (Array.from(main.querySelectorAll('[data-testid="stSkeleton"]')).some(shown)) return false;
  const titles = Array.from(main.querySelectorAll('h1')).map(h => h.innerText.trim());
  if (!titles.includes(title)) return false;
  if (!main.innerText.includes(marker)) return false;
  for (const chart of main.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (shown(chart) && !chart.querySelector('canvas, svg')) return false;
  }
  return true;
}"""

# Exceptions and error boxes, except the Initiative page's gate-blocker boxes.
ERRORS_JS = r"""() => {
  const out = [];
  for (const e of document.querySelectorAll('[data-testid="stException"]')) {
    out.push('exception: ' + e.innerText.trim());
  }
  for (const e of document.querySelectorAll('[data-testid="stAlertContentError"]')) {
    const text = e.innerText.trim();
    if (!/^\W*Blocker \S+: /.test(text)) out.push('error box: ' + text);
  }
  return out;
}"""

# The sidebar navigation's page names (the last line of each link: the first is its icon).
NAV_JS = """() => Array.from(document.querySelectorAll('[data-testid="stSidebarNavLink"]'))
  .map(e => e.innerText.trim().split('\\n').pop().trim())"""
NAV_TITLES = [
    "Portfolio",
    "Initiative",
    "SLOs",
    "Delivery and incidents",
    "Outcomes",
    "Compliance",
    "Steering review",
    "Data sources",
]

BLOCKERS_JS = r"""() => Array.from(
  document.querySelectorAll('[data-testid="stAlertContentError"]')
).filter(e => /^\W*Blocker \S+: /.test(e.innerText.trim())).length"""


# ----------------------------------------------------------------------------- helpers


def require_chromium() -> None:
    """Skip (fail with PILOTWATCH_REQUIRE_SERVICES=1) when the browser cannot be driven."""
    reason = None
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        reason = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            reason = "the playwright Python package is not installed"
    if reason is None:
        return
    if os.environ.get("PILOTWATCH_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (PILOTWATCH_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


def ensure_demo() -> Path:
    """data/demo, written (with its `.complete` marker, like the CLI) when missing."""
    if not (DEMO / ".complete").exists():
        from pilotwatch.demo import write_demo

        write_demo(DEMO)
        (DEMO / ".complete").write_text("ok\n")
    return DEMO


def streamlit_run(script: str | Path, port: int, *options: str) -> list[str]:
    """`streamlit run script` headless on 127.0.0.1:port without usage stats, plus `options`."""
    streamlit = Path(sys.executable).with_name("streamlit")
    command = [str(streamlit)] if streamlit.exists() else [sys.executable, "-m", "streamlit"]
    return [
        *command,
        "run",
        str(script),
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        *options,
    ]


class StreamlitServer(ManagedProcess):
    """`streamlit run app.py` on 127.0.0.1:<free port>; a context manager that always stops it."""

    stop_timeout = 15.0

    def __init__(self, log_path: Path) -> None:
        super().__init__(log_path)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.rendered = False  # True once a page rendered (sources loaded, report computed)

    def start(self, timeout: float = HEALTH_TIMEOUT) -> StreamlitServer:
        ensure_demo()
        env = {k: v for k, v in os.environ.items() if k != "PILOTWATCH_CONFIG"}  # config/
        env["PYTHONUNBUFFERED"] = "1"
        self._launch(streamlit_run("app.py", self.port), env, timeout)
        return self

    def _launch(self, command: list[str], env: dict[str, str], timeout: float) -> None:
        """Run `command` from the project root and wait for its health check (stopped if not)."""
        self._spawn(command, cwd=ROOT, env=env)
        try:
            self._wait_healthy(timeout)
        except BaseException:
            self.stop()
            raise

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.base_url}/_stcore/health", timeout=2) as r:  # noqa: S310
                    if r.status == 200 and r.read().strip() == b"ok":
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise TimeoutError(f"no /_stcore/health after {timeout:.0f}s:\n{self.log_tail()}")


@contextlib.contextmanager
def running_browser() -> Iterator[Any]:
    """Debian's chromium under a Playwright session, closed at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = launch_browser(p)
        try:
            yield chromium
        finally:
            chromium.close()


def launch_browser(playwright: Any) -> Any:
    """Debian's chromium, headless, driven by Playwright (no downloaded browser)."""
    return playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)


def wait_rendered(page: Any, case: PageCase, timeout: float = PAGE_TIMEOUT) -> None:
    """Wait until the page's script finished and its main content (and charts) is drawn."""
    page.wait_for_function(READY_JS, arg=[case.title, case.marker], timeout=timeout * 1000)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=5000)


def open_page(page: Any, base_url: str, case: PageCase, timeout: float = PAGE_TIMEOUT) -> float:
    """Navigate to the page and wait until it rendered; seconds from navigation to rendered."""
    start = time.perf_counter()
    page.goto(case.url(base_url), wait_until="commit", timeout=timeout * 1000)
    wait_rendered(page, case, timeout)
    return time.perf_counter() - start


def page_errors(page: Any) -> list[str]:
    """Exceptions and error boxes on the page (gate-blocker boxes excepted)."""
    return list(page.evaluate(ERRORS_JS))


PAGE_HEIGHT_JS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const side = document.querySelector('[data-testid="stSidebarContent"]');
  return Math.max(main ? main.scrollHeight : 0, side ? side.scrollHeight : 0);
}"""


def settled_height(page: Any, timeout: float = 10.0) -> int:
    """The page's content height once it stopped changing (charts and tables size late)."""
    deadline = time.monotonic() + timeout
    last, same = -1, 0
    while time.monotonic() < deadline:
        height = int(page.evaluate(PAGE_HEIGHT_JS))
        same = same + 1 if height == last else 0
        if same >= 3:
            break
        last = height
        page.wait_for_timeout(250)
    return last


def full_page_screenshot(page: Any, path: Path) -> Path:
    """The whole page as PNG. Streamlit scrolls inside stMain (and the sidebar), not the
    document, so the viewport grows to the content's height first."""
    width = page.viewport_size["width"]
    height = page.viewport_size["height"]
    for _ in range(5):  # growing the viewport can reflow the page: repeat until stable
        wanted = max(settled_height(page), height)
        if wanted == height:
            break
        height = wanted
        page.set_viewport_size({"width": width, "height": height})
    page.evaluate("document.fonts.ready")
    page.wait_for_timeout(300)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), type="png", full_page=True)
    return path


def shrink_png(path: Path) -> Path:
    """Re-encode a screenshot with a 256-colour palette (UI colours are flat): ~3x smaller."""
    from PIL import Image

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=256, dither=Image.Dither.NONE)
    small.save(path, optimize=True)
    return path


def capture_pages(
    out_dir: Path, cases: tuple[PageCase, ...] = PAGES, viewport: dict[str, int] = VIEWPORT
) -> list[tuple[PageCase, float, list[str]]]:
    """Start a server and save a full-page screenshot per page; (case, seconds, errors) each."""
    from playwright.sync_api import sync_playwright

    results = []
    log = ROOT / "test-artifacts" / "streamlit-capture.log"
    with StreamlitServer(log) as server, sync_playwright() as p:
        browser = launch_browser(p)
        try:
            for i, case in enumerate(cases):
                context = browser.new_context(viewport=viewport)
                page = context.new_page()
                seconds = open_page(
                    page, server.base_url, case, COLD_TIMEOUT if i == 0 else PAGE_TIMEOUT
                )
                full_page_screenshot(page, out_dir / f"{case.name}.png")
                results.append((case, seconds, page_errors(page)))
                context.close()
        finally:
            browser.close()
    return results


# ----------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def app_server() -> Iterator[StreamlitServer]:
    """The real app on a free port, stopped after the module (also when a test failed)."""
    require_chromium()
    server = StreamlitServer(ROOT / "test-artifacts" / "streamlit-browser-test.log")
    with server:
        yield server


@pytest.fixture(scope="module")
def browser(app_server: StreamlitServer) -> Iterator[Any]:
    """Headless Debian chromium, driven by Playwright."""
    with running_browser() as chromium:
        yield chromium


@pytest.fixture
def fresh_server() -> Iterator[StreamlitServer]:
    """A server of its own that no session has opened yet."""
    require_chromium()
    with StreamlitServer(ROOT / "test-artifacts" / "streamlit-deep-link.log") as server:
        yield server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh browser context (its own Streamlit session); JavaScript errors are collected."""
    context = browser.new_context(viewport=VIEWPORT)
    tab = context.new_page()
    tab.js_errors = []
    tab.on("pageerror", lambda exc: tab.js_errors.append(str(exc)))
    try:
        yield tab
    finally:
        context.close()


# ----------------------------------------------------------------------------- tests


def _render(page: Any, server: StreamlitServer, case: PageCase) -> None:
    """Open the page (longer timeout for the server's first render) and save a screenshot."""
    timeout = PAGE_TIMEOUT if server.rendered else COLD_TIMEOUT
    try:
        open_page(page, server.base_url, case, timeout)
    except Exception as exc:
        with contextlib.suppress(Exception):
            full_page_screenshot(page, ARTIFACTS / f"{case.name}-FAILED.png")
        pytest.fail(
            f"{case.name} did not render within {timeout:.0f}s ({type(exc).__name__}: {exc})\n"
            f"server log:\n{server.log_tail()}"
        )
    server.rendered = True
    full_page_screenshot(page, ARTIFACTS / f"{case.name}.png")


@pytest.mark.browser
@pytest.mark.timeout(180)
@pytest.mark.parametrize("case", PAGES, ids=[c.name for c in PAGES])
def test_page_renders_without_errors(
    page: Any, app_server: StreamlitServer, case: PageCase
) -> None:
    _render(page, app_server, case)
    errors = page_errors(page)
    assert not errors, f"{case.name} shows errors: {errors}\nserver log:\n{app_server.log_tail()}"
    assert not page.js_errors, f"{case.name}: JavaScript errors {page.js_errors}"


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_initiative_blockers_render(page: Any, app_server: StreamlitServer) -> None:
    """A no-go initiative shows its blocker boxes and nothing else that is an error."""
    _render(page, app_server, BLOCKERS)
    assert page.evaluate(BLOCKERS_JS) >= 1, "no blocker box for the no-go initiative prior-auth"
    assert not page_errors(page)
    assert not page.js_errors, f"JavaScript errors {page.js_errors}"


# A shared link that is the first request a fresh server gets, with a filter and a chosen SLO.
DEEP_LINK = PageCase(
    "slos_first_deep_link",
    "slos?slo=sepsis-ews-availability&f_stage=pilot",
    "SLOs",
    "Burn rates and multiwindow alerts",
)


@pytest.mark.browser
@pytest.mark.timeout(180)
def test_first_deep_link_uses_app_navigation(page: Any, fresh_server: StreamlitServer) -> None:
    """A shared link is often the first request a server gets: it must look like the app.

    Until some session ran app.py, Streamlit would run the page file alone in its pages/-folder
    mode (sidebar listing app and every page file; narrow layout); the page hands the request to the
    router instead, keeping the page and its query parameters.
    """
    open_page(page, fresh_server.base_url, DEEP_LINK, COLD_TIMEOUT)
    full_page_screenshot(page, ARTIFACTS / f"{DEEP_LINK.name}.png")
    assert page_errors(page) == []
    assert page.evaluate(NAV_JS) == NAV_TITLES
    assert "streamlit-wide" in page.evaluate(
        "document.querySelector('[data-testid=stApp]').className"
    )
    main = page.locator('[data-testid="stMain"]').inner_text()
    assert "sepsis-ews-availability ·" in main  # ?slo= chose the SLO
    assert "(filtered)" in main  # ?f_stage= filtered the initiatives
    assert page.url.endswith("/slos?slo=sepsis-ews-availability&f_stage=pilot"), page.url


if __name__ == "__main__":  # regenerate the README's screenshots
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ARTIFACTS
    for shown, took, problems in capture_pages(target):
        size = shrink_png(target / f"{shown.name}.png").stat().st_size
        print(f"{shown.name:14} {took:6.2f}s {size / 1024:6.0f} KiB {'; '.join(problems) or 'ok'}")
