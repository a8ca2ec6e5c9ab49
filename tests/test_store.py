"""The incremental pre-aggregate store (pilotwatch/store.py, docs/store.md).

Hand-made source `web` (file, CSV, one file per day, `data/requests/2026-03-0D.csv`). Every day
D of 03-01..03-03 holds three requests of initiative alpha (service api, environment production):
  D 10:00:00  200 ok     100 ms
  D 10:00:30  200 ok     400 ms
  D 11:15:00  500 error  200 ms
and 03-02 one more line whose duration is `slow` (quarantined at `...03-02.csv:5`).
SLOs (7d windows, as of T = 2026-03-04 00:00): `avail` (availability) and `fast` (latency,
duration <= 300 ms). So, by hand, over the three days:
  avail: total 3 + 3 + 3 = 9, good 9 - 3 errors = 6
  fast:  total 9, good = the 100 ms and 200 ms rows = 2 per day = 6
Every test also checks the report equals the one computed without the store.
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from metrics_helpers import config, initiative, slo

from core.models import Config, Source
from pilotwatch import engine, store
from pilotwatch import store_files as sf
from pilotwatch.engine import compute, parse_as_of
from pilotwatch.report import dumps
from pilotwatch.sources import LoadedData, load_sources

T = datetime(2026, 3, 4, tzinfo=UTC)
HEADER = "timestamp,initiative,service,operation,environment,duration_ms,status_code,error\n"
DAY_ROWS = (
    "{d}T10:00:00Z,alpha,api,read,production,100,200,false\n"
    "{d}T10:00:30Z,alpha,api,read,production,400,200,false\n"
    "{d}T11:15:00Z,alpha,api,read,production,200,500,true\n"
)
BAD_ROW = "2026-03-02T12:00:00Z,alpha,api,read,production,slow,200,false\n"  # line 5 of 03-02


def write_day(root: Path, day: str, extra: str = "") -> Path:
    """One day's file (DAY_ROWS, then `extra`)."""
    path = root / "data" / "requests" / f"{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + DAY_ROWS.format(d=day) + extra, encoding="utf-8")
    return path


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "project"
    for day in ("2026-03-01", "2026-03-02", "2026-03-03"):
        write_day(base, day, BAD_ROW if day == "2026-03-02" else "")
    return base


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILOTWATCH_STORE", raising=False)
    monkeypatch.delenv("PILOTWATCH_STORE_DIR", raising=False)
    store.STATS.reset()


def make_config(root: Path, threshold: float = 300.0, freshness: str | None = None) -> Config:
    source = Source(
        name="web",
        type="file",
        tables=["requests"],
        settings={"path": "data/requests/*.csv"},
        freshness=freshness,
    )
    slos = [
        slo("avail", window="7d", target=0.5),
        slo("fast", sli="latency", threshold_ms=threshold, window="7d", target=0.5),
    ]
    built = config([initiative()], slos, sources=[source])
    return built.model_copy(update={"root": str(root)})


def load(cfg: Config, folder: Path | None) -> LoadedData:
    return load_sources(cfg, None, now=T, until=T, store_dir=folder)


def report_text(cfg: Config, data: LoadedData) -> str:
    return dumps(compute(cfg, data, T)[1])


def no_store(cfg: Config, monkeypatch: pytest.MonkeyPatch) -> tuple[str, LoadedData]:
    with monkeypatch.context() as patch:
        patch.setenv("PILOTWATCH_STORE", "off")
        data = load(cfg, Path("/nonexistent-store-never-written"))
        assert data.stored is None
        return report_text(cfg, data), data


def good_total(cfg: Config, data: LoadedData) -> dict[str, tuple[int, int]]:
    slos = compute(cfg, data, T)[0].slos
    return {row["slo"]: (row["good"], row["total"]) for row in slos.iter_rows(named=True)}


