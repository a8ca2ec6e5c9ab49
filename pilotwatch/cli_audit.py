"""`pilotwatch decide INITIATIVE ...`, `pilotwatch audit verify | export` (docs/governance.md).

Exit codes (README, "Command line"): decide 0 recorded, 1 refused (not allowed, unknown
outcome, no rationale ...), 3 usage or configuration error or a log that cannot be used;
audit verify 0 intact, 1 tampered (the first bad entry is named), 3 the log cannot be read;
audit export 0 written, 1 refused (only an admin over every initiative exports), 3 cannot write
or read. Errors are printed here, never raised: `python -m pilotwatch.cli` has its own CliError.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Any

from core.report import iso
from pilotwatch.audit.store import AuditError, AuditLog
from pilotwatch.cli import EXIT_ERROR, run_as_service
from pilotwatch.config import ConfigError, load_config

EXIT_OK, EXIT_REFUSED = 0, 1


def _fail(message: str, code: int = EXIT_ERROR) -> int:
    print(f"pilotwatch: error: {message}", file=sys.stderr)
    return code


def parse_condition(text: str) -> Any:
    """`TEXT|OWNER|YYYY-MM-DD[|CHECK]` -> Condition (argparse type: a bad one is a usage error)."""
    from pilotwatch.audit.decisions import Condition

    parts = [p.strip() for p in text.split("|")]
    if len(parts) not in (3, 4) or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(
            f"a condition is TEXT|OWNER|YYYY-MM-DD[|CHECK], not {text!r}"
        )
    try:
        due = date.fromisoformat(parts[2])
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"condition {text!r}: due date {parts[2]!r} is not YYYY-MM-DD"
        ) from None
    check = parts[3] if len(parts) == 4 and parts[3] else None
    return Condition(text=parts[0], owner=parts[1], due=due, check=check)


def _decide(args: argparse.Namespace) -> int:
    from pilotwatch.audit.decisions import DecisionRefused, log_config_change, record_decision
    from pilotwatch.fingerprints import config_hash, data_fingerprint

    try:
        run, identity, full = run_as_service(args.config, args.as_of)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    iid = args.initiative
    if iid not in {i.id for i in full.initiatives}:
        known = ", ".join(i.id for i in run.config.initiatives) or "none visible"
        return _fail(f"unknown initiative {iid!r}; known: {known}")
    if not identity.may_decide(iid):
        return _fail(
            f"{identity.label} may not decide on {iid}: an approver or admin role over it is "
            "needed (config/access.yaml; the CLI acts as access.service_identity or "
            "$PILOTWATCH_IDENTITY)",
            EXIT_REFUSED,
        )
    extra = [(p.name, p.regex) for p in full.settings.phi_patterns]
    try:
        log = AuditLog.for_config(full)
        log_config_change(log, args.config, identity.label)
        record = record_decision(
            log,
            identity,
            run.report,
            iid,
            args.outcome,
            args.rationale,
            args.condition or [],
            config_hash=config_hash(args.config),
            data_fingerprint=data_fingerprint(run.data),
            phi_patterns=extra,
        )
    except DecisionRefused as exc:
        return _fail(f"decision not recorded: {exc}", EXIT_REFUSED)
    except AuditError as exc:
        return _fail(str(exc))
    print(
        f"recorded decision #{record.seq}: {iid} {record.outcome} at gate {record.gate}, "
        f"as of {iso(record.as_of)}, signed by {record.approver}"
    )
    print(f"hash {record.hash}")
    return EXIT_OK


def _open_log(config_dir: str) -> AuditLog | int:
    try:
        return AuditLog.for_config(load_config(config_dir))
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    except AuditError as exc:
        return _fail(str(exc))


def _verify(args: argparse.Namespace) -> int:
    log = _open_log(args.config)
    if isinstance(log, int):
        return log
    try:
        result = log.verify()
        links = log.links() if args.anchor else []
    except AuditError as exc:
        return _fail(str(exc))
    if not result.ok:
        print(f"audit log TAMPERED: {result.problem}")
        print(f"{result.checked} entries verified before entry {result.first_bad}")
        return EXIT_REFUSED
    head = links[-1][2] if links else log.head()
    if args.anchor:
        found = next((seq for seq, _, digest in links if digest == args.anchor), None)
        if found is None:
            print(
                f"audit log TAMPERED: the anchored hash {args.anchor} is in no entry (entries "
                "up to and after it were deleted, or the log was replaced)"
            )
            return EXIT_REFUSED
        print(f"anchored hash found at entry {found}")
    print(f"audit log intact: {result.checked} entries checked; head {head or '(empty log)'}")
    return EXIT_OK


@contextmanager
def _target(path: str | None) -> Iterator[IO[str]]:
    if path is None:
        yield sys.stdout
        return
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        yield handle


def _export(args: argparse.Namespace) -> int:
    from pilotwatch.access import service_identity

    try:
        config = load_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return EXIT_ERROR
    identity = service_identity(config)
    if not identity.is_admin:
        return _fail(
            f"{identity.label} may not export the audit log: it holds every initiative's "
            "decisions, so only an admin over all initiatives may",
            EXIT_REFUSED,
        )
    count, head = 0, None
    try:
        log = AuditLog.for_config(config)
        log.head()  # open it before creating the file: an unreadable log leaves no file
        with _target(args.output) as out:
            for entry in log.iter_entries():
                out.write(json.dumps(entry.to_jsonable(), ensure_ascii=False) + "\n")
                count, head = count + 1, entry.hash
        # after writing: the file never holds its own export entry (the next export does)
        log.append(
            "export",
            identity.label,
            {
                "what": "audit_log",
                "format": "jsonl",
                "path": Path(args.output).name if args.output else "(stdout)",
                "entries": count,
                "head": head,
            },
        )
    except AuditError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write the export to {args.output}: {exc.strerror or exc}")
    if args.output:
        print(f"wrote {args.output}: {count} entries", file=sys.stderr)
    print(f"head {head or '(empty log)'}", file=sys.stderr)
    return EXIT_OK


def add_audit_parsers(sub: Any, as_of: Any) -> None:
    """Register `decide` and `audit verify|export` on the CLI's subparsers."""
    from pilotwatch.audit.decisions import OUTCOMES

    decide = sub.add_parser(
        "decide",
        help="record a steering decision in the audit log, as the service identity",
        description="exit 0 recorded, 1 refused, 3 usage or configuration error",
    )
    decide.add_argument("initiative")
    decide.add_argument("--outcome", required=True, help=" | ".join(OUTCOMES))
    decide.add_argument("--rationale", required=True)
    decide.add_argument(
        "--condition",
        action="append",
        type=parse_condition,
        metavar="TEXT|OWNER|YYYY-MM-DD[|CHECK]",
        help="a condition (repeatable); CHECK: the gate check that shows it met",
    )
    decide.add_argument("--as-of", type=as_of, help="ISO 8601 instant of the report decided on")
    decide.add_argument("--config", default="config")
    decide.set_defaults(func=_decide)

    audit = sub.add_parser("audit", help="verify or export the tamper-evident audit log")
    actions = audit.add_subparsers(dest="audit_command", required=True)
    verify = actions.add_parser(
        "verify", help="recompute the hash chain: exit 0 intact, 1 tampered, 3 cannot read"
    )
    verify.add_argument("--config", default="config")
    verify.add_argument(
        "--anchor", help="a head hash anchored earlier: it must still be in the log"
    )
    verify.set_defaults(func=_verify)
    export = actions.add_parser("export", help="write the log as JSON lines; print the head hash")
    export.add_argument("--config", default="config")
    export.add_argument("--output", help="file to write (default: stdout)")
    export.set_defaults(func=_export)
