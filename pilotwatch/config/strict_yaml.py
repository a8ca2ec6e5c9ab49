"""Strict YAML for config files: UTF-8 only, no duplicate keys, bounded aliases, located problems.

A file is decoded, composed into nodes, checked, and only then constructed into Python values, so
an alias bomb is refused from its composed form (linear in the file's size) before anything
expands it. The rules are documented in docs/config.md ("Strict YAML").
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pilotwatch.config.secret_urls import password_problem

# A real configuration uses a handful of anchors (shared defaults); these bounds leave room for
# that while refusing the ~700-byte "billion laughs" document (9 levels x 10 aliases = 10^9 nodes)
MAX_ALIASES = 100  # alias references (`*name`) in one document
MAX_ALIAS_NODES = 10_000  # nodes that alias expansion adds to one document

_MERGE = "tag:yaml.org,2002:merge"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"

Path_ = tuple[Any, ...]


@dataclass(frozen=True)
class YamlProblem:
    """One problem in a YAML file: key path, message, 1-based line (None when unknown)."""

    path: Path_
    message: str
    line: int | None = None


@dataclass
class YamlFile:
    """The documents of one file (null documents dropped), a line index and its problems."""

    documents: list[Any] = field(default_factory=list)
    index: dict[Path_, int] = field(default_factory=dict)
    problems: list[YamlProblem] = field(default_factory=list)


class _Refused(yaml.MarkedYAMLError):
    """Raised while composing, to stop at the first alias past the limit."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that counts alias references per document while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.aliases = 0

    def compose_document(self) -> yaml.Node | None:
        self.aliases = 0
        return super().compose_document()

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(
                    problem=f"more than {MAX_ALIASES} alias references (`*name`) in one "
                    "document; a configuration needs a few at most (see docs/config.md)",
                    problem_mark=self.peek_event().start_mark,  # type: ignore[no-untyped-call]
                )
        return super().compose_node(parent, index)


def document_key(number: int) -> str:
    """The key-path element naming the `number`-th document of a multi-document file."""
    return f"document[{number}]"


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


