"""Accept OpenSLO v1 `kind: SLO` documents and turn them into pilotwatch SLO entries.

Mapping (documented in docs/config.md):
- metadata.name -> name; metadata.labels or annotations `pilotwatch/initiative` -> initiative
- spec.budgetingMethod Occurrences|Timeslices -> budgeting
- spec.timeWindow[0]: isRolling true + duration (e.g. 28d) -> window; a calendar window of
  1 month (`duration: 1M`, isRolling false) -> calendar_month
- spec.objectives[0].target -> target; timeSliceTarget/timeSliceWindow -> timeslice
- objective `op: lte|lt` with `value` (ms) -> latency SLO with threshold_ms; otherwise availability
- annotations `pilotwatch/service`, `pilotwatch/operation`, `pilotwatch/environment` -> filter
"""

from __future__ import annotations

from typing import Any

_PREFIX = "pilotwatch/"


def is_openslo(doc: Any) -> bool:
    """True for an OpenSLO v1 SLO document."""
    return (
        isinstance(doc, dict)
        and str(doc.get("apiVersion", "")).lower().startswith("openslo/")
        and doc.get("kind") == "SLO"
    )


def _meta(doc: dict[str, Any], key: str) -> Any:
    metadata = doc.get("metadata") or {}
    for bag in (metadata.get("annotations") or {}, metadata.get("labels") or {}):
        if _PREFIX + key in bag:
            return bag[_PREFIX + key]
    return None


def openslo_to_slo(doc: dict[str, Any]) -> dict[str, Any]:
    """Translate one OpenSLO SLO document; raises ValueError naming the missing field."""
    metadata = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    name = metadata.get("name")
    if not name:
        raise ValueError("OpenSLO SLO: metadata.name is required")
    initiative = _meta(doc, "initiative") or spec.get("service")
    if not initiative:
        raise ValueError(
            f"OpenSLO SLO {name}: set annotation pilotwatch/initiative or spec.service"
        )
    objectives = spec.get("objectives") or []
    if not objectives or "target" not in objectives[0]:
        raise ValueError(f"OpenSLO SLO {name}: spec.objectives[0].target is required")
    objective = objectives[0]
    out: dict[str, Any] = {
        "name": name,
        "initiative": str(initiative),
        "target": objective["target"],
    }
    if str(objective.get("op", "")).lower() in ("lte", "lt") and "value" in objective:
        out["sli"] = "latency"
        out["threshold_ms"] = objective["value"]
    else:
        out["sli"] = _meta(doc, "sli") or "availability"
    windows = spec.get("timeWindow") or []
    if windows:
        window = windows[0]
        duration = str(window.get("duration", "28d"))
        if window.get("isRolling", True):
            out["window"] = duration
        elif duration in ("1M", "1month", "month"):
            out["window"] = "calendar_month"
        else:
            raise ValueError(f"OpenSLO SLO {name}: only rolling windows or a 1M calendar window")
    method = str(spec.get("budgetingMethod", "Occurrences")).lower()
    out["budgeting"] = "timeslices" if method == "timeslices" else "occurrences"
    if out["budgeting"] == "timeslices":
        out["timeslice"] = {
            "length": objective.get("timeSliceWindow", "1m"),
            "target": objective.get("timeSliceTarget", 0.95),
        }
    filters = {k: _meta(doc, k) for k in ("service", "operation", "environment")}
    filters = {k: v for k, v in filters.items() if v is not None}
    if filters:
        out["filter"] = filters
    if spec.get("description"):
        out["description"] = spec["description"]
    return out
