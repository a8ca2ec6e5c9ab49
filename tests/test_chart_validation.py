"""Chart validation: the tests validate every chart, the running app skips the per-run cost.

ui/widgets.py::_unvalidated (docs/performance.md, "Pages against the floor").
"""

from __future__ import annotations

import altair as alt
import polars as pl
import pytest
from altair.utils.schemapi import SchemaValidationError

from ui.widgets import _unvalidated


def _invalid() -> alt.Chart:
    # "bar" accepts no such property: only the schema validation can find it
    frame = pl.DataFrame({"a": [1, 2]})
    return alt.Chart(frame).mark_bar().encode(x=alt.X("a:Q")).properties(bogus_property=3)


def test_the_suite_validates_every_chart() -> None:
    with pytest.raises(SchemaValidationError):
        _unvalidated(_invalid()).to_dict()


def test_the_app_skips_validation_and_keeps_the_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PILOTWATCH_VALIDATE_CHARTS")
    assert _unvalidated(_invalid()).to_dict()["bogus_property"] == 3
    valid = alt.Chart(pl.DataFrame({"a": [1, 2]})).mark_bar().encode(x=alt.X("a:Q"))
    assert _unvalidated(valid.copy()).to_dict() == valid.to_dict()
    # only that object changes: the same chart built again still validates
    with pytest.raises(SchemaValidationError):
        _invalid().to_dict()
