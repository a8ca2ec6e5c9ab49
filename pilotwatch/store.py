"""The incremental pre-aggregate store for the `requests` of `file` sources (docs/store.md).

A partition is one file. For each, the store keeps its minute buckets per SLO dimension and
latency threshold (good rows only) and the loader's counts (rows, quarantined, redacted,
newest per initiative, the quarantined rows kept for display), keyed by the file's fingerprint
and by everything else that shapes them (`store_files.source_key`). A load reads only the files
whose entry is missing, stale or untrustworthy; a report then sums the stored buckets of its
window instead of scanning the raw rows again. The numbers are the same as without the store.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from connectors import phi
from connectors.base import (
    BAD,
    LOCATION,
    REASON,
    REDACTED,
    REDACTED_BAD,
    SourceLoad,
    SourceSpec,
)
from connectors.file import FileConnector
from core.canonical import SCHEMAS
from core.models import Slo
from metrics import buckets as bk
from metrics.timewin import lit_ts
from pilotwatch import store_files as sf
from pilotwatch.measure import NEWEST_SCHEMA, QUARANTINE_KEEP, StoredCounts

DIMS = ("initiative", "service", "operation", "environment", "bucket_start")
_VALUES = ("total", "errors", "newest")
_INITIATIVE_NEWEST = {k: v for k, v in NEWEST_SCHEMA.items() if k != "source"}
_BAD_SCHEMA = {LOCATION: pl.String(), REASON: pl.String()}
# files summarised in one streaming pass: enough to keep both cores busy, few enough that the
# grouped result of a batch stays small beside the 1 GB budget at 100 million requests
BUILD_BATCH = 8
KEEP_THRESHOLDS = 16  # good-latency columns a partition keeps at most (the needed ones first)
_log = logging.getLogger("pilotwatch.store")


@dataclass
class StoreStats:
    """What the store did in this process (tests and benchmarks read it; `reset` clears it)."""

    hits: int = 0
    reads: list[str] = field(default_factory=list)  # resolved paths read from the source again
    corrupt: int = 0  # entries that failed their checks and were rebuilt
    removed: int = 0  # entries whose file is gone
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def reset(self) -> None:
        """Forget every count."""
        with self._lock:
            self.hits, self.reads, self.corrupt, self.removed = 0, [], 0, 0


STATS = StoreStats()


@dataclass(frozen=True)
class StoredPart:
    """One partition's minute buckets (a Parquet scan) and the range of its bucket starts."""

    source: str
    frame: pl.LazyFrame
    first: datetime | None
    last: datetime | None
    thresholds: frozenset[bk.Threshold] = frozenset()  # the good-latency columns it holds


@dataclass(frozen=True)
class SourceStore:
    """One source's requests as the store knows them: counts for the loader, bucket parts."""

    counts: StoredCounts
    parts: tuple[StoredPart, ...]
    digest: str  # the key and every partition's fingerprint: the same digest, the same rows
    warnings: tuple[str, ...] = ()  # the connector's notes on these files, in file order


@dataclass(frozen=True)
class StoredRequests:
    """The store-backed sources' request buckets and the other sources' raw requests."""

    parts: tuple[StoredPart, ...]
    sources: frozenset[str]
    others: pl.LazyFrame  # requests of the sources not in the store (with the `source` column)


def applies(spec: SourceSpec) -> bool:
    """Whether the store serves this source: a `file` source with a `requests` table."""
    return spec.type == "file" and "requests" in spec.tables


def threshold_name(threshold: bk.Threshold) -> str:
    """A stored good-latency column's name, by value: `le_300.0`, so columns survive reordering."""
    op, value = threshold
    return f"{op}_{value!r}"


def needed_thresholds(slos: Sequence[Slo]) -> tuple[bk.Threshold, ...]:
    """The (op, threshold) pairs the SLOs need, in `buckets.pre_aggregate`'s order."""
    return tuple(sorted({k for k in (bk.threshold_key(s) for s in slos) if k is not None}))


