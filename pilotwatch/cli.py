"""`pilotwatch demo | validate | report | check`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pilotwatch.config import ConfigError, load_config

EXIT_GO, EXIT_NO_GO, EXIT_CONDITIONAL, EXIT_USAGE = 0, 1, 2, 3


def _demo(args: argparse.Namespace) -> int:
    from pilotwatch.demo import write_demo

    summary = write_demo(Path(args.out), scale=args.scale, seed=args.seed)
    print(summary)
    (Path(args.out) / ".complete").write_text("ok\n")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from pilotwatch.sources import load_sources

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(
        f"config OK: {len(config.initiatives)} initiatives, {len(config.slos)} SLOs, "
        f"{len(config.controls)} controls, {len(config.sources)} sources"
    )
    data = load_sources(config, None)
    failed = 0
    for health in data.health:
        state = "OK" if health.ok else "FAILED"
        print(
            f"source {health.source} ({health.type}): {state}, rows={health.rows}, "
            f"quarantined={health.quarantined}, newest={health.newest}"
        )
        for warning in health.warnings:
            print(f"  warning: {warning}")
        if health.last_error:
            print(f"  error: {health.last_error}")
        failed += 0 if health.ok else 1
    quarantined = data.quarantine.height
    for row in data.quarantine.head(args.show).iter_rows(named=True):
        print(f"  quarantined: {row['source']} {row['table']} {row['location']}: {row['reason']}")
    if quarantined > args.show:
        print(f"  ... and {quarantined - args.show} more quarantined rows")
    if failed or (args.strict and quarantined):
        return 1
    return 0


def _report(args: argparse.Namespace) -> int:
    from pilotwatch.engine import parse_as_of, run
    from pilotwatch.report import build_report, dumps

    try:
        result = run(args.config, parse_as_of(args.as_of) if args.as_of else None)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 1
    report = build_report(result.portfolio)
    text = dumps(report)
    if args.json == "-":
        sys.stdout.write(text)
    elif args.json:
        Path(args.json).write_text(text, encoding="utf-8")
        print(f"wrote {args.json}", file=sys.stderr)
    if args.html or args.pdf:
        from pilotwatch.render import write_html, write_pdf

        if args.html:
            write_html(report, Path(args.html))
            print(f"wrote {args.html}", file=sys.stderr)
        if args.pdf:
            write_pdf(report, Path(args.pdf))
            print(f"wrote {args.pdf}", file=sys.stderr)
    if not (args.json or args.html or args.pdf):
        sys.stdout.write(text)
    return 0


def _check(args: argparse.Namespace) -> int:
    from pilotwatch.engine import parse_as_of, run
    from pilotwatch.report import build_report

    try:
        result = run(args.config, parse_as_of(args.as_of) if args.as_of else None)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    report = build_report(result.portfolio)
    match = [i for i in report["initiatives"] if i["id"] == args.initiative]
    if not match:
        known = ", ".join(i["id"] for i in report["initiatives"])
        print(f"unknown initiative {args.initiative!r}; known: {known}", file=sys.stderr)
        return EXIT_USAGE
    item = match[0]
    readiness = item["readiness"]
    score = readiness["score"]
    print(f"{item['id']} ({item['name']}): stage {item['stage']} -> gate {item['gate']}")
    print(
        f"as of {report['as_of']}: verdict {readiness['verdict'].upper()}, "
        f"score {'n/a' if score is None else f'{score:.1f}'}"
    )
    for check in readiness["checks"]:
        blocking = "blocking" if check["blocking"] else "weighted"
        print(
            f"  [{check['outcome']:>17}] {check['id']} ({blocking}): {check['metric']} "
            f"= {check['value']} {check['op']} {check['threshold']}"
        )
    for blocker in readiness["blockers"]:
        print(f"  BLOCKER {blocker['check']}: {blocker['remediation']}")
    return {"go": EXIT_GO, "no_go": EXIT_NO_GO}.get(readiness["verdict"], EXIT_CONDITIONAL)


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = argparse.ArgumentParser(prog="pilotwatch", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="write the seeded demo portfolio data")
    demo.add_argument("--out", default="data/demo")
    demo.add_argument("--scale", type=float, default=1.0, help="multiply the request volume")
    demo.add_argument("--seed", type=int, default=7)
    demo.set_defaults(func=_demo)

    validate = sub.add_parser("validate", help="validate config and data; exit 1 on errors")
    validate.add_argument("--config", default="config")
    validate.add_argument("--show", type=int, default=20, help="quarantined rows to list")
    validate.add_argument("--strict", action="store_true", help="quarantined rows are errors")
    validate.set_defaults(func=_validate)

    report = sub.add_parser("report", help="write the schema-1 report (JSON, HTML, PDF)")
    report.add_argument("--config", default="config")
    report.add_argument("--as-of", help="ISO 8601 instant (default: configured or now)")
    report.add_argument("--json", help="path for the JSON report ('-' for stdout)")
    report.add_argument("--html", help="path for a printable HTML steering report")
    report.add_argument("--pdf", help="path for a PDF steering report")
    report.set_defaults(func=_report)

    check = sub.add_parser("check", help="release gate: exit 0 go, 1 no_go, 2 conditional")
    check.add_argument("initiative")
    check.add_argument("--config", default="config")
    check.add_argument("--as-of")
    check.set_defaults(func=_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pilotwatch` command."""
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
