"""Content hashes that pin a decision to its evidence (docs/governance.md, "What is recorded").

`report_hash` and `data_fingerprint` are SHA-256 over canonical forms, so the same report or the
same loaded data always hashes the same, in any process; `config_hash` hashes the configuration
files as written (`${ENV}` references, never their secret values).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from core.report import Report
from pilotwatch.audit.chain import canonical_json
from pilotwatch.sources import LoadedData

# rows hashed per slice: bounds the CSV text held in memory for a large table
_SLICE_ROWS = 100_000


def report_hash(report: Report) -> str:
    """SHA-256 of the canonical JSON of `report.to_jsonable()`."""
    return hashlib.sha256(canonical_json(report.to_jsonable()).encode("utf-8")).hexdigest()


def config_files(config_dir: str | Path) -> list[Path]:
    """Every YAML file under the configuration directory, in path order."""
    root = Path(config_dir)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".yaml", ".yml"))


def file_hash(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it does not exist."""
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def config_hash(config_dir: str | Path) -> str:
    """SHA-256 over every YAML file's relative path and bytes under `config_dir`."""
    root = Path(config_dir)
    digest = hashlib.sha256()
    for path in config_files(root):
        digest.update(path.relative_to(root).as_posix().encode("utf-8") + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _frame_digest(digest: hashlib._Hash, frame: pl.DataFrame) -> None:
    schema = [(name, str(dtype)) for name, dtype in frame.schema.items()]
    digest.update(canonical_json({"rows": frame.height, "schema": schema}).encode("utf-8"))
    if frame.height == 0:
        return
    # sorted: the same rows loaded in another order (concurrent sources) hash the same
    ordered = frame.sort(frame.columns, nulls_last=True, maintain_order=True)
    for part in ordered.iter_slices(_SLICE_ROWS):
        digest.update(part.write_csv(include_header=False).encode("utf-8"))


def data_fingerprint(data: LoadedData) -> str:
    """SHA-256 of the loaded canonical tables (names, schemas, rows) and the quarantine size."""
    digest = hashlib.sha256()
    for name in sorted(data.tables):
        digest.update(f"table={name}\0".encode())
        _frame_digest(digest, data.tables[name].collect())
    digest.update(f"quarantined={data.quarantine.height}\0".encode())
    return digest.hexdigest()