def load_requests(spec: SourceSpec, connector: FileConnector, root: Path) -> SourceStore:
    """The source's request counts and buckets, reading only partitions the store lacks."""
    folder = sf.source_folder(root, spec.name)
    key = sf.source_key(spec)
    needed = needed_thresholds(spec.slos)
    digest = hashlib.sha256(key.encode())
    files = connector.table_files("requests")
    found: list[_Found | None] = []
    carry: set[bk.Threshold] = set()  # thresholds stale entries held: kept when rebuilding
    misses: list[tuple[int, Path, str, dict[str, Any]]] = []
    for path in files:
        pid = sf.partition_id(path)
        fp = sf.fingerprint(path)
        digest.update(repr(sorted(fp.items())).encode())
        hit = _lookup(folder, pid, key, fp, needed, carry)
        if hit is None:
            misses.append((len(found), path, pid, {"key": key, "fingerprint": fp}))
        found.append(hit)
    for start in range(0, len(misses), BUILD_BATCH):
        batch = misses[start : start + BUILD_BATCH]
        built = _build(spec, type(connector), folder, batch, _keep(needed, carry))
        for (index, *_), result in zip(batch, built, strict=True):
            found[index] = result
    _prune(folder, {sf.partition_id(path) for path in files})
    return _combine(spec.name, [f for f in found if f is not None], digest.hexdigest())


def load_deferred(
    spec: SourceSpec, connector: FileConnector, root: Path
) -> tuple[SourceLoad, SourceStore]:
    """A requests-only file source from the store, its raw rows a plan built only if collected.

    The contract's checks that do not read data run first (settings, identifier refusal), with
    the same errors as `Connector.load`; every row the store summarised went through the whole
    contract when its file was read. The raw requests (`LoadedData.tables`) are a deferred
    source: the per-file connector plans are built only when something collects them (a
    snapshot, freshness looking back before a source's newest row), predicates pushed down.
    """
    connector.validated(spec.name, spec.settings)
    phi.refuse_spec(spec)
    stored = load_requests(spec, connector, root)
    files = connector.table_files("requests")
    frame = _deferred_requests(spec, type(connector), files)
    return SourceLoad(spec.name, {"requests": frame}, list(stored.warnings)), stored


def _deferred_requests(
    spec: SourceSpec, connector_type: type[FileConnector], files: list[Path]
) -> pl.LazyFrame:
    """The source's conformed requests as a lazy source that runs the contract on collect."""

    def plan() -> pl.LazyFrame:
        return connector_type(spec).load().frames["requests"]

    def schema() -> pl.Schema:
        # every file conforms to the same columns; one file's plan is enough to know them
        sample = next((p for p in files if p.stat().st_size), files[0]) if files else None
        if sample is None:
            return plan().collect_schema()
        return connector_type(_single_file(spec, sample)).load().frames["requests"].collect_schema()

    def batches(
        columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None, size: int | None
    ) -> Iterator[pl.DataFrame]:
        frame = plan()
        if predicate is not None:
            frame = frame.filter(predicate)
        if columns is not None:
            frame = frame.select(columns)
        if n_rows is not None:
            frame = frame.head(n_rows)
        yield from frame.collect_batches(chunk_size=size, engine="streaming")

    return register_io_source(batches, schema=schema, explain_name="pilotwatch store raw")


def _keep(needed: tuple[bk.Threshold, ...], carry: set[bk.Threshold]) -> tuple[bk.Threshold, ...]:
    """The needed thresholds plus those the old entries held (up to KEEP_THRESHOLDS in all).

    Keeping them makes switching an SLO's threshold back free (no read of the files).
    """
    extra = sorted(carry - set(needed))[: max(0, KEEP_THRESHOLDS - len(needed))]
    return tuple(sorted({*needed, *extra}))


