"""Benchmark page render times of the dashboard, end to end in headless Debian chromium.

Usage (see docs/performance.md, "Page render times"):
    .venv/bin/python benchmarks/bench_pages.py [--repeat 3] [--pages slos,steering]
        [--json benchmarks/results/pages.json]

For every page and repetition a fresh `streamlit run app.py` is started exactly as the browser
test does it (tests/test_browser.py: config/, data/demo, 127.0.0.1, a free port) and, once
`/_stcore/health` answers, Playwright drives /usr/bin/chromium (never a downloaded browser):

- cold: the first visit after the server start, in a new browser profile: from navigation to
  the page's main content rendered (title and a late page text present, Streamlit idle, no
  skeleton left, every chart drawn). It includes the first run of the app (imports), loading
  every source and computing the report.
- warm: a second visit to the same page right after, in a new session (a new page load) of
  the same browser profile: the cached config, data and report are reused.

Prints a markdown table (median, min and max seconds over the repetitions) and the machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_browser as tb  # noqa: E402  (server and page helpers shared with the browser test)
from test_asof_first_session import CAPTION_JS, NEW_DATE  # noqa: E402  (the as-of change)


def measure(pages: list[tb.PageCase], repeat: int) -> tuple[dict[str, dict[str, list[float]]], str]:
    """Cold and warm seconds per page name; and the browser version."""
    from playwright.sync_api import sync_playwright

    times: dict[str, dict[str, list[float]]] = {p.name: {"cold": [], "warm": []} for p in pages}
    log = ROOT / "test-artifacts" / "streamlit-bench-pages.log"
    with sync_playwright() as p:
        browser = tb.launch_browser(p)
        browser_version = browser.version
        try:
            for rep in range(1, repeat + 1):
                for case in pages:
                    with tb.StreamlitServer(log) as server:
                        context = browser.new_context(viewport=tb.VIEWPORT)
                        try:
                            cold = tb.open_page(
                                context.new_page(), server.base_url, case, tb.COLD_TIMEOUT
                            )
                            page = context.new_page()
                            warm = tb.open_page(page, server.base_url, case, tb.PAGE_TIMEOUT)
                            errors = tb.page_errors(page)
                        finally:
                            context.close()
                    if errors:
                        raise SystemExit(f"{case.name} shows errors: {errors}")
                    times[case.name]["cold"].append(cold)
                    times[case.name]["warm"].append(warm)
                    print(
                        f"[{rep}/{repeat}] {case.name:14} cold {cold:6.2f}s  warm {warm:6.2f}s",
                        file=sys.stderr,
                        flush=True,
                    )
        finally:
            browser.close()
    return times, browser_version


def stats(values: list[float]) -> str:
    """`median (min–max)` in seconds."""
    return f"{statistics.median(values):.2f} ({min(values):.2f}–{max(values):.2f})"


def table(pages: list[tb.PageCase], times: dict[str, dict[str, list[float]]]) -> str:
    rows = [
        "| page | URL | cold s, median (min–max) | warm s, median (min–max) |",
        "|---|---|---:|---:|",
    ]
    for case in pages:
        t = times[case.name]
        rows.append(f"| {case.title} | `/{case.path}` | {stats(t['cold'])} | {stats(t['warm'])} |")
    return "\n".join(rows)


def machine(browser_version: str) -> str:
    return (
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores, Python "
        f"{platform.python_version()}, streamlit {version('streamlit')}, polars "
        f"{version('polars')}, Debian chromium {browser_version} (headless, Playwright "
        f"{version('playwright')}), viewport {tb.VIEWPORT['width']}x{tb.VIEWPORT['height']}"
    )


# ----------------------------------------------------------------------------- floor comparison

FLOOR_SCRIPT = ROOT / "benchmarks" / "floor_app" / "app.py"
FLOOR_ONE = tb.PageCase("floor_one", "", "Floor one", "End of page one")
FLOOR_TWO = tb.PageCase("floor_two", "two", "Floor two", "End of page two")
REAL_ONE = tb.PAGES[0]  # Portfolio, the landing page at "/"
REAL_TWO = tb.PAGES[1]  # Initiative


class FloorServer(tb.StreamlitServer):
    """`streamlit run benchmarks/floor_app/app.py`, started like the real app (same flags)."""

    def start(self, timeout: float = tb.HEALTH_TIMEOUT) -> FloorServer:
        # from the project root: the same .streamlit/config.toml as the real app
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._launch(tb.streamlit_run(FLOOR_SCRIPT, self.port), env, timeout)
        return self


def _switch(page: Any, target: tb.PageCase) -> float:
    """Click the sidebar link to `target`; seconds until it rendered."""
    start = time.perf_counter()
    link = page.locator('[data-testid="stSidebarNavLink"]').filter(has_text=target.title)
    link.first.click()
    tb.wait_rendered(page, target)
    return time.perf_counter() - start


def _as_of_change(page: Any, case: tb.PageCase) -> float:
    """Type a new day into the sidebar's as-of date; seconds until the page shows it."""
    side = '[data-testid="stSidebar"]'
    page.locator(f'{side} [data-testid="stDateInput"] [data-type="day"]').click()
    page.keyboard.type(NEW_DATE[-2:])
    start = time.perf_counter()
    page.locator('[data-testid="stMain"] h1').first.click()  # leaving the field commits it
    page.wait_for_function(CAPTION_JS, arg=f"{NEW_DATE}T", timeout=tb.PAGE_TIMEOUT * 1000)
    tb.wait_rendered(page, case)
    return time.perf_counter() - start


