"""Readiness trends on the Portfolio, Initiative and Steering pages (ui/trends.py,
docs/dashboard.md "Readiness trends"): they render on the demo, show the history's numbers (the
numbers of a single report at each instant), and a viewer's trends hold only its initiatives."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from app_helpers import AUTH, ROOT, chart_data, config_env, ensure_demo, frame, new_app, open_page

from pilotwatch import engine
from pilotwatch.access import local_demo_identity
from pilotwatch.audit.decisions import record_decision
from pilotwatch.audit.store import AuditLog
from ui import formats as fm
from ui import labels as lb
from ui import loaders, trends

# the demo's as-of (settings.demo_as_of) is Monday 2026-11-16 12:00 UTC; the history's
# Mondays 00:00 UTC at or before it: the last one is 2026-11-16 00:00 (12 hours earlier), the
# newest a week or more before it 2026-11-09 00:00 (16 12:00 - 7 days = 09 12:00; 09 00:00 <= it)
DEMO_AS_OF = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
PREVIOUS = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
WEEK_EARLIER = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)
A, B = "sepsis-ews", "prior-auth"
WORD = {"go": "GO", "conditional": "CONDITIONAL", "no_go": "NO-GO"}  # how the trends write them


def _ok(at: Any) -> None:
    assert not at.exception, [e.value for e in at.exception]


@pytest.fixture(scope="module", autouse=True)
def _demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    ensure_demo()
    audit = tmp_path_factory.mktemp("trends-audit") / "audit.sqlite"  # no decisions in it
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(loaders.CONFIG_ENV, raising=False)
        mp.setenv("PILOTWATCH_AUDIT_URL", f"sqlite:///{audit}")
        # a pre-aggregate store of this module's own (docs/store.md): other test runs rebuild
        # the shared data/.store at the same time
        mp.setenv("PILOTWATCH_STORE_DIR", str(tmp_path_factory.mktemp("trends-store")))
        yield


# -- the comparison behind Steering's "since the last review", on a frame built by hand ----------

T1 = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
T2 = datetime(2026, 11, 9, 0, 0, tzinfo=UTC)
T3 = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)


def _frame() -> pl.DataFrame:
    rows = [
        # as_of, initiative, name, verdict, score, min budget, breached, sev12, gaps, blockers
        (T1, "a", "Alpha", "no_go", 40.0, -0.5, 2, 1, 3, 2),
        (T2, "a", "Alpha", "conditional", 62.5, 0.1, 1, 0, 1, 0),
        (T3, "a", "Alpha", "go", 87.5, 0.4, 0, 0, 0, 0),
        (T1, "b", "Beta", "go", None, None, 0, 0, 0, 0),
        (T3, "b", "Beta", "go", 90.0, 0.9, 0, 0, 0, 0),
    ]
    columns = [
        "as_of", "initiative", "name", "verdict", "score", "min_budget_remaining",
        "slos_breached", "open_sev12", "gap_count", "blockers",
    ]  # fmt: skip
    return pl.DataFrame(rows, schema=columns, orient="row").with_columns(
        pl.col("as_of").dt.replace_time_zone("UTC")
    )


def test_change_since_a_week_earlier() -> None:
    change = trends.change_since(_frame(), "a", T3, None)
    # T3 - 7 days = 11-09 12:00; the newest instant at or before it is T2 (11-09 00:00):
    # CONDITIONAL at 62.5, now GO at 87.5; 87.5 - 62.5 = +25.0
    assert (change.since, change.basis) == (T2, "a week earlier")
    assert (change.verdict_then, change.verdict_now) == ("conditional", "go")
    assert (change.score_then, change.score_now, change.delta) == (62.5, 87.5, 25.0)


def test_change_since_a_decision_and_an_undecided_score() -> None:
    change = trends.change_since(_frame(), "a", T3, T1)
    assert (change.basis, change.score_then, change.delta) == ("decision", 40.0, 47.5)  # 87.5-40
    beta = trends.change_since(_frame(), "b", T3, None)  # Beta has no row at T2: T1 it is
    assert (beta.since, beta.score_then, beta.delta) == (T1, None, None)
    rows = trends.change_rows([change, beta]).to_dicts()
    assert rows[0]["change"] == "+47.5" and rows[0]["verdict then"] == "⛔ NO-GO"
    assert rows[1]["change"] == "n/a" and rows[1]["score then"] == "n/a"


def test_change_since_says_which_instant_is_missing() -> None:
    # exactly a week counts: T2 - 7 days = 11-02 00:00 = T1
    assert trends.change_since(_frame(), "a", T2, None).since == T1
    with pytest.raises(LookupError, match="no instant a week or more before"):
        trends.change_since(_frame(), "a", T1, None)
    with pytest.raises(LookupError, match="no history row as of 2026-11-09"):
        trends.change_since(_frame(), "b", T3, T2)


def test_shown_rows_keep_the_asked_initiatives_oldest_first() -> None:
    rows = trends.shown_rows(_frame(), ["a"])
    assert rows.get_column("as of").to_list() == [
        "2026-11-02 00:00",
        "2026-11-09 00:00",
        "2026-11-16 12:00",
    ]
    assert rows.get_column("verdict word").to_list() == ["NO-GO", "CONDITIONAL", "GO"]


# -- the pages on the demo ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_run() -> engine.Run:
    return engine.run(ROOT / "config")


def test_portfolio_trends_render_every_initiative(demo_run: engine.Run) -> None:
    at = new_app()
    at.run()
    _ok(at)
    assert [e.label for e in at.expander if "Score and verdict" in e.label]  # closed: not run
    assert len(at.get("vega_lite_chart")) == 2  # the heatmap and the funnel only
    at.session_state["portfolio_trends"] = True
    at.run()
    _ok(at)
    specs = [chart_data(at, i) for i in range(len(at.get("vega_lite_chart")))]
    trend = next(d[0] for d in specs if d and "verdict word" in d[0].columns)
    names = {i.name for i in demo_run.report.initiatives}
    assert set(trend.get_column("name").to_list()) == names
    # 13 Mondays before the as-of plus the as-of itself, for each of the 8 initiatives
    assert trend.height == len(names) * trend.get_column("as_of").n_unique()
    assert trend.get_column("as_of").n_unique() >= 14


def test_initiative_trend_shows_the_history_and_a_single_report(demo_run: engine.Run) -> None:
    at = new_app(initiative=A, initiative_trends=True)
    open_page(at, "initiative")
    _ok(at)
    table = frame(at, "as of", "verdict", "score", "lowest budget", "open sev 1-2", "gaps")
    assert table["as of"].tolist()[-1] == "2026-11-16 12:00"
    # one point checked against a single report at that instant (the previous Monday)
    earlier = engine.compute(demo_run.config, demo_run.data, PREVIOUS)[1].initiative(A)
    assert earlier is not None
    row = table[table["as of"] == "2026-11-16 00:00"].to_dict("records")[0]
    assert row["verdict"] == WORD[earlier.readiness.verdict]
    assert row["score"] == pytest.approx(earlier.readiness.score)
    assert row["open sev 1-2"] == earlier.incidents.open_sev12
    assert row["gaps"] == earlier.compliance.gap_count
    budgets = [s.budget_remaining for s in earlier.slos if s.budget_remaining is not None]
    assert row["lowest budget"] == pytest.approx(min(budgets))
    # and the last row is the page's own report (the as-of)
    now = demo_run.report.initiative(A)
    assert now is not None
    assert table["score"].tolist()[-1] == pytest.approx(now.readiness.score)


def test_steering_since_the_last_review(demo_run: engine.Run) -> None:
    at = new_app(steering_trends=True)
    open_page(at, "steering")
    _ok(at)
    table = frame(at, "since", "verdict then", "verdict now", "change")
    rows = {r["initiative"]: r for r in table.to_dict("records")}
    assert set(rows) == {i.name for i in demo_run.report.initiatives}
    before = engine.compute(demo_run.config, demo_run.data, WEEK_EARLIER)[1]
    for item in demo_run.report.initiatives:
        then = before.initiative(item.id)
        assert then is not None
        shown = rows[item.name]
        assert shown["since"] == "2026-11-09 00:00 UTC (a week earlier)"
        if item.readiness.score is not None and then.readiness.score is not None:
            expected = item.readiness.score - then.readiness.score
            assert shown["change"] == f"{expected:+.1f}", item.id


# -- a viewer of one initiative ----------------------------------------------------------------


@pytest.fixture()
def viewer_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    # a store of its own: this config's sources are the same files under another root, and a
    # store rebuilt for them would replace the files the other loads of this module still scan
    monkeypatch.setenv("PILOTWATCH_STORE_DIR", str(tmp_path / "store"))
    viewer = {"role": "viewer", "emails": ["v@example.org"], "initiatives": [A]}
    rules = {"access": {"rules": [viewer]}}
    shutil.copytree(ROOT / "config", tmp_path / "config")
    (tmp_path / "config" / "access.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    (tmp_path / "data").symlink_to(ROOT / "data", target_is_directory=True)
    with config_env(tmp_path / "config"):
        yield tmp_path / "config"


def test_a_viewers_trends_hold_only_its_initiative(
    viewer_config: Path, demo_run: engine.Run
) -> None:
    other = demo_run.config.initiative(B)
    at = new_app(portfolio_trends=True, initiative_trends=True, steering_trends=True)
    at.secrets = dict(AUTH)
    at.user = {"is_logged_in": True, "sub": "v1", "email": "v@example.org"}
    at.run()
    _ok(at)
    trend = next(
        d[0]
        for d in (chart_data(at, i) for i in range(len(at.get("vega_lite_chart"))))
        if d and "verdict word" in d[0].columns
    )
    assert set(trend.get_column("initiative").to_list()) == {A}
    for page in ("initiative", "steering"):
        open_page(at, page)
        _ok(at)
        shown = str([str(e.proto) for e in at.get("vega_lite_chart")]) + str(
            [t.value.to_dict() for t in at.table] + [d.value.to_dict() for d in at.dataframe]
        )
        assert other.name not in shown and B not in shown, page
    assert os.environ.get("PILOTWATCH_CONFIG") == str(viewer_config)


def test_steering_since_a_decision_uses_its_as_of(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_run: engine.Run
) -> None:
    # a Tuesday afternoon: no Monday of the history, so the instant is there for the decision
    decided_at = datetime(2026, 11, 3, 15, 30, tzinfo=UTC)
    monkeypatch.setenv("PILOTWATCH_AUDIT_URL", f"sqlite:///{tmp_path / 'audit.sqlite'}")
    then = engine.compute(demo_run.config, demo_run.data, decided_at)[1]
    record_decision(
        AuditLog.for_config(demo_run.config),
        local_demo_identity(),
        then,
        A,
        "hold",
        "wait for the next review",
        config_hash="c",
        data_fingerprint="d",
    )
    at = new_app(steering_trends=True)
    open_page(at, "steering")
    _ok(at)
    rows = {r["initiative"]: r for r in frame(at, "since", "change").to_dict("records")}
    a, b = demo_run.config.initiative(A), demo_run.config.initiative(B)
    assert rows[a.name]["since"] == "2026-11-03 15:30 UTC (decision)"
    assert rows[b.name]["since"] == "2026-11-09 00:00 UTC (a week earlier)"
    before, now = then.initiative(A), demo_run.report.initiative(A)
    assert before is not None and now is not None
    assert rows[a.name]["verdict then"] == lb.VERDICT_LABEL[before.readiness.verdict]
    assert rows[a.name]["score then"] == fm.num(before.readiness.score, 1)
    assert rows[a.name]["score now"] == fm.num(now.readiness.score, 1)
