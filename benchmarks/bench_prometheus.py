"""Benchmark the prometheus connector: 16 SLOs over 28 days of 1-minute buckets, real server.

Usage (see docs/performance.md, "The Prometheus connector"):
    .venv/bin/python benchmarks/bench_prometheus.py [--days 28] [--data $TMPDIR/pw-prom-bench]
        [--repeat 3]

It writes counters sampled every minute for 8 availability SLOs (a `code="200"` and a
`code="500"` counter each) and 8 latency SLOs (a histogram: 4 `le` buckets, `_count`, `_sum`),
backfills them with promtool (once: a `--data` folder that already holds the blocks is reused),
starts /usr/bin/prometheus on a free 127.0.0.1 port, and times `PrometheusConnector.load()` with
its frames collected, for 1 and for 4 SLOs fetched at once. It checks the loaded totals equal
the events written (the counting is exact), then stops the server it started.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import polars as pl  # noqa: E402
from prom_server import serve_openmetrics  # noqa: E402

from connectors import prometheus  # noqa: E402
from connectors.base import BAD, SourceSpec  # noqa: E402
from core.models import Slo  # noqa: E402

END = datetime(2026, 11, 1, tzinfo=UTC)  # fixed, so a kept --data folder stays valid
BOUNDS = ("0.1", "0.3", "1", "+Inf")
SLOS = 16


def write_samples(path: Path, days: int) -> int:
    """The OpenMetrics file; returns the number of events (total counter increase) written."""
    rng = random.Random(42)
    start = int((END - timedelta(days=days)).timestamp())
    stamps = range(start, int(END.timestamp()) + 1, 60)
    events = 0
    with path.open("w") as out:
        out.write("# TYPE bench_requests counter\n")
        for i in range(SLOS // 2):
            ok = errors = 0
            lines_ok, lines_err = [], []
            for n, stamp in enumerate(stamps):
                if n:
                    ok, errors = ok + rng.randint(50, 150), errors + rng.randint(0, 3)
                lines_ok.append(f'bench_requests_total{{slo="a{i}",code="200"}} {ok} {stamp}\n')
                lines_err.append(
                    f'bench_requests_total{{slo="a{i}",code="500"}} {errors} {stamp}\n'
                )
            events += ok + errors
            out.writelines(lines_ok)
            out.writelines(lines_err)
        out.write("# TYPE bench_duration_seconds histogram\n")
        for i in range(SLOS // 2):
            counts = [0] * len(BOUNDS)
            rows: list[list[str]] = [[] for _ in range(len(BOUNDS) + 2)]
            for n, stamp in enumerate(stamps):
                if n:
                    new = [rng.randint(0, 40) for _ in BOUNDS]  # per-bucket increments
                    running = 0
                    for j, extra in enumerate(new):
                        running += extra
                        counts[j] += running  # cumulative buckets stay monotone
                for j, le in enumerate(BOUNDS):
                    labels = f'slo="l{i}",le="{le}"'
                    rows[j].append(
                        f"bench_duration_seconds_bucket{{{labels}}} {counts[j]} {stamp}\n"
                    )
                rows[-2].append(
                    f'bench_duration_seconds_count{{slo="l{i}"}} {counts[-1]} {stamp}\n'
                )
                rows[-1].append(f'bench_duration_seconds_sum{{slo="l{i}"}} {counts[-1]} {stamp}\n')
            events += counts[-1]
            for block in rows:
                out.writelines(block)
        out.write("# EOF\n")
    return events


def slos() -> list[Slo]:
    """8 availability SLOs (bad/total) and 8 latency SLOs at the 300 ms boundary."""
    out = []
    for i in range(SLOS // 2):
        total = f'bench_requests_total{{slo="a{i}"}}'
        bad = f'bench_requests_total{{slo="a{i}",code="500"}}'
        out.append(
            {"name": f"a{i}", "sli": "availability", "indicator": {"bad": bad, "total": total}}
        )
    for i in range(SLOS // 2):
        histogram = {"histogram": f'bench_duration_seconds{{slo="l{i}"}}', "unit": "s"}
        out.append({"name": f"l{i}", "sli": "latency", "threshold_ms": 300, "indicator": histogram})
    return [Slo.model_validate({"initiative": "bench", "target": 0.99, **s}) for s in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "pw-prom-bench")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder: Path = args.data / f"{args.days}d"
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / "events.json"
    backfill_seconds = None
    if not marker.exists():
        began = time.perf_counter()
        events = write_samples(folder / "samples.om.txt", args.days)
        written = time.perf_counter()
        server = serve_openmetrics(folder, folder / "samples.om.txt")
        backfill_seconds = {"write": written - began, "promtool": time.perf_counter() - written}
        marker.write_text(json.dumps({"events": events}))
        (folder / "samples.om.txt").unlink()
    else:
        events = json.loads(marker.read_text())["events"]
        server = serve_openmetrics(folder, None)
    start = END - timedelta(days=args.days)
    spec = SourceSpec(
        name="prom",
        type="prometheus",
        tables=("sli_buckets",),
        settings={"url": server.url, "timeout": 120},
        slos=tuple(slos()),
        fetch_range=(start, END),
    )
    results: dict[str, object] = {"days": args.days, "slos": SLOS, "backfill": backfill_seconds}
    try:
        for parallel in (1, 4):
            timings = []
            for _ in range(args.repeat):
                with mock.patch.object(prometheus, "_PARALLEL", parallel):
                    began = time.perf_counter()
                    load = prometheus.PrometheusConnector(spec).load()
                    frame = load.frames["sli_buckets"].collect()
                    timings.append(time.perf_counter() - began)
            good = frame.filter(~pl.col(BAD))
            results[f"parallel_{parallel}"] = {
                "seconds_min": round(min(timings), 2),
                "seconds_all": [round(t, 2) for t in timings],
                "rows": frame.height,
                "quarantined": frame.height - good.height,
                "total_events": int(good["total"].sum()),
                "exact": int(good["total"].sum()) == events,
            }
    finally:
        server.stop()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
