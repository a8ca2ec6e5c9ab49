"""Load every configured source into the canonical tables, with health, quarantine and snapshots.

One failing source never blanks the others: its error is recorded in its SourceHealth and, when
a snapshot of its last good load exists, that snapshot is used instead (`using_snapshot=True`).
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from opentelemetry import trace

from connectors import phi, registry
from connectors.base import (
    ConnectorError,
    SourceHealth,
    SourceSpec,
)
from connectors.file import FileConnector
from connectors.sql import redact
from core.canonical import SOURCE_COLUMN, TABLES, empty
from core.durations import Duration
from core.models import Config, PhiPattern, Source
from metrics.slo import earliest_start
from metrics.timewin import as_of_instant
from pilotwatch import snapshots, store, store_files
from pilotwatch.measure import NEWEST_SCHEMA, QUARANTINE_SCHEMA, Measured, measure

# Above this many good rows a requests table is not snapshotted (it would cost as much disk and
# time as the source itself); its fallback is then "no requests" rather than stale requests.
SNAPSHOT_MAX_ROWS = 5_000_000
# Once a load has begun replacing its snapshot (before its deadline), it gets this long to finish.
COMMIT_GRACE_SECONDS = 10.0
# The start of the health warning for a snapshot that failed verification (pages look for it).
SNAPSHOT_DISCARDED = "discarded its snapshot, which cannot be trusted"
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
    # the store-backed sources' request buckets (docs/store.md); None without the store
    stored: store.StoredRequests | None = None


def spec_from_source(
    source: Source,
    root: str | Path,
    default_freshness: Duration | None = None,
    phi_patterns: Iterable[PhiPattern] = (),
) -> SourceSpec:
    """A SourceSpec for `source`; relative paths resolve against `root` (settings `_root`).

    `phi_patterns` are settings.yaml's extra free-text patterns, screened on top of the defaults.
    """
    freshness = source.freshness or default_freshness
    return SourceSpec(
        name=source.name,
        type=source.type,
        tables=tuple(source.tables),
        settings={**source.settings, "_root": str(root)},
        columns={t: dict(m) for t, m in source.columns.items()},
        values={t: {c: dict(v) for c, v in m.items()} for t, m in source.values.items()},
        timezone=source.timezone,
        freshness_seconds=freshness.seconds_total if freshness else None,
        initiatives=tuple(source.initiatives),
        phi_patterns=tuple((p.name, p.regex) for p in phi_patterns),
    )


def fetch_range(config: Config, until: datetime) -> tuple[datetime, datetime]:
    """[start, until): what every SLO window and burn-rate window as of `until` needs."""
    end = as_of_instant(until)
    return earliest_start(config.slos, end), end


def load_sources(
    config: Config,
    snapshot_dir: Path | None = None,
    *,
    now: datetime | None = None,
    until: datetime | None = None,
    store_dir: Path | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> LoadedData:
    """Load every enabled source of `config` concurrently, each within its `load_timeout`.

    Health entries and concatenated frames are in config order, whatever finishes first.
    Connectors that count sli_buckets themselves fetch the range the SLOs need as of `until`
    (default: `now`). The incremental store (docs/store.md) lives in `store_dir`, by default
    `.store` beside `snapshot_dir` (none without one); PILOTWATCH_STORE=off disables it.
    """
    now = now or datetime.now(UTC)
    store_root = store_files.resolve_dir(store_dir, snapshot_dir)
    window = fetch_range(config, until or now)
    jobs = [
        _Job(
            replace(
                spec_from_source(
                    source,
                    config.root,
                    config.settings.default_freshness,
                    config.settings.phi_patterns,
                ),
                slos=tuple(config.slos),
                fetch_range=window,
            ),
            source.load_timeout or config.settings.default_load_timeout,
        )
        for source in config.sources
        if source.enabled
    ]
    for job in jobs:
        job.start(snapshot_dir, now, store_root)
    total = len(jobs)
    if on_progress is not None and jobs:
        on_progress(jobs[0].spec.name, 0, total)  # the caller can show progress at once
    results = []
    for done, job in enumerate(jobs, start=1):
        results.append(job.result(snapshot_dir))  # each waits until its own deadline
        if on_progress is not None:
            on_progress(job.spec.name, done, total)  # in the caller's thread
    parts: dict[str, list[pl.LazyFrame]] = {table: [] for table in TABLES}
    health: list[SourceHealth] = []
    quarantine: list[pl.DataFrame] = []
    for job, (frames, state, bad) in zip(jobs, results, strict=True):
        health.append(state)
        quarantine.append(bad)
        for table, frame in frames.items():
            parts[table].append(frame.with_columns(pl.lit(job.spec.name).alias(SOURCE_COLUMN)))
    tables = {
        table: pl.concat(items, how="vertical") if items else empty(table).lazy()
        for table, items in parts.items()
    }
    stored = _stored_requests(jobs, results) if store_root is not None else None
    bad_rows = pl.concat(quarantine) if quarantine else pl.DataFrame(schema=QUARANTINE_SCHEMA)
    newest = pl.DataFrame(
        [
            {"source": h.source, "initiative": initiative, "newest": instant}
            for h in health
            for initiative, instant in h.newest_by_initiative.items()
        ],
        schema=NEWEST_SCHEMA,
    )
    return LoadedData(
        tables=tables, health=health, quarantine=bad_rows, newest=newest, stored=stored
    )


_Result = tuple[dict[str, pl.LazyFrame], SourceHealth, pl.DataFrame]


def _stored_requests(jobs: list[_Job], results: list[_Result]) -> store.StoredRequests | None:
    """The store-backed sources' buckets and the other sources' raw requests; None if none."""
    backed = [job for job in jobs if job.stored is not None]
    if not backed:
        return None
    names = frozenset(job.spec.name for job in backed)
    others = [
        frames["requests"].with_columns(pl.lit(job.spec.name).alias(SOURCE_COLUMN))
        for job, (frames, _, _) in zip(jobs, results, strict=True)
        if job.spec.name not in names and "requests" in frames
    ]
    if not others:
        others = [empty("requests").lazy().with_columns(pl.lit("").alias(SOURCE_COLUMN))]
    return store.StoredRequests(
        parts=tuple(part for job in backed if job.stored for part in job.stored.parts),
        sources=names,
        others=pl.concat(others, how="vertical"),
    )


class _Job:
    """One source loading in its own daemon thread, abandoned at its deadline.

    Threads cannot be killed; a daemon thread at least never keeps the process alive. The lock
    makes "the deadline passed" and "the load commits its snapshot" mutually exclusive, so an
    abandoned load can neither replace the snapshot nor deliver its result afterwards.
    """

    def __init__(self, spec: SourceSpec, timeout: Duration) -> None:
        self.spec = spec
        self.timeout = timeout  # shown as written (`60s`) in the abandoned-load message
        self.seconds = timeout.seconds_total
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._abandoned = False
        self._committing = False
        self._result: _Result | None = None
        self._error: BaseException | None = None
        self._deadline = 0.0
        self.stored: store.SourceStore | None = None  # set with the result, never after it

    def start(self, snapshot_dir: Path | None, now: datetime, store_root: Path | None) -> None:
        """Start loading; the deadline counts from here."""
        self._deadline = time.monotonic() + self.seconds
        context = contextvars.copy_context()  # the trace context follows the load
        thread = threading.Thread(
            target=context.run,
            args=(self._run, snapshot_dir, now, store_root),
            name=f"pilotwatch-load-{self.spec.name}",
            daemon=True,
        )
        thread.start()

    def _run(self, snapshot_dir: Path | None, now: datetime, store_root: Path | None) -> None:
        stored: store.SourceStore | None = None
        try:
            result: _Result | None
            frames, state, bad, stored = _load(
                self.spec, snapshot_dir, now, self._commit, store_root
            )
            result = (frames, state, bad)
            error: BaseException | None = None
        except BaseException as exc:  # even SystemExit: it fails this source, not the process
            result, error = None, exc
        with self._lock:
            if not self._abandoned:
                self._result, self._error, self.stored = result, error, stored
                self._done.set()

    def _commit(self) -> bool:
        """Called just before the snapshot's renames: False once the deadline has passed."""
        with self._lock:
            if self._abandoned:
                return False
            self._committing = True
            return True

    def result(self, snapshot_dir: Path | None) -> _Result:
        """The load's result, or a failed health (with snapshot fallback) past the deadline."""
        if not self._done.wait(max(0.0, self._deadline - time.monotonic())):
            with self._lock:
                committing = self._committing and not self._done.is_set()
                if not committing:
                    self._abandoned = True
            # a load that began committing before its deadline only has renames left
            if committing and not self._done.wait(COMMIT_GRACE_SECONDS):
                with self._lock:
                    self._abandoned = not self._done.is_set()
        if not self._done.is_set():
            return _failed(
                self.spec,
                snapshot_dir,
                f"did not finish within load_timeout {self.timeout}; the load was abandoned "
                "(a server that accepts the connection but never answers, or a very slow "
                "read); raise load_timeout in sources.yaml if the source is only slow",
                float(self.seconds),
            )
        if self._result is None:  # only a BaseException (a plugin's sys.exit) gets here
            return _failed(self.spec, snapshot_dir, _message(self._error or RuntimeError()), 0.0)
        return self._result