def _combine(source: str, found: list[_Found], digest: str) -> SourceStore:
    """Sum the partitions' counts in file order (the kept bad rows too, up to the cap)."""
    parts: list[StoredPart] = []
    totals = [0, 0, 0]
    newest: list[datetime] = []
    by_initiative: dict[str, datetime] = {}
    bad_rows: list[pl.DataFrame] = []
    kept = 0
    warnings: list[str] = []
    for manifest, part, bad in found:
        parts.append(replace(part, source=source))
        warnings += [note for note in manifest["warnings"] if note not in warnings]
        totals[0] += manifest["total"]
        totals[1] += manifest["bad"]
        totals[2] += manifest["redacted"]
        if manifest["newest"]:
            newest.append(datetime.fromisoformat(manifest["newest"]))
        for name, text in manifest["by_initiative"].items():
            instant = datetime.fromisoformat(text)
            if name not in by_initiative or instant > by_initiative[name]:
                by_initiative[name] = instant
        if bad is not None and kept < QUARANTINE_KEEP:
            bad_rows.append(bad.head(QUARANTINE_KEEP - kept))
            kept += bad_rows[-1].height
    initiatives = pl.DataFrame(
        {"initiative": list(by_initiative), "newest": list(by_initiative.values())},
        schema=_INITIATIVE_NEWEST,
    )
    counts = StoredCounts(
        total=totals[0],
        bad=totals[1],
        redacted=totals[2],
        newest=max(newest, default=None),
        by_initiative=initiatives,
        quarantine=pl.concat(bad_rows) if bad_rows else pl.DataFrame(schema=_BAD_SCHEMA),
    )
    return SourceStore(counts, tuple(parts), digest, tuple(warnings))


_Found = tuple[dict[str, Any], StoredPart, pl.DataFrame | None]


def _part(manifest: dict[str, Any], frame: pl.LazyFrame) -> StoredPart:
    first, last = manifest["first"], manifest["last"]
    return StoredPart(
        source="",
        frame=frame,
        first=datetime.fromisoformat(first) if first else None,
        last=datetime.fromisoformat(last) if last else None,
        thresholds=frozenset((str(op), float(value)) for op, value in manifest["thresholds"]),
    )


def _lookup(
    folder: Path,
    pid: str,
    key: str,
    fp: dict[str, Any],
    needed: tuple[bk.Threshold, ...],
    carry: set[bk.Threshold],
) -> _Found | None:
    """A stored partition that matches the key, the fingerprint and the thresholds; else None.

    An entry that lacks only a threshold adds the thresholds it has to `carry`.
    """
    try:
        entry = sf.read_entry(folder, pid)
        if entry is None:
            return None
        manifest = entry.manifest
        if (
            manifest.get("format") != sf.STORE_FORMAT
            or manifest.get("key") != key
            or manifest.get("fingerprint") != fp
        ):
            return None
        stored = {(str(op), float(value)) for op, value in manifest["thresholds"]}
        if not set(needed) <= stored:  # a new threshold: the file must be read again
            carry.update(stored)
            return None
        bad = pl.read_parquet(entry.bad) if manifest["bad"] else None
        part = _part(manifest, pl.scan_parquet(entry.buckets))
    except (sf.BadEntry, KeyError, TypeError, ValueError, pl.exceptions.PolarsError) as exc:
        with STATS._lock:
            STATS.corrupt += 1
        _log.warning("store entry %s in %s cannot be trusted, rebuilding it: %s", pid, folder, exc)
        return None
    with STATS._lock:
        STATS.hits += 1
    return manifest, part, bad


def _single_file(spec: SourceSpec, path: Path) -> SourceSpec:
    """The source restricted to one requests file: the same contract, one partition."""
    settings = {k: v for k, v in spec.settings.items() if k not in ("path", "paths", "table")}
    settings["paths"] = {"requests": glob.escape(str(path))}
    return replace(spec, tables=("requests",), settings=settings)


