"""Glue between the rooms: config -> sources -> metrics. Used by the CLI and the app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from metrics.portfolio import Portfolio, compute_portfolio
from metrics.timewin import as_of_instant
from pilotwatch.config import Config, load_config
from pilotwatch.sources import LoadedData, load_sources


@dataclass(frozen=True)
class Run:
    """A loaded configuration, its data and the portfolio computed as of one instant."""

    config: Config
    data: LoadedData
    portfolio: Portfolio


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


def run(config_dir: str | Path = "config", as_of: datetime | None = None) -> Run:
    """Load config and sources and compute the portfolio as of `as_of` (default: configured)."""
    config = load_config(config_dir)
    data = load_sources(config, snapshot_dir(config))
    instant = as_of_instant(as_of) if as_of else default_as_of(config)
    portfolio = compute_portfolio(data.tables, config, instant, data.newest)
    return Run(config=config, data=data, portfolio=portfolio)
