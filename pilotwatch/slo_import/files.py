"""Read SLO definition files and send each document to its importer (docs/bring-your-slos.md).

A file holds one YAML document, several (`---`), a YAML list of documents (as the OpenSLO SDK
writes them) or JSON (an object or a list). YAML is read with the project's strict reader
(duplicate keys and alias bombs refused). Documents are numbered from 1 in file order, a list's
items one by one.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

from pilotwatch.config.strict_yaml import read_yaml
from pilotwatch.slo_import.mapping import ImportResult, Refusal
from pilotwatch.slo_import.openslo import import_openslo, is_openslo

MISSING = "Sloth/Pyrra support is not installed"
Docs = list[tuple[Any, str, int]]


def _json_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def read_documents(path: Path, name: str | None = None) -> tuple[Docs, list[Refusal]]:
    """The documents of one file, numbered, and a refusal for what cannot be read."""
    file = name or str(path)
    problems: list[Refusal] = []
    raw: list[Any]
    if path.suffix.lower() == ".json":
        try:
            raw = [json.loads(path.read_text("utf-8"), object_pairs_hook=_json_pairs)]
        except OSError as exc:
            return [], [Refusal(file, 0, "<file>", f"cannot read file: {exc.strerror or exc}")]
        except (UnicodeDecodeError, ValueError) as exc:
            return [], [Refusal(file, 1, "<json>", f"invalid JSON: {exc}")]
    else:
        read = read_yaml(path, several_documents=True)
        spoiled: set[int] = set()  # a document with a duplicate key is refused, not guessed
        for problem in read.problems:
            line = f"line {problem.line}: " if problem.line else ""
            parts = list(problem.path)
            number = 0
            if parts and str(parts[0]).startswith("document["):
                number = int(str(parts.pop(0))[len("document[") : -1])
            spoiled.add(number)
            where = ".".join(str(p) for p in parts) or "<yaml>"
            problems.append(Refusal(file, number + 1, where, f"{line}{problem.message}"))
        raw = [doc for number, doc in enumerate(read.documents) if number not in spoiled]
    docs: Docs = []
    for item in raw:
        for doc in item if isinstance(item, list) else [item]:
            docs.append((doc, file, len(docs) + 1))
    return docs, problems


def _importer(name: str) -> Any:
    """The sloth or pyrra importer module, or None when it is not installed."""
    try:
        return importlib.import_module(f"pilotwatch.slo_import.{name}")
    except ImportError:
        return None


def _which(doc: dict[str, Any]) -> str | None:
    """ "sloth", "pyrra" or None: by their own test, else by the version keys they use."""
    for name in ("sloth", "pyrra"):
        module = _importer(name)
        if module is not None and getattr(module, f"is_{name}")(doc):
            return name
    if doc.get("version") == "prometheus/v1":
        return "sloth"
    if str(doc.get("apiVersion", "")).startswith(("pyrra.dev/", "sloth.slok.dev/")):
        return "pyrra" if str(doc["apiVersion"]).startswith("pyrra.dev/") else "sloth"
    return None


def _sloth_pyrra(
    doc: dict[str, Any], file: str, number: int, initiative: str | None
) -> ImportResult:
    """A Sloth or Pyrra document through its importer, refused when that is not installed."""
    name = _which(doc)
    module = _importer(name) if name else None
    if module is None:
        return ImportResult(refused=[Refusal(file, number, "<document>", MISSING)])
    result: ImportResult = module.import_document(doc, file, number, initiative)
    return result


def _unknown() -> str:
    return "not an OpenSLO, Sloth (version: prometheus/v1) or Pyrra (pyrra.dev/v1alpha1) document"


def _recognised(doc: Any) -> bool:
    return isinstance(doc, dict) and _which(doc) is not None


def is_slo_standard(doc: Any) -> bool:
    """True for a document one of the importers reads (OpenSLO, Sloth, Pyrra)."""
    return is_openslo(doc) or _recognised(doc)


def import_documents(docs: Docs, initiative: str | None = None) -> ImportResult:
    """Map every document of a file set (OpenSLO references resolve across the whole set)."""
    result = ImportResult()
    openslo = [(doc, file, number) for doc, file, number in docs if is_openslo(doc)]
    for doc, file, number in docs:
        if is_openslo(doc):
            continue
        if _recognised(doc):
            result.extend(_sloth_pyrra(doc, file, number, initiative))
        else:
            result.refused.append(Refusal(file, number, "<document>", _unknown()))
    result.extend(import_openslo(openslo, initiative))
    order = {(file, number): i for i, (_, file, number) in enumerate(docs)}
    result.slos.sort(key=lambda s: order.get((s.file, s.document), 0))
    result.refused.sort(key=lambda r: order.get((r.file, r.document), -1))
    return result


def import_files(paths: list[Path], initiative: str | None = None) -> ImportResult:
    """Read and map every file; unreadable or invalid files are refusals, never exceptions."""
    docs: Docs = []
    problems: list[Refusal] = []
    for path in paths:
        file_docs, file_problems = read_documents(path)
        docs.extend(file_docs)
        problems.extend(file_problems)
    result = import_documents(docs, initiative)
    result.refused[:0] = problems
    return result
