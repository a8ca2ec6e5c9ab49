"""Last-good snapshots of a source: written atomically with checksums, verified before use.

Layout: `snapshot_dir/<source>/<table>.parquet` plus `_snapshot.json`, which records, per table,
the row count, newest row, a content hash (small tables) and the SHA-256 and size of the file.
Each file is written to a private temporary name, fsynced and renamed; the meta file is written
last, the same way, so a reader sees either the previous snapshot or the new one. A snapshot that
does not match its meta (truncated, edited, wrong schema, unreadable meta) is never used: the
caller gets a `BadSnapshot` naming the file. See docs/connectors.md, "Snapshots".
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import polars as pl

from core.canonical import SCHEMAS

META = "_snapshot.json"
# A temporary file is left behind only by a killed process; one older than this is stale even
# when its pid has been reused by a live process.
STALE_TMP_SECONDS = 3600
_TMP = re.compile(r"^\..+\.(\d+)\.[0-9a-f]{32}\.tmp$")
_CHUNK = 1 << 20


class BadSnapshot(Exception):
    """A snapshot that must not be used; the message names the file and what is wrong."""


@dataclass(frozen=True)
class TableToWrite:
    """One table of a new snapshot: its data (eager or lazy) and the facts the meta records."""

    frame: pl.DataFrame | pl.LazyFrame
    info: dict[str, object]  # rows, newest, hash (small tables), or {"rows", "skipped": True}


@dataclass(frozen=True)
class Snapshot:
    """A verified snapshot: frames per table (canonical schema) and its meta."""

    frames: dict[str, pl.LazyFrame]
    rows: int
    newest: list[datetime | None]
    written_at: str | None


def folder_for(snapshot_dir: Path, source: str) -> Path:
    """snapshot_dir/<source name made safe for a file name>."""
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", source).lstrip(".") or "_"
    return snapshot_dir / safe


def partial_name(target: Path) -> Path:
    """A private temporary name next to `target` (concurrent writers never share one)."""
    return target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex}.tmp")


def remove_stale_temp_files(folder: Path, now: float | None = None) -> list[Path]:
    """Delete `.*.tmp` files whose writer is dead or that are older than an hour."""
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for path in entries:
        match = _TMP.match(path.name)
        if not match:
            continue
        try:
            old = now - path.stat().st_mtime > STALE_TMP_SECONDS
        except OSError:
            continue
        if old or not _alive(int(match.group(1))):
            try:
                path.unlink()
                removed.append(path)
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # exists but not ours, or not a pid at all (then the age rule decides)
    return True


def _digest(path: Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read_meta(folder: Path) -> dict[str, object] | None:
    """The snapshot meta in `folder`: None when absent, BadSnapshot when unreadable."""
    path = folder / META
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadSnapshot(f"{path}: cannot be read ({type(exc).__name__}: {exc})") from exc
    try:
        meta = json.loads(text)
    except ValueError as exc:
        raise BadSnapshot(f"{path}: not valid JSON ({exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("tables"), dict):
        raise BadSnapshot(f"{path}: not a snapshot meta file (no 'tables' object)")
    return meta


def write(
    folder: Path,
    tables: Mapping[str, TableToWrite],
    written_at: str,
    commit: Callable[[], bool] = lambda: True,
) -> bool:
    """Write the snapshot atomically; False (nothing changed) when `commit()` refuses.

    Every new file is written and fsynced under a private name first; `commit()` is asked once,
    just before the renames, so a load abandoned at its deadline never replaces a snapshot.
    A table whose content equals the previous snapshot's (and whose file still matches its
    recorded checksum) is kept as it is. Raises OSError or PolarsError when a write fails.
    """
    remove_stale_temp_files(folder)
    try:
        previous = read_meta(folder)
    except BadSnapshot:
        previous = None
    before: dict[str, object] = previous["tables"] if previous else {}  # type: ignore[assignment]
    folder.mkdir(parents=True, exist_ok=True)
    meta_tables: dict[str, dict[str, object]] = {}
    renames: list[tuple[Path, Path]] = []
    removals: list[Path] = []
    try:
        for table, item in tables.items():
            target = folder / f"{table}.parquet"
            info = dict(item.info)
            if info.get("skipped"):
                removals.append(target)
                meta_tables[table] = info
                continue
            kept = _unchanged(before.get(table), info, target)
            if kept is not None:
                meta_tables[table] = kept
                continue
            partial = partial_name(target)
            renames.append((partial, target))
            if isinstance(item.frame, pl.DataFrame):
                item.frame.write_parquet(partial)
            else:
                item.frame.sink_parquet(partial)
            _fsync(partial)
            info["sha256"], info["size"] = _digest(partial)
            meta_tables[table] = info
        meta_partial = partial_name(folder / META)
        renames.append((meta_partial, folder / META))
        body = json.dumps({"written_at": written_at, "tables": meta_tables}, indent=1)
        with meta_partial.open("w", encoding="utf-8") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        if not commit():
            return False
        for path in removals:
            path.unlink(missing_ok=True)
        for partial, target in renames:  # the meta file is last
            os.replace(partial, target)
        _fsync_dir(folder)
    finally:
        for partial, _ in renames:
            partial.unlink(missing_ok=True)
    return True


def _unchanged(previous: object, info: dict[str, object], target: Path) -> dict[str, object] | None:
    """The previous table entry when the content is the same and its file is intact."""
    if not isinstance(previous, dict):
        return None
    same = {k: previous.get(k) for k in info} == info and set(previous) == {*info, "sha256", "size"}
    if not same or not target.is_file():
        return None
    try:
        digest, size = _digest(target)
    except OSError:
        return None
    if (digest, size) != (previous.get("sha256"), previous.get("size")):
        return None  # edited or truncated since: write it again
    return previous


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems cannot sync a directory; the renames are still atomic
    finally:
        os.close(fd)


def read(folder: Path, tables: tuple[str, ...]) -> Snapshot | None:
    """The verified snapshot of `tables` in `folder`; None when there is none.

    Raises BadSnapshot (naming the file) when the meta is unreadable or a Parquet file does not
    match its recorded size and SHA-256, cannot be read, or lacks the canonical schema. The
    bytes checked are the bytes parsed, so a file changed after the check cannot slip through.
    """
    meta = read_meta(folder)
    if meta is None:
        return None
    recorded: dict[str, object] = meta["tables"]  # type: ignore[assignment]
    frames: dict[str, pl.LazyFrame] = {}
    rows = 0
    newest: list[datetime | None] = []
    for table in tables:
        info = recorded.get(table)
        if info is None:
            continue
        if not isinstance(info, dict):
            raise BadSnapshot(f"{folder / META}: tables.{table} is not an object")
        if info.get("skipped"):
            continue
        target = folder / f"{table}.parquet"
        frames[table] = _verified_frame(target, table, info).lazy()
        try:
            rows += int(info.get("rows", 0))
            stamp = info.get("newest")
            newest.append(datetime.fromisoformat(str(stamp)) if stamp else None)
        except (TypeError, ValueError) as exc:
            raise BadSnapshot(f"{folder / META}: tables.{table}: {exc}") from exc
    if not frames:
        return None
    written = meta.get("written_at")
    return Snapshot(frames, rows, newest, str(written) if written else None)


def _verified_frame(target: Path, table: str, info: dict[str, object]) -> pl.DataFrame:
    if "sha256" not in info or "size" not in info:
        raise BadSnapshot(f"{target}: no checksum recorded (written by an older pilotwatch)")
    try:
        data = target.read_bytes()
    except OSError as exc:
        raise BadSnapshot(f"{target}: cannot be read ({type(exc).__name__}: {exc})") from exc
    if len(data) != info["size"]:
        raise BadSnapshot(f"{target}: size {len(data)} bytes, expected {info['size']} (truncated?)")
    if hashlib.sha256(data).hexdigest() != info["sha256"]:
        raise BadSnapshot(f"{target}: SHA-256 does not match the snapshot meta (edited?)")
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except Exception as exc:  # any decoder error means the same: unusable
        raise BadSnapshot(f"{target}: not a readable Parquet file ({exc})") from exc
    expected = SCHEMAS[table]
    if dict(frame.schema) != dict(expected):
        raise BadSnapshot(
            f"{target}: schema {dict(frame.schema)} is not the canonical {table} schema"
        )
    if frame.height != info.get("rows"):
        raise BadSnapshot(f"{target}: {frame.height} rows, the meta says {info.get('rows')}")
    return frame
