"""Config YAML at the edges: duplicate keys, aliases, encodings, extra documents, unknown keys,
literal URL passwords and connector settings, each a located error (file, line, key path)."""

from __future__ import annotations

import signal
import textwrap
import time
import tracemalloc
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pilotwatch.config import ConfigError, load_config
from pilotwatch.config.loader import ConfigIssue
from pilotwatch.config.strict_yaml import read_yaml

INITIATIVE = """\
initiatives:
  - id: triage
    name: Triage
    stage: pilot
    owner: Ana
    sponsor: CMO
    clinical_area: Emergency
    started_on: 2026-01-05
"""


def write(directory: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
    return directory


def issues(directory: Path, env: dict[str, str] | None = None) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        load_config(directory, env=env or {})
    return caught.value.issues


def one_issue(directory: Path, env: dict[str, str] | None = None) -> ConfigIssue:
    found = issues(directory, env)
    assert len(found) == 1, [str(i) for i in found]
    return found[0]


# --- duplicate keys ---------------------------------------------------------------------------


def test_a_duplicated_stage_is_an_error_not_last_wins(tmp_path: Path) -> None:
    # the second `stage:` would silently have made the pilot a production initiative
    write(tmp_path, {"initiatives.yaml": INITIATIVE + "    stage: production\n"})
    issue = one_issue(tmp_path)
    assert (Path(issue.file).name, issue.line, issue.path) == (
        "initiatives.yaml",
        9,
        "initiatives[0].stage",
    )
    assert issue.message == "duplicate key `stage` (first at line 4)"
    assert str(issue).endswith(
        "initiatives.yaml:9: initiatives[0].stage: duplicate key `stage` (first at line 4)"
    )


def test_a_duplicated_top_level_key_is_an_error(tmp_path: Path) -> None:
    text = "settings:\n  delivery_window: 30d\nsettings:\n  link_window: 2h\n"
    issue = one_issue(write(tmp_path, {"settings.yaml": text}))
    assert (issue.line, issue.path, issue.message) == (
        3,
        "settings",
        "duplicate key `settings` (first at line 1)",
    )


def test_anchors_aliases_and_merge_overrides_still_load(tmp_path: Path) -> None:
    # a legitimate anchor reused a few times, with `<<:` merges that override some keys
    initiatives = """\
initiatives:
  - &base
    id: one
    name: One
    stage: pilot
    owner: Ana
    sponsor: CMO
    clinical_area: Emergency
    started_on: 2026-01-05
  - <<: *base
    id: two
    stage: production
  - <<: *base
    id: three
"""
    config = load_config(write(tmp_path, {"initiatives.yaml": initiatives}), env={})
    assert [(i.id, i.stage, i.owner) for i in config.initiatives] == [
        ("one", "pilot", "Ana"),
        ("two", "production", "Ana"),
        ("three", "pilot", "Ana"),
    ]


# --- alias limits -----------------------------------------------------------------------------

BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def test_billion_laughs_fails_fast_with_bounded_memory(tmp_path: Path) -> None:
    # 8 levels of 9 aliases: 72 alias references (under the 100 limit), 9^9 = 387M strings
    assert len(BILLION_LAUGHS.encode()) < 700 and BILLION_LAUGHS.count("*") == 72
    write(tmp_path, {"initiatives.yaml": "initiatives: []\n" + BILLION_LAUGHS})

    def too_slow(*_: Any) -> None:
        raise AssertionError("the alias bomb was expanded (no answer within 10 s)")

    # a regression would expand 387M nodes for minutes: fail the test instead of hanging the run
    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(10)
    tracemalloc.start()
    try:
        started = time.perf_counter()
        found = issues(tmp_path)
        elapsed = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    assert elapsed < 2.0, elapsed
    assert peak < 5_000_000, peak
    (issue,) = found
    assert (Path(issue.file).name, issue.line, issue.path) == ("initiatives.yaml", 1, "")
    assert "aliases would expand this document by more than 10,000 nodes" in issue.message


def test_more_than_100_alias_references_are_refused_at_the_101st(tmp_path: Path) -> None:
    # line 1 anchors a scalar; lines 2..102 use it once each: the 101st use is on line 102
    text = "x: &x v\n" + "".join(f"k{n}: *x\n" for n in range(101))
    problems = read_yaml(write(tmp_path, {"a.yaml": text}) / "a.yaml").problems
    assert [(p.line, p.message.split(";")[0]) for p in problems] == [
        (102, "invalid YAML: more than 100 alias references (`*name`) in one document")
    ]
    exactly_100 = "x: &x v\n" + "".join(f"k{n}: *x\n" for n in range(100))
    read = read_yaml(write(tmp_path, {"b.yaml": exactly_100}) / "b.yaml")
    assert read.problems == [] and read.documents[0]["k99"] == "v"


def test_alias_expansion_limit_is_10000_added_nodes(tmp_path: Path) -> None:
    def document(scalars: int, uses: int) -> str:
        items = ", ".join(["x"] * scalars)
        return f"base: &b [{items}]\nuses: [{', '.join(['*b'] * uses)}]\n"

    # [99 scalars] is 100 nodes; 100 aliases to it add 100 * 100 = 10,000 nodes: allowed
    read = read_yaml(write(tmp_path, {"ok.yaml": document(99, 100)}) / "ok.yaml")
    assert read.problems == [] and len(read.documents[0]["uses"]) == 100
    # [100 scalars] is 101 nodes; 100 aliases add 10,100: refused
    (problem,) = read_yaml(write(tmp_path, {"no.yaml": document(100, 100)}) / "no.yaml").problems
    assert "more than 10,000 nodes" in problem.message and problem.line == 1


def test_a_recursive_alias_is_an_error_not_a_hang(tmp_path: Path) -> None:
    write(tmp_path, {"controls.yaml": "controls:\n  - &loop [1, *loop]\n"})
    issue = one_issue(tmp_path)
    assert (issue.line, issue.path) == (2, "")
    assert "an alias refers to a node that contains it" in issue.message


# --- encodings --------------------------------------------------------------------------------


def test_undecodable_bytes_are_a_located_error(tmp_path: Path) -> None:
    # "initiatives:\n" is bytes 0..12, "  - id: caf" bytes 13..23: the Latin-1 e-acute is byte 24
    write(tmp_path, {"initiatives.yaml": b"initiatives:\n  - id: caf\xe9\n"})
    issue = one_issue(tmp_path)
    assert (Path(issue.file).name, issue.line, issue.path) == ("initiatives.yaml", 2, "")
    assert issue.message == (
        "not valid UTF-8: byte 24 (line 2, column 12) is 0xe9; save the file as UTF-8"
    )


def test_a_utf8_bom_is_fine(tmp_path: Path) -> None:
    write(tmp_path, {"initiatives.yaml": b"\xef\xbb\xbf" + INITIATIVE.encode()})
    assert [i.id for i in load_config(tmp_path, env={}).initiatives] == ["triage"]
    # byte offsets count the BOM: the bad byte is 3 + 24 = 27
    write(tmp_path, {"initiatives.yaml": b"\xef\xbb\xbfinitiatives:\n  - id: caf\xe9\n"})
    assert "byte 27 (line 2, column 12)" in one_issue(tmp_path).message


def test_a_control_character_is_a_located_error(tmp_path: Path) -> None:
    write(tmp_path, {"initiatives.yaml": INITIATIVE.replace("Triage", "Tri\x00age")})
    issue = one_issue(tmp_path)
    assert issue.line == 3 and issue.message.startswith("invalid YAML: special characters")


# --- unknown top-level keys and extra documents -----------------------------------------------


def test_an_unknown_top_level_key_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, {"initiatives.yaml": INITIATIVE + "initiative:\n  - id: lost\n"})
    issue = one_issue(tmp_path)
    assert (issue.line, issue.path) == (9, "initiative")
    assert issue.message == (
        "unknown top-level key (this file holds only `initiatives:`; see docs/config.md)"
    )


