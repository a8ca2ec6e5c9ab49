"""Connector discovery through the `pilotwatch.connectors` entry-point group.

Built-in connectors are registered by pilotwatch's own pyproject.toml through the same group as
third-party plugins. A plugin that fails to import (or is not a Connector) is recorded in
`problems()` and skipped; the others keep working.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points

from connectors.base import Connector

GROUP = "pilotwatch.connectors"
# Used only when pilotwatch itself is not installed (no metadata), e.g. a bare source checkout.
_BUILTINS: dict[str, str] = {
    "file": "connectors.file:FileConnector",
    "sql": "connectors.sql:SqlConnector",
    "prometheus": "connectors.prometheus:PrometheusConnector",
    "otlp": "connectors.otlp:OtlpConnector",
}
_OWN_DISTRIBUTION = "pilotwatch"


@dataclass(frozen=True)
class PluginProblem:
    """A connector plugin that could not be used, and why."""

    name: str
    target: str
    distribution: str | None
    error: str

    def __str__(self) -> str:
        origin = f" (from {self.distribution})" if self.distribution else ""
        return f"connector {self.name!r}{origin} -> {self.target}: {self.error}"


@dataclass(frozen=True)
class Discovery:
    """Everything found in one scan: usable connectors and broken plugins."""

    connectors: dict[str, type[Connector]]
    problems: list[PluginProblem]


def _load(name: str, target: str, distribution: str | None) -> type[Connector] | PluginProblem:
    try:
        module_name, _, attr = target.partition(":")
        obj: object = importlib.import_module(module_name.strip())
        for part in attr.strip().split(".") if attr else ():
            obj = getattr(obj, part)
    except Exception as exc:  # a broken plugin must never break the others
        return PluginProblem(name, target, distribution, f"{type(exc).__name__}: {exc}")
    if not (isinstance(obj, type) and issubclass(obj, Connector)):
        return PluginProblem(name, target, distribution, "is not a connectors.base.Connector class")
    return obj


def _distribution(entry: EntryPoint) -> str | None:
    dist = getattr(entry, "dist", None)
    return dist.name if dist is not None else None


def discover() -> Discovery:
    """Scan the entry-point group now (no caching: plugins may be installed at run time)."""
    found: dict[str, type[Connector]] = {}
    problems: list[PluginProblem] = []
    entries = sorted(
        entry_points(group=GROUP),
        # pilotwatch's own registrations first, so a plugin cannot shadow a built-in
        key=lambda e: (_distribution(e) != _OWN_DISTRIBUTION, e.name, _distribution(e) or ""),
    )
    seen: set[tuple[str, str]] = set()
    for entry in entries:
        if (entry.name, entry.value) in seen:
            continue  # the same distribution visible twice on sys.path
        seen.add((entry.name, entry.value))
        distribution = _distribution(entry)
        if entry.name in found:
            problems.append(
                PluginProblem(
                    entry.name,
                    entry.value,
                    distribution,
                    f"the name {entry.name!r} is already taken by {found[entry.name].__module__}",
                )
            )
            continue
        loaded = _load(entry.name, entry.value, distribution)
        if isinstance(loaded, PluginProblem):
            problems.append(loaded)
        else:
            found[entry.name] = loaded
    for name, target in _BUILTINS.items():
        if name not in found and not any(p.name == name for p in problems):
            loaded = _load(name, target, None)
            if isinstance(loaded, PluginProblem):
                problems.append(loaded)
            else:
                found[name] = loaded
    return Discovery(connectors=found, problems=problems)


def available() -> dict[str, type[Connector]]:
    """Connector classes by type name (`file`, `sql`, plugins...)."""
    return discover().connectors


def problems() -> list[PluginProblem]:
    """Plugins that could not be loaded, with the reason."""
    return discover().problems


class UnknownConnector(KeyError):
    """No connector is registered under the requested type name."""

    def __str__(self) -> str:
        return str(self.args[0])


def get(type_name: str) -> type[Connector]:
    """The connector class for `type_name`; a clear error lists the known types and problems."""
    found = discover()
    if type_name in found.connectors:
        return found.connectors[type_name]
    message = f"unknown connector type {type_name!r}; known types: {sorted(found.connectors)}"
    broken = [p for p in found.problems if p.name == type_name]
    if broken:
        message += f"; the plugin for {type_name!r} failed to load: {broken[0].error}"
    raise UnknownConnector(message)
