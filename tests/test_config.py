"""Configuration loading: every error at once (file, key path, line), secrets, OpenSLO, catalog."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from core.models import STAGES
from pilotwatch.config import Config, ConfigError, load_config
from pilotwatch.config.loader import ConfigIssue

CONFIG = Path(__file__).resolve().parents[1] / "config"

GOOD_INITIATIVE = """\
  - id: good-one
    name: Good
    stage: pilot
    owner: Ana
    sponsor: CMO
    clinical_area: Cardiology
    started_on: 2026-01-05
"""

# One mistake (or more) in every file; the line numbers below are counted by hand.
BAD_FILES = {
    "initiatives.yaml": "initiatives:\n"
    + GOOD_INITIATIVE
    + """\
  - id: bad id
    name: Bad
    stage: beta
    owner: Ana
    sponsor: CMO
    clinical_area: Cardiology
    started_on: 2026-02-01
    colour: red
    kpis:
      - {name: k, kind: vibes, direction: higher, target: 1}
""",
    "slos.yaml": """\
slos:
  - name: good-one-availability
    initiative: good-one
    sli: availability
    target: 0.999
  - name: good-one-latency
    initiative: good-one
    sli: latency
    target: 1.5
    window: 3 weeks
  - name: ghost-availability
    initiative: ghost
    sli: availability
    target: 0.99
""",
    "controls.yaml": """\
controls:
  - id: c1
    title: Audit controls
    refs: ["45 CFR 164.312(b)"]
    category: technical
    implementation: optional
    required_from: pilot
""",
    "gates.yaml": """\
gates:
  pilot:
    - id: pilot-slo-defined
      metric: slo_summary.defined
      op: ">="
      value: 1
      blocking: true
  prod:
    - id: x
      metric: compliance.gap_count
      op: "=~"
      value: 0
""",
    "waivers.yaml": """\
waivers:
  - initiative: good-one
    check: no-such-check
    reason: testing
    approver: CISO
    expires_on: 2026-12-01
""",
    "sources.yaml": """\
sources:
  - name: warehouse
    type: sql
    tables: [incidents]
    settings:
      url: ${PW_TEST_UNSET_URL}
  - name: files
    type: file
    tables: [requests]
    freshness: soon
""",
    "settings.yaml": """\
settings:
  small_cell_threshold: 5
  delivery_windw: 90d
""",
}

# (file, key path, line, a fragment of the message), one per expected error
EXPECTED = {
    ("initiatives.yaml", "initiatives[1].id", 9, "no spaces"),
    ("initiatives.yaml", "initiatives[1].stage", 11, "'limited_production'"),
    ("initiatives.yaml", "initiatives[1].colour", 16, "unknown key"),
    ("initiatives.yaml", "initiatives[1].kpis[0].kind", 18, "'clinical'"),
    ("slos.yaml", "slos[1].target", 9, "less than 1"),
    ("slos.yaml", "slos[1].window", 10, "calendar_month"),
    ("slos.yaml", "slos[2].initiative", 12, "unknown initiative 'ghost'"),
    ("controls.yaml", "controls[0].implementation", 6, "'addressable'"),
    ("gates.yaml", "gates.prod", 8, "expected a stage"),
    ("gates.yaml", "gates.prod[0].op", 11, "'>='"),
    ("waivers.yaml", "waivers[0].check", 3, "unknown gate check 'no-such-check'"),
    ("sources.yaml", "sources[0].settings.url", 6, "${PW_TEST_UNSET_URL} is not set"),
    # connector settings are checked at config load (the unset URL is not reported twice)
    ("sources.yaml", "sources[0].settings", 5, "give `table` or `query`"),
    ("sources.yaml", "sources[1].freshness", 10, "positive duration"),
    ("settings.yaml", "settings.small_cell_threshold", 2, "greater than or equal to 11"),
    ("settings.yaml", "settings.delivery_windw", 3, "unknown key"),
}


def write(directory: Path, files: dict[str, str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(text)
    return directory


def issues(directory: Path, env: dict[str, str] | None = None) -> list[ConfigIssue]:
    with pytest.raises(ConfigError) as caught:
        load_config(directory, env=env or {})
    return caught.value.issues


def test_every_error_in_every_file_is_reported_at_once(tmp_path: Path) -> None:
    found = issues(write(tmp_path, BAD_FILES))
    for file, path, line, fragment in EXPECTED:
        matching = [i for i in found if Path(i.file).name == file and i.path == path]
        assert matching, f"no error for {file} {path}; got {[str(i) for i in found]}"
        assert matching[0].line == line, (path, matching[0].line)
        assert fragment in matching[0].message, matching[0].message
    assert all(i.line is not None for i in found), [str(i) for i in found if i.line is None]
    assert len(found) == len(EXPECTED)


def test_error_text_names_file_line_and_path(tmp_path: Path) -> None:
    write(tmp_path, BAD_FILES)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, env={})
    text = str(caught.value)
    assert text.startswith(f"{len(caught.value.issues)} configuration error(s):")
    assert re.search(r"settings\.yaml:3: settings\.delivery_windw: unknown key", text)


def test_unknown_keys_are_errors_not_ignored(tmp_path: Path) -> None:
    write(tmp_path, {"settings.yaml": "settings:\n  delivery_window: 30d\n  linkwindow: 2h\n"})
    (issue,) = issues(tmp_path)
    assert (issue.path, issue.line, issue.message.split(" (")[0]) == (
        "settings.linkwindow",
        3,
        "unknown key",
    )


def test_env_substitution_defaults_and_missing(tmp_path: Path) -> None:
    sources = """\
