"""The audit log on SQLite and PostgreSQL: append, read, serialized writers, tamper detection.

docs/governance.md, "The hash chain and how to verify it" and "Where the log lives". Each tamper
test changes the stored rows the way an attacker with write access to the table would, and
checks that `verify()` names the first entry that was edited, deleted, reordered or inserted.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import require_service
from sqlalchemy.pool import NullPool

from pilotwatch.audit import store
from pilotwatch.audit.chain import chain_hash, hashed_entry
from pilotwatch.audit.store import AuditError, AuditLog, default_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.services)]


def _pg_schema_url(base: str, schema: str, user: str | None = None) -> str:
    url = sa.make_url(base)
    if user:
        url = url.set(username=user)
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


@pytest.fixture(params=BACKENDS)
def log_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty log's URL: an SQLite file, or a fresh PostgreSQL schema dropped afterwards."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'audit.sqlite'}"
        return
    base = require_service("postgresql")
    schema = f"audit_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(base, poolclass=NullPool)
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    try:
        yield _pg_schema_url(base, schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def _filled(url: str, n: int = 6) -> AuditLog:
    log = AuditLog(url)
    for i in range(1, n + 1):
        log.append("decision", f"user{i}@example.org", {"n": i, "note": f"entry {i}"})
    return log


def _sql(url: str, *statements: str, **params: object) -> None:
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement), params)
    engine.dispose()


def test_empty_log_verifies_and_has_no_head(log_url: str) -> None:
    log = AuditLog(log_url)
    result = log.verify()
    assert (result.ok, result.checked, result.first_bad) == (True, 0, None)
    assert log.head() is None
    assert log.entries() == []


def test_append_links_each_entry_to_the_previous_one(log_url: str) -> None:
    log = AuditLog(log_url)
    first = log.append("sign_in", "ann@example.org", {"role": "approver"})
    second = log.append("decision", "ann@example.org", {"outcome": "hold", "ü": "ß"})
    assert (first.seq, first.prev_hash) == (1, "")
    # the first hash covers exactly {seq, at, kind, actor, body} with "" before it
    assert first.hash == chain_hash(
        "", hashed_entry(1, first.at, "sign_in", "ann@example.org", {"role": "approver"})
    )
    assert (second.seq, second.prev_hash) == (2, first.hash)
    stored = log.entries()
    assert stored == [first, second]
    assert [e.seq for e in log.entries("decision")] == [2]
    assert stored[1].body == {"outcome": "hold", "ü": "ß"}
    assert first.at.endswith("Z")
    assert log.head() == second.hash
    assert log.verify().ok


def test_untouched_log_verifies(log_url: str) -> None:
    result = _filled(log_url).verify()
    assert (result.ok, result.checked, result.first_bad) == (True, 6, None)


def test_edited_body_is_named(log_url: str) -> None:
    log = _filled(log_url)
    _sql(log_url, "UPDATE pilotwatch_audit SET body = :b WHERE seq = 3", b='{"n":3,"note":"x"}')
    result = log.verify()
    assert (result.ok, result.first_bad, result.checked) == (False, 3, 2)
    assert result.problem == "entry 3: edited (stored hash does not match its content)"


def test_body_edited_into_non_json_is_named(log_url: str) -> None:
    log = _filled(log_url)
    _sql(log_url, "UPDATE pilotwatch_audit SET body = 'oops' WHERE seq = 4")
    result = log.verify()
    assert (result.ok, result.first_bad, result.checked) == (False, 4, 3)
    assert result.problem == "entry 4: its body is not JSON (edited)"


def test_edited_and_rehashed_entry_is_named(log_url: str) -> None:
    # the attacker recomputes entry 3's own hash; entry 4 still links to the old one
    log = _filled(log_url)
    e3 = log.entries()[2]
    body = {"n": 3, "note": "forged"}
    forged = chain_hash(e3.prev_hash, hashed_entry(3, e3.at, e3.kind, e3.actor, body))
    _sql(
        log_url,
        "UPDATE pilotwatch_audit SET body = :b, hash = :h WHERE seq = 3",
        b='{"n":3,"note":"forged"}',
        h=forged,
    )
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 3)
    assert result.problem.startswith("entry 3: edited (its hash was recomputed")


def test_deleted_entry_is_named(log_url: str) -> None:
    log = _filled(log_url)
    _sql(log_url, "DELETE FROM pilotwatch_audit WHERE seq = 3")
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 3)
    assert result.problem == "entry 3: deleted (the log goes from entry 2 to entry 4)"


def test_deleted_entry_with_renumbering_is_named(log_url: str) -> None:
    # close the gap: 4, 5, 6 become 3, 4, 5; entry 3 now holds old 4's content
    log = _filled(log_url)
    _sql(
        log_url,
        "DELETE FROM pilotwatch_audit WHERE seq = 3",
        "UPDATE pilotwatch_audit SET seq = seq + 100 WHERE seq > 3",
        "UPDATE pilotwatch_audit SET seq = seq - 101 WHERE seq > 100",
    )
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 3)
    assert result.problem.startswith("entry 3: deleted (entry 3 holds the content of entry 4")


def test_first_entry_deleted_is_named(log_url: str) -> None:
    log = _filled(log_url)
    _sql(log_url, "DELETE FROM pilotwatch_audit WHERE seq = 1")
    result = log.verify()
    assert (result.first_bad, result.problem) == (1, "entry 1: deleted (the log starts at entry 2)")


def test_swapped_entries_are_named_reordered(log_url: str) -> None:
    # swap the positions of entries 3 and 4 (their seq numbers)
    log = _filled(log_url)
    _sql(
        log_url,
        "UPDATE pilotwatch_audit SET seq = 100 WHERE seq = 3",
        "UPDATE pilotwatch_audit SET seq = 3 WHERE seq = 4",
        "UPDATE pilotwatch_audit SET seq = 4 WHERE seq = 100",
    )
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 3)
    assert result.problem == "entry 3: reordered (entry 3 holds the content of entry 4)"


def test_swapped_contents_are_named_reordered(log_url: str) -> None:
    # swap every column but seq between rows 2 and 5
    log = _filled(log_url)
    cols = ("at", "kind", "actor", "body", "prev_hash", "hash")
    e = {x.seq: x for x in _raw(log_url)}
    for seq, other in ((2, 5), (5, 2)):
        src = e[other]
        _sql(
            log_url,
            "UPDATE pilotwatch_audit SET at=:at, kind=:kind, actor=:actor, body=:body, "
            "prev_hash=:prev_hash, hash=:hash WHERE seq = :seq",
            seq=seq,
            **{c: getattr(src, c) for c in cols},
        )
    result = log.verify()
    assert (result.ok, result.first_bad) == (False, 2)
    assert result.problem == "entry 2: reordered (entry 2 holds the content of entry 5)"


def test_inserted_entry_with_renumbering_is_named(log_url: str) -> None:
    # make room after entry 3, insert a well-formed entry 4 linked to 3: old 4 (now 5) breaks
    log = _filled(log_url)
    e3 = log.entries()[2]
    body = {"n": 99, "note": "inserted"}
    at = "2026-11-16T12:00:00Z"
    forged = chain_hash(e3.hash, hashed_entry(4, at, "decision", "mallory@example.org", body))
    _sql(
        log_url,
        "UPDATE pilotwatch_audit SET seq = seq + 100 WHERE seq > 3",
        "UPDATE pilotwatch_audit SET seq = seq - 99 WHERE seq > 100",
        "INSERT INTO pilotwatch_audit (seq, at, kind, actor, body, prev_hash, hash) "
        "VALUES (4, :at, 'decision', 'mallory@example.org', :body, :prev, :hash)",
        at=at,
        body='{"n":99,"note":"inserted"}',
        prev=e3.hash,
        hash=forged,
    )
    result = log.verify()
    assert (result.ok, result.first_bad, result.checked) == (False, 4, 4)
    assert result.problem == (
        "entry 4: inserted (entry 5 holds the content of entry 4 and links to entry 3)"
    )


def test_inserted_entry_at_the_end_is_named(log_url: str) -> None:
    log = _filled(log_url)
    _sql(
        log_url,
        "INSERT INTO pilotwatch_audit (seq, at, kind, actor, body, prev_hash, hash) "
        "VALUES (7, '2026-11-16T12:00:00Z', 'decision', 'mallory', '{}', :p, :h)",
        p="0" * 64,
        h="f" * 64,
    )
    result = log.verify()
    assert (result.ok, result.first_bad, result.checked) == (False, 7, 6)
    assert result.problem == (
        "entry 7: inserted (neither its previous hash nor its hash fits the chain)"
    )


def _raw(url: str) -> list[sa.Row[tuple[object, ...]]]:
    engine = sa.create_engine(url, poolclass=NullPool)
    with engine.connect() as conn:
        rows = list(conn.execute(sa.text("SELECT * FROM pilotwatch_audit ORDER BY seq")))
    engine.dispose()
    return rows


def test_concurrent_writers_never_fork_the_chain(
    log_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # two writers, each with its own engine, append 15 entries each at the same time; with no
    # retry on a taken seq, only the lock (BEGIN IMMEDIATE / advisory lock) keeps both going
    monkeypatch.setattr(store, "_RETRIES", 1)
    AuditLog(log_url).head()  # create the table before the race
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def writer(name: str) -> None:
        log = AuditLog(log_url)
        start.wait()
        try:
            for i in range(15):
                log.append("test", name, {"i": i})
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    log = AuditLog(log_url)
    entries = log.entries()
    # 2 writers x 15 = 30 entries, seq 1..30, every (writer, i) once
    assert [e.seq for e in entries] == list(range(1, 31))
    assert sorted((e.actor, e.body["i"]) for e in entries) == sorted(
        (n, i) for n in ("a", "b") for i in range(15)
    )
    assert log.verify().ok


def test_default_url_is_beside_the_snapshots(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.models import Config, Settings

    monkeypatch.delenv("PILOTWATCH_AUDIT_URL", raising=False)
    config = Config(root=str(tmp_path))
    assert default_url(config) == f"sqlite:///{tmp_path}/data/audit.sqlite"
    with_setting = Config(root=str(tmp_path), settings=Settings(audit_url="sqlite:///x.db"))
    assert default_url(with_setting) == "sqlite:///x.db"
    monkeypatch.setenv("PILOTWATCH_AUDIT_URL", "sqlite:///env.db")
    assert default_url(with_setting) == "sqlite:///env.db"


def test_unreachable_log_is_an_audit_error_without_the_password() -> None:
    log = AuditLog("postgresql+psycopg://u:s3cret@127.0.0.1:1/none")
    with pytest.raises(AuditError) as info:
        log.head()
    assert "s3cret" not in str(info.value)
    assert "cannot open the audit log postgresql+psycopg://u:***@127.0.0.1:1/none" in str(
        info.value
    )


def test_append_only_postgres_role_appends_and_verifies_but_cannot_update() -> None:
    # the role of docs/governance.md, "Where the log lives": INSERT and SELECT, nothing else
    base = require_service("postgresql")
    schema = f"audit_{uuid.uuid4().hex[:10]}"
    role = f"pw_audit_{uuid.uuid4().hex[:8]}"
    owner_url = _pg_schema_url(base, schema)
    _sql(base, f"CREATE SCHEMA {schema}")
    try:
        AuditLog(owner_url).append("config_change", "admin", {"baseline": True})
        _sql(
            base,
            f"CREATE ROLE {role} LOGIN",
            f"GRANT USAGE ON SCHEMA {schema} TO {role}",
            f"GRANT INSERT, SELECT ON {schema}.pilotwatch_audit TO {role}",
            f"REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.pilotwatch_audit FROM {role}",
        )
        role_url = _pg_schema_url(base, schema, user=role)
        log = AuditLog(role_url)
        entry = log.append("decision", "ann@example.org", {"outcome": "hold"})
        assert entry.seq == 2
        assert log.verify().ok
        for statement in (
            "UPDATE pilotwatch_audit SET body = '{}' WHERE seq = 1",
            "DELETE FROM pilotwatch_audit WHERE seq = 1",
            "TRUNCATE pilotwatch_audit",
        ):
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                _sql(role_url, statement)
        assert [e.seq for e in AuditLog(owner_url).entries()] == [1, 2]
    finally:
        _sql(base, f"DROP SCHEMA {schema} CASCADE")
        _sql(base, f"DROP OWNED BY {role}", f"DROP ROLE IF EXISTS {role}")
