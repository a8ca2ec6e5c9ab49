"""OtlpConnector: what the OpenTelemetry Collector's `file` exporter writes, as pilotwatch tables.

`traces` files feed `requests` (one row per SERVER span), `metrics` files feed `sli_buckets`
(latency SLOs counted exactly from explicit-bucket histograms). Files are read in name order,
plain, gzip or zstd (connectors/otlp_files.py); a line that is not a request of the expected
kind is quarantined as `file:line` and the other lines still load (docs/connectors.md, "otlp").
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Annotated, ClassVar, cast

import polars as pl
from pydantic import AfterValidator, Field, model_validator

from connectors import otlp_traces
from connectors.base import (
    Connector,
    ConnectorSettings,
    RawPart,
    RawRead,
    SourceConfigError,
    SourceUnavailable,
)
from connectors.otlp_files import read_records
from connectors.otlp_metrics import Counter, Feed
from connectors.otlp_traces import span_rows
from connectors.otlp_values import Resolver, parse_request
from core.models import Slo

DEFAULT_METRIC = "http.server.request.duration"


def _pattern(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a file name or glob")
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]


class LatencyFeedSettings(ConnectorSettings):
    """Where one latency SLO's histogram is: `latency: {<slo>: {metric: ...}}`."""

    metric: str = Field(default=DEFAULT_METRIC, min_length=1)


class OtlpSettings(ConnectorSettings):
    """Settings of an `otlp` source (docs/connectors.md, "otlp")."""

    traces: Pattern | list[Pattern] | None = None
    metrics: Pattern | list[Pattern] | None = None
    initiative_attribute: str = Field(default="pilotwatch.initiative", min_length=1)
    services: dict[str, str] = Field(default_factory=dict)
    initiative: str | None = None
    latency: dict[str, LatencyFeedSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> OtlpSettings:
        if self.traces is None and self.metrics is None:
            raise ValueError("give `traces` (feeds requests) and/or `metrics` (feeds sli_buckets)")
        if self.metrics is not None and not self.latency:
            raise ValueError("`metrics` needs `latency: {<slo name>: {metric: ...}}`")
        if self.latency and self.metrics is None:
            raise ValueError("`latency` needs `metrics` (the histogram files)")
        return self


def _patterns(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


class OtlpConnector(Connector):
    """Reads Collector `file` exporter output; see docs/connectors.md for every setting."""

    type_name: ClassVar[str] = "otlp"
    settings_model: ClassVar[type[ConnectorSettings]] = OtlpSettings

    def _otlp(self) -> OtlpSettings:
        return cast(OtlpSettings, self.settings)

    def _resolver(self) -> Resolver:
        s = self._otlp()
        return Resolver(s.initiative_attribute, dict(s.services), s.initiative)

    def read(self) -> RawRead:
        """One `requests` part per traces file and one `sli_buckets` part for all metrics."""
        settings, spec = self._otlp(), self.spec
        wanted = {"requests": settings.traces, "sli_buckets": settings.metrics}
        for table, given in wanted.items():
            if (table in spec.tables) != (given is not None):
                key = "traces" if table == "requests" else "metrics"
                raise SourceConfigError(
                    spec.name,
                    f"settings.{key} feeds table {table!r}: give it exactly when `tables` lists "
                    f"{table!r} (tables: {list(spec.tables)})",
                )
        parts = [self._traces(path) for path in self._files(settings.traces)]
        if settings.metrics is not None:
            parts.append(self._metrics(self._files(settings.metrics)))
        return RawRead(parts=parts)

    def _files(self, value: str | list[str] | None) -> list[Path]:
        files: list[Path] = []
        for pattern in _patterns(value):
            full = Path(pattern).expanduser()
            if not full.is_absolute():
                full = self.root / full
            found = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
            matched = [p for p in found if p.is_file()]
            if not matched:
                raise SourceUnavailable(self.spec.name, f"no file matches {str(full)!r}")
            files += [p for p in matched if p not in files]
        return files

    def _display(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    def _traces(self, path: Path) -> RawPart:
        shown, resolver = self._display(path), self._resolver()
        rows: list[dict[str, object]] = []
        malformed: list[tuple[str, str]] = []
        for record in read_records(path):
            where = f"{shown}:{record.number}"
            if record.text is None:
                malformed.append((where, str(record.problem)))
                continue
            request, reason = parse_request(record.text, "traces")
            if request is None:
                malformed.append((where, str(reason)))
                continue
            good, refused = span_rows(request, where, resolver)
            rows += good
            malformed += refused
        return RawPart(
            table="requests",
            frame=otlp_traces.frame(rows),
            origin=shown,
            location=pl.col(otlp_traces.LOC),
            malformed=malformed,
        )

    def _feeds(self) -> list[Feed]:
        by_name: dict[str, Slo] = {slo.name: slo for slo in self.spec.slos}
        feeds, errors = [], []
        for name, feed in self._otlp().latency.items():
            slo = by_name.get(name)
            where = f"settings.latency.{name}"
            if slo is None:
                errors.append(f"{where}: no SLO named {name!r} in slos.yaml")
            elif slo.sli != "latency" or slo.threshold_ms is None:
                errors.append(f"{where}: SLO {name!r} is not a latency SLO with threshold_ms")
            elif slo.threshold_op == "lt":
                errors.append(
                    f"{where}: SLO {name!r} has threshold_op lt, which histogram buckets "
                    "(b[i-1], b[i]] cannot count (they hold values <= a bound); use le"
                )
            else:
                feeds.append(Feed(slo, feed.metric))
        if errors:
            raise SourceConfigError(self.spec.name, "; ".join(errors))
        return feeds

    def _metrics(self, paths: list[Path]) -> RawPart:
        counter = Counter(self._feeds(), self._resolver())
        for path in paths:
            shown = self._display(path)
            for record in read_records(path):
                where = f"{shown}:{record.number}"
                if record.text is None:
                    counter.malformed.append((where, str(record.problem)))
                    continue
                request, reason = parse_request(record.text, "metrics")
                if request is None:
                    counter.malformed.append((where, str(reason)))
                    continue
                counter.add(request, where)
        if counter.problems:
            listed = "; ".join(
                f"{why} (first at {where})" for why, where in counter.problems.items()
            )
            raise SourceConfigError(self.spec.name, listed)
        frame = counter.buckets(self.spec.fetch_range)
        minute = pl.col("bucket_start").dt.strftime("%Y-%m-%dT%H:%MZ")
        return RawPart(
            table="sli_buckets",
            frame=frame.lazy(),
            origin="metrics",
            location=pl.format("slo {} minute {}", pl.col("slo"), minute),
            malformed=counter.malformed,
        )
