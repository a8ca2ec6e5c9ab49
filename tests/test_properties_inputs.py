"""Properties of the file readers over generated and mutated CSV, NDJSON and Parquet inputs.

For every input: no exception other than a ConnectorError escapes `FileConnector.load()` and
collecting its frames, and every input record is either loaded or quarantined. The number of
input records is known independently: the tests generate the rows and serialise them here.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connectors.base import BAD, LOCATION, ConnectorError, SourceSpec
from connectors.file import FileConnector

FAST = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
COLUMNS = ("timestamp", "initiative", "service", "duration_ms", "status_code")
_BREAKS = re.compile(r"\r\n|\r|\n")

numbers = st.one_of(
    st.sampled_from(["NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1e400", "-0", "1_0"]),
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", " ", "12", "3.5", "abc", "200.0"]),
)
offsets = st.tuples(st.sampled_from("+-"), st.integers(0, 99), st.integers(0, 99)).map(
    lambda t: f"{t[0]}{t[1]:02d}:{t[2]:02d}"
)
timestamps = st.one_of(
    st.builds(lambda o: f"2026-03-01T09:00:00{o}", offsets),
    st.sampled_from(["2026-03-01T09:00:00Z", "2026-03-01", "2026-02-30", "yesterday", ""]),
)
texts = st.text(
    alphabet=st.sampled_from(list("ab ,;\"'\r\n\t\\{}[]é\u2028\x00")), max_size=12
)  # delimiters, quotes, every line break, NUL
csv_rows = st.lists(st.tuples(timestamps, texts, texts, numbers, numbers), min_size=0, max_size=12)


def spec(root: Path, name: str) -> SourceSpec:
    settings_ = {"path": name, "_root": str(root)}
    return SourceSpec(name="p", type="file", tables=("requests",), settings=settings_)


def load(root: Path, name: str) -> pl.DataFrame | None:
    """The collected requests frame, or None when a ConnectorError refused the source."""
    try:
        return FileConnector(spec(root, name)).load().frames["requests"].collect()
    except ConnectorError:
        return None


def csv_field(value: str) -> str:
    """RFC 4180: quote a field holding a delimiter, a quote or a line break."""
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def csv_text(rows: list[tuple[str, ...]], end: str) -> tuple[str, list[int]]:
    """CSV text for `rows` with line end `end`, and the physical line each row starts on."""
    lines = [",".join(COLUMNS)]
    starts, line = [], 2
    for row in rows:
        record = ",".join(csv_field(v) for v in row)
        if not record.strip():  # a blank line is no record: make it visibly empty
            record = '""' + record
        starts.append(line)
        line += 1 + len(_BREAKS.findall(record))
        lines.append(record)
    return end.join(lines) + end, starts


def in_temp(write: Any) -> Any:
    """Run `write(folder)` in a fresh temporary folder and return its result."""
    with tempfile.TemporaryDirectory() as folder:
        return write(Path(folder))


@FAST
@given(rows=csv_rows, end=st.sampled_from(["\n", "\r\n", "\r"]))
def test_every_generated_csv_record_is_loaded_or_quarantined_at_its_line(
    rows: list[tuple[str, ...]], end: str
) -> None:
    text, starts = csv_text(rows, end)

    def run(root: Path) -> None:
        (root / "r.csv").write_bytes(text.encode())
        data = load(root, "r.csv")
        assert data is not None
        assert data.height == len(rows)  # loaded + quarantined = the rows written
        assert sorted(data[LOCATION].to_list()) == sorted(f"r.csv:{n}" for n in starts)

    in_temp(run)


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, byte) edits: insert, delete or replace one byte."""
    out = bytearray(data)
    for kind, position, value in edits:
        at = position % (len(out) + 1)
        if kind == 0:
            out.insert(at, value)
        elif kind == 1 and at < len(out):
            del out[at]
        elif at < len(out):
            out[at] = value
    return bytes(out)


special_bytes = st.one_of(st.sampled_from(b'",\r\n\x00{}:[]'), st.integers(0, 255))
edits = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 10_000), special_bytes), min_size=1, max_size=6
)


def non_blank_lines(raw: bytes) -> int:
    text = raw.decode("utf-8", errors="replace")
    return sum(1 for line in _BREAKS.split(text) if line.strip())


@FAST
@given(rows=csv_rows, end=st.sampled_from(["\n", "\r\n", "\r"]), changes=edits)
def test_mutated_csv_never_escapes_and_never_invents_rows(
    rows: list[tuple[str, ...]], end: str, changes: list[tuple[int, int, int]]
) -> None:
    raw = mutate(csv_text(rows, end)[0].encode(), changes)

    def run(root: Path) -> None:
        (root / "r.csv").write_bytes(raw)
        data = load(root, "r.csv")
        if data is None:
            return
        locations = data[LOCATION].to_list()
        assert len(set(locations)) == len(locations)  # one row per starting line
        assert data.height <= max(non_blank_lines(raw) - 1, 0)  # the header is no record
        assert data.filter(pl.col(BAD))["_reason"].null_count() == 0

    in_temp(run)


json_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**90), max_value=2**90),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
json_rows = st.lists(
    st.fixed_dictionaries(
        {
            "timestamp": st.one_of(timestamps, json_values),
            "initiative": st.one_of(st.just("vt"), json_values),
            "service": st.one_of(texts, json_values),
            "duration_ms": st.one_of(json_values, numbers),
        },
        optional={"status_code": json_values, "extra": json_values},
    ),
    max_size=10,
)


