"""The one composition point: config -> sources -> metrics -> report, for the CLI and the app.

`compute` turns loaded data into (Portfolio, Report) as of one instant; `run` loads the
configuration and the sources first. The app's cached loaders wrap `compute` (docs/dashboard.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from metrics.buckets import PreBuckets
from metrics.portfolio import Portfolio, compute_portfolio
from metrics.slo import earliest_start
from metrics.timewin import as_of_instant
from pilotwatch.config import Config, load_config
from pilotwatch.report import Report, build_report
from pilotwatch.sources import LoadedData, load_sources
from pilotwatch.store import pre_window


@dataclass(frozen=True)
class Run:
    """A loaded configuration, its data, and the portfolio and report as of one instant."""

    config: Config
    data: LoadedData
    portfolio: Portfolio
    report: Report


def default_as_of(config: Config) -> datetime:
    """The configured as-of (the demo sets its own end), else now; truncated to the minute."""
    return as_of_instant(config.settings.demo_as_of or datetime.now(UTC))


def parse_as_of(text: str) -> datetime:
    """Parse an ISO 8601 instant (`Z`, offset or naive UTC); seconds are truncated."""
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return as_of_instant(value)


def snapshot_dir(config: Config) -> Path:
    """Where last-good source snapshots are kept."""
    return Path(config.root) / "data" / ".snapshots"


def store_dir(config: Config) -> Path:
    """Where the incremental pre-aggregate store is kept by default (docs/store.md)."""
    return Path(config.root) / "data" / ".store"


def stored_pre(
    config: Config, data: LoadedData, start: datetime, end: datetime
) -> PreBuckets | None:
    """The request pre-aggregate of [start, end) from the store; None without a store.

    Pass it as `compute_portfolio(..., pre=...)` for any instant whose SLO windows lie inside
    [start, end] (a history shares one); the raw requests are then not scanned again.
    """
    if data.stored is None:
        return None
    return pre_window(data.stored, config.slos, start, end)


def compute(config: Config, data: LoadedData, as_of: datetime) -> tuple[Portfolio, Report]:
    """Every metric frame and the schema-1 report for loaded data, as of `as_of`."""
    instant = as_of_instant(as_of)
    pre = stored_pre(config, data, earliest_start(config.slos, instant), instant)
    portfolio = compute_portfolio(data.tables, config, instant, data.newest, pre=pre)
    return portfolio, build_report(portfolio)


def run(config_dir: str | Path = "config", as_of: datetime | None = None) -> Run:
    """Load config and sources, then `compute` as of `as_of` (default: the configured instant)."""
    config = load_config(config_dir)
    instant = as_of or default_as_of(config)
    data = load_sources(config, snapshot_dir(config), until=instant, store_dir=store_dir(config))
    portfolio, report = compute(config, data, instant)
    return Run(config=config, data=data, portfolio=portfolio, report=report)