def _failed(spec: SourceSpec, snapshot_dir: Path | None, error: str, seconds: float) -> _Result:
    """A failed source's result: its error, and its last good snapshot when there is one."""
    state = SourceHealth(source=spec.name, type=spec.type, tables=spec.tables, ok=False)
    state.last_error = error
    state.load_seconds = seconds
    _log.warning("source %r failed: %s", spec.name, error)
    frames = _fallback(spec, snapshot_dir, state)
    return frames, state, pl.DataFrame(schema=QUARANTINE_SCHEMA)


def load_one(
    spec: SourceSpec,
    snapshot_dir: Path | None = None,
    *,
    now: datetime | None = None,
    commit: Callable[[], bool] = lambda: True,
    store_dir: Path | None = None,
) -> _Result:
    """Load one source: (good frames without `source`, its health, its quarantined rows).

    `commit()` is asked right before the snapshot is replaced; when it says no, nothing is
    written (the caller gave up on this load). `store_dir`: the incremental store's folder.
    """
    frames, state, bad, _ = _load(spec, snapshot_dir, now or datetime.now(UTC), commit, store_dir)
    return frames, state, bad


def _load(
    spec: SourceSpec,
    snapshot_dir: Path | None,
    now: datetime,
    commit: Callable[[], bool],
    store_root: Path | None,
) -> tuple[dict[str, pl.LazyFrame], SourceHealth, pl.DataFrame, store.SourceStore | None]:
    """`load_one`, plus the source's store entry when the store served its requests."""
    state = SourceHealth(source=spec.name, type=spec.type, tables=spec.tables, ok=False)
    attributes = {"source": spec.name, "type": spec.type}
    with _tracer.start_as_current_span("pilotwatch.source.load", attributes=attributes) as span:
        started = time.perf_counter()
        try:
            connector = registry.get(spec.type)(spec)
            stored = None
            # a plugin may register another class as `file`: the store needs the built-in one
            backed = (
                store_root is not None
                and store.applies(spec)
                and isinstance(connector, FileConnector)
            )
            if backed and spec.tables == ("requests",):
                load, stored = store.load_deferred(spec, connector, store_root)  # type: ignore[arg-type]
            else:
                load = connector.load()
                if backed:
                    stored = store.load_requests(spec, connector, store_root)  # type: ignore[arg-type]
            if stored is None:
                measured = measure(spec, load)
            else:
                measured = measure(spec, load, {"requests": stored.counts})
        except Exception as exc:  # one source must never take the others down
            state.last_error = _message(exc)
            state.load_seconds = time.perf_counter() - started
            _log.warning("source %r failed: %s", spec.name, state.last_error)
            span.set_status(trace.Status(trace.StatusCode.ERROR, state.last_error))
            frames = _fallback(spec, snapshot_dir, state)
            span.set_attribute("using_snapshot", state.using_snapshot)
            span.set_attribute("rows", state.rows)
            return frames, state, pl.DataFrame(schema=QUARANTINE_SCHEMA), None
        state.ok = True
        state.rows = sum(measured.rows.values())
        state.quarantined = measured.quarantined
        state.redacted = measured.redacted
        state.newest = _latest(measured.newest.values())
        state.newest_by_initiative = dict(measured.by_initiative.iter_rows())
        state.last_success = now
        state.warnings = [phi.redact_message(w, spec.phi_patterns) for w in load.warnings]
        if snapshot_dir is not None:
            note = _write_snapshot(spec, snapshot_dir, measured, now, commit)
            if note:
                state.warnings.append(note)
        state.load_seconds = time.perf_counter() - started
        span.set_attribute("rows", state.rows)
        span.set_attribute("quarantined", state.quarantined)
        return measured.frames, state, measured.quarantine, stored