def test_a_misspelt_section_key_is_one_error(tmp_path: Path) -> None:
    issue = one_issue(write(tmp_path, {"settings.yaml": "setting:\n  delivery_window: 30d\n"}))
    assert (issue.line, issue.path) == (1, "setting")
    assert "this file holds only `settings:`" in issue.message


def test_an_extra_document_is_an_error(tmp_path: Path) -> None:
    second = "---\ninitiatives:\n  - {id: ghost}\n"
    write(tmp_path, {"initiatives.yaml": INITIATIVE + second})
    issue = one_issue(tmp_path)
    assert (issue.line, issue.path) == (10, "document[1]")
    assert issue.message.startswith("a second YAML document (after `---`)")


def test_slos_files_may_hold_several_documents(tmp_path: Path) -> None:
    openslo = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: triage-latency
  annotations: {pilotwatch/initiative: triage, pilotwatch/threshold-unit: ms}
spec:
  indicator:
    metadata: {name: triage-requests}
    spec:
      thresholdMetric:
        metricSource: {type: pilotwatch, spec: {sli: latency, value: duration_ms}}
  budgetingMethod: Occurrences
  timeWindow: [{duration: 28d, isRolling: true}]
  objectives: [{op: lte, value: 800, target: 0.99}]
"""
    service = "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: triage}\nspec: {}\n"
    slos = "slos:\n  - {name: triage-up, initiative: triage, sli: availability, target: 0.99}\n"
    write(
        tmp_path,
        {
            "initiatives.yaml": "---\n" + INITIATIVE + "---\n",  # markers around one document
            "slos.yaml": slos + "---\n" + openslo + "---\n" + service,
            "slos/team.yaml": openslo.replace("triage-latency", "team-latency") + "---\n" + service,
        },
    )
    config = load_config(tmp_path, env={})
    assert [s.name for s in config.slos] == ["triage-up", "triage-latency", "team-latency"]


def test_an_unknown_key_beside_slos_is_an_error(tmp_path: Path) -> None:
    slos = "slos: []\nslo:\n  - {name: x}\n"
    issue = one_issue(write(tmp_path, {"slos.yaml": slos}))
    assert (issue.line, issue.path) == (2, "slo")
    assert "this file holds only `slos:`" in issue.message


# --- literal passwords in URLs ----------------------------------------------------------------

SQL_SOURCE = """\
sources:
  - name: warehouse
    type: sql
    tables: [incidents]
    settings:
      url: {url}
      table: incidents
