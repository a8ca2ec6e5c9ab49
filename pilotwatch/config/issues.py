"""Configuration issues: located messages, collected so that every error is reported at once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from pilotwatch.config.secret_urls import mask_passwords


@dataclass(frozen=True)
class ConfigIssue:
    """One problem: file, key path, message and (when known) line."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '<root>'}: {self.message}"


class ConfigError(Exception):
    """All configuration errors found, reported together."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"{len(issues)} configuration error(s):\n{lines}")


def format_path(parts: tuple[Any, ...]) -> str:
    """`("slos", 1, "window")` -> `slos[1].window`."""
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def nearest_line(index: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    """The YAML line of `path`, or of its nearest ancestor that has one."""
    for cut in range(len(path), -1, -1):
        if path[:cut] in index:
            return index[path[:cut]]
    return None


class Collector:
    """Every issue found while loading, each in words a config author can act on."""

    def __init__(self) -> None:
        self.issues: list[ConfigIssue] = []

    def add(self, file: str, path: str, message: str, line: int | None = None) -> None:
        # a URL password must never be printed, even inside a key path or an echoed value
        self.issues.append(ConfigIssue(file, mask_passwords(path), mask_passwords(message), line))

    def from_validation(
        self,
        file: str,
        error: ValidationError,
        prefix: tuple[Any, ...],
        index: dict[tuple[Any, ...], int],
    ) -> None:
        for item in error.errors():
            self.add_error(file, (*prefix, *item["loc"]), item, index)

    def add_error(
        self, file: str, loc: tuple[Any, ...], item: Any, index: dict[tuple[Any, ...], int]
    ) -> None:
        """One pydantic error at key path `loc`, in words a config author can act on."""
        full = tuple(p for p in loc if not (isinstance(p, str) and "[" in p))
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key (check the spelling; see docs/config.md)"
        elif item["type"] == "missing":
            message = "required key is missing"
        self.add(file, format_path(full), message, nearest_line(index, full))
