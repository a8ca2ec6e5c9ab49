"""Prove a SQL source's query read-only by parsing it in the database's own dialect.

The query is parsed with sqlglot in the dialect of the source's SQLAlchemy URL, and accepted only
when it is exactly one SELECT (CTEs, set operations and subqueries included) with no INTO, no
locking clause, no data-modifying CTE and no function on the dialect's denylist. The connector
then executes the SQL that sqlglot regenerates from the checked tree (no comments, canonical
quoting), never the user's text, so the server runs exactly what was checked. See
docs/connectors.md, "The SQL connector", for the rules and the denylists.
"""

from __future__ import annotations

import itertools
import re
import secrets
from dataclasses import dataclass

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

# SQLAlchemy backend name -> sqlglot dialect; a backend not listed cannot use `query`
DIALECTS = {
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "mssql": "tsql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "redshift": "redshift",
    "trino": "trino",
    "bigquery": "bigquery",
    "clickhouse": "clickhouse",
    "databricks": "databricks",
}


def _names(words: str) -> frozenset[str]:
    return frozenset(words.split())


# Functions that write, sleep, lock, or reach outside the database (files, other servers,
# processes). Matched on the lower-cased name, schema qualifier ignored.
_DENY_NAMES: dict[str, frozenset[str]] = {
    "postgres": _names("""pg_sleep pg_sleep_for pg_sleep_until nextval setval set_config pg_notify
        pg_reload_conf pg_rotate_logfile pg_switch_wal pg_promote pg_stat_file pg_stat_reset
        pg_signal_backend pg_terminate_backend pg_cancel_backend pg_backup_start pg_backup_stop
        pg_start_backup pg_stop_backup pg_create_restore_point pg_import_system_collations
        loread lowrite txid_current pg_current_xact_id"""),
    "mysql": _names("""load_file sleep benchmark get_lock release_lock release_all_locks
        is_free_lock is_used_lock sys_exec sys_eval sys_get sys_set master_pos_wait source_pos_wait
        wait_for_executed_gtid_set wait_until_sql_thread_after_gtids nextval setval
        lastval"""),
    "sqlite": _names("load_extension writefile readfile edit fts3_tokenizer fsdir zipfile"),
    "duckdb": _names("glob sniff_csv getenv nextval setval"),
    "tsql": _names("openrowset openquery opendatasource xp_cmdshell"),
}
_DENY_PATTERNS: dict[str, re.Pattern[str]] = {
    # large objects, server files, dblink, advisory locks, replication, query_to_xml & co
    "postgres": re.compile(
        r"lo_\w*|pg_read_\w*|pg_ls_\w*|pg_file_\w*|dblink\w*|pg_(try_)?advisory\w*"
        r"|pg_logical_\w*|pg_replication_\w*|pg_(create|drop)_\w*_slot|pg_wal_\w*"
        r"|\w*_to_xml\w*|\w*_to_xmlschema"
    ),
    "mysql": re.compile(r"lib_mysqludf_\w*"),
    "duckdb": re.compile(r"read_\w*|\w*_scan"),
    "tsql": re.compile(r"xp_\w*|sp_\w*"),
}
_FILE_WORDS = frozenset({"OUTFILE", "DUMPFILE"})
_EXECUTABLE_COMMENT = re.compile(r"/\*M?!", re.IGNORECASE)


class QueryRefused(ValueError):
    """The query is not provably one read-only SELECT; the message says why."""


class QueryUnparsable(QueryRefused):
    """The query is not valid SQL in the dialect it was parsed in."""


@dataclass(frozen=True)
class CheckedQuery:
    """A query proven read-only: `sql` is sqlglot's regeneration, ready for `sa.text`."""

    sql: str
    params: frozenset[str]  # the `:name` placeholders it binds
    dialect: str


def dialect_for(backend: str) -> str | None:
    """The sqlglot dialect for a SQLAlchemy backend name, or None when pilotwatch has none."""
    return DIALECTS.get(backend.lower())


def query_problem(sql: str, dialect: str) -> str | None:
    """Why `sql` is not one read-only SELECT in `dialect` (None when it is)."""
    try:
        check_query(sql, dialect)
    except QueryRefused as refused:
        return str(refused)
    return None


