"""A third-party plugin runs pilotwatch's importable contract suite, as its own repository would.

The echo plugin of tests/test_registry.py is installed as a distribution on sys.path for the
class, and `connectors.testing.ConnectorContract` runs every contract test against it.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from typing import ClassVar

import pytest
from test_registry import PLUGIN, install

from connectors.base import SourceSpec
from connectors.testing import ConnectorContract, as_text, contract_spec, records


class TestEchoPluginContract(ConnectorContract):
    tables: ClassVar[tuple[str, ...]] = ("incidents",)

    @pytest.fixture(scope="class")
    @classmethod
    def contract_source(cls, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SourceSpec]:
        root = tmp_path_factory.mktemp("echo_plugin")
        install(root, "pw_echo", "pw_echo_plugin", PLUGIN, "echo = pw_echo_plugin:EchoConnector")
        with pytest.MonkeyPatch.context() as patch:
            patch.syspath_prepend(str(root))
            importlib.invalidate_caches()
            rows = [
                {k: as_text(v) for k, v in row.items() if k != "row_id"}
                for row in records("incidents")
            ]
            yield contract_spec("echo", {"rows": rows}, tables=cls.tables)
        sys.modules.pop("pw_echo_plugin", None)

    def location(self, table: str, row_id: int) -> str:
        return f"echo #{row_id}"
