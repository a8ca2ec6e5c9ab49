"""The whole-portfolio pipeline: canonical tables + config + T in, every metric frame out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl
from opentelemetry import trace

from core.canonical import SOURCE_COLUMN, TIME_COLUMN, empty
from core.models import Config
from metrics import buckets as bk
from metrics.compliance import compliance_summary, control_status
from metrics.delivery import delivery_table, link_incidents
from metrics.freshness import (
    OBSERVED_SCHEMA,
    SOURCE_SCHEMA,
    newest_by_source,
    source_freshness,
    stale_by_initiative,
)
from metrics.incidents import incident_table
from metrics.outcomes import outcome_summary, outcome_table
from metrics.readiness import evaluate_checks, gate_checks, metric_values, verdicts
from metrics.slo import earliest_start, slo_summary, slo_table
from metrics.timewin import as_of_instant, lit_ts

tracer = trace.get_tracer("pilotwatch.metrics")


@dataclass(frozen=True)
class Portfolio:
    """Every computed frame for one as-of instant; pages and the report read only these."""

    as_of: datetime
    initiatives: pl.DataFrame
    buckets: pl.DataFrame
    slos: pl.DataFrame
    slo_summary: pl.DataFrame
    delivery: pl.DataFrame
    deployments: pl.DataFrame
    linked_incidents: pl.DataFrame
    incidents: pl.DataFrame
    outcomes: pl.DataFrame
    outcomes_summary: pl.DataFrame
    controls: pl.DataFrame
    compliance: pl.DataFrame
    freshness: pl.DataFrame
    data: pl.DataFrame
    checks: pl.DataFrame
    readiness: pl.DataFrame


def initiatives_frame(config: Config) -> pl.DataFrame:
    """One row per configured initiative with its gate."""
    return pl.DataFrame(
        [
            {
                "initiative": i.id,
                "name": i.name,
                "stage": i.stage,
                "gate": i.gate,
                "owner": i.owner,
                "sponsor": i.sponsor,
                "clinical_area": i.clinical_area,
            }
            for i in config.initiatives
        ],
        schema={
            k: pl.String()
            for k in ("initiative", "name", "stage", "gate", "owner", "sponsor", "clinical_area")
        },
    )


def sources_frame(config: Config) -> pl.DataFrame:
    """Per enabled source: its freshness budget in seconds and the initiatives it lists."""
    default = config.settings.default_freshness.seconds_total
    return pl.DataFrame(
        [
            {
                "source": s.name,
                "freshness_seconds": s.freshness.seconds_total if s.freshness else default,
                "initiatives": list(s.initiatives),
            }
            for s in config.sources
            if s.enabled
        ],
        schema=SOURCE_SCHEMA,
    )


def _table(tables: Mapping[str, pl.LazyFrame | pl.DataFrame], name: str) -> pl.LazyFrame:
    frame = tables.get(name)
    lazy = empty(name).lazy() if frame is None else frame.lazy()
    if SOURCE_COLUMN not in lazy.collect_schema().names():
        lazy = lazy.with_columns(pl.lit("", dtype=pl.String()).alias(SOURCE_COLUMN))
    return lazy


def compute_portfolio(
    tables: Mapping[str, pl.LazyFrame | pl.DataFrame],
    config: Config,
    as_of: datetime,
    newest: pl.DataFrame | None = None,
    pre: bk.PreBuckets | None = None,
    buckets: pl.DataFrame | None = None,
) -> Portfolio:
    """Compute every metric family for every initiative, as of `as_of` (truncated to the minute).

    `newest` (source, initiative, newest), when the loader measured it, is the newest good row
    per source and initiative over all time; it spares freshness a second scan of the requests.
    `pre`, when given, is a request pre-aggregate over a range that covers this instant's SLO
    windows (a history's, shared by many instants; docs/metrics.md, "History"): only its minutes
    in `[start, T)` count and the requests are not scanned for the SLOs. The windows' start must
    then be a whole minute, as every window in whole minutes is. `buckets`, with `pre`, is
    `buckets.combine` over that wider range (sorted); its minutes in `[start, T)` are this
    instant's SLO buckets, exactly the rows `combine` would give for `[start, T)`.
    """
    as_of = as_of_instant(as_of)
    settings = config.settings
    ids = [i.id for i in config.initiatives]
    window: timedelta = settings.delivery_window
    link_window: timedelta = settings.link_window

    with tracer.start_as_current_span("pilotwatch.metrics.slo") as span:
        start = earliest_start(config.slos, as_of)
        # the same groups a scan of [start, T) gives: every minute key lies inside or outside
        inside = (pl.col("bucket_start") >= lit_ts(start)) & (
            pl.col("bucket_start") < lit_ts(as_of)
        )
        if pre is None:
            pre = bk.pre_aggregate(_table(tables, "requests"), config.slos, start, as_of)
            buckets = None  # only buckets over a shared pre-aggregate's range are cut
        else:
            pre = bk.PreBuckets(frame=pre.frame.filter(inside), thresholds=pre.thresholds)
        if buckets is None:
            provided = _table(tables, "sli_buckets").collect()
            # a bucket-fed SLO (indicator, or rows in the provided table) counts those rows alone
            fed = bk.bucket_fed(config.slos, provided)
            computed = bk.slo_buckets(pre, [s for s in config.slos if s.name not in fed])
            buckets = bk.combine(computed, provided, config.slos, start, as_of)
        else:
            # per-minute sums commute with the cut, and a filter keeps combine's order
            buckets = buckets.filter(inside)
        slos = slo_table(buckets, config.slos, as_of, settings.low_traffic_budget_share)
        slo_sum = slo_summary(slos, ids)
        span.set_attribute("pilotwatch.slos", len(config.slos))
        span.set_attribute("pilotwatch.buckets", buckets.height)

    with tracer.start_as_current_span("pilotwatch.metrics.delivery"):
        deployments = _table(tables, "deployments").collect()
        incidents_raw = _table(tables, "incidents").collect()
        delivery = delivery_table(
            deployments, incidents_raw, ids, as_of, window, link_window, settings.dora
        )
        linked = link_incidents(incidents_raw, deployments, as_of, link_window)

    with tracer.start_as_current_span("pilotwatch.metrics.incidents"):
        incidents = incident_table(incidents_raw, ids, as_of, window)

    with tracer.start_as_current_span("pilotwatch.metrics.outcomes"):
        kpis = _table(tables, "kpi_observations").collect()
        outcomes = outcome_table(kpis, config.initiatives, as_of, settings.small_cell_threshold)
        outcomes_sum = outcome_summary(outcomes, ids)

    with tracer.start_as_current_span("pilotwatch.metrics.compliance"):
        evidence = _table(tables, "evidence").collect()
        controls = control_status(
            evidence, config.initiatives, config.controls, as_of, settings.expiring_within_days
        )
        compliance = compliance_summary(controls, ids)

    with tracer.start_as_current_span("pilotwatch.metrics.freshness"):
        freshness = _freshness(tables, pre, config, as_of, ids, newest)
        data = stale_by_initiative(freshness, ids)

    with tracer.start_as_current_span("pilotwatch.metrics.readiness"):
        summaries = {
            "slo_summary": slo_sum,
            "delivery": delivery,
            "incidents": incidents,
            "outcomes_summary": outcomes_sum,
            "compliance": compliance,
            "data": data,
        }
        checks = evaluate_checks(
            gate_checks(config.initiatives, config.gates),
            metric_values(summaries),
            config.waivers,
            as_of,
        )
        readiness = verdicts(checks, ids)

    return Portfolio(
        as_of=as_of,
        initiatives=initiatives_frame(config),
        buckets=buckets,
        slos=slos,
        slo_summary=slo_sum,
        delivery=delivery,
        deployments=deployments,
        linked_incidents=linked,
        incidents=incidents,
        outcomes=outcomes,
        outcomes_summary=outcomes_sum,
        controls=controls,
        compliance=compliance,
        freshness=freshness,
        data=data,
        checks=checks,
        readiness=readiness,
    )


def _freshness(
    tables: Mapping[str, pl.LazyFrame | pl.DataFrame],
    pre: bk.PreBuckets,
    config: Config,
    as_of: datetime,
    ids: list[str],
    newest: pl.DataFrame | None,
) -> pl.DataFrame:
    """Per-source freshness, reading old requests only for sources that look stale.

    The pre-aggregates already hold each (source, initiative)'s newest request inside the SLO
    windows, which settles every fresh source. A source that looks stale from them needs its
    whole history (its true newest row before T and every initiative it ever fed): taken from
    the loader's `newest` when that lies before T, else from one lazy pass over its requests.
    """
    sources = sources_frame(config)
    observed = _observed(tables, pre, config, as_of)
    freshness = source_freshness(sources, observed, ids, as_of)
    suspects = freshness.filter(pl.col("stale")).get_column("source").to_list()
    if "requests" not in tables or not suspects:
        return freshness
    known = pl.DataFrame(schema=OBSERVED_SCHEMA)
    if newest is not None:
        mine = newest.filter(pl.col("source").is_in(suspects)).cast(OBSERVED_SCHEMA)  # type: ignore[arg-type]
        # a source with rows at or after T (an as-of in the past) must be read again
        later = mine.filter(pl.col("newest") >= lit_ts(as_of)).get_column("source").unique()
        known = mine.filter(~pl.col("source").is_in(later.to_list()))
    unknown = [s for s in suspects if s not in set(known.get_column("source").to_list())]
    parts = [observed, known]
    if unknown:
        older = _table(tables, "requests").filter(pl.col(SOURCE_COLUMN).is_in(unknown))
        parts.append(newest_by_source(older, "timestamp", as_of).collect())
    return source_freshness(sources, pl.concat(parts), ids, as_of)


def _observed(
    tables: Mapping[str, pl.LazyFrame | pl.DataFrame],
    pre: bk.PreBuckets,
    config: Config,
    as_of: datetime,
) -> pl.DataFrame:
    """(source, initiative, newest before T) from the request pre-aggregates and small tables."""
    parts: list[pl.LazyFrame] = [
        pre.frame.lazy()
        .group_by("source", "initiative")
        .agg(pl.col("newest").max())
        .cast(OBSERVED_SCHEMA)  # type: ignore[arg-type]
    ]
    slo_initiative = pl.DataFrame(
        {"slo": [s.name for s in config.slos], "initiative": [s.initiative for s in config.slos]},
        schema={"slo": pl.String(), "initiative": pl.String()},
    )
    for name, column in TIME_COLUMN.items():
        if name == "requests" or name not in tables:
            continue
        frame = _table(tables, name)
        if name == "sli_buckets":
            frame = frame.join(slo_initiative.lazy(), on="slo", how="inner")
        parts.append(newest_by_source(frame, column, as_of))
    return pl.concat(parts).collect()
