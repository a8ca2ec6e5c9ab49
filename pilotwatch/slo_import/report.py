"""The mapping report of an import: per SLO each slos.yaml key and its source; each refusal.

`human(result)` is what `pilotwatch slos import` prints; `as_json(result)` is its `--json` form,
`{"slos": [...], "refused": [...]}`, each SLO in the keys of slos.yaml (docs/bring-your-slos.md).
"""

from __future__ import annotations

import json
from typing import Any

from pilotwatch.slo_import.mapping import ImportResult


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value


def human(result: ImportResult) -> str:
    """The report as text: mapped SLOs with their keys, notes, then refusals and a summary."""
    lines: list[str] = []
    for slo in result.slos:
        lines.append(f"SLO {slo.name} ({slo.file}, document {slo.document}): mapped")
        for item in slo.mapped:
            how = f"  ({item.note})" if item.note else ""
            if item.key:
                lines.append(f"  {item.key}: {_show(item.value)}  <- {item.source}{how}")
            else:
                lines.append(f"  note: {item.source}{how}")
    for note in result.notes:
        lines.append(f"note: {note}")
    for refusal in result.refused:
        lines.append(f"REFUSED {refusal}")
    lines.append(f"{len(result.slos)} SLO(s) mapped, {len(result.refused)} refused")
    return "\n".join(lines) + "\n"


def as_dict(result: ImportResult) -> dict[str, Any]:
    """The report as JSON-shaped data."""
    return {
        "slos": [slo.entry for slo in result.slos],
        "refused": [
            {
                "file": r.file,
                "document": r.document,
                "field": r.field,
                "reason": r.reason,
                "slo": r.slo,
            }
            for r in result.refused
        ],
    }


def as_json(result: ImportResult) -> str:
    """The `--json` report text."""
    return json.dumps(as_dict(result), indent=2, ensure_ascii=False) + "\n"
