"""Tell a plain PromQL series selector from any other expression (docs/connectors.md, Prometheus).

A plain selector is an optional metric name followed by an optional `{...}` of label matchers
(`label op "value"`, op one of `=`, `!=`, `=~`, `!~`, values in double, single or back quotes),
and nothing else: no function, operator, range, `offset` or `@`. Such a query names raw series,
which the connector counts exactly as counters; anything else is evaluated as an expression.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_OP = re.compile(r"=~|!~|!=|=")
_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`')
_SPACE = re.compile(r"\s*")


@dataclass(frozen=True)
class Selector:
    """A parsed plain series selector; `matchers` keep each value exactly as written (quoted)."""

    name: str | None
    matchers: tuple[tuple[str, str, str], ...]

    def render(self, suffix: str = "", extra: tuple[tuple[str, str, str], ...] = ()) -> str:
        """The selector as PromQL, the name given `suffix` and `extra` matchers appended."""
        inner = ", ".join(f"{label}{op}{value}" for label, op, value in (*self.matchers, *extra))
        return f"{self.name or ''}{suffix}{{{inner}}}"

    def label(self, name: str) -> bool:
        """True when a matcher constrains label `name`."""
        return any(label == name for label, _, _ in self.matchers)


def _skip(text: str, at: int) -> int:
    match = _SPACE.match(text, at)
    return match.end() if match else at


def parse_selector(query: str) -> Selector | None:
    """The selector `query` is, or None when it is any other PromQL expression."""
    at = _skip(query, 0)
    name = None
    match = _NAME.match(query, at)
    if match:
        name, at = match.group(), _skip(query, match.end())
    matchers: list[tuple[str, str, str]] = []
    if at < len(query) and query[at] == "{":
        at = _skip(query, at + 1)
        while at < len(query) and query[at] != "}":
            label = _LABEL.match(query, at)
            if not label:
                return None
            at = _skip(query, label.end())
            op = _OP.match(query, at)
            if not op:
                return None
            at = _skip(query, op.end())
            value = _STRING.match(query, at)
            if not value:
                return None
            matchers.append((label.group(), op.group(), value.group()))
            at = _skip(query, value.end())
            if at < len(query) and query[at] == ",":
                at = _skip(query, at + 1)
            elif at < len(query) and query[at] != "}":
                return None
        if at >= len(query):
            return None
        at = _skip(query, at + 1)
    if at != len(query) or (name is None and not matchers):
        return None
    return Selector(name, tuple(matchers))


def quote_value(value: str) -> str:
    """`value` as a double-quoted PromQL string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def regex_alternatives(values: list[str]) -> str:
    """A double-quoted PromQL regex matching exactly the given strings."""
    return quote_value("|".join(re.escape(v) for v in values))