"""


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://reader:Hunter2secret@db.internal/clinical",
        "postgresql://reader:Hunter2secret${PW}@db/x",  # only part of it is a reference
        "mysql+pymysql://:Hunter2secret@db/x",
    ],
)
def test_a_literal_password_in_a_url_is_an_error(tmp_path: Path, url: str) -> None:
    write(tmp_path, {"sources.yaml": SQL_SOURCE.format(url=url)})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={"PW": "x"})
    (issue,) = caught.value.issues
    assert (Path(issue.file).name, issue.line, issue.path) == (
        "sources.yaml",
        6,
        "sources[0].settings.url",
    )
    assert issue.message.startswith("a literal password in a URL")
    assert "${DB_PASSWORD}" in issue.message
    assert "Hunter2secret" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "${DB_URL:-postgresql://reader:Hunter2secret@db/x}",
        "postgresql://reader:${DB_PASSWORD:-Hunter2secret}@db/x",
    ],
)
def test_a_literal_password_in_a_default_is_an_error(tmp_path: Path, url: str) -> None:
    write(tmp_path, {"sources.yaml": SQL_SOURCE.format(url=url)})
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (6, "sources[0].settings.url")
    assert issue.message.startswith("a literal password in the default of a `${NAME:-default}`")
    assert "Hunter2secret" not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "${DB_URL}",
        "postgresql://reader:${DB_PASSWORD}@db/x",
        "postgresql://${DB_USER:-reader}:${DB_PASSWORD}@db/x",
        "postgresql://reader:${DB_PASSWORD:-}@db/x",
        "${DB_URL:-postgresql://reader:${DB_PASSWORD}@db/x}",
        "sqlite:///${DATA:-data}/demo.db",
    ],
)
def test_references_to_the_environment_load(tmp_path: Path, url: str) -> None:
    write(tmp_path, {"sources.yaml": SQL_SOURCE.format(url=url)})
    # the environment's values may hold a password: only the YAML's own text is checked
    env = {"DB_URL": "postgresql://reader:from-env@db/x", "DB_PASSWORD": "from-env"}
    config = load_config(tmp_path, env=env)
    expected = {
        "${DB_URL}": "postgresql://reader:from-env@db/x",
        "postgresql://reader:${DB_PASSWORD}@db/x": "postgresql://reader:from-env@db/x",
        "postgresql://${DB_USER:-reader}:${DB_PASSWORD}@db/x": "postgresql://reader:from-env@db/x",
        "postgresql://reader:${DB_PASSWORD:-}@db/x": "postgresql://reader:from-env@db/x",
        "${DB_URL:-postgresql://reader:${DB_PASSWORD}@db/x}": "postgresql://reader:from-env@db/x",
        "sqlite:///${DATA:-data}/demo.db": "sqlite:///data/demo.db",
    }
    assert config.sources[0].settings["url"] == expected[url]


def test_a_password_in_any_file_is_an_error_and_ports_are_not_passwords(tmp_path: Path) -> None:
    text = INITIATIVE + (
        "    description: dashboards at https://grafana:8080/d/x?owner=ana@example.org and\n"
        "      the old feed at ftp://feed:Hunter2secret@files.example.org/in\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"initiatives.yaml": text}), env={})
    (issue,) = caught.value.issues
    # a plain multi-line scalar starts on its first line
    assert (issue.line, issue.path) == (9, "initiatives[0].description")
    assert "Hunter2secret" not in str(caught.value)


# --- connector settings at config load --------------------------------------------------------


def test_unknown_connector_type_is_located_and_lists_known_types(tmp_path: Path) -> None:
    sources = """\