@FAST
@given(rows=json_rows, end=st.sampled_from(["\n", "\r\n"]), raw_numbers=st.booleans())
def test_every_generated_ndjson_line_is_loaded_or_quarantined_at_its_line(
    rows: list[dict[str, Any]], end: str, raw_numbers: bool
) -> None:
    def dump(row: dict[str, Any]) -> str:
        text = json.dumps(row)  # NaN / Infinity / -Infinity as Python writes them
        value = row["duration_ms"]
        # written unquoted (1e400, NaN as raw tokens); a value holding a line break would split
        # the record into two lines, which is another input than the rows generated
        if raw_numbers and isinstance(value, str) and not ("\n" in value or "\r" in value):
            text = text.replace(json.dumps(row["duration_ms"]), row["duration_ms"] or '""', 1)
        return text

    lines = [dump(row) for row in rows]
    valid = sum(1 for line in lines if _is_object(line))

    def run(root: Path) -> None:
        (root / "r.ndjson").write_text(end.join(lines) + end, encoding="utf-8")
        data = load(root, "r.ndjson")
        if not rows:
            assert data is None or data.height == 0
            return
        assert data is not None
        assert data.height == len(rows)
        assert sorted(data[LOCATION].to_list()) == sorted(
            f"r.ndjson:{n}" for n in range(1, len(rows) + 1)
        )
        assert valid <= len(rows)

    in_temp(run)


def _is_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


@FAST
@given(rows=json_rows, changes=edits)
def test_mutated_ndjson_never_escapes_and_never_invents_rows(
    rows: list[dict[str, Any]], changes: list[tuple[int, int, int]]
) -> None:
    raw = mutate("\n".join(json.dumps(r) for r in rows).encode(), changes)

    def run(root: Path) -> None:
        (root / "r.ndjson").write_bytes(raw)
        data = load(root, "r.ndjson")
        if data is None:
            return
        assert data.height <= non_blank_lines(raw)
        assert len(set(data[LOCATION].to_list())) == data.height

    in_temp(run)


T0 = datetime(2026, 3, 1, 9)
durations = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), min_size=1, max_size=8).map(pa.array),
    st.lists(st.integers(0, 2**64 - 1), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.uint64())
    ),
    st.lists(st.integers(-(10**9), 10**9) | st.none(), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.duration("ms"))
    ),
    st.lists(st.decimals(-1000, 1000, places=2, allow_nan=False), min_size=1, max_size=8).map(
        lambda v: pa.array(v, pa.decimal128(8, 2))
    ),
    st.lists(st.text(max_size=5), min_size=1, max_size=8).map(pa.array),
    st.lists(st.lists(st.floats(), max_size=2), min_size=1, max_size=8).map(pa.array),
)


def status_column(kind: str | None, n: int, seed: int) -> pa.Array | None:
    if kind == "uint64":
        return pa.array([(seed * (i + 7919)) % 2**64 for i in range(n)], pa.uint64())
    if kind == "int64":
        return pa.array([200 + i for i in range(n)], pa.int64())
    if kind == "float":
        values = [200.0, 200.5, math.inf, math.nan, -math.inf, 2.0**70]
        return pa.array([values[(seed + i) % len(values)] for i in range(n)])
    if kind == "binary":
        return pa.array([bytes([seed % 256, i % 256]) for i in range(n)], pa.binary())
    return None


@FAST
@given(
    duration=durations,
    status=st.sampled_from([None, "uint64", "int64", "float", "binary"]),
    seed=st.integers(0, 2**64),
    aware=st.booleans(),
    truncate=st.one_of(st.none(), st.integers(1, 400)),
)
def test_generated_parquet_rows_are_loaded_or_quarantined(
    duration: pa.Array, status: str | None, seed: int, aware: bool, truncate: int | None
) -> None:
    n = len(duration)
    tz = UTC if aware else None
    columns: dict[str, Any] = {
        "timestamp": pa.array([(T0 + timedelta(minutes=i)).replace(tzinfo=tz) for i in range(n)]),
        "initiative": ["vt"] * n,
        "service": ["api"] * n,
        "duration_ms": duration,
    }
    extra = status_column(status, n, seed)
    if extra is not None:
        columns["status_code"] = extra
    nested = pa.types.is_list(duration.type)

    def run(root: Path) -> None:
        pq.write_table(pa.table(columns), root / "r.parquet")
        if truncate is not None:  # a cut file: refused as unreadable, never a crash
            data = (root / "r.parquet").read_bytes()
            (root / "r.parquet").write_bytes(data[: max(len(data) - truncate, 0)])
        frame = load(root, "r.parquet")
        if truncate is not None or nested:
            assert frame is None  # a ConnectorError, never a traceback
            return
        assert frame is not None
        assert frame.height == n
        assert frame[LOCATION].to_list() == [f"r.parquet#row {i}" for i in range(n)]
        good = frame.filter(~pl.col(BAD))
        assert good["duration_ms"].is_finite().all()  # never a non-finite number loaded
        assert (good["duration_ms"] >= 0).all()

    in_temp(run)


@FAST
@given(sign=st.sampled_from("+-"), hours=st.integers(0, 99), minutes=st.integers(0, 99))
def test_an_offset_loads_exactly_when_it_is_a_real_offset(
    sign: str, hours: int, minutes: int
) -> None:
    text = f"{','.join(COLUMNS)}\n2026-03-01T09:00:00{sign}{hours:02d}:{minutes:02d},vt,api,1,\n"
    real = minutes < 60 and hours * 60 + minutes <= 18 * 60

    def run(root: Path) -> None:
        (root / "r.csv").write_text(text)
        data = load(root, "r.csv")
        assert data is not None and data.height == 1
        assert data[BAD][0] is (not real)
        if real:
            shift = timedelta(hours=hours, minutes=minutes) * (1 if sign == "+" else -1)
            assert data["timestamp"][0] == datetime(2026, 3, 1, 9, tzinfo=UTC) - shift

    in_temp(run)
