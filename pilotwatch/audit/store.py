"""The append-only audit log in one SQL table, through SQLAlchemy (docs/governance.md).

An SQLite file by default, PostgreSQL for a team. Appends are serialized, so two writers never
fork the chain: SQLite takes its write lock first (`BEGIN IMMEDIATE`), PostgreSQL a
transaction-level advisory lock (it needs no privilege, unlike `LOCK TABLE ... EXCLUSIVE`, so an
INSERT/SELECT-only role can append); `seq` is the primary key, the last guard on any backend.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.pool import NullPool

from connectors.sqlsettings import redact
from core.models import Config
from core.report import iso
from pilotwatch.audit.chain import canonical_json, chain_hash, hashed_entry

AUDIT_URL_ENV = "PILOTWATCH_AUDIT_URL"
TABLE = "pilotwatch_audit"
# pg_advisory_xact_lock key: any constant bigint, the same for every writer of this table
_PG_LOCK_KEY = 0x70696C6F74  # "pilot"
_WRITE = "pilotwatch_audit_write"
_RETRIES = 5

_metadata = sa.MetaData()
audit_table = sa.Table(
    TABLE,
    _metadata,
    # assigned by the writer under the lock, not by a sequence: it is part of the hashed entry,
    # and a sequence would leave gaps on rollback that read as deletions
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("at", sa.String(40), nullable=False),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("actor", sa.String(320), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("prev_hash", sa.String(64), nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)


class AuditError(Exception):
    """The audit log cannot be opened, read or written; the message names it, never a password."""


@dataclass(frozen=True)
class AuditEntry:
    """One stored entry; `at` is the exact UTC text that was hashed (`...Z`)."""

    seq: int
    at: str
    kind: str
    actor: str
    body: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def at_time(self) -> datetime:
        """`at` as an aware UTC datetime."""
        return datetime.fromisoformat(self.at.replace("Z", "+00:00"))

    def to_jsonable(self) -> dict[str, Any]:
        """Every stored field, as one export line carries it."""
        return {
            "seq": self.seq,
            "at": self.at,
            "kind": self.kind,
            "actor": self.actor,
            "body": self.body,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class Verification:
    """The outcome of `AuditLog.verify()`; `first_bad` is the seq of the first bad entry."""

    ok: bool
    checked: int
    first_bad: int | None
    problem: str


def default_url(config: Config) -> str:
    """$PILOTWATCH_AUDIT_URL, else settings.audit_url, else `data/audit.sqlite` beside snapshots."""
    from pilotwatch.engine import snapshot_dir

    url = os.environ.get(AUDIT_URL_ENV) or config.settings.audit_url
    if url:
        return url
    # next to data/.snapshots, not inside it: clearing the snapshot cache must never delete it
    path = snapshot_dir(config).parent / "audit.sqlite"
    return f"sqlite:///{path}"


class UnreadableEntry(AuditError):
    """A stored entry whose body is no longer JSON: it was edited outside pilotwatch."""

    def __init__(self, seq: int, message: str) -> None:
        super().__init__(message)
        self.seq = seq


def _row_entry(row: Any) -> AuditEntry:
    try:
        body = json.loads(row.body)
    except (json.JSONDecodeError, TypeError) as exc:
        raise UnreadableEntry(int(row.seq), f"entry {row.seq}: its body is not JSON") from exc
    if not isinstance(body, dict):
        raise UnreadableEntry(int(row.seq), f"entry {row.seq}: its body is not a JSON object")
    return AuditEntry(
        seq=int(row.seq),
        at=str(row.at),
        kind=str(row.kind),
        actor=str(row.actor),
        body=body,
        prev_hash=str(row.prev_hash),
        hash=str(row.hash),
    )


class AuditLog:
    """The hash-chained log behind one SQLAlchemy URL; the table is created when missing."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = sa.make_url(url)
            self.dialect = parsed.get_backend_name()
            if self.dialect == "sqlite" and parsed.database not in (None, "", ":memory:"):
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            self.engine = sa.create_engine(
                url,
                poolclass=NullPool,
                connect_args={"timeout": 30} if self.dialect == "sqlite" else {},
            )
        except (sa.exc.ArgumentError, ValueError, ImportError, OSError) as exc:
            raise AuditError(f"cannot open the audit log {self.where}: {self._safe(exc)}") from exc
        if self.dialect == "sqlite":
            _sqlite_transactions(self.engine)
        self._ready = False

    @classmethod
    def for_config(cls, config: Config) -> AuditLog:
        """The log configured for `config` (see `default_url`)."""
        return cls(default_url(config))

    @property
    def where(self) -> str:
        """The URL with its password hidden, for messages."""
        try:
            return sa.make_url(self.url).render_as_string(hide_password=True)
        except (sa.exc.ArgumentError, ValueError):
            return redact(self.url)

    def _safe(self, exc: BaseException) -> str:
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
        return redact(text, [sa.make_url(self.url).password] if "://" in self.url else [])

    def _ensure(self) -> None:
        if not self._ready:
            try:
                # checkfirst: an INSERT/SELECT-only role opens an existing table without CREATE
                _metadata.create_all(self.engine, checkfirst=True)
            except sa.exc.SQLAlchemyError as exc:
                raise AuditError(
                    f"cannot open the audit log {self.where}: {self._safe(exc)}"
                ) from exc
            self._ready = True

    def append(self, kind: str, actor: str, body: Mapping[str, Any]) -> AuditEntry:
        """Append one entry as the next link of the chain and return it as stored."""
        value = json.loads(canonical_json(dict(body)))  # JSON-able now, exactly as stored
        self._ensure()
        for attempt in range(_RETRIES):
            try:
                return self._append_once(kind, actor, value)
            except sa.exc.IntegrityError as exc:  # another writer took this seq (no lock)
                if attempt == _RETRIES - 1:
                    raise AuditError(f"cannot append to {self.where}: {self._safe(exc)}") from exc
            except sa.exc.SQLAlchemyError as exc:
                raise AuditError(f"cannot append to {self.where}: {self._safe(exc)}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _append_once(self, kind: str, actor: str, body: dict[str, Any]) -> AuditEntry:
        t = audit_table
        with self.engine.connect() as conn:
            conn.execution_options(**{_WRITE: True})
            with conn.begin():
                if self.dialect == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_LOCK_KEY)))
                last = conn.execute(
                    sa.select(t.c.seq, t.c.hash).order_by(t.c.seq.desc()).limit(1)
                ).first()
                seq, prev = (int(last.seq) + 1, str(last.hash)) if last else (1, "")
                at = iso(datetime.now(UTC))
                digest = chain_hash(prev, hashed_entry(seq, at, kind, actor, body))
                entry = AuditEntry(seq, at, kind, actor, body, prev, digest)
                conn.execute(
                    t.insert().values(
                        seq=seq,
                        at=at,
                        kind=kind,
                        actor=actor,
                        body=canonical_json(body),
                        prev_hash=prev,
                        hash=digest,
                    )
                )
        return entry

    def iter_entries(self, kind: str | None = None) -> Iterator[AuditEntry]:
        """Entries in seq order, streamed (frozen reports make rows large)."""
        self._ensure()
        query = sa.select(audit_table).order_by(audit_table.c.seq)
        if kind is not None:
            query = query.where(audit_table.c.kind == kind)
        try:
            with self.engine.connect() as conn:
                for row in conn.execution_options(yield_per=200).execute(query):
                    yield _row_entry(row)
        except sa.exc.SQLAlchemyError as exc:
            raise AuditError(f"cannot read the audit log {self.where}: {self._safe(exc)}") from exc

    def entries(self, kind: str | None = None) -> list[AuditEntry]:
        """Every entry (of `kind`), oldest first."""
        return list(self.iter_entries(kind))

    def links(self) -> list[tuple[int, str, str]]:
        """(seq, prev_hash, hash) of every row in seq order: small, for the verifier."""
        self._ensure()
        t = audit_table
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(t.c.seq, t.c.prev_hash, t.c.hash).order_by(t.c.seq))
                return [(int(r.seq), str(r.prev_hash), str(r.hash)) for r in rows]
        except sa.exc.SQLAlchemyError as exc:
            raise AuditError(f"cannot read the audit log {self.where}: {self._safe(exc)}") from exc

    def head(self) -> str | None:
        """The newest entry's hash (anchor it elsewhere), or None for an empty log."""
        links = self.links()
        return links[-1][2] if links else None

    def verify(self) -> Verification:
        """Recompute the chain; name the first entry edited, deleted, reordered or inserted."""
        from pilotwatch.audit.verify import verify_log

        return verify_log(self)

    def dispose(self) -> None:
        """Close the engine's connections."""
        self.engine.dispose()


def _sqlite_transactions(engine: sa.Engine) -> None:
    """pysqlite: emit BEGIN ourselves, IMMEDIATE for appends, so the write lock comes first."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # no implicit BEGIN from the driver

    @event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        write = conn.get_execution_options().get(_WRITE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
