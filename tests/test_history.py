"""Readiness history (pilotwatch/history.py, docs/metrics.md "History"): instants and equality.

Hand-made portfolio (all instants UTC):
- alpha, source `web`: 10 availability requests every day at 12:00 from 2026-10-20 to
  2026-11-17; on 2026-11-10, 11-11 and 11-12 five of the ten are errors; one more error request
  at exactly 2026-11-16 00:00 (it must not count for the instant 2026-11-16 00:00, [T - W, T)).
- beta, source `batch` (freshness 1d): 4 requests every day at 12:00 from 2026-10-20 to
  2026-11-05, then nothing.
- beta, source `lab` (freshness 1d): 2 requests at 12:00 on 2026-09-01 (before every range a
  history reads), 10-20..10-22 and 11-12..11-17, and one at 11-02 00:00:30: stale in between,
  with rows after those T.
- alpha's bucket-fed SLO `alpha-feed`, source `feed`: one provided sli_bucket a day at
  10:30:20 (floored to 10:30), good 9 of 10, every day 2026-10-20..11-17 (estimate on 11-15),
  and a row for an SLO nobody configured.
- source `ops`: alpha's sev 2 incident opened 2026-11-03 08:00, resolved 2026-11-10 08:00.
SLOs: one availability SLO per initiative, 7d window, target 0.9. Gate `production` (both
initiatives are in limited_production): min budget remaining >= 0 and no open sev 1-2, blocking.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from metrics_helpers import check, config, frame, initiative, req_block, requests, slo

from core.models import Config, Source
from pilotwatch.access import Identity, compute_visible
from pilotwatch.cli import main
from pilotwatch.engine import compute
from pilotwatch.history import (
    TREND_SCHEMA,
    compute_history,
    compute_visible_history,
    default_instants,
    history_frame,
    history_portfolios,
    trend_rows,
)
from pilotwatch.report import dumps
from pilotwatch.sources import LoadedData


def at(day: str, hour: int = 0, minute: int = 0) -> datetime:
    """An instant on `2026-MM-DD` (UTC)."""
    return datetime.fromisoformat(f"2026-{day}").replace(hour=hour, minute=minute, tzinfo=UTC)


def _days(first: str, last: str) -> list[datetime]:
    start, end = at(first), at(last)
    return [start + timedelta(days=k) for k in range((end - start).days + 1)]


def _config() -> Config:
    gates = {
        "production": [
            check("budget", "slo_summary.min_budget_remaining", ">=", 0, blocking=True),
            check("no-sev12", "incidents.open_sev12", "==", 0, blocking=True),
        ]
    }
    sources = [
        Source(name="web", type="file", tables=["requests"], initiatives=["alpha"]),
        Source(name="batch", type="file", tables=["requests"], freshness="1d"),
        Source(name="lab", type="file", tables=["requests"], freshness="1d", initiatives=["beta"]),
        Source(name="feed", type="file", tables=["sli_buckets"]),
        Source(name="ops", type="file", tables=["incidents"], initiatives=["alpha"]),
    ]
    slos = [
        slo("alpha-avail", initiative="alpha", target=0.9, window="7d"),
        slo("beta-avail", initiative="beta", target=0.9, window="7d"),
        slo("alpha-feed", initiative="alpha", target=0.8, window="7d"),
    ]
    return config([initiative("alpha"), initiative("beta")], slos, gates=gates, sources=sources)


def _data() -> LoadedData:
    rows: list[dict[str, Any]] = []
    for day in _days("10-20", "11-17"):
        bad = 5 if at("11-10") <= day <= at("11-12") else 0
        rows += req_block(day + timedelta(hours=12), 10, bad, "web", initiative="alpha")
    rows += req_block(at("11-16"), 1, 1, "web", initiative="alpha")
    for day in _days("10-20", "11-05"):
        rows += req_block(day + timedelta(hours=12), 4, 0, "batch", initiative="beta")
    lab = [at("09-01"), *_days("10-20", "10-22"), *_days("11-12", "11-17")]
    for day in lab:
        rows += req_block(day + timedelta(hours=12), 2, 0, "lab", initiative="beta")
    # inside the minute of the instant 11-02 00:00, so after it: it must not count for it
    rows += req_block(at("11-02") + timedelta(seconds=30), 1, 0, "lab", initiative="beta")
    incidents = frame(
        "incidents",
        [
            {
                "incident_id": "I-1",
                "initiative": "alpha",
                "severity": 2,
                "opened_at": at("11-03", 8),
                "resolved_at": at("11-10", 8),
            }
        ],
        "ops",
    )
    feed_rows = [
        {"slo": "alpha-feed", "bucket_start": day + timedelta(hours=10, minutes=30, seconds=20),
         "good": 9, "total": 10, "estimate": day == at("11-15")}
        for day in _days("10-20", "11-17")
    ]  # fmt: skip
    feed_rows.append({"slo": "nobody", "bucket_start": at("11-01"), "good": 1, "total": 1})
    feed = frame("sli_buckets", feed_rows, "feed")
    reqs = requests(rows)
    # the loader's newest over all time, as pilotwatch/measure.py measures it
    newest = pl.concat(
        [
            reqs.group_by("source", "initiative").agg(pl.col("timestamp").max().alias("newest")),
            incidents.group_by("source", "initiative").agg(
                pl.col("opened_at").max().alias("newest")
            ),
        ]
    )
    return LoadedData(
        tables={"requests": reqs.lazy(), "incidents": incidents.lazy(), "sli_buckets": feed.lazy()},
        health=[],
        newest=newest,
    )


AS_OF = at("11-18", 12)  # a Wednesday
DECIDED = at("11-04", 9, 30)
BEFORE_DATA = at("10-01")


def test_default_instants_by_hand() -> None:
    # Wednesday 2026-11-18 12:00: the Monday of its week is 11-16; 13 Mondays back by 7 days:
    # 11-16, 11-09, 11-02, 10-26, 10-19, 10-12, 10-05, 09-28, 09-21, 09-14, 09-07, 08-31, 08-24
    mondays = [
        at(d)
        for d in (
            "08-24", "08-31", "09-07", "09-14", "09-21", "09-28", "10-05",
            "10-12", "10-19", "10-26", "11-02", "11-09", "11-16",
        )
    ]  # fmt: skip
    assert default_instants(AS_OF) == [*mondays, AS_OF]
    # seconds are truncated; a decision after as-of is left out, a repeated one kept once
    decided = [DECIDED.replace(second=41), DECIDED, at("11-20")]
    got = default_instants(AS_OF.replace(second=7), 2, decided)
    assert got == [DECIDED, at("11-09"), at("11-16"), AS_OF]
    # as-of on a Monday midnight: that Monday is the last instant, listed once
    assert default_instants(at("11-16"), 2) == [at("11-09"), at("11-16")]


def _instants() -> list[datetime]:
    return [BEFORE_DATA, *default_instants(AS_OF, 4, [DECIDED])]


def test_every_history_report_is_the_single_report_at_its_instant() -> None:
    cfg, data = _config(), _data()
    instants = _instants()
    # 10-26, 11-02, 11-04 09:30 (decision), 11-09, 11-16, 11-18 12:00, plus 10-01 (no data yet)
    assert instants == [
        BEFORE_DATA, at("10-26"), at("11-02"), DECIDED, at("11-09"), at("11-16"), AS_OF,
    ]  # fmt: skip
    history = compute_history(cfg, data, instants)
    assert [r.as_of for r in history] == instants
    portfolios = history_portfolios(cfg, data, instants)
    for instant, report, portfolio in zip(instants, history, portfolios, strict=True):
        single_portfolio, single_report = compute(cfg, data, instant)
        assert dumps(report) == dumps(single_report), instant
        # the frames pages chart from, too: the same minute buckets, in the same order
        assert portfolio.buckets.equals(single_portfolio.buckets), instant
        assert portfolio.freshness.equals(single_portfolio.freshness), instant


def _by(reports: Any) -> dict[tuple[datetime, str], dict[str, Any]]:
    return {(r["as_of"], r["initiative"]): r for r in history_frame(reports).iter_rows(named=True)}


def test_history_numbers_by_hand() -> None:
    history = compute_history(_config(), _data(), _instants())
    alpha = {r.as_of: r.initiative("alpha") for r in history}
    slo_at = {t: item.slos[0] for t, item in alpha.items() if item is not None}
    # 10-01: no request yet
    assert slo_at[BEFORE_DATA].total == 0
    # 11-02 00:00, window [10-26, 11-02): 7 days x 10 = 70 requests, no error
    assert (slo_at[at("11-02")].good, slo_at[at("11-02")].total) == (70, 70)
    # 11-16 00:00, window [11-09, 11-16): 7 x 10 = 70, errors 3 days x 5 = 15 -> good 55; the
    # error at exactly 11-16 00:00 is outside [T - W, T)
    assert (slo_at[at("11-16")].good, slo_at[at("11-16")].total) == (55, 70)
    # 11-18 12:00, window [11-11 12:00, 11-18 12:00): days 11-11..11-17 = 70 plus the 00:00
    # request = 71; errors 11-11, 11-12 (2 x 5) + 1 = 11 -> good 60
    assert (slo_at[AS_OF].good, slo_at[AS_OF].total) == (60, 71)
    # alpha-feed at 11-16 00:00: days 11-09..11-15 in the window, 7 x (9 of 10); 11-15's row is
    # an estimate; at 11-02: 10-26..11-01, no estimate
    feed = {
        t: next(s for s in item.slos if s.name == "alpha-feed") for t, item in alpha.items() if item
    }
    assert (feed[at("11-16")].good, feed[at("11-16")].total, feed[at("11-16")].estimate) == (
        63,
        70,
        True,
    )
    assert (feed[at("11-02")].good, feed[at("11-02")].total, feed[at("11-02")].estimate) == (
        63,
        70,
        False,
    )
    trend = _by(history)
    # the sev 2 incident is open from 11-03 08:00 to 11-10 08:00
    assert [trend[(t, "alpha")]["open_sev12"] for t in (at("11-02"), DECIDED, at("11-09"))] == [
        0,
        1,
        1,
    ]
    assert trend[(DECIDED, "alpha")]["verdict"] == "no_go"
    assert trend[(DECIDED, "alpha")]["blockers"] == 1  # no-sev12 fails, budget passes
    # 11-16: 15 bad of 70 against an allowance of 10% x 70 = 7 -> budget below 0: breached
    assert trend[(at("11-16"), "alpha")]["slos_breached"] == 1
    assert trend[(at("11-02"), "alpha")]["verdict"] == "go"
    assert trend[(at("11-02"), "alpha")]["score"] == 100.0
    # beta's source stops on 11-05 12:00; with 1d freshness it is stale at 11-09 (84 h old)
    beta_sources = {s.source: s for s in next(r for r in history if r.as_of == at("11-09")).sources}
    assert beta_sources["batch"].stale and beta_sources["batch"].newest == at("11-05", 12)
    # lab is stale at 10-01 and 11-02; its newest row before T lies outside every SLO window
    lab = {r.as_of: next(s for s in r.sources if s.source == "lab") for r in history}
    assert (lab[BEFORE_DATA].newest, lab[BEFORE_DATA].stale) == (at("09-01", 12), True)
    assert (lab[at("11-02")].newest, lab[at("11-02")].stale) == (at("10-22", 12), True)
    assert lab[at("11-16")].stale is False  # its 11-15 12:00 row is 12 h old
    assert history_frame(history).schema == pl.Schema(TREND_SCHEMA)
    assert history_frame(history).height == 2 * len(_instants())


def _viewer() -> Identity:
    return Identity("v", "v@example.org", None, (), "viewer", frozenset({"alpha"}), True)


def test_a_viewers_history_omits_other_initiatives() -> None:
    cfg, data = _config(), _data()
    history = compute_visible_history(cfg, data, _instants(), _viewer())
    for instant, report in zip(_instants(), history, strict=True):
        assert dumps(report) == dumps(compute_visible(cfg, data, instant, _viewer())[1])
        assert [i.id for i in report.initiatives] == ["alpha"]
        assert "beta" not in dumps(report)
        # batch and feed list no initiative: once batch delivered beta's rows it serves beta
        # only and is not shown to alpha's viewer (feed delivers alpha's buckets); before they
        # delivered anything they count against everyone
        shown = ["feed", "ops", "web"]
        if instant == BEFORE_DATA:
            shown = ["batch", *shown]
        assert [s.source for s in report.sources] == shown
    assert set(history_frame(history)["initiative"]) == {"alpha"}


def test_trend_rows_are_the_frame_with_z_instants() -> None:
    history = compute_history(_config(), _data(), [at("11-09")])
    rows = trend_rows(history)
    assert [r["as_of"] for r in rows] == ["2026-11-09T00:00:00Z", "2026-11-09T00:00:00Z"]
    assert [r["initiative"] for r in rows] == ["alpha", "beta"]


INITIATIVES = """initiatives:
  - {id: alpha, name: Alpha, stage: pilot, owner: o, sponsor: s, clinical_area: c,
     started_on: 2026-06-01}
  - {id: beta, name: Beta, stage: pilot, owner: o, sponsor: s, clinical_area: c,
     started_on: 2026-06-01}
