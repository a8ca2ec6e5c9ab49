"""A real Prometheus server for tests: backfill OpenMetrics samples with promtool, serve them.

`start_prometheus(folder, families)` writes the samples as an OpenMetrics file, turns it into
TSDB blocks with `promtool tsdb create-blocks-from openmetrics`, starts `/usr/bin/prometheus`
on a free 127.0.0.1 port with no scrape jobs and a 100-year retention (old blocks would
otherwise be deleted), and waits for `/-/ready`. `stop()` ends that process only. Missing
binaries skip the test with the reason, or fail it when PILOTWATCH_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from managed_process import free_port

PROMETHEUS = Path("/usr/bin/prometheus")
PROMTOOL = Path("/usr/bin/promtool")

# one series: its labels and (unix seconds, value) samples
Samples = tuple[Mapping[str, str], Sequence[tuple[int, float]]]


@dataclass(frozen=True)
class Family:
    """An OpenMetrics metric family: `name` without `_total`, its type and its series."""

    name: str
    type: str  # counter, gauge, histogram
    series: Sequence[tuple[str, Samples]]  # (sample name, series), e.g. ("x_total", ...)


def require_prometheus() -> None:
    """Skip (fail with PILOTWATCH_REQUIRE_SERVICES=1) unless prometheus and promtool exist."""
    missing = [str(p) for p in (PROMETHEUS, PROMTOOL) if not os.access(p, os.X_OK)]
    if missing:
        reason = f"Debian prometheus is not installed: {', '.join(missing)} missing"
        if os.environ.get("PILOTWATCH_REQUIRE_SERVICES") == "1":
            pytest.fail(f"{reason} (PILOTWATCH_REQUIRE_SERVICES=1)")
        pytest.skip(reason)


def openmetrics(families: Sequence[Family]) -> str:
    """The OpenMetrics text of `families` (timestamps in seconds, as promtool wants), `# EOF`."""
    lines: list[str] = []
    for family in families:
        lines.append(f"# TYPE {family.name} {family.type}")
        for sample, (labels, points) in family.series:
            inner = ",".join(f'{k}="{v}"' for k, v in labels.items())
            for stamp, value in points:
                lines.append(f"{sample}{{{inner}}} {value:g} {stamp}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@dataclass
class PromServer:
    """A running Prometheus on 127.0.0.1 serving backfilled blocks."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        """End this server's process (and only it)."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_prometheus(folder: Path, families: Sequence[Family]) -> PromServer:
    """Backfill `families` into `folder` and serve them; fails with the server's log tail."""
    require_prometheus()
    source = folder / "samples.om.txt"
    source.write_text(openmetrics(families))
    return serve_openmetrics(folder, source)


def backfill(source: Path, data: Path) -> None:
    """`promtool tsdb create-blocks-from openmetrics source data`; fails with promtool's words."""
    created = subprocess.run(
        [str(PROMTOOL), "tsdb", "create-blocks-from", "openmetrics", str(source), str(data)],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if created.returncode != 0:
        pytest.fail(f"promtool could not backfill: {created.stderr[-2000:]}")


def serve_openmetrics(folder: Path, source: Path | None) -> PromServer:
    """Serve `folder`/tsdb, backfilled from the OpenMetrics file `source` first unless None."""
    data = folder / "tsdb"
    if source is not None:
        backfill(source, data)
    config = folder / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1m\nscrape_configs: []\n")
    port = free_port()
    log = folder / "prometheus.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                str(PROMETHEUS),
                f"--config.file={config}",
                f"--storage.tsdb.path={data}",
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    server = PromServer(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    pytest.fail(f"prometheus did not become ready: {log.read_text()[-2000:]}")
