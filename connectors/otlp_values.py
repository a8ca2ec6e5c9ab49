"""OTLP/JSON requests parsed with the official protobuf classes, and attribute values as text.

OTLP/JSON is not plain proto3 JSON: trace and span ids are hex, not base64, so they are
dropped before parsing (no SLO number uses them); enums may be numbers or names and 64-bit
integers numbers or strings, both of which the protobuf parser accepts. Unknown fields are
ignored, so a newer Collector's output still loads.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# no stubs ship with protobuf (types-protobuf is not a dependency): typed as Any here
from google.protobuf import json_format  # type: ignore[import-untyped]
from google.protobuf.message import Message  # type: ignore[import-untyped]
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

_IDS = frozenset({"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"})
TOP_KEYS = {"traces": "resourceSpans", "metrics": "resourceMetrics"}
_REQUESTS: dict[str, type[Message]] = {
    "traces": ExportTraceServiceRequest,
    "metrics": ExportMetricsServiceRequest,
}


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in _IDS}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def parse_request(text: str, kind: str) -> tuple[Message | None, str | None]:
    """`text` as the `kind` ("traces" or "metrics") request, or None and the reason it is not."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(data, dict):
        return None, f"not an OTLP/JSON request object (a JSON {type(data).__name__})"
    key = TOP_KEYS[kind]
    if key not in data:
        other = next((k for k, top in TOP_KEYS.items() if top in data), None)
        if other is not None:
            return None, f"an OTLP {other} request where {kind} were expected"
        return None, f"not an OTLP {kind} request (no {key!r} key)"
    try:
        message = json_format.ParseDict(
            _without_ids(data), _REQUESTS[kind](), ignore_unknown_fields=True
        )
    except json_format.ParseError as exc:
        return None, f"not a valid OTLP {kind} request: {str(exc).splitlines()[0]}"
    return message, None


def any_text(value: AnyValue) -> str | None:
    """An attribute value of any AnyValue kind as text (None when the value is empty)."""
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "string_value":
        return str(value.string_value)
    if which == "int_value":
        return str(value.int_value)
    if which == "bool_value":
        return "true" if value.bool_value else "false"
    if which == "double_value":
        number = float(value.double_value)
        # a whole double (500.0) reads as the integer it holds, so status codes still parse
        return str(int(number)) if math.isfinite(number) and number.is_integer() else str(number)
    if which == "bytes_value":
        return base64.b64encode(bytes(value.bytes_value)).decode("ascii")
    return json.dumps(json_format.MessageToDict(value), sort_keys=True)  # array / kvlist


def attributes(pairs: Iterable[KeyValue]) -> dict[str, str]:
    """Key -> text of every attribute that has a value (a repeated key: the last one wins)."""
    out: dict[str, str] = {}
    for pair in pairs:
        text = any_text(pair.value)
        if text is not None:
            out[str(pair.key)] = text
    return out


def first(attrs: Mapping[str, str], *keys: str) -> str | None:
    """The value of the first of `keys` present in `attrs`."""
    for key in keys:
        if key in attrs:
            return attrs[key]
    return None


@dataclass(frozen=True)
class Resolver:
    """How a resource names its initiative and environment (docs/connectors.md, "otlp")."""

    initiative_attribute: str
    services: Mapping[str, str]
    initiative: str | None

    def initiative_of(self, resource: Mapping[str, str]) -> str | None:
        """Resource attribute, else the `services` map, else the source's `initiative`."""
        named = resource.get(self.initiative_attribute)
        if named:
            return named
        service = resource.get("service.name")
        if service is not None and service in self.services:
            return self.services[service]
        return self.initiative

    def missing_initiative(self) -> str:
        """Why a resource has no initiative."""
        return (
            f"no initiative: no resource attribute {self.initiative_attribute!r}, service.name "
            "not in settings.services and no settings.initiative"
        )


def environment_of(resource: Mapping[str, str]) -> str:
    """`deployment.environment.name` (new) or `deployment.environment` (old), else production."""
    return first(resource, "deployment.environment.name", "deployment.environment") or "production"


UNIX_NANOS_PER_MINUTE = 60 * 10**9
