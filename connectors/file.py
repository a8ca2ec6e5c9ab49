"""FileConnector: CSV, Parquet and NDJSON files (one path or a glob per canonical table).

Parquet is scanned lazily. CSV and NDJSON go through a line-accounting pre-pass first
(connectors/records.py) so a malformed line is quarantined as `file:line` (physical line,
header = line 1) instead of crashing the read; every value reaches conform as text.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Annotated, ClassVar, Literal, cast

import polars as pl
from pydantic import AfterValidator, field_validator, model_validator

from connectors.base import (
    Connector,
    ConnectorSettings,
    RawPart,
    RawRead,
    SourceConfigError,
    SourceUnavailable,
    check_per_table,
)
from connectors.records import LINE
from connectors.records import csv_frame as _csv_frame
from connectors.records import ndjson_frame as _ndjson_frame
from core.canonical import TABLES

FORMATS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
}
_LINE = LINE  # the physical line column of CSV / NDJSON frames
_ROW = "__pw_row"


def _pattern(value: str) -> str:
    if not value.strip():
        raise ValueError("expected a file name or glob")
    return value


def _table_name(value: str) -> str:
    if value not in TABLES:
        raise ValueError(f"unknown table (expected one of {list(TABLES)})")
    return value


Pattern = Annotated[str, AfterValidator(_pattern)]
TableName = Annotated[str, AfterValidator(_table_name)]


class FileSettings(ConnectorSettings):
    """Settings of a `file` source (docs/connectors.md, "file")."""

    path: Pattern | None = None
    paths: dict[TableName, Pattern] | None = None
    table: TableName | None = None
    format: Literal["csv", "parquet", "ndjson"] | None = None
    delimiter: str | None = None
    quote_char: str = '"'
    encoding: str = "utf-8"

    @field_validator("delimiter", "quote_char")
    @classmethod
    def _single(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("expected a single character")
        return value

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, value: str) -> str:
        try:
            "".encode(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _one_of(self) -> FileSettings:
        if self.paths == {}:
            raise ValueError("`paths` must map at least one table to a file or glob")
        if (self.path is None) == (self.paths is None):
            raise ValueError("give exactly one of `path` (one table) or `paths` (per table)")
        if self.table is not None and self.paths is not None:
            raise ValueError("`table` only goes with `path` (`paths` names its tables)")
        return self


class FileConnector(Connector):
    """Reads canonical tables from files; see docs/connectors.md for every setting."""

    type_name: ClassVar[str] = "file"
    settings_model: ClassVar[type[ConnectorSettings]] = FileSettings

    def read(self) -> RawRead:
        """One raw part per file; missing files are SourceUnavailable."""
        parts: list[RawPart] = []
        for table, pattern in self._patterns().items():
            for path in self._files(self.root, pattern):
                part = self._read(path, table, _display(path, self.root))
                if part is not None:
                    parts.append(part)
        return RawRead(parts=parts)

    def table_files(self, table: str) -> list[Path]:
        """The files feeding `table`, in read order (the incremental store's partitions)."""
        pattern = self._patterns().get(table)
        return [] if pattern is None else self._files(self.root, pattern)

    def _file_settings(self) -> FileSettings:
        return cast(FileSettings, self.settings)

    def _patterns(self) -> dict[str, str]:
        """Canonical table -> path pattern, checked against the source's `tables`."""
        spec, settings = self.spec, self._file_settings()
        if settings.paths is not None:
            patterns = dict(settings.paths)
            check_per_table(spec, patterns, "paths", "no path for")
            return patterns
        table = settings.table
        if table is None:
            if len(spec.tables) != 1:
                raise SourceConfigError(
                    spec.name,
                    f"settings.path feeds one table but the source lists {list(spec.tables)}; "
                    "use `paths: {table: file}`",
                )
            table = spec.tables[0]
        elif table not in spec.tables:
            raise SourceConfigError(spec.name, f"settings.table {table!r} is not in `tables`")
        return {table: str(settings.path)}

    def _files(self, root: Path, pattern: str) -> list[Path]:
        full = Path(pattern).expanduser()
        if not full.is_absolute():
            full = root / full
        if glob.has_magic(str(full)):
            found = sorted(Path(p) for p in glob.glob(str(full), recursive=True))
            files = [p for p in found if p.is_file()]
            if not files:
                raise SourceUnavailable(self.spec.name, f"no file matches {str(full)!r}")
            return files
        if not full.is_file():
            raise SourceUnavailable(self.spec.name, f"file not found: {str(full)!r}")
        return [full]

    def _format(self, path: Path) -> str:
        chosen = self._file_settings().format or FORMATS.get(path.suffix.lower())
        if chosen is None:
            raise SourceConfigError(
                self.spec.name,
                f"cannot tell the format of {path.name!r} from its extension; set settings.format",
            )
        return str(chosen)

    def _read(self, path: Path, table: str, origin: str) -> RawPart | None:
        """One file -> its raw part (None for an empty file)."""
        kind = self._format(path)
        if path.stat().st_size == 0:
            return None
        bad: list[tuple[str, str]] = []
        if kind == "parquet":
            raw = pl.scan_parquet(path, row_index_name=_ROW)
            location = pl.format(f"{origin}#row {{}}", pl.col(_ROW))
            try:
                raw.collect_schema()
            except (pl.exceptions.PolarsError, OSError) as exc:
                raise SourceUnavailable(self.spec.name, f"cannot read {origin}: {exc}") from exc
        else:
            text = self._text(path, origin)
            if not text.strip():
                return None
            if kind == "csv":
                try:
                    raw, bad = _csv_frame(text, self._delimiter(path), self._quote(), origin)
                except ValueError as exc:
                    raise SourceConfigError(self.spec.name, f"{origin}: {exc}") from exc
            else:
                parsed, bad = _ndjson_frame(text, origin)
                if parsed is None:  # not one JSON object: nothing to check columns against
                    return RawPart(table, None, origin, pl.lit(""), malformed=bad)
                raw = parsed
            location = pl.format(f"{origin}:{{}}", pl.col(_LINE))
        return RawPart(table, raw, origin, location, trim_text=kind != "parquet", malformed=bad)

    def _text(self, path: Path, origin: str) -> str:
        encoding = self._file_settings().encoding
        if encoding.replace("-", "").lower() == "utf8":
            encoding = "utf-8-sig"  # tolerate a byte-order mark
        try:
            return path.read_bytes().decode(encoding)
        except UnicodeDecodeError as exc:
            raise SourceConfigError(
                self.spec.name,
                f"{origin} is not valid {encoding} (byte {exc.start}); set settings.encoding",
            ) from exc
        except OSError as exc:
            raise SourceUnavailable(
                self.spec.name, f"cannot read {origin}: {exc.strerror}"
            ) from exc

    def _delimiter(self, path: Path) -> str:
        default = "\t" if path.suffix.lower() == ".tsv" else ","
        return self._file_settings().delimiter or default

    def _quote(self) -> str:
        return self._file_settings().quote_char


def _display(path: Path, root: Path) -> str:
    """A file's name in locations: relative to the config root when it lives below it."""
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