sources:
  - name: db
    type: sql
    tables: [incidents]
    settings:
      url: ${PW_TEST_DB_URL}
      table: ${PW_TEST_TABLE:-incidents}
"""
    write(tmp_path, {"sources.yaml": sources})
    config = load_config(tmp_path, env={"PW_TEST_DB_URL": "sqlite:///x.db"})
    assert config.sources[0].settings == {"url": "sqlite:///x.db", "table": "incidents"}
    # secrets may come from Streamlit secrets too; the environment wins over them
    config = load_config(tmp_path, env={}, secrets={"PW_TEST_DB_URL": "sqlite:///s.db"})
    assert config.sources[0].settings["url"] == "sqlite:///s.db"
    (issue,) = issues(tmp_path)
    assert (issue.path, issue.line) == ("sources[0].settings.url", 6)
    assert "${PW_TEST_DB_URL} is not set" in issue.message


def test_invalid_date_is_reported_not_raised(tmp_path: Path) -> None:
    text = "initiatives:\n" + GOOD_INITIATIVE.replace("2026-01-05", "2026-13-05")
    (issue,) = issues(write(tmp_path, {"initiatives.yaml": text}))
    assert (issue.path, issue.line) == ("initiatives[0].started_on", 8)
    assert "month must be in 1..12" in issue.message


OPENSLO = """\
apiVersion: openslo/v1
kind: SLO
metadata:
  name: good-one-latency-minutes
  annotations:
    pilotwatch/initiative: good-one
    pilotwatch/operation: GET /slots
    pilotwatch/threshold-unit: ms
spec:
  service: good-one
  indicator:
    metadata: {name: requests}
    spec:
      thresholdMetric:
        metricSource: {type: pilotwatch, spec: {sli: latency, value: duration_ms}}
  budgetingMethod: Timeslices
  timeWindow:
    - duration: 1M
      isRolling: false
      calendar: {startTime: "2026-01-01 00:00:00", timeZone: UTC}
  objectives:
    - op: lte
      value: 300
      target: 0.995
      timeSliceTarget: 0.9
      timeSliceWindow: 5m
