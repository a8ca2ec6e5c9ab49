"""The store's files: where a partition lives, its key, atomic writes and verified reads.

One partition (one file of a `file` source's `requests`) is kept as three files in the
source's folder: `<id>.buckets.parquet` (minute buckets), `<id>.bad.parquet` (the quarantined
rows kept for display) and `<id>.json`, the manifest, written last. The manifest records the
partition's fingerprint, the key of everything that shaped its buckets and the SHA-256 of both
Parquet files; anything that does not match is a miss, never trusted (docs/store.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from connectors.base import SourceSpec

STORE_FORMAT = 1  # bump when the files' layout or meaning changes
ENV_SWITCH = "PILOTWATCH_STORE"  # `off` disables the store
ENV_DIR = "PILOTWATCH_STORE_DIR"  # another folder than `<data root>/.store`
EDGE_BYTES = 64 * 1024  # a file's head and tail hashed into its fingerprint
_OFF = {"off", "0", "false", "no"}
# the code whose change can change a partition's buckets or counts: hashed into every key
_CODE = (
    "connectors/base.py",
    "connectors/conform.py",
    "connectors/parsing.py",
    "connectors/rules.py",
    "connectors/phi.py",
    "connectors/phi_names.py",
    "connectors/file.py",
    "connectors/records.py",
    "pilotwatch/store.py",
    "pilotwatch/store_files.py",
)
_ROOT = Path(__file__).resolve().parent.parent
_code_digest: str | None = None
_lock = threading.Lock()


class BadEntry(Exception):
    """A manifest or Parquet file that cannot be trusted (unreadable, wrong checksum)."""


def resolve_dir(store_dir: Path | None, snapshot_dir: Path | None) -> Path | None:
    """The store folder: PILOTWATCH_STORE_DIR, else `store_dir`, else beside the snapshots."""
    if os.environ.get(ENV_SWITCH, "").strip().lower() in _OFF:
        return None
    env = os.environ.get(ENV_DIR, "").strip()
    if env:
        return Path(env)
    if store_dir is not None:
        return store_dir
    return snapshot_dir.parent / ".store" if snapshot_dir is not None else None


def code_digest() -> str:
    """SHA-256 of the store format and the code that shapes a partition (computed once)."""
    global _code_digest
    with _lock:
        if _code_digest is None:
            digest = hashlib.sha256(f"format={STORE_FORMAT};polars={pl.__version__}".encode())
            for name in _CODE:
                path = _ROOT / name
                digest.update(name.encode())
                digest.update(path.read_bytes() if path.is_file() else b"-")
            _code_digest = digest.hexdigest()
        return _code_digest


def source_key(spec: SourceSpec) -> str:
    """Everything but the file itself that shapes a partition: settings, mappings, PHI, code."""
    settings = {k: v for k, v in spec.settings.items() if k not in ("path", "paths")}
    payload = {
        "code": code_digest(),
        "type": spec.type,
        "settings": settings,  # format, delimiter, encoding, `_root` (the locations' base)
        "columns": spec.columns.get("requests", {}),
        "values": spec.values.get("requests", {}),
        "timezone": spec.timezone,
        "phi": [list(p) for p in spec.phi_patterns],
    }
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def fingerprint(path: Path) -> dict[str, Any]:
    """Resolved path, size, mtime_ns and the SHA-256 of the first and last 64 KiB."""
    stat = path.stat()
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        if stat.st_size <= 2 * EDGE_BYTES:
            digest.update(handle.read())
        else:
            digest.update(handle.read(EDGE_BYTES))
            handle.seek(-EDGE_BYTES, os.SEEK_END)
            digest.update(handle.read(EDGE_BYTES))
    return {
        "path": str(path.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "edges": digest.hexdigest(),
    }


def source_folder(root: Path, source: str) -> Path:
    """The folder of one source's partitions (a readable name plus a hash: any name is safe)."""
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in source)[:40]
    return root / f"{safe}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"


def partition_id(path: Path) -> str:
    """A partition's file stem in the store: the hash of its resolved path."""
    return hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Entry:
    """A partition's manifest and the paths of its two Parquet files."""

    manifest: dict[str, Any]
    buckets: Path
    bad: Path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_entry(folder: Path, pid: str) -> Entry | None:
    """The stored entry of partition `pid`, None when absent; BadEntry when it cannot be trusted."""
    manifest_path = folder / f"{pid}.json"
    if not manifest_path.is_file():
        return None
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        files = manifest["files"]
        entry = Entry(manifest, folder / files["buckets"]["name"], folder / files["bad"]["name"])
        for kind, path in (("buckets", entry.buckets), ("bad", entry.bad)):
            if _digest(path) != files[kind]["sha256"]:
                raise BadEntry(f"{path.name}: checksum does not match its manifest")
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BadEntry(f"{manifest_path.name}: {type(exc).__name__}: {exc}") from exc
    return entry


def _temp(target: Path) -> Path:
    return target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")


def _replace(temp: Path, target: Path) -> None:
    # no fsync: a file a crash leaves torn fails its manifest checksum and is rebuilt
    os.replace(temp, target)


def write_entry(
    folder: Path, pid: str, manifest: dict[str, Any], buckets: pl.DataFrame, bad: pl.DataFrame
) -> Path:
    """Write a partition atomically: both Parquet files, then the manifest with their hashes.

    A reader never sees a half-written file (temp name + rename); a manifest that names another
    writer's Parquet files fails its checksum and is rebuilt. Returns the buckets file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    for kind, frame in (("buckets", buckets), ("bad", bad)):
        temp = _temp(folder / f"{pid}.{kind}.parquet")
        frame.write_parquet(temp)
        digest = _digest(temp)
        # content-addressed: a rebuilt partition gets a new file and never overwrites one that
        # an earlier load may still be scanning lazily (sweep() removes old ones later)
        target = folder / f"{pid}.{kind}.{digest[:16]}.parquet"
        if target.exists() and _digest(target) == digest:
            temp.unlink()  # the same content is already there (a damaged one is replaced)
        else:
            _replace(temp, target)
        files[kind] = {"name": target.name, "sha256": digest}
    target = folder / f"{pid}.json"
    temp = _temp(target)
    temp.write_text(json.dumps({**manifest, "files": files}, sort_keys=True), encoding="utf-8")
    _replace(temp, target)
    return folder / files["buckets"]["name"]


# an unreferenced Parquet file older than this is deleted by sweep(); younger ones may still be
# scanned by a load that read their manifest before it was replaced
SWEEP_AFTER_SECONDS = 3600.0


def remove_entry(folder: Path, pid: str) -> None:
    """Forget a partition (its source file is gone): its manifest now, its data at sweep()."""
    (folder / f"{pid}.json").unlink(missing_ok=True)


def sweep(folder: Path, now: float | None = None) -> int:
    """Delete Parquet files no manifest names that are older than SWEEP_AFTER_SECONDS."""
    if not folder.is_dir():
        return 0
    referenced: set[str] = set()
    for manifest in folder.glob("*.json"):
        try:
            files = json.loads(manifest.read_text(encoding="utf-8"))["files"]
            referenced.update(str(f["name"]) for f in files.values())
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue  # an unreadable manifest is rebuilt; its files age out like any other
    now = time.time() if now is None else now
    removed = 0
    for path in folder.glob("*.parquet"):
        try:
            if path.name not in referenced and now - path.stat().st_mtime > SWEEP_AFTER_SECONDS:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def stored_ids(folder: Path) -> list[str]:
    """The partition ids that have a manifest in `folder`."""
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if not p.name.startswith("."))
