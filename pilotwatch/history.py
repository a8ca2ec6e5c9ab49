"""Readiness history: the report at a series of as-of instants, from one pre-aggregate.

docs/metrics.md, "History": each instant's report is exactly the single report
`engine.compute(config, data, T)` gives. The requests are pre-aggregated once over the widest
range any instant needs (from the store's minute buckets when there is one) and every SLO's
buckets are combined once over it; every instant then cuts its own `[start, T)` from them, so
the requests are read once for the whole history, not once per instant.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta

import polars as pl

from core.canonical import SOURCE_COLUMN, empty
from core.models import Config
from core.report import iso
from metrics import buckets as bk
from metrics.freshness import OBSERVED_SCHEMA, newest_by_source
from metrics.portfolio import Portfolio, compute_portfolio
from metrics.slo import earliest_start
from metrics.timewin import as_of_instant, lit_ts
from pilotwatch.access import Identity, restrict, restrict_portfolio
from pilotwatch.engine import stored_pre
from pilotwatch.report import Report, build_report
from pilotwatch.sources import LoadedData

WEEK = timedelta(weeks=1)
TREND_SCHEMA: dict[str, pl.DataType] = {
    "as_of": pl.Datetime("us", "UTC"),
    "initiative": pl.String(),
    "name": pl.String(),
    "verdict": pl.String(),
    "score": pl.Float64(),
    "min_budget_remaining": pl.Float64(),
    "slos_breached": pl.Int64(),
    "open_sev12": pl.Int64(),
    "gap_count": pl.Int64(),
    "blockers": pl.Int64(),
}


# the steering pack's readiness trend (pilotwatch/pack): the Mondays of the last 8 weeks and
# every decision's as-of; the app's trends show 13 (ui/trends.py), which put the whole
# `pilotwatch report --pdf` at about 10 s on the demo (docs/performance.md)
PACK_TREND_WEEKS = 8


def mondays(as_of: datetime, weeks: int = 13) -> list[datetime]:
    """The last `weeks` Mondays 00:00 UTC at or before `as_of`, oldest first."""
    t = as_of_instant(as_of)
    midnight = t.replace(hour=0, minute=0)
    last = midnight - timedelta(days=midnight.weekday())  # weekday(): Monday is 0
    return [last - WEEK * k for k in range(weeks - 1, -1, -1)]


def default_instants(
    as_of: datetime, weeks: int = 13, decisions: Iterable[datetime] = ()
) -> list[datetime]:
    """The history's instants: the last `weeks` Mondays, decisions' as-ofs, and `as_of` itself.

    A Monday equal to `as_of` counts; `as_of` is always the last instant (the report on screen),
    a decision after `as_of` is left out. Whole UTC minutes, sorted, each once.
    """
    t = as_of_instant(as_of)
    points = set(mondays(t, weeks))
    points.update(d for d in (as_of_instant(d) for d in decisions) if d <= t)
    points.add(t)
    return sorted(points)


def _whole_minute(value: datetime) -> bool:
    return value.second == 0 and value.microsecond == 0


def _requests(data: LoadedData) -> pl.LazyFrame | None:
    frame = data.tables.get("requests")
    if frame is None:
        return None
    lazy = frame.lazy()
    if SOURCE_COLUMN not in lazy.collect_schema().names():
        lazy = lazy.with_columns(pl.lit("", dtype=pl.String()).alias(SOURCE_COLUMN))
    return lazy


def _newest_by_instant(
    slim: pl.DataFrame, before: pl.DataFrame, instants: Sequence[datetime], low: datetime
) -> dict[datetime, pl.DataFrame]:
    """(source, initiative, newest request before T) per instant, each minute slice read once.

    The newest before T is the newest of the rows before the shared range (`before`) and of the
    pre-aggregate's minutes in [low, T); sorted instants add only the minutes since the last.
    """
    out: dict[datetime, pl.DataFrame] = {}
    running, since = before.cast(OBSERVED_SCHEMA), low  # type: ignore[arg-type]
    for t in sorted(instants):
        step = slim.filter(
            (pl.col("bucket_start") >= lit_ts(since)) & (pl.col("bucket_start") < lit_ts(t))
        ).select("source", "initiative", "newest")
        running = (
            pl.concat([running, step.cast(OBSERVED_SCHEMA)])  # type: ignore[arg-type]
            .group_by("source", "initiative")
            .agg(pl.col("newest").max())
            .cast(OBSERVED_SCHEMA)  # type: ignore[arg-type]
        )
        out[t], since = running, t
    return out


def iter_portfolios(
    config: Config,
    data: LoadedData,
    instants: Sequence[datetime],
    finish: Callable[[Portfolio], Portfolio] = lambda p: p,
) -> Iterator[Portfolio]:
    """Every instant's Portfolio (sorted, whole minutes), one at a time, the requests read once.

    The pre-aggregate comes from the store when the sources were loaded with one, else from one
    scan of the requests. Freshness needs each source's newest request before T: it is the
    pre-aggregate's newest before T, else the newest before the shared range (one pass over the
    rows older than the range, which Parquet statistics skip when there are none), handed to
    `compute_portfolio` as `newest` with the request table emptied, so no instant reads the raw
    requests again. An instant whose windows start off a whole minute (a `90s` window) cannot
    be cut from minute buckets: it is computed from the raw requests, as a single report is.
    """
    points = sorted({as_of_instant(t) for t in instants})
    requests = _requests(data)
    starts = {t: earliest_start(config.slos, t) for t in points}
    shared = [t for t in points if _whole_minute(starts[t])]
    if requests is None or not shared:
        for t in points:
            yield finish(compute_portfolio(data.tables, config, t, data.newest))
        return
    low, high = min(starts[t] for t in shared), max(shared)
    # the store's minute buckets when the sources were loaded with one (docs/store.md)
    pre = stored_pre(config, data, low, high) or bk.pre_aggregate(requests, config.slos, low, high)
    before = newest_by_source(requests, "timestamp", low).collect(engine="streaming")
    # every SLO's minute buckets over the whole range, once, as `compute_portfolio` combines
    # them; each instant only cuts its [start, T) from them
    provided = data.tables["sli_buckets"].collect() if "sli_buckets" in data.tables else None
    buckets = _combined(pre, provided, config, low, high)
    # with the buckets made, freshness reads only (source, initiative, minute, newest)
    slim = bk.PreBuckets(
        frame=pre.frame.select("source", "initiative", "bucket_start", "newest"),
        thresholds=pre.thresholds,
    )
    del pre  # the widest frame of the history: free it before the instants run
    newest = _newest_by_instant(slim.frame, before, shared, low)
    no_requests = {**data.tables, "requests": empty("requests").lazy().pipe(_with_source)}
    for t in points:
        if t in shared:
            portfolio = compute_portfolio(no_requests, config, t, newest[t], slim, buckets)
        else:
            portfolio = compute_portfolio(data.tables, config, t, data.newest)
        yield finish(portfolio)


def history_portfolios(
    config: Config, data: LoadedData, instants: Sequence[datetime]
) -> list[Portfolio]:
    """`iter_portfolios` as a list (every instant's frames kept: for tests and small histories)."""
    return list(iter_portfolios(config, data, instants))


def _combined(
    pre: bk.PreBuckets,
    provided: pl.DataFrame | None,
    config: Config,
    start: datetime,
    end: datetime,
) -> pl.DataFrame:
    """`buckets.combine` over the shared range, as `compute_portfolio` does for one instant."""
    if provided is None:
        provided = empty("sli_buckets")
    fed = bk.bucket_fed(config.slos, provided)
    counted = [s for s in config.slos if s.name not in fed]
    # each SLO filters only its (initiative, environment)'s rows, not the whole range's; one
    # such slice alive at a time
    parts = []
    for initiative, environment in sorted({(s.initiative, s.environment) for s in counted}):
        mine = [s for s in counted if (s.initiative, s.environment) == (initiative, environment)]
        rows = pre.frame.filter(
            (pl.col("initiative") == initiative) & (pl.col("environment") == environment)
        )
        parts.append(bk.slo_buckets(bk.PreBuckets(rows, pre.thresholds), mine))
    computed = pl.concat(parts) if parts else bk.slo_buckets(pre, [])
    return bk.combine(computed, provided, config.slos, start, end)


def _with_source(frame: pl.LazyFrame) -> pl.LazyFrame:
    if SOURCE_COLUMN in frame.collect_schema().names():
        return frame
    return frame.with_columns(pl.lit("", dtype=pl.String()).alias(SOURCE_COLUMN))


def compute_history(config: Config, data: LoadedData, instants: Sequence[datetime]) -> list[Report]:
    """The report at each instant (sorted, whole minutes): exactly `engine.compute`'s report."""
    # one portfolio alive at a time: its frames (minute buckets) go once its report is built
    return [build_report(p) for p in iter_portfolios(config, data, instants)]


def compute_visible_history(
    config: Config, data: LoadedData, instants: Sequence[datetime], identity: Identity
) -> list[Report]:
    """`compute_history` for one identity: each report is `access.compute_visible`'s."""
    restricted = restrict(config, identity)
    portfolios = iter_portfolios(
        restricted, data, instants, lambda p: restrict_portfolio(p, identity)
    )
    return [build_report(p) for p in portfolios]


def history_frame(reports: Iterable[Report]) -> pl.DataFrame:
    """One row per (as_of, initiative): verdict, score and the numbers a trend charts."""
    rows = [
        {
            "as_of": report.as_of,
            "initiative": item.id,
            "name": item.name,
            "verdict": str(item.readiness.verdict),
            "score": item.readiness.score,
            "min_budget_remaining": item.slo_summary.min_budget_remaining,
            "slos_breached": item.slo_summary.breached,
            "open_sev12": item.incidents.open_sev12,
            "gap_count": item.compliance.gap_count,
            "blockers": len(item.readiness.blockers),
        }
        for report in reports
        for item in report.initiatives
    ]
    return pl.DataFrame(rows, schema=TREND_SCHEMA)


def trend_rows(reports: Iterable[Report]) -> list[dict[str, object]]:
    """`history_frame` as JSON rows: instants as `...Z` text."""
    frame = history_frame(reports)
    return [{**row, "as_of": iso(row["as_of"])} for row in frame.iter_rows(named=True)]
