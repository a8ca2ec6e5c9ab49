"""The benchmark's variants; each returns a small summary so the work cannot be skipped."""

from __future__ import annotations

from pathlib import Path

from metrics.slo import window_start
from metrics.timewin import BURN_WINDOWS
from pilotwatch.config import load_config
from pilotwatch.engine import default_as_of

# Modules each variant imports, loaded before its timer starts (imports are not the work).
IMPORTS: dict[str, tuple[str, ...]] = {
    "floor": ("polars",),
    "floor_dims": ("polars",),
    "report": ("pilotwatch.engine", "pilotwatch.report"),
    "duckdb": ("duckdb",),
    "pandas": ("pandas",),
}


def _requests_glob(data_dir: str) -> str:
    return str(Path(data_dir) / "requests" / "*.parquet")


def floor(data_dir: str, config_dir: str) -> int:
    """One Polars scan that only buckets the requests per minute."""
    import polars as pl

    frame = (
        pl.scan_parquet(_requests_glob(data_dir))
        .group_by(pl.col("timestamp").dt.truncate("1m"))
        .agg(pl.len(), pl.col("error").sum())
        .collect(engine="streaming")
    )
    return frame.height


def floor_dims(data_dir: str, config_dir: str) -> int:
    """One Polars scan bucketing the SLO windows' requests per minute and SLO dimension.

    The least any SLO engine must do on this data: read the dimension columns of the rows in the
    longest SLO window and count total, errors and requests under one latency threshold.
    """
    import polars as pl

    windows, [(_, as_of)] = _slo_windows(config_dir)
    earliest = min(start for _, spans in windows for _, start in spans)
    keys = ["initiative", "service", "operation", "environment"]
    frame = (
        pl.scan_parquet(_requests_glob(data_dir))
        .filter((pl.col("timestamp") >= earliest) & (pl.col("timestamp") < as_of))
        .group_by(*keys, pl.col("timestamp").dt.truncate("1m"))
        .agg(pl.len(), pl.col("error").sum(), (pl.col("duration_ms") <= 300).sum())
        .collect(engine="streaming")
    )
    return frame.height


def report(data_dir: str, config_dir: str) -> int:
    """The whole pipeline: config, sources, every metric family, the schema-1 JSON."""
    from pilotwatch.engine import run
    from pilotwatch.report import build_report, dumps

    return len(dumps(build_report(run(config_dir).portfolio)))


def _slo_windows(config_dir: str) -> tuple[list, list[tuple[str, object]]]:
    config = load_config(config_dir)
    as_of = default_as_of(config)
    windows = []
    for slo in config.slos:
        spans = [("window", window_start(slo, as_of))]
        spans += [(name, as_of - length) for name, length in BURN_WINDOWS.items()]
        windows.append((slo, spans))
    return windows, [("as_of", as_of)]


def duckdb(data_dir: str, config_dir: str) -> int:
    """Good/total per SLO window and burn-rate window in one DuckDB SQL scan (bound parameters)."""
    import duckdb as ddb

    windows, [(_, as_of)] = _slo_windows(config_dir)
    earliest = min(start for _, spans in windows for _, start in spans)
    aggs: list[str] = []
    params: list[object] = []
    for slo, spans in windows:
        cond = "initiative = ? AND environment = ?"
        cond_params: list[object] = [slo.initiative, slo.environment]
        for key in ("service", "operation"):
            value = getattr(slo.filter, key)
            if value is not None:
                cond += f" AND {key} = ?"
                cond_params.append(value)
        good = "NOT error" if slo.sli == "availability" else "duration_ms <= ?"
        good_params = [] if slo.sli == "availability" else [slo.threshold_ms]
        for _, start in spans:
            aggs.append(f"count_if({cond} AND timestamp >= ? AND {good})")
            params += [*cond_params, start, *good_params]
            aggs.append(f"count_if({cond} AND timestamp >= ?)")
            params += [*cond_params, start]
    sql = (
        f"SELECT {', '.join(aggs)} FROM read_parquet(?) "  # noqa: S608 (no data in the SQL)
        "WHERE timestamp >= ? AND timestamp < ?"
    )
    row = (
        ddb.connect().execute(sql, [*params, _requests_glob(data_dir), earliest, as_of]).fetchone()
    )
    return sum(row or ())


def pandas(data_dir: str, config_dir: str) -> int:
    """Good/total per SLO window and burn-rate window with pandas."""
    import pandas as pd

    windows, [(_, as_of)] = _slo_windows(config_dir)
    earliest = min(start for _, spans in windows for _, start in spans)
    cols = [
        "timestamp",
        "initiative",
        "service",
        "operation",
        "environment",
        "duration_ms",
        "error",
    ]
    files = sorted(Path(data_dir, "requests").glob("*.parquet"))
    frame = pd.concat([pd.read_parquet(f, columns=cols) for f in files], ignore_index=True)
    frame = frame[(frame["timestamp"] >= earliest) & (frame["timestamp"] < as_of)]
    out = 0
    for slo, spans in windows:
        mask = (frame["initiative"] == slo.initiative) & (frame["environment"] == slo.environment)
        for key in ("service", "operation"):
            value = getattr(slo.filter, key)
            if value is not None:
                mask &= frame[key] == value
        part = frame[mask]
        good = (
            ~part["error"] if slo.sli == "availability" else part["duration_ms"] <= slo.threshold_ms
        )
        for _, start in spans:
            inside = part["timestamp"] >= start
            out += int((good & inside).sum()) + int(inside.sum())
    return out
