"""Load benchmark: concurrent sessions, each opening three pages, measured on the server side.

Usage (see docs/performance.md, "Under load"):
    .venv/bin/python benchmarks/bench_load.py [--sessions 20] [--client protocol|browser]
        [--json PATH]

One `streamlit run app.py` (as tests/test_browser.py starts it) with PILOTWATCH_TIMING=1, so
app.py logs one `pilotwatch-timing page=... wall=... cpu=...` line per script run. A first
session warms the caches (sources loaded, report computed); then N sessions open Portfolio,
Initiative and SLOs one after the other, all sessions at once. The sessions are

- `--client protocol` (default): Streamlit-protocol clients (benchmarks/st_client.py), all in
  this process on one asyncio loop, no browser. A session is one websocket: Portfolio is a page
  load on connect (the `rerun_script` a browser sends for the URL "/"), Initiative and SLOs are
  navigations in that session (the `rerun_script` of a sidebar link, with the page's script
  hash). A visit counts only when its run chain ended with `script_finished` = success, the
  page's title arrived as an h1 and its page-specific text (tests/test_browser.py's marker)
  arrived, with no exception element and no error box;
- `--client browser`: browser contexts of one headless Debian chromium, driven by async
  Playwright, each `goto` of the page's URL until it is drawn (tests/test_browser.py READY_JS).
  Each goto is a fresh page load: a new websocket and a new server session per visit, plus the
  frontend's static files for the first. The browsers share the machine's cores with the
  server, so their wall times are upper bounds.

Reported from the server side:

- script-run wall seconds of the load phase (p50, p95, max): the time each run held its
  session, from app.py's first line to its last (the timing log);
- server CPU per warm visit: utime + stime of the server process (/proc/<pid>/stat) over the
  load phase, divided by the visits (every thread: script runs, network, garbage collection);
  the script threads' own CPU per visit (the timing log) next to it;
- errors: exceptions or error boxes on any page (and, protocol client, a failed check above).

And from the client side: seconds per visit (p50, p95; protocol: from sending the BackMsg to
the final script_finished; browser: from goto to drawn), the client process's own CPU (protocol
client) and the CPU the rest of the machine used meanwhile (all cores' busy time from /proc/stat
minus the server's), to show what competed with the server.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import st_client  # noqa: E402
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


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: all but idle and iowait)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


# print() writes the text and its newline separately: two script threads finishing at once can
# put two timing records on one line, so records are found anywhere, not per line
TIMING = re.compile(r"pilotwatch-timing page=(\S+?) wall=(\d+\.\d+) cpu=(\d+\.\d+)")


def timings(log: Path) -> list[tuple[str, float, float]]:
    """(page, wall, script-thread CPU seconds) of every logged script run, in log order."""
    return [
        (page, float(wall), float(cpu))
        for page, wall, cpu in TIMING.findall(log.read_text(errors="replace"))
    ]


def code_state() -> str:
    """HEAD and a digest of the uncommitted app changes: which code was measured."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        diff = subprocess.run(
            ["git", "diff", "HEAD", "--", ".", ":!benchmarks", ":!docs", ":!tests"],
            cwd=ROOT,
            capture_output=True,
        ).stdout
    except OSError:
        return "unknown"
    return f"{head}+{hashlib.sha256(diff).hexdigest()[:8]}" if diff else head


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(values)
    return ordered[max(0, round(0.95 * len(ordered)) - 1)]


# ----------------------------------------------------------------------------- clients


def check_run(case: tb.PageCase, run: st_client.PageRun) -> list[str]:
    """The errors of one protocol visit, the checks that it rendered its page included."""
    errors = [f"{case.name}: {e}" for e in run.errors]
    if run.status != "success":
        errors.append(f"{case.name}: script_finished {run.status}")
    if case.title not in run.h1:
        errors.append(f"{case.name}: no h1 {case.title!r} (got {run.h1})")
    if not run.has_text(case.marker):
        errors.append(f"{case.name}: {case.marker!r} did not arrive")
    return errors


