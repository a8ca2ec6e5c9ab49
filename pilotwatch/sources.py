"""Load every configured source into the canonical tables, with health, quarantine and snapshots.

One failing source never blanks the others: its error is recorded in its SourceHealth and, when
a snapshot of its last good load exists, that snapshot is used instead (`using_snapshot=True`).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from opentelemetry import trace

from connectors import registry
from connectors.base import (
    BAD,
    LOCATION,
    REASON,
    ConnectorError,
    SourceHealth,
    SourceLoad,
    SourceSpec,
)
from connectors.canonical import SCHEMAS, SOURCE_COLUMN, TABLES, TIME_COLUMN, empty
from connectors.sql import redact
from pilotwatch.config.durations import parse_duration
from pilotwatch.config.models import Config, Source

# Above this many good rows a requests table is not snapshotted (it would cost as much disk and
# time as the source itself); its fallback is then "no requests" rather than stale requests.
SNAPSHOT_MAX_ROWS = 5_000_000
# Quarantined rows kept per source and table for display; the counts are always complete.
QUARANTINE_KEEP = 10_000
QUARANTINE_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "table": pl.String(),
    "location": pl.String(),
    "reason": pl.String(),
}
NEWEST_SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "initiative": pl.String(),
    "newest": pl.Datetime("us", "UTC"),
}
_META = "_snapshot.json"
_LAZY_TABLES = frozenset({"requests"})  # big: measured with one lazy pass, kept lazy
_log = logging.getLogger("pilotwatch.sources")
_tracer = trace.get_tracer("pilotwatch")


@dataclass
class LoadedData:
    """The canonical tables (good rows of all sources), per-source health and the quarantine."""

    tables: dict[str, pl.LazyFrame]
    health: list[SourceHealth]
    quarantine: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=QUARANTINE_SCHEMA))
    # (source, initiative, newest): the newest good row per source and initiative over all time,
    # measured during the load, so freshness never has to scan a big table again
    newest: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=NEWEST_SCHEMA))


@dataclass
class _Measured:
    frames: dict[str, pl.LazyFrame]  # canonical columns only, good rows
    rows: dict[str, int]
    quarantined: int
    newest: dict[str, datetime | None]  # per table, good rows only
    quarantine: pl.DataFrame
    collected: dict[str, pl.DataFrame]  # small tables already in memory (for the snapshot)
    by_initiative: pl.DataFrame  # (initiative, newest) of good rows, every table with initiatives


def spec_from_source(
    source: Source, root: str | Path, default_freshness: str | None = None
) -> SourceSpec:
    """A SourceSpec for `source`; relative paths resolve against `root` (settings `_root`)."""
    freshness = source.freshness or default_freshness
    return SourceSpec(
        name=source.name,
        type=source.type,
        tables=tuple(source.tables),
        settings={**source.settings, "_root": str(root)},
        columns={t: dict(m) for t, m in source.columns.items()},
        values={t: {c: dict(v) for c, v in m.items()} for t, m in source.values.items()},
        timezone=source.timezone,
        freshness_seconds=parse_duration(freshness) if freshness else None,
        initiatives=tuple(source.initiatives),
    )


def load_sources(
    config: Config, snapshot_dir: Path | None = None, *, now: datetime | None = None
) -> LoadedData:
    """Load every enabled source of `config`; see the module docstring for failure handling."""
    now = now or datetime.now(UTC)
    parts: dict[str, list[pl.LazyFrame]] = {table: [] for table in TABLES}
    health: list[SourceHealth] = []
    quarantine: list[pl.DataFrame] = []
    for source in config.sources:
        if not source.enabled:
            continue
        spec = spec_from_source(source, config.root, config.settings.default_freshness)
        frames, state, bad = load_one(spec, snapshot_dir, now=now)
        health.append(state)
        quarantine.append(bad)
        for table, frame in frames.items():
            parts[table].append(frame.with_columns(pl.lit(spec.name).alias(SOURCE_COLUMN)))
    tables = {
        table: pl.concat(items, how="vertical") if items else empty(table).lazy()
        for table, items in parts.items()
    }
    bad_rows = pl.concat(quarantine) if quarantine else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    newest = pl.DataFrame(
        [
            {"source": h.source, "initiative": initiative, "newest": instant}
            for h in health
            for initiative, instant in h.newest_by_initiative.items()
        ],
        schema=NEWEST_SCHEMA,
    )
    return LoadedData(tables=tables, health=health, quarantine=bad_rows, newest=newest)


def load_one(
    spec: SourceSpec, snapshot_dir: Path | None = None, *, now: datetime | None = None
) -> tuple[dict[str, pl.LazyFrame], SourceHealth, pl.DataFrame]:
    """Load one source: (good frames without `source`, its health, its quarantined rows)."""
    now = now or datetime.now(UTC)
    state = SourceHealth(source=spec.name, type=spec.type, tables=spec.tables, ok=False)
    attributes = {"source": spec.name, "type": spec.type}
    with _tracer.start_as_current_span("pilotwatch.source.load", attributes=attributes) as span:
        started = time.perf_counter()
        try:
            connector = registry.get(spec.type)(spec)
            load = connector.load()
            measured = _measure(spec, load)
        except Exception as exc:  # one source must never take the others down
            state.last_error = _message(exc)
            state.load_seconds = time.perf_counter() - started
            _log.warning("source %r failed: %s", spec.name, state.last_error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, state.last_error))
            frames = _fallback(spec, snapshot_dir, state)
            span.set_attribute("using_snapshot", state.using_snapshot)
            span.set_attribute("rows", state.rows)
            return frames, state, pl.DataFrame(schema=QUARANTINE_SCHEMA)
        state.ok = True
        state.rows = sum(measured.rows.values())
        state.quarantined = measured.quarantined
        state.newest = _latest(measured.newest.values())
        state.newest_by_initiative = dict(measured.by_initiative.iter_rows())
        state.last_success = now
        state.warnings = list(load.warnings)
        if snapshot_dir is not None:
            note = _write_snapshot(spec, snapshot_dir, measured, now)
            if note:
                state.warnings.append(note)
        state.load_seconds = time.perf_counter() - started
        span.set_attribute("rows", state.rows)
        span.set_attribute("quarantined", state.quarantined)
        return measured.frames, state, measured.quarantine


def _message(exc: BaseException) -> str:
    """The typed error's own message; anything else with its type name. Never a password."""
    text = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
    return redact(text)


