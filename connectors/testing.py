"""The connector contract suite, importable by any connector plugin's own tests.

Every connector, fed the same logical dataset, must give the same answer: the hand-written
canonical rows, the canonical dtypes, the same quarantined rows (with its own kind of location),
every input row counted as loaded or quarantined, free-text PHI redacted, and the base class's
fixed load sequence left intact. A plugin author writes the dataset in the plugin's own format
and subclasses `ConnectorContract` (docs/connectors.md, "Testing a plugin"):

    from connectors.testing import ConnectorContract, contract_spec, records

    class TestMyConnector(ConnectorContract):
        def write(self, root):
            ...  # write records(table) for each table where the connector reads them
            return contract_spec("mine", {"folder": str(root)})

        def location(self, table, row_id):
            return f"{table}.mine#{row_id}"

pytest then runs every test below against the plugin. Needs pytest (a test-time dependency).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from connectors import registry
from connectors.base import (
    BAD,
    LOCATION,
    REASON,
    Connector,
    ConnectorSettings,
    SourceLoad,
    SourceSpec,
)
from core.canonical import SCHEMAS, TABLES

PLANTED_EMAIL = "jane.doe@example.org"  # free-text PHI every connector must redact


def t(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


# ---- the logical dataset: source columns (requests.timestamp arrives as `ts`) ---------------
COLUMNS: dict[str, dict[str, str]] = {
    "requests": {
        "row_id": "int", "ts": "time", "initiative": "str", "service": "str",
        "operation": "str", "environment": "str", "duration_ms": "float",
        "status_code": "int", "error": "bool",
    },
    "sli_buckets": {"row_id": "int", "slo": "str", "bucket_start": "time", "good": "int",
                    "total": "int"},
    "deployments": {
        "row_id": "int", "deploy_id": "str", "initiative": "str", "environment": "str",
        "finished_at": "time", "status": "str", "commit_at": "time", "version": "str",
    },
    "incidents": {
        "row_id": "int", "incident_id": "str", "initiative": "str", "severity": "int",
        "opened_at": "time", "acknowledged_at": "time", "resolved_at": "time",
        "deploy_id": "str", "patient_impact": "bool", "title": "str",
    },
    "kpi_observations": {
        "row_id": "int", "initiative": "str", "kpi": "str", "period_end": "time",
        "value": "float", "numerator": "int", "denominator": "int",
    },
    "evidence": {
        "row_id": "int", "initiative": "str", "control_id": "str", "status": "str",
        "collected_at": "time", "expires_at": "time", "owner": "str", "evidence_ref": "str",
        "justification": "str",
    },
}  # fmt: skip

ROWS: dict[str, list[tuple[Any, ...]]] = {
    "requests": [
        (0, t(1, 9), "vt", "api", "/triage", None, 120.5, 200, None),
        (1, t(1, 9, 1), "vt", "api", None, "staging", 80.0, 503, None),
        (2, t(1, 9, 2), "vt", "api", "/x", "production", 10.0, None, True),
        (3, None, "vt", "api", "/x", None, 5.0, 200, None),
        (4, t(1, 9, 4), "vt", "api", "/x", None, -1.0, 200, None),
        (5, t(1, 9, 5), "vt", None, "/x", None, 5.0, 200, None),
    ],
    "sli_buckets": [
        (0, "avail", t(1, 9), 10, 10),
        (1, "avail", t(1, 9, 1), 11, 10),
        (2, "avail", t(1, 9, 2), -1, 5),
    ],
    "deployments": [
        (0, "d1", "vt", None, t(1, 10), "ok", t(1, 8), "1.0"),
        (1, "d2", "vt", "production", t(1, 11), "rolled_back", None, None),
        (2, "d3", "vt", "production", t(1, 12), "done", None, None),
        (3, "d4", "vt", "production", None, "failed", None, None),
    ],
    "incidents": [
        (0, "i1", "vt", 2, t(1, 10, 30), t(1, 10, 35), None, "d1", None, None),
        (1, "i2", "vt", 1, t(1, 11), None, t(1, 12), None, True, f"outage {PLANTED_EMAIL}"),
        (2, "i3", "vt", 5, t(1, 13), None, None, None, False, "x"),
        (3, "i4", None, 3, t(1, 14), None, None, None, False, "y"),
    ],
    "kpi_observations": [
        (0, "vt", "wait", t(28, 0, month=2), 12.5, None, None),
        (1, "vt", "adoption", t(28, 0, month=2), None, 30, 40),
        (2, "vt", "x", t(28, 0, month=2), None, None, None),
        (3, "vt", "y", t(28, 0, month=2), None, 3, -4),
    ],
    "evidence": [
        (0, "vt", "HIPAA-1", "pass", t(1, 0, month=1), t(1, 0, month=12), "ann", "doc-1", None),
        (1, "vt", "HIPAA-2", "not_applicable", t(2, 0, month=1), None, "bob", "doc-2", None),
        (2, "vt", "HIPAA-3", "waived", t(3, 0, month=1), None, "cy", "doc-3", None),
        (3, "vt", None, "pass", t(4, 0, month=1), None, "dee", "doc-4", None),
    ],
}
MAPPING = {"requests": {"timestamp": "ts"}}
VALUES = {"deployments": {"status": {"ok": "success"}}}

# ---- what every connector must return, worked out by hand -----------------------------------
EXPECTED_GOOD: dict[str, dict[str, list[Any]]] = {
    "requests": {
        "timestamp": [t(1, 9), t(1, 9, 1), t(1, 9, 2)],
        "initiative": ["vt", "vt", "vt"],
        "service": ["api", "api", "api"],
        "operation": ["/triage", "", "/x"],  # default ""
        "environment": ["production", "staging", "production"],  # default production
        "duration_ms": [120.5, 80.0, 10.0],
        "status_code": [200, 503, None],
        "error": [False, True, True],  # derived: 503 >= 500; given: True
    },
    "sli_buckets": {
        "slo": ["avail"],
        "bucket_start": [t(1, 9)],
        "good": [10],
        "total": [10],
        "estimate": [False],  # absent in the source: the default
    },
    "deployments": {
        "deploy_id": ["d1", "d2"],
        "initiative": ["vt", "vt"],
        "environment": ["production", "production"],
        "finished_at": [t(1, 10), t(1, 11)],
        "status": ["success", "rolled_back"],  # "ok" mapped to success
        "commit_at": [t(1, 8), None],
        "version": ["1.0", None],
    },
    "incidents": {
        "incident_id": ["i1", "i2"],
        "initiative": ["vt", "vt"],
        "severity": [2, 1],
        "opened_at": [t(1, 10, 30), t(1, 11)],
        "acknowledged_at": [t(1, 10, 35), None],
        "resolved_at": [None, t(1, 12)],
        "deploy_id": ["d1", None],
        "patient_impact": [False, True],
        "title": ["", "outage [redacted]"],  # the planted e-mail address is screened
    },
    "kpi_observations": {
        "initiative": ["vt", "vt"],
        "kpi": ["wait", "adoption"],
        "period_end": [t(28, 0, month=2), t(28, 0, month=2)],
        "value": [12.5, 0.75],  # 30 / 40
        "numerator": [None, 30],
        "denominator": [None, 40],
    },
    "evidence": {
        "initiative": ["vt", "vt"],
        "control_id": ["HIPAA-1", "HIPAA-2"],
        "status": ["pass", "not_applicable"],  # unjustified n/a is a finding, not bad data
        "collected_at": [t(1, 0, month=1), t(2, 0, month=1)],
        "expires_at": [t(1, 0, month=12), None],
        "owner": ["ann", "bob"],
        "evidence_ref": ["doc-1", "doc-2"],
        "justification": [None, None],
    },
}
EXPECTED_BAD: dict[str, dict[int, str]] = {  # row_id -> reason
    "requests": {
        3: "timestamp: missing",
        4: "duration_ms: must be >= 0, got -1.0",
        5: "service: missing",
    },
    "sli_buckets": {1: "good: 11 > total 10", 2: "good: must be >= 0, got -1"},
    "deployments": {
        2: "status: 'done' not one of failed, rolled_back, success",
        3: "finished_at: missing",
    },
    "incidents": {2: "severity: 5 not in 1..4", 3: "initiative: missing"},
    "kpi_observations": {
        2: "value: missing (give value, or numerator and denominator)",
        3: "denominator: must be >= 0, got -4",
    },
    "evidence": {
        2: "status: 'waived' not one of fail, not_applicable, pass",
        3: "control_id: missing",
    },
}


def records(table: str) -> list[dict[str, Any]]:
    return [dict(zip(COLUMNS[table], row, strict=True)) for row in ROWS[table]]


def as_text(value: Any) -> str:
    """A dataset value as a text format (CSV, a JSON string) writes it: "" for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def contract_spec(
    type_name: str, settings: dict[str, Any], tables: tuple[str, ...] = TABLES
) -> SourceSpec:
    """The SourceSpec the suite loads: the dataset's column and value mappings included."""
    return SourceSpec(
        name="contract",
        type=type_name,
        tables=tables,
        settings=settings,
        columns={k: v for k, v in MAPPING.items() if k in tables},
        values={k: v for k, v in VALUES.items() if k in tables},
    )


