"""Snapshots you can trust: atomic writes with checksums, verified reads, stale temp files removed.

A bad snapshot (truncated, corrupted, edited, wrong schema, unreadable meta) of a failing source
is discarded with a warning naming the file; the source is reported as failed with no data, and
nothing crashes: not the loader, not `pilotwatch report` or `check`, not the app.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest
import yaml

from core.models import Config, Source
from pilotwatch import snapshots
from pilotwatch.cli import main
from pilotwatch.sources import load_sources

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)
INCIDENTS = (
    "incident_id,initiative,severity,opened_at\n"
    "i1,vt,2,2026-02-27T10:00:00Z\n"
    "i2,vt,3,2026-02-28T10:00:00Z\n"
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    return tmp_path


def ops(root: Path) -> Config:
    source = Source(
        name="ops", type="file", tables=["incidents"], settings={"path": "data/incidents.csv"}
    )
    return Config(sources=[source], root=str(root))


def test_the_meta_records_size_and_sha256_of_each_file(root: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    assert load_sources(ops(root), snap, now=NOW).health[0].ok
    parquet = (snap / "ops" / "incidents.parquet").read_bytes()
    meta = json.loads((snap / "ops" / "_snapshot.json").read_text())
    info = meta["tables"]["incidents"]
    assert info["sha256"] == hashlib.sha256(parquet).hexdigest()
    assert info["size"] == len(parquet)
    assert (info["rows"], info["newest"]) == (2, "2026-02-28T10:00:00+00:00")
    assert meta["written_at"] == NOW.isoformat()
    assert sorted(p.name for p in (snap / "ops").iterdir()) == [
        "_snapshot.json",
        "incidents.parquet",
    ]


def _truncate(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # same size, different content
    path.write_bytes(bytes(data))


def _edit(path: Path) -> None:
    frame = pl.read_parquet(path).with_columns(pl.lit(1, pl.Int8).alias("severity"))
    frame.write_parquet(path)  # a valid Parquet file whose content is not the recorded one


def _wrong_schema(path: Path) -> None:
    pl.DataFrame({"incident_id": ["x"]}).write_parquet(path)
    meta_path = path.parent / "_snapshot.json"
    meta = json.loads(meta_path.read_text())
    data = path.read_bytes()  # checksum and size updated: only the schema is wrong
    meta["tables"]["incidents"].update(sha256=hashlib.sha256(data).hexdigest(), size=len(data))
    meta_path.write_text(json.dumps(meta))


def _bad_json(path: Path) -> None:
    (path.parent / "_snapshot.json").write_text('{"tables": {"incidents": ', encoding="utf-8")


def _not_an_object(path: Path) -> None:
    (path.parent / "_snapshot.json").write_text("[1, 2]", encoding="utf-8")


def _missing_file(path: Path) -> None:
    path.unlink()


BREAKS: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # how the snapshot is broken, the file the warning names, what it says
    "truncated": (_truncate, "incidents.parquet", "(truncated?)"),
    "corrupted": (_flip_a_byte, "incidents.parquet", "SHA-256 does not match"),
    "edited": (_edit, "incidents.parquet", "(truncated?)|SHA-256 does not match"),
    "wrong schema": (_wrong_schema, "incidents.parquet", "is not the canonical incidents schema"),
    "unreadable JSON": (_bad_json, "_snapshot.json", "not valid JSON"),
    "meta not an object": (_not_an_object, "_snapshot.json", "not a snapshot meta file"),
    "file missing": (_missing_file, "incidents.parquet", "cannot be read"),
}


@pytest.mark.parametrize("kind", list(BREAKS))
def test_a_bad_snapshot_of_a_failing_source_is_discarded_with_a_warning(
    root: Path, tmp_path: Path, kind: str
) -> None:
    snap = tmp_path / "snap"
    load_sources(ops(root), snap, now=NOW)
    breaks, file_name, says = BREAKS[kind]
    breaks(snap / "ops" / "incidents.parquet")
    (root / "data" / "incidents.csv").unlink()  # the source now fails

    data = load_sources(ops(root), snap)
    (health,) = data.health
    assert not health.ok and not health.using_snapshot
    assert health.rows == 0 and health.last_success is None
    assert "file not found" in (health.last_error or "")
    (warning,) = health.warnings
    assert warning.startswith("discarded its snapshot, which cannot be trusted: ")
    assert str(snap / "ops" / file_name) in warning
    assert any(text in warning for text in says.split("|")), warning
    assert data.tables["incidents"].collect().height == 0  # no crash when the data is used


def test_an_edited_snapshot_is_rewritten_at_the_next_good_load(root: Path, tmp_path: Path) -> None:
    snap = tmp_path / "snap"
    load_sources(ops(root), snap, now=NOW)
    target = snap / "ops" / "incidents.parquet"
    good = target.read_bytes()
    _flip_a_byte(target)
    load_sources(ops(root), snap, now=NOW)  # same source content: normally the file is kept
    assert target.read_bytes() == good


def stale_name(pid: int, table: str = "incidents.parquet") -> str:
    return f".{table}.{pid}.{'ab' * 16}.tmp"


def test_stale_temp_files_are_removed_at_the_next_write(root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "snap" / "ops"
    folder.mkdir(parents=True)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], **_OUT)
    dead_pid = int(dead.stdout)  # that process has exited
    (folder / stale_name(dead_pid)).write_bytes(b"PAR1 half")
    (folder / stale_name(dead_pid, "_snapshot.json")).write_text("{")
    old = folder / stale_name(os.getpid()).replace("ab", "cd")
    old.write_bytes(b"old")  # a live pid, but two hours old: its writer is long gone
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    fresh = folder / stale_name(os.getpid()).replace("ab", "ef")
    fresh.write_bytes(b"being written")  # a live writer may own this one: kept
    (folder / "notes.txt").write_text("not ours")

    assert load_sources(ops(root), tmp_path / "snap", now=NOW).health[0].ok
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["_snapshot.json", "incidents.parquet", fresh.name, "notes.txt"]
    )


_OUT: dict[str, object] = {"capture_output": True, "text": True, "timeout": 60, "check": True}
WRITER = """
import sys, time
from pathlib import Path
import polars as pl
from pilotwatch import snapshots

