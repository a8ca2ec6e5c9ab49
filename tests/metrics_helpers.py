"""Small builders shared by the metrics tests: canonical frames, config objects, the report.

Expected values never come from here: these only assemble inputs and run the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl

from core.canonical import SCHEMAS, SOURCE_COLUMN
from core.models import (
    Config,
    Control,
    GateCheck,
    Initiative,
    Kpi,
    Settings,
    Slo,
    Source,
    Waiver,
)
from metrics.portfolio import compute_portfolio
from pilotwatch.report import build_report

# A whole-minute, mid-month, mid-day as-of instant (a Saturday; it does not matter).
T = datetime(2025, 3, 15, 12, 0, tzinfo=UTC)
INIT = "alpha"

US = timedelta(microseconds=1)
MIN = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)

_DEFAULTS: dict[str, dict[str, Any]] = {
    "requests": {
        "initiative": INIT,
        "service": "api",
        "operation": "/triage",
        "environment": "production",
        "duration_ms": 10.0,
        "status_code": 200,
        "error": False,
    },
    "sli_buckets": {},
    "deployments": {
        "initiative": INIT,
        "environment": "production",
        "status": "success",
        "commit_at": None,
        "version": None,
    },
    "incidents": {
        "initiative": INIT,
        "severity": 3,
        "acknowledged_at": None,
        "resolved_at": None,
        "deploy_id": None,
        "patient_impact": False,
        "title": "",
    },
    "kpi_observations": {"initiative": INIT, "value": None, "numerator": None, "denominator": None},
    "evidence": {
        "initiative": INIT,
        "expires_at": None,
        "owner": "o",
        "evidence_ref": "doc",
        "justification": None,
    },
}


def frame(table: str, rows: Iterable[Mapping[str, Any]], source: str = "src") -> pl.DataFrame:
    """A canonical frame for `table` (plus `source`), defaults filled per row."""
    schema = dict(SCHEMAS[table])
    schema[SOURCE_COLUMN] = pl.String()
    full = []
    for row in rows:
        item = {SOURCE_COLUMN: source, **_DEFAULTS[table], **row}
        full.append({k: item.get(k) for k in schema})
    return pl.DataFrame(full, schema=schema)


def requests(rows: Iterable[Mapping[str, Any]], source: str = "src") -> pl.DataFrame:
    """Canonical requests."""
    return frame("requests", rows, source)


def req_block(
    at: datetime, n: int, bad: int = 0, source: str = "src", **extra: Any
) -> list[dict[str, Any]]:
    """`n` availability requests at `at`, the first `bad` of them errors."""
    return [{"timestamp": at, "error": i < bad, "source": source, **extra} for i in range(n)]


def buckets(rows: Iterable[tuple[str, datetime, int, int]], source: str = "src") -> pl.DataFrame:
    """Canonical sli_buckets from (slo, bucket_start, good, total) tuples."""
    return frame(
        "sli_buckets",
        [{"slo": s, "bucket_start": b, "good": g, "total": t} for s, b, g, t in rows],
        source,
    )


def initiative(
    iid: str = INIT, stage: str = "limited_production", kpis: list[Kpi] | None = None
) -> Initiative:
    """An initiative with the fields the metrics need."""
    return Initiative(
        id=iid,
        name=f"Initiative {iid}",
        stage=stage,
        owner="owner",
        sponsor="sponsor",
        clinical_area="triage",
        started_on=datetime(2024, 1, 1).date(),
        kpis=kpis or [],
    )


def slo(name: str = "avail", **kw: Any) -> Slo:
    """An availability SLO on INIT (override anything)."""
    args: dict[str, Any] = {"name": name, "initiative": INIT, "sli": "availability", "target": 0.99}
    args.update(kw)
    return Slo(**args)


def control(cid: str, required_from: str = "pilot", max_age_days: int = 365) -> Control:
    """A product control."""
    return Control(
        id=cid,
        title=cid,
        category="product",
        implementation="product",
        required_from=required_from,
        max_age_days=max_age_days,
    )


def check(cid: str, metric: str, op: str, value: float, **kw: Any) -> GateCheck:
    """A gate check."""
    return GateCheck(id=cid, metric=metric, op=op, value=value, **kw)


def waiver(check_id: str, expires_on: Any, iid: str = INIT) -> Waiver:
    """A waiver for `check_id`."""
    return Waiver(initiative=iid, check=check_id, reason="r", approver="a", expires_on=expires_on)


def config(
    initiatives: list[Initiative] | None = None,
    slos: list[Slo] | None = None,
    controls: list[Control] | None = None,
    gates: dict[str, list[GateCheck]] | None = None,
    waivers: list[Waiver] | None = None,
    sources: list[Source] | None = None,
    **settings: Any,
) -> Config:
    """A Config built directly from models (no YAML)."""
    return Config(
        initiatives=initiatives if initiatives is not None else [initiative()],
        slos=slos or [],
        controls=controls or [],
        gates=gates or {},
        waivers=waivers or [],
        sources=sources or [],
        settings=Settings(**settings),
    )


def report(tables: Mapping[str, pl.DataFrame], cfg: Config, as_of: datetime = T) -> dict[str, Any]:
    """The schema-1 report for `tables` (requests passed lazily, as the engine does)."""
    lazy: dict[str, pl.DataFrame | pl.LazyFrame] = dict(tables)
    if "requests" in lazy:
        lazy["requests"] = lazy["requests"].lazy()
    return build_report(compute_portfolio(lazy, cfg, as_of)).to_jsonable()


def entry(rep: Mapping[str, Any], iid: str = INIT) -> dict[str, Any]:
    """One initiative's block of the report."""
    return next(i for i in rep["initiatives"] if i["id"] == iid)


def slo_entry(rep: Mapping[str, Any], name: str, iid: str = INIT) -> dict[str, Any]:
    """One SLO's block of the report."""
    return next(s for s in entry(rep, iid)["slos"] if s["name"] == name)


def alerts(slo_block: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The firing alert pairs as sorted (severity, long, short) tuples."""
    return sorted((a["severity"], a["long"], a["short"]) for a in slo_block["alerts"])


def blank_slo(name: str = "", status: str = "no_data") -> dict[str, Any]:
    """A complete schema-1 SLO row with no data: report tests write only the fields they test."""
    return {
        "name": name,
        "sli_type": "availability",
        "target": 0.99,
        "window": "28d",
        "budgeting": "occurrences",
        "good": 0,
        "total": 0,
        "sli": None,
        "budget_remaining": None,
        "budget_consumed": None,
        "burn_rates": {w: None for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d")},
        "alerts": [],
        "status": status,
        "one_bad_event_budget_share": None,
        "low_traffic": False,
    }