sources:
  - name: ok
    type: file
    tables: [requests]
    settings: {path: r.csv}
  - name: stream
    type: kafka
    tables: [requests]
  - name: parked
    type: kafka
    tables: [requests]
    enabled: false
"""
    issue = one_issue(write(tmp_path, {"sources.yaml": sources}))
    assert (issue.line, issue.path) == (7, "sources[1].type")
    assert issue.message.startswith("unknown connector type 'kafka'; known types: [")
    assert "'file'" in issue.message and "'sql'" in issue.message


def test_connector_settings_errors_are_located(tmp_path: Path) -> None:
    sources = """\
sources:
  - name: files
    type: file
    tables: [requests]
    settings:
      path: r.csv
      delimitr: ";"
"""
    issue = one_issue(write(tmp_path, {"sources.yaml": sources}))
    assert (issue.line, issue.path) == (7, "sources[0].settings.delimitr")
    assert issue.message.startswith("unknown key")


class _Echo:
    """A connector whose settings check quotes the URL it was given (as a careless one may)."""

    seen: ClassVar[list[dict[str, Any]]] = []

    @classmethod
    def settings_issues(cls, settings: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
        cls.seen.append(dict(settings))
        return [(("url",), f"cannot reach {settings['url']}")]


class _Legacy:
    """A connector with only the older `settings_errors` check."""

    @classmethod
    def settings_errors(cls, settings: dict[str, Any]) -> list[str]:
        return [f"settings.url: refused {settings['url']}", "settings: give `table`"]


class _Broken:
    @classmethod
    def settings_issues(cls, settings: dict[str, Any]) -> list[tuple[tuple[str | int, ...], str]]:
        raise RuntimeError(f"boom {settings['url']}")


ECHO_SOURCE = """\
sources:
  - name: echo
    type: {kind}
    tables: [incidents]
    settings:
      url: ${{DB_URL}}