def test_cold_and_warm_reports_equal_the_report_without_the_store(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, folder = make_config(root), tmp_path / "store"
    expected, plain = no_store(cfg, monkeypatch)
    cold = load(cfg, folder)
    assert len(store.STATS.reads) == 3 and store.STATS.hits == 0  # every file read once
    assert report_text(cfg, cold) == expected
    store.STATS.reset()
    warm = load(cfg, folder)
    assert store.STATS.reads == [] and store.STATS.hits == 3  # nothing read again
    assert report_text(cfg, warm) == expected
    assert good_total(cfg, warm) == {"avail": (6, 9), "fast": (6, 9)}  # see the docstring
    # the loader's counts come from the store: 10 lines, 1 quarantined, at its place
    health = warm.health[0]
    assert (health.rows, health.quarantined) == (9, 1)
    assert health.newest == datetime(2026, 3, 3, 11, 15, tzinfo=UTC)
    assert health.newest_by_initiative == {"alpha": datetime(2026, 3, 3, 11, 15, tzinfo=UTC)}
    assert warm.quarantine["location"].to_list() == ["data/requests/2026-03-02.csv:5"]
    assert warm.quarantine.equals(plain.quarantine)


def test_a_new_day_reads_only_the_new_file(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, folder = make_config(root), tmp_path / "store"
    load(cfg, folder)
    new = write_day(root, "2026-02-28")  # a day earlier, inside the 7d window: 12 requests
    store.STATS.reset()
    data = load(cfg, folder)
    assert store.STATS.reads == [str(new.resolve())] and store.STATS.hits == 3
    assert good_total(cfg, data) == {"avail": (8, 12), "fast": (8, 12)}  # 6 + 2 of 9 + 3
    assert report_text(cfg, data) == no_store(cfg, monkeypatch)[0]


def test_an_edited_file_is_read_again(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, folder = make_config(root), tmp_path / "store"
    load(cfg, folder)
    path = root / "data" / "requests" / "2026-03-01.csv"
    stat = path.stat()
    # 03-01 without its error row: same size class, same mtime restored, content differs
    path.write_text(HEADER + DAY_ROWS.format(d="2026-03-01").replace("500,true", "200,fals"))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    store.STATS.reset()
    data = load(cfg, folder)
    assert store.STATS.reads == [str(path.resolve())] and store.STATS.hits == 2
    # `fals` is no boolean: that row is quarantined now, so 03-01 has 2 good ok rows
    # avail: total 2 + 3 + 3 = 8, good 8 - 2 errors = 6; fast: 100 ms rows 1 + 2 + 2 = 5
    assert good_total(cfg, data) == {"avail": (6, 8), "fast": (5, 8)}
    assert data.health[0].quarantined == 2
    assert report_text(cfg, data) == no_store(cfg, monkeypatch)[0]


def test_a_changed_threshold_recomputes_and_a_known_one_does_not(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "store"
    load(make_config(root), folder)
    store.STATS.reset()
    wider = make_config(root, threshold=450.0)
    data = load(wider, folder)
    assert len(store.STATS.reads) == 3  # le 450 is not stored yet: every file read again
    assert good_total(wider, data) == {"avail": (6, 9), "fast": (9, 9)}  # all <= 450 ms
    assert report_text(wider, data) == no_store(wider, monkeypatch)[0]
    store.STATS.reset()
    again = load(wider, folder)
    assert store.STATS.reads == [] and store.STATS.hits == 3
    assert report_text(wider, again) == no_store(wider, monkeypatch)[0]
    # back to 300 ms: the rebuild kept le 300 beside le 450, so nothing is read
    store.STATS.reset()
    back = make_config(root)
    data = load(back, folder)
    assert store.STATS.reads == [] and store.STATS.hits == 3
    assert good_total(back, data) == {"avail": (6, 9), "fast": (6, 9)}
    assert report_text(back, data) == no_store(back, monkeypatch)[0]


def test_a_deleted_file_no_longer_counts(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, folder = make_config(root), tmp_path / "store"
    load(cfg, folder)
    (root / "data" / "requests" / "2026-03-02.csv").unlink()
    store.STATS.reset()
    data = load(cfg, folder)
    assert store.STATS.reads == [] and store.STATS.removed == 1
    assert good_total(cfg, data) == {"avail": (4, 6), "fast": (4, 6)}  # two days: 2 x 3
    assert (data.health[0].rows, data.health[0].quarantined) == (6, 0)
    assert report_text(cfg, data) == no_store(cfg, monkeypatch)[0]


@pytest.mark.parametrize("damage", ["buckets", "manifest", "missing"])
def test_a_corrupt_store_file_is_rebuilt(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    cfg, folder = make_config(root), tmp_path / "store"
    load(cfg, folder)
    [source_folder] = folder.iterdir()
    victim = sorted(source_folder.glob("*.buckets.*.parquet"))[0]  # <pid>.buckets.<digest>
    if damage == "buckets":
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0xFF
        victim.write_bytes(bytes(data))
    elif damage == "manifest":
        victim.with_name(victim.name.split(".buckets.")[0] + ".json").write_text("{not json")
    else:
        victim.unlink()
    store.STATS.reset()
    data = load(cfg, folder)
    assert store.STATS.corrupt == 1 and len(store.STATS.reads) == 1 and store.STATS.hits == 2
    assert report_text(cfg, data) == no_store(cfg, monkeypatch)[0]
    store.STATS.reset()
    load(cfg, folder)
    assert store.STATS.reads == [] and store.STATS.corrupt == 0  # rebuilt and trusted again


def test_the_store_folder_and_switch(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = make_config(root)
    snapshots = root / "data" / ".snapshots"
    load_sources(cfg, snapshots, now=T, until=T)
    assert list((root / "data" / ".store").glob("web-*/*.json"))  # beside the snapshots
    elsewhere = root / "elsewhere"
    monkeypatch.setenv("PILOTWATCH_STORE_DIR", str(elsewhere))
    load_sources(cfg, snapshots, now=T, until=T)
    assert len(list(elsewhere.glob("web-*/*.json"))) == 3
    monkeypatch.setenv("PILOTWATCH_STORE", "off")
    assert load_sources(cfg, snapshots, now=T, until=T).stored is None


def test_a_source_setting_change_invalidates(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "store"
    cfg = make_config(root)
    load(cfg, folder)
    web = cfg.sources[0].model_copy(update={"timezone": "Europe/Paris"})
    store.STATS.reset()
    load(cfg.model_copy(update={"sources": [web]}), folder)
    assert len(store.STATS.reads) == 3  # the timezone shapes every timestamp


DEMO = Path(__file__).resolve().parent.parent / "data" / "demo"


def test_the_demo_report_is_byte_identical_with_and_without_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pilotwatch.config import load_config

    data_dir = tmp_path / "demo"
    if (DEMO / ".complete").exists():
        shutil.copytree(DEMO, data_dir, ignore=shutil.ignore_patterns(".snapshots", ".store"))
    else:
        from pilotwatch.demo import write_demo

        write_demo(data_dir)
    monkeypatch.setenv("PILOTWATCH_DATA", str(data_dir))
    cfg = load_config(Path(__file__).resolve().parent.parent / "config")
    as_of = parse_as_of("2026-11-16T12:00:00Z")
    folder = tmp_path / "store"

    def text(enabled: bool) -> str:
        with monkeypatch.context() as patch:
            if not enabled:
                patch.setenv("PILOTWATCH_STORE", "off")
            data = load_sources(cfg, None, until=as_of, store_dir=folder)
            assert (data.stored is not None) == enabled
            return dumps(compute(cfg, data, as_of)[1])

    expected = text(False)
    assert text(True) == expected  # cold
    store.STATS.reset()
    assert text(True) == expected  # warm
    assert store.STATS.reads == [] and store.STATS.hits > 0
    assert pl.read_parquet(next(folder.glob("*/*.buckets.*.parquet"))).height > 0


def test_the_raw_rows_behind_the_store_serve_freshness_looking_back(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # one more day, 02-01. As of 02-20 the SLO windows ([02-13, 02-20)) hold no request, the
    # newest row before T is 02-01 11:15 (stale: freshness 1h) and the source has rows after T:
    # only the raw rows (the store's deferred plan) can tell freshness that newest row
    write_day(root, "2026-02-01")
    cfg, folder = make_config(root, freshness="1h"), tmp_path / "store"
    past = datetime(2026, 2, 20, tzinfo=UTC)
    load(cfg, folder)
    warm = load(cfg, folder)
    assert store.STATS.hits == 4
    portfolio, report = compute(cfg, warm, past)
    [row] = portfolio.freshness.iter_rows(named=True)
    assert row["newest"] == datetime(2026, 2, 1, 11, 15, tzinfo=UTC) and row["stale"]
    with monkeypatch.context() as patch:
        patch.setenv("PILOTWATCH_STORE", "off")
        plain = load(cfg, None)
    assert dumps(report) == dumps(compute(cfg, plain, past)[1])


def test_dropped_identifier_columns_are_reported_from_the_store_too(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = root / "data" / "requests" / "2026-03-01.csv"
    lines = path.read_text().splitlines()
    # one more column, `mrn`: the connector drops it and says so
    path.write_text("\n".join([lines[0] + ",mrn"] + [f"{x},12345" for x in lines[1:]]) + "\n")
    cfg, folder = make_config(root), tmp_path / "store"
    _, plain = no_store(cfg, monkeypatch)
    assert any("mrn" in w for w in plain.health[0].warnings)
    load(cfg, folder)
    warm = load(cfg, folder)
    assert store.STATS.hits == 3
    assert warm.health[0].warnings == plain.health[0].warnings
    assert report_text(cfg, warm) == report_text(cfg, plain)


def test_a_minute_in_two_files_is_one_bucket(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    late = root / "data" / "requests" / "late.csv"
    late.write_text(HEADER + "2026-03-03T10:00:10Z,alpha,api,read,production,100,200,false\n")
    cfg, folder = make_config(root), tmp_path / "store"
    load(cfg, folder)
    data = load(cfg, folder)
    assert store.STATS.hits == 4
    # 03-03 10:00 holds 10:00:00 and 10:00:30 (03-03.csv) and 10:00:10 (late.csv): one group
    pre = engine.stored_pre(cfg, data, datetime(2026, 3, 3, 10, tzinfo=UTC), T)
    assert pre is not None
    minute = pre.frame.filter(pl.col("bucket_start") == datetime(2026, 3, 3, 10, tzinfo=UTC))
    assert minute.select("total", "errors", "newest").rows() == [
        (3, 0, datetime(2026, 3, 3, 10, 0, 30, tzinfo=UTC))
    ]
    assert good_total(cfg, data) == {"avail": (7, 10), "fast": (7, 10)}  # 6 + 1 of 9 + 1
    assert report_text(cfg, data) == no_store(cfg, monkeypatch)[0]


def test_slos_the_load_did_not_know_fall_back_to_the_raw_rows(
    root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "store"
    data = load(make_config(root), folder)  # loaded for le 300 only
    wider = make_config(root, threshold=450.0)
    assert engine.stored_pre(wider, data, datetime(2026, 2, 25, tzinfo=UTC), T) is None
    # computed from the raw rows instead: all nine requests are <= 450 ms
    assert good_total(wider, data) == {"avail": (6, 9), "fast": (9, 9)}
    assert report_text(wider, data) == no_store(wider, monkeypatch)[0]


def test_a_rebuilt_partition_never_overwrites_a_file_an_earlier_load_still_scans(
    root: Path, tmp_path: Path
) -> None:
    """Parquet files are content-addressed; the old one stays until sweep() ages it out."""
    cfg, folder = make_config(root), tmp_path / "store"
    first = load(cfg, folder)
    expected = report_text(cfg, first)
    [source_folder] = folder.iterdir()
    before = {p.name for p in source_folder.glob("*.parquet")}
    assert len(before) == 6  # 3 files x (buckets, bad)
    day = sorted(root.rglob("*.csv"))[-1]
    with day.open("a", encoding="utf-8") as handle:  # one more row: that partition is rebuilt
        handle.write(day.read_text(encoding="utf-8").splitlines()[-1] + "\n")
    load(cfg, folder)
    after = {p.name for p in source_folder.glob("*.parquet")}
    # the old buckets file is still there, so the first load's lazy scans still read it
    assert before < after
    assert report_text(cfg, first) == expected
    assert sf.sweep(source_folder) == 0  # younger than SWEEP_AFTER_SECONDS: kept
    later = time.time() + sf.SWEEP_AFTER_SECONDS + 1
    assert sf.sweep(source_folder, now=later) == len(after) - 6  # only the unreferenced ones
    assert len(list(source_folder.glob("*.parquet"))) == 6