class ConnectorContract:
    """Base class of a connector's contract tests; see the module docstring."""

    #: the canonical tables the connector under test reads (a subset of TABLES is fine)
    tables: ClassVar[tuple[str, ...]] = TABLES

    def write(self, root: Path) -> SourceSpec:
        """Write the dataset below `root` in the connector's format; return its spec."""
        raise NotImplementedError("subclass ConnectorContract and implement write()")

    def location(self, table: str, row_id: int) -> str:
        """The location the connector gives the row with `row_id` of `table`."""
        raise NotImplementedError("subclass ConnectorContract and implement location()")

    @pytest.fixture(scope="class")
    @classmethod
    def contract_source(cls, tmp_path_factory: pytest.TempPathFactory) -> SourceSpec:
        """The spec of the written dataset (override to use other fixtures, e.g. a database)."""
        return cls().write(tmp_path_factory.mktemp("contract"))

    @pytest.fixture(scope="class")
    @classmethod
    def contract_load(cls, contract_source: SourceSpec) -> SourceLoad:
        """The dataset loaded once through the registered connector."""
        return registry.get(contract_source.type)(contract_source).load()

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Run the per-table tests once for each table the connector reads."""
        if "table" in metafunc.fixturenames:
            metafunc.parametrize("table", self.tables)

    def test_same_canonical_output(self, contract_load: SourceLoad, table: str) -> None:
        """Good rows, dtypes, quarantined rows with reasons and locations, as worked out."""
        frame = contract_load.frames[table]
        assert isinstance(frame, pl.LazyFrame)
        got = frame.collect()
        assert set(SCHEMAS[table]) | {REASON, LOCATION, BAD} <= set(got.columns)
        for name, dtype in SCHEMAS[table].items():
            assert got.schema[name] == dtype, name
        # the cheap flag and the reason text agree on every row
        assert got[BAD].to_list() == got[REASON].is_not_null().to_list()
        good = got.filter(pl.col(REASON).is_null()).select(list(SCHEMAS[table]))
        expected = pl.DataFrame(EXPECTED_GOOD[table], schema=SCHEMAS[table])
        assert_frame_equal(good, expected)
        bad = got.filter(pl.col(REASON).is_not_null())
        got_bad = sorted(zip(bad[LOCATION], bad[REASON], strict=True))
        want_bad = sorted((self.location(table, i), why) for i, why in EXPECTED_BAD[table].items())
        assert got_bad == want_bad
        assert contract_load.warnings == []

    def test_every_input_row_is_loaded_or_quarantined(
        self, contract_load: SourceLoad, table: str
    ) -> None:
        """Input rows = loaded + quarantined: nothing is lost without a count."""
        got = contract_load.frames[table].collect()
        assert got.height == len(ROWS[table])
        assert int(got[BAD].sum()) == len(EXPECTED_BAD[table])

    def test_free_text_phi_is_redacted(self, contract_load: SourceLoad) -> None:
        """The planted e-mail address in an incident title never leaves the connector."""
        if "incidents" not in self.tables:
            pytest.skip("the connector under test does not read incidents")
        titles = contract_load.frames["incidents"].collect()["title"].to_list()
        assert PLANTED_EMAIL not in " ".join(t or "" for t in titles)
        assert "outage [redacted]" in titles

    def test_load_is_the_fixed_sequence(self, contract_source: SourceSpec) -> None:
        """The connector keeps the base class's load(), so no contract step can be skipped."""
        cls = registry.get(contract_source.type)
        assert cls.load is Connector.load
        assert issubclass(cls.settings_model, ConnectorSettings)

    def test_unknown_setting_is_named(self, contract_source: SourceSpec) -> None:
        """A misspelt settings key is a located error, not silently ignored."""
        cls = registry.get(contract_source.type)
        settings = {**contract_source.settings, "no_such_setting_zz": 1}
        issues = cls.settings_issues(settings)
        assert any(path == ("no_such_setting_zz",) for path, _ in issues), issues
        assert cls.settings_issues(contract_source.settings) == []