def _decode(data: bytes, problems: list[YamlProblem]) -> str | None:
    bom = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[bom:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = data.count(b"\n", 0, offset) + 1
        column = offset - (data.rfind(b"\n", 0, offset) + 1) + 1
        problems.append(
            YamlProblem(
                (),
                f"not valid UTF-8: byte {offset} (line {line}, column {column}) is "
                f"0x{data[offset]:02x}; save the file as UTF-8",
                line,
            )
        )
        return None


def _yaml_problem(exc: yaml.YAMLError, text: str) -> YamlProblem:
    """An `invalid YAML` problem at the error's line, whatever kind of YAMLError it is."""
    if isinstance(exc, yaml.reader.ReaderError):  # e.g. a NUL or other control character
        line = text.count("\n", 0, exc.position) + 1
        return YamlProblem((), f"invalid YAML: {exc.reason} #x{exc.character:04x}", line)
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    if context and problem in ("second occurrence",):  # "found duplicate anchor 'a'; ..."
        problem = context.replace("; first occurrence", "")
    return YamlProblem((), f"invalid YAML: {problem}", mark.line + 1 if mark else None)


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


class _Recursive(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _alias_growth(root: yaml.Node) -> int:
    """Nodes the document would have once every alias is expanded, minus its distinct nodes.

    Linear in the composed document (each distinct node is sized once); raises _Recursive for
    an alias inside the node it names.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Recursive(node)
        active.add(key)
        total = 1 + sum(size(child) for child in _children(node))
        active.discard(key)
        sizes[key] = total
        return total

    return size(root) - len(sizes)


def _key_part(key: yaml.Node) -> Any:
    # every node class has an `id` ("mapping", "sequence"); the stubs only type it on some
    return key.value if isinstance(key, yaml.ScalarNode) else f"<{getattr(key, 'id', '?')} key>"


def _walk(
    node: yaml.Node,
    path: Path_,
    index: dict[Path_, int],
    seen: set[int],
    problems: list[YamlProblem],
) -> None:
    """Index lines by key path; report duplicate keys and URL passwords once per node."""
    index[path] = _line(node)
    first = id(node) not in seen
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode):
        if first and node.tag == _STR:
            problem = password_problem(node.value)
            if problem:
                problems.append(YamlProblem(path, problem, _line(node)))
    elif isinstance(node, yaml.MappingNode):
        keys: dict[tuple[str, Any], int] = {}
        for key, value in node.value:
            part = _key_part(key)
            sub = (*path, part)
            if first and key.tag == _STR and password_problem(key.value):
                problems.append(YamlProblem(sub, password_problem(key.value) or "", _line(key)))
            if first and key.tag != _MERGE:  # `<<: *base` then overriding a key is allowed
                identity = (key.tag, part)
                if identity in keys:
                    problems.append(
                        YamlProblem(
                            sub,
                            f"duplicate key `{part}` (first at line {keys[identity]})",
                            _line(key),
                        )
                    )
                else:
                    keys[identity] = _line(key)
            _walk(value, sub, index, seen, problems)
            index[sub] = _line(key)
    elif isinstance(node, yaml.SequenceNode):
        for i, value in enumerate(node.value):
            _walk(value, (*path, i), index, seen, problems)


def _unbuildable(node: yaml.Node, path: Path_) -> tuple[Path_, int | None]:
    """Key path and line of the first scalar that cannot be constructed (best effort)."""
    loader = yaml.SafeLoader("")
    stack: list[tuple[yaml.Node, Path_]] = [(node, path)]
    visited: set[int] = set()
    while stack:
        current, where = stack.pop()
        if id(current) in visited:
            continue
        visited.add(id(current))
        if isinstance(current, yaml.ScalarNode):
            try:
                loader.construct_object(current)
            except (ValueError, OverflowError):
                return where, _line(current)
        elif isinstance(current, yaml.MappingNode):
            stack.extend((v, (*where, _key_part(k))) for k, v in reversed(current.value))
        elif isinstance(current, yaml.SequenceNode):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(current.value))))
    return path, _line(node)


# libyaml (PyYAML's C parser) composes about ten times faster than the pure-Python loader
_CLoader: type[yaml.SafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def _compose_fast(text: str) -> tuple[Any, list[yaml.Node]] | None:
    """The documents' nodes by libyaml, or None when the pure-Python loader must decide.

    Only a document libyaml reads without error, with no alias (`*name`, so the alias limits
    have nothing to count) and no character the Python reader refuses, takes this path; it gives
    the same nodes, tags and lines. Anything else goes to `_StrictLoader`, which finds and words
    every problem as before.
    """
    if _CLoader is None or yaml.reader.Reader.NON_PRINTABLE.search(text):
        return None
    try:
        scan = _CLoader(text)
        try:
            while scan.check_event():
                if scan.check_event(yaml.AliasEvent):
                    return None
                scan.get_event()  # type: ignore[no-untyped-call]
        finally:
            scan.dispose()
        loader = _CLoader(text)
        nodes: list[yaml.Node] = []
        while loader.check_node():
            node = loader.get_node()
            if node is None or (
                isinstance(node, yaml.ScalarNode) and node.tag == _NULL and not node.value
            ):
                continue
            nodes.append(node)
    except (yaml.YAMLError, RecursionError):
        return None
    return loader, nodes


def _compose(text: str, out: YamlFile) -> tuple[Any, list[yaml.Node]] | None:
    fast = _compose_fast(text)
    if fast is not None:
        return fast
    try:
        loader = _StrictLoader(text)  # the reader refuses control characters right here
    except yaml.YAMLError as exc:
        out.problems.append(_yaml_problem(exc, text))
        return None
    nodes: list[yaml.Node] = []
    try:
        while loader.check_node():
            node = loader.get_node()
            assert node is not None  # check_node() said there is one
            if not (isinstance(node, yaml.ScalarNode) and node.tag == _NULL and not node.value):
                nodes.append(node)  # an empty document (`---` and nothing) holds nothing
    except yaml.YAMLError as exc:
        out.problems.append(_yaml_problem(exc, text))
        loader.dispose()
        return None
    except RecursionError:
        out.problems.append(YamlProblem((), "invalid YAML: nested too deeply", None))
        loader.dispose()
        return None
    return loader, nodes


def _check(node: yaml.Node, prefix: Path_, out: YamlFile) -> bool:
    """Alias limits, then line index, duplicate keys and passwords; False when refused."""
    try:
        growth = _alias_growth(node)
    except _Recursive as exc:
        out.problems.append(
            YamlProblem(
                prefix,
                "an alias refers to a node that contains it (a recursive structure), "
                "which no configuration value can be",
                _line(exc.node),
            )
        )
        return False
    except RecursionError:
        out.problems.append(YamlProblem(prefix, "invalid YAML: nested too deeply", _line(node)))
        return False
    if growth > MAX_ALIAS_NODES:
        out.problems.append(
            YamlProblem(
                prefix,
                f"aliases would expand this document by more than {MAX_ALIAS_NODES:,} nodes "
                "(an alias bomb?): write the values out or use fewer aliases "
                "(see docs/config.md)",
                _line(node),
            )
        )
        return False
    _walk(node, prefix, out.index, set(), out.problems)
    return True


def read_yaml(path: Path, *, several_documents: bool = False) -> YamlFile:
    """Read `path` strictly; `several_documents` allows more than one YAML document."""
    out = YamlFile()
    try:
        data = path.read_bytes()
    except OSError as exc:
        out.problems.append(YamlProblem((), f"cannot read file: {exc.strerror}"))
        return out
    text = _decode(data, out.problems)
    if text is None:
        return out
    composed = _compose(text, out)
    if composed is None:
        return out
    loader, nodes = composed
    try:
        if len(nodes) > 1 and not several_documents:
            out.problems.append(
                YamlProblem(
                    (document_key(1),),
                    "a second YAML document (after `---`): this file holds one document "
                    "(only slos.yaml and slos/*.yaml may hold several, for OpenSLO)",
                    _line(nodes[1]),
                )
            )
            nodes = nodes[:1]
        for number, node in enumerate(nodes):
            out.index[(document_key(number),)] = _line(node)
            prefix: Path_ = () if number == 0 else (document_key(number),)
            if not _check(node, prefix, out):
                continue
            try:
                value = loader.construct_document(node)
            except yaml.YAMLError as exc:  # e.g. an unknown tag such as !!python/object
                out.problems.append(_yaml_problem(exc, text))
                continue
            except (ValueError, OverflowError) as exc:  # YAML reads it, Python cannot: 2026-13-01
                where, line = _unbuildable(node, prefix)
                out.problems.append(YamlProblem(where, f"invalid value: {exc}", line))
                continue
            except RecursionError:
                out.problems.append(YamlProblem(prefix, "invalid YAML: nested too deeply"))
                continue
            if value is not None:
                out.documents.append(value)
    finally:
        loader.dispose()
    return out