"""


def _register(monkeypatch: pytest.MonkeyPatch, kind: str, cls: type) -> None:
    from connectors import registry

    real = registry.get
    monkeypatch.setattr(registry, "get", lambda name: cls if name == kind else real(name))


def test_connector_messages_never_show_a_resolved_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, "echo", _Echo)
    config_dir = write(tmp_path / "config", {"sources.yaml": ECHO_SOURCE.format(kind="echo")})
    env = {"DB_URL": "postgresql://reader:EnvSecret99@db/x"}
    with pytest.raises(ConfigError) as caught:
        load_config(config_dir, env=env)
    (issue,) = caught.value.issues
    assert (issue.line, issue.path) == (6, "sources[0].settings.url")
    assert "EnvSecret99" not in str(caught.value) and "***" in issue.message
    # the connector sees the substituted settings and the project root, as at load time
    assert _Echo.seen[-1] == {"url": env["DB_URL"], "_root": str(tmp_path.resolve())}


def test_older_settings_errors_are_kept_whole_at_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, "legacy", _Legacy)
    write(tmp_path, {"sources.yaml": ECHO_SOURCE.format(kind="legacy")})
    found = issues(tmp_path, {"DB_URL": "postgresql://reader:EnvSecret99@db/x"})
    assert [(i.path, i.line, i.message) for i in found] == [
        ("sources[0].settings", 6, "settings.url: refused postgresql://reader:***@db/x"),
        ("sources[0].settings", 5, "settings: give `table`"),
    ]


def test_a_crashing_settings_check_is_a_located_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(monkeypatch, "broken", _Broken)
    write(tmp_path, {"sources.yaml": ECHO_SOURCE.format(kind="broken")})
    issue = one_issue(tmp_path, {"DB_URL": "postgresql://reader:EnvSecret99@db/x"})
    assert (issue.path, issue.line) == ("sources[0].settings", 5)
    assert issue.message == "the connector could not check its settings: RuntimeError"


# --- everything at once -----------------------------------------------------------------------


def test_every_kind_of_problem_is_reported_together(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "initiatives.yaml": INITIATIVE + "    stage: production\nextra: 1\n",
            "controls.yaml": b"controls:\n  - id: \xff\n",
            "settings.yaml": "settings: {}\n---\nsettings: {}\n",
            "sources.yaml": SQL_SOURCE.format(url="postgresql://u:Hunter2secret@db/x"),
            "gates.yaml": "gates:\n" + textwrap.indent(BILLION_LAUGHS, "  "),
        },
    )
    found = {(Path(i.file).name, i.path, i.line) for i in issues(tmp_path)}
    assert found == {
        ("initiatives.yaml", "initiatives[0].stage", 9),
        ("initiatives.yaml", "extra", 10),
        ("controls.yaml", "", 2),
        ("settings.yaml", "document[1]", 3),
        ("sources.yaml", "sources[0].settings.url", 6),
        ("gates.yaml", "", 1),
    }


def test_a_password_in_a_key_never_reaches_any_message(tmp_path: Path) -> None:
    # the key is also an unknown connector setting: that error's key path must not show it either
    sources = SQL_SOURCE.format(url="${DB_URL}") + "      'postgresql://u:Hunter2secret@h': 1\n"
    with pytest.raises(ConfigError) as caught:
        load_config(write(tmp_path, {"sources.yaml": sources}), env={"DB_URL": "sqlite://"})
    found = caught.value.issues
    assert [(i.line, i.path) for i in found] == [
        (8, "sources[0].settings.postgresql://u:***@h"),
        (8, "sources[0].settings.postgresql://u:***@h"),
    ]
    assert found[0].message.startswith("a literal password in a URL")
    assert found[1].message.startswith("unknown key")
    assert "Hunter2secret" not in str(caught.value)


# --- any mutation of a valid file: a config or a ConfigError, never another exception -------

_PIECES = [
    b"&a ",
    b"*a",
    b"\n---\n",
    b": ",
    b"- ",
    b"{",
    b"[",
    b"<<: *a\n",
    b"\x00",
    b"\xe9",
    b"\t",
    b"!!python/object:os.system ",
    b"${X}",
    b"://u:p@h",
    b"stage: x\n",
    b"\n",
]


@settings(max_examples=150, deadline=None)
@given(
    edits=st.lists(
        st.tuples(
            st.floats(0, 1, exclude_max=True),
            st.one_of(st.sampled_from(_PIECES), st.binary(max_size=3)),
            st.integers(0, 6),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_mutated_yaml_never_escapes_as_another_exception(
    tmp_path_factory: pytest.TempPathFactory, edits: list[tuple[float, bytes, int]]
) -> None:
    directory = tmp_path_factory.mktemp("mutated")
    originals = {"initiatives.yaml": INITIATIVE, "sources.yaml": SQL_SOURCE.format(url="${DB_URL}")}
    for name, text in originals.items():
        data = bytearray(text.encode())
        for where, piece, cut in edits:  # at a relative position: delete `cut` bytes, insert piece
            at = int(where * len(data))
            data[at : at + cut] = piece
        (directory / name).write_bytes(bytes(data))
    try:
        load_config(directory, env={"DB_URL": "sqlite://"})
    except ConfigError as exc:
        assert exc.issues
        for issue in exc.issues:  # every message is located in one of the two files
            assert issue.message and Path(issue.file).name in originals, str(issue)


# --- the libyaml fast path ---------------------------------------------------------------------
SAME_EITHER_WAY = [
    "a: 1\nb: [x, 'y', 2026-01-05, 1.5, null, ~, true, 0o17]\n",
    "---\na: 1\n---\n---\nb: {c: d}\n",  # documents, one of them empty
    "a: 1\na: 2\n",  # a duplicate key: the same located problem
    "url: postgresql://u:secret@db/x\n",  # a literal password
    "a: !!python/object:os.system x\n",  # an unknown tag
    "a: 2026-13-01\n",  # YAML reads it, Python cannot
    "\ufeffa: 1\n",  # a byte-order mark
    "a: [1, 2\n",  # invalid YAML
    "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n",  # aliases: the Python loader counts them
    "a: \x07bell\n",  # a character the Python reader refuses
]


@pytest.mark.parametrize("text", SAME_EITHER_WAY)
def test_libyaml_and_the_python_loader_agree(
    tmp_path: Path, text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    fast = read_yaml(path, several_documents=True)
    monkeypatch.setattr("pilotwatch.config.strict_yaml._CLoader", None)
    slow = read_yaml(path, several_documents=True)
    assert (fast.documents, fast.index, fast.problems) == (
        slow.documents,
        slow.index,
        slow.problems,
    )


def test_the_shipped_config_reads_the_same_with_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    files = sorted(Path(__file__).resolve().parent.parent.glob("config/**/*.yaml"))
    assert len(files) >= 5
    fast = [read_yaml(f, several_documents=True) for f in files]
    monkeypatch.setattr("pilotwatch.config.strict_yaml._CLoader", None)
    slow = [read_yaml(f, several_documents=True) for f in files]
    assert [(r.documents, r.index, r.problems) for r in fast] == [
        (r.documents, r.index, r.problems) for r in slow
    ]


def test_only_alias_free_valid_text_takes_the_fast_path() -> None:
    from pilotwatch.config.strict_yaml import _compose_fast

    assert _compose_fast("a: [1, 2]\n") is not None
    assert _compose_fast("a: &x 1\nb: *x\n") is None
    assert _compose_fast("a: [1, 2\n") is None
    assert _compose_fast("a: \x07\n") is None
