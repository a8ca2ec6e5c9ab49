"""ratio_timeslices and estimated buckets (docs/metrics.md, "Budgeting" and "Estimates").

T = 2025-03-15 12:00 UTC. Targets keep `1 - target` exact in binary (0.25, 0.125) so the hand
arithmetic in the comments is exact too.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from app_helpers import ROOT, config_env, ensure_demo, new_app, open_page, texts
from metrics_helpers import DAY, HOUR, MIN, T, buckets, config, frame, report, slo, slo_entry

from metrics import series
from pilotwatch import engine
from pilotwatch.report import SCHEMA_PATH
from ui import formats as fm
from ui import labels as lb


def at(h: int, m: int) -> datetime:
    return T.replace(hour=h, minute=m)


def ratio_slo(name: str = "r", target: float = 0.75, length: str = "5m") -> Any:
    return slo(
        name, target=target, window="1h", budgeting="ratio_timeslices", timeslice={"length": length}
    )


# 5-minute slices in the 1h window [11:00, 12:00)
RATIO_ROWS = [
    ("r", at(11, 0), 4, 4),  # slice 11:00: 4/4 = 1.0
    ("r", at(11, 10), 2, 2),  # slice 11:10: 3/4 = 0.75 over two minutes
    ("r", at(11, 12), 1, 2),
    ("r", at(11, 20), 4, 4),  # slice 11:20: 1.0
    ("r", at(11, 30), 0, 0),  # slice 11:30: no events, not evaluated
    ("r", at(11, 56), 1, 2),  # slice 11:55: 1/2 = 0.5
    ("r", at(10, 58), 0, 10),  # slice 10:55, before the window: not evaluated
]


def test_ratio_timeslices_sli_is_the_mean_of_slice_ratios() -> None:
    rep = report({"sli_buckets": buckets(RATIO_ROWS)}, config(slos=[ratio_slo()]))
    s = slo_entry(rep, "r")
    assert s["budgeting"] == "ratio_timeslices"
    # evaluated slices 1.0, 0.75, 1.0, 0.5: sli = 3.25 / 4 = 0.8125 (occurrences would give
    # 12/14 events, and timeslices a count of slices meeting a per-slice target)
    assert s["total"] == 4
    assert s["good"] is None
    assert s["sli"] == 0.8125
    # budget 0.25: consumed (1 - 0.8125) / 0.25 = 0.75 -> remaining exactly 0.25: healthy
    assert s["budget_consumed"] == 0.75
    assert s["budget_remaining"] == 0.25
    assert s["status"] == "healthy"
    # one entirely bad slice would spend 1 / (0.25 * 4) = 1.0 of the budget
    assert s["one_bad_event_budget_share"] == 1.0
    assert s["low_traffic"] is True
    # burn rates come from events: 5m and 30m see 11:56 only (1 bad of 2): 0.5 / 0.25 = 2
    b = s["burn_rates"]
    assert (b["5m"], b["30m"]) == (2.0, 2.0)
    # 1h [11:00, 12:00): 14 events, 2 bad -> (2/14) / 0.25 = 4/7
    assert b["1h"] == pytest.approx(4 / 7, rel=1e-12)
    # 2h adds 10:58 (10 bad): 24 events, 12 bad -> 0.5 / 0.25 = 2
    assert b["2h"] == 2.0
    # 6h, 1d and 3d see the same 24 events: 2 >= 1 fires ticket 3d/6h (1d/2h needs 3); a
    # ticket alone leaves the status healthy
    assert (b["6h"], b["3d"]) == (2.0, 2.0)
    assert [(a["severity"], a["long"], a["short"]) for a in s["alerts"]] == [("ticket", "3d", "6h")]


def test_ratio_timeslices_breached_and_no_data() -> None:
    rows = [
        ("r", at(11, 0), 1, 2),  # slice 11:00: 0.5
        ("r", at(11, 5), 9, 9),  # slice 11:05: 1.0
        ("q", at(12, 0), 5, 5),  # at T: never counts
        ("q", at(11, 58), 5, 5),  # in a slice [11:55, 12:00) ... evaluated for "q" below
    ]
    cfg = config(slos=[ratio_slo(target=0.875), ratio_slo("q", length="10m")])
    rep = report({"sli_buckets": buckets(rows)}, cfg)
    s = slo_entry(rep, "r")
    # mean (0.5 + 1.0) / 2 = 0.75 < 0.875: breached; consumed 0.25 / 0.125 = 2 -> remaining -1
    assert (s["total"], s["sli"], s["status"]) == (2, 0.75, "breached")
    assert s["budget_remaining"] == -1.0
    # q: 10-minute slices; [11:50, 12:00) holds 11:58 (5/5) and ends at T: evaluated
    q = slo_entry(rep, "q")
    assert (q["good"], q["total"], q["sli"]) == (None, 1, 1.0)
    # with T = 11:55 the slice [11:50, 12:00) is partial and nothing is evaluated
    q = slo_entry(report({"sli_buckets": buckets(rows)}, cfg, as_of=at(11, 55)), "q")
    assert (q["good"], q["total"], q["sli"], q["status"]) == (None, 0, None, "no_data")
    assert q["budget_remaining"] is None


def test_ratio_timeslices_good_is_json_null_and_valid_against_the_schema() -> None:
    rep = report({"sli_buckets": buckets(RATIO_ROWS)}, config(slos=[ratio_slo()]))
    text = json.dumps(rep)
    assert '"good": null' in text
    jsonschema.validate(rep, json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_ratio_timeslices_series_end_on_the_reported_numbers() -> None:
    s = ratio_slo()
    b = buckets(RATIO_ROWS)
    units = series.slo_units(b, s, T)
    assert units.to_dicts() == [
        {"at": at(11, 0), "good": 1.0, "total": 1},
        {"at": at(11, 10), "good": 0.75, "total": 1},
        {"at": at(11, 20), "good": 1.0, "total": 1},
        {"at": at(11, 55), "good": 0.5, "total": 1},
    ]
    # one hour period: (1 + 0.75 + 1 + 0.5) / 4 = 0.8125, the report's sli
    hourly = series.sli_series(b, s, T, "1h")
    assert hourly.select("good", "total", "sli").to_dicts() == [
        {"good": 3.25, "total": 4, "sli": 0.8125}
    ]
    # allowance 0.25 * 4 = 1 slice; spent 0 + 0.25 + 0 + 0.5 = 0.75 -> remaining 0.25
    burn = series.budget_burn_down(b, s, T, "1h")
    assert burn.get_column("budget_remaining").to_list() == [1.0, 0.25]


# --- estimates ------------------------------------------------------------------------------


def _est(rows: list[tuple[str, datetime, int, int, bool | None]]) -> Any:
    return frame(
        "sli_buckets",
        [
            {"slo": n, "bucket_start": b, "good": g, "total": t, "estimate": e}
            for n, b, g, t, e in rows
        ],
        source="prom",
    )


def test_estimate_is_true_when_a_counted_bucket_is_an_estimate() -> None:
    rows: list[tuple[str, datetime, int, int, bool | None]] = [
        ("exact", T - HOUR, 10, 10, False),
        ("burn", T - 2 * DAY, 5, 5, True),  # outside the 1d window, inside burn(3d): counted
        ("burn", T - HOUR, 5, 5, False),
        ("window", T - 10 * DAY, 5, 5, True),  # inside the 28d window, outside burn windows
        ("old", T - 40 * DAY, 5, 5, True),  # outside every window: not counted
        ("old", T - HOUR, 5, 5, None),  # null reads as exact
        ("at_t", T, 5, 5, True),  # at T: never counted
        ("at_t", T - MIN, 5, 5, False),
        # two rows of one minute (say two series): summed, an estimate when either is
        ("merged", T - MIN, 3, 4, False),
        ("merged", T - MIN + MIN / 2, 1, 2, True),  # 30 s in: floored to the same minute
    ]
    names = ["exact", "burn", "window", "old", "at_t", "merged"]
    cfg = config(slos=[slo(n, window="1d" if n == "burn" else "28d") for n in names])
    rep = report({"sli_buckets": _est(rows)}, cfg)
    flags = {n: slo_entry(rep, n)["estimate"] for n in names}
    assert flags == {
        "exact": False,
        "burn": True,
        "window": True,
        "old": False,
        "at_t": False,
        "merged": True,
    }
    merged = slo_entry(rep, "merged")
    assert (merged["good"], merged["total"]) == (4, 6)  # 3 + 1 of 4 + 2


# --- the pages show what the report says ------------------------------------------------------

PAGE_SLOS = """
  - name: self-scheduling-ratio
    initiative: self-scheduling
    sli: availability
    target: 0.99
    window: 7d
    budgeting: ratio_timeslices
    timeslice: {length: 5m}
  - name: self-scheduling-estimated
    initiative: self-scheduling
    sli: availability
    target: 0.75
    window: 1d
