"""`pilotwatch history [--weeks 13] [--as-of T] [--config DIR] [--json PATH]`.

The report at each instant of the readiness history (docs/metrics.md, "History"), as the
service identity sees it (docs/governance.md, "Roles and scopes"). With `--json` it writes
`{"schema": 1, "as_of", "instants", "reports", "trend"}` and logs an `export` audit entry after
the file is written; without it, it prints one line per instant (verdict and score per
initiative). Exit 0 when done, 3 on any error, never a traceback (pilotwatch/cli.py).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.report import iso
from pilotwatch.cli import EXIT_ERROR, CliError, _audit_log, _source_notes, _weeks, _write
from pilotwatch.config import ConfigError, load_config

if TYPE_CHECKING:
    from pilotwatch.report import Report

HISTORY_SCHEMA = 1


def history_document(as_of: datetime, reports: list[Report]) -> dict[str, Any]:
    """The history's JSON form: instants, each instant's schema-1 report, and the trend rows."""
    from pilotwatch.history import trend_rows

    return {
        "schema": HISTORY_SCHEMA,
        "as_of": iso(as_of),
        "instants": [iso(r.as_of) for r in reports],
        "reports": [r.to_jsonable() for r in reports],
        "trend": trend_rows(reports),
    }


def _table(reports: list[Report]) -> str:
    """One line per instant: the instant, then `initiative verdict score` per initiative."""
    lines = []
    for report in reports:
        cells = []
        for item in report.initiatives:
            score = item.readiness.score
            shown = "n/a" if score is None else f"{score:.1f}"
            cells.append(f"{item.id} {item.readiness.verdict} {shown}")
        lines.append(f"{iso(report.as_of)}  " + ("; ".join(cells) or "(no initiative)"))
    return "\n".join(lines) + "\n"


def _history(args: argparse.Namespace) -> int:
    from pilotwatch.access import service_identity
    from pilotwatch.audit.decisions import decisions, log_config_change
    from pilotwatch.audit.store import AuditError
    from pilotwatch.engine import default_as_of, snapshot_dir, store_dir
    from pilotwatch.history import compute_visible_history, default_instants
    from pilotwatch.sources import load_sources

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    identity = service_identity(config)
    if identity.role is None or identity.initiatives is not None:
        print(
            f"note: acting as {identity.label} ({identity.role or 'no role'}): showing "
            f"{identity.scope_label}",
            file=sys.stderr,
        )
    as_of = args.as_of or default_as_of(config)
    log = _audit_log(config)
    # only decisions on initiatives the identity may see: an instant must not tell of others
    decided = [d.as_of for d in decisions(log) if identity.may_see(d.initiative)]
    # through the pre-aggregate store (docs/store.md): another run reuses its minute buckets
    data = load_sources(config, snapshot_dir(config), until=as_of, store_dir=store_dir(config))
    _source_notes(data.health)
    instants = default_instants(as_of, args.weeks, decided)
    reports = compute_visible_history(config, data, instants, identity)
    try:
        log_config_change(log, args.config, identity.label)
    except AuditError as exc:
        raise CliError(str(exc)) from exc
    if not args.json:
        sys.stdout.write(_table(reports))
        return 0
    text = json.dumps(history_document(as_of, reports), indent=2, allow_nan=False) + "\n"
    path: str = args.json
    write: Callable[[], object]
    if path == "-":
        write = lambda: sys.stdout.write(text)  # noqa: E731
        write()
    else:
        write = lambda: Path(path).write_text(text, "utf-8")  # noqa: E731
        _write(path, "JSON history", write)
    body = {
        "what": "history",
        "format": "json",
        "path": "(stdout)" if path == "-" else Path(path).name,
        # the file's own hash: a history is many reports, each with its report hash inside
        "history_hash": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "as_of": iso(as_of),
        "instants": [iso(r.as_of) for r in reports],
        "initiatives": sorted({i.id for r in reports for i in r.initiatives}),
    }
    try:
        log.append("export", identity.label, body)
    except AuditError as exc:
        raise CliError(f"{path}: written, but its export was not logged: {exc}") from exc
    return 0


def add_history_parser(
    sub: argparse._SubParsersAction,  # type: ignore[type-arg]  # of cli._Parser
    as_of: Callable[[str], datetime],
) -> None:
    """Register `history` on the CLI's subparsers."""
    history = sub.add_parser(
        "history", help="the report at each Monday of the last weeks and each decision's as-of"
    )
    history.add_argument("--config", default="config")
    history.add_argument(
        "--as-of", type=as_of, help="ISO 8601 instant (default: configured or now)"
    )
    history.add_argument("--weeks", type=_weeks, default=13, help="Mondays to include (13)")
    history.add_argument("--json", help="path for the JSON history ('-' for stdout)")
    history.set_defaults(func=_history)