def _one_app(
    browser: Any, server: tb.StreamlitServer, one: tb.PageCase, two: tb.PageCase, as_of: bool
) -> dict[str, float]:
    """First visit, new visit, sidebar switch (and as-of change) on a fresh server."""
    out: dict[str, float] = {}
    context = browser.new_context(viewport=tb.VIEWPORT)
    try:
        out["first visit"] = tb.open_page(context.new_page(), server.base_url, one, tb.COLD_TIMEOUT)
        page = context.new_page()
        out["new visit"] = tb.open_page(page, server.base_url, one, tb.PAGE_TIMEOUT)
        out["page switch"] = _switch(page, two)
        if as_of:
            out["as-of change"] = _as_of_change(page, two)
        errors = tb.page_errors(page)
    finally:
        context.close()
    if errors:
        raise SystemExit(f"{one.name} shows errors: {errors}")
    return out


def compare(repeat: int) -> tuple[dict[str, dict[str, list[float]]], str]:
    """Floor and app seconds per step, servers started alternately in the same run."""
    from playwright.sync_api import sync_playwright

    times: dict[str, dict[str, list[float]]] = {"floor": {}, "app": {}}
    log = ROOT / "test-artifacts" / "streamlit-bench-compare.log"
    with sync_playwright() as p:
        browser = tb.launch_browser(p)
        version_text = browser.version
        try:
            for rep in range(1, repeat + 1):
                with FloorServer(log) as floor:
                    got = _one_app(browser, floor, FLOOR_ONE, FLOOR_TWO, as_of=False)
                for step, value in got.items():
                    times["floor"].setdefault(step, []).append(value)
                with tb.StreamlitServer(log) as server:
                    got = _one_app(browser, server, REAL_ONE, REAL_TWO, as_of=True)
                for step, value in got.items():
                    times["app"].setdefault(step, []).append(value)
                print(f"[{rep}/{repeat}] {times}", file=sys.stderr, flush=True)
        finally:
            browser.close()
    return times, version_text


TARGETS = {
    "first visit": "<= 1.5x",
    "new visit": "<= 1.3x",
    "page switch": "<= 1.3x",
    "as-of change": "<= 1 s",
}


def compare_table(times: dict[str, dict[str, list[float]]]) -> str:
    """Median seconds of floor and app per step, the ratio and the issue's target."""
    rows = ["| step | floor s | app s | app / floor | target |", "|---|---:|---:|---:|---|"]
    for step, target in TARGETS.items():
        app = statistics.median(times["app"][step])
        floor_values = times["floor"].get(step)
        if floor_values:
            floor = statistics.median(floor_values)
            rows.append(f"| {step} | {floor:.2f} | {app:.2f} | {app / floor:.2f}x | {target} |")
        else:
            rows.append(f"| {step} | – | {app:.2f} | – | {target} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="servers started per page")
    parser.add_argument(
        "--pages",
        default=",".join(p.name for p in tb.PAGES),
        help="comma-separated page names (default: all eight)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw seconds as JSON here")
    parser.add_argument(
        "--compare",
        action="store_true",
        help="compare with the trivial floor app (benchmarks/floor_app/) instead",
    )
    args = parser.parse_args(argv)
    by_name = {p.name: p for p in tb.PAGES}
    unknown = [n for n in args.pages.split(",") if n not in by_name]
    if unknown:
        parser.error(f"unknown page(s) {unknown}; choose from {sorted(by_name)}")
    if not tb.CHROMIUM.exists():
        raise SystemExit(f"{tb.CHROMIUM} is missing (Debian: apt-get install chromium)")
    pages = [by_name[n] for n in args.pages.split(",")]

    started = time.perf_counter()
    if args.compare:
        compared, browser_version = compare(args.repeat)
        print(compare_table(compared))
        print()
        print(
            f"{args.repeat} repetition(s), floor and app servers alternately; "
            f"{time.perf_counter() - started:.0f}s in all. Machine: {machine(browser_version)}."
        )
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"machine": machine(browser_version), **compared}))
        return 0
    times, browser_version = measure(pages, args.repeat)
    print(table(pages, times))
    print()
    print(
        f"{args.repeat} repetition(s), a fresh server per page and repetition; "
        f"{time.perf_counter() - started:.0f}s in all. Machine: {machine(browser_version)}."
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"machine": machine(browser_version), "seconds": times}, indent=2)
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