"""


def _page_config(tmp_path: Path) -> Path:
    """The demo config plus a ratio_timeslices SLO and one fed by estimated buckets."""
    ensure_demo()
    root = tmp_path / "root"
    shutil.copytree(ROOT / "config", root / "config")
    (root / "data").symlink_to(ROOT / "data")  # relative source paths resolve from the root
    (root / "buckets.csv").write_text(
        "slo,bucket_start,good,total,estimate\n"
        "self-scheduling-estimated,2026-11-16T11:00:00Z,3,4,true\n",
        encoding="utf-8",
    )
    with (root / "config" / "slos.yaml").open("a", encoding="utf-8") as out:
        out.write(PAGE_SLOS)
    with (root / "config" / "sources.yaml").open("a", encoding="utf-8") as out:
        out.write(
            "\n  - name: prom-export\n    type: file\n    tables: [sli_buckets]\n"
            f"    settings: {{path: {root / 'buckets.csv'}}}\n    freshness: 30d\n"
        )
    return root / "config"


def test_slo_page_shows_the_estimate_and_a_null_good(tmp_path: Path) -> None:
    cfg = _page_config(tmp_path)
    rep = engine.run(cfg).report.to_jsonable()
    est = slo_entry(rep, "self-scheduling-estimated", "self-scheduling")
    # the one provided bucket alone (requests never count for it): 3 of 4, an estimate
    assert (est["good"], est["total"], est["estimate"]) == (3, 4, True)
    ratio = slo_entry(rep, "self-scheduling-ratio", "self-scheduling")
    assert ratio["good"] is None and ratio["total"] > 0
    with config_env(cfg):
        at = open_page(new_app(slo="self-scheduling-estimated"), "slos")
        assert not at.exception
        assert lb.ESTIMATE_NOTE in texts(at.info)
        at = open_page(new_app(slo="self-scheduling-ratio"), "slos")
        assert not at.exception
        metrics = {m.label: m.value for m in at.metric}
        assert metrics["Good slices"] == fm.NA
        assert metrics["Total slices"] == f"{ratio['total']:,}"
        assert lb.ESTIMATE_NOTE not in texts(at.info)
        # the initiative page's SLO card carries the badge for the estimated SLO only
        at = open_page(new_app(initiative="self-scheduling"), "initiative")
        assert not at.exception
        badged = [c for c in texts(at.caption) if lb.ESTIMATE_BADGE in c]
        assert len(badged) == 1 and "window 1d" in badged[0]
