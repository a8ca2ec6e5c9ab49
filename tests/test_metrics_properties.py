"""Properties that hold for any input (SPEC.md, Time and Metrics), checked with hypothesis."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from metrics_helpers import (
    INIT,
    T,
    check,
    config,
    control,
    entry,
    frame,
    initiative,
    report,
    requests,
    slo,
    slo_entry,
)

from core.models import Kpi, Source

FAST = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
THREE_DAYS_S = 3 * 86_400

# (seconds before T, error): from 0 (exactly T, never counted) to a little past 3 days
request_rows = st.lists(
    st.tuples(st.integers(0, THREE_DAYS_S + 600), st.booleans()), min_size=0, max_size=40
)


def _requests(rows: list[tuple[int, bool]]) -> pl.DataFrame:
    return requests([{"timestamp": T - timedelta(seconds=s), "error": e} for s, e in rows])


SLOS = [
    slo("occ_1d", target=0.9, window="1d"),
    slo("occ_3d", target=0.99, window="3d"),
    slo("month", target=0.95, window="calendar_month"),
    slo(
        "slices",
        target=0.9,
        window="1d",
        budgeting="timeslices",
        timeslice={"length": "5m", "target": 0.8},
    ),
]


@FAST
@given(request_rows)
def test_sli_between_zero_and_one(rows: list[tuple[int, bool]]) -> None:
    rep = report({"requests": _requests(rows)}, config(slos=SLOS))
    for s in entry(rep)["slos"]:
        assert 0 <= s["good"] <= s["total"]
        if s["total"] == 0:
            assert s["sli"] is None and s["status"] == "no_data"
        else:
            assert 0.0 <= s["sli"] <= 1.0
            assert s["budget_remaining"] <= 1.0
        for burn in s["burn_rates"].values():
            assert burn is None or burn >= 0.0


@FAST
@given(request_rows)
def test_budget_remaining_is_one_minus_burn_over_the_whole_window(
    rows: list[tuple[int, bool]],
) -> None:
    rep = report({"requests": _requests(rows)}, config(slos=SLOS))
    for name, window in (("occ_3d", "3d"), ("occ_1d", "1d")):
        s = slo_entry(rep, name)
        burn = s["burn_rates"][window]
        if s["total"] == 0:
            assert burn is None and s["budget_remaining"] is None
        else:
            assert s["budget_remaining"] == pytest.approx(1.0 - burn, rel=1e-9, abs=1e-9)


@FAST
@given(request_rows, st.integers(0, THREE_DAYS_S + 600))
def test_adding_a_good_event_never_lowers_an_sli(rows: list[tuple[int, bool]], at: int) -> None:
    cfg = config(slos=SLOS)
    before = {
        s["name"]: s["sli"] for s in entry(report({"requests": _requests(rows)}, cfg))["slos"]
    }
    more = [*rows, (at, False)]
    after = {s["name"]: s["sli"] for s in entry(report({"requests": _requests(more)}, cfg))["slos"]}
    for name, old in before.items():
        if old is not None:
            assert after[name] is not None
            assert after[name] >= old, name


# --- permutation invariance across every table -------------------------------------------

minutes_back = st.integers(0, 100 * 24 * 60)  # up to 100 days before T (past the 90d window)


def _at(m: int) -> Any:
    return T - timedelta(minutes=m)


@st.composite
def tables(draw: st.DrawFn) -> dict[str, list[dict[str, Any]]]:
    inits = st.sampled_from([INIT, "beta"])
    reqs = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "timestamp": st.integers(0, THREE_DAYS_S + 600).map(
                        lambda s: T - timedelta(seconds=s)
                    ),
                    "initiative": inits,
                    "error": st.booleans(),
                    "duration_ms": st.sampled_from([5.0, 100.0, 250.0]),
                    "environment": st.sampled_from(["production", "production", "staging"]),
                    "source": st.sampled_from(["a", "b"]),
                }
            ),
            max_size=30,
        )
    )
    bks = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["avail", "lat"]),
                st.integers(0, 4400),
                st.integers(0, 5),
                st.integers(0, 5),
            ),
            max_size=8,
        )
    )
    n_dep = draw(st.integers(0, 10))
    deps = [
        {
            "deploy_id": f"d{k}",
            "initiative": draw(inits),
            "finished_at": _at(draw(minutes_back)),
            "status": draw(st.sampled_from(["success", "success", "failed", "rolled_back"])),
            "commit_at": draw(st.one_of(st.none(), minutes_back.map(_at))),
        }
        for k in range(n_dep)
    ]
    incs = []
    for k in range(draw(st.integers(0, 8))):
        opened = draw(minutes_back)
        incs.append(
            {
                "incident_id": f"i{k}",
                "initiative": draw(inits),
                "severity": draw(st.integers(1, 4)),
                "opened_at": _at(opened),
                "acknowledged_at": draw(st.one_of(st.none(), st.integers(-5, opened).map(_at))),
                "resolved_at": draw(st.one_of(st.none(), st.integers(-5, opened).map(_at))),
                "deploy_id": draw(st.one_of(st.none(), st.just("d0"))),
                "patient_impact": draw(st.booleans()),
            }
        )
    kpis = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "initiative": inits,
                    "kpi": st.sampled_from(["k1", "k2"]),
                    "period_end": st.integers(0, 3).map(lambda d: T - timedelta(days=d)),
                    "value": st.one_of(st.none(), st.sampled_from([0.2, 0.5, 0.9])),
                    "numerator": st.one_of(st.none(), st.integers(0, 40)),
                    "denominator": st.one_of(st.none(), st.integers(5, 60)),
                }
            ),
            max_size=8,
        )
    )
    evidence = draw(
        st.lists(
            st.fixed_dictionaries(
                {
                    "initiative": inits,
                    "control_id": st.sampled_from(["c1", "c2"]),
                    "status": st.sampled_from(["pass", "fail", "not_applicable"]),
                    "collected_at": st.integers(0, 3).map(lambda d: T - timedelta(days=d * 100)),
                    "expires_at": st.one_of(
                        st.none(), st.integers(-40, 40).map(lambda d: T + timedelta(days=d))
                    ),
                    "justification": st.one_of(st.none(), st.sampled_from(["", " ", "why"])),
                    "owner": st.sampled_from(["x", "y"]),
                }
            ),
            max_size=8,
        )
    )
    return {
        "requests": reqs,
        "sli_buckets": [
            {"slo": s, "bucket_start": T - timedelta(minutes=m), "good": min(g, t), "total": t}
            for s, m, g, t in bks
        ],
        "deployments": deps,
        "incidents": incs,
        "kpi_observations": kpis,
        "evidence": evidence,
    }


def _config() -> Any:
    kpis = [
        Kpi(name="k1", kind="clinical", direction="higher", target=0.5),
        Kpi(name="k2", kind="financial", direction="lower", target=0.5),
    ]
    return config(
        [initiative(kpis=kpis), initiative("beta", "pilot", kpis=kpis)],
        slos=[
            slo("avail", target=0.9, window="1d"),
            slo(
                "lat",
                sli="latency",
                threshold_ms=100,
                target=0.5,
                window="3d",
                budgeting="timeslices",
                timeslice={"length": "5m", "target": 0.5},
            ),
            slo("beta_avail", initiative="beta", target=0.75),
        ],
        controls=[control("c1"), control("c2", "limited_production")],
        gates={
            "production": [
                check("a", "slo_summary.breached", "==", 0, blocking=True),
                check("b", "delivery.change_failure_rate", "<=", 0.3, weight=2),
            ],
            "limited_production": [check("c", "compliance.gap_count", "==", 0, blocking=True)],
        },
        sources=[
            Source(name="a", type="file", tables=["requests"]),
            Source(name="b", type="file", tables=["requests"], freshness="1h"),
        ],
    )


def _frames(rows: dict[str, list[dict[str, Any]]]) -> dict[str, pl.DataFrame]:
    # a row's own "source" key overrides the builder's default source
    return {name: frame(name, table_rows) for name, table_rows in rows.items()}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(tables(), st.randoms(use_true_random=False))
def test_permuting_rows_never_changes_the_report(rows: dict, rnd: Any) -> None:
    cfg = _config()
    base = report(_frames(rows), cfg)
    shuffled = {}
    for name, table_rows in rows.items():
        copy = list(table_rows)
        rnd.shuffle(copy)
        shuffled[name] = copy
    assert report(_frames(shuffled), cfg) == base
