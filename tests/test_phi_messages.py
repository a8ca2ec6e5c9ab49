"""Messages a source's health carries (errors, warnings) never carry free-text PHI."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import require_service

from connectors.base import SourceSpec
from connectors.phi import redact_message
from pilotwatch.sources import load_one


def test_redact_message_uses_the_default_patterns() -> None:
    text = 'invalid input syntax for type integer: "123-45-6789" (ask ann@example.org)'
    assert (
        redact_message(text)
        == 'invalid input syntax for type integer: "[redacted]" (ask [redacted])'
    )
    assert redact_message("deploy d-20261116-0042 of v2.10.0 failed") == (
        "deploy d-20261116-0042 of v2.10.0 failed"
    )


def test_redact_message_adds_configured_patterns() -> None:
    assert redact_message("badge PB-123456 seen", [("badge", r"PB-\d{6}")]) == (
        "badge [redacted] seen"
    )


@pytest.mark.services
def test_a_driver_error_quoting_a_value_is_redacted_in_health(tmp_path: Path) -> None:
    url = require_service("postgresql")
    spec = SourceSpec(
        name="pg",
        type="sql",
        tables=("incidents",),
        settings={
            "url": url,
            "query": "SELECT CAST('123-45-6789' AS integer) AS severity",
            "_root": str(tmp_path),
        },
    )
    _, health, _ = load_one(spec)
    assert not health.ok
    assert health.last_error is not None
    assert "123-45-6789" not in health.last_error
    assert "[redacted]" in health.last_error


def test_a_missing_file_named_after_a_person_is_redacted(tmp_path: Path) -> None:
    spec = SourceSpec(
        name="files",
        type="file",
        tables=("incidents",),
        settings={"path": "exports/jane.doe@example.org.csv", "_root": str(tmp_path)},
    )
    _, health, _ = load_one(spec)
    assert health.last_error is not None
    assert "jane.doe@example.org" not in health.last_error
    assert "file not found" in health.last_error
