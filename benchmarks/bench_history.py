"""Benchmark the 13-week readiness history against one cold report, in one run.

Usage (see docs/performance.md, "Readiness history"):
    .venv/bin/python benchmarks/bench_history.py --scale 10 [--data /tmp/pw-history] [--repeat 3]

Each variant runs in its own fresh Python process, alternating, so neither inherits the other's
caches in the process; the files are the same (the OS page cache is warm for both after the
first round). In the child, the configuration is loaded and the sources are loaded (the
requests stay a lazy scan of the Parquet files, as the app and CLI keep them) before the
timer starts; the timer then covers:
- report:  `engine.compute(config, data, as_of)`: one cold report, requests read from the files
- history: `default_instants(as_of, weeks)` and `history.compute_history` over them: the report
  at each instant, the requests read once for all
- report_store, history_store: the same with the sources loaded through the pre-aggregate
  store (`<data>/.store`, docs/store.md; built by the first such load, outside the timer), so
  the minute buckets are read from the store instead of the raw requests
Target (issue 11): history <= 2x report (a cold report: no store).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, resource, sys, time
from pathlib import Path
variant, data_dir, config_dir, weeks = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
os.environ["PILOTWATCH_DATA"] = data_dir
from pilotwatch.config import load_config
from pilotwatch.engine import compute, default_as_of
from pilotwatch.history import compute_history, default_instants
from pilotwatch.sources import load_sources
config = load_config(config_dir)
as_of = default_as_of(config)
store = Path(data_dir) / ".store" if variant.endswith("_store") else None
data = load_sources(config, None, until=as_of, store_dir=store)
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
cpu0, start = cpu(), time.perf_counter()
if variant.startswith("report"):
    result = len(compute(config, data, as_of)[1].initiatives)
else:
    result = len(compute_history(config, data, default_instants(as_of, weeks)))
elapsed, cpu_s = time.perf_counter() - start, cpu() - cpu0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "cpu": cpu_s, "peak_mib": peak, "result": result}))
"""

VARIANTS = "report,history,report_store,history_store"


def run_child(variant: str, data: Path, weeks: int) -> dict[str, float]:
    """Run one variant in a fresh interpreter: wall and CPU seconds of the timed work, peak RSS."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, variant, str(data), str(ROOT / "config"), str(weeks)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if proc.returncode:
        raise SystemExit(f"{variant} failed:\n{proc.stderr[-4000:]}")
    payload = json.loads(proc.stdout.strip().splitlines()[-1])
    return {k: float(payload[k]) for k in ("seconds", "cpu", "peak_mib")}


def main() -> None:
    """Generate (or reuse) the demo data, time the variants, print the table and the ratios."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--data", default="/tmp/pilotwatch-bench-history")  # noqa: S108
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--weeks", type=int, default=13)
    parser.add_argument("--keep", action="store_true", help="reuse existing data")
    parser.add_argument("--variants", default=VARIANTS)
    args = parser.parse_args()
    data = Path(args.data)
    if not (args.keep and (data / ".complete").exists()):
        shutil.rmtree(data, ignore_errors=True)  # the store inside it too
        t0 = time.perf_counter()
        demo = [str(ROOT / ".venv/bin/pilotwatch"), "demo", "--out", str(data)]
        subprocess.run([*demo, "--scale", str(args.scale)], check=True)
        print(f"generated scale {args.scale} in {time.perf_counter() - t0:.1f}s", flush=True)
    results: dict[str, list[dict[str, float]]] = {v: [] for v in args.variants.split(",")}
    for _ in range(args.repeat):
        for variant, runs in results.items():
            runs.append(run_child(variant, data, args.weeks))
            last = runs[-1]
            print(
                f"{variant:>13}: {last['seconds']:.2f}s wall, {last['cpu']:.2f}s CPU, "
                f"peak {last['peak_mib']:.0f} MiB",
                flush=True,
            )
    wall = {k: min(r["seconds"] for r in v) for k, v in results.items()}
    cpu = {k: min(r["cpu"] for r in v) for k, v in results.items()}
    peak = {k: max(r["peak_mib"] for r in v) for k, v in results.items()}
    print(f"\nbest of {args.repeat}, scale {args.scale}, {args.weeks} weeks")
    print("| variant | wall | CPU | peak | wall / report | CPU / report |")
    print("|---|---|---|---|---|---|")
    for variant in results:
        wall_ratio = wall[variant] / wall["report"] if "report" in wall else float("nan")
        cpu_ratio = cpu[variant] / cpu["report"] if "report" in cpu else float("nan")
        print(
            f"| {variant} | {wall[variant]:.2f} s | {cpu[variant]:.2f} s | "
            f"{peak[variant]:.0f} MiB | {wall_ratio:.2f}x | {cpu_ratio:.2f}x |"
        )
    print("target (issue 11): history <= 2x report")


if __name__ == "__main__":
    main()
