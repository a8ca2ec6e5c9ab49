"""The Collector `file` exporter's files: plain JSON lines, gzip, and both zstd framings.

The exporter writes one OTLP/JSON request per line. With `compression: zstd` it writes, by
default, each request compressed on its own and preceded by its length (4 bytes, unsigned,
big-endian); behind its native-compression feature gate the whole file is instead one zstd
stream (one frame per write when rotating) whose text is the same JSON lines. The framing is
told apart by the first bytes, never by the file name (docs/connectors.md, "otlp"). A file
whose first line is a lone `{` holds one pretty-printed request and is read as one record.
"""

from __future__ import annotations

import gzip
import io
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
GZIP_MAGIC = b"\x1f\x8b"
_PREFIX = 4  # bytes of the big-endian length before each length-prefixed record


@dataclass(frozen=True)
class Record:
    """One request of a file: its 1-based number (the line in the uncompressed text)."""

    number: int
    text: str | None  # None: the record could not be read (see `problem`)
    problem: str | None = None


def _lines(data: bytes) -> Iterator[Record]:
    if data.lstrip().split(b"\n", 1)[0].strip() == b"{":
        # one pretty-printed request (the OTLP examples' layout), not JSON lines: one record
        try:
            yield Record(1, data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Record(1, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")
        return
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue  # blank lines (the final newline) carry no request
        try:
            yield Record(number, raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            yield Record(number, None, f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _zstd_stream(data: bytes) -> bytes:
    # every frame of the file, concatenated: rotation writes one frame per request
    reader = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data), read_across_frames=True)
    return reader.read()


def _length_prefixed(data: bytes) -> Iterator[Record]:
    offset, number = 0, 0
    decompressor = zstandard.ZstdDecompressor()
    while offset < len(data):
        number += 1
        if offset + _PREFIX > len(data):
            yield Record(number, None, "truncated length prefix at the end of the file")
            return
        size = int.from_bytes(data[offset : offset + _PREFIX], "big")
        body = data[offset + _PREFIX : offset + _PREFIX + size]
        offset += _PREFIX + size
        if len(body) < size:
            yield Record(number, None, f"truncated record: {len(body)} of {size} bytes")
            return
        if body.startswith(ZSTD_MAGIC):
            try:
                body = decompressor.decompress(body, max_output_size=1 << 30)
            except zstandard.ZstdError as exc:
                yield Record(number, None, f"not a zstd frame ({exc})")
                continue
        try:
            yield Record(number, body.decode("utf-8"))
        except UnicodeDecodeError:
            # `format: proto` writes binary protobuf here; this connector reads OTLP/JSON
            yield Record(number, None, "not OTLP/JSON text (the exporter's `format: proto`?)")


def _looks_length_prefixed(data: bytes) -> bool:
    if len(data) < _PREFIX + 1:
        return False
    size = int.from_bytes(data[:_PREFIX], "big")
    body = data[_PREFIX : _PREFIX + 4]
    return 0 < size <= len(data) - _PREFIX and (body.startswith(ZSTD_MAGIC) or body[:1] == b"{")


def read_records(path: Path) -> Iterator[Record]:
    """Every request in `path`, in order; unreadable parts come back as records with a problem."""
    data = path.read_bytes()
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            yield Record(1, None, f"not a readable gzip file ({exc})")
            return
    elif data.startswith(ZSTD_MAGIC):
        try:
            data = _zstd_stream(data)
        except zstandard.ZstdError as exc:
            yield Record(1, None, f"not a readable zstd stream ({exc})")
            return
    elif _looks_length_prefixed(data):
        yield from _length_prefixed(data)
        return
    yield from _lines(data)