async def protocol_session(base: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One protocol session: the three pages in turn; (one record per visit, errors)."""
    visits: list[dict[str, Any]] = []
    errors: list[str] = []
    started = time.perf_counter()
    try:
        async with st_client.Session(base) as session:
            connect_s = time.perf_counter() - started
            for i, case in enumerate(VISIT):
                run = await (session.load(case.path) if i == 0 else session.navigate(case.path))
                errors += check_run(case, run)
                visits.append(
                    {
                        "page": case.name,
                        "seconds": run.seconds,
                        "connect_s": connect_s if i == 0 else 0.0,
                        "runs": run.runs,
                        "messages": run.messages,
                        "elements": run.elements,
                        "blocks": run.blocks,
                    }
                )
    except OSError as exc:  # refused, reset: the server dropped the session
        errors.append(f"connection: {exc!r}")
    return visits, errors


async def browser_session(browser: Any, base: str) -> tuple[list[dict[str, Any]], list[str]]:
    """One browser context: the three pages in turn; (one record per visit, errors)."""
    context = await browser.new_context(viewport=tb.VIEWPORT)
    visits: list[dict[str, Any]] = []
    errors: list[str] = []
    try:
        page = await context.new_page()
        for case in VISIT:
            started = time.perf_counter()
            await page.goto(case.url(base), wait_until="commit")
            await page.wait_for_function(
                tb.READY_JS, arg=[case.title, case.marker], timeout=120_000
            )
            visits.append({"page": case.name, "seconds": time.perf_counter() - started})
            errors += [f"{case.name}: {e}" for e in await page.evaluate(tb.ERRORS_JS)]
    finally:
        await context.close()
    return visits, errors


# ----------------------------------------------------------------------------- the run


async def run(sessions: int, client: str = "protocol") -> dict[str, Any]:
    """Warm the server with one session, then `sessions` at once; the server-side numbers."""
    log = ROOT / "test-artifacts" / "streamlit-bench-load.log"
    with TimedServer(log) as server:
        assert server.proc is not None
        pid, base = server.proc.pid, server.base_url
        if client == "protocol":
            _, warm_errors = await protocol_session(base)  # cold: load and compute
            if warm_errors:
                raise SystemExit(f"the warm-up session failed: {warm_errors}")
            measured = await _measured(pid, log, [protocol_session(base) for _ in range(sessions)])
        else:
            from playwright.async_api import async_playwright

            async with async_playwright() as p:
                browser = await p.chromium.launch(
                    executable_path=str(tb.CHROMIUM), args=tb.CHROMIUM_ARGS
                )
                try:
                    await browser_session(browser, base)  # cold: load and compute once
                    measured = await _measured(
                        pid, log, [browser_session(browser, base) for _ in range(sessions)]
                    )
                finally:
                    await browser.close()
    return _summary(client, sessions, measured)


async def _measured(pid: int, log: Path, coros: list[Any]) -> dict[str, Any]:
    """Run the sessions at once; their results and the CPU and log lines of that phase."""
    warm_runs = len(timings(log))
    cpu0, busy0, own0 = cpu_seconds(pid), machine_busy_seconds(), time.process_time()
    wall0 = time.perf_counter()
    results = await asyncio.gather(*coros)
    wall = time.perf_counter() - wall0
    own = time.process_time() - own0
    cpu, busy = cpu_seconds(pid) - cpu0, machine_busy_seconds() - busy0
    await asyncio.sleep(
        0.5
    )  # the last runs' timing lines: printed after their last message was sent
    return {
        "results": results,
        "runs": timings(log)[warm_runs:],
        "wall": wall,
        "server_cpu": cpu,
        "other_cpu": busy - cpu,
        "client_cpu": own,
    }


def _summary(client: str, sessions: int, m: dict[str, Any]) -> dict[str, Any]:
    visits = [v for visits, _ in m["results"] for v in visits]
    errors = [e for _, errs in m["results"] for e in errs]
    n_visits = sessions * len(VISIT)
    if len(visits) != n_visits:
        errors.append(f"{len(visits)} of {n_visits} visits completed")
    walls = [wall for _, wall, _ in m["runs"]]
    client_s = [v["seconds"] for v in visits]
    per_page: dict[str, Any] = {}
    for case in VISIT:
        mine = [v for v in visits if v["page"] == case.name]
        path = case.path or "/"
        runs = [wall for page, wall, _ in m["runs"] if page == path]
        per_page[case.name] = {
            "server_runs": len(runs),
            "server_p95_s": p95(runs) if runs else None,
            "client_p95_s": p95([v["seconds"] for v in mine]) if mine else None,
            "elements_min": min((v.get("elements", 0) for v in mine), default=0),
            "elements_max": max((v.get("elements", 0) for v in mine), default=0),
        }
    return {
        "client": client,
        "sessions": sessions,
        "visits": n_visits,
        "script_runs": len(m["runs"]),
        "p50_s": statistics.median(walls),
        "p95_s": p95(walls),
        "max_s": max(walls),
        "server_cpu_s": m["server_cpu"],
        "cpu_per_visit_s": m["server_cpu"] / n_visits,
        "script_cpu_per_visit_s": sum(cpu for _, _, cpu in m["runs"]) / n_visits,
        "client_p50_s": statistics.median(client_s) if client_s else None,
        "client_p95_s": p95(client_s) if client_s else None,
        "client_cpu_s": m["client_cpu"],
        "other_cpu_s": m["other_cpu"],
        "cores": os.cpu_count(),
        "code": code_state(),
        "load_phase_s": m["wall"],
        "per_page": per_page,
        "errors": errors,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=20, help="concurrent sessions")
    parser.add_argument(
        "--client",
        choices=("protocol", "browser"),
        default="protocol",
        help="Streamlit-protocol clients in this process (default) or chromium contexts",
    )
    parser.add_argument("--json", type=Path, help="also write the numbers as JSON here")
    args = parser.parse_args(argv)
    if args.client == "browser" and not tb.CHROMIUM.exists():
        raise SystemExit(f"{tb.CHROMIUM} is missing (Debian: apt-get install chromium)")
    r = asyncio.run(run(args.sessions, args.client))
    print(
        "| client | sessions | visits | script runs | run p50 s | run p95 s | max s "
        "| CPU/visit s | script CPU/visit s | visit p50 s | visit p95 s | client CPU s "
        "| other CPU s | errors |"
    )
    print("|---|" + "---:|" * 13)
    client_cpu = f"{r['client_cpu_s']:.2f}" if r["client"] == "protocol" else "(chromium)"
    print(
        f"| {r['client']} | {r['sessions']} | {r['visits']} | {r['script_runs']} | "
        f"{r['p50_s']:.3f} | {r['p95_s']:.3f} | {r['max_s']:.3f} | "
        f"{r['cpu_per_visit_s']:.3f} | {r['script_cpu_per_visit_s']:.3f} | "
        f"{r['client_p50_s']:.3f} | {r['client_p95_s']:.3f} | {client_cpu} | "
        f"{r['other_cpu_s']:.1f} | {len(r['errors'])} |"
    )
    print(
        f"load phase {r['load_phase_s']:.1f}s wall on {r['cores']} cores, "
        f"server CPU {r['server_cpu_s']:.1f}s, code {r['code']}"
    )
    for name, page in r["per_page"].items():
        elements = f", elements {page['elements_min']}-{page['elements_max']}"
        print(
            f"  {name}: {page['server_runs']} runs, server p95 {page['server_p95_s']:.3f}s, "
            f"client p95 {page['client_p95_s']:.3f}s"
            + (elements if r["client"] == "protocol" else "")
        )
    for error in r["errors"][:20]:
        print(f"error: {error}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(r, indent=2))
    return 1 if r["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