def _build(
    spec: SourceSpec,
    connector_type: type[FileConnector],
    folder: Path,
    batch: list[tuple[int, Path, str, dict[str, Any]]],
    needed: tuple[bk.Threshold, ...],
) -> list[_Found]:
    """Read files through the connector contract, summarise them in one pass, store each."""
    frames = []
    notes: list[list[str]] = []
    for _, path, _, _ in batch:
        with STATS._lock:
            STATS.reads.append(str(path.resolve()))
        load = connector_type(_single_file(spec, path)).load()
        frames.append(load.frames["requests"])
        notes.append(list(load.warnings))  # dropped identifier columns, as the full load says
    out: list[_Found] = []
    for (_, path, pid, manifest), (buckets, counts, bad), warnings in zip(
        batch, summarize(frames, needed), notes, strict=True
    ):
        manifest = {
            **manifest,
            "format": sf.STORE_FORMAT,
            "thresholds": [list(t) for t in needed],
            "warnings": warnings,
            **counts,
        }
        frame = buckets.lazy()
        try:
            written = sf.write_entry(folder, pid, manifest, buckets, bad)
            frame = pl.scan_parquet(written)  # from disk: a cold load never holds every bucket
        except (OSError, pl.exceptions.PolarsError) as exc:  # a read-only disk: still report
            _log.warning("could not write store entry for %s: %s", path, exc)
        out.append((manifest, _part(manifest, frame), bad if counts["bad"] else None))
    return out


def _typed(frame: pl.LazyFrame, index: int) -> pl.LazyFrame:
    """A partition's rows with the loader's casts, its bad flag, redactions and its index."""
    names = frame.collect_schema().names()
    bad = pl.col(BAD) if BAD in names else pl.col(REASON).is_not_null()
    redacted = pl.col(REDACTED).cast(pl.UInt64) if REDACTED in names else pl.lit(0, pl.UInt64)
    # the same casts as the loader's good frame, so the buckets equal pre_aggregate's
    return frame.select(
        *[pl.col(name).cast(dtype) for name, dtype in SCHEMAS["requests"].items()],
        bad.alias(BAD),
        redacted.alias("_r"),
        pl.lit(index, pl.UInt32).alias("_part"),
    )


def summarize(
    frames: Sequence[pl.LazyFrame], thresholds: tuple[bk.Threshold, ...]
) -> list[tuple[pl.DataFrame, dict[str, Any], pl.DataFrame]]:
    """Partitions in one streaming pass: good-row minute buckets, counts, the kept bad rows."""
    if not frames:
        return []
    grouped = (
        pl.concat([_typed(f, i) for i, f in enumerate(frames)], how="vertical")
        .with_columns(pl.col("timestamp").dt.truncate("1m").alias("bucket_start"))
        .group_by(["_part", *DIMS, BAD])
        .agg(
            pl.len().cast(pl.Int64).alias("total"),
            pl.col("error").sum().cast(pl.Int64).alias("errors"),
            pl.col("timestamp").max().alias("newest"),
            *[
                bk.good_latency(op, t).sum().cast(pl.Int64).alias(threshold_name((op, t)))
                for op, t in thresholds
            ],
            pl.col("_r").sum().alias("_r"),
        )
        .collect(engine="streaming")
    )
    parted = grouped.partition_by("_part", as_dict=True, maintain_order=False)
    split = {key[0]: part for key, part in parted.items()}
    empty = grouped.clear()
    return [_summary(frame, split.get(i, empty)) for i, frame in enumerate(frames)]


def _summary(
    frame: pl.LazyFrame, grouped: pl.DataFrame
) -> tuple[pl.DataFrame, dict[str, Any], pl.DataFrame]:
    """One partition's buckets, counts and kept bad rows from its share of the grouped pass."""
    # `_bad` null counts in the total but is neither good nor quarantined, as in measure()
    good = grouped.filter(pl.col(BAD).eq(False))
    n_bad = int(grouped.filter(pl.col(BAD).eq(True))["total"].sum() or 0)
    redacted_total = int(grouped["_r"].sum() or 0)
    bad = pl.DataFrame(schema=_BAD_SCHEMA)
    if n_bad:
        names = frame.collect_schema().names()
        flag = pl.col(BAD) if BAD in names else pl.col(REASON).is_not_null()
        in_bad = pl.col(REDACTED_BAD).cast(pl.UInt64) if REDACTED_BAD in names else pl.lit(0)
        bad, extra = pl.collect_all(
            [
                frame.filter(flag).select(LOCATION, REASON).head(QUARANTINE_KEEP),
                frame.filter(flag).select(in_bad.sum().alias("n")),
            ],
            engine="streaming",
        )
        redacted_total += int(extra["n"].sum() or 0)
    buckets = good.drop("_part", BAD, "_r")
    named = good.filter(pl.col("initiative").is_not_null()).group_by("initiative")
    newest = named.agg(pl.col("newest").max()).sort("initiative")
    starts = buckets["bucket_start"].drop_nulls()
    counts: dict[str, Any] = {
        "total": int(grouped["total"].sum() or 0),
        "bad": n_bad,
        "redacted": redacted_total,
        "newest": _iso(good["newest"].max()),
        "by_initiative": {row[0]: _iso(row[1]) for row in newest.iter_rows() if row[1] is not None},
        "first": _iso(starts.min()) if starts.len() else None,
        "last": _iso(starts.max()) if starts.len() else None,
    }
    return buckets, counts, bad


