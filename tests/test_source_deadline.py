"""No source can hang the others: concurrent loads, each within its `load_timeout`.

The hanging source is a connector plugin registered through the entry-point group (like any
third-party plugin): a file connector that waits in its constructor, before reading, for as long
as the test says (`DELAYS` in the process, or the PW_TEST_DELAYS environment variable in a
subprocess); `inf` blocks until the test sets `RELEASE`.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from pydantic import ValidationError

import pilotwatch.sources as sources_module
from core.models import Config, Settings, Source
from pilotwatch.sources import load_sources

PLUGIN = '''
"""A file connector that waits before reading (a server that never answers)."""
import json
import math
import os
import threading
import time

from connectors.file import FileConnector

RELEASE = threading.Event()
DELAYS = {}  # source name -> seconds; math.inf blocks until RELEASE is set


class SlowFileConnector(FileConnector):
    type_name = "slowfile"

    def __init__(self, spec):
        super().__init__(spec)
        delays = {**json.loads(os.environ.get("PW_TEST_DELAYS", "{}")), **DELAYS}
        delay = float(delays.get(spec.name, 0))
        if math.isinf(delay):
            RELEASE.wait()
        else:
            time.sleep(delay)
'''
INCIDENTS = "incident_id,initiative,severity,opened_at\n{a},vt,2,2026-02-27T10:00:00Z\n"


def install_plugin(root: Path) -> None:
    """Write the plugin module and a dist-info declaring it in the pilotwatch.connectors group."""
    (root / "pw_slow_plugin.py").write_text(PLUGIN, encoding="utf-8")
    info = root / "pw_slow-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: pw_slow\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[pilotwatch.connectors]\nslowfile = pw_slow_plugin:SlowFileConnector\n"
    )


@pytest.fixture
def slow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """The registered plugin module; every blocked load is released at the end."""
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    install_plugin(plugin_dir)
    monkeypatch.syspath_prepend(str(plugin_dir))
    importlib.invalidate_caches()
    module = importlib.import_module("pw_slow_plugin")
    yield module
    module.RELEASE.set()
    join_loads()
    sys.modules.pop("pw_slow_plugin", None)


def join_loads(timeout: float = 10) -> None:
    """Wait for every abandoned load thread (they finish once released)."""
    for thread in threading.enumerate():
        if thread.name.startswith("pilotwatch-load-"):
            thread.join(timeout)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in ("a", "b", "c"):
        (data / f"{name}.csv").write_text(INCIDENTS.format(a=name), encoding="utf-8")
    return tmp_path


def source(name: str, csv: str, kind: str = "file", **extra: Any) -> Source:
    settings = {"path": f"data/{csv}.csv"}
    return Source(name=name, type=kind, tables=["incidents"], settings=settings, **extra)


def test_a_hanging_source_fails_at_its_deadline_and_the_others_load(
    slow: ModuleType, root: Path
) -> None:
    slow.DELAYS["stuck"] = float("inf")
    config = Config(
        sources=[
            source("first", "a"),
            source("stuck", "b", "slowfile", load_timeout="1s"),
            source("last", "c"),
        ],
        root=str(root),
    )
    started = time.monotonic()
    data = load_sources(config, None)
    elapsed = time.monotonic() - started
    assert 1.0 <= elapsed < 3.0  # waited for the 1 s deadline, not for the hanging source
    assert [h.source for h in data.health] == ["first", "stuck", "last"]
    first, stuck, last = data.health
    assert first.ok and last.ok and (first.rows, last.rows) == (1, 1)
    assert not stuck.ok and stuck.rows == 0 and not stuck.using_snapshot
    assert (stuck.last_error or "").startswith("did not finish within load_timeout 1s; ")
    incidents = data.tables["incidents"].collect()
    assert incidents["incident_id"].to_list() == ["a", "c"]


def test_sources_load_concurrently(slow: ModuleType, root: Path) -> None:
    slow.DELAYS.update({"one": 1.0, "two": 1.0, "three": 1.0})
    config = Config(
        sources=[source(n, c, "slowfile") for n, c in (("one", "a"), ("two", "b"), ("three", "c"))],
        root=str(root),
    )
    started = time.monotonic()
    data = load_sources(config, None)
    assert time.monotonic() - started < 2.0  # one after another would take 3 s
    assert all(h.ok for h in data.health)


def test_order_is_the_config_order_whatever_finishes_first(slow: ModuleType, root: Path) -> None:
    slow.DELAYS.update({"late": 0.8, "middle": 0.4})
    config = Config(
        sources=[
            source("late", "a", "slowfile"),
            source("middle", "b", "slowfile"),
            source("quick", "c"),
        ],
        root=str(root),
    )
    data = load_sources(config, None)
    assert [h.source for h in data.health] == ["late", "middle", "quick"]
    incidents = data.tables["incidents"].collect()
    assert incidents.select("source", "incident_id").rows() == [
        ("late", "a"),
        ("middle", "b"),
        ("quick", "c"),
    ]


def test_a_late_result_is_discarded_and_never_replaces_the_snapshot(
    slow: ModuleType, root: Path, tmp_path: Path
) -> None:
    snapshots = tmp_path / "snapshots"
    config = Config(sources=[source("stuck", "a", "slowfile", load_timeout="1s")], root=str(root))
    assert load_sources(config, snapshots).health[0].ok  # the last good load: incident "a"
    meta = (snapshots / "stuck" / "_snapshot.json").read_bytes()

    (root / "data" / "a.csv").write_text(INCIDENTS.format(a="new"), encoding="utf-8")
    slow.DELAYS["stuck"] = float("inf")
    data = load_sources(config, snapshots)
    (health,) = data.health
    assert not health.ok and health.using_snapshot
    assert data.tables["incidents"].collect()["incident_id"].to_list() == ["a"]

    slow.RELEASE.set()  # the abandoned load now reads "new" and reaches its snapshot step
    join_loads()
    assert not [t for t in threading.enumerate() if t.name.startswith("pilotwatch-load-")]
    assert (snapshots / "stuck" / "_snapshot.json").read_bytes() == meta
    assert pl.read_parquet(snapshots / "stuck" / "incidents.parquet")["incident_id"].to_list() == [
        "a"
    ]
    assert sorted(p.name for p in (snapshots / "stuck").iterdir()) == [
        "_snapshot.json",
        "incidents.parquet",
    ]  # its temporary files were removed too
    assert health.last_error and "load_timeout 1s" in health.last_error  # result unchanged


def test_the_measuring_step_is_under_the_deadline_too(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = sources_module.measure
    release = threading.Event()

    def slow_measure(spec: Any, load: Any) -> Any:
        if spec.name == "heavy":
            release.wait(20)  # the collect of a huge table
        return measure(spec, load)

    monkeypatch.setattr(sources_module, "measure", slow_measure)
    config = Config(
        sources=[source("heavy", "a", load_timeout="1s"), source("light", "b")], root=str(root)
    )
    started = time.monotonic()
    heavy, light = load_sources(config, None).health
    assert time.monotonic() - started < 3.0
    release.set()
    join_loads()
    assert light.ok
    assert not heavy.ok and "did not finish within load_timeout 1s" in (heavy.last_error or "")


def test_a_plugin_that_exits_fails_only_its_own_source(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    measure = sources_module.measure

    def exiting(spec: Any, load: Any) -> Any:
        if spec.name == "quits":
            sys.exit(4)
        return measure(spec, load)

    monkeypatch.setattr(sources_module, "measure", exiting)
    config = Config(sources=[source("quits", "a"), source("stays", "b")], root=str(root))
    quits, stays = load_sources(config, None).health
    assert stays.ok
    assert not quits.ok and quits.last_error == "SystemExit: 4"


def test_load_timeout_is_a_duration_with_a_settings_default() -> None:
    assert Settings().default_load_timeout == timedelta(seconds=60)
    assert str(Settings().default_load_timeout) == "60s"  # the text as written stays
    assert Source(name="s", type="file", tables=["incidents"]).load_timeout is None
    with pytest.raises(ValidationError, match="expected a positive duration"):
        Source(name="s", type="file", tables=["incidents"], load_timeout="soon")


def test_the_default_deadline_comes_from_the_settings(slow: ModuleType, root: Path) -> None:
    slow.DELAYS["stuck"] = float("inf")
    config = Config(
        sources=[source("stuck", "a", "slowfile")],
        settings=Settings(default_load_timeout="1s"),
        root=str(root),
    )
    (health,) = load_sources(config, None).health
    assert (health.last_error or "").startswith("did not finish within load_timeout 1s; ")


def test_the_cli_exits_although_a_driver_never_returns(tmp_path: Path, root: Path) -> None:
    plugin_dir = tmp_path / "subprocess-plugin"
    plugin_dir.mkdir()
    install_plugin(plugin_dir)
    config = root / "config"
    config.mkdir()
    (config / "sources.yaml").write_text(
        "sources:\n"
        "  - {name: stuck, type: slowfile, tables: [incidents], settings: {path: data/a.csv},"
        " load_timeout: 1s}\n"
        "  - {name: fine, type: file, tables: [incidents], settings: {path: data/b.csv}}\n",
        encoding="utf-8",
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(plugin_dir), *sys.path]),
        "PW_TEST_DELAYS": json.dumps({"stuck": "inf"}),
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pilotwatch.cli", "validate", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 1, done.stderr  # validate: a failed source
    assert "source stuck (slowfile): FAILED" in done.stdout
    assert "did not finish within load_timeout 1s" in done.stdout
    assert "source fine (file): OK, rows=1" in done.stdout
    assert "Traceback" not in done.stderr