def check_query(sql: str, dialect: str) -> CheckedQuery:
    """Parse `sql` in `dialect` and return the SQL to execute, or raise QueryRefused."""
    if not sql.strip():
        raise QueryRefused("the query is empty")
    _check_tokens(sql, dialect)
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except (ParseError, TokenError) as exc:
        raise QueryUnparsable(
            f"cannot parse it as {dialect or 'generic'} SQL: {_first_line(exc)}"
        ) from exc
    trees = [t for t in trees if not isinstance(t, exp.Semicolon)]
    if not trees:
        raise QueryRefused("the query is empty")
    if len(trees) > 1:
        raise QueryRefused(f"only one statement is allowed, found {len(trees)}")
    tree = trees[0]
    root = tree.this if isinstance(tree, exp.Subquery) else tree
    if not isinstance(root, exp.Select | exp.SetOperation):
        kind = tree.key.upper() if not isinstance(tree, exp.Command) else str(tree.this).upper()
        raise QueryRefused(f"only a SELECT (or WITH ... SELECT) is allowed, not {kind}")
    _check_tree(tree, dialect)
    return _regenerate(tree, dialect)


def _check_tokens(sql: str, dialect: str) -> None:
    """Refuse what only the raw tokens show: version comments and INTO OUTFILE / DUMPFILE."""
    try:
        tokens = sqlglot.tokenize(sql, read=dialect)
    except (ParseError, TokenError) as exc:
        raise QueryUnparsable(
            f"cannot parse it as {dialect or 'generic'} SQL: {_first_line(exc)}"
        ) from exc
    if dialect == "mysql":
        # The text between tokens holds only whitespace and comments, so a `/*!` there is a
        # comment MySQL/MariaDB would execute while any parser (sqlglot too) skips it.
        end = 0
        for token in [*tokens, None]:
            gap = sql[end : token.start if token else len(sql)]
            if _EXECUTABLE_COMMENT.search(gap):
                raise QueryRefused(
                    "executable comments (`/*! ... */`, `/*M! ... */`) are refused: MySQL and "
                    "MariaDB run their content as SQL, so it cannot be checked"
                )
            end = token.end + 1 if token else end
    for before, token in itertools.pairwise(tokens):
        word = token.text.upper()
        if before.token_type == sqlglot.TokenType.INTO and word in _FILE_WORDS:
            raise QueryRefused(f"INTO {word} writes a file on the database server")


def _check_tree(tree: exp.Expr, dialect: str) -> None:
    for node in tree.walk():
        if isinstance(node, exp.DML | exp.DDL):
            raise QueryRefused(
                f"a data-modifying statement ({node.key.upper()}) is not allowed, "
                "not even inside a CTE"
            )
        if isinstance(node, exp.Command):
            raise QueryRefused(f"{str(node.this).upper()} is not allowed inside a query")
        if isinstance(node, exp.Into):
            raise QueryRefused("SELECT ... INTO writes its result; only plain SELECT is allowed")
        if isinstance(node, exp.Lock):
            raise QueryRefused(
                f"locking clauses ({node.sql(dialect=dialect)}) are not allowed in a read"
            )
        if isinstance(node, exp.NextValueFor):
            raise QueryRefused("NEXT VALUE FOR advances a sequence (a write)")
        if isinstance(node, exp.Placeholder) and not node.args.get("this"):
            raise QueryRefused("positional `?` parameters are not supported; use `:name`")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if _denied(name, dialect):
                raise QueryRefused(
                    f"function {name}() is not allowed: it writes, waits, locks or reaches "
                    "outside the database (docs/connectors.md lists the denied functions)"
                )


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return node.name.lower()
    return node.sql_name().lower()


def _denied(name: str, dialect: str) -> bool:
    pattern = _DENY_PATTERNS.get(dialect)
    return name in _DENY_NAMES.get(dialect, frozenset()) or bool(
        pattern and pattern.fullmatch(name)
    )


def _regenerate(tree: exp.Expr, dialect: str) -> CheckedQuery:
    """sqlglot's SQL for `tree`, with `:name` placeholders that `sa.text` binds."""
    # Placeholders become unguessable sentinels; every other colon (in literals, quoted names)
    # is escaped as `\:` so that SQLAlchemy's text() never mistakes it for a bind parameter.
    tag = f"pw{secrets.token_hex(8)}"
    names: set[str] = set()

    def mark(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.args.get("this"):
            names.add(node.name)
            return exp.var(f"{tag}_{node.name}")
        return node

    marked = tree.copy().transform(mark)
    text = marked.sql(dialect=dialect, comments=False, normalize_functions=False)
    text = text.replace(":", "\\:")
    text = re.sub(rf"{tag}_(\w+)", r":\1", text)
    return CheckedQuery(sql=text, params=frozenset(names), dialect=dialect)


def _unparsable(dialect: str, exc: Exception) -> QueryUnparsable:
    return QueryUnparsable(f"cannot parse it as {dialect or 'generic'} SQL: {_first_line(exc)}")


def _first_line(exc: Exception) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).strip()
    return " ".join(text.split("\n")[:2]) if text else type(exc).__name__
