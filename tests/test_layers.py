"""The house's layers point one way (docs/architecture.md): every import, parsed, checked.

core <- connectors, core <- metrics (siblings, never each other), then pilotwatch, then ui and
pages. Imports are read with `ast`, at module level and inside functions alike, so a lazy import
cannot hide an upward edge.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROJECT = ("core", "connectors", "metrics", "pilotwatch", "ui", "pages", "app")

# What each room may import from the project (its own package always included).
ALLOWED: dict[str, frozenset[str]] = {
    "core": frozenset({"core"}),
    "connectors": frozenset({"core", "connectors"}),
    "metrics": frozenset({"core", "metrics"}),
    "pilotwatch": frozenset({"core", "connectors", "metrics", "pilotwatch"}),
    "ui": frozenset({"core", "connectors", "metrics", "pilotwatch", "ui"}),
    "pages": frozenset({"core", "connectors", "metrics", "pilotwatch", "ui", "pages"}),
    "app": frozenset({"core", "connectors", "metrics", "pilotwatch", "ui", "pages"}),
}
# Finer rules inside a room: (module prefix, forbidden package).
FORBIDDEN: tuple[tuple[str, str], ...] = (("pilotwatch.config", "metrics"),)
STREAMLIT_ROOMS = frozenset({"app", "ui", "pages"})


def _modules() -> list[tuple[str, Path]]:
    found = [("app", ROOT / "app.py")]
    for package in PROJECT[:-1]:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found.append((".".join(parts), path))
    return found


def _imports(module: str, path: Path) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    is_package = path.name == "__init__.py"
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - (node.level - 1)]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _violations() -> list[tuple[str, str]]:
    """(rule, message) for every import that breaks a rule."""
    problems: list[tuple[str, str]] = []
    for module, path in _modules():
        room = module.split(".")[0]
        for line, name in _imports(module, path):
            top = name.split(".")[0]
            where = f"{path.relative_to(ROOT)}:{line} imports {name}"
            if top == "streamlit" and room not in STREAMLIT_ROOMS:
                problems.append(("streamlit", f"{where} (only app.py, pages/ and ui/ may)"))
            if top not in PROJECT:
                continue
            if top not in ALLOWED[room]:
                problems.append(("layers", f"{where} ({room} may import {sorted(ALLOWED[room])})"))
            for prefix, banned in FORBIDDEN:
                inside = module == prefix or module.startswith(prefix + ".")
                if inside and top == banned:
                    problems.append((f"{prefix} -/-> {banned}", f"{where}"))
    return problems


def test_the_walk_sees_every_room() -> None:
    rooms = {module.split(".")[0] for module, _ in _modules()}
    assert rooms == set(PROJECT)


def test_imports_resolve_relative_and_lazy(tmp_path: Path) -> None:
    package = tmp_path / "metrics"
    package.mkdir()
    source = package / "x.py"
    source.write_text("def f():\n    from connectors import phi\nfrom .y import z\n")
    assert _imports("metrics.x", source) == [(3, "metrics.y"), (2, "connectors")]


RULES = ["layers", "streamlit", *(f"{prefix} -/-> {banned}" for prefix, banned in FORBIDDEN)]


@pytest.mark.parametrize("rule", RULES)
def test_no_upward_import(rule: str) -> None:
    problems = [message for broken, message in _violations() if broken == rule]
    assert not problems, f"{rule}:\n" + "\n".join(problems)
