"""Benchmark the full report against a floor, DuckDB and pandas, in one run.

Usage (see docs/performance.md):
    .venv/bin/python benchmarks/bench_report.py --scale 10 [--data /tmp/pw-bench] [--repeat 3]

Each variant runs in its own fresh Python process so that peak memory (ru_maxrss of that child)
is its own; wall time is measured inside the child around the work only (the modules a variant
needs are imported before its timer starts).
Variants:
- floor:  one Polars scan that buckets the requests per minute (timestamp and error only)
- floor_dims: one Polars scan that buckets the SLO windows' requests per minute and SLO
  dimension (initiative, service, operation, environment): the least an SLO engine must read
- report: the whole pilotwatch pipeline (load sources, every metric family, the JSON report),
  without the incremental store (PILOTWATCH_STORE=off)
- store_cold: the same report with an empty store (it is built during the run; docs/store.md)
- store_warm_plus_one_day: the same report with a store that holds every requests file but the
  newest day, which the run adds (the store was filled by an untimed run without that file)
- store_warm: the same report with a store that holds every file
- duckdb: the SLO numbers (good/total per SLO window and every burn-rate window) in DuckDB SQL
- pandas: the same SLO numbers with pandas
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys, time, os, resource
variant, data_dir, config_dir = sys.argv[1], sys.argv[2], sys.argv[3]
os.environ["PILOTWATCH_DATA"] = data_dir
sys.path.insert(0, os.path.join(os.path.dirname(config_dir), "benchmarks"))
import importlib
import bench_variants as v
if variant.startswith("store_"):
    v.IMPORTS[variant] = v.IMPORTS["report"]
    variant_fn = v.report  # the same work; the store's state is set up by the parent
else:
    variant_fn = getattr(v, variant)
for module in v.IMPORTS.get(variant, ()):
    importlib.import_module(module)
start = time.perf_counter()
result = variant_fn(data_dir, config_dir)
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": elapsed, "peak_mib": peak, "result": result}))
"""


STORE_VARIANTS = ("store_cold", "store_warm_plus_one_day", "store_warm")


def store_dir(data: Path) -> Path:
    """The store the store variants use (beside the benchmark data, never the project's)."""
    return data / ".store-bench"


def _child_env(variant: str, data: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PILOTWATCH_STORE", None)
    if variant in STORE_VARIANTS:
        env["PILOTWATCH_STORE_DIR"] = str(store_dir(data))
    else:
        env["PILOTWATCH_STORE"] = "off"  # `report` is the store-less pipeline
    return env


def prepare_store(variant: str, data: Path, config: Path) -> None:
    """Put the store in the variant's starting state (untimed, in its own process)."""
    if variant == "store_warm":
        if not any(store_dir(data).glob("*/*.json")):
            run_child("store_cold", data, config)
        return
    shutil.rmtree(store_dir(data), ignore_errors=True)
    if variant == "store_cold":
        return
    newest = sorted((data / "requests").glob("*.parquet"))[-1]
    aside = data / f".{newest.name}.aside"
    newest.rename(aside)  # a rename keeps the file's mtime: it comes back unchanged
    try:
        run_child("store_cold", data, config)
    finally:
        aside.rename(newest)


def run_child(variant: str, data: Path, config: Path) -> dict[str, float | str]:
    """Run one variant in a fresh interpreter; return wall seconds and its peak RSS (MiB)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, variant, str(data), str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=_child_env(variant, data),
    )
    stdout, stderr = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{variant} failed:\n{stderr[-4000:]}")
    payload = json.loads(stdout.strip().splitlines()[-1])
    return {
        "seconds": payload["seconds"],
        "peak_mib": payload["peak_mib"],
        "result": str(payload["result"])[:120],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=10.0)
    parser.add_argument("--data", default="/tmp/pilotwatch-bench")  # noqa: S108 (scratch data)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--variants", default="floor,floor_dims,report,duckdb,pandas")
    parser.add_argument("--keep", action="store_true", help="reuse existing data")
    args = parser.parse_args()
    data = Path(args.data)
    if not (args.keep and (data / ".complete").exists()):
        shutil.rmtree(data, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run(
            [
                str(ROOT / ".venv/bin/pilotwatch"),
                "demo",
                "--out",
                str(data),
                "--scale",
                str(args.scale),
            ],
            check=True,
        )
        print(f"generated scale {args.scale} in {time.perf_counter() - t0:.1f}s", flush=True)
    config = ROOT / "config"
    results: dict[str, list[dict[str, float | str]]] = {}
    for _ in range(args.repeat):
        for variant in args.variants.split(","):
            if variant in STORE_VARIANTS:
                prepare_store(variant, data, config)
            results.setdefault(variant, []).append(run_child(variant, data, config))
            last = results[variant][-1]
            print(
                f"{variant:>7}: {last['seconds']:.2f}s peak {last['peak_mib']:.0f} MiB", flush=True
            )
    print("\nbest of", args.repeat)
    best = {k: min(v, key=lambda r: r["seconds"]) for k, v in results.items()}
    for variant, row in best.items():
        print(f"| {variant} | {row['seconds']:.2f} s | {row['peak_mib']:.0f} MiB |")
    for floor in ("floor", "floor_dims"):
        for work in ("report", *STORE_VARIANTS):
            if floor in best and work in best:
                ratio = best[work]["seconds"] / best[floor]["seconds"]
                print(f"{work} / {floor} = {ratio:.2f}x")
    for other in ("duckdb", "pandas"):
        if other in best and "report" in best:
            ratio = best[other]["seconds"] / best["report"]["seconds"]
            print(f"{other} / report = {ratio:.2f}x")


if __name__ == "__main__":
    main()
