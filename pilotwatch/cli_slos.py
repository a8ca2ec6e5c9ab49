"""`pilotwatch slos import FILES... | slos export --format openslo|prometheus-rules`.

Exit codes (docs/bring-your-slos.md): import 0 when every SLO mapped, 1 when anything was
refused, 3 for a usage error or a file that cannot be read; export 0, or 3 when the
configuration is invalid or the output cannot be written.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from pilotwatch.cli import EXIT_ERROR
from pilotwatch.config import ConfigError, load_config


def _import(args: argparse.Namespace) -> int:
    from pilotwatch.slo_import.files import import_files
    from pilotwatch.slo_import.report import as_json, human

    paths = [Path(name) for name in args.files]
    for path in paths:
        problem = None
        if not path.is_file():
            problem = "no such file" if not path.exists() else "not a file"
        elif not os.access(path, os.R_OK):
            problem = "permission denied"
        if problem:
            # printed here, not raised: `python -m pilotwatch.cli` has its own CliError class
            print(f"pilotwatch: error: cannot read {path}: {problem}", file=sys.stderr)
            return EXIT_ERROR
    result = import_files(paths, args.initiative)
    sys.stdout.write(as_json(result) if args.json else human(result))
    return 0 if result.ok else 1


def _export(args: argparse.Namespace) -> int:
    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    if args.format == "openslo":
        from pilotwatch.slo_import.export_openslo import export_openslo

        text, notes = export_openslo(config.slos), []
    else:
        try:
            # by name: the rules exporter is another module of this package, maybe not installed
            rules = importlib.import_module("pilotwatch.slo_import.export_rules")
        except ImportError:
            print("pilotwatch: error: Prometheus rules export is not installed", file=sys.stderr)
            return EXIT_ERROR
        text, notes = rules.prometheus_rules(config.slos)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    if args.output:
        try:
            Path(args.output).write_text(text, "utf-8")
        except OSError as exc:
            print(
                f"pilotwatch: error: cannot write the export to {args.output}: "
                f"{exc.strerror or exc}",
                file=sys.stderr,
            )
            return EXIT_ERROR
        print(f"wrote {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0


def add_slos_parser(sub: Any) -> None:
    """Register `slos import` and `slos export` on the CLI's subparsers."""
    slos = sub.add_parser("slos", help="import SLOs from OpenSLO/Sloth/Pyrra; export them")
    actions = slos.add_subparsers(dest="slos_command", required=True)
    imp = actions.add_parser("import", help="map OpenSLO, Sloth or Pyrra files to slos.yaml")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--initiative", help="initiative id for every imported SLO")
    imp.add_argument("--json", action="store_true", help='print {"slos": [...], "refused": [...]}')
    imp.set_defaults(func=_import)
    exp = actions.add_parser("export", help="write the configured SLOs as OpenSLO or rules")
    exp.add_argument("--format", choices=("openslo", "prometheus-rules"), default="openslo")
    exp.add_argument("--config", default="config")
    exp.add_argument("--output", help="file to write (default: stdout)")
    exp.set_defaults(func=_export)