def _message(exc: BaseException) -> str:
    """The typed error's own message; anything else with its type name. Never a password."""
    text = str(exc) if isinstance(exc, ConnectorError) else f"{type(exc).__name__}: {exc}"
    return phi.redact_message(redact(text))


def _latest(values: Iterable[datetime | None]) -> datetime | None:
    return max((v for v in values if v is not None), default=None)


def _write_snapshot(
    spec: SourceSpec,
    snapshot_dir: Path,
    measured: Measured,
    now: datetime,
    commit: Callable[[], bool] = lambda: True,
) -> str | None:
    """Write good rows to snapshot_dir/<source>/<table>.parquet; a note when something failed."""
    tables: dict[str, snapshots.TableToWrite] = {}
    for table, frame in measured.frames.items():
        rows = measured.rows[table]
        if table not in measured.collected and rows > SNAPSHOT_MAX_ROWS:
            tables[table] = snapshots.TableToWrite(frame, {"rows": rows, "skipped": True})
            continue
        newest = measured.newest.get(table)
        info: dict[str, object] = {"rows": rows, "newest": newest.isoformat() if newest else None}
        data: pl.DataFrame | pl.LazyFrame = frame
        if table in measured.collected:  # small: a content hash is cheap
            data = measured.collected[table]
            info["hash"] = str(data.hash_rows(seed=0).sum())
        tables[table] = snapshots.TableToWrite(data, info)
    folder = snapshots.folder_for(snapshot_dir, spec.name)
    try:
        snapshots.write(folder, tables, now.isoformat(), commit)
    except (OSError, pl.exceptions.PolarsError) as exc:
        return f"could not write the snapshot: {type(exc).__name__}: {exc}"
    return None


def _fallback(
    spec: SourceSpec, snapshot_dir: Path | None, state: SourceHealth
) -> dict[str, pl.LazyFrame]:
    """The last good, verified snapshot of a failed source (empty when none is usable)."""
    if snapshot_dir is None:
        return {}
    folder = snapshots.folder_for(snapshot_dir, spec.name)
    snapshots.remove_stale_temp_files(folder)
    try:
        found = snapshots.read(folder, spec.tables)
    except snapshots.BadSnapshot as exc:
        note = f"{SNAPSHOT_DISCARDED}: {exc}"
        _log.warning("source %r %s", spec.name, note)
        state.warnings.append(note)
        return {}
    if found is None:
        return {}
    state.using_snapshot = True
    state.rows = found.rows
    state.newest = _latest(found.newest)
    state.last_success = datetime.fromisoformat(found.written_at) if found.written_at else None
    state.warnings.append(
        f"showing the last good data (snapshot of {found.written_at}); "
        f"the load failed: {state.last_error}"
    )
    return found.frames
