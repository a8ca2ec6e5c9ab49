"""sli_buckets counted in the database (connectors/sqlpushdown.py) on SQLite, PostgreSQL, MariaDB
and DuckDB: hand-worked buckets, filters, time zones, the range, bound values, the guard, and
the same SLO numbers as reading the raw requests."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
import sqlglot
from conftest import SQL_KINDS, SqlDb
from sqlglot import exp

from connectors.base import LOCATION, REASON, SourceConfigError, SourceSpec
from connectors.sql import SqlConnector
from connectors.sqlguard import check_query
from connectors.sqlpushdown import Columns, bucket_select, checked_sql, source_tree
from core.models import Config, Initiative, Slo, Source
from pilotwatch.engine import compute
from pilotwatch.sources import load_sources

KINDS = [*SQL_KINDS, "duckdb"]
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # range [10:00Z, 10:05Z)
RANGE = (T0, T0 + timedelta(minutes=5))
MAPPING = {
    "requests": {
        "timestamp": "ts",
        "initiative": "app",
        "service": "svc",
        "operation": "op",
        "environment": "env",
        "duration_ms": "ms",
        "status_code": "status",
        "error": "err",
    }
}
COLUMNS = {
    "ts": sa.DateTime(),
    "app": sa.String(40),
    "svc": sa.String(80),
    "op": sa.String(40),
    "env": sa.String(20),
    "ms": sa.Float(),
    "status": sa.Integer(),
    "err": sa.Boolean(),
}
HOSTILE = "x'; DROP TABLE pw_req; --"


@pytest.fixture(params=KINDS)
def db(request: pytest.FixtureRequest, make_sql_db: Callable[[str], SqlDb], tmp_path: Path) -> Any:
    """Each database in turn; DuckDB (not in conftest's kinds) is a file in tmp_path."""
    if request.param == "duckdb":
        made = SqlDb("duckdb", f"duckdb:///{tmp_path / 'pushdown.duckdb'}")
        yield made
        made.drop()
        return
    yield make_sql_db(request.param)


def at(minute: int, second: float = 0) -> datetime:
    """A naive wall-clock time `minute` minutes (and seconds) after 10:00."""
    return datetime(2026, 3, 2, 10, 0) + timedelta(minutes=minute, seconds=second)


def row(ts: datetime | None, **kw: Any) -> dict[str, Any]:
    base = {"app": "alpha", "svc": "api", "op": "op1", "env": "production", "ms": 20.0}
    base.update({"status": 200, "err": None, **kw})
    return {"ts": ts, **base}


ROWS = [
    row(at(0, 0), ms=100.0),  # 1: good everywhere
    row(at(0, 30), ms=300.0, status=503),  # 2: error by status; exactly at the threshold
    row(at(0, 59.999), svc="web", op="op2", env=None, ms=500.0, err=True),  # 3: error by flag
    row(at(1, 0), ms=50.0, status=None),  # 4: no status, no flag: not an error
    row(at(1, 10), env="staging", ms=10.0),  # 5: staging only
    row(at(4, 59), err=False),  # 6: good
    row(at(5, 0)),  # 7: exactly at the end: excluded
    row(at(-1, 59)),  # 8: before the start: excluded
    row(at(2, 0), app="beta", status=500),  # 9: another initiative
    row(at(2, 0), svc=None),  # 10: no service: the raw path quarantines it
    row(at(3, 0), ms=None),  # 11: no duration: quarantined there too
    row(at(3, 10), app="Alpha"),  # 12: another initiative (case matters)
    row(at(3, 30), app=" alpha ", ms=40.0),  # 13: surrounding spaces are trimmed
    row(at(2, 30), svc=HOSTILE),  # 14: the hostile service, matched literally
    row(None),  # 15: no timestamp
]

SLOS = [
    Slo(name="avail", initiative="alpha", sli="availability", target=0.9),
    Slo(
        name="lat_le",
        initiative="alpha",
        sli="latency",
        threshold_ms=300,
        filter={"service": "api"},
        target=0.9,
    ),
    Slo(
        name="lat_lt",
        initiative="alpha",
        sli="latency",
        threshold_ms=300,
        threshold_op="lt",
        filter={"service": "api", "operation": "op1"},
        target=0.9,
    ),
    Slo(
        name="stage",
        initiative="alpha",
        sli="availability",
        filter={"environment": "staging"},
        target=0.9,
    ),
    Slo(
        name="hostile",
        initiative="alpha",
        sli="availability",
        filter={"service": HOSTILE},
        target=0.9,
    ),
    # Prometheus's (an indicator) and another source's initiative: never counted here
    Slo(
        name="prom",
        initiative="alpha",
        sli="availability",
        indicator={"total": "t", "good": "g"},
        target=0.9,
    ),
    Slo(name="other", initiative="gamma", sli="availability", target=0.9),
]


def utc(minute: int) -> datetime:
    return T0 + timedelta(minutes=minute)


def pushdown_load(
    db: Any,
    name: str,
    slos: list[Slo] = SLOS,
    timezone: str = "UTC",
    fetch_range: tuple[datetime, datetime] | None = RANGE,
    settings: dict[str, Any] | None = None,
) -> Any:
    spec = SourceSpec(
        name="db",
        type="sql",
        tables=("sli_buckets",),
        settings=settings or {"url": db.url, "pushdown": {"table": name}},
        columns=MAPPING,
        timezone=timezone,
        initiatives=("alpha",),
        slos=tuple(slos),
        fetch_range=fetch_range,
    )
    return SqlConnector(spec).load()


def buckets(result: Any) -> list[tuple[str, datetime, int, int]]:
    data = result.frames["sli_buckets"].collect()
    assert data.filter(pl.col(REASON).is_not_null()).height == 0
    data = data.sort("slo", "bucket_start")
    return list(data.select("slo", "bucket_start", "good", "total").iter_rows())


def test_buckets_worked_by_hand(db: Any) -> None:
    name = db.table("pw_req", COLUMNS, ROWS)
    result = pushdown_load(db, name)
    assert buckets(result) == [
        # alpha, production, any service. 10:00: rows 1, 2, 3 (2 fails by status, 3 by flag)
        ("avail", utc(0), 1, 3),
        ("avail", utc(1), 1, 1),  # row 4 (5 is staging)
        ("avail", utc(2), 1, 1),  # row 14 (9 is beta, 10 has no service)
        ("avail", utc(3), 1, 1),  # row 13 trimmed (11 has no duration, 12 is "Alpha")
        ("avail", utc(4), 1, 1),  # row 6 (7 sits at the end, excluded)
        ("hostile", utc(2), 1, 1),  # row 14, matched literally
        # service api, op1: 10:00 rows 1 (100 ms) and 2 (300 ms): 300 < 300 is false
        ("lat_le", utc(0), 2, 2),  # 100 <= 300 and 300 <= 300
        ("lat_le", utc(1), 1, 1),
        ("lat_le", utc(3), 1, 1),
        ("lat_le", utc(4), 1, 1),
        ("lat_lt", utc(0), 1, 2),
        ("lat_lt", utc(1), 1, 1),
        ("lat_lt", utc(3), 1, 1),
        ("lat_lt", utc(4), 1, 1),
        ("stage", utc(1), 1, 1),  # row 5
    ]
    notes = [w for w in result.warnings if "counted in the database" in w]
    assert notes == [
        f"pushdown from table {name}: 5 SLO(s) counted in the database "
        "(15 minute bucket(s) from 5 row(s))"
    ]
    data = result.frames["sli_buckets"].collect().sort("slo", "bucket_start")
    assert data[LOCATION][0].startswith("sql pushdown avail 2026-03-02")
    # the hostile value harmed nothing: the table is still there with all 15 rows
    with db.engine.connect() as conn:
        assert conn.execute(sa.text(f"SELECT COUNT(*) FROM {name}")).scalar() == 15  # noqa: S608


def test_non_utc_timezone_half_hour_offset(db: Any) -> None:
    # St. John's is UTC-3:30 in January: local 06:30:10 is 10:00:10Z
    local = [datetime(2026, 1, 15, 6, 29, 59), datetime(2026, 1, 15, 6, 30, 10)]
    local += [datetime(2026, 1, 15, 6, 31, 59), datetime(2026, 1, 15, 6, 32)]
    name = db.table("pw_req", COLUMNS, [row(ts) for ts in local])
    start = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
    result = pushdown_load(
        db, name, SLOS[:1], "America/St_Johns", (start, start + timedelta(minutes=2))
    )
    # 06:29:59 is before the start (10:00Z = 06:30 local), 06:32:00 is the end: excluded;
    # 06:30:10 -> 10:00Z bucket, 06:31:59 -> 10:01Z bucket (half-hour offset, whole minutes)
    assert buckets(result) == [
        ("avail", start, 1, 1),
        ("avail", start + timedelta(minutes=1), 1, 1),
    ]


def test_pushdown_query_with_params_goes_through_the_guard(db: Any) -> None:
    name = db.table("pw_req", COLUMNS, ROWS)
    query = f"SELECT * FROM {name} WHERE op = :op"  # noqa: S608
    settings = {"url": db.url, "pushdown": {"query": query, "params": {"op": "op2"}}}
    result = pushdown_load(db, name, SLOS[:1], settings=settings)
    assert buckets(result) == [("avail", utc(0), 0, 1)]  # only row 3 has op2, an error
    bad = {"url": db.url, "pushdown": {"query": f"DELETE FROM {name}"}}  # noqa: S608
    with pytest.raises(SourceConfigError, match=r"settings\.pushdown\.query"):
        pushdown_load(db, name, SLOS[:1], settings=bad)


def test_missing_column_is_named(db: Any) -> None:
    name = db.table("pw_req", {"ts": sa.DateTime(), "app": sa.String(10)}, [])
    with pytest.raises(SourceConfigError, match=r"column 'service' \(mapped from 'svc'"):
        pushdown_load(db, name)


def test_settings_shape() -> None:
    url = "sqlite:///x.db"
    assert SqlConnector.settings_errors({"url": url, "pushdown": {"table": "t"}}) == []
    assert SqlConnector.settings_errors({"url": url, "pushdown": {}}) == [
        "settings.pushdown: give exactly one of `pushdown.table` or `pushdown.query`"
    ]
    assert SqlConnector.settings_errors(
        {"url": url, "per_table": {"requests": {"pushdown": {"table": "t"}}}}
    ) == ["settings.per_table: `pushdown` only computes sli_buckets, not ['requests']"]
    assert SqlConnector.settings_errors({"url": url, "pushdown": {"table": "t"}, "table": "u"}) == [
        "settings: `pushdown` replaces `table`, `query`, `params` and `key`; give it alone"
    ]
    assert SqlConnector.settings_errors(
        {"url": url, "pushdown": {"query": "UPDATE t SET a = 1"}}
    ) == ["settings.pushdown.query: only a SELECT (or WITH ... SELECT) is allowed, not UPDATE"]


ALL_COLUMNS = Columns(
    timestamp="ts",
    initiative="app",
    service="svc",
    duration_ms="ms",
    operation="op",
    environment="env",
    status_code="status",
    error="err",
)


@pytest.mark.parametrize("dialect", ["postgres", "mysql", "sqlite", "duckdb"])
def test_generated_sql_is_one_guarded_select_with_only_bound_values(dialect: str) -> None:
    select = bucket_select(source_tree("api_requests", None, dialect), ALL_COLUMNS, SLOS, dialect)
    checked = checked_sql(select, dialect)
    assert check_query(checked.sql.replace("\\:", ":"), dialect).params == checked.params
    trees = sqlglot.parse(checked.sql.replace("\\:", ":"), read=dialect)
    assert len(trees) == 1 and isinstance(trees[0], exp.Select)
    assert len(list(trees[0].find_all(exp.Group))) == 1  # one GROUP BY
    assert len(list(trees[0].find_all(exp.Table))) == 1  # one scan
    # no filter value, threshold or instant in the text: only the fixed literals remain
    literals = {lit.this for lit in trees[0].find_all(exp.Literal)}
    assert literals <= {"0", "1", "500", "", "%Y-%m-%d %H:%i:00", "%Y-%m-%d %H:%M:00"} | {
        "%Y-%m-%d %H:%M:%f"
    }
    assert "alpha" not in checked.sql and "300" not in checked.sql and "DROP" not in checked.sql
    assert {"pw_start", "pw_end", "pw_i_0", "pw_t_1", "pw_s_4"} <= checked.params


# ---------------------------------------------------------------- the equality with raw rows

AS_OF = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
EQ_SLOS = [
    Slo(name="e_avail", initiative="alpha", sli="availability", target=0.9, window="1d"),
    Slo(
        name="e_lat",
        initiative="alpha",
        sli="latency",
        threshold_ms=300,
        filter={"service": "api"},
        target=0.75,
        window="1d",
    ),
    Slo(
        name="e_stage",
        initiative="alpha",
        sli="availability",
        filter={"environment": "staging", "operation": "op1"},
        target=0.5,
        window="1d",
    ),
    Slo(name="e_28", initiative="alpha", sli="availability", target=0.99),
    # request k = 8 takes (8 * 37) % 600 = 296 ms: exactly at this `lt` threshold, so not good
    Slo(
        name="e_lt",
        initiative="alpha",
        sli="latency",
        threshold_ms=296,
        threshold_op="lt",
        target=0.5,
        window="1d",
    ),
]


def equality_rows() -> list[dict[str, Any]]:
    """Two hours of varied traffic before AS_OF, with errors, slow calls and bad rows."""
    out = []
    start = datetime(2026, 3, 2, 10, 0)
    for k in range(240):
        out.append(
            row(
                start + timedelta(seconds=30 * k + 7),
                ms=float((k * 37) % 600),
                status=(503 if k % 11 == 0 else None if k % 13 == 0 else 200),
                err=(True if k % 17 == 0 else None),
                env=("staging" if k % 5 == 0 else None if k % 7 == 0 else "production"),
                svc=("web" if k % 3 == 0 else "api"),
            )
        )
    out.append(row(start, svc=None))
    out.append(row(start, ms=-1.0))
    return out


def _config(source: Source) -> Config:
    init = Initiative(
        id="alpha",
        name="Alpha",
        stage="pilot",
        owner="o",
        sponsor="s",
        clinical_area="c",
        started_on=datetime(2025, 1, 1).date(),
    )
    return Config(initiatives=[init], slos=EQ_SLOS, sources=[source])


def slo_report(source: Source) -> list[dict[str, Any]]:
    config = _config(source)
    data = load_sources(config, until=AS_OF)
    assert all(h.ok for h in data.health), [h.last_error for h in data.health]
    _, report = compute(config, data, AS_OF)
    return [s.model_dump() for item in report.initiatives for s in item.slos]


def test_pushdown_numbers_equal_raw_requests(db: Any) -> None:
    name = db.table("pw_req", COLUMNS, equality_rows())
    raw = Source(
        name="raw",
        type="sql",
        tables=["requests"],
        # query mode: duckdb-engine's table reflection needs a newer DuckDB catalog
        settings={"url": db.url, "query": f"SELECT * FROM {name}"},  # noqa: S608
        columns=MAPPING,
    )
    pushed = Source(
        name="pushed",
        type="sql",
        tables=["sli_buckets"],
        settings={"url": db.url, "pushdown": {"table": name}},
        columns=MAPPING,
    )
    from_raw, from_pushdown = slo_report(raw), slo_report(pushed)
    assert [s["name"] for s in from_raw] == ["e_28", "e_avail", "e_lat", "e_lt", "e_stage"]
    assert all(s["total"] > 0 for s in from_raw)  # every SLO has data: the test can fail
    assert from_pushdown == from_raw


def test_docs_print_the_generated_sql() -> None:
    from connectors.sqlpushdown import docs_sql

    text = Path("docs/connectors.md").read_text(encoding="utf-8")
    for dialect, sql in docs_sql().items():
        assert f"```sql\n-- {dialect}\n{sql}\n```" in text, dialect
    assert re.search(r"### Aggregation in the database", text)
