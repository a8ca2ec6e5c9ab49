"""Benchmark the steering pack of the demo portfolio: gather, HTML, PDF and the whole CLI.

Usage (see docs/performance.md, "Steering pack"):
    .venv/bin/python benchmarks/bench_pack.py [--repeat 3] [--paper A4|Letter]
        [--json benchmarks/results/pack.json]

The demo data is data/demo (`python3 dev.py setup` writes it; written here when missing) and
the configuration config/: the eight demo initiatives, as the CLI's service identity sees them.
The audit log is an empty SQLite file of this run (PILOTWATCH_AUDIT_URL), never data/'s.

In this process, after one engine run (load the sources, compute the report; timed once, as
`engine run`), each repetition times the steps of `pilotwatch report --pdf`:
- history:     the readiness trend's reports: `compute_visible_history` at the 8 Mondays
               before the as-of (`pilotwatch.cli.PACK_TREND_WEEKS`, as the CLI computes them);
- gather:      `pilotwatch.pack.gather(run, log, history=...)`: the pack's inputs;
- render_html: `render_html(inputs)`: the charts (vl-convert) and the Jinja2 document;
- render_pdf:  `render_pdf(inputs, html=html)`: that HTML typeset by WeasyPrint (as the CLI).
The first repetition also pays each library's first use (vl-convert's engine, WeasyPrint's
fonts); the table shows the best repetition and the first one.

Then, `--repeat` times, the whole `pilotwatch report --pdf <file>` command in a fresh process:
interpreter start, imports, loading every source, the report, the trend, the pack and the file
(its export logged); and once more with `--no-trend`. Its PDF's bytes must be the same every
time (the pack is deterministic).
Target (issue 12): a pack of the eight demo initiatives in under 10 s.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "data" / "demo"
CONFIG = ROOT / "config"
CLI = ROOT / ".venv" / "bin" / "pilotwatch"
RESULTS = ROOT / "benchmarks" / "results"  # gitignored
TARGET_SECONDS = 10.0
STEPS = ("history", "gather", "render_html", "render_pdf")


def ensure_demo() -> None:
    """data/demo as `python3 dev.py setup` writes it, when missing."""
    if not (DEMO / ".complete").exists():
        subprocess.run([str(CLI), "demo", "--out", str(DEMO)], check=True, cwd=ROOT)


def timed(work: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[float, Any]:
    """Wall seconds of `work(*args, **kwargs)` and its result."""
    start = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - start, result


def measure_steps(repeat: int, paper: str) -> tuple[dict[str, list[float]], dict[str, Any]]:
    """Seconds per step and repetition; and what the pack holds (initiatives, sizes)."""
    from pilotwatch.audit.store import AuditLog
    from pilotwatch.cli import PACK_TREND_WEEKS, run_as_service
    from pilotwatch.history import compute_visible_history, default_instants
    from pilotwatch.pack import gather, render_html, render_pdf

    seconds, (run, identity, full) = timed(run_as_service, CONFIG, None)
    log = AuditLog.for_config(full)
    as_of = run.report.as_of
    instants = [t for t in default_instants(as_of, PACK_TREND_WEEKS) if t < as_of]
    times: dict[str, list[float]] = {"engine run": [seconds]} | {step: [] for step in STEPS}
    facts: dict[str, Any] = {"initiatives": len(run.report.initiatives), "trend": len(instants)}
    for rep in range(1, repeat + 1):
        t_hist, history = timed(compute_visible_history, full, run.data, instants, identity)
        t_gather, inputs = timed(gather, run, log, paper=paper, history=history)
        t_html, html = timed(render_html, inputs)
        t_pdf, pdf = timed(render_pdf, inputs, html=html)
        for step, value in zip(STEPS, (t_hist, t_gather, t_html, t_pdf), strict=True):
            times[step].append(value)
        facts |= {"html_bytes": len(html.encode()), "pdf_bytes": len(pdf)}
        print(
            f"[{rep}/{repeat}] history {t_hist:6.3f}s  gather {t_gather:6.3f}s  "
            f"render_html {t_html:6.3f}s  render_pdf {t_pdf:6.3f}s",
            file=sys.stderr,
            flush=True,
        )
    return times, facts


def pdf_pages(path: Path) -> int | None:
    """The PDF's page count by poppler's pdfinfo (None without it)."""
    if shutil.which("pdfinfo") is None:
        return None
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def measure_cli(repeat: int, scratch: Path, *flags: str) -> tuple[list[float], dict[str, Any]]:
    """Wall seconds of `pilotwatch report --pdf [flags]` in a fresh process, per repetition."""
    times: list[float] = []
    digests: set[str] = set()
    out, first = scratch / "pack.pdf", scratch / "first.pdf"
    for rep in range(1, repeat + 1):
        out.unlink(missing_ok=True)
        command = [str(CLI), "report", "--config", str(CONFIG), "--pdf", str(out), *flags]
        seconds, proc = timed(
            subprocess.run, command, capture_output=True, text=True, cwd=ROOT, check=False
        )
        if proc.returncode:
            raise SystemExit(f"pilotwatch report --pdf failed:\n{proc.stderr[-4000:]}")
        times.append(seconds)
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        if digests and digest not in digests:  # keep both for a diff (pdftotext, pdfinfo)
            RESULTS.mkdir(parents=True, exist_ok=True)
            shutil.copy(out, RESULTS / f"pack-run{rep}.pdf")
            shutil.copy(first, RESULTS / "pack-run1.pdf")
        elif not digests:
            shutil.copy(out, first)
        digests.add(digest)
        print(f"[{rep}/{repeat}] {' '.join(command[1:])}: {seconds:6.2f}s", file=sys.stderr)
    if len(digests) != 1:
        raise SystemExit(f"the CLI's PDF differs between runs (kept in {RESULTS}): {digests}")
    facts = {"cli_pdf_sha256": digests.pop(), "cli_pdf_pages": pdf_pages(out)}
    return times, facts


def machine() -> str:
    """CPU, cores and the versions that matter for these numbers."""
    cpu = platform.processor() or platform.machine()
    with open("/proc/cpuinfo", encoding="utf-8") as info:  # Linux: the model name
        names = [line.split(":", 1)[1].strip() for line in info if line.startswith("model name")]
    if names:
        cpu = names[0]
    libs = ", ".join(f"{p} {version(p)}" for p in ("weasyprint", "vl-convert-python", "altair"))
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {libs}"


def table(steps: dict[str, list[float]], cli: dict[str, list[float]]) -> str:
    """The markdown table: best and first repetition per step, and the CLI."""
    rows = ["| step | best (s) | first (s) |", "|---|---:|---:|"]
    for step, values in steps.items():
        rows.append(f"| {step} | {min(values):.3f} | {values[0]:.3f} |")
    for command, values in cli.items():
        rows.append(f"| `{command}` (whole process) | {min(values):.2f} | {values[0]:.2f} |")
    return "\n".join(rows)


def main() -> None:
    """Time the pack's steps and the CLI; print the table; exit 1 over the target."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--paper", choices=("A4", "Letter"), default="A4")
    parser.add_argument("--json", help="also write the numbers to this file")
    args = parser.parse_args()
    ensure_demo()
    with tempfile.TemporaryDirectory(prefix="pw-bench-pack-") as tmp:
        scratch = Path(tmp)
        # an empty audit log of this run: the exports the CLI logs never reach data/
        os.environ["PILOTWATCH_AUDIT_URL"] = f"sqlite:///{scratch / 'audit.sqlite'}"
        steps, facts = measure_steps(args.repeat, args.paper)
        paper = ("--paper", args.paper.lower())
        cli_times, cli_facts = measure_cli(args.repeat, scratch, *paper)
        no_trend, _ = measure_cli(1, scratch, *paper, "--no-trend")
    facts |= cli_facts
    cli = {"pilotwatch report --pdf": cli_times, "pilotwatch report --pdf --no-trend": no_trend}
    print(f"\nbest of {args.repeat}, paper {args.paper}; {machine()}")
    print(
        f"{facts['initiatives']} initiatives, a trend of {facts['trend']} earlier instants; "
        f"HTML {facts['html_bytes'] / 1024:.0f} KiB, PDF {facts['pdf_bytes'] / 1024:.0f} KiB, "
        f"the CLI's PDF {facts['cli_pdf_pages']} pages (sha256 {facts['cli_pdf_sha256'][:16]}…, "
        "the same every run)\n"
    )
    print(table(steps, cli))
    best = min(cli_times)
    verdict = "within" if best < TARGET_SECONDS else "OVER"
    print(f"\nTarget: the whole CLI under {TARGET_SECONDS:.0f} s: {best:.2f}s, {verdict}.")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        payload = {"repeat": args.repeat, "paper": args.paper, "machine": machine()}
        payload |= {"steps": steps, "cli": cli, "facts": facts}
        Path(args.json).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    if best >= TARGET_SECONDS:
        sys.exit(1)


if __name__ == "__main__":
    main()
