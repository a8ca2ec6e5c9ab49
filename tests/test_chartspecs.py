"""The shared chart specifications (pilotwatch/chartspecs.py): their data and their encodings.

Expected values are worked out by hand; the specs are validated against the Vega-Lite schema
(`to_dict()` validates).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
import pytest
from metrics_helpers import DAY, HOUR, MIN, T, buckets, slo

from core.models import Slo
from metrics import series
from pilotwatch import chartspecs as cs

BUDGET = "budget remaining"
PACE = "steady pace"


def _burn_case() -> tuple[Slo, pl.DataFrame]:
    s = slo("a", window="1d", target=0.875)  # budget 1/8 of the events
    b = buckets(
        [
            ("a", T - 90 * MIN, 88, 100),  # 10:30, 12 bad
            ("a", T - 80 * MIN, 100, 100),  # 10:40
            ("a", T - 30 * MIN, 44, 48),  # 11:30, 4 bad
        ]
    )
    # 248 events, allowance 248/8 = 31; spent 12/31 after hour 10, 16/31 after hour 11
    return s, b


def _stamp(at: datetime) -> str:
    """How Altair writes a UTC instant into a dataset."""
    return at.strftime("%Y-%m-%dT%H:%M:%S+0000")


def _layer_rows(spec: dict[str, Any], index: int) -> list[dict[str, Any]]:
    name = spec["layer"][index]["data"]["name"]
    rows: list[dict[str, Any]] = spec["datasets"][name]
    return rows


def _encodings(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [layer.get("encoding", {}) for layer in spec["layer"]]


@pytest.mark.parametrize("static", [False, True])
def test_burn_down_data_is_the_budget_series(static: bool) -> None:
    s, b = _burn_case()
    burn = series.budget_burn_down(b, s, T, "1h")
    spec = cs.burn_down(burn, series.ideal_burn(s, T), static=static).to_dict()
    actual = _layer_rows(spec, 0)
    assert [r["at"] for r in actual] == [_stamp(T - DAY), _stamp(T - HOUR), _stamp(T)]
    assert [r["budget_remaining"] for r in actual] == pytest.approx([1.0, 19 / 31, 15 / 31])
    assert {r["line"] for r in actual} == {BUDGET}
    if static:  # the printed form carries no tooltip, so not its column either
        assert "consumed" not in actual[0] and "tooltip" not in str(spec)
    else:
        assert [r["consumed"] for r in actual] == pytest.approx([0.0, 12 / 31, 16 / 31])
    pace = _layer_rows(spec, 1)
    assert [(r["at"], r["budget_remaining"], r["line"]) for r in pace] == [
        (_stamp(T - DAY), 1.0, PACE),
        (_stamp(T), 0.0, PACE),
    ]
    levels = [(r["y"], r["label"]) for r in _layer_rows(spec, 2)]
    assert levels == [(0.25, "at risk below 25%"), (0.0, "budget exhausted")]
    assert _layer_rows(spec, 3) == [{"y": 0.25, "label": "at risk below 25%"}]
    assert _layer_rows(spec, 4) == [{"y": 0.0, "label": "budget exhausted"}]


def test_burn_down_lines_differ_by_dash_not_colour_alone() -> None:
    s, b = _burn_case()
    spec = cs.burn_down(series.budget_burn_down(b, s, T), series.ideal_burn(s, T)).to_dict()
    for encoding in _encodings(spec)[:2]:
        colour, dash = encoding["color"], encoding["strokeDash"]
        assert colour["field"] == dash["field"] == "line"
        assert colour["scale"]["domain"] == dash["scale"]["domain"] == [BUDGET, PACE]
        assert dash["scale"]["range"] == [[1, 0], [6, 4]]  # solid, dashed
        assert colour["scale"]["range"] == [cs.OKABE["blue"], cs.OKABE["grey"]]
    # the two levels are ruled (dotted) and written, not coloured
    assert spec["layer"][2]["mark"]["strokeDash"] == [2, 2]
    assert [layer["encoding"]["text"]["field"] for layer in spec["layer"][3:]] == ["label"] * 2


def test_static_burn_down_draws_utc_with_a_fixed_y_scale() -> None:
    s, b = _burn_case()
    burn = series.budget_burn_down(b, s, T)
    spec = cs.burn_down(burn, series.ideal_burn(s, T), static=True, y_domain=(-0.25, 1.0))
    x = spec.to_dict()["layer"][0]["encoding"]["x"]
    assert x["scale"] == {"type": "utc"} and x["axis"]["format"] == "%b %d"
    assert spec.to_dict()["layer"][0]["encoding"]["y"]["scale"] == {"domain": [-0.25, 1.0]}


def test_budget_domain_leaves_room_under_zero() -> None:
    # a quarter of the span from the lowest point (or 0) to 1, below it
    assert cs.budget_domain(0.5) == (-0.25, 1.0)
    assert cs.budget_domain(-1.0) == (-1.5, 1.0)


def _history() -> pl.DataFrame:
    rows = [
        ("2025-03-03 00:00", "no_go", 40.0),
        ("2025-03-10 00:00", "conditional", 60.0),
        ("2025-03-15 12:00", "go", 90.0),
    ]
    return cs.with_verdict_words(
        pl.DataFrame(
            {
                "as_of": [datetime.fromisoformat(a + "+00:00") for a, _, _ in rows],
                "name": ["Alpha"] * 3,
                "verdict": [v for _, v, _ in rows],
                "score": [s for _, _, s in rows],
            }
        )
    )


def test_score_trend_gives_the_verdict_by_shape_and_colour() -> None:
    data = _history()
    assert data.get_column("verdict word").to_list() == ["NO-GO", "CONDITIONAL", "GO"]
    assert data.get_column("as of").to_list()[-1] == "2025-03-15 12:00"
    spec = cs.score_trend(data, static=True).to_dict()
    points = spec["layer"][1]["encoding"]
    assert points["shape"]["field"] == points["color"]["field"] == "verdict word"
    shapes = points["shape"]["scale"]
    assert shapes["domain"] == ["GO", "CONDITIONAL", "NO-GO"]
    assert len(set(shapes["range"])) == 3  # one shape per verdict
    assert "tooltip" not in points
    assert [r["score"] for r in spec["datasets"][spec["data"]["name"]]] == [40.0, 60.0, 90.0]
    # ticks on every other Monday 00:00 counted back from the newest: 2025-03-10 only
    ticks = spec["layer"][0]["encoding"]["x"]["axis"]["values"]
    assert ticks == [{"year": 2025, "month": 3, "date": 10, "utc": True}]
    assert "tooltip" in str(cs.score_trend(data).to_dict())  # the app's keeps them


def test_verdict_bars_label_every_bar_zero_included() -> None:
    counts = pl.DataFrame({"verdict": ["go", "conditional", "no_go"], "count": [2, 0, 1]})
    spec = cs.verdict_bars(counts).to_dict()
    rows = spec["datasets"][spec["data"]["name"]]
    assert [(r["word"], r["count"]) for r in rows] == [("GO", 2), ("CONDITIONAL", 0), ("NO-GO", 1)]
    bars, labels = spec["layer"]
    assert labels["mark"]["type"] == "text" and labels["encoding"]["text"]["field"] == "count"
    assert bars["encoding"]["y"]["field"] == "word"  # each bar named on its axis, in words
    assert bars["encoding"]["y"]["scale"]["domain"] == ["GO", "CONDITIONAL", "NO-GO"]


def test_kpi_progress_rules_baseline_and_target_apart() -> None:
    rows = pl.DataFrame(
        {
            "kpi": ["wait", "share"],
            "progress": [0.5, None],
            "status": ["off track", "suppressed"],
            "label": ["72 · off track", "<11 · suppressed"],
        },
        schema={"kpi": pl.String, "progress": pl.Float64, "status": pl.String, "label": pl.String},
    )
    spec = cs.kpi_progress(rows, 300).to_dict()
    bars, rules, labels, names = spec["layer"]
    # bars on the left 60% of [0, 1]: domain from -0.02 * span to span, span = 1 / 0.6
    domain = bars["encoding"]["x"]["scale"]["domain"]
    assert domain == pytest.approx([-0.02 / 0.6, 1 / 0.6])
    assert spec["datasets"][rules["data"]["name"]] == [
        {"at": 0.0, "name": "baseline"},
        {"at": 1.0, "name": "target"},
    ]
    assert rules["encoding"]["strokeDash"]["scale"]["range"] == [[2, 2], [1, 0]]
    assert names["encoding"]["text"]["field"] == "name"
    assert labels["encoding"]["text"]["field"] == "label"
    assert labels["encoding"]["x"] == {"value": 300}
    shown = [r["label"] for r in spec["datasets"][labels["data"]["name"]]]
    assert shown == ["72 · off track", "<11 · suppressed"]
