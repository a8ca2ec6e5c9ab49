"""SERVER spans of OTLP trace requests -> raw `requests` rows (docs/connectors.md, "otlp").

Only spans of kind SERVER (2) are requests a service answered; CLIENT, PRODUCER, CONSUMER,
INTERNAL and unspecified spans are skipped (a CONSUMER span is a message taken off a queue,
not a request with a response). The rows keep their raw types; conform parses, defaults and
quarantines them like any other source's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import polars as pl
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from connectors.otlp_values import Resolver, attributes, environment_of, first

LOC = "__pw_loc"
SCHEMA: dict[str, pl.DataType] = {
    "timestamp_ns": pl.Int64(),
    "initiative": pl.String(),
    "service": pl.String(),
    "operation": pl.String(),
    "environment": pl.String(),
    "duration_ms": pl.Float64(),
    "status_code": pl.String(),  # text: an attribute may hold "503"; conform parses it
    "error": pl.Boolean(),
    LOC: pl.String(),
}


def span_rows(
    request: ExportTraceServiceRequest, where: str, resolver: Resolver
) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
    """The request's SERVER spans as raw rows; spans with no initiative as (location, reason)."""
    rows: list[dict[str, Any]] = []
    refused: list[tuple[str, str]] = []
    index = 0
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        initiative = resolver.initiative_of(resource)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if span.kind != Span.SPAN_KIND_SERVER:
                    continue
                index += 1
                location = f"{where} span {index}"
                if initiative is None:
                    refused.append((location, resolver.missing_initiative()))
                    continue
                rows.append(_row(span, resource, initiative, location))
    return rows, refused


def _row(span: Span, resource: dict[str, str], initiative: str, location: str) -> dict[str, Any]:
    attrs = attributes(span.attributes)
    start, end = int(span.start_time_unix_nano), int(span.end_time_unix_nano)
    return {
        # 0 is protobuf's "not set": a span without a start or an end is quarantined by conform
        "timestamp_ns": start or None,
        "initiative": initiative,
        "service": resource.get("service.name"),
        "operation": first(attrs, "http.route", "url.template") or str(span.name),
        "environment": environment_of(resource),
        "duration_ms": (end - start) / 1e6 if start and end else None,
        "status_code": first(attrs, "http.response.status_code", "http.status_code"),
        # null unless the span says ERROR: conform then derives `status_code >= 500`
        "error": True if span.status.code == Status.STATUS_CODE_ERROR else None,
        LOC: location,
    }


def frame(rows: Iterable[dict[str, Any]]) -> pl.LazyFrame:
    """Raw rows -> a LazyFrame with a UTC `timestamp` (nanoseconds floored to microseconds)."""
    raw = pl.DataFrame(list(rows), schema=SCHEMA, orient="row")
    instant = pl.col("timestamp_ns").cast(pl.Datetime("ns", "UTC")).dt.cast_time_unit("us")
    return raw.lazy().with_columns(instant.alias("timestamp")).drop("timestamp_ns")