def _canonical(frame: pl.LazyFrame, table: str) -> pl.LazyFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in SCHEMAS[table].items()])


def _measure(spec: SourceSpec, load: SourceLoad) -> _Measured:
    """Count good and quarantined rows and find the newest timestamp, per table."""
    frames: dict[str, pl.LazyFrame] = {}
    rows: dict[str, int] = {}
    collected: dict[str, pl.DataFrame] = {}
    bad_parts: list[pl.DataFrame] = []
    quarantined = 0
    newest: dict[str, datetime | None] = {}
    per_initiative: list[pl.DataFrame] = []
    for table in spec.tables:
        frame = load.frames.get(table)
        if frame is None:
            continue
        if BAD not in frame.collect_schema().names():  # a plugin without the cheap flag
            frame = frame.with_columns(pl.col(REASON).is_not_null().alias(BAD))
        time_column = TIME_COLUMN[table]
        is_bad = pl.col(BAD)
        bad_plan = frame.filter(is_bad).select(LOCATION, REASON).head(QUARANTINE_KEEP)
        keyed = "initiative" in SCHEMAS[table]
        if table in _LAZY_TABLES:
            # one pass: counts, and the newest good row per initiative (for freshness later)
            stats_plan = frame.group_by("initiative").agg(
                pl.len().alias("n"),
                is_bad.sum().alias("bad"),
                pl.col(time_column).filter(~is_bad).max().alias("newest"),
            )
            stats = stats_plan.collect(engine="streaming")
            total, n_bad = int(stats["n"].sum()), int(stats["bad"].sum())
            # reasons and locations are text: build them only when there is a bad row
            bad = bad_plan.collect(engine="streaming") if n_bad else _no_bad_rows()
            top = stats["newest"].max()
            frames[table] = _canonical(frame.filter(~is_bad), table)
            good_newest = stats.filter(pl.col("initiative").is_not_null())
        else:
            data = frame.collect()
            good = data.filter(~is_bad)
            bad = data.filter(is_bad).select(LOCATION, REASON).head(QUARANTINE_KEEP)
            total, n_bad = data.height, data.height - good.height
            top = good[time_column].max()
            collected[table] = _canonical(good.lazy(), table).collect()
            frames[table] = collected[table].lazy()
            good_newest = (
                good.group_by("initiative").agg(pl.col(time_column).max().alias("newest"))
                if keyed
                else None
            )
        if good_newest is not None:
            per_initiative.append(
                good_newest.select("initiative", pl.col("newest").cast(NEWEST_SCHEMA["newest"]))
            )
        rows[table] = total - n_bad
        quarantined += n_bad
        newest[table] = top  # type: ignore[assignment]
        bad_parts.append(
            bad.select(
                pl.lit(spec.name).alias("source"),
                pl.lit(table).alias("table"),
                pl.col(LOCATION).alias("location"),
                pl.col(REASON).alias("reason"),
            )
        )
    quarantine = pl.concat(bad_parts) if bad_parts else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    by_initiative = (
        pl.concat(per_initiative)
        .filter(pl.col("newest").is_not_null())
        .group_by("initiative")
        .agg(pl.col("newest").max())
        if per_initiative
        else pl.DataFrame(schema={k: v for k, v in NEWEST_SCHEMA.items() if k != "source"})
    )
    return _Measured(frames, rows, quarantined, newest, quarantine, collected, by_initiative)


