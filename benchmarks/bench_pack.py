"""Benchmark the steering pack of the demo portfolio: gather, HTML, PDF and the whole CLI.

Usage (see docs/performance.md, "Steering pack"):
    .venv/bin/python benchmarks/bench_pack.py [--repeat 3] [--paper A4|Letter]
        [--json benchmarks/results/pack.json]

The demo data is data/demo (`python3 dev.py setup` writes it; written here when missing) and
the configuration config/: the eight demo initiatives, as the CLI's service identity sees them.
The audit log is an empty SQLite file of this run (PILOTWATCH_AUDIT_URL), never data/'s.

In this process, after one untimed engine run (load the sources, compute the report), each
repetition times:
- gather:      `pilotwatch.pack.gather(run, log)`: the pack's inputs from the computed run;
- render_html: `render_html(inputs)`: the charts (vl-convert) and the Jinja2 document;
- render_pdf:  `render_pdf(inputs)`: the same HTML typeset by WeasyPrint (charts included).
The first repetition also pays each library's first use (vl-convert's engine, WeasyPrint's
fonts); it is printed on its own, and the table shows the best repetition and that first one.

Then, `--repeat` times, the whole `pilotwatch report --pdf <file>` command in a fresh process:
interpreter start, imports, loading every source, the report, the pack and the file (its
export logged). Its PDF's bytes must be the same every time (the pack is deterministic).
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
TARGET_SECONDS = 10.0
STEPS = ("gather", "render_html", "render_pdf")


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
    from pilotwatch.cli import run_as_service
    from pilotwatch.pack import gather, render_html, render_pdf

    seconds, (run, _identity, full) = timed(run_as_service, CONFIG, None)
    print(f"engine run (untimed below): {seconds:.2f}s", file=sys.stderr, flush=True)
    log = AuditLog.for_config(full)
    times: dict[str, list[float]] = {step: [] for step in STEPS}
    facts: dict[str, Any] = {"initiatives": len(run.report.initiatives)}
    for rep in range(1, repeat + 1):
        t_gather, inputs = timed(gather, run, log, paper=paper)
        t_html, html = timed(render_html, inputs)
        t_pdf, pdf = timed(render_pdf, inputs)
        for step, value in zip(STEPS, (t_gather, t_html, t_pdf), strict=True):
            times[step].append(value)
        facts |= {"html_bytes": len(html.encode()), "pdf_bytes": len(pdf)}
        print(
            f"[{rep}/{repeat}] gather {t_gather:6.3f}s  render_html {t_html:6.3f}s  "
            f"render_pdf {t_pdf:6.3f}s",
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


def measure_cli(repeat: int, scratch: Path) -> tuple[list[float], dict[str, Any]]:
    """Wall seconds of `pilotwatch report --pdf` in a fresh process, per repetition."""
    times: list[float] = []
    digests: set[str] = set()
    out = scratch / "pack.pdf"
    for rep in range(1, repeat + 1):
        out.unlink(missing_ok=True)
        command = [str(CLI), "report", "--config", str(CONFIG), "--pdf", str(out)]
        seconds, proc = timed(
            subprocess.run, command, capture_output=True, text=True, cwd=ROOT, check=False
        )
        if proc.returncode:
            raise SystemExit(f"pilotwatch report --pdf failed:\n{proc.stderr[-4000:]}")
        times.append(seconds)
        digests.add(hashlib.sha256(out.read_bytes()).hexdigest())
        print(f"[{rep}/{repeat}] pilotwatch report --pdf {seconds:6.2f}s", file=sys.stderr)
    if len(digests) != 1:
        raise SystemExit(f"the CLI's PDF differs between runs: {sorted(digests)}")
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


def table(steps: dict[str, list[float]], cli: list[float]) -> str:
    """The markdown table: best and first repetition per step, and the CLI."""
    rows = ["| step | best (s) | first (s) |", "|---|---:|---:|"]
    for step, values in steps.items():
        rows.append(f"| {step} | {min(values):.3f} | {values[0]:.3f} |")
    rows.append(f"| `pilotwatch report --pdf` (whole process) | {min(cli):.2f} | {cli[0]:.2f} |")
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
        cli, cli_facts = measure_cli(args.repeat, scratch)
    facts |= cli_facts
    print(f"\nbest of {args.repeat}, paper {args.paper}; {machine()}")
    print(
        f"{facts['initiatives']} initiatives; HTML {facts['html_bytes'] / 1024:.0f} KiB, "
        f"PDF {facts['pdf_bytes'] / 1024:.0f} KiB, the CLI's PDF {facts['cli_pdf_pages']} "
        f"pages (sha256 {facts['cli_pdf_sha256'][:16]}…, the same every run)\n"
    )
    print(table(steps, cli))
    best = min(cli)
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
