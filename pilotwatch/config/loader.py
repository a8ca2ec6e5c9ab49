"""Load and validate config/*.yaml; every error names file, key path, line and expectation."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.models import STAGES, Config, Settings, Source
from core.report import GATE_METRICS
from pilotwatch.config.openslo import is_openslo, openslo_to_slo
from pilotwatch.config.secret_urls import mask_passwords
from pilotwatch.config.strict_yaml import document_key, read_yaml

FILES: dict[str, str] = {
    "initiatives": "initiatives.yaml",
    "slos": "slos.yaml",
    "controls": "controls.yaml",
    "gates": "gates.yaml",
    "waivers": "waivers.yaml",
    "sources": "sources.yaml",
    "settings": "settings.yaml",
}
# innermost references first, so a default may itself use one: ${A:-sqlite:///${B:-data}/x.db}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^${}]*))?\}")
_SLOT = re.compile("\x00(\\d+)\x00")


@dataclass(frozen=True)
class ConfigIssue:
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


def _format_path(parts: tuple[Any, ...]) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _nearest_line(index: dict[tuple[Any, ...], int], path: tuple[Any, ...]) -> int | None:
    for cut in range(len(path), -1, -1):
        if path[:cut] in index:
            return index[path[:cut]]
    return None


def substitute_env(
    value: Any,
    env: Mapping[str, str],
    missing: list[str],
    path: tuple[Any, ...] = (),
    where: list[tuple[str, tuple[Any, ...]]] | None = None,
) -> Any:
    """Replace `${NAME}` / `${NAME:-default}` in every string; collect unset names.

    With `where`, each unset name is also recorded with the key path it was used at.
    """
    if isinstance(value, str):
        # environment values are parked in slots so that their text is never expanded again
        slots: list[str] = []

        def repl(match: re.Match[str]) -> str:
            name, default = match.group(1), match.group(2)
            if name in env:
                slots.append(env[name])
                return f"\x00{len(slots) - 1}\x00"
            if default is not None:
                return default
            missing.append(name)
            if where is not None:
                where.append((name, path))
            return ""

        text = value
        for _ in range(8):
            expanded = _ENV.sub(repl, text)
            if expanded == text:
                break
            text = expanded
        return _SLOT.sub(lambda m: slots[int(m.group(1))], text)
    if isinstance(value, list):
        return [substitute_env(v, env, missing, (*path, i), where) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: substitute_env(v, env, missing, (*path, k), where) for k, v in value.items()}
    return value


class _Collector:
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
        self.add(file, _format_path(full), message, _nearest_line(index, full))


def _read_yaml(
    path: Path, collector: _Collector, rel: str, several_documents: bool = False
) -> tuple[list[Any], dict[tuple[Any, ...], int]]:
    """The documents of one file read strictly (docs/config.md), and its line index."""
    read = read_yaml(path, several_documents=several_documents)
    for problem in read.problems:
        collector.add(rel, _format_path(problem.path), problem.message, problem.line)
    return read.documents, read.index


def _section(
    docs: list[Any],
    key: str,
    rel: str,
    collector: _Collector,
    expect: type,
    index: dict[tuple[Any, ...], int],
) -> Any:
    if not docs:
        return expect()
    first = docs[0]
    if not isinstance(first, dict):
        collector.add(rel, "", f"expected a mapping with top-level key `{key}`", index.get(()))
        return expect()
    _unknown_top_level(first, (key,), rel, collector, index)
    if key not in first:
        if not first:
            collector.add(rel, "", f"expected a mapping with top-level key `{key}`", index.get(()))
        return expect()
    value = first[key]
    if value is None:
        return expect()
    if not isinstance(value, expect):
        collector.add(rel, key, f"expected a {expect.__name__}", index.get((key,)))
        return expect()
    return value


def _unknown_top_level(
    doc: dict[Any, Any],
    allowed: tuple[str, ...],
    rel: str,
    collector: _Collector,
    index: dict[tuple[Any, ...], int],
    prefix: tuple[Any, ...] = (),
) -> None:
    """A located error for every top-level key of `doc` other than `allowed`."""
    expected = ", ".join(f"`{name}:`" for name in allowed)
    for name in doc:
        if name not in allowed:
            path = (*prefix, str(name))
            collector.add(
                rel,
                _format_path(path),
                f"unknown top-level key (this file holds only {expected}; see docs/config.md)",
                _nearest_line(index, path),
            )


def load_config(
    directory: str | Path = "config",
    env: Mapping[str, str] | None = None,
    secrets: Mapping[str, str] | None = None,
) -> Config:
    """Read every YAML file under `directory`; raise ConfigError listing every problem."""
    root = Path(directory)
    env_values: dict[str, str] = dict(os.environ if env is None else env)
    if secrets:
        env_values = {**dict(secrets), **env_values}
    collector = _Collector()
    if not root.is_dir():
        raise ConfigError([ConfigIssue(str(root), "", "configuration directory not found")])

    raw: dict[str, Any] = {}
    indexes: dict[str, dict[tuple[Any, ...], int]] = {}
    rels: dict[str, str] = {}
    for section, filename in FILES.items():
        path = root / filename
        rel = str(path)
        rels[section] = rel
        expect: type = dict if section in ("gates", "settings") else list
        if not path.exists():
            raw[section] = expect()
            continue
        docs, index = _read_yaml(path, collector, rel, several_documents=section == "slos")
        indexes[section] = index
        if section == "slos":
            raw[section] = _slo_documents(docs, rel, collector, index)
        else:
            raw[section] = _section(docs, section, rel, collector, expect, index)

    # OpenSLO documents may also live in config/slos/*.yaml
    slo_dir = root / "slos"
    if slo_dir.is_dir():
        for path in sorted(slo_dir.glob("*.y*ml")):
            docs, index = _read_yaml(path, collector, str(path), several_documents=True)
            items = _slo_documents(docs, str(path), collector, index)
            raw["slos"].extend(
                {**item, "__file__": str(path)} if isinstance(item, dict) else item
                for item in items
            )

    missing: list[str] = []
    where: list[tuple[str, tuple[Any, ...]]] = []
    hidden = _secret_values(raw["sources"], env_values)
    raw["sources"] = substitute_env(raw["sources"], env_values, missing, ("sources",), where)
    for name, used_at in sorted(set(where), key=lambda w: (_format_path(w[1]), w[0])):
        collector.add(
            rels["sources"],
            _format_path(used_at),
            f"environment variable ${{{name}}} is not set (secrets come from the environment "
            "or Streamlit secrets)",
            _nearest_line(indexes.get("sources", {}), used_at),
        )

    parsed: dict[str, Any] = {}
    # (original position, file or None) of every valid item, for cross-file error messages
    origins: dict[str, list[tuple[int, str | None]]] = {}
    parsers: dict[str, Callable[[Any], Any]] = {
        "initiatives": lambda v: Config(initiatives=v).initiatives,
        "slos": lambda v: Config(slos=v).slos,
        "controls": lambda v: Config(controls=v).controls,
        "gates": lambda v: Config(gates=v).gates,
        "waivers": lambda v: Config(waivers=v).waivers,
        "sources": lambda v: Config(sources=v).sources,
        "settings": lambda v: Config(settings=v).settings,
    }
    for section, parse in parsers.items():
        value = raw[section]
        if section in ("initiatives", "slos", "controls", "waivers", "sources"):
            # validate item by item so one bad entry does not hide the others' errors
            good = []
            origins[section] = []
            for i, item in enumerate(value):
                origin = item.pop("__file__", None) if isinstance(item, dict) else None
                try:
                    good.extend(parse([item]))
                    origins[section].append((i, origin))
                except ValidationError as exc:
                    prefix: tuple[Any, ...] = (section, i)
                    # an item from another file has no line index here
                    lines = indexes if origin is None else {}
                    _report_items(collector, origin or rels[section], exc, prefix, lines, section)
            parsed[section] = good
        elif section == "gates":
            # stage by stage, so one bad check does not hide the other stages' errors
            parsed[section] = {}
            for stage, checks in value.items():
                if stage not in STAGES:
                    collector.add(
                        rels[section],
                        f"gates.{stage}",
                        f"expected a stage, one of {STAGES}",
                        _nearest_line(indexes.get(section, {}), ("gates", stage)),
                    )
                try:
                    parsed[section].update(parse({stage: checks}))
                except ValidationError as exc:
                    collector.from_validation(rels[section], exc, (), indexes.get(section, {}))
        else:
            try:
                parsed[section] = parse(value)
            except ValidationError as exc:
                collector.from_validation(rels[section], exc, (), indexes.get(section, {}))
                parsed[section] = Settings()
    config = Config(
        initiatives=parsed["initiatives"],
        slos=parsed["slos"],
        controls=parsed["controls"],
        gates=parsed["gates"],
        waivers=parsed["waivers"],
        sources=parsed["sources"],
        settings=parsed["settings"],
        root=str(root.resolve().parent),
    )
    _cross_check(config, rels, indexes, collector, origins)
    _check_connectors(
        config, origins["sources"], rels["sources"], indexes, collector, where, hidden
    )
    if collector.issues:
        raise ConfigError(collector.issues)
    return config


def _report_items(
    collector: _Collector,
    file: str,
    exc: ValidationError,
    prefix: tuple[Any, ...],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    section: str,
) -> None:
    # pydantic's loc starts with the section and index 0 of the one-item list we validated
    fixed = []
    for item in exc.errors():
        loc = tuple(item["loc"])
        if len(loc) >= 2 and loc[0] == section and loc[1] == 0:
            loc = loc[2:]
        fixed.append((loc, item))
    index = indexes.get(section, {})
    for loc, item in fixed:
        collector.add_error(file, (*prefix, *loc), item, index)


def _slo_documents(
    docs: list[Any], rel: str, collector: _Collector, index: dict[tuple[Any, ...], int]
) -> list[Any]:
    """Plain `slos:` lists and OpenSLO v1 `kind: SLO` documents, in file order."""
    out: list[Any] = []
    for number, doc in enumerate(docs):
        where = (document_key(number),)
        line = index.get(where)
        if isinstance(doc, dict) and "slos" in doc:
            prefix = () if number == 0 else where
            _unknown_top_level(doc, ("slos",), rel, collector, index, prefix)
            items = doc["slos"] or []
            if not isinstance(items, list):
                collector.add(rel, _format_path((*prefix, "slos")), "expected a list", line)
                continue
            out.extend(items)
        elif is_openslo(doc):
            try:
                out.append(openslo_to_slo(doc))
            except ValueError as exc:
                collector.add(rel, where[0], str(exc), line)
        elif isinstance(doc, dict) and doc.get("kind") and doc.get("apiVersion"):
            continue  # other OpenSLO kinds (Service, SLI) are allowed alongside
        else:
            collector.add(rel, where[0], "expected `slos:` or an OpenSLO kind: SLO", line)
    return out


def _cross_check(
    config: Config,
    rels: dict[str, str],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: _Collector,
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
            path = ("slos", position, "initiative")
            collector.add(
                file,
                _format_path(path),
                f"unknown initiative {slo.initiative!r} (expected one of {sorted(known)})",
                _nearest_line(index, path),
            )
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
                    _format_path(path),
                    f"unknown metric {check.metric!r} (expected one of the report paths listed "
                    "in docs/metrics.md, e.g. delivery.change_failure_rate)",
                    _nearest_line(indexes.get("gates", {}), path),
                )
    for i, waiver in enumerate(config.waivers):
        position, file, index = origin("waivers", i)
        path = ("waivers", position)
        if waiver.initiative not in known:
            collector.add(
                file,
                _format_path((*path, "initiative")),
                f"unknown initiative {waiver.initiative!r}",
                _nearest_line(index, (*path, "initiative")),
            )
        if waiver.check not in check_ids:
            collector.add(
                file,
                _format_path((*path, "check")),
                f"unknown gate check {waiver.check!r}",
                _nearest_line(index, (*path, "check")),
            )
    for i, source in enumerate(config.sources):
        position, _, index = origin("sources", i)
        for name in source.initiatives:
            if name not in known:
                path = ("sources", position, "initiatives")
                collector.add(
                    rels["sources"],
                    _format_path(path),
                    f"unknown initiative {name!r}",
                    _nearest_line(index, path),
                )
        _check_source(source, position, rels, indexes, collector)


def _check_source(
    source: Source,
    i: int,
    rels: dict[str, str],
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: _Collector,
) -> None:
    from core.canonical import TABLES

    for j, table in enumerate(source.tables):
        if table not in TABLES:
            path = ("sources", i, "tables", j)
            collector.add(
                rels["sources"],
                _format_path(path),
                f"unknown table {table!r} (expected one of {list(TABLES)})",
                _nearest_line(indexes.get("sources", {}), path),
            )


# env names whose values are redacted from connector messages even outside a URL
_SECRET_NAME = re.compile(r"pass|secret|token|key|pwd|cred|auth", re.IGNORECASE)
_ENV_NAME = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)")
_ERROR_PREFIX = re.compile(r"^settings((?:\.[^\s.:]+)*):")


def _secret_values(sources: Any, env: Mapping[str, str]) -> dict[int, list[str]]:
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


def _check_connectors(
    config: Config,
    origins: list[tuple[int, str | None]],
    rel: str,
    indexes: dict[str, dict[tuple[Any, ...], int]],
    collector: _Collector,
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
            collector.add(rel, _format_path(path), connector, _nearest_line(index, path))
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
            line = _nearest_line(index, (*base, "settings", *text_path))
            collector.add(rel, _format_path(full), redact(message, secrets), line)


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
    collector: _Collector,
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
