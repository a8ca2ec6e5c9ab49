"""CSV and NDJSON text -> records with physical line numbers, before Polars sees any value.

The rules (docs/connectors.md, "The file connector"):

- A line ends at `\\n`, `\\r\\n` or `\\r` (CSV); NDJSON lines end at `\\n` (`\\r\\n` too), or at
  `\\r` in a file without any `\\n` (an old Mac file).
- A CSV record starts on a non-blank line and runs to the first line where its quotes balance,
  however many lines that takes (quoted fields may hold delimiters, line breaks and doubled
  quotes). A record that is not valid CSV, has the wrong number of fields or never balances its
  quotes is quarantined at its first line only, and reading resumes on the next line: every
  non-blank line is either part of a loaded record or the start of exactly one quarantined row.
- NDJSON values are kept as the text written: numbers (`1e400`, huge integers) and the
  non-standard `NaN` / `Infinity` that Python's json accepts never overflow or fail the file;
  conform judges them per row and column like any text value.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

LINE = "__pw_line"  # the physical line a record starts on, as text
_LINE_END = re.compile(r"(\r\n|\r|\n)")


def physical_lines(text: str) -> list[str]:
    """Lines of `text` split at `\\r\\n`, `\\r` or `\\n`, each with its own line end kept."""
    parts = _LINE_END.split(text)
    lines = [content + end for content, end in zip(parts[0::2], [*parts[1::2], ""], strict=True)]
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def _strip_end(line: str) -> str:
    return line.rstrip("\r\n")


def _field_pattern(delimiter: str, quote: str) -> re.Pattern[str]:
    """One RFC 4180 field: quoted (delimiters, line breaks, doubled quotes inside) or plain.

    The quoted form is written as an unrolled loop (`[^q]*(?:qq[^q]*)*`), which never
    backtracks, so a field of any length costs one linear pass.
    """
    d, q = re.escape(delimiter), re.escape(quote)
    return re.compile(f"{q}([^{q}]*(?:{q}{q}[^{q}]*)*){q}|([^{q}{d}\\r\\n]*)")


def _split(record: str, delimiter: str, quote: str, pattern: re.Pattern[str]) -> list[str] | None:
    """Fields of one record (its final line end removed), or None when it is not valid CSV."""
    if quote not in record:
        return record.split(delimiter)
    fields: list[str] = []
    position = 0
    while True:
        match = pattern.match(record, position)
        if match is None:  # pragma: no cover - the plain alternative always matches
            return None
        quoted, plain = match.group(1), match.group(2)
        fields.append(quoted.replace(quote * 2, quote) if quoted is not None else plain)
        position = match.end()
        if position == len(record):
            return fields
        if record[position] != delimiter:
            return None  # text after a closing quote, or a quote inside a plain field
        position += 1


def csv_records(
    text: str, delimiter: str = ",", quote: str = '"'
) -> tuple[list[str], list[tuple[int, list[str]]], list[tuple[int, str]]]:
    """Pre-pass: (header, [(line, fields)], [(line, reason)]) with physical 1-based lines.

    Raises ValueError when the header line is not valid CSV.
    """
    lines = physical_lines(text)
    pattern = _field_pattern(delimiter, quote)
    header = _split(_strip_end(lines[0]), delimiter, quote, pattern) if lines else []
    if header is None:
        raise ValueError("the header line is not well-formed CSV")
    header = [name.strip() for name in header]
    odd = [line.count(quote) % 2 == 1 for line in lines]
    next_odd = [len(lines)] * (len(lines) + 1)  # first line at or after i with an odd quote count
    for i in range(len(lines) - 1, -1, -1):
        next_odd[i] = i if odd[i] else next_odd[i + 1]
    good: list[tuple[int, list[str]]] = []
    bad: list[tuple[int, str]] = []
    i = 1
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        end = i + 1 if not odd[i] else next_odd[i + 1] + 1  # the line that balances the quotes
        if end > len(lines):
            bad.append((i + 1, "malformed line: unbalanced quote"))
            i += 1
            continue
        record = _strip_end("".join(lines[i:end]))
        fields = _split(record, delimiter, quote, pattern)
        if fields is not None and len(fields) == len(header):
            good.append((i + 1, fields))
            i = end
            continue
        if fields is None:
            bad.append((i + 1, "malformed line: broken quoting"))
        else:
            bad.append((i + 1, f"malformed line: expected {len(header)} fields, got {len(fields)}"))
        i += 1  # blame the first line only and resynchronise on the next one
    return header, good, bad


def csv_frame(
    text: str, delimiter: str, quote: str, origin: str
) -> tuple[pl.LazyFrame, list[tuple[str, str]]]:
    """CSV text -> raw all-string LazyFrame with a line column, plus malformed lines.

    Raises ValueError for a header that cannot be used.
    """
    header, good, bad = csv_records(text, delimiter, quote)
    dupes = sorted({name for name in header if header.count(name) > 1})
    if dupes:
        raise ValueError(f"duplicate column names in the header: {dupes}")
    located = [(f"{origin}:{line}", why) for line, why in bad]
    schema = dict.fromkeys([LINE, *header], pl.String())
    if not good or not header:
        return pl.LazyFrame(schema=schema), located
    data: dict[str, list[str]] = {LINE: [str(line) for line, _ in good]}
    for index, name in enumerate(header):
        data[name] = [fields[index] for _, fields in good]
    return pl.LazyFrame(data, schema=schema), located


def _ndjson_lines(text: str) -> list[str]:
    """NDJSON lines: `\\n` ends a line (a JSON value may hold a bare `\\r` as white space)."""
    return text.split("\n") if "\n" in text or "\r" not in text else text.split("\r")


def _as_text(value: Any) -> str | None:
    """A JSON value as the text conform parses: numbers as written, booleans as true/false."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)  # an object or array, shown as JSON


def _encodable(row: dict[str, str | None]) -> bool:
    """Whether keys and values are real text (a `\\ud800` escape decodes to half a character)."""
    try:
        for key, value in row.items():
            key.encode("utf-8")
            if value is not None:
                value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def ndjson_frame(text: str, origin: str) -> tuple[pl.LazyFrame | None, list[tuple[str, str]]]:
    """NDJSON text -> raw all-string LazyFrame with a line column (None when no object), plus
    malformed lines."""
    rows: list[dict[str, str | None]] = []
    keys: dict[str, None] = {}
    bad: list[tuple[str, str]] = []
    for number, line in enumerate(_ndjson_lines(text), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        try:  # numbers and NaN/Infinity stay text: conform judges them per value
            record = json.loads(stripped, parse_float=str, parse_int=str, parse_constant=str)
            if not isinstance(record, dict):
                bad.append((f"{origin}:{number}", "malformed line: not a JSON object"))
                continue
            row = {key: _as_text(value) for key, value in record.items() if key != LINE}
            if "\\u" in stripped and not _encodable(row):
                bad.append((f"{origin}:{number}", "malformed line: \\u escape of no character"))
                continue
        except json.JSONDecodeError as exc:
            bad.append((f"{origin}:{number}", f"malformed line: invalid JSON ({exc.msg})"))
            continue
        except RecursionError:
            bad.append((f"{origin}:{number}", "malformed line: JSON nested too deeply"))
            continue
        row[LINE] = str(number)
        keys.update(dict.fromkeys(row))
        rows.append(row)
    if not rows:
        return None, bad
    schema = dict.fromkeys([LINE, *(k for k in keys if k != LINE)], pl.String())
    data = {name: [row.get(name) for row in rows] for name in schema}
    return pl.LazyFrame(data, schema=schema), bad
