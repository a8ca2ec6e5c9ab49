"""Load benchmark: concurrent sessions, each opening three pages, measured on the server side.

Usage (see docs/performance.md, "Under load"):
    .venv/bin/python benchmarks/bench_load.py [--sessions 20] [--json PATH]

One `streamlit run app.py` (as tests/test_browser.py starts it) with PILOTWATCH_TIMING=1, so
app.py logs one `pilotwatch-timing page=... wall=... cpu=...` line per script run. A first
session warms the caches (sources loaded, report computed); then N sessions (browser contexts
of one headless Debian chromium, driven by async Playwright) open Portfolio, Initiative and SLOs
one after the other, all sessions at once. Reported from the server side:

- script-run wall seconds of the load phase (p50, p95, max): the time each run held its session;
- server CPU per warm visit: utime + stime of the server process (/proc/<pid>/stat) over the
  load phase, divided by the visits (every thread: script runs, network, garbage collection);
- errors: exceptions or error boxes on any page.

The browsers share the machine's cores with the server, so the wall times are upper bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import test_browser as tb  # noqa: E402  (server and page helpers shared with the browser test)

VISIT = (tb.PAGES[0], tb.PAGES[1], tb.PAGES[2])  # Portfolio, Initiative, SLOs


class TimedServer(tb.StreamlitServer):
    """The real app with PILOTWATCH_TIMING=1 (one timing line per script run in its log)."""

    def start(self, timeout: float = tb.HEALTH_TIMEOUT) -> TimedServer:
        os.environ["PILOTWATCH_TIMING"] = "1"  # inherited by the server process only here
        try:
            super().start(timeout)
        finally:
            os.environ.pop("PILOTWATCH_TIMING", None)
        return self


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timings(log: Path) -> list[tuple[float, float]]:
    """(wall, script-thread CPU) seconds of every logged script run, in log order."""
    out = []
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith("pilotwatch-timing "):
            fields = dict(item.split("=", 1) for item in line.split()[1:])
            out.append((float(fields["wall"]), float(fields["cpu"])))
    return out


async def session(browser: Any, base: str) -> list[str]:
    """One session: the three pages in turn; the errors it saw."""
    context = await browser.new_context(viewport=tb.VIEWPORT)
    errors: list[str] = []
    try:
        page = await context.new_page()
        for case in VISIT:
            await page.goto(case.url(base), wait_until="commit")
            await page.wait_for_function(
                tb.READY_JS, arg=[case.title, case.marker], timeout=120_000
            )
            errors += await page.evaluate(tb.ERRORS_JS)
    finally:
        await context.close()
    return errors


async def run(sessions: int) -> dict[str, Any]:
    """Warm the server with one session, then `sessions` at once; the server-side numbers."""
    from playwright.async_api import async_playwright

    log = ROOT / "test-artifacts" / "streamlit-bench-load.log"
    with TimedServer(log) as server:
        assert server.proc is not None
        async with async_playwright() as p:
            browser = await p.chromium.launch(
                executable_path=str(tb.CHROMIUM), args=tb.CHROMIUM_ARGS
            )
            try:
                await session(browser, server.base_url)  # cold: load and compute once
                warm_runs = len(timings(log))
                cpu0, wall0 = cpu_seconds(server.proc.pid), time.perf_counter()
                found = await asyncio.gather(
                    *(session(browser, server.base_url) for _ in range(sessions))
                )
                wall = time.perf_counter() - wall0
                cpu = cpu_seconds(server.proc.pid) - cpu0
            finally:
                await browser.close()
        runs = timings(log)[warm_runs:]
    visits = sessions * len(VISIT)
    ordered = sorted(wall for wall, _ in runs)
    script_cpu = sum(cpu for _, cpu in runs)
    return {
        "sessions": sessions,
        "visits": visits,
        "script_runs": len(runs),
        "p50_s": statistics.median(ordered),
        "p95_s": ordered[max(0, round(0.95 * len(ordered)) - 1)],
        "max_s": ordered[-1],
        "server_cpu_s": cpu,
        "cpu_per_visit_s": cpu / visits,
        "script_cpu_per_visit_s": script_cpu / visits,
        "load_phase_s": wall,
        "errors": [e for errs in found for e in errs],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    if not tb.CHROMIUM.exists():
        raise SystemExit(f"{tb.CHROMIUM} is missing (Debian: apt-get install chromium)")
    result = asyncio.run(run(args.sessions))
    print(
        "| sessions | visits | script runs | run p50 s | run p95 s | max s | CPU/visit s | errors |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(
        f"| {result['sessions']} | {result['visits']} | {result['script_runs']} | "
        f"{result['p50_s']:.3f} | {result['p95_s']:.3f} | {result['max_s']:.3f} | "
        f"{result['cpu_per_visit_s']:.3f} | {result['script_cpu_per_visit_s']:.3f} | "
        f"{len(result['errors'])} |"
    )
    print(
        f"load phase {result['load_phase_s']:.1f}s wall, server CPU {result['server_cpu_s']:.1f}s"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2))
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
