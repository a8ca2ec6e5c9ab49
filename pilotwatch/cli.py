"""`pilotwatch demo | validate | report | check | slos | decide | audit | history`.

Exit codes (README, "Command line"): `check` 0 go, 1 no_go, 2 conditional; `validate` 1 when the
configuration or a source has errors; `slos import` 1 when anything was refused; `decide` 1 when
the decision was refused; `audit verify` 1 when the log was tampered with; every command 3
when it could not do its job: a usage error, an invalid configuration (check, report, slos
export), an unknown initiative, a file that cannot be read or written or an internal error. No
user error ends in a traceback (PILOTWATCH_DEBUG=1 shows one for internal errors).

`report`, `check` and `decide` act as the service identity (docs/governance.md, "Roles and
scopes"): they compute on the initiatives it may see, and every report written is logged as an
`export` entry of the audit log.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from connectors.base import SourceHealth
from connectors.sql import redact
from core.enums import Verdict
from core.report import iso
from pilotwatch.config import Config, ConfigError, load_config
from pilotwatch.history import PACK_TREND_WEEKS

if TYPE_CHECKING:
    from pilotwatch.access import Identity
    from pilotwatch.audit.store import AuditLog
    from pilotwatch.engine import Run
    from pilotwatch.pack import Paper
    from pilotwatch.report import Report

EXIT_GO, EXIT_NO_GO, EXIT_CONDITIONAL, EXIT_USAGE = 0, 1, 2, 3
# --paper: the steering pack's paper sizes (pilotwatch.pack.Paper)
PAPERS: dict[str, Paper] = {"a4": "A4", "letter": "Letter"}
# "cannot decide": a release gate must never read an error as no-go (1) or conditional (2)
EXIT_ERROR = EXIT_USAGE
DEBUG_ENV = "PILOTWATCH_DEBUG"


class CliError(Exception):
    """A user error the CLI reports as one line on stderr and exit 3."""


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors exiting 3 (argparse's own default, 2, means "conditional")."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_ERROR, f"{self.prog}: error: {message}\n")


def _as_of(text: str) -> datetime:
    from pilotwatch.engine import parse_as_of

    try:
        return parse_as_of(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 instant: {text!r} (e.g. 2026-11-16T12:00:00Z)"
        ) from None


def _weeks(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of weeks >= 1, got {text!r}")
    return value


def _write(path: str, what: str, write: Callable[[], object]) -> None:
    """Run `write()`; a file-system error becomes a CliError naming the path."""
    try:
        write()
    except OSError as exc:
        raise CliError(f"cannot write the {what} to {path}: {exc.strerror or exc}") from exc
    print(f"wrote {path}", file=sys.stderr)


def _source_notes(health: list[SourceHealth]) -> None:
    """One stderr line per failed source, so a verdict never hides that data was missing."""
    for h in health:
        if not h.ok:
            shown = "its last good snapshot" if h.using_snapshot else "no data"
            print(
                f"warning: source {h.source} failed to load ({h.last_error}); using {shown}",
                file=sys.stderr,
            )


def _demo(args: argparse.Namespace) -> int:
    from pilotwatch.demo import write_demo

    out = Path(args.out)
    try:
        summary = write_demo(out, scale=args.scale, seed=args.seed)
        (out / ".complete").write_text("ok\n")
    except OSError as exc:
        raise CliError(f"cannot write the demo data to {out}: {exc.strerror or exc}") from exc
    print(summary)
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
            f"quarantined={health.quarantined}, redacted={health.redacted}, "
            f"newest={health.newest}"
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


def run_as_service(config_dir: str | Path, as_of: datetime | None) -> tuple[Run, Identity, Config]:
    """The run as the CLI's service identity: (run on what it may see, identity, full config).

    Sources load under the full configuration (the same data and snapshots as the app); the
    report is `access.compute_visible`'s: only the identity's initiatives, in every section.
    """
    from pilotwatch.access import compute_visible, restrict, service_identity
    from pilotwatch.engine import Run, default_as_of, snapshot_dir
    from pilotwatch.sources import load_sources

    config = load_config(config_dir)
    identity = service_identity(config)
    visible = restrict(config, identity)
    if identity.role is None or identity.initiatives is not None:
        print(
            f"note: acting as {identity.label} ({identity.role or 'no role'}): showing "
            f"{identity.scope_label}",
            file=sys.stderr,
        )
    instant = as_of or default_as_of(config)
    data = load_sources(config, snapshot_dir(config), until=instant)
    portfolio, report = compute_visible(config, data, instant, identity)
    return Run(config=visible, data=data, portfolio=portfolio, report=report), identity, config


def _audit_log(config: Config) -> AuditLog:
    """The audit log, opened now: an unusable log stops the command before any file is written."""
    from pilotwatch.audit.store import AuditError, AuditLog

    try:
        log = AuditLog.for_config(config)
        log.head()
    except AuditError as exc:
        raise CliError(str(exc)) from exc
    return log


def _report(args: argparse.Namespace) -> int:
    from pilotwatch.audit.decisions import log_config_change
    from pilotwatch.audit.store import AuditError
    from pilotwatch.fingerprints import report_hash
    from pilotwatch.report import dumps

    try:
        result, identity, full = run_as_service(args.config, args.as_of)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    _source_notes(result.data.health)
    log = _audit_log(full)
    report = result.report
    digest = report_hash(report)
    text = dumps(report)

    def logged(fmt: str, path: str, write: Callable[[], object]) -> None:
        # after writing: an entry names a file that exists (docs/governance.md)
        if path == "-":
            write()
        else:
            _write(path, f"{fmt.upper()} report", write)
        body = {
            "what": "report",
            "format": fmt,
            "path": "(stdout)" if path == "-" else Path(path).name,
            "report_hash": digest,
            "as_of": iso(report.as_of),
            "initiatives": [i.id for i in report.initiatives],
        }
        try:
            log.append("export", identity.label, body)
        except AuditError as exc:
            raise CliError(f"{path}: written, but its export was not logged: {exc}") from exc

    try:
        log_config_change(log, args.config, identity.label)
    except AuditError as exc:
        raise CliError(str(exc)) from exc
    if args.json == "-" or not (args.json or args.html or args.pdf):
        logged("json", "-", lambda: sys.stdout.write(text))
    elif args.json:
        logged("json", args.json, lambda: Path(args.json).write_text(text, "utf-8"))
    if args.html or args.pdf:
        html, pdf = _steering_pack(args, result, identity, full, log)
        if args.html:
            logged("html", args.html, lambda: Path(args.html).write_text(html, "utf-8"))
        if pdf is not None:
            logged("pdf", args.pdf, lambda: Path(args.pdf).write_bytes(pdf))
    return 0


def _steering_pack(
    args: argparse.Namespace, result: Run, identity: Identity, full: Config, log: AuditLog
) -> tuple[str, bytes | None]:
    """The steering pack's HTML, and its PDF when `--pdf` is given (docs/steering-pack.md).

    Rendered before any file is written: a pack that cannot be made (Pango missing) writes
    nothing. The trend is the readiness history (`--trend-weeks`, each decision's as-of) unless
    `--no-trend`; `--since T` compares with the report at T instead of the decisions.
    """
    from pilotwatch.audit.decisions import decisions
    from pilotwatch.history import compute_visible_history
    from pilotwatch.pack import gather, render_html, render_pdf, trend_history
    from pilotwatch.pack.pdf import PackError

    as_of = result.report.as_of
    history: list[Report] = []
    if not args.no_trend:
        # only decisions on initiatives the identity may see add instants (as `history` does)
        decided = [d.as_of for d in decisions(log) if identity.may_see(d.initiative)]
        history = trend_history(full, result.data, as_of, identity, decided, args.trend_weeks)
    baseline = None
    if args.since is not None:
        if args.since >= as_of:
            raise CliError(f"--since {iso(args.since)} is not before the as-of {iso(as_of)}")
        baseline = compute_visible_history(full, result.data, [args.since], identity)[0]
    paper = PAPERS[args.paper]
    inputs = gather(result, log, paper=paper, baseline=baseline, history=history)
    html = render_html(inputs)
    try:
        pdf = render_pdf(inputs, html=html) if args.pdf else None
    except PackError as exc:
        raise CliError(str(exc)) from exc
    return html, pdf


def _check(args: argparse.Namespace) -> int:
    try:
        result, _identity, _full = run_as_service(args.config, args.as_of)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_USAGE
    _source_notes(result.data.health)
    report = result.report
    item = report.initiative(args.initiative)
    if item is None:
        known = ", ".join(i.id for i in report.initiatives)
        print(f"unknown initiative {args.initiative!r}; known: {known}", file=sys.stderr)
        return EXIT_USAGE
    readiness = item.readiness
    score = readiness.score
    print(f"{item.id} ({item.name}): stage {item.stage} -> gate {item.gate}")
    print(
        f"as of {iso(report.as_of)}: verdict {readiness.verdict.upper()}, "
        f"score {'n/a' if score is None else f'{score:.1f}'}"
    )
    for check in readiness.checks:
        blocking = "blocking" if check.blocking else "weighted"
        print(
            f"  [{check.outcome:>17}] {check.id} ({blocking}): {check.metric} "
            f"= {check.value} {check.op} {check.threshold}"
        )
    for blocker in readiness.blockers:
        print(f"  BLOCKER {blocker.check}: {blocker.remediation}")
    verdicts = {
        Verdict.GO: EXIT_GO,
        Verdict.NO_GO: EXIT_NO_GO,
        Verdict.CONDITIONAL: EXIT_CONDITIONAL,
    }
    if readiness.verdict not in verdicts:
        raise CliError(f"unexpected verdict {readiness.verdict!r}: cannot decide")
    return verdicts[readiness.verdict]


def build_parser() -> argparse.ArgumentParser:
    """The command-line interface."""
    parser = _Parser(prog="pilotwatch", description=__doc__.split("\n\n")[0])
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

    report = sub.add_parser(
        "report", help="write the schema-1 report (JSON) and the steering pack (HTML, PDF)"
    )
    report.add_argument("--config", default="config")
    report.add_argument(
        "--as-of", type=_as_of, help="ISO 8601 instant (default: configured or now)"
    )
    report.add_argument("--json", help="path for the JSON report ('-' for stdout)")
    report.add_argument("--html", help="path for the steering pack as HTML (one file)")
    report.add_argument("--pdf", help="path for the steering pack as PDF")
    report.add_argument(
        "--paper",
        type=str.lower,  # A4 and Letter as written on the box work too
        choices=sorted(PAPERS),
        default="a4",
        help="the pack's paper (default a4)",
    )
    report.add_argument(
        "--no-trend", action="store_true", help="leave the readiness trend out of the pack"
    )
    report.add_argument(
        "--trend-weeks",
        type=_weeks,
        default=PACK_TREND_WEEKS,
        help=f"weeks of readiness history in the pack's trend (default {PACK_TREND_WEEKS}; "
        "the app's trends show 13)",
    )
    report.add_argument(
        "--since",
        type=_as_of,
        help="the pack's 'what changed' compares with the report at this instant "
        "(default: each initiative's last recorded decision)",
    )
    report.set_defaults(func=_report)

    gate = "release gate: exit 0 go, 1 no_go, 2 conditional, 3 cannot decide (any error)"
    check = sub.add_parser("check", help=gate, description=gate)
    check.add_argument("initiative")
    check.add_argument("--config", default="config")
    check.add_argument("--as-of", type=_as_of)
    check.set_defaults(func=_check)

    from pilotwatch.cli_slos import add_slos_parser  # here: cli_slos imports this module

    add_slos_parser(sub)
    from pilotwatch.cli_audit import add_audit_parsers  # here: cli_audit imports this module

    add_audit_parsers(sub, _as_of)
    from pilotwatch.cli_history import add_history_parser  # here: it imports this module

    add_history_parser(sub, _as_of)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `pilotwatch` command; see the module docstring for exit codes."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (3)
        return exc.code if isinstance(exc.code, int) else EXIT_ERROR
    try:
        return int(args.func(args))
    except CliError as exc:
        print(f"pilotwatch: error: {exc}", file=sys.stderr)
    except ConfigError as exc:  # e.g. the demo's own configuration
        print(exc, file=sys.stderr)
    except OSError as exc:
        where = f": {exc.filename}" if exc.filename else ""
        print(f"pilotwatch: error: {exc.strerror or exc}{where}", file=sys.stderr)
    except Exception as exc:  # a bug: say so in one line, never as a verdict
        print(redact(f"internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        if os.environ.get(DEBUG_ENV) == "1":
            traceback.print_exc()
    return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
