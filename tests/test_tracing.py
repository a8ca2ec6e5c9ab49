"""Each metric family runs inside an OpenTelemetry span (no-op unless an SDK is configured)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from core.models import Config, Initiative, Slo
from metrics.portfolio import compute_portfolio

EXPORTER = InMemorySpanExporter()


@pytest.fixture(scope="module", autouse=True)
def _provider() -> None:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(EXPORTER))
    trace.set_tracer_provider(provider)


def test_every_metric_family_has_a_span() -> None:
    config = Config(
        initiatives=[
            Initiative(
                id="a",
                name="A",
                stage="pilot",
                owner="o",
                sponsor="s",
                clinical_area="c",
                started_on="2026-01-01",
            )
        ],
        slos=[Slo(name="a-avail", initiative="a", sli="availability", target=0.99)],
    )
    EXPORTER.clear()
    compute_portfolio({}, config, datetime(2026, 11, 16, 12, 0, 30, tzinfo=UTC))
    names = [span.name for span in EXPORTER.get_finished_spans()]
    assert names == [
        "pilotwatch.metrics.slo",
        "pilotwatch.metrics.delivery",
        "pilotwatch.metrics.incidents",
        "pilotwatch.metrics.outcomes",
        "pilotwatch.metrics.compliance",
        "pilotwatch.metrics.freshness",
        "pilotwatch.metrics.readiness",
    ]
    slo_span = EXPORTER.get_finished_spans()[0]
    assert slo_span.attributes["pilotwatch.slos"] == 1
    assert slo_span.attributes["pilotwatch.buckets"] == 0
