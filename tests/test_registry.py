"""Plugin discovery: a third-party package adds a connector without touching this repository."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors import registry
from connectors.file import FileConnector
from connectors.sql import SqlConnector
from core.models import Config, Source
from pilotwatch.sources import load_sources

PLUGIN = '''
"""A tiny third-party connector: incidents from a list in its settings."""
import polars as pl

from connectors.base import Connector, ConnectorSettings, RawPart, RawRead


class EchoSettings(ConnectorSettings):
    rows: list[dict[str, str]]


class EchoConnector(Connector):
    type_name = "echo"
    settings_model = EchoSettings

    def read(self) -> RawRead:
        rows = self.settings.rows
        raw = pl.LazyFrame(rows, schema={k: pl.String for k in rows[0]}).with_row_index("n")
        return RawRead([RawPart("incidents", raw, "echo", pl.format("echo #{}", "n"))])
'''
# A plugin that tries to replace the fixed load sequence (and so skip PHI screening).
SKIPPER = """
from connectors.base import Connector, SourceLoad


class SkipperConnector(Connector):
    type_name = "skipper"

    def read(self):
        raise NotImplementedError

    def load(self) -> SourceLoad:
        return SourceLoad(source=self.spec.name, frames={})
"""


def install(root: Path, dist: str, module: str, code: str, entry: str) -> None:
    """Write `module` plus a `*.dist-info` declaring `entry` in the pilotwatch.connectors group."""
    (root / f"{module}.py").write_text(code, encoding="utf-8")
    info = root / f"{dist}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[pilotwatch.connectors]\n{entry}\n", encoding="utf-8")


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    install(tmp_path, "pw_echo", "pw_echo_plugin", PLUGIN, "echo = pw_echo_plugin:EchoConnector")
    install(
        tmp_path,
        "pw_broken",
        "pw_broken_plugin",
        "import a_module_that_does_not_exist\n",
        "broken = pw_broken_plugin:Nothing",
    )
    install(
        tmp_path,
        "pw_skipper",
        "pw_skipper_plugin",
        SKIPPER,
        "skipper = pw_skipper_plugin:SkipperConnector",
    )
    install(
        tmp_path,
        "pw_notaclass",
        "pw_notaclass_plugin",
        "VALUE = 3\n",
        "notaclass = pw_notaclass_plugin:VALUE",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield tmp_path
    for name in ("pw_echo_plugin", "pw_broken_plugin", "pw_notaclass_plugin", "pw_skipper_plugin"):
        sys.modules.pop(name, None)


def test_builtins_are_registered_through_entry_points() -> None:
    found = registry.available()
    assert found["file"] is FileConnector
    assert found["sql"] is SqlConnector
    assert registry.get("file") is FileConnector


def test_a_third_party_plugin_is_discovered(plugins: Path) -> None:
    found = registry.available()
    assert set(found) >= {"file", "sql", "echo"}
    assert found["echo"].type_name == "echo"
    assert found["echo"].__module__ == "pw_echo_plugin"


def test_broken_plugins_are_reported_without_breaking_the_others(plugins: Path) -> None:
    found = registry.discover()
    assert {"file", "sql", "echo"} <= set(found.connectors)
    assert "broken" not in found.connectors
    problems = {p.name: p for p in found.problems}
    assert "ModuleNotFoundError" in problems["broken"].error
    assert "a_module_that_does_not_exist" in problems["broken"].error
    assert problems["broken"].distribution == "pw_broken"
    assert "is not a connectors.base.Connector class" in problems["notaclass"].error
    with pytest.raises(KeyError, match="the plugin for 'broken' failed to load"):
        registry.get("broken")


def test_a_plugin_cannot_replace_the_fixed_load_sequence(plugins: Path) -> None:
    found = registry.discover()
    assert "skipper" not in found.connectors
    (problem,) = [p for p in found.problems if p.name == "skipper"]
    assert "overrides Connector.load(); implement read() instead" in problem.error
    assert {"file", "sql", "echo"} <= set(found.connectors)


def test_plugin_settings_are_validated_by_its_model(plugins: Path) -> None:
    echo = registry.get("echo")
    assert echo.settings_issues({"rows": [{"a": "b"}], "_root": "."}) == []
    assert echo.settings_errors({"rowz": []}) == [
        "settings.rows: required key is missing",
        "settings.rowz: unknown key (expected one of ['rows'])",
    ]


def test_unknown_type_lists_the_known_types() -> None:
    with pytest.raises(KeyError, match=r"unknown connector type 'kafka'; known types: .*'file'"):
        registry.get("kafka")


def test_plugin_loads_data_through_the_source_loader(plugins: Path, tmp_path: Path) -> None:
    rows = [
        {"incident_id": "e1", "initiative": "vt", "severity": "2", "opened_at": "2026-03-01"},
        {"incident_id": "e2", "initiative": "vt", "severity": "9", "opened_at": "2026-03-02"},
    ]
    config = Config(
        sources=[Source(name="echoed", type="echo", tables=["incidents"], settings={"rows": rows})],
        root=str(tmp_path),
    )
    data = load_sources(config, None)
    incidents = data.tables["incidents"].collect()
    assert incidents["incident_id"].to_list() == ["e1"]
    assert incidents["source"].to_list() == ["echoed"]
    assert data.quarantine.rows() == [("echoed", "incidents", "echo #1", "severity: 9 not in 1..4")]
    (health,) = data.health
    assert (health.ok, health.rows, health.quarantined) == (True, 1, 1)
