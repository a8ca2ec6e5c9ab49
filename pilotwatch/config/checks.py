"""Checks across configuration files (docs/config.md): references, duplicates, connector settings.

They run after every file validated on its own, so each message can name the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from core.models import Config, Source
from core.report import GATE_METRICS
from pilotwatch.config.issues import Collector, format_path, nearest_line


def cross_check(
    config: Config,
    rels: dict[str, str],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: Collector,
    origins: dict[str, list[tuple[int, str | None]]] | None = None,
) -> None:
    """References between files: SLO and waiver initiatives, gate stages, duplicate ids."""

    def origin(section: str, i: int) -> tuple[int, str, dict[tuple[Any, ...], int]]:
        """Position in the file, file name and line index of the i-th valid item."""
        known_origins = (origins or {}).get(section, [])
        position, file = known_origins[i] if i < len(known_origins) else (i, None)
        if file is not None:
            return position, file, {}
        return position, rels[section], indexes.get(section, {})

    ids = [i.id for i in config.initiatives]
    _duplicates(ids, "initiatives", "id", rels, indexes, collector)
    _duplicates([s.name for s in config.slos], "slos", "name", rels, indexes, collector)
    _duplicates([c.id for c in config.controls], "controls", "id", rels, indexes, collector)
    _duplicates([s.name for s in config.sources], "sources", "name", rels, indexes, collector)
    known = set(ids)
    for i, slo in enumerate(config.slos):
        if slo.initiative not in known:
            position, file, index = origin("slos", i)
            path: tuple[Any, ...] = ("slos", position, "initiative")
            collector.add(
                file,
                format_path(path),
                f"unknown initiative {slo.initiative!r} (expected one of {sorted(known)})",
                nearest_line(index, path),
            )
    _check_indicators(config, origin, collector)
    check_ids = {c.id for checks in config.gates.values() for c in checks}
    for stage, checks in config.gates.items():
        _duplicates(
            [c.id for c in checks], f"gates.{stage}", "id", rels, indexes, collector, "gates"
        )
        for n, check in enumerate(checks):
            if check.metric not in GATE_METRICS:
                path = ("gates", stage, n, "metric")
                collector.add(
                    rels["gates"],
                    format_path(path),
                    f"unknown metric {check.metric!r} (expected one of the report paths listed "
                    "in docs/metrics.md, e.g. delivery.change_failure_rate)",
                    nearest_line(indexes.get("gates", {}), path),
                )
    for i, waiver in enumerate(config.waivers):
        position, file, index = origin("waivers", i)
        path = ("waivers", position)
        if waiver.initiative not in known:
            collector.add(
                file,
                format_path((*path, "initiative")),
                f"unknown initiative {waiver.initiative!r}",
                nearest_line(index, (*path, "initiative")),
            )
        if waiver.check not in check_ids:
            collector.add(
                file,
                format_path((*path, "check")),
                f"unknown gate check {waiver.check!r}",
                nearest_line(index, (*path, "check")),
            )
    for i, source in enumerate(config.sources):
        position, _, index = origin("sources", i)
        for name in source.initiatives:
            if name not in known:
                path = ("sources", position, "initiatives")
                collector.add(
                    rels["sources"],
                    format_path(path),
                    f"unknown initiative {name!r}",
                    nearest_line(index, path),
                )
        _check_source(source, position, rels, indexes, collector)
    _check_access(config, known, rels, indexes, collector)


def _check_access(
    config: Config,
    known: set[str],
    rels: dict[str, str],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: Collector,
) -> None:
    """Every initiative a rule of access.yaml names must exist (a typo would hide nothing)."""
    index = indexes.get("access", {})
    for r, rule in enumerate(config.access.rules):
        if rule.initiatives == "*":
            continue
        for k, name in enumerate(rule.initiatives):
            if name not in known:
                path = ("access", "rules", r, "initiatives", k)
                collector.add(
                    rels.get("access", "access.yaml"),
                    format_path(path),
                    f"unknown initiative {name!r} (expected one of {sorted(known)})",
                    nearest_line(index, path),
                )


def _check_indicators(
    config: Config,
    origin: Callable[[str, int], tuple[int, str, dict[tuple[Any, ...], int]]],
    collector: Collector,
) -> None:
    """An SLO indicator's source exists and is a prometheus source; unset only when unambiguous.

    The prometheus connector reads an indicator whose `source` is unset as its own, so with
    several enabled prometheus sources every one of them would count it (docs/connectors.md).
    """
    types = {source.name: source.type for source in config.sources}
    prometheus = sorted(s.name for s in config.sources if s.type == "prometheus" and s.enabled)
    for i, slo in enumerate(config.slos):
        if slo.indicator is None:
            continue
        position, file, index = origin("slos", i)
        path: tuple[Any, ...] = ("slos", position, "indicator", "source")
        named = slo.indicator.source
        if named is None and len(prometheus) > 1:
            message = (
                f"unset, but there are several prometheus sources {prometheus}: name the one "
                "that reads this indicator"
            )
        elif named is not None and named not in types:
            message = f"unknown source {named!r} (prometheus sources: {prometheus or 'none'})"
        elif named is not None and types[named] != "prometheus":
            message = (
                f"source {named!r} is of type {types[named]!r}; an indicator is read by a "
                "prometheus source"
            )
        else:
            continue
        collector.add(file, format_path(path), message, nearest_line(index, path))


def _check_source(
    source: Source,
    i: int,
    rels: dict[str, str],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: Collector,
) -> None:
    from core.canonical import TABLES

    if source.type == "prometheus" and list(source.tables) != ["sli_buckets"]:
        where: tuple[Any, ...] = ("sources", i, "tables")
        collector.add(
            rels["sources"],
            format_path(where),
            f"a prometheus source delivers only sli_buckets; set tables: [sli_buckets] "
            f"(got {list(source.tables)})",
            nearest_line(indexes.get("sources", {}), where),
        )
    for j, table in enumerate(source.tables):
        if table not in TABLES:
            path = ("sources", i, "tables", j)
            collector.add(
                rels["sources"],
                format_path(path),
                f"unknown table {table!r} (expected one of {list(TABLES)})",
                nearest_line(indexes.get("sources", {}), path),
            )


# env names whose values are redacted from connector messages even outside a URL
_SECRET_NAME = re.compile(r"pass|secret|token|key|pwd|cred|auth", re.IGNORECASE)
_ENV_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_ERROR_PREFIX = re.compile(r"^settings((?:\.[^\s.:]+)*):")


def secret_values(sources: Any, env: Mapping[str, str]) -> dict[int, list[str]]:
    """Per raw source position: env values it uses that are URLs or look like secrets."""
    out: dict[int, list[str]] = {}
    for i, source in enumerate(sources if isinstance(sources, list) else []):
        names = set(_ENV_NAME.findall(repr(source)))
        out[i] = [
            env[name]
            for name in sorted(names)
            if env.get(name) and ("://" in env[name] or _SECRET_NAME.search(name))
        ]
    return out


def check_connectors(
    config: Config,
    origins: list[tuple[int, str | None]],
    rel: str,
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: Collector,
    unset: list[tuple[str, tuple[Any, ...]]],
    hidden: dict[int, list[str]],
) -> None:
    """Each enabled source's type and settings, checked by its connector as at load time."""
    from connectors import registry
    from connectors.sql import redact

    index = indexes.get("sources", {})
    found: dict[str, Any] = {}
    for i, source in enumerate(config.sources):
        if not source.enabled:
            continue  # a disabled source may name a plugin this machine does not have
        position = origins[i][0] if i < len(origins) else i
        secrets = hidden.get(position, [])
        base = ("sources", position)
        if source.type not in found:
            try:
                found[source.type] = registry.get(source.type)
            except registry.UnknownConnector as exc:
                found[source.type] = str(exc)
        connector = found[source.type]
        if isinstance(connector, str):
            path = (*base, "type")
            collector.add(rel, format_path(path), connector, nearest_line(index, path))
            continue
        # an unset ${NAME} is already reported there; its empty value would only add noise
        blank = [used[3:] for _, used in unset if used[:3] == (*base, "settings")]
        settings = {**source.settings, "_root": config.root}
        try:
            issues = _connector_issues(connector, settings)
        except Exception as exc:  # a plugin's own check must not crash the config load
            issues = [((), f"the connector could not check its settings: {type(exc).__name__}", ())]
        for where, message, text_path in issues:
            if any(tuple(text_path[: len(b)]) == b for b in blank):
                continue
            full = (*base, "settings", *where)
            line = nearest_line(index, (*base, "settings", *text_path))
            collector.add(rel, format_path(full), redact(message, secrets), line)


def _connector_issues(
    connector: Any, settings: dict[str, Any]
) -> list[tuple[tuple[Any, ...], str, tuple[Any, ...]]]:
    """(path under settings, message, path the message is about) from the connector's check."""
    if hasattr(connector, "settings_issues"):
        return [(tuple(p), str(m), tuple(p)) for p, m in connector.settings_issues(settings)]
    out = []
    for error in connector.settings_errors(settings):
        # "settings.url: required ...": kept whole at `settings`; its prefix gives the line
        match = _ERROR_PREFIX.match(error)
        about = tuple(match.group(1).split(".")[1:]) if match else ()
        out.append(((), str(error), about))
    return out


def _duplicates(
    values: list[str],
    section: str,
    key: str,
    rels: dict[str, str],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: Collector,
    file_section: str | None = None,
) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            collector.add(
                rels[file_section or section],
                section,
                f"duplicate {key} {value!r}: each {key} must be unique",
            )
        seen.add(value)