def _iso(value: object) -> str | None:
    return value.isoformat() if isinstance(value, datetime) else None


def _prune(folder: Path, seen: set[str]) -> None:
    """Remove entries whose file no longer exists (another glob's files are left alone)."""
    for pid in sf.stored_ids(folder):
        if pid in seen:
            continue
        try:
            entry = sf.read_entry(folder, pid)
            path = entry.manifest["fingerprint"]["path"] if entry else None
        except (sf.BadEntry, KeyError, TypeError):
            path = None
        if path is None or not Path(path).exists():
            sf.remove_entry(folder, pid)
            with STATS._lock:
                STATS.removed += 1
    sf.sweep(folder)


def pre_window(
    stored: StoredRequests, slos: Sequence[Slo], start: datetime, end: datetime
) -> bk.PreBuckets | None:
    """`buckets.pre_aggregate` of all requests in [start, end), from the store's buckets.

    None when the window does not start and end on whole minutes (a stored minute cannot be
    split) or the SLOs need a threshold the data was not loaded for (a config changed since the
    load); the caller then aggregates the raw rows.
    """
    if any(t.second or t.microsecond for t in (start, end)):
        return None
    thresholds = needed_thresholds(slos)
    if any(not set(thresholds) <= part.thresholds for part in stored.parts):
        return None
    raw = bk.pre_aggregate(stored.others, slos, start, end)
    schema = raw.frame.schema
    values = [pl.col(v) for v in _VALUES] + [
        pl.col(threshold_name(t)).alias(bk.threshold_column(i)) for i, t in enumerate(thresholds)
    ]
    used = [
        part
        for part in stored.parts
        if part.first is not None
        and part.last is not None
        and part.first < end
        and part.last >= start
    ]
    if not used:
        return raw
    scans = [
        part.frame.select(pl.lit(part.source).alias("source"), *DIMS, *values) for part in used
    ]
    frame = pl.concat(scans, how="vertical").filter(
        (pl.col("bucket_start") >= lit_ts(start)) & (pl.col("bucket_start") < lit_ts(end))
    )
    if _overlap(used):  # a minute in two files of one source: sum them into one group
        sums = [pl.col(c).sum() for c in schema if c not in bk.PRE_KEYS and c != "newest"]
        frame = frame.group_by(list(bk.PRE_KEYS)).agg(*sums, pl.col("newest").max())
    # each file's groups are already unique; files with disjoint minutes need no regrouping
    frame = frame.select(list(schema)).cast(dict(schema))  # type: ignore[arg-type]
    return bk.PreBuckets(frame=pl.concat([frame.collect(), raw.frame]), thresholds=raw.thresholds)


def _overlap(parts: Sequence[StoredPart]) -> bool:
    """Whether two parts of one source share a minute range (then a minute may be in both)."""
    by_source: dict[str, list[tuple[datetime, datetime]]] = {}
    for part in parts:
        if part.first is not None and part.last is not None:
            by_source.setdefault(part.source, []).append((part.first, part.last))
    for spans in by_source.values():
        spans.sort()
        if any(later[0] <= earlier[1] for earlier, later in pairwise(spans)):
            return True
    return False