def _no_bad_rows() -> pl.DataFrame:
    return pl.DataFrame(schema={LOCATION: pl.String(), REASON: pl.String()})


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    return max((v for v in values if v is not None), default=None)


def _snapshot_path(snapshot_dir: Path, source: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", source).lstrip(".") or "_"
    return snapshot_dir / safe


def _partial(target: Path) -> Path:
    """A private temporary name next to `target` (concurrent loads never share one)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def _write_snapshot(
    spec: SourceSpec, snapshot_dir: Path, measured: _Measured, now: datetime
) -> str | None:
    """Write good rows to snapshot_dir/<source>/<table>.parquet; a note when something failed."""
    folder = _snapshot_path(snapshot_dir, spec.name)
    tables: dict[str, dict[str, object]] = {}
    try:
        previous = json.loads((folder / _META).read_text(encoding="utf-8")).get("tables", {})
    except (OSError, ValueError, AttributeError):
        previous = {}
    try:
        folder.mkdir(parents=True, exist_ok=True)
        for table, frame in measured.frames.items():
            target = folder / f"{table}.parquet"
            rows = measured.rows[table]
            if table not in measured.collected and rows > SNAPSHOT_MAX_ROWS:
                target.unlink(missing_ok=True)
                tables[table] = {"rows": rows, "skipped": True}
                continue
            newest = measured.newest.get(table)
            info: dict[str, object] = {
                "rows": rows,
                "newest": newest.isoformat() if newest else None,
            }
            if table in measured.collected:  # small: a content hash is cheap
                info["hash"] = str(measured.collected[table].hash_rows(seed=0).sum())
            if previous.get(table) == info and target.is_file():
                # same content as last time (big tables: same rows and newest row): keep the file
                tables[table] = info
                continue
            partial = _partial(target)
            try:
                if table in measured.collected:
                    measured.collected[table].write_parquet(partial)
                else:
                    frame.sink_parquet(partial)
                os.replace(partial, target)
            finally:
                partial.unlink(missing_ok=True)
            tables[table] = info
        meta = {"written_at": now.isoformat(), "tables": tables}
        partial_meta = _partial(folder / _META)
        partial_meta.write_text(json.dumps(meta, indent=1), encoding="utf-8")
        os.replace(partial_meta, folder / _META)
    except (OSError, pl.exceptions.PolarsError) as exc:
        return f"could not write the snapshot: {type(exc).__name__}: {exc}"
    return None


def _fallback(
    spec: SourceSpec, snapshot_dir: Path | None, state: SourceHealth
) -> dict[str, pl.LazyFrame]:
    """The last good snapshot of a failed source (empty when there is none)."""
    if snapshot_dir is None:
        return {}
    folder = _snapshot_path(snapshot_dir, spec.name)
    try:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    frames: dict[str, pl.LazyFrame] = {}
    rows = 0
    newest: list[datetime | None] = []
    for table in spec.tables:
        info = meta.get("tables", {}).get(table)
        target = folder / f"{table}.parquet"
        if not info or info.get("skipped") or not target.is_file():
            continue
        frames[table] = _canonical(pl.scan_parquet(target), table)
        rows += int(info.get("rows", 0))
        newest.append(datetime.fromisoformat(info["newest"]) if info.get("newest") else None)
    if not frames:
        return {}
    state.using_snapshot = True
    state.rows = rows
    state.newest = _latest(newest)
    written = meta.get("written_at")
    state.last_success = datetime.fromisoformat(written) if written else None
    state.warnings.append(
        f"showing the last good data (snapshot of {written}); the load failed: {state.last_error}"
    )
    return frames