"""


def test_openslo_document_is_accepted_and_mapped(tmp_path: Path) -> None:
    slos = "slos:\n  - {name: a, initiative: good-one, sli: availability, target: 0.99}\n---\n"
    write(
        tmp_path,
        {"initiatives.yaml": "initiatives:\n" + GOOD_INITIATIVE, "slos.yaml": slos + OPENSLO},
    )
    config = load_config(tmp_path, env={})
    assert [s.name for s in config.slos] == ["a", "good-one-latency-minutes"]
    slo = config.slos[1]
    assert (slo.initiative, slo.sli, slo.threshold_ms, slo.threshold_op, slo.target) == (
        "good-one",
        "latency",
        300,
        "le",
        0.995,
    )
    # 1 January 00:00 starts a month: the shorthand, aligned in the calendar's zone
    assert (slo.window_text, slo.timezone, slo.budgeting) == ("calendar_month", "UTC", "timeslices")
    assert slo.timeslice is not None
    # durations are parsed at load; the text as written stays available
    assert (str(slo.timeslice.length), slo.timeslice.target) == ("5m", 0.9)
    assert slo.timeslice.length == timedelta(minutes=5)
    assert slo.filter.operation == "GET /slots"
    assert slo.indicator is None  # the pilotwatch metric source: the initiative's requests


def test_openslo_in_slos_folder_errors_name_that_file(tmp_path: Path) -> None:
    bad = OPENSLO.replace("pilotwatch/initiative: good-one", "pilotwatch/initiative: nobody")
    write(
        tmp_path,
        {"initiatives.yaml": "initiatives:\n" + GOOD_INITIATIVE, "slos/team.yaml": bad},
    )
    (issue,) = issues(tmp_path)
    assert Path(issue.file).name == "team.yaml"
    assert "unknown initiative 'nobody'" in issue.message


def test_a_refused_openslo_document_is_a_located_config_error(tmp_path: Path) -> None:
    service = "apiVersion: openslo/v1\nkind: Service\nmetadata: {name: s}\nspec: {}\n---\n"
    # the second document: the Service is lines 1-4 and `---` line 5; without the unit
    # annotation, `value: 300` is OPENSLO's line 22, so line 5 + 22 = 27 of the file
    no_unit = OPENSLO.replace("    pilotwatch/threshold-unit: ms\n", "")
    write(
        tmp_path,
        {
            "initiatives.yaml": "initiatives:\n" + GOOD_INITIATIVE,
            "slos/team.yaml": service + no_unit,
        },
    )
    (issue,) = issues(tmp_path)
    assert Path(issue.file).name == "team.yaml"
    assert issue.path == "document[1].spec.objectives[0].value"
    assert issue.line == 27
    assert issue.message.startswith("refused (good-one-latency-minutes): OpenSLO gives no unit")
    assert "pilotwatch/threshold-unit" in issue.message


def test_rolling_30d_openslo_stays_30d(tmp_path: Path) -> None:
    rolling = OPENSLO.replace(
        "      isRolling: false\n"
        '      calendar: {startTime: "2026-01-01 00:00:00", timeZone: UTC}\n',
        "      isRolling: true\n",
    ).replace("duration: 1M", "duration: 30d")
    write(tmp_path, {"initiatives.yaml": "initiatives:\n" + GOOD_INITIATIVE, "slos.yaml": rolling})
    (slo,) = load_config(tmp_path, env={}).slos
    assert slo.window_text == "30d" and slo.window_seconds == 30 * 86400


# --- the shipped configuration -------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped() -> Config:
    return load_config(CONFIG, env={})


def test_shipped_config_validates(shipped: Config) -> None:
    assert len(shipped.initiatives) == 8
    assert {i.stage for i in shipped.initiatives} == set(STAGES)
    assert sorted(shipped.gates) == ["limited_production", "pilot", "production"]
    assert shipped.settings.demo_as_of is not None
    assert shipped.settings.demo_as_of.isoformat() == "2026-11-16T12:00:00+00:00"
    assert any(s.name == "sepsis-ews-score-latency" for s in shipped.slos)  # the OpenSLO one
    for initiative in shipped.initiatives:
        assert 2 <= len(initiative.kpis) <= 4, initiative.id
        assert {m.horizon_days for m in initiative.milestones} == {90, 180, 360}, initiative.id


HIPAA_STANDARDS = [
    *(f"164.308(a)({n})" for n in range(1, 9)),
    "164.308(b)",
    "164.310(a)",
    "164.310(b)",
    "164.310(c)",
    "164.310(d)",
    "164.312(a)",
    "164.312(b)",
    "164.312(c)",
    "164.312(d)",
    "164.312(e)",
    "164.314(a)",
]


@pytest.mark.parametrize("standard", HIPAA_STANDARDS)
def test_catalog_covers_every_hipaa_standard(shipped: Config, standard: str) -> None:
    refs = [r for c in shipped.controls for r in c.refs if c.implementation != "product"]
    assert any(r == f"45 CFR {standard}" or r.startswith(f"45 CFR {standard}(") for r in refs)


# Checked by hand against the Security Rule's implementation specifications (Appendix A to
# Subpart C of Part 164): (R) required, (A) addressable.
HAND_CHECKED = {
    "45 CFR 164.308(a)(1)(ii)(A)": "required",  # risk analysis
    "45 CFR 164.308(a)(3)(ii)(C)": "addressable",  # termination procedures
    "45 CFR 164.308(a)(4)(ii)(A)": "required",  # isolating clearinghouse functions
    "45 CFR 164.308(a)(5)(ii)(D)": "addressable",  # password management
    "45 CFR 164.308(a)(7)(ii)(B)": "required",  # disaster recovery plan
    "45 CFR 164.308(a)(7)(ii)(D)": "addressable",  # testing and revision procedures
    "45 CFR 164.310(a)(2)(iii)": "addressable",  # access control and validation procedures
    "45 CFR 164.310(d)(2)(i)": "required",  # disposal
    "45 CFR 164.310(d)(2)(iii)": "addressable",  # accountability
    "45 CFR 164.312(a)(2)(ii)": "required",  # emergency access procedure
    "45 CFR 164.312(a)(2)(iii)": "addressable",  # automatic logoff
    "45 CFR 164.312(a)(2)(iv)": "addressable",  # encryption and decryption
    "45 CFR 164.312(b)": "required",  # audit controls (a standard without specifications)
    "45 CFR 164.312(e)(2)(ii)": "addressable",  # transmission encryption
}


@pytest.mark.parametrize(("ref", "mark"), sorted(HAND_CHECKED.items()))
def test_required_or_addressable_as_the_regulation_marks_it(
    shipped: Config, ref: str, mark: str
) -> None:
    (control,) = [c for c in shipped.controls if c.refs[:1] == [ref] and c.category != "product"]
    assert control.implementation == mark


def test_catalog_has_the_product_controls(shipped: Config) -> None:
    product = {c.id for c in shipped.controls if c.implementation == "product"}
    assert product == {
        "product-phi-isolation",
        "product-audit-logging",
        "product-encryption-in-transit",
        "product-encryption-at-rest",
        "product-role-based-access",
        "product-baa-each-vendor",
        "product-tested-backups",
        "product-dr-drill",
        "product-change-control",
        "product-oncall-runbooks",
        "product-slo-monitoring",
    }
    assert all(c.category == "product" for c in shipped.controls if c.id in product)


def test_every_stage_requires_something_new(shipped: Config) -> None:
    by_stage = {s: [c.id for c in shipped.controls if c.required_from == s] for s in STAGES}
    assert by_stage["discovery"] == []  # nothing is required before there is a pilot
    assert all(by_stage[s] for s in STAGES[1:])
    assert "product-dr-drill" in by_stage["production"]
    assert "hipaa-308a1-risk-analysis" in by_stage["pilot"]


def test_env_defaults_nest_and_env_values_are_never_expanded_again() -> None:
    from pilotwatch.config.loader import substitute_env

    template = "${URL:-sqlite:///${DATA:-data/demo}/demo.db}"
    missing: list[str] = []
    assert substitute_env(template, {}, missing) == "sqlite:///data/demo/demo.db"
    assert substitute_env(template, {"DATA": "/srv/pw"}, missing) == "sqlite:////srv/pw/demo.db"
    # a secret that happens to contain ${...} stays as it is
    url = "postgresql://u:p${X}@db/pw"
    assert substitute_env(template, {"URL": url}, missing) == url
    assert missing == []
    assert substitute_env("${UNSET}/x", {}, missing) == "/x"
    assert missing == ["UNSET"]


def test_a_gate_check_on_an_unknown_metric_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "gates.yaml").write_text(
        "gates:\n"
        "  pilot:\n"
        "    - {id: ok, metric: slo_summary.defined, op: '>=', value: 1}\n"
        "    - {id: typo, metric: delivery.change_fail_rate, op: '<=', value: 0.3}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    (issue,) = caught.value.issues
    assert issue.path == "gates.pilot[1].metric"
    assert issue.line == 4
    assert "unknown metric 'delivery.change_fail_rate'" in issue.message
