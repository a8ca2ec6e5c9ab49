"""sli_buckets pushdown vs raw requests through the sql connector, on PostgreSQL.

Run (PostgreSQL on 127.0.0.1:5432, db `test`; tables are generated once and reused):

    .venv/bin/python benchmarks/bench_pushdown.py            # pushdown 5M, 20M; raw 1M, 2M
    .venv/bin/python benchmarks/bench_pushdown.py --pushdown 5000000 --raw 1000000

Each measurement runs in its own subprocess (load_sources + engine.compute over 5 SLOs and a 28-day
window) and reports wall time and its peak RSS (`resource.getrusage(RUSAGE_SELF).ru_maxrss`).
Results go to docs/performance.md ("sli_buckets pushdown") by hand.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.models import Config, Initiative, Slo, Source  # noqa: E402
from pilotwatch.engine import compute  # noqa: E402
from pilotwatch.sources import load_sources  # noqa: E402

URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
AS_OF = datetime(2026, 3, 1, tzinfo=UTC)  # the 28-day window is February 2026
SLOS = [
    Slo(name="a_avail", initiative="alpha", sli="availability", target=0.999),
    Slo(
        name="a_fast",
        initiative="alpha",
        sli="latency",
        threshold_ms=300,
        filter={"service": "api"},
        target=0.99,
    ),
    Slo(name="b_avail", initiative="beta", sli="availability", target=0.995),
    Slo(name="b_fast", initiative="beta", sli="latency", threshold_ms=500, target=0.95),
    Slo(
        name="a_stage",
        initiative="alpha",
        sli="availability",
        filter={"environment": "staging"},
        target=0.9,
    ),
]


def table_for(rows: int) -> str:
    return f"pw_bench_requests_{rows}"


def ensure_table(rows: int) -> str:
    """`rows` requests spread evenly over the 28 days before AS_OF (generated in the database)."""
    name = table_for(rows)
    engine = sa.create_engine(URL)
    with engine.begin() as conn:
        found = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": name}).scalar()
        if found is not None:
            return name
        started = time.monotonic()
        conn.execute(
            sa.text(
                f"""
            CREATE TABLE {name} AS
            SELECT TIMESTAMP '2026-02-01 00:00:00'
                     + (i * (28 * 86400.0 / {rows})) * INTERVAL '1 second' AS ts,
                   CASE WHEN i % 2 = 0 THEN 'alpha' ELSE 'beta' END AS initiative,
                   CASE WHEN i % 3 = 0 THEN 'web' ELSE 'api' END AS service,
                   'op' || (i % 4) AS operation,
                   CASE WHEN i % 10 = 0 THEN 'staging' ELSE 'production' END AS environment,
                   ((i * 7919) % 1000)::double precision AS duration_ms,
                   CASE WHEN i % 97 = 0 THEN 503 ELSE 200 END AS status_code,
                   NULL::boolean AS error
            FROM generate_series(0::bigint, {rows - 1}) AS i
            """  # noqa: S608 (a benchmark's own table name)
            )
        )
        print(f"generated {name} in {time.monotonic() - started:.0f}s", file=sys.stderr)
    engine.dispose()
    return name


def measure(variant: str, rows: int) -> dict[str, object]:
    """One load + compute in this process; wall time and this process's peak RSS."""
    name = table_for(rows)
    if variant == "pushdown":
        tables, plan = ["sli_buckets"], {"pushdown": {"table": name}}
    else:
        tables, plan = ["requests"], {"table": name}
    source = Source.model_validate(
        {
            "name": "db",
            "type": "sql",
            "tables": tables,
            "settings": {"url": URL, "statement_timeout": 900, **plan},
            "columns": {"requests": {"timestamp": "ts"}},
            "load_timeout": "20m",
        }
    )
    init = [
        Initiative(
            id=i,
            name=i,
            stage="pilot",
            owner="o",
            sponsor="s",
            clinical_area="c",
            started_on=datetime(2025, 1, 1).date(),
        )
        for i in ("alpha", "beta")
    ]
    config = Config(initiatives=init, slos=SLOS, sources=[source])
    started = time.monotonic()
    data = load_sources(config, until=AS_OF)
    _, report = compute(config, data, AS_OF)
    seconds = time.monotonic() - started
    totals = {s.name: s.total for item in report.initiatives for s in item.slos}
    failed = [h.last_error for h in data.health if not h.ok]
    if failed:
        raise SystemExit(f"load failed: {failed}")
    return {
        "variant": variant,
        "rows": rows,
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "ok": all(h.ok for h in data.health),
        "totals": totals,
    }


def run_child(variant: str, rows: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", variant, str(rows)],
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    """Generate the tables if needed, then measure each variant in a subprocess."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushdown", type=int, nargs="*", default=[5_000_000, 20_000_000])
    parser.add_argument("--raw", type=int, nargs="*", default=[1_000_000, 2_000_000])
    parser.add_argument("--child", nargs=2)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]))))
        return
    for rows in sorted({*args.pushdown, *args.raw}):
        ensure_table(rows)
    for rows in args.pushdown:
        print(json.dumps(run_child("pushdown", rows)), flush=True)
    for rows in args.raw:
        print(json.dumps(run_child("pushdown", rows)), flush=True)
        print(json.dumps(run_child("raw", rows)), flush=True)


if __name__ == "__main__":
    main()
