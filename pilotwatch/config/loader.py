"""Load and validate config/*.yaml; every error names file, key path, line and expectation."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from core.models import STAGES, Access, Config, Settings
from pilotwatch.config.checks import check_connectors, cross_check, secret_values
from pilotwatch.config.issues import Collector, ConfigError, ConfigIssue, format_path, nearest_line
from pilotwatch.config.strict_yaml import document_key, read_yaml

__all__ = ["FILES", "ConfigError", "ConfigIssue", "load_config", "substitute_env"]

FILES: dict[str, str] = {
    "initiatives": "initiatives.yaml",
    "slos": "slos.yaml",
    "controls": "controls.yaml",
    "gates": "gates.yaml",
    "waivers": "waivers.yaml",
    "sources": "sources.yaml",
    "settings": "settings.yaml",
    # optional: without it (or without rules) nobody signs in (docs/governance.md)
    "access": "access.yaml",
}
# innermost references first, so a default may itself use one: ${A:-sqlite:///${B:-data}/x.db}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^${}]*))?\}")
_SLOT = re.compile("\x00(\\d+)\x00")


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


def _read_yaml(
    path: Path, collector: Collector, rel: str, several_documents: bool = False
) -> tuple[list[Any], dict[tuple[Any, ...], int]]:
    """The documents of one file read strictly (docs/config.md), and its line index."""
    read = read_yaml(path, several_documents=several_documents)
    for problem in read.problems:
        collector.add(rel, format_path(problem.path), problem.message, problem.line)
    return read.documents, read.index


def _section(
    docs: list[Any],
    key: str,
    rel: str,
    collector: Collector,
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
    collector: Collector,
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
                format_path(path),
                f"unknown top-level key (this file holds only {expected}; see docs/config.md)",
                nearest_line(index, path),
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
    collector = Collector()
    if not root.is_dir():
        raise ConfigError([ConfigIssue(str(root), "", "configuration directory not found")])

    raw: dict[str, Any] = {}
    indexes: dict[str, dict[tuple[Any, ...], int]] = {}
    rels: dict[str, str] = {}
    for section, filename in FILES.items():
        path = root / filename
        rel = str(path)
        rels[section] = rel
        expect: type = dict if section in ("gates", "settings", "access") else list
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
    hidden = secret_values(raw["sources"], env_values)
    raw["sources"] = substitute_env(raw["sources"], env_values, missing, ("sources",), where)
    for name, used_at in sorted(set(where), key=lambda w: (format_path(w[1]), w[0])):
        collector.add(
            rels["sources"],
            format_path(used_at),
            f"environment variable ${{{name}}} is not set (secrets come from the environment "
            "or Streamlit secrets)",
            nearest_line(indexes.get("sources", {}), used_at),
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
        "access": lambda v: Config(access=v).access,
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
                        nearest_line(indexes.get(section, {}), ("gates", stage)),
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
                parsed[section] = Settings() if section == "settings" else Access()
    config = Config(
        initiatives=parsed["initiatives"],
        slos=parsed["slos"],
        controls=parsed["controls"],
        gates=parsed["gates"],
        waivers=parsed["waivers"],
        sources=parsed["sources"],
        settings=parsed["settings"],
        access=parsed["access"],
        root=str(root.resolve().parent),
    )
    cross_check(config, rels, indexes, collector, origins)
    check_connectors(config, origins["sources"], rels["sources"], indexes, collector, where, hidden)
    if collector.issues:
        raise ConfigError(collector.issues)
    return config


def _report_items(
    collector: Collector,
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


def _field_path(field: str) -> tuple[Any, ...]:
    """`spec.objectives[1].op` -> ("spec", "objectives", 1, "op") for the line index."""
    parts: list[Any] = []
    for piece in field.split("."):
        name, _, rest = piece.partition("[")
        if name:
            parts.append(name)
        for number in rest.replace("]", "").split("[") if rest else []:
            parts.append(int(number) if number.isdigit() else number)
    return tuple(parts)


def _slo_documents(
    docs: list[Any], rel: str, collector: Collector, index: dict[tuple[Any, ...], int]
) -> list[Any]:
    """Plain `slos:` lists and OpenSLO / Sloth / Pyrra documents, in file order.

    The standards go through pilotwatch.slo_import (docs/bring-your-slos.md): a refused
    document is a config error naming the file, the document and its field.
    """
    from pilotwatch.slo_import.files import import_documents, is_slo_standard

    parts: list[tuple[int, list[Any]]] = []
    standard: list[tuple[Any, str, int]] = []
    for number, doc in enumerate(docs):
        where = (document_key(number),)
        line = index.get(where)
        if isinstance(doc, dict) and "slos" in doc:
            prefix = () if number == 0 else where
            _unknown_top_level(doc, ("slos",), rel, collector, index, prefix)
            items = doc["slos"] or []
            if not isinstance(items, list):
                collector.add(rel, format_path((*prefix, "slos")), "expected a list", line)
                continue
            parts.append((number, list(items)))
        elif is_slo_standard(doc):
            standard.append((doc, rel, number + 1))
        else:
            collector.add(
                rel, where[0], "expected `slos:` or an OpenSLO, Sloth or Pyrra document", line
            )
    if standard:
        result = import_documents(standard)
        for refusal in result.refused:
            number = refusal.document - 1
            field = _field_path(refusal.field)
            prefix = () if number == 0 else (document_key(number),)
            who = f" ({refusal.slo})" if refusal.slo else ""
            collector.add(
                rel,
                f"{document_key(number)}.{refusal.field}",
                f"refused{who}: {refusal.reason} (see docs/bring-your-slos.md)",
                nearest_line(index, (*prefix, *field)),
            )
        for slo in result.slos:
            parts.append((slo.document - 1, [slo.entry]))
    parts.sort(key=lambda part: part[0])  # stable: a document's SLOs keep their order
    return [item for _, items in parts for item in items]
