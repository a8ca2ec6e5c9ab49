"""Data freshness worked out by hand from SPEC.md (Metrics > Data freshness)."""

from __future__ import annotations

from datetime import datetime

import polars as pl
from metrics_helpers import (
    DAY,
    HOUR,
    MIN,
    US,
    T,
    config,
    entry,
    frame,
    initiative,
    report,
    requests,
)

from core.models import Source
from metrics.freshness import source_freshness, stale_by_initiative
from metrics.timewin import UTC_US


def src(name: str, freshness: str | None = None, initiatives: list[str] | None = None) -> Source:
    return Source(
        name=name,
        type="file",
        tables=["requests"],
        freshness=freshness,
        initiatives=initiatives or [],
    )


def test_exactly_at_the_budget_is_fresh_one_microsecond_older_is_stale() -> None:
    tables = {
        "requests": pl.concat(
            [
                requests([{"timestamp": T - DAY}], source="exact"),
                requests([{"timestamp": T - DAY - US}], source="older"),
                # a newer row at T does not count: nothing at or after T
                requests([{"timestamp": T - DAY - US}, {"timestamp": T}], source="at_t"),
                requests([{"timestamp": T - 10 * DAY}], source="weekly"),
            ]
        ),
        "deployments": frame(
            "deployments", [{"deploy_id": "d", "finished_at": T - 2 * HOUR}], source="cd"
        ),
    }
    cfg = config(
        sources=[
            src("exact", "24h"),
            src("older", "24h"),
            src("at_t", "24h"),
            src("weekly", "30d"),  # only rows older than every SLO window: still seen
            src("cd", "1h"),  # deployments 2h old against a 1h budget
        ]
    )
    rep = report(tables, cfg)
    stale = {s["source"]: s["stale"] for s in rep["sources"]}
    assert stale == {"exact": False, "older": True, "at_t": True, "weekly": False, "cd": True}
    newest = {s["source"]: s["newest"] for s in rep["sources"]}
    assert newest["at_t"] == "2025-03-14T11:59:59.999999Z"
    assert entry(rep)["data"]["stale_sources"] == 3


def test_default_freshness_budget_applies() -> None:
    tables = {"requests": requests([{"timestamp": T - 25 * HOUR}], source="s")}
    rep = report(tables, config(sources=[src("s")]))  # default_freshness 24h
    assert entry(rep)["data"]["stale_sources"] == 1
    rep = report(tables, config(sources=[src("s")], default_freshness="2d"))
    assert entry(rep)["data"]["stale_sources"] == 0


def test_stale_source_counts_only_for_the_initiatives_it_serves() -> None:
    tables = {
        "requests": pl.concat(
            [
                requests([{"timestamp": T - 3 * DAY}], source="a_only"),  # alpha rows
                requests([{"timestamp": T - 3 * DAY, "initiative": "beta"}], source="listed"),
            ]
        )
    }
    cfg = config(
        [initiative(), initiative("beta")],
        sources=[src("a_only", "1d"), src("listed", "1d", initiatives=["alpha"])],
    )
    rep = report(tables, cfg)
    # a_only serves the initiative it delivered rows for (alpha); listed serves what it lists
    assert entry(rep)["data"]["stale_sources"] == 2
    assert entry(rep, "beta")["data"]["stale_sources"] == 0


def test_source_freshness_function_boundaries() -> None:
    sources = pl.DataFrame(
        {"source": ["s1", "s2"], "freshness_seconds": [3600, 3600], "initiatives": [["x"], ["x"]]},
        schema={
            "source": pl.String(),
            "freshness_seconds": pl.Int64(),
            "initiatives": pl.List(pl.String()),
        },
    )
    observed = pl.DataFrame(
        {"source": ["s1", "s2"], "initiative": ["x", "x"], "newest": [T - HOUR, T - HOUR - US]},
        schema={"source": pl.String(), "initiative": pl.String(), "newest": UTC_US},
    )
    fresh = source_freshness(sources, observed, ["x"], T)
    assert fresh["stale"].to_list() == [False, True]
    data = stale_by_initiative(fresh, ["x", "y"])
    assert data.sort("initiative")["stale_sources"].to_list() == [1, 0]


def test_as_of_later_makes_a_source_stale() -> None:
    tables = {"requests": requests([{"timestamp": T - HOUR}], source="s")}
    cfg = config(sources=[src("s", "2h")])
    assert entry(report(tables, cfg))["data"]["stale_sources"] == 0
    later: datetime = T + HOUR + US  # truncated to T + 1h: newest is exactly 2h old
    assert entry(report(tables, cfg, as_of=later))["data"]["stale_sources"] == 0
    # one minute later it is 2h 1min old
    assert entry(report(tables, cfg, as_of=T + HOUR + MIN))["data"]["stale_sources"] == 1


def test_a_source_serves_every_initiative_it_delivered_rows_for_old_or_new() -> None:
    # s fed alpha 2 days ago and beta 10 days ago (older than every SLO / burn window):
    # newest T - 2d > 24h -> stale, and it serves both alpha and beta
    rows = [{"timestamp": T - 2 * DAY}, {"timestamp": T - 10 * DAY, "initiative": "beta"}]
    cfg = config([initiative(), initiative("beta")], sources=[src("s")])
    rep = report({"requests": requests(rows, source="s")}, cfg)
    assert rep["sources"][0]["newest"] == "2025-03-13T12:00:00Z"
    assert sorted(rep["sources"][0]["serves"]) == ["alpha", "beta"]
    assert entry(rep)["data"]["stale_sources"] == 1
    assert entry(rep, "beta")["data"]["stale_sources"] == 1


def test_loader_measured_newest_gives_the_same_answer_without_a_second_scan() -> None:
    from metrics.portfolio import compute_portfolio

    # s fed alpha 2 days ago, beta 10 days ago and gamma 1 day *after* T (rows beyond the
    # as-of exist when looking back in time); the loader measured the newest row per initiative
    rows = [
        {"timestamp": T - 2 * DAY},
        {"timestamp": T - 10 * DAY, "initiative": "beta"},
        {"timestamp": T + DAY, "initiative": "gamma"},
    ]
    cfg = config([initiative(), initiative("beta"), initiative("gamma")], sources=[src("s")])
    tables = {"requests": requests(rows, source="s")}
    measured = pl.DataFrame(
        {
            "source": ["s", "s", "s"],
            "initiative": ["alpha", "beta", "gamma"],
            "newest": [T - 2 * DAY, T - 10 * DAY, T + DAY],
        },
        schema={"source": pl.String(), "initiative": pl.String(), "newest": UTC_US},
    )
    for as_of in (T + 3 * DAY, T):  # after every row; and with gamma's row in the future
        scanned = compute_portfolio(tables, cfg, as_of).freshness
        given = compute_portfolio(tables, cfg, as_of, measured).freshness
        assert given.to_dicts() == scanned.to_dicts()
    # at T: newest before T is alpha's T - 2d; gamma's future row neither counts nor serves
    at_t = compute_portfolio(tables, cfg, T, measured).freshness.row(0, named=True)
    assert at_t["newest"] == T - 2 * DAY
    assert sorted(at_t["serves"]) == ["alpha", "beta"]
