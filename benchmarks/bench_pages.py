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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_browser as tb  # noqa: E402  (server and page helpers shared with the browser test)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="servers started per page")
    parser.add_argument(
        "--pages",
        default=",".join(p.name for p in tb.PAGES),
        help="comma-separated page names (default: all eight)",
    )
    parser.add_argument("--json", type=Path, help="also write the raw seconds as JSON here")
    args = parser.parse_args(argv)
    by_name = {p.name: p for p in tb.PAGES}
    unknown = [n for n in args.pages.split(",") if n not in by_name]
    if unknown:
        parser.error(f"unknown page(s) {unknown}; choose from {sorted(by_name)}")
    if not tb.CHROMIUM.exists():
        raise SystemExit(f"{tb.CHROMIUM} is missing (Debian: apt-get install chromium)")
    pages = [by_name[n] for n in args.pages.split(",")]

    started = time.perf_counter()
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