def hang(path):  # the process is killed here: a written but unrenamed temporary file
    print("WRITING", flush=True)
    time.sleep(600)

snapshots._fsync = hang
frame = pl.DataFrame({"x": list(range(1000))})
snapshots.write(Path(sys.argv[1]), {"t": snapshots.TableToWrite(frame, {"rows": 1000})}, "now")
"""


def test_a_kill_during_a_snapshot_write_leaves_nothing_after_the_next_load(
    root: Path, tmp_path: Path
) -> None:
    snap = tmp_path / "snap"
    load_sources(ops(root), snap, now=NOW)
    before = {p.name: p.read_bytes() for p in (snap / "ops").iterdir()}
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(snap / "ops")], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline() == "WRITING\n"
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.wait(30)
    assert writer.returncode == -signal.SIGKILL
    orphans = [p.name for p in (snap / "ops").iterdir() if p.name.endswith(".tmp")]
    assert len(orphans) == 1 and orphans[0].startswith(f".t.parquet.{writer.pid}.")
    # the snapshot that was there is untouched and still verifies
    assert {p.name: p.read_bytes() for p in (snap / "ops").iterdir() if p.name in before} == before
    found = snapshots.read(snap / "ops", ("incidents",))
    assert found is not None and found.rows == 2

    load_sources(ops(root), snap, now=NOW)
    assert sorted(p.name for p in (snap / "ops").iterdir()) == sorted(before)


# ----------------------------------------------------------------------------- the CLI


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A one-initiative project whose only source fails and has a truncated snapshot."""
    config = tmp_path / "config"
    config.mkdir()
    (config / "initiatives.yaml").write_text(
        "initiatives:\n  - {id: alpha, name: Alpha, stage: discovery, owner: o, sponsor: s,"
        " clinical_area: nursing, started_on: 2026-01-01}\n"
    )
    (config / "sources.yaml").write_text(
        "sources:\n  - {name: ops, type: file, tables: [incidents],"
        " settings: {path: data/incidents.csv}}\n"
    )
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "incidents.csv").write_text(INCIDENTS, encoding="utf-8")
    assert main(["validate", "--config", str(config)]) == 0
    snap = tmp_path / "data" / ".snapshots" / "ops"
    assert main(["report", "--config", str(config), "--json", str(tmp_path / "r.json")]) == 0
    _truncate(snap / "incidents.parquet")
    (tmp_path / "data" / "incidents.csv").unlink()
    yield tmp_path


def test_report_and_check_survive_a_truncated_snapshot(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    config = str(project / "config")
    out = project / "after.json"
    assert main(["report", "--config", config, "--json", str(out)]) == 0
    err = capsys.readouterr().err
    assert "warning: source ops failed to load" in err and "using no data" in err
    report = json.loads(out.read_text())
    assert [i["id"] for i in report["initiatives"]] == ["alpha"]
    assert main(["check", "alpha", "--config", config]) in (0, 1, 2)  # a decision, not a crash
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err
    assert "warning: source ops failed to load" in err


# ----------------------------------------------------------------------------- the app


def test_the_app_renders_with_a_hanging_source_and_a_broken_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app_helpers import (
        broken_copy,
        config_env,
        ensure_demo,
        new_app,
        open_page,
        texts,
        unescape,
    )
    from test_app_resilience import PAGES
    from test_source_deadline import install_plugin, join_loads

    ensure_demo()
    config = broken_copy(tmp_path, break_source="demo-deployments")
    # demo-deployments fails and its snapshot is truncated; demo-kpis hangs past 1 s
    folder = snapshots.folder_for(tmp_path / "data" / ".snapshots", "demo-deployments")
    from core.canonical import empty

    frame = empty("deployments")
    snapshots.write(folder, {"deployments": snapshots.TableToWrite(frame, {"rows": 0})}, "then")
    _truncate(folder / "deployments.parquet")
    path = config / "sources.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for source in doc["sources"]:
        if source["name"] == "demo-kpis":
            source.update(type="slowfile", load_timeout="1s")
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    install_plugin(plugin_dir)
    monkeypatch.syspath_prepend(str(plugin_dir))
    monkeypatch.setenv("PW_TEST_DELAYS", json.dumps({"demo-kpis": "inf"}))
    plugin: ModuleType | None = None
    try:
        with config_env(config):
            at = new_app()
            at.run()
            for page in PAGES:
                open_page(at, page)
                assert not at.exception, (page, [e.value for e in at.exception])
                warnings = [unescape(w) for w in texts(at.warning)]  # as read on screen
                hung = [w for w in warnings if "demo-kpis" in w]
                assert any("did not finish within load_timeout 1s" in w for w in hung), page
                bad = [w for w in warnings if "demo-deployments" in w]
                assert any(
                    "snapshot failed verification" in w and "(truncated?)" in w for w in bad
                ), (page, bad)
                assert at.title, page
    finally:
        plugin = sys.modules.get("pw_slow_plugin")
        if plugin is not None:
            plugin.RELEASE.set()
            join_loads()
            sys.modules.pop("pw_slow_plugin", None)
    shutil.rmtree(tmp_path / "plugin", ignore_errors=True)
