"""`pilotwatch demo`: write the seeded demo portfolio that config/sources.yaml reads.

The story (which initiative shows what) is in docs/demo.md. Everything is relative to the
demo's end instant, `settings.demo_as_of` in config/settings.yaml, so the output never depends
on today's date: the same seed and scale give byte-identical files.

Layout under the output directory (default data/demo):
    requests/YYYY-MM-DD.parquet          requests of every initiative but hospital-at-home
    device-telemetry/YYYY-MM-DD.parquet  hospital-at-home requests (a feed that went stale)
    deployments.csv, kpi_observations.csv, evidence.csv
    demo.db                              SQLite database with the `incidents` table
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from pilotwatch.config import Config, load_config
from pilotwatch.demo.delivery import deployments, incidents
from pilotwatch.demo.evidence import evidence
from pilotwatch.demo.kpis import observations
from pilotwatch.demo.records import write_csv, write_deployments, write_incidents
from pilotwatch.demo.requests import expected_rows, write_requests
from pilotwatch.demo.story import Traffic, traffic

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
DEFAULT_AS_OF = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
MIN_REQUEST_ROWS = 2_000_000  # at scale 1


@dataclass(frozen=True)
class DemoSummary:
    """What write_demo wrote: files, rows per canonical table, and the inputs that fix them."""

    out_dir: Path
    as_of: datetime
    seed: int
    scale: float
    rows: dict[str, int]
    files: tuple[Path, ...] = field(default=())
    seconds: float = 0.0

    def __str__(self) -> str:
        counts = ", ".join(f"{table}={n:,}" for table, n in self.rows.items())
        return (
            f"demo portfolio as of {self.as_of:%Y-%m-%dT%H:%MZ} (seed {self.seed}, scale "
            f"{self.scale:g}) written to {self.out_dir}: {len(self.files)} files, {counts} "
            f"in {self.seconds:.1f}s"
        )


def demo_as_of(config: Config) -> datetime:
    """The demo's end instant: settings.demo_as_of (whole minute, UTC) or the built-in default."""
    value = config.settings.demo_as_of or DEFAULT_AS_OF
    value = value if value.tzinfo else value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(second=0, microsecond=0)


def _profiles(config: Config, as_of: datetime) -> list[Traffic]:
    known = {i.id for i in config.initiatives}
    return [p for p in traffic(as_of) if p.initiative in known]


def request_rows(scale: float = 1.0, seed: int = 7, config_dir: Path | None = None) -> int:
    """How many request rows write_demo writes for `scale` and `seed`, without writing them."""
    config = load_config(config_dir or CONFIG_DIR)
    as_of = demo_as_of(config)
    return expected_rows(_profiles(config, as_of), as_of, scale, seed)


def write_demo(
    out_dir: Path, scale: float = 1.0, seed: int = 7, config_dir: Path | None = None
) -> DemoSummary:
    """Write the demo portfolio's canonical tables under `out_dir`; deterministic per seed."""
    if not scale > 0:
        raise ValueError(f"scale must be positive, got {scale}")
    started = time.perf_counter()
    config = load_config(config_dir or CONFIG_DIR)
    as_of = demo_as_of(config)
    known = {i.id for i in config.initiatives}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    rows: dict[str, int] = {"requests": 0}

    for _feed, path, count in write_requests(out_dir, _profiles(config, as_of), as_of, scale, seed):
        files.append(path)
        rows["requests"] += count

    story_deploys, named = deployments(as_of, random.Random(f"{seed}:deployments"))
    path = out_dir / "deployments.csv"
    rows["deployments"] = write_deployments(
        path, [d for d in story_deploys if d.initiative in known]
    )
    files.append(path)

    path = out_dir / "demo.db"
    story_incidents = [i for i in incidents(as_of, named) if i.initiative in known]
    rows["incidents"] = write_incidents(path, story_incidents)
    files.append(path)

    kpi_rows = observations(config.initiatives, as_of, random.Random(f"{seed}:kpis"))
    path = out_dir / "kpi_observations.csv"
    rows["kpi_observations"] = write_csv(path, "kpi_observations", kpi_rows)
    files.append(path)

    evidence_rows = evidence(
        config.initiatives, config.controls, as_of, random.Random(f"{seed}:evidence")
    )
    path = out_dir / "evidence.csv"
    rows["evidence"] = write_csv(path, "evidence", evidence_rows)
    files.append(path)

    return DemoSummary(
        out_dir=out_dir,
        as_of=as_of,
        seed=seed,
        scale=scale,
        rows=rows,
        files=tuple(files),
        seconds=time.perf_counter() - started,
    )