"""


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    conf = tmp_path / "config"
    conf.mkdir()
    (conf / "initiatives.yaml").write_text(INITIATIVES)
    (conf / "slos.yaml").write_text(
        "slos:\n  - {name: alpha-avail, initiative: alpha, sli: availability, target: 0.99}\n"
    )
    (conf / "gates.yaml").write_text(
        "gates:\n  limited_production:\n"
        "    - {id: no-open-sev12, metric: incidents.open_sev12, op: '==', value: 0,"
        " blocking: true, remediation: Resolve open sev 1-2 incidents}\n"
    )
    (conf / "sources.yaml").write_text(
        "sources:\n  - name: incidents\n    type: file\n    tables: [incidents]\n"
        "    settings: {path: data/incidents.csv}\n    freshness: 30d\n"
    )
    data = tmp_path / "data"
    data.mkdir()
    (data / "incidents.csv").write_text(
        "incident_id,initiative,severity,opened_at,acknowledged_at,resolved_at,deploy_id,"
        "patient_impact,title\n"
        "I-1,beta,2,2026-11-03T08:00:00Z,,2026-11-12T08:00:00Z,,false,Queue stalled\n"
    )
    return tmp_path


def test_cli_history_writes_the_file_and_its_trend(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from pilotwatch.audit.store import AuditLog
    from pilotwatch.config import load_config
    from pilotwatch.engine import snapshot_dir
    from pilotwatch.sources import load_sources

    out = tmp_path / "history.json"
    conf = str(project / "config")
    args = ["history", "--as-of", "2026-11-18T12:00:30Z", "--weeks", "2", "--config", conf]
    assert main([*args, "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    # Mondays 11-09 and 11-16, then the as-of itself (seconds truncated)
    instants = ["2026-11-09T00:00:00Z", "2026-11-16T00:00:00Z", "2026-11-18T12:00:00Z"]
    assert (doc["schema"], doc["as_of"], doc["instants"]) == (1, instants[-1], instants)
    assert [r["as_of"] for r in doc["reports"]] == instants
    # beta's sev 2 is open from 11-03 08:00 to 11-12 08:00: open at 11-09, not after
    beta = [r for r in doc["trend"] if r["initiative"] == "beta"]
    assert [(r["open_sev12"], r["verdict"]) for r in beta] == [
        (1, "no_go"),
        (0, "go"),
        (0, "go"),
    ]
    config = load_config(conf)
    data = load_sources(config, snapshot_dir(config))
    from pilotwatch.access import service_identity

    reports = compute_visible_history(
        config, data, [datetime.fromisoformat(t) for t in instants], service_identity(config)
    )
    assert doc["trend"] == trend_rows(reports)
    assert doc["reports"] == [json.loads(dumps(r)) for r in reports]
    exports = [e.body for e in AuditLog.for_config(config).iter_entries("export")]
    assert exports[-1]["what"] == "history" and exports[-1]["path"] == "history.json"
    assert exports[-1]["instants"] == instants

    # without --json: one line per instant, verdict and score per initiative
    capsys.readouterr()
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "2026-11-09T00:00:00Z  alpha go 100.0; beta no_go 0.0"
    assert len(lines) == 3


def test_cli_history_errors_exit_3(project: Path, tmp_path: Path) -> None:
    conf = str(project / "config")
    assert main(["history", "--weeks", "0", "--config", conf]) == 3
    assert main(["history", "--config", str(tmp_path / "missing")]) == 3
    unwritable = str(tmp_path / "no-such-dir" / "h.json")
    assert (
        main(["history", "--as-of", "2026-11-18T12:00:00Z", "--config", conf, "--json", unwritable])
        == 3
    )


def test_demo_history_equals_single_reports_at_every_instant() -> None:
    from app_helpers import ensure_demo

    from pilotwatch.engine import run

    ensure_demo()
    result = run(Path(__file__).resolve().parent.parent / "config")
    # the demo's as-of is Monday 2026-11-16 12:00: Mondays 08-24 .. 11-16, the as-of, and a
    # mid-week instant as a decision would add
    instants = default_instants(result.report.as_of, 13, [at("11-11", 15, 45)])
    assert len(instants) == 15
    history = compute_history(result.config, result.data, instants)
    for instant, report in zip(instants, history, strict=True):
        assert dumps(report) == dumps(compute(result.config, result.data, instant)[1]), instant
